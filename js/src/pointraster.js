// A CPU rasteriser for many trajectory points (a million and more): every step projected with one typed-array loop,
// consecutive steps of a sequence joined by 1-px segments drawn straight into a Uint32Array that becomes ImageData,
// and a uniform grid index of the projected points for hover (the nearest step in well under a millisecond).
//
// Why not canvas 2-D paths: stroking a million segments through the 2-D context costs ~240 ms a frame; why not
// WebGL: where the browser has no GPU (headless, remote desktops) WebGL is emulated on the CPU (SwiftShader) and is
// slower than this loop. The raster here is ~1 byte of work per pixel touched and ~10 ns per segment.
//
// Conventions: pixels are those of a W × H buffer (device pixels; the caller scales CSS pixels by the device pixel
// ratio); a pixel's value is 0xAABBGGRR (ImageData's RGBA bytes read as a little-endian Uint32). Points are
// projected to CSS pixels (Float32 xs, ys; NaN where a coordinate is NaN) by `projectInto`, with the same formulas
// as ../traj3d.js projectRows (zoom / pan included), folded into one affine map, so that what is rasterised coincides
// with what the canvas draws through traj3d's frame.

import { slog1p } from "./traj3d.js";

/**
 * Project `rows` points of `data` ((rows, cols) row-major; cols ≥ 2, or ≥ 3 for a 3-D frame) through a traj3d
 * frame (makeFrame, its zoom / pan included) into `out` = {xs, ys} (Float32Array, reused when long enough) in CSS
 * pixels. A NaN coordinate gives a NaN point (a gap). With `only` = {offsets, n, stride}, only the rows of every
 * stride-th sequence are projected (what rasterPaths draws with that stride; the other rows keep old values).
 * Returns out.
 */
export function projectInto(frame, data, rows, cols, out = null, only = null) {
  let xs = out?.xs;
  let ys = out?.ys;
  if (!xs || xs.length < rows) xs = new Float32Array(rows);
  if (!ys || ys.length < rows) ys = new Float32Array(rows);
  const z = frame.z ?? 1;
  const tx = frame.tx ?? 0;
  const ty = frame.ty ?? 0;
  const log = frame.log;
  const three = frame.dims === 3;
  // X = a0 x + a1 y + a2 w + a3, Y = b0 x + b1 y + b2 w + b3 (the frame's formulas and the zoom folded together)
  let a0;
  let a1 = 0;
  let a2 = 0;
  let a3;
  let b0 = 0;
  let b1;
  let b2 = 0;
  let b3;
  if (!three) {
    // X = (pad + (x - lo0)·sx)·z + tx, Y = (H - pad - (y - lo1)·sy)·z + ty
    a0 = frame.sx * z;
    a3 = (frame.pad - frame.lo[0] * frame.sx) * z + tx;
    b1 = -frame.sy * z;
    b3 = (frame.H - frame.pad + frame.lo[1] * frame.sy) * z + ty;
  } else {
    // n_k = (x_k - c_k) / h_k; X = cx + k·(M0 n0 + M1 n1 + M2 n2), Y = cy - k·(M3 n0 + M4 n1 + M5 n2)
    const { M, c, h, k, cx, cy } = frame;
    const kz = k * z;
    a0 = (kz * M[0]) / h[0];
    a1 = (kz * M[1]) / h[1];
    a2 = (kz * M[2]) / h[2];
    a3 = cx * z + tx - (a0 * c[0] + a1 * c[1] + a2 * c[2]);
    b0 = (-kz * M[3]) / h[0];
    b1 = (-kz * M[4]) / h[1];
    b2 = (-kz * M[5]) / h[2];
    b3 = cy * z + ty - (b0 * c[0] + b1 * c[1] + b2 * c[2]);
  }
  const step = only ? Math.max(1, only.stride | 0) : 1;
  const c = [a0, a1, a2, a3, b0, b1, b2, b3];
  if (step === 1) projectRange(data, cols, xs, ys, 0, rows, c, three, log);
  else {
    for (let s = 0; s < only.n; s += step) {
      projectRange(data, cols, xs, ys, only.offsets[s], Math.min(rows, only.offsets[s + 1]), c, three, log);
    }
  }
  return { xs, ys };
}

