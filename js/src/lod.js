// Level of detail for long sequences (pure; no DOM): the time window the time views show (zoom, pan, the cursor kept
// in view), min/max pyramids of a (T, U) block built once, and the reduction of the visible window to the plot's
// pixels — from the raw steps when the window is short enough, else from the coarsest pyramid level whose blocks
// still fit one per pixel. Each pixel shows the value farthest from the scale's midpoint among what it covers (the
// heatmap's downsampling rule), which is either the min or the max of that stretch: so min/max levels are exact for
// whole blocks.
//
// A window is {t0, t1}: steps t0 .. t1-1 (half-open), 0 ≤ t0 < t1 ≤ T. `null` means the whole sequence.

/** Fewest steps a window may show (zooming in stops there). */
export const MIN_WINDOW = 16;
/** Block size of the first pyramid level, and the factor between levels. */
export const PYRAMID_BASE = 8;
export const PYRAMID_FACTOR = 4;

/** The window actually shown: `win` clamped to [0, T) (at least min(T, MIN_WINDOW) steps), or the whole [0, T). */
export function visibleWindow(win, T) {
  if (!(T > 0)) return { t0: 0, t1: 0 };
  if (!win) return { t0: 0, t1: T };
  let n = Math.round(Number(win.t1) - Number(win.t0));
  if (!Number.isFinite(n)) return { t0: 0, t1: T };
  n = Math.max(Math.min(T, MIN_WINDOW), Math.min(T, n));
  let t0 = Math.round(Number(win.t0));
  t0 = Math.max(0, Math.min(T - n, Number.isFinite(t0) ? t0 : 0));
  return { t0, t1: t0 + n };
}

/** Whether a window shows the whole sequence (then it is stored as null). */
export function isWhole(win, T) {
  const w = visibleWindow(win, T);
  return w.t0 === 0 && w.t1 === T;
}

/**
 * Zoom by `factor` (> 1 zooms in: fewer steps; < 1 out) around step `anchor` (kept at the same place on screen; the
 * window's centre when null). Returns the new window, or null when it shows the whole sequence.
 */
export function zoomWindow(win, T, factor, anchor = null) {
  if (!(T > 0) || !(factor > 0)) return null;
  const { t0, t1 } = visibleWindow(win, T);
  const n = t1 - t0;
  const a = anchor == null ? (t0 + t1) / 2 : Math.max(t0, Math.min(t1, anchor));
  const m = Math.max(Math.min(T, MIN_WINDOW), Math.min(T, Math.round(n / factor)));
  if (m >= T) return null;
  const frac = n > 0 ? (a - t0) / n : 0.5;
  return visibleWindow({ t0: Math.round(a - frac * m), t1: Math.round(a - frac * m) + m }, T);
}

/** Move the window by `delta` steps (clamped to the sequence). null stays null. */
export function panWindow(win, T, delta) {
  if (!win || !(T > 0)) return win ? visibleWindow(win, T) : null;
  const { t0, t1 } = visibleWindow(win, T);
  const n = t1 - t0;
  const s = Math.max(0, Math.min(T - n, t0 + Math.round(delta)));
  return { t0: s, t1: s + n };
}

/**
 * Keep the cursor in view: when step t is outside the window, move it so that t lands a tenth of the window in from
 * the edge it crossed (stepping or playing forward pages on; a jump centres t when it is far away). Returns the
 * window (the same object when nothing moves).
 */
export function followCursor(win, t, T) {
  if (!win || !(T > 0)) return win;
  const w = visibleWindow(win, T);
  if (t >= w.t0 && t < w.t1) return w.t0 === win.t0 && w.t1 === win.t1 ? win : w;
  const n = w.t1 - w.t0;
  const margin = Math.floor(n / 10);
  let t0;
  if (t >= w.t1 && t < w.t1 + n) t0 = t - (n - 1 - margin);
  else if (t < w.t0 && t >= w.t0 - n) t0 = t - margin;
  else t0 = t - Math.floor(n / 2);
  return visibleWindow({ t0, t1: t0 + n }, T);
}

/** The step under x on a plot showing window [t0, t1) over [left, left + width). */
export function stepAt(x, left, width, t0, t1) {
  const n = t1 - t0;
  if (!(n > 0) || !(width > 0)) return t0;
  const k = Math.floor(((x - left) / width) * n);
  return t0 + (k < 0 ? 0 : k > n - 1 ? n - 1 : k);
}

// ---- pyramids -----------------------------------------------------------------------------------------------------

