// The trajectory's fixed points (js/PROTOCOL.md, "Fixed points"): the kernel's `_fixed_points` decoded into the
// store's aux slot of that name, their places on the trajectory's frame (points and eigenvector segments go through
// the same projectPoint as the paths: log1p and 3-D rotation included), the marker of each kind, hit testing and the
// hover text. The trajectory view (views/trajectory.js) draws them and holds the "fixed points" button, whose request
// is the synced `fixed_points_request`.

import { projectPoint } from "./traj3d.js";
import { isEmpty, sameRequest } from "./why.js";
import { decodeArray } from "./wire.js";

/** Kinds of point, in legend order, with the glyph the legend shows for each marker. */
export const FP_KINDS = ["stable", "unstable", "slow"];
export const FP_GLYPHS = { stable: "●", unstable: "✕", slow: "◆" };
/** Marker colours per kind (the stable one is the theme's strongest foreground). */
export const FP_COLORS = { unstable: "#d62728", slow: "#e08a00" };
const MARKER = 5; // half the marker's size in CSS pixels

function decodeOr(entry) {
  if (!entry || typeof entry !== "object" || !("dtype" in entry)) return null;
  try {
    return decodeArray(entry);
  } catch (err) {
    console.warn("lstm_widget: cannot decode _fixed_points:", err);
    return null;
  }
}

/**
 * `_fixed_points` decoded: {request, error, layer, layer_name, about, counts, n, dims, inputs, projection, points
 * (n·dims), ends (n·2·dims: p − ε·u then p + ε·u), kinds, q, radius (max |λ|), inputIndex, hShare (how much of the
 * leading eigenvector is in h)}, or null for {}. With an
 * error (the points cannot be drawn, or there are none) the arrays are null and n is 0.
 */
export function decodeFixedPoints(raw) {
  if (isEmpty(raw)) return null;
  const points = decodeOr(raw.points);
  const ends = decodeOr(raw.ends);
  const q = decodeOr(raw.q);
  const radius = decodeOr(raw.radius);
  const inputIndex = decodeOr(raw.input_index);
  const hShare = decodeOr(raw.h_share);
  const dims = Number(raw.dims) || (points && points.shape.length === 2 ? points.shape[1] : 0);
  const ok = !raw.error && points && ends && q && radius && dims >= 2;
  const n = ok ? points.shape[0] : 0;
  const kinds = Array.isArray(raw.kinds) ? raw.kinds.map(String) : [];
  return {
    request: raw.request && typeof raw.request === "object" ? raw.request : {},
    error: raw.error == null ? null : String(raw.error),
    layer: raw.layer == null ? null : Number(raw.layer),
    layer_name: raw.layer_name == null ? "" : String(raw.layer_name),
    about: raw.about == null ? "" : String(raw.about),
    counts: raw.counts && typeof raw.counts === "object" ? raw.counts : {},
    inputs: Number(raw.inputs) || 1,
    projection: raw.projection && typeof raw.projection === "object" ? raw.projection : null,
    n,
    dims,
    points: ok ? points.data : null,
    ends: ok ? ends.data : null,
    kinds: ok ? kinds.slice(0, n) : [],
    q: ok ? q.data : null,
    radius: ok ? radius.data : null,
    inputIndex: ok && inputIndex ? inputIndex.data : null,
    hShare: ok && hShare ? hShare.data : null,
  };
}

/** Whether the page waits for the kernel: a request was made that the shown points do not answer yet. */
export function fixedPointsPending(request, fp) {
  return !isEmpty(request) && !sameRequest(request, fp ? fp.request : {});
}

/**
 * Why decoded points are not drawn on a map that projects `projection` ({layer, quantity} of `_meta.projection`):
 * the kernel's reason, or "" when they can be drawn.
 */
export function notDrawnReason(fp, projection) {
  if (!fp) return "";
  if (fp.error) return fp.error;
  const p = fp.projection;
  if (p && projection && (p.layer !== projection.layer || p.quantity !== projection.quantity)) {
    return "fixed points not drawn: the map is being refitted";
  }
  return "";
}

/** Every point on `frame`: [{i, kind, x, y, d, ax, ay, bx, by}] in CSS pixels (d: depth in 3-D, 0 in 2-D). */
export function placeFixedPoints(fp, frame) {
  if (!fp?.n || !frame) return [];
  const { dims, points, ends } = fp;
  const at = (arr, o) => projectPoint(frame, arr[o], arr[o + 1], dims >= 3 ? arr[o + 2] : 0);
  const out = [];
  for (let i = 0; i < fp.n; i++) {
    const p = at(points, i * dims);
    if (!(Number.isFinite(p.x) && Number.isFinite(p.y))) continue;
    const a = at(ends, i * 2 * dims);
    const b = at(ends, (i * 2 + 1) * dims);
    out.push({ i, kind: fp.kinds[i] || "stable", x: p.x, y: p.y, d: p.depth || 0, ax: a.x, ay: a.y, bx: b.x, by: b.y });
  }
  if (frame.dims === 3) out.sort((u, v) => u.d - v.d); // far ones first
  return out;
}

