// Pure parts of the trajectory view (no DOM): the `traj_view` options and their defaults, the signed log1p, the
// data -> CSS pixel frame (2-D: each axis stretched to the plot; 3-D: an orthographic projection of the data box
// rotated by yaw then pitch), axis lines, hit testing, depth cues, and the colour of every path per colour mode.
//
// 3-D convention: the data box is scaled to [-1, 1] per axis (so the three components weigh alike, as in
// matplotlib's 3-D axes), rotated by yaw about the vertical axis and then by pitch about the horizontal one, and
// drawn orthographically: after the rotation x points right, y up, and z towards the viewer (depth). At yaw = pitch =
// 0 the picture is the 2-D one (components 1 and 2), seen from the front. The scale depends on the data only (the
// radius of the farthest point), never on the rotation, so a drag turns the cloud without zooming it.

import { categorical, lut } from "./colormap.js";

export const COLOR_MODES = ["time", "class", "group", "target", "output"];
/** Colour modes that colour every point by a value of its step (a sequential map, with a colour bar). */
export const VALUE_MODES = ["target", "output"];
/** What the page draws when `traj_view` leaves a key out. */
export const DEFAULT_VIEW = Object.freeze({
  dims: 2,
  color: "time",
  log1p: false,
  labels: true,
  last_only: false,
  overlay: Object.freeze([]),
  yaw: 0.6,
  pitch: 0.35,
});
export const PITCH_LIMIT = Math.PI / 2;
/** Radians of rotation per CSS pixel dragged. */
export const DRAG_RAD_PER_PX = 0.01;

const finite = (v) => typeof v === "number" && Number.isFinite(v);

/** Angle wrapped to (-π, π]. */
export function wrapAngle(a) {
  if (!finite(a)) return 0;
  let w = a % (2 * Math.PI);
  if (w > Math.PI) w -= 2 * Math.PI;
  else if (w <= -Math.PI) w += 2 * Math.PI;
  return w;
}

export function clampPitch(p) {
  return !finite(p) ? 0 : p > PITCH_LIMIT ? PITCH_LIMIT : p < -PITCH_LIMIT ? -PITCH_LIMIT : p;
}

/**
 * `traj_view` with every key filled: missing or invalid keys take DEFAULT_VIEW's value (a value set from Python is
 * kept as long as it means something: yaw is wrapped, pitch clamped to ±π/2, overlay needs two non-negative ints).
 * The result is what the page writes back (plus the user's change).
 */
export function fillView(raw) {
  const v = raw && typeof raw === "object" && !Array.isArray(raw) ? raw : {};
  const D = DEFAULT_VIEW;
  const bool = (x, d) => (x == null ? d : Boolean(x));
  const ov = v.overlay;
  const overlay =
    Array.isArray(ov) && ov.length === 2 && ov.every((k) => Number.isInteger(k) && k >= 0) ? [ov[0], ov[1]] : [];
  return {
    dims: Number(v.dims) === 3 ? 3 : 2,
    color: COLOR_MODES.includes(v.color) ? v.color : D.color,
    log1p: bool(v.log1p, D.log1p),
    labels: bool(v.labels, D.labels),
    last_only: bool(v.last_only, D.last_only),
    overlay,
    yaw: wrapAngle(finite(v.yaw) ? v.yaw : D.yaw),
    pitch: clampPitch(finite(v.pitch) ? v.pitch : D.pitch),
  };
}

/**
 * What is drawn for a filled view given the data: 3-D only when `traj` has ≥ 3 columns; colour "group" only with
 * groups (else "class" when sequences are labelled, else "time"); "target" only with targets (else "output", the
 * prediction, for a regression, else "time"); "output" only with a regression's outputs (else "time"); overlay only
 * with two classes in range.
 */