/**
 * Min/max pyramid of a (T, U) row-major block (row = one step): levels of blocks of `base`, base·factor, ... steps,
 * each {block, n (blocks), min, max} with min/max Float32Array(n · U) in the same (block, unit) layout; the last block
 * of a level may be partial. NaN values are skipped (a block of NaN only is NaN). Levels stop once a level has
 * fewer than 2 blocks. Costs one pass over the data plus 1/base of it.
 */
export function buildPyramid(data, T, U, { base = PYRAMID_BASE, factor = PYRAMID_FACTOR } = {}) {
  const levels = [];
  if (!(T > 0) || !(U > 0)) return { T, U, levels };
  // Level 1 from the raw rows. ±Infinity start values make NaN fall out of plain comparisons; blocks that saw no
  // number are set to NaN at the end.
  let block = base;
  let n = Math.ceil(T / block);
  if (n < 2) return { T, U, levels };
  let min = new Float32Array(n * U).fill(Infinity);
  let max = new Float32Array(n * U).fill(-Infinity);
  for (let j = 0; j < n; j++) {
    const o = j * U;
    const end = Math.min(T, (j + 1) * block);
    for (let t = j * block; t < end; t++) {
      const b = t * U - o;
      for (let u = o, e = o + U; u < e; u++) {
        const v = data[b + u];
        if (v < min[u]) min[u] = v;
        if (v > max[u]) max[u] = v;
      }
    }
  }
  levels.push({ block, n, min, max });
  // Coarser levels from the previous one.
  while (n >= 2 * factor) {
    const prev = levels[levels.length - 1];
    block *= factor;
    n = Math.ceil(T / block);
    min = new Float32Array(n * U).fill(Infinity);
    max = new Float32Array(n * U).fill(-Infinity);
    for (let j = 0; j < n; j++) {
      const o = j * U;
      const end = Math.min(prev.n, (j + 1) * factor);
      for (let i = j * factor; i < end; i++) {
        const b = i * U - o;
        for (let u = o, e = o + U; u < e; u++) {
          const lo = prev.min[b + u];
          if (lo < min[u]) min[u] = lo;
          const hi = prev.max[b + u];
          if (hi > max[u]) max[u] = hi;
        }
      }
    }
    levels.push({ block, n, min, max });
  }
  for (const level of levels) {
    const { min: mn, max: mx } = level;
    for (let k = 0; k < mn.length; k++) {
      if (mn[k] === Infinity) {
        mn[k] = NaN;
        mx[k] = NaN;
      }
    }
  }
  return { T, U, levels };
}

/** The coarsest level whose block is at most `stepsPerPixel` steps (null: draw from the raw steps). */
export function pickLevel(pyramid, stepsPerPixel) {
  let best = null;
  if (!pyramid) return best;
  for (const level of pyramid.levels) if (level.block <= stepsPerPixel) best = level;
  return best;
}

/** Extra bytes a pyramid holds. */
export function pyramidBytes(pyramid) {
  let n = 0;
  if (pyramid) for (const l of pyramid.levels) n += l.min.byteLength + l.max.byteLength;
  return n;
}

// ---- window -> pixels ---------------------------------------------------------------------------------------------

/** Column (0..imgW-1) of step t of window [t0, t1) drawn over imgW columns. */
export function columnOf(t, t0, t1, imgW) {
  const c = Math.floor(((t - t0) * imgW) / (t1 - t0));
  return c < 0 ? 0 : c > imgW - 1 ? imgW - 1 : c;
}

/**
 * Reduce window [t0, t1) of a (T, U) block to imgW × imgH cells (row-major, row = image row): per cell the value
 * farthest from `mid` among the steps × units it covers; NaN where nothing is. `rowOf[u]` is the image row of unit u.
 * With a pyramid level (blocks of `level.block` steps, ≤ the steps per column) each block counts in the column of
 * its first step inside the window; without one the raw steps are read. Returns {cells: Float32Array, read} (read:
 * the values looked at, for the record).
 */
