// Trajectory (lw-trajectory): the projected hidden state `traj` (sumT, 2 | 3) as one path per sequence.
//
// Options (the `traj_view` trait, filled and checked by ../traj3d.js; every change the user makes is written back):
//   2-D / 3-D   3-D (when traj has 3 columns) is an orthographic view of the data box rotated by yaw/pitch; drag to
//               rotate (a click without a drag still picks). Depth cue: far points and segments fainter and smaller.
//   colour      time: the current path by time step, the others faint in their class colour;
//               class / group: every path in its class / group colour, with a legend;
//               target / output: every point by its step's target (Explorer(..., targets=)) or a regression's
//               prediction, on a sequential map with a colour bar (the current path in full, the others faint).
//   log1p       sign(x)·log1p(|x|) of each coordinate.
//   labels      class names at the paths' last steps (with many sequences: at each class's mean last point), and
//               the current path's name; DOM text over the canvas (.lw-traj-label), never HTML.
//   last only   one point per sequence at its last step (a scatter).
//   overlay     two classes A and B in full colour, every other path dimmed.
// The projection itself (layer and quantity) is chosen with `projection_layer` / `projection_quantity`; the kernel
// refits and sends new traj, and until `_meta.projection` names the request the plot says "projecting…".
//
// Hover names sequence and step; click a point of the current path to jump to it, another path (or scatter point)
// to switch to that sequence. Repaint: the base layer (axes, every path, labels) is cached per data version,
// sequence, size, theme and view options (yaw/pitch in 3-D); a scrub only redraws the overlay (cursor, hover).
// The root carries `__lw_project(x, y[, z])`: a raw traj point -> {x, y} in CSS pixels from the top-left of the plot's
// canvas, as last drawn (log1p and 3-D rotation included; null before the first draw); tests use it to click points.
//
// Fixed points (`_fixed_points`, ../fixedpoints.js): drawn on the base layer through the same frame as the paths —
// stable ●, unstable ✕, slow ◆, each with its leading eigenvector as a short line — with a legend and a status line
// (.lw-fp-status: what they are, "computing…" while the kernel works, or why they are not drawn). The "fixed points"
// button asks the kernel for those of the current sequence's mean input (`fixed_points_request`). Hover names the
// point's kind, q and largest |λ|. The root's `data-fixed-points` lists the drawn points as [{i, kind, x, y}] in the
// canvas's CSS pixels.
//
// Many points (a data set's every step, or a window of more than RASTER_ROWS steps) go through ../pointraster.js: the
// paths are rasterised as 1-px lines into one ImageData per base draw (canvas 2-D strokes cost ~240 ms per million
// segments; the raster ~40 ms). A DatasetExplorer's `_dataset_traj` (../datasettraj.js) is drawn that way as the
// background layer, every sequence of the data set in its faint class colour, under the window's paths (same frame:
// the frame's bounds are the data set's). Hover over a background point (one clearly nearer than any window path's;
// the current path always first) names "sequence k (of the data set), step t" (root data-bg-hover = "k,t"); a click
// goes there (the pager's "go to": the window holding k, then sequence k). The
// points' `note` (why they are not sent) shows in one line (.lw-traj-note). Wheel zooms about the pointer, a 2-D drag
// pans, a double click resets (local to the page); while the view moves (drag, wheel, rotate) the raster draws every
// k-th sequence (data-stride, data-moving) and full detail ~150 ms after the motion stops; data-raster names what the
// raster drew ("dataset", "window"). Hover goes through a uniform grid of the
// projected points (built once per view change), so the nearest step is found in well under a millisecond.

import { categorical } from "../colormap.js";
import { projectionMismatch } from "../datasettraj.js";
import {
  describeFixedPoint,
  drawFixedPoints,
  FP_COLORS,
  FP_GLYPHS,
  FP_KINDS,
  fixedPointsPending,
  fixedPointsSummary,
  nearestFixedPoint,
  notDrawnReason,
  placeFixedPoints,
} from "../fixedpoints.js";
import { liveCapacity } from "../lod.js";
import { buildGrid, nearestPoint, packRGB, projectInto, rasterPaths } from "../pointraster.js";
import { font } from "../theme.js";
import {
  axisLines,
  axisTitle,
  className,
  colorPlan,
  depthFade,
  depthSize,
  dragRotation,
  effectiveView,
  fillView,
  frameBounds,
  lastRows,
  makeFrame,
  nearestRow,
  projectPoint,
  projectRows,
  timeColor,
  VALUE_MODES,
  valueBins,
  valueRange,
} from "../traj3d.js";
import { canRunModel } from "../why.js";
import { clipText, el, fillSelect, fmt, Legend, Plot, setText, titleSpans } from "./common.js";
import { datasetInfo } from "./pager.js";

/** A label on the plot shows at most this many characters of a name. */
const LABEL_CHARS = 40;

const PAD = 16;
const LABEL_ALL_MAX = 40; // label every path end up to this many sequences
const DRAG_SLOP_PX = 3; // a press that moves less is a click
const DEPTH_BINS = 4; // 3-D segments are stroked in this many depth bins (fainter when far)
const TIME_GRADIENT = "linear-gradient(to right, #440154, #3b528b, #21918c, #5ec962, #fde725)";
const VALUE_BINS = 32; // colour steps of the target / output colouring
// A window with more steps than this draws its other paths through the raster: canvas 2-D strokes cost ~0.24 µs a
// segment, so 100 k steps already take ~24 ms — more than a frame at 30 fps — while the raster stays ~4 ms there.
const RASTER_ROWS = 100000;
const MOVING_POINTS = 250000; // while the view moves, draw every k-th sequence: about this many points
const IDLE_MS = 150; // full detail this long after the last move
const BG_ALPHA = 28; // opacity each background path adds to a pixel (0..255) …
const BG_CAP = 120; // … up to this (the background stays faint under the window's paths)
const WIN_ALPHA = 90; // the window's other paths, rasterised
const ZOOM_MIN = 0.5;
const ZOOM_MAX = 200;

/** Sequence owning global row r (binary search in offsets). */
export function sequenceOfRow(offsets, n, r) {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= r) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Add rows r0 .. r1-1 of (xs, ys) to the current canvas path; a NaN point breaks the line. */
function tracePath(ctx, xs, ys, r0, r1) {
  let pen = false;
  for (let r = r0; r < r1; r++) {
    if (xs[r] !== xs[r] || ys[r] !== ys[r]) {
      pen = false;
      continue;
    }
    if (pen) ctx.lineTo(xs[r], ys[r]);
    else ctx.moveTo(xs[r], ys[r]);
    pen = true;
  }
}

/** Stroke rows r0 .. r1-1 as one line at opacity `alpha`; in 3-D the segments go in depth bins, far ones fainter. */
function strokeRows(ctx, P, r0, r1, alpha) {
  const { xs, ys, ds } = P;
  if (!ds) {
    ctx.globalAlpha = alpha;
    ctx.beginPath();
    tracePath(ctx, xs, ys, r0, r1);
    ctx.stroke();
    return;
  }
  for (let b = 0; b < DEPTH_BINS; b++) {
    ctx.globalAlpha = alpha * depthFade(-1 + (2 * b + 1) / DEPTH_BINS);
    ctx.beginPath();
    let pen = false;
    let any = false;
    for (let r = r0 + 1; r < r1; r++) {
      if (xs[r] !== xs[r] || xs[r - 1] !== xs[r - 1]) {
        pen = false;
        continue;
      }
      const d = (ds[r - 1] + ds[r]) / 2;
      const bin = Math.max(0, Math.min(DEPTH_BINS - 1, Math.floor(((d + 1) / 2) * DEPTH_BINS)));
      if (bin !== b) {
        pen = false;
        continue;
      }
      if (!pen) ctx.moveTo(xs[r - 1], ys[r - 1]);
      ctx.lineTo(xs[r], ys[r]);
      pen = any = true;
    }
    if (any) ctx.stroke();
  }
}

function dot(ctx, x, y, radius) {
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.fill();
}

const round4 = (v) => Math.round(v * 1e4) / 1e4;
const round1 = (v) => Math.round(v * 10) / 10;

function maxLength(lengths) {
  let m = 0;
  for (const n of lengths) if (n > m) m = n;
  return m;
}