export function effectiveView(
  view,
  { cols = 2, hasGroups = false, labelled = false, nClasses = 0, hasTargets = false, hasOutputs = false } = {},
) {
  const dims = view.dims === 3 && cols >= 3 ? 3 : 2;
  let color = view.color;
  if (color === "group" && !hasGroups) color = labelled ? "class" : "time";
  if (color === "target" && !hasTargets) color = hasOutputs ? "output" : "time";
  if (color === "output" && !hasOutputs) color = "time";
  const overlay = view.overlay.length === 2 && view.overlay.every((k) => k < nClasses) ? view.overlay : [];
  return { ...view, dims, color, overlay };
}

/** A view object changed by a drag of (dx, dy) CSS pixels from (yaw0, pitch0): right turns the front right, down
 * tips it down. */
export function dragRotation(yaw0, pitch0, dx, dy, perPx = DRAG_RAD_PER_PX) {
  return { yaw: wrapAngle(yaw0 + dx * perPx), pitch: clampPitch(pitch0 + dy * perPx) };
}

/** sign(v) · log1p(|v|) (NaN stays NaN). */
export function slog1p(v) {
  return v < 0 ? -Math.log1p(-v) : Math.log1p(v);
}

const identity = (v) => v;

/** Row-major 3×3 rotation: pitch about x after yaw about y (R = Rx(pitch) · Ry(yaw)). */
export function rotationMatrix(yaw, pitch) {
  const cy = Math.cos(yaw);
  const sy = Math.sin(yaw);
  const cp = Math.cos(pitch);
  const sp = Math.sin(pitch);
  // Ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]; Rx = [[1, 0, 0], [0, cp, -sp], [0, sp, cp]]
  return [cy, 0, sy, sp * sy, cp, -sp * cy, -cp * sy, sp, cp * cy];
}

/**
 * The frame that maps raw `traj` coordinates to CSS pixels of a W × H plot with `pad` pixels of margin.
 * data: (rows, cols) values, row-major. Returns a plain object for projectPoint / projectRows.
 */
export function makeFrame(
  data,
  rows,
  cols,
  { dims = 2, log = false, yaw = 0, pitch = 0, W = 300, H = 300, pad = 16, zoom = null, bounds = null } = {},
) {
  const nd = dims === 3 && cols >= 3 ? 3 : 2;
  const b = bounds || frameBounds(data, rows, cols, { dims: nd, log });
  const { lo, hi, R } = b;
  const z = zoom ? { z: zoom.zoom, tx: zoom.tx, ty: zoom.ty } : { z: 1, tx: 0, ty: 0 };
  const frame = { dims: nd, log, lo, hi, W, H, pad, cols, ...z };
  if (nd === 2) {
    frame.sx = Math.max(1e-9, W - 2 * pad) / (hi[0] - lo[0]);
    frame.sy = Math.max(1e-9, H - 2 * pad) / (hi[1] - lo[1]);
    return frame;
  }
  const c = [0, 1, 2].map((k) => (lo[k] + hi[k]) / 2);
  const h = [0, 1, 2].map((k) => (hi[k] - lo[k]) / 2);
  Object.assign(frame, {
    c,
    h,
    R,
    yaw,
    pitch,
    M: rotationMatrix(yaw, pitch),
    k: Math.max(1e-9, Math.min(W, H) - 2 * pad) / (2 * R),
    cx: W / 2,
    cy: H / 2,
  });
  return frame;
}

/**
 * What a frame needs of the data, independent of size, rotation and zoom: {lo, hi} per axis (of the transformed
 * values; a NaN row is left out) and, in 3-D, R = the largest box-normalised radius. Callers that redraw the same
 * data under many views (a drag, a wheel) compute it once and pass it to makeFrame as `bounds`.
 */
