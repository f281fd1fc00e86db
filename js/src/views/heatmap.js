// Heatmap (lw-heatmap): units (rows) × time (columns) of the chosen quantity and layer of the current sequence.
// The image is built once per (sequence, data version, layer, quantity, order, size, colour scale) at no more than
// the plot's device pixels (per pixel: the value farthest from the scale's midpoint, so peaks survive
// downsampling), kept in an offscreen canvas, and blitted; a scrub only redraws the overlay (cursor, hover).
// Long sequences (lod.js): the plot shows the store's time window (zoom with the −/+/all buttons, Ctrl+wheel or the
// +/−/0 keys; pan with Shift+wheel, a sideways wheel or the timeline's window band); the window's steps are drawn at
// full resolution when they fit the pixels, else reduced from the coarsest min/max pyramid level whose blocks fit
// one per pixel (built once per sequence, data version, layer and quantity, when a window reads > RAW_BUDGET values).
// The colour range is the store's `color_scale` (colorscale.js: every sequence, this sequence, or each unit on its
// own; "auto" = this sequence for c, every sequence for the rest), chosen with the select beside the colour bar, whose
// caption says which range is in use. Selected units are marked in the gutter: a lone row by a tab, an arrow and its
// number in its selection colour; a run of adjacent selected rows by one bracket with thin colour ticks, one label
// and one outline around the run (not a stack of filled bands). The root's data-selection-runs lists the marks.
// Click a row: toggle that unit in the selection. Drag sideways: scrub. Hover: "unit 17 · t 5 · 0.734".
// Shift-drag: select a range of steps for the pattern search (ctx.why.brush); right-click a row: the unit's
// intervention menu (ctx.why.unitMenu). The pattern search's selection and matches are outlined on the overlay.
// Steps without a value (NaN: a module that did not run there, an encoder's row during its decoder) show a hatch;
// with several stages (an encoder, then a decoder) a rule marks each stage's first step, named by its module
// (data-stages "encoder:0-6,decoder:6-10"; data-blank: the shown row's steps without a value, "0-6").

import { categorical, cssGradient, lut } from "../colormap.js";
import { COLOR_SCALE_LABELS, heatmapScale, normalizeUnits } from "../colorscale.js";
import {
  buildPyramid,
  colorCells,
  columnOf,
  liveCapacity,
  MIN_WINDOW,
  PYRAMID_BASE,
  pickLevel,
  reduceColumns,
  reduceWindow,
  stepAt,
  visibleWindow,
} from "../lod.js";
import { orderUnits } from "../order.js";
import { rowFromY, xEdge } from "../scrub.js";
import { blankRanges, drawStageRules, hatchPattern, stageRules, stagesText } from "../stages.js";
import { font } from "../theme.js";
import { stepLabels } from "../tokens.js";
import {
  colorbar,
  drawCursor,
  drawHoverLine,
  drawTimeAxis,
  el,
  fillSelect,
  fmt,
  labelled,
  Plot,
  plural,
  setText,
  timeRect,
  titleSpans,
  viewHead,
} from "./common.js";

export const QUANTITY_LABELS = {
  h: "hidden state h",
  c: "cell state c",
  i: "input gate i",
  f: "forget gate f",
  g: "cell candidate g",
  o: "output gate o",
  r: "reset gate r",
  z: "update gate z",
  n: "candidate n",
};

/** A window reading more values than this (steps × units) is reduced from the pyramid (built then, once). */
export const RAW_BUDGET = 1 << 22;

const ORDER_LABELS = [
  ["index", "unit index"],
  ["peak", "peak |value|"],
  ["variance", "variance"],
  ["clustered", "clustered"],
];

/**
 * Build the RGBA pixels of a (T, U) block drawn as U rows (in `order`) × T columns, downsampled to imgW × imgH.
 * Returns a Uint8ClampedArray (imgW * imgH * 4); NaN cells are transparent.
 */
export function heatmapPixels(data, T, U, order, imgW, imgH, scale, table = lut(scale.map)) {
  const mid = (scale.lo + scale.hi) / 2;
  const rowOf = new Int32Array(U);
  for (let k = 0; k < U; k++) rowOf[order[k]] = Math.min(imgH - 1, Math.floor((k * imgH) / U));
  const acc = new Float32Array(imgW * imgH).fill(NaN);
  if (imgW === T && imgH === U) {
    for (let t = 0; t < T; t++) {
      const base = t * U;
      for (let u = 0; u < U; u++) acc[rowOf[u] * imgW + t] = data[base + u];
    }
  } else {
    for (let t = 0; t < T; t++) {
      const col = Math.min(imgW - 1, Math.floor((t * imgW) / T));
      const base = t * U;
      for (let u = 0; u < U; u++) {
        const v = data[base + u];
        if (v !== v) continue;
        const idx = rowOf[u] * imgW + col;
        const a = acc[idx];
        if (a !== a || Math.abs(v - mid) > Math.abs(a - mid)) acc[idx] = v;
      }
    }
  }
  return colorCells(acc, scale, table);
}