/** Rows r0 .. r1-1 through X = a0 x + a1 y + a2 w + a3, Y = b0 x + b1 y + b2 w + b3 (one loop per case). */
function projectRange(data, cols, xs, ys, r0, r1, c, three, log) {
  const [a0, a1, a2, a3, b0, b1, b2, b3] = c;
  if (!three && !log) {
    for (let r = r0, o = r0 * cols; r < r1; r++, o += cols) {
      xs[r] = a0 * data[o] + a3;
      ys[r] = b1 * data[o + 1] + b3;
    }
  } else if (three && !log) {
    for (let r = r0, o = r0 * cols; r < r1; r++, o += cols) {
      const x = data[o];
      const y = data[o + 1];
      const w = data[o + 2];
      xs[r] = a0 * x + a1 * y + a2 * w + a3;
      ys[r] = b0 * x + b1 * y + b2 * w + b3;
    }
  } else {
    for (let r = r0, o = r0 * cols; r < r1; r++, o += cols) {
      const x = slog1p(data[o]);
      const y = slog1p(data[o + 1]);
      const w = three ? slog1p(data[o + 2]) : 0;
      xs[r] = a0 * x + a1 * y + a2 * w + a3;
      ys[r] = b0 * x + b1 * y + b2 * w + b3;
    }
  }
}