export function frameBounds(data, rows, cols, { dims = 2, log = false } = {}) {
  const nd = dims === 3 && cols >= 3 ? 3 : 2;
  const f = log ? slog1p : identity;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const p = [0, 0, 0];
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let k = 0; k < nd; k++) {
      p[k] = f(data[r * cols + k]);
      ok = p[k] === p[k] && ok; // a row with a NaN is a gap
    }
    if (!ok) continue;
    for (let k = 0; k < nd; k++) {
      if (p[k] < lo[k]) lo[k] = p[k];
      if (p[k] > hi[k]) hi[k] = p[k];
    }
  }
  for (let k = 0; k < 3; k++) {
    if (!(hi[k] >= lo[k])) [lo[k], hi[k]] = [-1, 1];
    if (hi[k] === lo[k]) [lo[k], hi[k]] = [lo[k] - 1, hi[k] + 1];
  }
  if (nd === 2) return { lo, hi, R: 1 };
  const c = [0, 1, 2].map((k) => (lo[k] + hi[k]) / 2);
  const h = [0, 1, 2].map((k) => (hi[k] - lo[k]) / 2);
  let R2 = 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < 3; k++) {
      const n = (f(data[r * cols + k]) - c[k]) / h[k];
      s += n * n;
    }
    if (s > R2) R2 = s; // NaN never wins
  }
  return { lo, hi, R: R2 > 0 ? Math.sqrt(R2) : 1 };
}

/** Box-normalised 3-D point (each axis in [-1, 1] over the data) -> {x, y, depth}; depth in [-1, 1], +1 nearest. */
function fromUnit(frame, n0, n1, n2) {
  const M = frame.M;
  const u = M[0] * n0 + M[1] * n1 + M[2] * n2;
  const v = M[3] * n0 + M[4] * n1 + M[5] * n2;
  const w = M[6] * n0 + M[7] * n1 + M[8] * n2;
  return {
    x: (frame.cx + frame.k * u) * frame.z + frame.tx,
    y: (frame.cy - frame.k * v) * frame.z + frame.ty,
    depth: w / frame.R,
  };
}

/** A transformed (log already applied) point -> {x, y, depth} (depth 0 in 2-D). */
function fromTransformed(frame, a, b, z) {
  if (frame.dims === 2) {
    return {
      x: (frame.pad + (a - frame.lo[0]) * frame.sx) * frame.z + frame.tx,
      y: (frame.H - frame.pad - (b - frame.lo[1]) * frame.sy) * frame.z + frame.ty,
      depth: 0,
    };
  }
  return fromUnit(frame, (a - frame.c[0]) / frame.h[0], (b - frame.c[1]) / frame.h[1], (z - frame.c[2]) / frame.h[2]);
}

/** A raw `traj` point (x, y[, z]) -> {x, y, depth} in CSS pixels of the plot (log1p applied when the frame has it). */
export function projectPoint(frame, x, y, z = 0) {
  const f = frame.log ? slog1p : identity;
  return fromTransformed(frame, f(x), f(y), f(z ?? 0));
}

/** Every row -> {xs, ys, ds} (Float32Array; ds null in 2-D). A NaN coordinate gives NaN (a gap). */
export function projectRows(frame, data, rows, cols) {
  const f = frame.log ? slog1p : identity;
  const xs = new Float32Array(rows);
  const ys = new Float32Array(rows);
  if (frame.dims === 2) {
    const { pad, H, sx, sy, lo, z, tx, ty } = frame;
    for (let r = 0; r < rows; r++) {
      xs[r] = (pad + (f(data[r * cols]) - lo[0]) * sx) * z + tx;
      ys[r] = (H - pad - (f(data[r * cols + 1]) - lo[1]) * sy) * z + ty;
    }
    return { xs, ys, ds: null };
  }
  const ds = new Float32Array(rows);
  const { M, c, h, k, cx, cy, R, z, tx, ty } = frame;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const n0 = (f(data[o]) - c[0]) / h[0];
    const n1 = (f(data[o + 1]) - c[1]) / h[1];
    const n2 = (f(data[o + 2]) - c[2]) / h[2];
    xs[r] = (cx + k * (M[0] * n0 + M[1] * n1 + M[2] * n2)) * z + tx;
    ys[r] = (cy - k * (M[3] * n0 + M[4] * n1 + M[5] * n2)) * z + ty;
    ds[r] = (M[6] * n0 + M[7] * n1 + M[8] * n2) / R;
  }
  return { xs, ys, ds };
}

