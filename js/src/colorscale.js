// The heatmap's colour scale (pure; no DOM): which range the diverging map of a signed quantity spans — every loaded
// sequence ("global", the kernel's `_meta.limits`), the sequence shown ("sequence": its max |value|), or each unit
// on its own ("unit": every row divided by its own max |value| over the sequence, then drawn on ±1). Gates squashed
// to [0, 1] keep their fixed 0..1 map whatever the mode. `color_scale` "auto" is "sequence" for the cell state c (not
// bounded: one long sequence's large values wash every other out) and "global" for the rest (h, g, n are squashed
// by tanh into ±1, so one range keeps sequences comparable).

import { isSigned, scaleFor } from "./colormap.js";

export const COLOR_SCALES = ["auto", "sequence", "unit", "global"];
/** The page's labels of the modes (its select). */
export const COLOR_SCALE_LABELS = [
  ["auto", "auto"],
  ["sequence", "this sequence"],
  ["unit", "per unit"],
  ["global", "all sequences"],
];
/** The quantities "auto" scales per sequence: those no squashing bounds. */
export const UNBOUNDED = ["c"];

/** The mode `mode` stands for when drawing `quantity` ("auto" resolved; unknown modes read as "auto"). */
export function resolveScaleMode(mode, quantity) {
  if (mode === "sequence" || mode === "unit" || mode === "global") return mode;
  return UNBOUNDED.includes(quantity) ? "sequence" : "global";
}

/** max |value| of a (T, U) block (data[t * U + u]); NaN ignored; 0 when there is none. */
export function blockMaxAbs(data, T, U) {
  let m = 0;
  const n = Math.min(data.length, T * U);
  for (let k = 0; k < n; k++) {
    const a = Math.abs(data[k]);
    if (a > m) m = a;
  }
  return m;
}

/** Per unit, max |value| over the T steps of a (T, U) block: Float64Array(U); NaN ignored, 0 when none. */
export function unitMaxAbs(data, T, U) {
  const out = new Float64Array(U);
  for (let t = 0; t < T; t++) {
    const base = t * U;
    for (let u = 0; u < U; u++) {
      const a = Math.abs(data[base + u]);
      if (a > out[u]) out[u] = a;
    }
  }
  return out;
}

/** A copy of a (T, U) block with every unit's values divided by its max |value| (`maxes`; a unit of zeros stays 0). */
export function normalizeUnits(data, T, U, maxes = unitMaxAbs(data, T, U)) {
  const out = new Float32Array(T * U);
  for (let t = 0; t < T; t++) {
    const base = t * U;
    for (let u = 0; u < U; u++) {
      const m = maxes[u];
      out[base + u] = m > 0 ? data[base + u] / m : data[base + u] === data[base + u] ? 0 : NaN;
    }
  }
  return out;
}

/**
 * The heatmap's scale of `quantity` under `mode`: {map, lo, hi, signed, mode, caption}, with `mode` resolved
 * ("sequence" | "unit" | "global", or "fixed" for a gate) and `caption` the legend's words ("scale: this sequence,
 * ±4.0"). `block` is the shown sequence's (T, U) block ({data, rows, cols}); `limits` the global [min, max].
 * In "unit" mode the values are drawn divided by their unit's max |value| (normalizeUnits), so lo/hi are ±1.
 */
export function heatmapScale(mode, quantity, { limits, block = null, dark = false }) {
  if (!isSigned(quantity)) return { ...scaleFor(quantity, limits, dark), mode: "fixed", caption: "scale: 0–1 (gate)" };
  const m = resolveScaleMode(mode, quantity);
  if (m === "unit") {
    return { ...scaleFor(quantity, [-1, 1], dark), mode: m, caption: "scale: per unit, ±1 = the unit's max |value|" };
  }
  if (m === "sequence" && block && block.rows > 0) {
    const s = scaleFor(quantity, [0, blockMaxAbs(block.data, block.rows, block.cols)], dark);
    return { ...s, mode: m, caption: `scale: this sequence, ±${shortNumber(s.hi)}` };
  }
  const s = scaleFor(quantity, limits, dark);
  return { ...s, mode: "global", caption: `scale: all sequences, ±${shortNumber(s.hi)}` };
}

/** A range's magnitude in two significant figures (4.0, 17.9, 0.98, 1.2e+3). */
export function shortNumber(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toPrecision(2);
}