/** A colour string "#rrggbb" / "#rgb" / "rgb(r, g, b)" / "hsl(h, s%, l%)" -> 0x00BBGGRR (alpha 0), or -1. */
export function packRGB(color) {
  if (typeof color !== "string") return -1;
  let r;
  let g;
  let b;
  const s = color.trim();
  if (/^#[0-9a-f]{6}$/i.test(s)) {
    r = Number.parseInt(s.slice(1, 3), 16);
    g = Number.parseInt(s.slice(3, 5), 16);
    b = Number.parseInt(s.slice(5, 7), 16);
  } else if (/^#[0-9a-f]{3}$/i.test(s)) {
    r = Number.parseInt(s[1] + s[1], 16);
    g = Number.parseInt(s[2] + s[2], 16);
    b = Number.parseInt(s[3] + s[3], 16);
  } else if (/^hsla?\(/i.test(s)) {
    const m = /^hsla?\(\s*([\d.]+)\s*,\s*([\d.]+)%\s*,\s*([\d.]+)%/i.exec(s);
    if (!m) return -1;
    const h = (Number(m[1]) % 360) / 60;
    const sat = Number(m[2]) / 100;
    const l = Number(m[3]) / 100;
    const c = (1 - Math.abs(2 * l - 1)) * sat;
    const x = c * (1 - Math.abs((h % 2) - 1));
    const [r1, g1, b1] =
      h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
    const m0 = l - c / 2;
    [r, g, b] = [r1, g1, b1].map((v) => Math.round((v + m0) * 255));
  } else {
    const m = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)/i.exec(s);
    if (!m) return -1;
    [r, g, b] = [Number(m[1]), Number(m[2]), Number(m[3])];
  }
  return ((b << 16) | (g << 8) | r) >>> 0;
}

/**
 * Rasterise paths into `buf` (Uint32Array of W × H pixels, 0xAABBGGRR): for every sequence s (every `stride`-th one,
 * s ≡ 0 mod stride) the segments between its consecutive steps offsets[s] .. offsets[s+1]-1. A NaN point breaks the
 * path; paths never join across a sequence boundary. Coordinates are CSS pixels scaled by `scale` (device pixel ratio)
 * and rounded to the pixel grid; segments are clipped to the buffer; a segment whose two ends fall in the same pixel
 * is skipped (the path's first point is always drawn).
 *
 * colors: Uint32Array per sequence (0x00BBGGRR, or 0xFFFFFFFF = not drawn). Blending: each pixel a segment touches
 * takes the sequence's colour and gains `alpha` (0..255) of opacity, saturating at `cap` (≤ 255) — dense regions
 * come out strongest, single paths faint; alpha = cap = 255 is plain overwrite. Returns the number of segments drawn.
 */
export function rasterPaths(
  buf,
  W,
  H,
  xs,
  ys,
  offsets,
  nSeq,
  colors,
  { alpha = 64, cap = 255, stride = 1, scale = 1 } = {},
) {
  const top = Math.max(1, Math.min(255, cap | 0));
  const a = Math.max(1, Math.min(top, alpha | 0));
  const step = Math.max(1, stride | 0);
  const Wm = W - 1;
  const Hm = H - 1;
  let drawn = 0;
  for (let s = 0; s < nSeq; s += step) {
    const rgb = colors[s];
    if (rgb === 0xffffffff) continue;
    const r0 = offsets[s];
    const r1 = offsets[s + 1];
    let pen = false;
    let px = 0;
    let py = 0;
    for (let r = r0; r < r1; r++) {
      const fx = xs[r] * scale;
      const fy = ys[r] * scale;
      if (fx !== fx || fy !== fy) {
        pen = false;
        continue;
      }
      // floor, also for negative values (|0 truncates toward zero); far-off points are clamped so ints stay ints
      const x = fx >= 0 ? (fx < 1e8 ? fx | 0 : 1e8) : fx > -1e8 ? Math.floor(fx) : -1e8;
      const y = fy >= 0 ? (fy < 1e8 ? fy | 0 : 1e8) : fy > -1e8 ? Math.floor(fy) : -1e8;
      if (!pen) {
        pen = true;
        px = x;
        py = y;
        if (x >= 0 && x <= Wm && y >= 0 && y <= Hm) {
          const i = y * W + x;
          const old = buf[i] >>> 24;
          buf[i] = ((old + a > top ? top : old + a) << 24) | rgb;
        }
        continue;
      }
      if (x === px && y === py) continue; // same pixel: nothing new to draw (the path keeps its last pixel)
      drawn++;
      if (px >= 0 && px <= Wm && py >= 0 && py <= Hm && x >= 0 && x <= Wm && y >= 0 && y <= Hm) {
        segment(buf, W, px, py, x, y, rgb, a, top);
      } else if (!((px < 0 && x < 0) || (px > Wm && x > Wm) || (py < 0 && y < 0) || (py > Hm && y > Hm))) {
        clippedSegment(buf, W, H, px, py, x, y, rgb, a, top);
      }
      px = x;
      py = y;
    }
  }
  return drawn;
}

/** Pixels (x0, y0) exclusive .. (x1, y1) inclusive, both inside; 16.16 fixed-point DDA. */
function segment(buf, W, x0, y0, x1, y1, rgb, a, top) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const adx = dx < 0 ? -dx : dx;
  const ady = dy < 0 ? -dy : dy;
  if (adx >= ady) {
    const n = adx;
    const sx = dx > 0 ? 1 : -1;
    const sy = ((dy << 16) / n) | 0;
    let fy = (y0 << 16) + 0x8000;
    let x = x0;
    for (let k = 0; k < n; k++) {
      x += sx;
      fy += sy;
      const i = (fy >> 16) * W + x;
      const old = buf[i] >>> 24;
      buf[i] = ((old + a > top ? top : old + a) << 24) | rgb;
    }
  } else {
    const n = ady;
    const sy = dy > 0 ? 1 : -1;
    const sx = ((dx << 16) / n) | 0;
    let fx = (x0 << 16) + 0x8000;
    let y = y0;
    for (let k = 0; k < n; k++) {
      y += sy;
      fx += sx;
      const i = y * W + (fx >> 16);
      const old = buf[i] >>> 24;
      buf[i] = ((old + a > top ? top : old + a) << 24) | rgb;
    }
  }
}