export function reduceWindow(data, U, t0, t1, rowOf, imgW, imgH, mid, level = null) {
  const cells = new Float32Array(imgW * imgH).fill(NaN);
  const n = t1 - t0;
  if (!(n > 0) || !(U > 0)) return { cells, read: 0 };
  // Per cell the min and the max (±Infinity start values: NaN falls out of the comparisons), kept column-major so
  // that the units of one step (mostly neighbours in the image) land close together; then per cell the one farther
  // from mid.
  const mn = new Float32Array(imgW * imgH).fill(Infinity);
  const mx = new Float32Array(imgW * imgH).fill(-Infinity);
  const rowBase = rowOf;
  let read;
  if (!level) {
    for (let t = t0; t < t1; t++) {
      const col = columnOf(t, t0, t1, imgW) * imgH;
      const base = t * U;
      for (let u = 0; u < U; u++) {
        const v = data[base + u];
        const idx = rowBase[u] + col;
        if (v < mn[idx]) mn[idx] = v;
        if (v > mx[idx]) mx[idx] = v;
      }
    }
    read = n * U;
  } else {
    const B = level.block;
    const lmin = level.min;
    const lmax = level.max;
    const j0 = Math.floor(t0 / B);
    const j1 = Math.min(level.n, Math.ceil(t1 / B));
    for (let j = j0; j < j1; j++) {
      const col = columnOf(Math.max(t0, j * B), t0, t1, imgW) * imgH;
      const base = j * U;
      for (let u = 0; u < U; u++) {
        const idx = rowBase[u] + col;
        const lo = lmin[base + u];
        if (lo < mn[idx]) mn[idx] = lo;
        const hi = lmax[base + u];
        if (hi > mx[idx]) mx[idx] = hi;
      }
    }
    read = (j1 - j0) * U * 2;
  }
  for (let c = 0; c < imgW; c++) {
    for (let r = 0; r < imgH; r++) {
      const i = c * imgH + r;
      const lo = mn[i];
      if (lo === Infinity) continue;
      const hi = mx[i];
      cells[r * imgW + c] = Math.abs(hi - mid) > Math.abs(lo - mid) ? hi : lo; // a tie (hi = 2 mid - lo) shows lo
    }
  }
  return { cells, read };
}

/**
 * Cells -> RGBA (Uint8ClampedArray, opaque; NaN transparent) on [scale.lo, scale.hi] through an RGBA lookup table,
 * rounding away from the midpoint like heatmapPixels (v and -v land on mirrored entries).
 */
export function colorCells(cells, scale, table) {
  const n = table.length / 4;
  const mid = (scale.lo + scale.hi) / 2;
  const s = (n - 1) / (scale.hi - scale.lo || 1);
  const C = (n - 1) / 2;
  const px = new Uint8ClampedArray(cells.length * 4);
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i];
    if (v !== v) continue;
    const off = (v - mid) * s;
    let k = off >= 0 ? C + Math.round(off) : C - Math.round(-off);
    k = k < 0 ? 0 : k > n - 1 ? n - 1 : k | 0;
    const o = 4 * i;
    const q = 4 * k;
    px[o] = table[q];
    px[o + 1] = table[q + 1];
    px[o + 2] = table[q + 2];
    px[o + 3] = 255;
  }
  return px;
}

// ---- a sequence that is streaming ---------------------------------------------------------------------------------

/** The steps a time axis spans while a sequence of T steps streams: the next power of two ≥ T (at least 64), so that
 * the x scale, and what is drawn on it, stay valid while steps are appended, until T passes it. */
export function liveCapacity(T) {
  let c = 64;
  while (c < T) c *= 2;
  return c;
}

/**
 * Columns c0 … c1 − 1 of the picture of window [0, n) over imgW columns (the mapping of reduceWindow), from the steps
 * 0 … T − 1 that a (T, U) block has so far (T ≤ n): per cell the value farthest from `mid` of the steps × units it
 * covers, NaN where none is. Returns (c1 − c0) × imgH cells, row-major (row = image row, `rowOf[u]` unit u's).
 */
export function reduceColumns(data, U, T, n, rowOf, imgW, imgH, mid, c0, c1) {
  const w = c1 - c0;
  const cells = new Float32Array(w * imgH).fill(NaN);
  if (!(w > 0) || !(U > 0)) return cells;
  const mn = new Float32Array(w * imgH).fill(Infinity);
  const mx = new Float32Array(w * imgH).fill(-Infinity);
  const s0 = Math.ceil((c0 * n) / imgW); // the first step of column c0
  const s1 = Math.min(T, Math.ceil((c1 * n) / imgW));
  for (let t = s0; t < s1; t++) {
    const c = columnOf(t, 0, n, imgW) - c0;
    if (c < 0 || c >= w) continue;
    const col = c * imgH;
    const base = t * U;
    for (let u = 0; u < U; u++) {
      const v = data[base + u];
      const idx = rowOf[u] + col;
      if (v < mn[idx]) mn[idx] = v;
      if (v > mx[idx]) mx[idx] = v;
    }
  }
  for (let c = 0; c < w; c++) {
    for (let r = 0; r < imgH; r++) {
      const i = c * imgH + r;
      const lo = mn[i];
      if (lo === Infinity) continue;
      const hi = mx[i];
      cells[r * w + c] = Math.abs(hi - mid) > Math.abs(lo - mid) ? hi : lo;
    }
  }
  return cells;
}