/** The ring marking where the current path starts. */
function startRing(ctx, x, y, theme) {
  ctx.strokeStyle = theme.fg1;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(x, y, 4.5, 0, 2 * Math.PI);
  ctx.stroke();
}

export class TrajectoryView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    [this.title, this.sub] = titleSpans("Hidden-state trajectory");
    this.badge = el("span", { class: "lw-traj-badge", text: "projecting…", hidden: true });
    this.timeKey = el(
      "span",
      { class: "lw-time-key", title: "colour = time step of the current path" },
      el("span", { class: "lw-muted", text: "t = 0" }),
      el("span", { class: "lw-cb-bar lw-time-bar", style: { background: TIME_GRADIENT } }),
      el("span", { class: "lw-muted lw-time-end" }),
    );

    // ---- controls ------------------------------------------------------------------------------------------------
    const seg = (dims, text) =>
      el("button", {
        type: "button",
        class: "lw-seg-btn",
        "data-dims": String(dims),
        "aria-pressed": "false",
        text,
        onclick: () => this.setView({ dims }),
      });
    this.dimButtons = { 2: seg(2, "2-D"), 3: seg(3, "3-D") };
    this.colorSel = el(
      "select",
      {
        "aria-label": "Colour paths by",
        title:
          "colour paths by time step, class, a group passed as Explorer(..., groups=...), the target of each step " +
          "(Explorer(..., targets=...)) or a regression's prediction",
      },
      el("option", { value: "time", text: "time step" }),
      el("option", { value: "class", text: "class" }),
      el("option", { value: "group", text: "group" }),
      el("option", { value: "target", text: "target" }),
      el("option", { value: "output", text: "prediction" }),
    );
    this.colorSel.addEventListener("change", () => this.setView({ color: this.colorSel.value }));
    const check = (key, text, title) => {
      const input = el("input", { type: "checkbox", "aria-label": title, "data-key": key });
      input.addEventListener("change", () => this.setView({ [key]: input.checked }));
      return { input, label: el("label", { title }, input, el("span", { text })) };
    };
    this.checks = {
      log1p: check("log1p", "log1p", "signed log1p of the coordinates: sign(x)·log(1 + |x|)"),
      labels: check("labels", "labels", "class names at the last steps"),
      last_only: check("last_only", "last step", "only each sequence's last step (a scatter)"),
    };
    this.ovA = el("select", { "aria-label": "Overlay class A", title: "overlay two classes: A" });
    this.ovB = el("select", { "aria-label": "Overlay class B", title: "overlay two classes: B" });
    this.ovPending = null; // a half-made overlay choice [a|null, b|null] (the trait takes two different classes or none)
    for (const sel of [this.ovA, this.ovB]) sel.addEventListener("change", () => this.onOverlay());
    this.projLayer = el("select", { "aria-label": "Projected layer", title: "layer whose states are projected" });
    this.projQ = el("select", { "aria-label": "Projected quantity", title: "quantity whose states are projected" });
    this.projLayer.addEventListener("change", () => store.set({ projection_layer: Number(this.projLayer.value) }));
    this.projQ.addEventListener("change", () => store.set({ projection_quantity: this.projQ.value }));
    this.fpButton = el("button", {
      type: "button",
      class: "lw-btn lw-fp-button",
      text: "fixed points",
      title: "find the fixed points of the current sequence's mean input (the kernel runs lstm_widget.fixed_points)",
      onclick: () => this.requestFixedPoints(),
    });
    this.ovWrap = el(
      "label",
      { title: "draw two classes in full colour, the rest dimmed" },
      el("span", { text: "overlay" }),
      this.ovA,
      el("span", { text: "vs" }),
      this.ovB,
    );
    this.controls = el(
      "div",
      { class: "lw-traj-controls" },
      el(
        "span",
        { class: "lw-seg", role: "group", "aria-label": "Dimensions" },
        this.dimButtons[2],
        this.dimButtons[3],
      ),
      el("label", {}, el("span", { text: "colour" }), this.colorSel),
      this.checks.log1p.label,
      this.checks.labels.label,
      this.checks.last_only.label,
      this.ovWrap,
      el(
        "label",
        { title: "what is projected (the kernel refits the projection)" },
        el("span", { text: "project" }),
        this.projQ,
        el("span", { text: "of" }),
        this.projLayer,
      ),
      this.fpButton,
    );
    this.fpStatus = el("span", { class: "lw-fp-status lw-muted" });
    this.fpLegend = el(
      "span",
      { class: "lw-fp-legend" },
      ...FP_KINDS.map((k) =>
        el(
          "span",
          { class: "lw-fp-key", "data-kind": k },
          el("span", { class: "lw-fp-glyph", text: FP_GLYPHS[k], style: { color: FP_COLORS[k] || "" } }),
          el("span", { text: k }),
        ),
      ),
    );
    this.fpBar = el("div", { class: "lw-fp-bar", hidden: true }, this.fpStatus, this.fpLegend);
    this.bgNote = el("div", { class: "lw-traj-note lw-muted", hidden: true });
    this.legendHost = el("div", { class: "lw-traj-legend", hidden: true });
    this.legendTitle = el("span", { class: "lw-muted" });
    this.legendHost.append(this.legendTitle);
    this.legend = new Legend(this.legendHost, { max: 24 });

    this.body = el("div", { class: "lw-body" });
    this.message = el("div", { class: "lw-message" });
    this.el = el(
      "div",
      { class: "lw-trajectory lw-view lw-card", "data-t": "0" },
      el(
        "div",
        { class: "lw-head" },
        el("span", { class: "lw-titles" }, this.title, this.sub, this.badge),
        this.timeKey,
      ),
      this.controls,
      this.legendHost,
      this.fpBar,
      this.bgNote,
      this.body,
    );
    this.plot = new Plot(this.body, { height: 300 });
    this.labelLayer = el("div", { class: "lw-traj-labels", "aria-hidden": "true" });
    this.plot.wrap.append(this.labelLayer);
    this.body.append(this.message);
    this.sizeTarget = this.body;

    this.baseKey = null;
    this.frame = null; // data -> CSS pixels, as last drawn
    this.P = null; // {xs, ys, ds} of every row, as last drawn
    this.last = null; // last finite row per sequence
    this.plan = null; // colours per sequence
    this.eff = null; // the view options as drawn
    this.capsVersion = -1;
    this.caps = null;
    this.fpPlaced = []; // the fixed points as drawn: [{i, kind, x, y, d, ax, ay, bx, by}]
    this.zoom = { zoom: 1, tx: 0, ty: 0 }; // wheel zoom / drag pan after the frame (CSS px), local to the page
    this.moving = false; // a drag / wheel / rotation in progress: the raster draws every k-th sequence
    this.idleTimer = 0;
    this.bg = null; // the data set's points as drawn: {dt, xy: {xs, ys}, grid}
    this.bgHover = null; // {k, t, row} of the hovered background point
    this.cache = {}; // bounds, projected background points, colours, the raster buffer (see drawBase)
    this.winGrid = null; // grid of the window's points (when rasterised)
    // the axis titles drawn on the canvas, [x0, y0, x1, y1] in CSS px of the plot (tests check labels against them)
    this.el.__lw_axis_titles = () => (this.axisBoxes || []).map((b) => b.slice());
    this.el.__lw_project = (x, y, z = 0) => {
      if (!this.frame) return null;
      const p = projectPoint(this.frame, x, y, z);
      return { x: p.x, y: p.y };
    };
    this.attachPointer();
  }

  resize(width) {
    const h = Math.round(Math.max(220, Math.min(420, width * 0.85)));
    const changedH = this.plot.setHeight(h);
    if (this.plot.resize(width) || changedH) this.baseKey = null;
  }

  /** The "fixed points" button: ask the kernel for those of the current sequence's mean input at the projected row. */
  requestFixedPoints() {
    const { store } = this.ctx;
    const snap = store.snapshot();
    const layer = snap.projection_layer ?? store.meta.projection?.layer;
    store.set({
      fixed_points_request: layer == null ? { sequence: snap.sequence } : { sequence: snap.sequence, layer },
    });
  }

  /** The button, the status line and the legend (per frame; text set only when it changes). */
  updateFixedPoints(snap, fp, proj) {
    const can = canRunModel(this.ctx);
    const pending = fixedPointsPending(snap.fixed_points_request, fp);
    if (this.fpButton.disabled !== (!can || pending)) this.fpButton.disabled = !can || pending;
    const title = can
      ? "find the fixed points of the current sequence's mean input (the kernel runs lstm_widget.fixed_points)"
      : this.ctx.offline
        ? "no kernel here to find fixed points"
        : "fixed points need the model: this explorer was made from recordings";
    if (this.fpButton.title !== title) this.fpButton.title = title;
    const reason = notDrawnReason(fp, proj);
    let text = "";
    if (pending) text = "computing fixed points…";
    else if (reason) text = reason;
    else if (fp) text = fixedPointsSummary(fp);
    this.fpBar.hidden = !text;
    setText(this.fpStatus, text);
    this.fpStatus.classList.toggle("lw-fp-error", Boolean(reason) && !pending);
    this.fpLegend.hidden = pending || Boolean(reason) || !fp || fp.n === 0;
    for (const node of this.fpLegend.children) node.hidden = !fp?.counts[node.dataset.kind];
    this.el.dataset.fpState = pending ? "computing" : reason ? "not-drawn" : fp ? "drawn" : "none";
  }

  /** Change some view options (a page action: written to `traj_view`). */
  setView(patch) {
    const { store } = this.ctx;
    store.set({ traj_view: { ...fillView(store.state.traj_view), ...patch } });
  }

  onOverlay() {
    const val = (sel) => (sel.value === "" ? null : Number(sel.value));
    const a = val(this.ovA);
    const b = val(this.ovB);
    if (a != null && b != null && a !== b) {
      this.ovPending = null;
      this.setView({ overlay: [a, b] });
      return;
    }
    this.ovPending = [a, b];
    if (fillView(this.ctx.store.state.traj_view).overlay.length) this.setView({ overlay: [] });
  }

  /** What the data allows: traj columns, groups, labels, classes (recomputed per data version). */
  capabilities(all) {
    const { store } = this.ctx;
    const cols = all ? all.cols : 0;
    if (this.capsVersion === store.version && this.caps && this.caps.cols === cols) return this.caps;
    const meta = store.meta;
    let maxLabel = -1;
    for (const l of meta.labels) if (l != null && l > maxLabel) maxLabel = l;
    this.caps = {
      cols,
      hasGroups: Boolean(meta.groups),
      labelled: maxLabel >= 0,
      nClasses: Math.max(meta.class_names ? meta.class_names.length : 0, maxLabel + 1),
      hasTargets: store.has("targets"),
      hasOutputs: store.has("outputs") && meta.task === "regression",
    };
    this.capsVersion = store.version;
    return this.caps;
  }

  /** The values a "target" / "output" colouring goes by — the first column of `targets` or `outputs` over every
   * step — with their range and colour bin per row (cached per data version), or null when the page has none. */
  valuesOf(mode) {
    const { store } = this.ctx;
    const name = mode === "target" ? "targets" : "outputs";
    const key = `${store.version}|${name}`;
    if (this.valuesCache?.key === key) return this.valuesCache.value;
    const block = store.all(name, 0);
    let value = null;
    if (block && block.rows > 0) {
      const [lo, hi] = valueRange(block.data, block.rows, block.cols, 0);
      const bins = valueBins(block.data, block.rows, block.cols, 0, lo, hi, VALUE_BINS);
      value = { name: mode === "target" ? "target" : "prediction", lo, hi, bins };
    }
    this.valuesCache = { key, value };
    return value;
  }

  /** The colour of row r in the target / output colouring (null without a value there). */
  valueColor(r) {
    const b = this.values ? this.values.bins[r] : -1;
    return b >= 0 ? timeColor((b + 0.5) / VALUE_BINS) : null;
  }

  /** Pointer: hover names the point, click picks it, drag (3-D) rotates. */
  pick(x, y) {
    const { store } = this.ctx;
    if (!this.P) return null;
    const { xs, ys, ds } = this.P;
    const meta = store.meta;
    const total = meta.offsets[meta.n_sequences];
    const hit = (r) => {
      const s = sequenceOfRow(meta.offsets, meta.n_sequences, r);
      return { row: r, sequence: s, t: r - meta.offsets[s] };
    };
    let r;
    if (this.eff?.last_only) r = nearestRow(xs, ys, x, y, { rows: this.last, maxDist: 10, ds });
    else {
      const snap = store.snapshot();
      const o0 = meta.offsets[snap.sequence] ?? 0;
      const o1 = meta.offsets[snap.sequence + 1] ?? o0;
      r = nearestRow(xs, ys, x, y, { from: o0, to: o1, maxDist: 8, ds });
      if (r >= 0 && r < total) return hit(r); // the current path first
      if (this.winRaster) {
        this.winGrid ||= buildGrid(xs, ys, xs.length, this.plot.width, this.plot.height);
        r = nearestPoint(this.winGrid, x, y, 10);
      } else r = nearestRow(xs, ys, x, y, { maxDist: 10, ds });
    }
    if (r >= total) r = -1;
    // Another window path, or the data set behind it: the data set's step when it is clearly nearer (by 2 px; the
    // window's own steps are among the data set's, so on a window path the window wins)
    const b = this.pickBackground(x, y);
    if (b && (r < 0 || b.dist + 2 < Math.hypot(xs[r] - x, ys[r] - y))) return b;
    return r < 0 ? null : hit(r);
  }

  /** The data set's step nearest to (x, y) within 10 px: {bg: true, row, k (data-set sequence), t, dist}, or null. */
  pickBackground(x, y) {
    const bg = this.bg;
    if (!bg || bg.partial) return null;
    bg.grid ||= buildGrid(bg.xy.xs, bg.xy.ys, bg.dt.rows, this.plot.width, this.plot.height);
    const row = nearestPoint(bg.grid, x, y, 10);
    if (row < 0) return null;
    const k = sequenceOfRow(bg.dt.offsets, bg.dt.n, row);
    const dist = Math.hypot(bg.xy.xs[row] - x, bg.xy.ys[row] - y);
    return { bg: true, row, k, t: row - bg.dt.offsets[k], dist };
  }

  /** Repaint without a change of state (zoom, the end of a motion, a background hover). */
  repaint() {
    this.ctx.store.notify(new Set(["trajectory"]), "ui");
  }

  /** The view is moving (drag, wheel, rotation): coarse raster now, full detail IDLE_MS after the last move. */
  motion() {
    this.moving = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.moving = false;
      this.repaint();
    }, IDLE_MS);
  }

  /** Set the zoom / pan (clamped) and repaint. */
  setZoom(zoom, tx, ty) {
    const z = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, zoom));
    this.zoom = { zoom: z, tx, ty };
    this.repaint();
  }

  /** Go to the data set's sequence k at step t: inside the window, select it; else the pager loads k's window. */
  goToDataset(k, t) {
    const { store } = this.ctx;
    const d = datasetInfo(store.meta.dataset);
    if (!d) return;
    const local = k - d.start;
    if (local >= 0 && local < store.meta.n_sequences) store.set({ sequence: local, t });
    else this.ctx.datasetGoTo?.(k);
  }

  attachPointer() {
    const { store, tooltip } = this.ctx;
    const target = this.plot.overlay;
    let drag = null; // {id, x, y, yaw, pitch, moved} (3-D: rotate) or {pan: true, id, x, y, tx, ty, moved} (2-D)
    let swallowClick = false;
    const idleCursor = () => (this.eff && this.eff.dims === 3 ? "grab" : "");
    const hover = (ev) => {
      const { x, y } = this.plot.point(ev);
      const hadBg = this.bgHover;
      this.bgHover = null;
      const k = nearestFixedPoint(this.fpPlaced, x, y);
      if (k >= 0) {
        target.style.cursor = "default";
        tooltip.show(ev.clientX, ev.clientY, describeFixedPoint(this.fp, this.fpPlaced[k].i));
        store.set({ hover: null });
        return;
      }
      const p = this.pick(x, y);
      const meta = store.meta;
      if (p?.bg) {
        target.style.cursor = "pointer";
        this.bgHover = p;
        this.el.dataset.bgHover = `${p.k},${p.t}`;
        tooltip.show(ev.clientX, ev.clientY, `sequence ${p.k} (of the data set), step ${p.t}`);
        store.set({ hover: null });
        this.repaint();
        return;
      }
      if (this.el.dataset.bgHover) this.el.dataset.bgHover = "";
      if (hadBg) this.repaint();
      if (!p) {
        tooltip.hide();
        store.set({ hover: null });
        target.style.cursor = idleCursor();
        return;
      }
      target.style.cursor = "pointer";
      const label = meta.labels[p.sequence];
      const cls = label != null ? ` (${className(meta.class_names, label)})` : "";
      const g = meta.groups && this.eff && this.eff.color === "group" ? meta.groups.values[p.sequence] : null;
      const grp = g != null ? ` · ${meta.groups.name} ${g}` : "";
      tooltip.show(ev.clientX, ev.clientY, `${meta.sequence_names[p.sequence]}${cls}${grp} · t ${p.t}`);
      store.set({ hover: { sequence: p.sequence, t: p.t, unit: null, view: "trajectory" } });
    };
    target.addEventListener("pointerdown", (ev) => {
      swallowClick = false;
      if (ev.button !== 0 || !this.eff) return;
      if (this.eff.dims === 3) {
        drag = {
          id: ev.pointerId,
          x: ev.clientX,
          y: ev.clientY,
          yaw: this.eff.yaw,
          pitch: this.eff.pitch,
          moved: false,
        };
      } else {
        drag = { pan: true, id: ev.pointerId, x: ev.clientX, y: ev.clientY, ...this.zoom, moved: false };
      }
      target.setPointerCapture?.(ev.pointerId);
    });
    target.addEventListener("pointermove", (ev) => {
      if (drag && ev.pointerId === drag.id) {
        const dx = ev.clientX - drag.x;
        const dy = ev.clientY - drag.y;
        if (!drag.moved && dx * dx + dy * dy < DRAG_SLOP_PX * DRAG_SLOP_PX) return;
        if (!drag.moved) {
          drag.moved = true;
          tooltip.hide();
          store.set({ hover: null });
          this.bgHover = null;
          target.style.cursor = "grabbing";
        }
        this.motion();
        if (drag.pan) {
          this.setZoom(drag.zoom, drag.tx + dx, drag.ty + dy);
          return;
        }
        const { yaw, pitch } = dragRotation(drag.yaw, drag.pitch, dx, dy);
        this.setView({ yaw: round4(yaw), pitch: round4(pitch) });
        return;
      }
      hover(ev);
    });
    const end = (ev) => {
      if (!drag || ev.pointerId !== drag.id) return;
      if (drag.moved && ev.type === "pointerup") swallowClick = true; // the click that ends a drag picks nothing
      drag = null;
      target.releasePointerCapture?.(ev.pointerId);
      target.style.cursor = idleCursor();
      if (this.moving) this.motion(); // full detail IDLE_MS after the release
    };
    // Wheel: zoom about the pointer (both 2-D and 3-D); a double click resets the zoom and pan.
    target.addEventListener(
      "wheel",
      (ev) => {
        if (!this.eff) return;
        ev.preventDefault();
        const { x, y } = this.plot.point(ev);
        const { zoom, tx, ty } = this.zoom;
        const dy = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
        const z = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, zoom * Math.exp(-dy * 0.002)));
        const f = z / zoom;
        this.motion();
        this.setZoom(z, x - (x - tx) * f, y - (y - ty) * f);
      },
      { passive: false },
    );
    target.addEventListener("dblclick", () => this.setZoom(1, 0, 0));
    target.addEventListener("pointerup", end);
    target.addEventListener("pointercancel", end);
    target.addEventListener("pointerleave", () => {
      if (drag) return;
      tooltip.hide();
      store.set({ hover: null });
      if (this.bgHover) {
        this.bgHover = null;
        this.el.dataset.bgHover = "";
        this.repaint();
      }
    });
    target.addEventListener("click", (ev) => {
      if (swallowClick) {
        swallowClick = false;
        return;
      }
      const { x, y } = this.plot.point(ev);
      const p = this.pick(x, y);
      if (!p) return;
      if (p.bg) {
        this.goToDataset(p.k, p.t);
        return;
      }
      const snap = store.snapshot();
      if (p.sequence === snap.sequence) store.set({ t: p.t });
      else store.set({ sequence: p.sequence }); // t kept, clamped to the new sequence
    });
  }

  // ---- per frame -----------------------------------------------------------------------------------------------
  render({ snap, theme, themeChanged }) {
    const { store } = this.ctx;
    const meta = store.meta;
    const all = store.all("traj", 0);
    const has = Boolean(all && all.rows > 0 && all.cols >= 2);
    const caps = this.capabilities(all);
    const view = fillView(snap.traj_view);
    const eff = effectiveView(view, caps);
    this.eff = eff;
    const proj = meta.projection || {};
    const pname = proj.name || "projection";
    const projLayer = snap.projection_layer ?? proj.layer;
    const projQ = snap.projection_quantity ?? proj.quantity ?? "h";
    const pending =
      (snap.projection_layer != null && proj.layer != null && snap.projection_layer !== proj.layer) ||
      (snap.projection_quantity != null && proj.quantity != null && snap.projection_quantity !== proj.quantity);
    this.updateControls(view, eff, caps, snap, projLayer, projQ);
    const fp = store.aux("_fixed_points");
    this.updateFixedPoints(snap, fp, meta.projection);
    this.fp = notDrawnReason(fp, meta.projection) ? null : fp;
    // The data set's points (a DatasetExplorer): drawn when they are for this projection and dimension.
    const dt = store.aux("_dataset_traj");
    let bgText = dt?.note || "";
    let bgOn = Boolean(dt?.points && dt.n > 0 && datasetInfo(meta.dataset));
    const mismatch = projectionMismatch(dt, meta.projection);
    if (bgOn && mismatch) [bgOn, bgText] = [false, bgText || mismatch];
    if (bgOn && eff.dims === 3 && dt.dims < 3) {
      [bgOn, bgText] = [false, bgText || "the data set's points have 2 components: drawn in 2-D only"];
    }
    if (this.bgNote.hidden !== !bgText) this.bgNote.hidden = !bgText;
    setText(this.bgNote, bgText);
    if (this.bgNote.title !== bgText) this.bgNote.title = bgText;

    setText(
      this.sub,
      all
        ? `${pname} of ${proj.quantity || "h"}${proj.layer != null ? ` · ${store.layerName(proj.layer)}` : ""} · ${meta.n_sequences} sequence${meta.n_sequences === 1 ? "" : "s"}`
        : "",
    );
    this.badge.hidden = !pending;
    this.body.classList.toggle("lw-pending", pending);
    // What is drawn, for tests and debugging: data-dims, data-color, data-pending, data-view (the effective options).
    this.el.dataset.dims = String(eff.dims);
    this.el.dataset.color = eff.color;
    this.el.dataset.pending = pending ? "true" : "false";
    const viewText = JSON.stringify(eff);
    if (this.el.dataset.view !== viewText) this.el.dataset.view = viewText;

    const timeMode = eff.color === "time" && eff.overlay.length !== 2;
    this.values = has && VALUE_MODES.includes(eff.color) && eff.overlay.length !== 2 ? this.valuesOf(eff.color) : null;
    // A streaming sequence shown as a path (not the last steps only, no overlay, not coloured by value): the other
    // paths stay as drawn and each repaint adds the appended steps' segments of the current one, their time colours
    // on a fixed capacity of steps (liveCapacity), while the projected points stay inside the frame.
    const live =
      has &&
      store.isProvisional(snap.sequence) &&
      !eff.last_only &&
      eff.overlay.length !== 2 &&
      !this.values &&
      snap.T === store.length(snap.sequence);
    this.liveCap = live ? liveCapacity(snap.T) : 0;
    this.timeKey.hidden = !timeMode && !this.values;
    if (this.values) {
      const v = this.values;
      setText(this.timeKey.firstChild, fmt(v.lo));
      setText(this.timeKey.lastChild, fmt(v.hi));
      this.timeKey.title = `colour = ${v.name} at each step (${fmt(v.lo)} … ${fmt(v.hi)})`;
    } else if (timeMode) {
      setText(this.timeKey.firstChild, "t = 0");
      let end = Math.max(0, (this.liveCap || snap.T) - 1);
      if (eff.last_only) end = maxLength(meta.lengths) - 1;
      setText(this.timeKey.lastChild, String(Math.max(0, end)));
      this.timeKey.title = eff.last_only
        ? "colour = each sequence's last step"
        : "colour = time step of the current path";
    }

    this.message.hidden = has;
    if (!has) setText(this.message, all ? "no steps recorded yet" : "no projection recorded");
    const liveHead = () => `live ${store.drawVersion(snap.sequence)} ${this.liveCap} ${this.liveGen || 0}`;
    const head = live ? liveHead() : String(store.version);
    let key = has
      ? [
          head,
          snap.sequence,
          this.plot.width,
          this.plot.height,
          theme.key,
          eff.dims,
          eff.color,
          eff.log1p,
          eff.labels,
          eff.last_only,
          eff.overlay.join(","),
          eff.dims === 3 ? `${eff.yaw},${eff.pitch}` : "",
          (proj.explained || []).join(","),
          pname,
          store.auxVersion("_fixed_points"),
          this.fp ? 1 : 0,
          bgOn ? store.auxVersion("_dataset_traj") : 0,
          `${this.zoom.zoom},${this.zoom.tx},${this.zoom.ty}`,
          this.moving ? 1 : 0,
        ].join("|")
      : `empty|${this.plot.width}|${theme.key}`;
    if (live && key === this.baseKey && !themeChanged && snap.T > this.drawnT && !this.appendPath(snap, theme, all)) {
      // an appended point left the frame: everything again, on a frame that holds it
      this.liveGen = (this.liveGen || 0) + 1;
      key = liveHead() + key.slice(head.length);
    }
    if (key !== this.baseKey || themeChanged) {
      this.baseKey = key;
      this.drawnT = snap.T;
      const ctx = this.plot.begin(this.plot.bctx);
      this.frame = null;
      this.P = null;
      this.plan = null;
      this.fpPlaced = [];
      this.bg = null;
      this.winGrid = null;
      const t0 = performance.now();
      if (has) this.drawBase(ctx, snap, theme, all, eff, pname, proj.explained, bgOn ? dt : null);
      else {
        this.labelLayer.replaceChildren();
        this.legendHost.hidden = true;
        this.el.dataset.fixedPoints = "[]";
      }
      // what drawing the base layer took, and how many times it was drawn (benchmarks/bench_trajectory.py reads them)
      this.el.dataset.baseMs = (performance.now() - t0).toFixed(2);
      this.el.dataset.baseDraws = String(Number(this.el.dataset.baseDraws || 0) + 1);
    }
    const octx = this.plot.begin(this.plot.octx);
    if (has && this.P) this.drawOverlay(octx, snap, theme, eff);
    this.el.dataset.t = String(snap.t);
  }

  updateControls(view, eff, caps, snap, projLayer, projQ) {
    const { store } = this.ctx;
    const meta = store.meta;
    for (const d of [2, 3]) {
      const b = this.dimButtons[d];
      const on = eff.dims === d;
      if (b.getAttribute("aria-pressed") !== String(on)) b.setAttribute("aria-pressed", String(on));
    }
    const b3 = this.dimButtons[3];
    const no3 = caps.cols < 3;
    if (b3.disabled !== no3) {
      b3.disabled = no3;
      b3.title = no3
        ? `3-D needs a projection with 3 components; this one has ${caps.cols || "no"} column${caps.cols === 1 ? "" : "s"} (e.g. projection=PCA(n_components=3))`
        : "3-D: drag the plot to rotate";
    }
    this.dimButtons[2].title = "2-D: components 1 and 2";
    if (this.colorSel.value !== eff.color) this.colorSel.value = eff.color;
    const gOpt = this.colorSel.options[2];
    const gText = caps.hasGroups ? clipText(meta.groups.name) : "group (none given)";
    if (gOpt.textContent !== gText) gOpt.textContent = gText;
    if (gOpt.disabled === caps.hasGroups) gOpt.disabled = !caps.hasGroups;
    const cOpt = this.colorSel.options[1];
    if (cOpt.disabled === caps.labelled) cOpt.disabled = !caps.labelled;
    const tOpt = this.colorSel.options[3];
    tOpt.hidden = !caps.hasTargets; // offered only where there is something to colour by
    tOpt.disabled = !caps.hasTargets;
    const oOpt = this.colorSel.options[4];
    oOpt.hidden = !caps.hasOutputs;
    oOpt.disabled = !caps.hasOutputs;
    for (const k of ["log1p", "labels", "last_only"]) {
      const input = this.checks[k].input;
      if (input.checked !== view[k]) input.checked = view[k];
    }
    // Selects: rebuilt only when what they show changes (not on every scrub frame).
    const selKey = [
      store.version,
      eff.overlay.join(),
      String(this.ovPending),
      projLayer,
      projQ,
      this.ctx.offline,
      snap.projection_layer,
      snap.projection_quantity,
      caps.nClasses,
    ].join("|");
    if (selKey === this.selKey) return;
    this.selKey = selKey;
    // Overlay: the classes present (or named).
    const classes = [["", "—"]];
    for (let l = 0; l < caps.nClasses; l++) classes.push([l, className(meta.class_names, l)]);
    const chosen = eff.overlay.length === 2 ? eff.overlay : this.ovPending || [null, null];
    if (eff.overlay.length === 2) this.ovPending = null;
    fillSelect(this.ovA, classes, chosen[0] ?? "");
    fillSelect(this.ovB, classes, chosen[1] ?? "");
    this.ovWrap.hidden = !caps.labelled;
    // Projection choice.
    const nL = Math.max(meta.layer_names.length, 1);
    fillSelect(
      this.projLayer,
      Array.from({ length: nL }, (_, l) => [l, store.layerName(l)]),
      projLayer ?? "",
    );
    fillSelect(
      this.projQ,
      meta.quantities.map((q) => [q, q]),
      projQ,
    );
    const canProject = !this.ctx.offline && (snap.projection_layer != null || snap.projection_quantity != null);
    for (const sel of [this.projLayer, this.projQ]) {
      if (sel.disabled === canProject) {
        sel.disabled = !canProject;
        sel.title = canProject
          ? `${sel.getAttribute("aria-label").toLowerCase()} (the kernel refits the projection)`
          : this.ctx.offline
            ? "no kernel here to refit the projection"
            : "the kernel does not offer another projection";
      }
    }
  }

  // ---- base layer ----------------------------------------------------------------------------------------------
  drawBase(ctx, snap, theme, all, eff, pname, explained, dt) {
    const { store } = this.ctx;
    const meta = store.meta;
    const W = this.plot.width;
    const H = this.plot.height;
    const frame = makeFrame(all.data, all.rows, all.cols, {
      dims: eff.dims,
      log: eff.log1p,
      yaw: eff.yaw,
      pitch: eff.pitch,
      W,
      H,
      pad: PAD,
      zoom: this.zoom,
      bounds: this.boundsFor(all, dt, eff),
    });
    const P = projectRows(frame, all.data, all.rows, all.cols);
    this.frame = frame;
    this.P = P;
    this.last = lastRows(meta.offsets, meta.n_sequences, P.xs);
    const plan = colorPlan(
      eff.color,
      { n: meta.n_sequences, labels: meta.labels, classNames: meta.class_names, groups: meta.groups },
      { dark: theme.dark, overlay: eff.overlay },
    );
    this.plan = plan;

    // The raster layer (data set's points, a big window's paths): one ImageData put before anything else is drawn.
    this.winRaster = !eff.last_only && all.rows > RASTER_ROWS;
    let stride = 1;
    const parts = [0, 0, 0]; // ms: projecting, rasterising, putting the image (data-raster-ms; the benchmark prints it)
    if (dt || this.winRaster) {
      const BW = this.plot.base.width;
      const BH = this.plot.base.height;
      if (!this.cache.img || this.cache.img.width !== BW || this.cache.img.height !== BH) {
        this.cache.img = new ImageData(BW, BH);
        this.cache.buf = new Uint32Array(this.cache.img.data.buffer);
      }
      const buf = this.cache.buf;
      buf.fill(0);
      const scale = this.plot.dpr;
      if (dt) {
        stride = this.moving ? Math.max(1, Math.ceil(dt.rows / MOVING_POINTS)) : 1;
        // while moving only the drawn sequences are projected (the hover index waits for the full-detail draw)
        const only = { offsets: dt.offsets, n: dt.n, stride };
        let t = performance.now();
        const xy = projectInto(frame, dt.points, dt.rows, dt.dims, this.cache.bgXY, only);
        this.cache.bgXY = xy;
        const colors = this.backgroundColors(dt, theme);
        parts[0] += performance.now() - t;
        t = performance.now();
        rasterPaths(buf, BW, BH, xy.xs, xy.ys, dt.offsets, dt.n, colors, {
          alpha: BG_ALPHA,
          cap: BG_CAP,
          stride,
          scale,
        });
        parts[1] += performance.now() - t;
        this.bg = { dt, xy, grid: null, partial: stride > 1 };
      }
      if (this.winRaster) {
        const k = this.moving ? Math.max(1, Math.ceil(all.rows / MOVING_POINTS)) : 1;
        const colors = this.windowColors(snap.sequence, theme, plan);
        const t = performance.now();
        rasterPaths(buf, BW, BH, P.xs, P.ys, meta.offsets, meta.n_sequences, colors, {
          alpha: WIN_ALPHA,
          cap: 230,
          stride: k,
          scale,
        });
        stride = Math.max(stride, k);
        parts[1] += performance.now() - t;
      }
      const t = performance.now();
      ctx.putImageData(this.cache.img, 0, 0);
      parts[2] = performance.now() - t;
    }
    this.el.dataset.rasterMs = parts.map((v) => v.toFixed(1)).join(",");
    this.el.dataset.stride = String(stride);
    this.el.dataset.moving = String(this.moving);
    this.el.dataset.raster = [dt ? "dataset" : "", this.winRaster ? "window" : ""].filter(Boolean).join(" ");
    this.el.dataset.background = dt ? String(dt.n) : "";
    if (this.bg && !this.moving) {
      // the hover index, built when the view has settled (a hover before then builds it itself)
      const bg = this.bg;
      setTimeout(() => {
        if (this.bg === bg && !bg.grid) bg.grid = buildGrid(bg.xy.xs, bg.xy.ys, bg.dt.rows, W, H);
      }, 0);
    }

    this.drawAxes(ctx, frame, theme, pname, explained, eff.log1p);
    if (eff.last_only) this.drawScatter(ctx, snap, theme, eff, plan);
    else this.drawPaths(ctx, snap, theme, eff, plan);
    this.fpPlaced = placeFixedPoints(this.fp, frame);
    drawFixedPoints(ctx, this.fpPlaced, theme, { depthFade: frame.dims === 3 ? depthFade : null });
    const drawn = this.fpPlaced.map((p) => ({ i: p.i, kind: p.kind, x: round1(p.x), y: round1(p.y) }));
    this.el.dataset.fixedPoints = JSON.stringify(drawn);
    this.placeLabels(ctx, snap, theme, eff, plan);

    // Legend: classes, groups, or the overlaid pair.
    const overlay = eff.overlay.length === 2;
    const items = overlay || eff.color !== "time" ? plan.legend : [];
    this.legendHost.hidden = items.length === 0;
    setText(
      this.legendTitle,
      overlay
        ? "overlay"
        : eff.color === "group" && meta.groups
          ? clipText(meta.groups.name)
          : eff.color === "class"
            ? "class"
            : "",
    );
    this.legend.update(items, { extra: overlay ? "others dimmed" : "" });
  }

  /** Frame bounds (makeFrame's `bounds`) of the data set's points when drawn, else of the window's (cached). */
  boundsFor(all, dt, eff) {
    const { store } = this.ctx;
    const key = dt
      ? `bg|${store.auxVersion("_dataset_traj")}|${eff.dims}|${eff.log1p}`
      : `win|${store.version}|${all.rows}|${all.cols}|${eff.dims}|${eff.log1p}`;
    if (this.cache.boundsKey !== key) {
      const opts = { dims: eff.dims, log: eff.log1p };
      this.cache.bounds = dt
        ? frameBounds(dt.points, dt.rows, dt.dims, opts)
        : frameBounds(all.data, all.rows, all.cols, opts);
      this.cache.boundsKey = key;
    }
    return this.cache.bounds;
  }

  /** The data set's sequences' colours (0x00BBGGRR): the class colour, grey without a class (cached). */
  backgroundColors(dt, theme) {
    const key = `${this.ctx.store.auxVersion("_dataset_traj")}|${theme.dark}`;
    if (this.cache.bgColorsKey === key) return this.cache.bgColors;
    const grey = packRGB(theme.dark ? "#9e9e9e" : "#757575");
    const byClass = new Map();
    const colors = new Uint32Array(dt.n);
    for (let s = 0; s < dt.n; s++) {
      const l = dt.classes ? dt.classes[s] : -1;
      if (l < 0) {
        colors[s] = grey;
        continue;
      }
      if (!byClass.has(l)) {
        const c = packRGB(categorical(l, theme.dark));
        byClass.set(l, c < 0 ? grey : c);
      }
      colors[s] = byClass.get(l);
    }
    this.cache.bgColors = colors;
    this.cache.bgColorsKey = key;
    return colors;
  }

  /** The window's paths' colours for the raster: the plan's colour, grey when dimmed, the current one left out (it
   * is stroked on top). Target / output colouring goes by path here (the raster has one colour per path). */
  windowColors(cur, theme, plan) {
    const n = plan.colors.length;
    const colors = new Uint32Array(n);
    const grey = packRGB(theme.dark ? "#9e9e9e" : "#757575");
    const memo = new Map();
    for (let s = 0; s < n; s++) {
      const c = plan.colors[s];
      if (s === cur) colors[s] = 0xffffffff;
      else if (plan.dim[s] || c == null) colors[s] = grey;
      else {
        if (!memo.has(c)) memo.set(c, packRGB(c));
        const v = memo.get(c);
        colors[s] = v < 0 ? grey : v;
      }
    }
    return colors;
  }

  drawAxes(ctx, frame, theme, pname, explained, log) {
    const W = this.plot.width;
    const H = this.plot.height;
    const suffix = log ? " · log1p" : "";
    const boxes = []; // the axis titles drawn [x0, y0, x1, y1]: one that would overlap another is left out
    this.axisBoxes = boxes;
    const place = (text, x, y, align, baseline) => {
      const w = ctx.measureText(text).width;
      const x0 = align === "right" ? x - w : x;
      const y0 = baseline === "top" ? y : baseline === "bottom" ? y - 12 : y - 6;
      const box = [x0 - 1, y0, x0 + w + 1, y0 + 12];
      if (boxes.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) return;
      boxes.push(box);
      ctx.textAlign = align;
      ctx.textBaseline = baseline;
      ctx.fillText(text, x, y);
    };
    ctx.save();
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
    ctx.font = font(theme, 10);
    if (frame.dims === 2) {
      for (const a of axisLines(frame)) {
        ctx.beginPath();
        if (a.axis === 0) {
          const y = Math.round(a.y0) + 0.5;
          ctx.moveTo(0, y);
          ctx.lineTo(W, y);
        } else {
          const x = Math.round(a.x0) + 0.5;
          ctx.moveTo(x, 0);
          ctx.lineTo(x, H);
        }
        ctx.stroke();
      }
      ctx.fillStyle = theme.fg3;
      place(`${axisTitle(pname, 0, explained)}${suffix} →`, W - 4, H - 2, "right", "bottom");
      place(`↑ ${axisTitle(pname, 1, explained)}${suffix}`, 4, 3, "left", "top");
    } else {
      // Three axes through the data origin; the end towards the viewer darker, labelled at the positive ends.
      ctx.lineWidth = 1;
      ctx.fillStyle = theme.fg3;
      place(`3-D · drag to rotate${suffix}`, 4, H - 2, "left", "bottom");
      for (const a of axisLines(frame)) {
        ctx.strokeStyle = a.depth >= 0 ? theme.axis : theme.grid;
        ctx.beginPath();
        ctx.moveTo(a.x0, a.y0);
        ctx.lineTo(a.x1, a.y1);
        ctx.stroke();
        const dx = a.x1 - frame.cx;
        const dy = a.y1 - frame.cy;
        const len = Math.hypot(dx, dy) || 1;
        const lx = Math.max(4, Math.min(W - 4, a.x1 + (dx / len) * 6));
        const ly = Math.max(8, Math.min(H - 8, a.y1 + (dy / len) * 6));
        ctx.fillStyle = a.depth >= 0 ? theme.fg2 : theme.fg3;
        const align = dx >= 0 ? "left" : "right";
        const text = axisTitle(pname, a.axis, explained);
        const w = ctx.measureText(text).width;
        const x = align === "left" ? Math.min(lx, W - 4 - w) : Math.max(lx, 4 + w);
        place(text, x, ly, align, "middle");
      }
    }
    ctx.restore();
  }

  drawPaths(ctx, snap, theme, eff, plan) {
    const meta = this.ctx.store.meta;
    const P = this.P;
    const { xs, ys, ds } = P;
    const N = meta.n_sequences;
    const cur = snap.sequence;
    const overlay = eff.overlay.length === 2;
    const timeMode = eff.color === "time" && !overlay;
    const faint = timeMode ? (N > 200 ? 0.16 : N > 40 ? 0.24 : 0.35) : N > 200 ? 0.3 : N > 40 ? 0.45 : 0.65;
    const dimAlpha = N > 200 ? 0.05 : 0.1;
    const colorOf = (s) => plan.colors[s] ?? theme.fg2;

    ctx.save();
    ctx.lineJoin = "round";
    ctx.lineWidth = 1;
    // Dimmed paths first (overlay), then the others, the overlaid classes on top (unless rasterised: drawBase).
    if (overlay && !this.winRaster) {
      ctx.strokeStyle = theme.fg3;
      for (let s = 0; s < N; s++)
        if (s !== cur && plan.dim[s]) strokeRows(ctx, P, meta.offsets[s], meta.offsets[s + 1], dimAlpha);
      ctx.lineWidth = 1.6;
    }
    const values = this.values;
    // rasterised (drawBase): the other paths are in the raster layer, and no end dots at this many steps
    for (let s = 0; s < (this.winRaster ? 0 : N); s++) {
      if (s === cur || plan.dim[s]) continue;
      if (values) {
        strokeBinned(ctx, xs, ys, values.bins, meta.offsets[s], meta.offsets[s + 1], faint);
        continue;
      }
      ctx.strokeStyle = colorOf(s);
      strokeRows(ctx, P, meta.offsets[s], meta.offsets[s + 1], overlay ? 0.9 : faint);
    }
    // End dots.
    const endAlpha = N > 200 ? 0.45 : 0.7;
    for (let s = 0; s < (this.winRaster ? 0 : N); s++) {
      const r = this.last[s];
      if (s === cur || r < 0) continue;
      const d = ds ? ds[r] : 0;
      ctx.fillStyle = plan.dim[s] ? theme.fg3 : values ? (this.valueColor(r) ?? theme.fg3) : colorOf(s);
      ctx.globalAlpha = (plan.dim[s] ? dimAlpha * 1.5 : overlay ? 0.95 : endAlpha) * (ds ? depthFade(d) : 1);
      dot(ctx, xs[r], ys[r], (overlay && !plan.dim[s] ? 2.8 : 2.2) * (ds ? depthSize(d) : 1));
    }
    ctx.restore();

    // The current path: by time step (colour buckets), else in its class / group colour.
    const o0 = meta.offsets[cur];
    const o1 = meta.offsets[cur + 1];
    const T = o1 - o0;
    if (!(T > 0)) return;
    if (this.liveCap) {
      this.drawLivePath(ctx, cur, theme, eff, plan, 0, T);
      return;
    }
    ctx.save();
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    const own = plan.colors[cur] ?? theme.fg1;
    if (timeMode) {
      const buckets = Math.min(64, Math.max(1, T - 1));
      for (let b = 0; b < buckets; b++) {
        const r0 = o0 + Math.floor((b * (T - 1)) / buckets);
        const r1 = o0 + Math.floor(((b + 1) * (T - 1)) / buckets);
        if (r1 <= r0) continue;
        ctx.strokeStyle = timeColor((b + 0.5) / buckets);
        ctx.globalAlpha = ds ? depthFade((ds[r0] + ds[r1]) / 2) : 1;
        ctx.beginPath();
        tracePath(ctx, xs, ys, r0, r1 + 1);
        ctx.stroke();
      }
    } else if (values) {
      strokeBinned(ctx, xs, ys, values.bins, o0, o1, 1);
    } else {
      ctx.strokeStyle = own;
      strokeRows(ctx, P, o0, o1, 1);
    }
    if (T <= 300) {
      for (let r = o0; r < o1; r++) {
        if (xs[r] !== xs[r]) continue;
        const d = ds ? ds[r] : 0;
        ctx.globalAlpha = ds ? depthFade(d) : 1;
        ctx.fillStyle = timeMode
          ? timeColor(T > 1 ? (r - o0) / (T - 1) : 0)
          : values
            ? (this.valueColor(r) ?? theme.fg3)
            : own;
        dot(ctx, xs[r], ys[r], 2.6 * (ds ? depthSize(d) : 1));
      }
    }
    ctx.globalAlpha = 1;
    if (xs[o0] === xs[o0]) startRing(ctx, xs[o0], ys[o0], theme);
    ctx.restore();
  }

  /** Last-step scatter: one point per sequence, far ones first (3-D). */
  drawScatter(ctx, snap, theme, eff, plan) {
    const meta = this.ctx.store.meta;
    const { xs, ys, ds } = this.P;
    const N = meta.n_sequences;
    const overlay = eff.overlay.length === 2;
    const timeMode = eff.color === "time" && !overlay;
    const maxT = Math.max(1, maxLength(meta.lengths));
    const order = [];
    for (let s = 0; s < N; s++) if (this.last[s] >= 0) order.push(s);
    if (ds) order.sort((a, b) => ds[this.last[a]] - ds[this.last[b]]);
    else if (overlay) order.sort((a, b) => Number(plan.dim[b]) - Number(plan.dim[a])); // dimmed below
    const radius = N > 200 ? 2.6 : 3.5;
    ctx.save();
    for (const s of order) {
      const r = this.last[s];
      const d = ds ? ds[r] : 0;
      if (plan.dim[s]) {
        ctx.fillStyle = theme.fg3;
        ctx.globalAlpha = 0.18 * (ds ? depthFade(d) : 1);
      } else {
        ctx.fillStyle = timeMode
          ? timeColor(maxT > 1 ? (r - meta.offsets[s]) / (maxT - 1) : 0)
          : this.values
            ? (this.valueColor(r) ?? theme.fg3)
            : (plan.colors[s] ?? theme.fg2);
        ctx.globalAlpha = 0.9 * (ds ? depthFade(d) : 1);
      }
      dot(ctx, xs[r], ys[r], radius * (ds ? depthSize(d) : 1));
    }
    // The current sequence's point: ringed.
    const r = this.last[snap.sequence];
    if (r >= 0) {
      ctx.globalAlpha = 1;
      ctx.strokeStyle = theme.fg0;
      ctx.lineWidth = 1.75;
      ctx.beginPath();
      ctx.arc(xs[r], ys[r], radius + 3, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Class names at last steps as DOM text over the canvas (every path end when few, else each class's mean). */
  /**
   * Steps t0 … t1 − 1 of the streaming sequence s as its path (joined to step t0 − 1): segments and dots in the time
   * colour of their step on the capacity's scale (64 buckets), else in the sequence's colour; the start ring at t0 = 0.
   */
  drawLivePath(ctx, s, theme, eff, plan, t0, t1) {
    const { xs, ys, ds } = this.P;
    const o0 = this.ctx.store.meta.offsets[s];
    const cap = this.liveCap;
    const timeMode = eff.color === "time";
    const own = plan.colors[s] ?? theme.fg1;
    const colorAt = (t) => (timeMode ? timeColor((Math.floor((t * 64) / cap) + 0.5) / 64) : own);
    ctx.save();
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (let t = Math.max(1, t0); t < t1; t++) {
      const a = o0 + t - 1;
      const b = a + 1;
      if (xs[a] !== xs[a] || xs[b] !== xs[b]) continue;
      ctx.strokeStyle = colorAt(t - 1);
      ctx.globalAlpha = ds ? depthFade((ds[a] + ds[b]) / 2) : 1;
      ctx.beginPath();
      ctx.moveTo(xs[a], ys[a]);
      ctx.lineTo(xs[b], ys[b]);
      ctx.stroke();
    }
    if (cap <= 512) {
      for (let t = t0; t < t1; t++) {
        const r = o0 + t;
        if (xs[r] !== xs[r]) continue;
        ctx.globalAlpha = ds ? depthFade(ds[r]) : 1;
        ctx.fillStyle = timeMode ? timeColor(t / (cap - 1)) : own;
        dot(ctx, xs[r], ys[r], 2.6 * (ds ? depthSize(ds[r]) : 1));
      }
    }
    ctx.globalAlpha = 1;
    if (t0 === 0 && xs[o0] === xs[o0]) startRing(ctx, xs[o0], ys[o0], theme);
    ctx.restore();
  }

  /** Steps appended to the streaming sequence: projected on the frame drawn, their segments added to the base layer
   * and the current path's label moved to its end. False (nothing drawn) when a new point falls outside the frame. */
  appendPath(snap, theme, all) {
    if (!this.frame || !this.plan) return false;
    const meta = this.ctx.store.meta;
    const P = projectRows(this.frame, all.data, all.rows, all.cols);
    const o0 = meta.offsets[snap.sequence];
    const W = this.plot.width;
    const H = this.plot.height;
    for (let r = o0 + this.drawnT; r < o0 + snap.T; r++) {
      if (P.xs[r] !== P.xs[r]) continue;
      if (P.xs[r] < PAD / 2 || P.xs[r] > W - PAD / 2 || P.ys[r] < PAD / 2 || P.ys[r] > H - PAD / 2) return false;
    }
    this.P = P;
    this.last = lastRows(meta.offsets, meta.n_sequences, P.xs);
    const ctx = this.plot.bctx;
    ctx.setTransform(this.plot.dpr, 0, 0, this.plot.dpr, 0, 0);
    this.drawLivePath(ctx, snap.sequence, theme, this.eff, this.plan, this.drawnT, snap.T);
    this.drawnT = snap.T;
    const rc = this.last[snap.sequence];
    const cur = this.currentLabel;
    if (cur && rc >= 0) {
      cur.node.style.left = `${Math.max(2, Math.min(W - 2 - cur.w, P.xs[rc] + 8 + cur.w > W - 4 ? P.xs[rc] - 8 - cur.w : P.xs[rc] + 8)).toFixed(1)}px`;
      cur.node.style.top = `${(P.ys[rc] - 8).toFixed(1)}px`;
    }
    return true;
  }

  placeLabels(ctx, snap, theme, eff, plan) {
    const meta = this.ctx.store.meta;
    const { xs, ys } = this.P;
    const W = this.plot.width;
    const N = meta.n_sequences;
    const cur = snap.sequence;
    this.labelLayer.style.setProperty("--lw-halo", theme.bg0);
    if (!eff.labels) {
      this.labelLayer.replaceChildren();
      return;
    }
    const nodes = [];
    // placed labels [x0, y0, x1, y1], starting with the axis titles: a label that would overlap one is left out (hover
    // names it); the current path's label always shows
    const boxes = (this.axisBoxes || []).slice();
    const label = (whole, x, y, cls, extra = {}) => {
      const text = clipText(whole, LABEL_CHARS); // a long name is cut (hovering a path names it whole)
      const current = cls.includes("lw-current");
      const size = current ? 12 : cls.includes("lw-center") ? 11 : 10;
      ctx.font = font(theme, size, current || size === 11 ? 700 : 400);
      const w = ctx.measureText(text).width;
      // Right of the point; left of it when it would run off the right edge; centred for class means; kept inside.
      let left = cls.includes("lw-center") ? x - w / 2 : x + w > W - 4 ? x - (current ? 16 : 8) - w : x;
      left = Math.max(2, Math.min(W - 2 - w, left));
      const box = [left - 1, y - size * 0.6, left + w + 1, y + size * 0.6];
      if (!current && boxes.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) return null;
      boxes.push(box);
      const node = el("span", { class: `lw-traj-label ${cls}`, text, ...extra });
      node.style.left = `${left.toFixed(1)}px`;
      node.style.top = `${y.toFixed(1)}px`;
      nodes.push(node);
      return node;
    };
    // The current path's label first: it always shows.
    const rc = this.last[cur];
    if (rc >= 0) {
      const l = meta.labels[cur];
      const text = l != null ? className(meta.class_names, l) : meta.sequence_names[cur];
      const node = label(text, xs[rc] + 8, ys[rc] - 8, "lw-current", { "data-sequence": String(cur) });
      ctx.font = font(theme, 12, 700);
      this.currentLabel = node && { node, w: ctx.measureText(node.textContent).width };
    }
    if (N <= LABEL_ALL_MAX) {
      for (let s = 0; s < N; s++) {
        const r = this.last[s];
        const l = meta.labels[s];
        if (s === cur || r < 0 || l == null || plan.dim[s]) continue;
        label(className(meta.class_names, l), xs[r] + 4, ys[r], "lw-end", { "data-sequence": String(s) });
      }
    } else {
      const acc = new Map();
      for (let s = 0; s < N; s++) {
        const r = this.last[s];
        const l = meta.labels[s];
        if (r < 0 || l == null || plan.dim[s]) continue;
        const a = acc.get(l) || [0, 0, 0];
        a[0] += xs[r];
        a[1] += ys[r];
        a[2]++;
        acc.set(l, a);
      }
      for (const [l, [sx, sy, n]] of acc) {
        const node = label(className(meta.class_names, l), sx / n, sy / n, "lw-center", { "data-class": String(l) });
        if (node) node.style.color = plan.colors.find((c, s) => meta.labels[s] === l && c) || "";
      }
    }
    this.labelLayer.replaceChildren(...nodes);
  }

  // ---- overlay layer (every frame) ------------------------------------------------------------------------------
  drawOverlay(ctx, snap, theme, eff) {
    const meta = this.ctx.store.meta;
    const { xs, ys, ds } = this.P;
    const h = snap.hover;
    // The hovered sequence of the data set (background): its path and the step.
    const b = this.bgHover;
    if (b && this.bg && b.k < this.bg.dt.n) {
      const { xs: bx, ys: by } = this.bg.xy;
      const { offsets } = this.bg.dt;
      ctx.save();
      ctx.strokeStyle = theme.fg1;
      ctx.globalAlpha = 0.85;
      ctx.lineWidth = 1.5;
      ctx.lineJoin = "round";
      ctx.beginPath();
      tracePath(ctx, bx, by, offsets[b.k], offsets[b.k + 1]);
      ctx.stroke();
      if (bx[b.row] === bx[b.row]) {
        ctx.globalAlpha = 1;
        ctx.lineWidth = 1.25;
        ctx.beginPath();
        ctx.arc(bx[b.row], by[b.row], 5, 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.restore();
    }
    // Hovered path (another sequence), and the hovered point.
    if (h && h.view === "trajectory" && h.sequence !== snap.sequence && h.sequence < meta.n_sequences) {
      ctx.save();
      ctx.strokeStyle = theme.fg1;
      ctx.globalAlpha = 0.85;
      ctx.lineWidth = 1.75;
      ctx.lineJoin = "round";
      ctx.beginPath();
      tracePath(ctx, xs, ys, meta.offsets[h.sequence], meta.offsets[h.sequence + 1]);
      ctx.stroke();
      ctx.restore();
    }
    if (h && h.t != null && h.sequence < meta.n_sequences) {
      const r = meta.offsets[h.sequence] + h.t;
      if (r < meta.offsets[h.sequence + 1] && xs[r] === xs[r]) {
        ctx.save();
        ctx.strokeStyle = theme.fg1;
        ctx.lineWidth = 1.25;
        ctx.beginPath();
        ctx.arc(xs[r], ys[r], 5 * (ds ? depthSize(ds[r]) : 1), 0, 2 * Math.PI);
        ctx.stroke();
        ctx.restore();
      }
    }
    // The current step: a big dot in its time (or path) colour.
    const r = meta.offsets[snap.sequence] + snap.t;
    if (snap.T > 0 && r < xs.length && xs[r] === xs[r]) {
      const timeMode = eff.color === "time" && eff.overlay.length !== 2;
      const size = ds ? depthSize(ds[r]) : 1;
      ctx.save();
      ctx.beginPath();
      ctx.arc(xs[r], ys[r], 7.5 * size, 0, 2 * Math.PI);
      ctx.fillStyle = theme.bg0;
      ctx.fill();
      ctx.beginPath();
      ctx.arc(xs[r], ys[r], 6 * size, 0, 2 * Math.PI);
      ctx.fillStyle = timeMode
        ? timeColor(this.liveCap ? snap.t / (this.liveCap - 1) : snap.T > 1 ? snap.t / (snap.T - 1) : 0)
        : this.values
          ? (this.valueColor(r) ?? theme.fg3)
          : this.plan?.colors[snap.sequence] || theme.fg1;
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = theme.fg0;
      ctx.stroke();
      ctx.restore();
    }
  }
}