/** The index into `placed` of the point nearest (x, y) within maxDist CSS pixels, or -1. */
export function nearestFixedPoint(placed, x, y, maxDist = 8) {
  let best = -1;
  let bestD = maxDist * maxDist;
  for (let k = 0; k < placed.length; k++) {
    const dx = placed[k].x - x;
    const dy = placed[k].y - y;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/** A short number: 3 significant digits, exponent form when tiny or huge. */
export function shortNumber(v) {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e4 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** The hover text of point i: its kind, q, the largest |λ|, how much of its eigenvector the map shows (when not all
 * of it is in h) and whose input it is (with several). */
export function describeFixedPoint(fp, i) {
  const kind = fp.kinds[i] || "stable";
  const what = kind === "slow" ? "slow point" : `${kind} fixed point`;
  const share = fp.hShare ? fp.hShare[i] : 1;
  const inH = share < 0.995 ? ` · eigenvector ${shortNumber(100 * share)}% in h` : "";
  const input = fp.inputs > 1 && fp.inputIndex ? ` · input ${fp.inputIndex[i]}` : "";
  return `${what} · q ${shortNumber(fp.q[i])} · max |λ| ${shortNumber(fp.radius[i])}${inH}${input}`;
}

/** The status line: what the points are, how many of each kind. */
export function fixedPointsSummary(fp) {
  const parts = FP_KINDS.filter((k) => fp.counts[k]).map((k) => `${fp.counts[k]} ${k}`);
  return `fixed points of ${fp.layer_name} for ${fp.about}: ${parts.length ? parts.join(" · ") : "none found"}`;
}

function marker(ctx, kind, x, y, r) {
  ctx.beginPath();
  if (kind === "unstable") {
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
    return;
  }
  if (kind === "slow") {
    ctx.moveTo(x, y - r - 1);
    ctx.lineTo(x + r + 1, y);
    ctx.lineTo(x, y + r + 1);
    ctx.lineTo(x - r - 1, y);
    ctx.closePath();
    return;
  }
  ctx.arc(x, y, r, 0, 2 * Math.PI);
}

/** Draw the placed points: the eigenvector segments, then a halo and the marker of each kind. */
export function drawFixedPoints(ctx, placed, theme, { depthFade = null } = {}) {
  if (!placed.length) return;
  const color = (kind) => FP_COLORS[kind] || theme.fg0;
  ctx.save();
  ctx.lineCap = "round";
  for (const p of placed) {
    ctx.globalAlpha = depthFade ? depthFade(p.d) : 1;
    ctx.strokeStyle = theme.bg0;
    ctx.lineWidth = 4;
    ctx.beginPath();
    ctx.moveTo(p.ax, p.ay);
    ctx.lineTo(p.bx, p.by);
    ctx.stroke();
    ctx.strokeStyle = color(p.kind);
    ctx.lineWidth = 1.75;
    ctx.stroke();
  }
  for (const p of placed) {
    ctx.globalAlpha = depthFade ? depthFade(p.d) : 1;
    const c = color(p.kind);
    marker(ctx, p.kind, p.x, p.y, MARKER + 1.5);
    if (p.kind === "unstable") {
      ctx.strokeStyle = theme.bg0;
      ctx.lineWidth = 5;
      ctx.stroke();
      marker(ctx, p.kind, p.x, p.y, MARKER);
      ctx.strokeStyle = c;
      ctx.lineWidth = 2.5;
      ctx.stroke();
    } else {
      ctx.fillStyle = theme.bg0;
      ctx.fill();
      marker(ctx, p.kind, p.x, p.y, MARKER);
      ctx.fillStyle = c;
      ctx.fill();
    }
  }
  ctx.restore();
}

/** Decode `_fixed_points` into the store now and on every change. `on(event, fn)` registers a model listener. */
export function attachFixedPoints(model, store, on) {
  const load = () => {
    let value = null;
    try {
      value = decodeFixedPoints(model.get("_fixed_points"));
    } catch (err) {
      console.warn("lstm_widget: cannot read _fixed_points:", err);
    }
    store.setAux("_fixed_points", value);
  };
  load();
  on("change:_fixed_points", load);
}