/** The picture row of every unit: units in `order` spread over imgH rows. */
function imageRows(order, imgH) {
  const U = order.length;
  const rowOf = new Int32Array(U);
  for (let k = 0; k < U; k++) rowOf[order[k]] = Math.min(imgH - 1, Math.floor((k * imgH) / U));
  return rowOf;
}

/** Cells (w × h, row-major) coloured on `scale` into `canvas` from column x0. */
function putCells(canvas, cells, w, h, x0, scale) {
  const c2 = canvas.getContext("2d");
  const img = c2.createImageData(w, h);
  img.data.set(colorCells(cells, scale, lut(scale.map)));
  c2.putImageData(img, x0, 0);
}

export class HeatmapView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    [this.title, this.sub] = titleSpans();
    this.quantity = el("select", { "aria-label": "Quantity", title: "Quantity" });
    this.layer = el("select", { "aria-label": "Layer", title: "Layer" });
    this.order = el("select", { "aria-label": "Unit order", title: "Order of the rows" });
    this.colorbar = colorbar({ title: "colour scale" });
    this.scaleSel = el("select", {
      class: "lw-scale-select",
      "aria-label": "Colour scale",
      title: "Colour range: auto (this sequence for c, all sequences otherwise), this sequence, each unit, all",
    });
    this.scaleCaption = el("span", { class: "lw-scale-caption lw-muted" });
    this.body = el("div", { class: "lw-body" });
    this.message = el("div", { class: "lw-message" });
    const zoomBtn = (cls, text, title) =>
      el("button", { class: `lw-zoom-btn ${cls}`, type: "button", title, "aria-label": title, text });
    this.zoomOut = zoomBtn("lw-zoom-out", "−", "Zoom out (−)");
    this.zoomIn = zoomBtn("lw-zoom-in", "+", "Zoom in (+; Ctrl+wheel on the heatmap)");
    this.zoomAll = zoomBtn("lw-zoom-reset", "all", "Show every step (0)");
    this.zoomLabel = el("span", { class: "lw-zoom-label lw-muted" });
    this.zoom = el(
      "span",
      { class: "lw-zoom", title: "Time window (Shift+wheel pans)" },
      this.zoomOut,
      this.zoomIn,
      this.zoomAll,
      this.zoomLabel,
    );
    this.el = el(
      "div",
      {
        class: "lw-heatmap lw-view lw-card",
        "data-t": "0",
        "data-window": "",
        "data-lod": "1",
        "data-stages": "",
        "data-blank": "",
      },
      viewHead(
        [this.title, this.sub],
        [
          labelled("show", this.quantity),
          labelled("layer", this.layer),
          labelled("order", this.order),
          this.zoom,
          this.colorbar.node,
          labelled("scale", this.scaleSel),
          this.scaleCaption,
        ],
      ),
      this.body,
    );
    this.plot = new Plot(this.body, { height: 240 });
    this.body.append(this.message);
    this.sizeTarget = this.body;

    this.quantity.addEventListener("change", () => store.set({ quantity: this.quantity.value }));
    this.layer.addEventListener("change", () => store.set({ layer: Number(this.layer.value) }));
    this.order.addEventListener("change", () => store.set({ order: this.order.value }));
    this.scaleSel.addEventListener("change", () => store.set({ color_scale: this.scaleSel.value }));
    // A button that cannot act says why in its title (aria-disabled, not disabled: a focused button that gets
    // disabled drops the focus out of the widget and its keyboard).
    const unless = (button, fn) => () => button.getAttribute("aria-disabled") !== "true" && fn();
    this.zoomIn.addEventListener(
      "click",
      unless(this.zoomIn, () => ctx.zoom(2)),
    );
    this.zoomOut.addEventListener(
      "click",
      unless(this.zoomOut, () => ctx.zoom(0.5)),
    );
    this.zoomAll.addEventListener(
      "click",
      unless(this.zoomAll, () => store.set({ window: null })),
    );

    this.image = { key: null, canvas: null };
    this.orderCache = { key: null, order: null, rowOf: null };
    this.baseKey = null;
    this.pyramid = { key: null, value: null };
    this.unitBlock = { key: null, block: null }; // the shown block divided by each unit's max |value| ("unit" scale)
    this.U = 0;
    this.T = 0;
    this.win = { t0: 0, t1: 0 };
    // The steps the time axis spans: the window, or while the sequence streams liveCapacity(T) steps from 0.
    this.view = { t0: 0, t1: 0 };
    this.drawnT = 0; // while streaming: the steps drawn on the base layer
    this.rect = timeRect(this.plot, 4, 18);
    this.attachPointer();
  }

  attachPointer() {
    const { store, tooltip } = this.ctx;
    const target = this.plot.overlay;
    let press = null;
    const cellAt = (ev) => {
      const { x, y } = this.plot.point(ev);
      const r = this.rect;
      const row = rowFromY(y, r.y, r.h, this.U);
      const inTime = x >= r.x && x < r.x + r.w;
      const t = Math.max(0, Math.min(this.T - 1, stepAt(x, r.x, r.w, this.view.t0, this.view.t1)));
      const unit = row >= 0 && this.orderCache.order ? this.orderCache.order[row] : -1;
      return { x, y, row, unit, t, inTime };
    };
    target.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      const c = cellAt(ev);
      press = {
        x: ev.clientX,
        y: ev.clientY,
        dragging: false,
        brush: ev.shiftKey && this.ctx.why ? { from: c.t, to: c.t } : null,
      };
      target.setPointerCapture?.(ev.pointerId);
    });
    target.addEventListener("contextmenu", (ev) => {
      const c = cellAt(ev);
      if (c.unit < 0 || !this.ctx.why) return;
      tooltip.hide();
      this.ctx.why.unitMenu(ev, { unit: c.unit, t: c.inTime ? c.t : null });
    });
    target.addEventListener("pointermove", (ev) => {
      const c = cellAt(ev);
      const snap = store.snapshot();
      if (press) {
        if (!press.dragging && Math.abs(ev.clientX - press.x) > 4) press.dragging = true;
        if (press.dragging && press.brush) {
          press.brush.to = c.t;
          this.brush = press.brush;
          tooltip.show(
            ev.clientX,
            ev.clientY,
            `steps ${Math.min(press.brush.from, c.t)}–${Math.max(press.brush.from, c.t)} · release to search`,
          );
          if (this.lastTheme) this.drawOverlay(snap, this.lastTheme, this.orderCache.rowOf);
          return;
        }
        if (press.dragging) {
          store.set({ t: c.t });
          tooltip.hide();
          return;
        }
      }
      if (c.unit >= 0 && c.inTime && this.T > 0) {
        const v = store.value(snap.quantity, snap.layer, snap.sequence, c.t, c.unit);
        tooltip.show(ev.clientX, ev.clientY, `unit ${c.unit} · t ${c.t} · ${fmt(v)}`);
        store.set({ hover: { sequence: snap.sequence, t: c.t, unit: c.unit, view: "heatmap" } });
      } else if (c.unit >= 0) {
        tooltip.show(ev.clientX, ev.clientY, `unit ${c.unit} — click to select`);
        store.set({ hover: { sequence: snap.sequence, t: null, unit: c.unit, view: "heatmap" } });
      } else {
        tooltip.hide();
        store.set({ hover: null });
      }
    });
    const end = (ev, cancelled) => {
      if (!press) return;
      const wasDrag = press.dragging;
      const brush = press.brush;
      press = null;
      this.brush = null;
      target.releasePointerCapture?.(ev.pointerId);
      if (brush && wasDrag && !cancelled) {
        tooltip.hide();
        this.ctx.why.brush(Math.min(brush.from, brush.to), Math.max(brush.from, brush.to) + 1);
      }
      if (cancelled || wasDrag) return;
      const c = cellAt(ev);
      if (c.unit >= 0) store.toggleUnit(c.unit);
    };
    // Ctrl/⌘+wheel zooms around the step under the pointer; Shift+wheel or a sideways wheel pans. A plain wheel is
    // left to the page (the notebook scrolls).
    target.addEventListener(
      "wheel",
      (ev) => {
        if (!(this.T > 0)) return;
        const r = this.rect;
        const { x } = this.plot.point(ev);
        const sideways = Math.abs(ev.deltaX) > Math.abs(ev.deltaY);
        if (ev.ctrlKey || ev.metaKey) {
          ev.preventDefault();
          const t = Math.min(this.T - 1, stepAt(x, r.x, r.w, this.view.t0, this.view.t1));
          this.ctx.zoom(ev.deltaY < 0 ? 1.25 : 0.8, t);
        } else if (ev.shiftKey || sideways) {
          ev.preventDefault();
          const d = sideways ? ev.deltaX : ev.deltaY;
          this.ctx.pan(
            Math.sign(d) *
              Math.max(1, Math.round(((this.win.t1 - this.win.t0) * Math.min(200, Math.abs(d))) / Math.max(1, r.w))),
          );
        }
      },
      { passive: false },
    );
    target.addEventListener("pointerup", (ev) => end(ev, false));
    target.addEventListener("pointercancel", (ev) => end(ev, true));
    target.addEventListener("pointerleave", () => {
      if (press) return;
      tooltip.hide();
      store.set({ hover: null });
    });
  }

  resize(width) {
    if (this.plot.resize(width)) this.baseKey = null;
  }

  /** Unit order for the current block (cached; recomputed per sequence/data/layer/quantity/mode; while the sequence
   * streams, `live` (its capacity), kept while steps are appended until the capacity grows). */
  unitOrder(snap, block, live = 0) {
    const { store } = this.ctx;
    const key = [
      snap.sequence,
      store.drawVersion(snap.sequence),
      snap.layer,
      snap.quantity,
      snap.order,
      live ? `live ${live}` : block.rows,
      block.cols,
    ].join("|");
    if (this.orderCache.key !== key) {
      const order = orderUnits(snap.order, block.data, block.rows, block.cols);
      const rowOf = new Int32Array(block.cols);
      for (let k = 0; k < order.length; k++) rowOf[order[k]] = k;
      this.orderCache = { key, order, rowOf };
    }
    return this.orderCache;
  }

  render({ snap, theme, themeChanged }) {
    const { store } = this.ctx;
    const meta = store.meta;
    const q = snap.quantity;
    const quantities = meta.quantities.filter((name) => store.has(name) || meta.units[name]);
    fillSelect(
      this.quantity,
      (quantities.length ? quantities : meta.quantities).map((name) => [name, name]),
      q,
    );
    const L = store.nLayers();
    fillSelect(
      this.layer,
      Array.from({ length: L }, (_, l) => [l, store.layerName(l)]),
      snap.layer,
    );
    fillSelect(this.order, ORDER_LABELS, snap.order);
    fillSelect(this.scaleSel, COLOR_SCALE_LABELS, snap.color_scale);

    const raw = store.series(q, snap.layer, snap.sequence);
    const U = raw ? raw.cols : store.width(q);
    const T = snap.T;
    setText(this.title, QUANTITY_LABELS[q] ? capitalise(QUANTITY_LABELS[q]) : q);
    setText(this.sub, `${store.layerName(snap.layer)} · ${plural(U, "unit")} × ${plural(T, "step")}`);

    const scale = heatmapScale(snap.color_scale, q, { limits: store.limits(q), block: raw, dark: theme.dark });
    this.colorbarUpdate(scale);
    this.el.dataset.scale = scale.mode;
    const block = raw && scale.mode === "unit" ? this.perUnit(snap, raw) : raw;

    const height = Math.max(120, Math.min(340, U * 3)) + 22;
    if (this.plot.setHeight(height)) {
      this.plot.resize(this.plot.width);
      this.baseKey = null;
    }
    this.U = U;
    this.T = T;
    const win = visibleWindow(snap.window, T);
    this.win = win;
    this.el.dataset.window = `${win.t0},${win.t1}`;
    setText(this.zoomLabel, snap.window ? `steps ${win.t0}–${win.t1 - 1}` : "");
    this.zoomState(T, win, Boolean(snap.window));
    this.rect = timeRect(this.plot, 4, 18);
    const has = block && U > 0 && T > 0;
    this.message.hidden = has;
    if (!has)
      setText(this.message, block ? "no steps recorded yet" : store.pending(q) ? `loading ${q}…` : `no ${q} recorded`);

    // A streaming sequence (not zoomed; not each unit on its own scale, which every step can change): the time axis
    // spans liveCapacity(T) steps, so that the picture drawn stays valid and each repaint adds the new columns.
    const live = has && store.isProvisional(snap.sequence) && !snap.window && scale.mode !== "unit";
    this.view = live ? { t0: 0, t1: liveCapacity(T) } : win;
    this.live = live;
    const { order, rowOf } = has ? this.unitOrder(snap, raw, live ? this.view.t1 : 0) : { order: null, rowOf: null };
    const sel = snap.selected_units;
    const baseKey = has
      ? [
          this.orderCache.key,
          scale.map,
          scale.mode,
          scale.lo,
          scale.hi,
          this.plot.width,
          this.plot.height,
          theme.key,
          sel.join(","),
          live ? `live ${this.view.t1} ${stagesText(store.stages(snap.sequence))}` : `${win.t0} ${win.t1}`,
        ].join("|")
      : `empty|${theme.key}|${this.plot.width}`;
    // Not laid out yet (the first repaint can run before the ResizeObserver has sized the plot): building the image
    // then costs a whole pass over T × U for a 1-pixel-wide picture that the sized repaint replaces at once.
    const laidOut = this.rect.w > 1;
    if (laidOut && (baseKey !== this.baseKey || themeChanged)) {
      this.baseKey = baseKey;
      this.drawBase(snap, block, order, rowOf, scale, theme);
      this.el.dataset.baseDraws = String(Number(this.el.dataset.baseDraws || 0) + 1);
    } else if (laidOut && live && T > this.drawnT) this.appendColumns(snap, block, rowOf, scale, theme);
    // While the sequence streams: the steps the time axis spans and those drawn ("" otherwise; tests read them).
    const liveAttr = live ? String(this.view.t1) : "";
    if (this.el.dataset.live !== liveAttr) this.el.dataset.live = liveAttr;
    const drawnAttr = live ? String(this.drawnT) : "";
    if (this.el.dataset.drawn !== drawnAttr) this.el.dataset.drawn = drawnAttr;
    const stages = has ? store.stages(snap.sequence) : [];
    const stagesAttr = stagesText(stages);
    if (this.el.dataset.stages !== stagesAttr) this.el.dataset.stages = stagesAttr;
    const blankKey = has && stages.length ? `${this.orderCache.key}|${win.t0}|${win.t1}` : "";
    if (blankKey !== this.blankKey) {
      this.blankKey = blankKey;
      this.el.dataset.blank = blankKey ? blankRanges(block.data, U, win.t0, win.t1) : "";
    }
    this.lastTheme = theme;
    this.drawOverlay(snap, theme, rowOf);
    this.el.dataset.t = String(snap.t);
  }

  colorbarUpdate(scale) {
    const sig = `${scale.map}|${scale.lo}|${scale.hi}|${scale.caption}`;
    if (this.cbSig === sig) return;
    this.cbSig = sig;
    this.colorbar.bar.style.background = cssGradient(scale.map);
    setText(this.colorbar.lo, scale.mode === "unit" ? "−max" : fmt(scale.lo, 2));
    setText(this.colorbar.hi, scale.mode === "unit" ? "+max" : fmt(scale.hi, 2));
    setText(this.colorbar.mid, scale.signed ? "0" : "0.5");
    setText(this.scaleCaption, scale.caption);
    this.colorbar.node.title = `colour scale (${scale.caption})`;
  }

  /** The shown block with every unit divided by its own max |value| over the sequence (cached per data). */
  perUnit(snap, block) {
    const { store } = this.ctx;
    const key = [snap.sequence, store.seqVersion(snap.sequence), snap.layer, snap.quantity, block.rows, block.cols];
    const k = key.join("|");
    if (this.unitBlock.key !== k) {
      const data = normalizeUnits(block.data, block.rows, block.cols);
      this.unitBlock = { key: k, block: { data, rows: block.rows, cols: block.cols } };
    }
    return this.unitBlock.block;
  }

  /** The zoom buttons: each one that cannot act now is dimmed and says why in its title. */
  zoomState(T, win, zoomed) {
    const n = win.t1 - win.t0;
    const state = (button, why, title) => {
      const off = why != null;
      if (button.getAttribute("aria-disabled") !== String(off)) button.setAttribute("aria-disabled", String(off));
      const text = off ? why : title;
      if (button.title !== text) {
        button.title = text;
        button.setAttribute("aria-label", text);
      }
    };
    let whyIn = null;
    if (T <= MIN_WINDOW) whyIn = `Nothing to zoom: this sequence has ${plural(T, "step")}, every one shown`;
    else if (n <= MIN_WINDOW) whyIn = `Zoomed in as far as it goes (${MIN_WINDOW} steps)`;
    state(this.zoomIn, whyIn, "Zoom in (+; Ctrl+wheel on the heatmap)");
    const whole = zoomed ? null : "Every step is shown already";
    state(this.zoomOut, whole, "Zoom out (−)");
    state(this.zoomAll, whole, "Show every step (0)");
  }

  /**
   * The min/max pyramid of the shown block (cached per sequence, data version, layer, quantity): null while the
   * window's raw steps stay within RAW_BUDGET values and none is built for this data yet (so short sequences, and
   * zoomed-in windows of a sequence that is streaming, never pay for one).
   */
  pyramidFor(snap, block, n) {
    const key = [
      snap.sequence,
      this.ctx.store.seqVersion(snap.sequence),
      snap.layer,
      snap.quantity,
      block.rows,
      block.cols,
      block === this.unitBlock.block ? "unit" : "raw",
    ].join("|");
    if (this.pyramid.key === key) return this.pyramid.value;
    if (n * block.cols <= RAW_BUDGET) return null;
    const t0 = performance.now();
    this.pyramid = { key, value: buildPyramid(block.data, block.rows, block.cols) };
    this.el.dataset.pyramidMs = (performance.now() - t0).toFixed(1); // what building it took (benchmarks read it)
    return this.pyramid.value;
  }

  /** The picture's size for n steps × U units: at most one column per step and one row per unit, and at most the
   * plot's device pixels. */
  pictureSize(n, U) {
    const r = this.rect;
    const dpr = this.plot.dpr;
    return {
      imgW: Math.max(1, Math.min(n, Math.round(r.w * dpr))),
      imgH: Math.max(1, Math.min(U, Math.round(r.h * dpr))),
    };
  }

  imageFor(snap, block, order, scale, win) {
    if (this.live) return this.liveImage(block, order, scale);
    const n = win.t1 - win.t0;
    const U = block.cols;
    const { imgW, imgH } = this.pictureSize(n, U);
    const spp = n / imgW;
    const level = spp >= PYRAMID_BASE ? pickLevel(this.pyramidFor(snap, block, n), spp) : null;
    const lod = level ? level.block : 1;
    const key = [this.orderCache.key, imgW, imgH, scale.map, scale.mode, scale.lo, scale.hi, win.t0, win.t1, lod].join(
      "|",
    );
    if (this.image.key !== key) {
      const canvas = this.image.canvas || document.createElement("canvas");
      canvas.width = imgW;
      canvas.height = imgH;
      const rowOf = imageRows(order, imgH);
      const { cells } = reduceWindow(
        block.data,
        U,
        win.t0,
        win.t1,
        rowOf,
        imgW,
        imgH,
        (scale.lo + scale.hi) / 2,
        level,
      );
      putCells(canvas, cells, imgW, imgH, 0, scale);
      this.image = { key, canvas };
      this.el.dataset.lod = String(lod); // steps per image column's source block (1: the raw steps)
    }
    return this.image.canvas;
  }

  /**
   * The picture of a streaming sequence: window [0, capacity) over at most the plot's device pixels, from the steps
   * there are (the columns of steps to come transparent); appendColumns adds the columns of appended steps.
   */
  liveImage(block, order, scale) {
    const n = this.view.t1;
    const U = block.cols;
    const { imgW, imgH } = this.pictureSize(n, U);
    const canvas = this.image.canvas || document.createElement("canvas");
    canvas.width = imgW;
    canvas.height = imgH;
    const rowOf = imageRows(order, imgH);
    const mid = (scale.lo + scale.hi) / 2;
    const cells = reduceColumns(block.data, U, block.rows, n, rowOf, imgW, imgH, mid, 0, imgW);
    putCells(canvas, cells, imgW, imgH, 0, scale);
    this.image = { key: null, canvas, live: { rowOf, imgW, imgH, n } };
    this.drawnT = block.rows;
    this.el.dataset.lod = "1";
    return canvas;
  }

  /** Steps drawnT … T − 1 appended to the streaming sequence: their columns of the picture are built, and the strip
   * of the base layer they cover is drawn again (the picture, the selection's outlines and the stage rules there). */
  appendColumns(snap, block, rowOf, scale, theme) {
    const live = this.image.live;
    if (!live || !this.image.canvas) return;
    const { imgW, imgH, n } = live;
    const U = block.cols;
    const c0 = columnOf(this.drawnT, 0, n, imgW);
    const c1 = columnOf(block.rows - 1, 0, n, imgW) + 1;
    const mid = (scale.lo + scale.hi) / 2;
    const cells = reduceColumns(block.data, U, block.rows, n, live.rowOf, imgW, imgH, mid, c0, c1);
    putCells(this.image.canvas, cells, c1 - c0, imgH, c0, scale);
    this.drawnT = block.rows;
    // The strip on the base layer, widened to whole device pixels (the picture is drawn scaled: the pixels at its
    // edges blend neighbouring columns, and drawing them again over themselves gives the same pixels).
    const r = this.rect;
    const dpr = this.plot.dpr;
    const x0 = Math.floor((r.x + (c0 * r.w) / imgW) * dpr - 1) / dpr;
    const x1 = Math.ceil((r.x + (c1 * r.w) / imgW) * dpr + 1) / dpr;
    const y0 = Math.floor(r.y * dpr) / dpr;
    const y1 = Math.ceil((r.y + r.h) * dpr) / dpr;
    const ctx = this.plot.bctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(Math.max(r.x, x0), y0, Math.min(r.x + r.w, x1) - Math.max(r.x, x0), y1 - y0);
    ctx.clip();
    ctx.clearRect(x0, y0, x1 - x0, y1 - y0);
    this.drawPicture(ctx, this.image.canvas, theme);
    this.drawDecorations(ctx, snap, U, rowOf, theme);
    ctx.restore();
  }

  /** The picture on its background (over a hatch that shows through the cells without a value, but while the
   * sequence streams: its steps to come are not missing values). */
  drawPicture(ctx, img, theme) {
    const r = this.rect;
    ctx.save();
    ctx.fillStyle = theme.dark ? "rgba(255,255,255,0.04)" : "rgba(0,0,0,0.03)";
    ctx.fillRect(r.x, r.y, r.w, r.h);
    // Under the image: a hatch that shows through the cells without a value (NaN cells are transparent).
    const hatch = this.live ? null : hatchPattern(ctx, theme);
    if (hatch) {
      ctx.fillStyle = hatch;
      ctx.fillRect(r.x, r.y, r.w, r.h);
    }
    ctx.imageSmoothingEnabled = !(img.width < r.w * this.plot.dpr * 0.75 || img.height < r.h * this.plot.dpr * 0.75);
    ctx.drawImage(img, r.x, r.y, r.w, r.h);
    ctx.restore();
  }

  /** What is drawn over the picture: the selected units' marks and outlines, and the stage rules. */
  drawDecorations(ctx, snap, U, rowOf, theme) {
    const r = this.rect;
    const rowH = r.h / U;
    ctx.save();
    ctx.font = font(theme, 10);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const runs = selectionRuns(snap.selected_units, U, rowOf);
    const labelled = [];
    for (const run of runs) this.drawRun(ctx, run, rowH, theme, labelled);
    ctx.restore();
    const { t0, t1 } = this.view;
    const stages = this.ctx.store.stages(snap.sequence);
    drawStageRules(ctx, r, stageRules(stages, t0, t1), t0, t1 - t0, theme);
  }

  drawBase(snap, block, order, rowOf, scale, theme) {
    const ctx = this.plot.begin(this.plot.bctx);
    const r = this.rect;
    if (!order) return;
    const U = block.cols;
    const img = this.imageFor(snap, block, order, scale, this.win);
    this.drawPicture(ctx, img, theme);

    // Unit labels in the gutter.
    const rowH = r.h / U;
    ctx.save();
    ctx.font = font(theme, 10);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillStyle = theme.fg2;
    const every = rowH >= 11 ? 1 : Math.ceil(13 / rowH);
    // Rows of selected units get their own marks; plain labels keep clear of them.
    const selRows = snap.selected_units.filter((u) => u < U).map((u) => rowOf[u]);
    for (let k = 0; k < U; k += every) {
      if (selRows.some((sk) => Math.abs(sk - k) * rowH < 11)) continue;
      ctx.fillText(String(order[k]), r.x - 10, r.y + (k + 0.5) * rowH);
    }
    const runs = selectionRuns(snap.selected_units, U, rowOf);
    const labelled = [];
    for (const run of runs) this.drawRun(ctx, run, rowH, theme, labelled);
    this.el.dataset.selectionRuns = runs.map((run) => run.label).join(";");
    ctx.restore();
    const { t0, t1 } = this.view; // the window, or a streaming sequence's capacity
    drawTimeAxis(ctx, r, t1 - t0, theme, {
      grid: false,
      t0,
      tokens: this.live ? null : stepLabels(this.ctx.store, snap.sequence),
    });
    const stages = this.ctx.store.stages(snap.sequence);
    drawStageRules(ctx, r, stageRules(stages, t0, t1), t0, t1 - t0, theme);
  }

  /**
   * The marks of one run of adjacent selected rows: a lone row gets a tab, an arrow and its number in its colour
   * (and an outline across wide rows); a longer run a bracket with one colour tick per row, one label and one outline
   * around the whole run. Labels closer than 10 px to one already drawn (`labelled`: their y) are left out.
   */
  drawRun(ctx, run, rowH, theme, labelled) {
    const r = this.rect;
    const top = r.y + run.k0 * rowH;
    const h = (run.k1 - run.k0 + 1) * rowH;
    const y = top + h / 2;
    const showLabel = !labelled.some((ly) => Math.abs(ly - y) < 10);
    if (showLabel) labelled.push(y);
    const lone = run.members.length === 1;
    ctx.save();
    if (lone) {
      const color = categorical(run.members[0].j, theme.dark);
      ctx.fillStyle = color;
      ctx.fillRect(r.x - 7, top, 5, Math.max(2, rowH));
      ctx.beginPath();
      ctx.moveTo(r.x - 7, y);
      ctx.lineTo(r.x - 10, y - 3);
      ctx.lineTo(r.x - 10, y + 3);
      ctx.fill();
      if (rowH >= 6) {
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        ctx.strokeRect(r.x + 0.75, top + 0.75, r.w - 1.5, rowH - 1.5);
      }
    } else {
      for (const m of run.members) {
        ctx.fillStyle = categorical(m.j, theme.dark);
        ctx.fillRect(r.x - 4, r.y + m.k * rowH, 3, Math.max(1, rowH));
      }
      ctx.strokeStyle = theme.fg1;
      ctx.lineWidth = 1;
      ctx.beginPath(); // a bracket: [ over the run
      ctx.moveTo(r.x - 6, top + 0.5);
      ctx.lineTo(r.x - 8.5, top + 0.5);
      ctx.lineTo(r.x - 8.5, top + h - 0.5);
      ctx.lineTo(r.x - 6, top + h - 0.5);
      ctx.stroke();
      ctx.strokeStyle = theme.fg0;
      ctx.lineWidth = 1.5;
      ctx.strokeRect(r.x + 0.75, top + 0.75, r.w - 1.5, Math.max(1, h - 1.5));
    }
    if (showLabel) {
      ctx.font = font(theme, 10, 700);
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      ctx.fillStyle = lone ? categorical(run.members[0].j, theme.dark) : theme.fg0;
      const room = r.x - 12;
      const text = ctx.measureText(run.label).width <= room ? run.label : String(run.members.length);
      ctx.fillText(text, r.x - (lone ? 12 : 11), y);
    }
    ctx.restore();
  }

  drawOverlay(snap, theme, rowOf) {
    const ctx = this.plot.begin(this.plot.octx);
    const r = this.rect;
    if (!(this.T > 0 && this.U > 0)) return;
    const { t0, t1 } = this.view;
    const n = t1 - t0;
    const h = snap.hover;
    if (h && h.sequence === snap.sequence && h.t != null) drawHoverLine(ctx, r, h.t - t0, n, theme);
    if (h && h.unit != null && rowOf && h.unit < this.U) {
      const rowH = r.h / this.U;
      const y = r.y + rowOf[h.unit] * rowH;
      ctx.save();
      ctx.strokeStyle = theme.fg1;
      ctx.globalAlpha = 0.7;
      ctx.lineWidth = 1;
      ctx.strokeRect(r.x - 0.5, y - 0.5, r.w + 1, Math.max(1, rowH) + 1);
      ctx.restore();
    }
    this.drawMarks(ctx, snap, theme, rowOf);
    if (snap.t >= t0 && snap.t < t1) drawCursor(ctx, r, snap.t - t0, n, theme, { band: false });
  }

  /** The brush being dragged, the pattern search's selection and its matches in this sequence (ctx.why.marks). */
  drawMarks(ctx, snap, theme, rowOf) {
    const r = this.rect;
    const marks = this.ctx.why ? this.ctx.why.marks(snap) : null;
    const ranges = marks ? marks.ranges.slice() : [];
    if (this.brush)
      ranges.push({
        start: Math.min(this.brush.from, this.brush.to),
        stop: Math.max(this.brush.from, this.brush.to) + 1,
        kind: "brush",
      });
    if (!ranges.length) return;
    ctx.save();
    const { t0, t1 } = this.view;
    for (const m of ranges) {
      if (m.stop <= t0 || m.start >= t1) continue; // outside the zoomed window
      const x0 = xEdge(Math.max(m.start, t0) - t0, r.x, r.w, t1 - t0);
      const x1 = xEdge(Math.min(m.stop, t1) - t0, r.x, r.w, t1 - t0);
      if (m.kind === "match") {
        ctx.strokeStyle = theme.fg1;
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1.5;
        ctx.strokeRect(x0 + 0.75, r.y + 0.75, Math.max(1, x1 - x0 - 1.5), r.h - 1.5);
        ctx.setLineDash([]);
      } else {
        ctx.fillStyle = theme.dark ? "rgba(255,255,255,0.13)" : "rgba(0,0,0,0.10)";
        ctx.fillRect(x0, r.y, Math.max(1, x1 - x0), r.h);
        ctx.strokeStyle = theme.brand;
        ctx.lineWidth = 2;
        ctx.strokeRect(x0 + 1, r.y + 1, Math.max(1, x1 - x0 - 2), r.h - 2);
      }
    }
    // The pattern's units: ticks at the right edge of their rows.
    if (marks?.units.length && rowOf && this.U > 0) {
      const rowH = r.h / this.U;
      ctx.fillStyle = theme.brand;
      for (const u of marks.units) {
        if (u >= this.U) continue;
        ctx.fillRect(r.x + r.w + 2, r.y + rowOf[u] * rowH, 6, Math.max(2, rowH));
      }
    }
    ctx.restore();
  }
}

/**
 * The selected units (`selected`, those < U) grouped in runs of adjacent rows (`rowOf`: unit -> row), top to bottom:
 * [{k0, k1, members: [{u, j, k}], label}], j being the unit's place in the selection (its colour). A lone unit's label
 * is its number; a run's "10–19" when its units are consecutive numbers in order, else "n units".
 */
export function selectionRuns(selected, U, rowOf) {
  const rows = [];
  selected.forEach((u, j) => {
    if (u < U) rows.push({ u, j, k: rowOf[u] });
  });
  rows.sort((a, b) => a.k - b.k);
  const runs = [];
  for (const m of rows) {
    const last = runs[runs.length - 1];
    if (last && m.k === last.k1 + 1) {
      last.k1 = m.k;
      last.members.push(m);
    } else runs.push({ k0: m.k, k1: m.k, members: [m] });
  }
  for (const run of runs) {
    const us = run.members.map((m) => m.u);
    const consecutive = us.every((u, i) => i === 0 || u === us[i - 1] + 1);
    run.label = us.length === 1 ? String(us[0]) : consecutive ? `${us[0]}–${us[us.length - 1]}` : `${us.length} units`;
  }
  return runs;
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