/** A segment with an end outside the buffer: clipped (Liang–Barsky) then drawn pixel by pixel inside the bounds. */
function clippedSegment(buf, W, H, x0, y0, x1, y1, rgb, a, top) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  let t0 = 0;
  let t1 = 1;
  // the four edges x ≥ 0, x ≤ W-1, y ≥ 0, y ≤ H-1 as p·t ≤ q
  for (let e = 0; e < 4; e++) {
    const p = e === 0 ? -dx : e === 1 ? dx : e === 2 ? -dy : dy;
    const q = e === 0 ? x0 : e === 1 ? W - 1 - x0 : e === 2 ? y0 : H - 1 - y0;
    if (p === 0) {
      if (q < 0) return;
      continue;
    }
    const t = q / p;
    if (p < 0) {
      if (t > t1) return;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return;
      if (t < t1) t1 = t;
    }
  }
  const n = Math.max(Math.abs(dx), Math.abs(dy));
  const k0 = Math.ceil(t0 * n);
  const k1 = Math.floor(t1 * n);
  for (let k = Math.max(1, k0); k <= k1; k++) {
    const x = Math.round(x0 + (dx * k) / n);
    const y = Math.round(y0 + (dy * k) / n);
    if (x < 0 || x >= W || y < 0 || y >= H) continue;
    const i = y * W + x;
    const old = buf[i] >>> 24;
    buf[i] = ((old + a > top ? top : old + a) << 24) | rgb;
  }
}

/**
 * A uniform grid over the W × H (CSS pixel) plot of the points that fall in it (finite, inside): cells of `cell`
 * pixels, points sorted by cell (counting sort). Build once per view change (~25 ms for a million points); then
 * `nearestPoint` looks at the few cells within reach. Returns {cell, gw, gh, start, items, xs, ys}.
 */
export function buildGrid(xs, ys, rows, W, H, { cell = 8 } = {}) {
  const gw = Math.max(1, Math.ceil(W / cell));
  const gh = Math.max(1, Math.ceil(H / cell));
  const nc = gw * gh;
  const start = new Int32Array(nc + 1);
  const cellOf = new Int32Array(rows);
  const inv = 1 / cell;
  for (let r = 0; r < rows; r++) {
    const x = xs[r];
    const y = ys[r];
    if (!(x >= 0 && x < W && y >= 0 && y < H)) {
      cellOf[r] = -1; // NaN fails every comparison
      continue;
    }
    const c = ((y * inv) | 0) * gw + ((x * inv) | 0);
    cellOf[r] = c;
    start[c + 1]++;
  }
  for (let c = 0; c < nc; c++) start[c + 1] += start[c];
  const fill = start.slice(0, nc);
  const items = new Int32Array(start[nc]);
  for (let r = 0; r < rows; r++) {
    const c = cellOf[r];
    if (c >= 0) items[fill[c]++] = r;
  }
  return { cell, gw, gh, start, items, xs, ys };
}

/**
 * The row nearest to (x, y) within `maxDist` CSS pixels, or -1; `accept(r)` (optional) filters rows. Ties go to the
 * lower row (the same answer as a scan in row order keeping the first strictly nearer point).
 */
export function nearestPoint(grid, x, y, maxDist = 10, accept = null) {
  const { cell, gw, gh, start, items, xs, ys } = grid;
  const c0 = Math.max(0, Math.floor((x - maxDist) / cell));
  const c1 = Math.min(gw - 1, Math.floor((x + maxDist) / cell));
  const r0 = Math.max(0, Math.floor((y - maxDist) / cell));
  const r1 = Math.min(gh - 1, Math.floor((y + maxDist) / cell));
  let best = -1;
  let bestD = maxDist * maxDist;
  for (let gy = r0; gy <= r1; gy++) {
    for (let gx = c0; gx <= c1; gx++) {
      const c = gy * gw + gx;
      for (let i = start[c]; i < start[c + 1]; i++) {
        const r = items[i];
        const dx = xs[r] - x;
        const dy = ys[r] - y;
        const d = dx * dx + dy * dy;
        if (d < bestD || (d === bestD && best >= 0 && r < best)) {
          if (accept && !accept(r)) continue;
          best = r;
          bestD = d;
        }
      }
    }
  }
  return best;
}

/** The same answer as nearestPoint by a scan of every row (for tests and small data). */
export function nearestPointScan(xs, ys, rows, x, y, maxDist = 10, W = Infinity, H = Infinity) {
  let best = -1;
  let bestD = maxDist * maxDist;
  for (let r = 0; r < rows; r++) {
    const px = xs[r];
    const py = ys[r];
    if (!(px >= 0 && px < W && py >= 0 && py < H)) continue;
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (d < bestD) {
      best = r;
      bestD = d;
    }
  }
  return best;
}
