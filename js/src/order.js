// Unit ordering for the heatmap rows (pure). Input: a (T, U) time-major block of one sequence (row = step).
// Output: an Int32Array permutation, rows top to bottom.
//   index     — 0, 1, 2, ...
//   peak      — largest max |value| first
//   variance  — largest variance over time first
//   clustered — correlated units next to each other: Pearson correlation over (mean-pooled) time, then a greedy
//               nearest-neighbour chain grown at both ends; units that never change go last.
// Ties keep index order. NaN values (steps not recorded) are ignored.

export const ORDERS = ["index", "peak", "variance", "clustered"];

/** Per-unit statistics over the T steps: {peak: max |v|, mean, variance}. */
export function unitStats(data, T, U) {
  const peak = new Float64Array(U);
  const sum = new Float64Array(U);
  const sum2 = new Float64Array(U);
  const count = new Float64Array(U);
  for (let t = 0; t < T; t++) {
    const base = t * U;
    for (let u = 0; u < U; u++) {
      const v = data[base + u];
      if (v !== v) continue;
      const a = v < 0 ? -v : v;
      if (a > peak[u]) peak[u] = a;
      sum[u] += v;
      sum2[u] += v * v;
      count[u]++;
    }
  }
  const mean = new Float64Array(U);
  const variance = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    if (!count[u]) continue;
    mean[u] = sum[u] / count[u];
    variance[u] = Math.max(0, sum2[u] / count[u] - mean[u] * mean[u]);
  }
  return { peak, mean, variance };
}

function byKeyDesc(key, U) {
  const idx = Array.from({ length: U }, (_, u) => u);
  idx.sort((a, b) => key[b] - key[a] || a - b);
  return Int32Array.from(idx);
}

/**
 * Unit-major, mean-pooled, z-normalised copy (U, S) with S <= maxSteps time bins, and each unit's norm
 * before normalising (0 for a constant unit).
 */
function normalisedRows(data, T, U, maxSteps) {
  const S = Math.max(1, Math.min(T, maxSteps));
  const X = new Float32Array(U * S);
  const cnt = new Float32Array(U * S);
  for (let t = 0; t < T; t++) {
    const s = Math.min(S - 1, Math.floor((t * S) / T));
    const base = t * U;
    for (let u = 0; u < U; u++) {
      const v = data[base + u];
      if (v !== v) continue;
      X[u * S + s] += v;
      cnt[u * S + s]++;
    }
  }
  const norms = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    const o = u * S;
    let m = 0;
    let n = 0;
    for (let s = 0; s < S; s++) {
      if (cnt[o + s]) {
        X[o + s] /= cnt[o + s];
        m += X[o + s];
        n++;
      }
    }
    m = n ? m / n : 0;
    let ss = 0;
    for (let s = 0; s < S; s++) {
      const v = cnt[o + s] ? X[o + s] - m : 0;
      X[o + s] = v;
      ss += v * v;
    }
    const norm = Math.sqrt(ss);
    norms[u] = norm > 1e-12 ? norm : 0;
    if (norms[u]) for (let s = 0; s < S; s++) X[o + s] /= norm;
  }
  return { X, S, norms };
}

/** Pearson correlation matrix (U × U, Float32Array) of the units' series (mean-pooled to <= maxSteps bins). */
export function correlationMatrix(data, T, U, maxSteps = 192) {
  const { X, S, norms } = normalisedRows(data, T, U, maxSteps);
  const C = new Float32Array(U * U);
  for (let a = 0; a < U; a++) {
    C[a * U + a] = norms[a] ? 1 : 0;
    const oa = a * S;
    for (let b = a + 1; b < U; b++) {
      const ob = b * S;
      let d = 0;
      for (let s = 0; s < S; s++) d += X[oa + s] * X[ob + s];
      C[a * U + b] = d;
      C[b * U + a] = d;
    }
  }
  return { C, norms };
}

/** Greedy nearest-neighbour chain on a similarity matrix, grown at whichever end has the better match. */
export function chainOrder(C, U, active, start) {
  const used = new Uint8Array(U);
  const order = [start];
  used[start] = 1;
  let head = start;
  let tail = start;
  const nActive = active.reduce((n, a) => n + (a ? 1 : 0), 0);
  for (let placed = 1; placed < nActive; placed++) {
    let bestH = -1;
    let bestHV = -Infinity;
    let bestT = -1;
    let bestTV = -Infinity;
    const rh = head * U;
    const rt = tail * U;
    for (let u = 0; u < U; u++) {
      if (used[u] || !active[u]) continue;
      const vh = C[rh + u];
      const vt = C[rt + u];
      if (vh > bestHV) [bestHV, bestH] = [vh, u];
      if (vt > bestTV) [bestTV, bestT] = [vt, u];
    }
    if (bestTV >= bestHV) {
      order.push(bestT);
      used[bestT] = 1;
      tail = bestT;
    } else {
      order.unshift(bestH);
      used[bestH] = 1;
      head = bestH;
    }
  }
  return order;
}

/** Permutation of the U units of a (T, U) block for an order mode. */
export function orderUnits(mode, data, T, U, { maxSteps = 192 } = {}) {
  if (mode === "index" || !(U > 0) || !(T > 0) || !data)
    return Int32Array.from({ length: Math.max(0, U) }, (_, u) => u);
  if (mode === "peak") return byKeyDesc(unitStats(data, T, U).peak, U);
  if (mode === "variance") return byKeyDesc(unitStats(data, T, U).variance, U);
  if (mode === "clustered") {
    const { C, norms } = correlationMatrix(data, T, U, maxSteps);
    const active = Array.from(norms, (n) => n > 0);
    const { variance } = unitStats(data, T, U);
    let start = -1;
    for (let u = 0; u < U; u++) if (active[u] && (start < 0 || variance[u] > variance[start])) start = u;
    const order = start >= 0 ? chainOrder(C, U, active, start) : [];
    for (let u = 0; u < U; u++) if (!active[u]) order.push(u);
    return Int32Array.from(order);
  }
  throw new Error(`unknown unit order ${mode}`);
}
