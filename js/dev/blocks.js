// Dev/test helper (not bundled): hand-made (T, U) blocks laid out as the wire delivers them (time-major).

/** (T, U) time-major block from per-unit series: series[u][t] lands at data[t * U + u]. */
export function block(series) {
  const U = series.length;
  const T = series[0].length;
  const data = new Float32Array(T * U);
  for (let u = 0; u < U; u++) for (let t = 0; t < T; t++) data[t * U + u] = series[u][t];
  return { data, T, U };
}