/**
 * Axis lines in CSS pixels: [{axis, x0, y0, x1, y1}] (x1, y1 = the positive end). 2-D: the zero lines across the
 * plot when 0 is inside the data range. 3-D: each component's axis through the data origin (clamped into the data
 * box) from the box's low face to its high face.
 */
export function axisLines(frame) {
  const { lo, hi } = frame;
  if (frame.dims === 2) {
    const out = [];
    if (lo[1] < 0 && hi[1] > 0) {
      const y = fromTransformed(frame, 0, 0).y;
      out.push({ axis: 0, x0: 0, y0: y, x1: frame.W, y1: y });
    }
    if (lo[0] < 0 && hi[0] > 0) {
      const x = fromTransformed(frame, 0, 0).x;
      out.push({ axis: 1, x0: x, y0: frame.H, x1: x, y1: 0 });
    }
    return out;
  }
  const o = [0, 1, 2].map((k) => Math.min(hi[k], Math.max(lo[k], 0)));
  const out = [];
  for (let k = 0; k < 3; k++) {
    const a = o.slice();
    const b = o.slice();
    a[k] = lo[k];
    b[k] = hi[k];
    const p = fromTransformed(frame, a[0], a[1], a[2]);
    const q = fromTransformed(frame, b[0], b[1], b[2]);
    out.push({ axis: k, x0: p.x, y0: p.y, x1: q.x, y1: q.y, depth: q.depth });
  }
  return out;
}

/** Axis title: "PCA 1", with " (43%)" when the explained variance ratio is known. */
export function axisTitle(name, k, explained) {
  const r = Array.isArray(explained) ? Number(explained[k]) : NaN;
  if (!Number.isFinite(r)) return `${name} ${k + 1}`;
  const pct = r * 100;
  return `${name} ${k + 1} (${pct >= 10 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%)`;
}

/**
 * The row nearest to (x, y) within maxDist pixels, or -1. Candidates: `rows` (an index list) when given, else rows
 * from..to-1. NaN points are skipped. In 3-D (`ds` given), points within 1.5 px of the nearest distance compete on
 * depth: the one nearest the viewer wins (what is drawn on top).
 */
export function nearestRow(xs, ys, x, y, { from = 0, to = xs.length, rows = null, maxDist = 10, ds = null } = {}) {
  const n = rows ? rows.length : Math.min(to, xs.length) - from;
  let best = -1;
  let bestD = maxDist * maxDist;
  const dist = (r) => {
    const dx = xs[r] - x;
    const dy = ys[r] - y;
    return dx * dx + dy * dy; // NaN for a gap: never < bestD
  };
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : from + i;
    if (r < 0) continue;
    const d = dist(r);
    if (d < bestD) [bestD, best] = [d, r];
  }
  if (best < 0 || !ds) return best;
  const tie = (Math.sqrt(bestD) + 1.5) ** 2;
  let pick = best;
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : from + i;
    if (r < 0) continue;
    if (dist(r) <= tie && ds[r] > ds[pick]) pick = r;
  }
  return pick;
}

/** Last row with a finite point of every sequence (-1 when it has none). */
export function lastRows(offsets, n, xs) {
  const out = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) {
    for (let r = offsets[s + 1] - 1; r >= offsets[s]; r--) {
      if (xs[r] === xs[r]) {
        out[s] = r;
        break;
      }
    }
  }
  return out;
}

/** Depth cue: opacity factor (far 0.35 … near 1) and size factor (far 0.75 … near 1.25) of a depth in [-1, 1]. */
export function depthFade(d) {
  const u = d !== d ? 0.5 : Math.max(0, Math.min(1, (d + 1) / 2));
  return 0.35 + 0.65 * u;
}
export function depthSize(d) {
  const u = d !== d ? 0.5 : Math.max(0, Math.min(1, (d + 1) / 2));
  return 0.75 + 0.5 * u;
}

/** Name of class l. */
export function className(classNames, l) {
  return classNames && classNames[l] != null ? String(classNames[l]) : `class ${l}`;
}

/** Viridis colour (CSS) of a fraction 0..1 of the time axis. */
export function timeColor(frac) {
  const table = lut("viridis");
  const n = table.length / 4;
  const k = Math.max(0, Math.min(n - 1, Math.round((frac === frac ? frac : 0) * (n - 1))));
  return `rgb(${table[4 * k]},${table[4 * k + 1]},${table[4 * k + 2]})`;
}

/** [lo, hi] of the finite values of column `col` of a (rows, stride) block ([0, 1] when there are none; a constant
 * column gets a unit-wide range around its value). */
export function valueRange(data, rows, stride, col = 0) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < rows; r++) {
    const v = data[r * stride + col];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return [0, 1];
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}

/** The colour bin (0..bins-1, on the sequential map from lo to hi) of every row's value in column `col`; -1 where it
 * is NaN (a step without a target: not drawn). */
export function valueBins(data, rows, stride, col, lo, hi, bins = 32) {
  const out = new Int16Array(rows);
  const span = hi - lo || 1;
  for (let r = 0; r < rows; r++) {
    const v = data[r * stride + col];
    out[r] = v === v ? Math.max(0, Math.min(bins - 1, Math.floor(((v - lo) / span) * bins))) : -1;
  }
  return out;
}

/**
 * The colour of every sequence for a colour mode.
 *   time / class: each sequence in its class colour (null when unlabelled); the legend lists the classes present
 *                 (class mode only; time mode colours the current path by step and keeps no legend).
 *   group:        each sequence in its group's colour, groups numbered in order of first appearance (null for a
 *                 missing value); the legend lists the groups.
 *   overlay [a, b] (any mode): sequences of classes a and b in those classes' colours, every other one dimmed
 *                 (colour null, dim true); the legend lists a and b.
 * Returns {colors: (string|null)[], dim: boolean[], legend: [{key, name, color}]}.
 */
export function colorPlan(
  mode,
  { n, labels = [], classNames = null, groups = null },
  { dark = false, overlay = [] } = {},
) {
  const colors = new Array(n).fill(null);
  const dim = new Array(n).fill(false);
  const legend = [];
  if (overlay.length === 2) {
    const [a, b] = overlay;
    for (let s = 0; s < n; s++) {
      const l = labels[s];
      if (l != null && (l === a || l === b)) colors[s] = categorical(l, dark);
      else dim[s] = true;
    }
    for (const l of a === b ? [a] : [a, b])
      legend.push({ key: `c${l}`, name: className(classNames, l), color: categorical(l, dark) });
    return { colors, dim, legend };
  }
  if (mode === "group" && groups && Array.isArray(groups.values)) {
    const index = new Map();
    for (let s = 0; s < n; s++) {
      const g = groups.values[s];
      if (g == null || g === "") continue;
      const key = String(g);
      if (!index.has(key)) {
        index.set(key, index.size);
        legend.push({ key: `g${index.size - 1}`, name: key, color: categorical(index.size - 1, dark) });
      }
      colors[s] = categorical(index.get(key), dark);
    }
    return { colors, dim, legend };
  }
  const present = new Set();
  for (let s = 0; s < n; s++) {
    const l = labels[s];
    if (l == null) continue;
    colors[s] = categorical(l, dark);
    present.add(l);
  }
  if (mode === "class") {
    for (const l of [...present].sort((p, q) => p - q))
      legend.push({ key: `c${l}`, name: className(classNames, l), color: categorical(l, dark) });
  }
  return { colors, dim, legend };
}
