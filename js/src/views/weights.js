// Weights (lw-weights): the chosen layer row's weights split per gate, next to the gate activations over time. One
// row of panels per gate, in the framework's own gate order and names (PyTorch i, f, g, o; Keras i, f, c, o; ONNX
// i, o, f, c; a GRU's r, z, n / z, r, h); in each row: the gate's activation over the current sequence (units ×
// steps), its block of W (units × inputs), of U (units × outputs) and of the biases (units × 1), headed by the
// framework's names of the matrices (weight_ih / weight_hh / bias_ih + bias_hh; kernel / recurrent_kernel / bias;
// W / R / Wb + Rb). Every panel has the units as rows, so one unit is one row everywhere: the selected units are
// marked in their selection colour across all panels, hovering a row outlines that unit in every panel (and in the
// other views), clicking a row toggles its unit. Weights use a diverging map symmetric around 0 per matrix (the
// colour bar with its range is in its head); activations the heatmap's scale of their gate. The gutter names each
// gate and numbers the units at the top and bottom of its rows.
// The images are built once per (weights, sequence data, size, scale) and blitted; a scrub only redraws the overlay
// (the cursor on the activation panels).

import { categorical, cssGradient, scaleFor } from "../colormap.js";
import { stepFromX, xFromStep } from "../scrub.js";
import { font } from "../theme.js";
import { maxAbs } from "../why.js";
import {
  attachUnitMarks,
  clearHover,
  colorbar,
  el,
  fillSelect,
  fmt,
  labelled,
  Plot,
  setText,
  titleSpans,
  viewHead,
} from "./common.js";
import { QUANTITY_TITLES } from "./gates.js";
import { heatmapPixels } from "./heatmap.js";

const LABEL_W = 100;
/** The gate labels' width in the gutter; the unit numbers sit between them and the selection tabs. */
const GATE_LABEL_W = 66;
const HEAD_H = 54;
const ROW_GAP = 8;
const GAP = 10;
const BIAS_W = 26;
const BOTTOM = 6;
export const FRAMEWORK_LABELS = { pytorch: "PyTorch", keras: "Keras", onnx: "ONNX" };

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Panel geometry (CSS px) of a weight view `width` wide for G gates of U units, D inputs, P recurrent outputs and nb
 * bias vectors: {columns: [{kind: "act" | "W" | "U" | "b", index, x, w}], rowH, rows: [y of each gate's panels],
 * height}.
 */
export function weightsLayout(width, { G, U, D, P, nb }) {
  const rowH = clamp(Math.round(U * 1.2), 48, 120);
  const biasGroup = nb ? Math.max(nb * BIAS_W + (nb - 1) * 2, 70) : 0;
  const groups = nb ? 4 : 3;
  const avail = Math.max(150, width - LABEL_W - GAP * (groups - 1) - biasGroup - 2);
  const actW = Math.max(50, Math.round(avail * 0.38));
  const rest = Math.max(60, avail - actW);
  const wW = clamp(Math.round((rest * D) / Math.max(1, D + P)), 66, Math.max(66, Math.round(rest * 0.5)));
  const wU = Math.max(66, rest - wW);
  const columns = [];
  let x = LABEL_W;
  columns.push({ kind: "act", index: 0, x, w: actW });
  x += actW + GAP;
  columns.push({ kind: "W", index: 0, x, w: wW });
  x += wW + GAP;
  columns.push({ kind: "U", index: 0, x, w: wU });
  x += wU + GAP;
  const bw = nb ? (biasGroup - (nb - 1) * 2) / nb : 0;
  for (let k = 0; k < nb; k++) columns.push({ kind: "b", index: k, x: x + k * (bw + 2), w: bw });
  const rows = Array.from({ length: G }, (_, g) => HEAD_H + g * (rowH + ROW_GAP));
  return { columns, rowH, rows, height: HEAD_H + G * (rowH + ROW_GAP) - ROW_GAP + BOTTOM, biasGroup };
}

/**
 * Where value (unit u, column j) of gate number k lives in the framework's own arrays, as text: PyTorch
 * `weight_ih[k·H + u, j]`, Keras `kernel[j, k·H + u]` (its matrices are inputs × gates·units), ONNX
 * `W[d, k·H + u, j]`; biases `bias_ih[r] + bias_hh[r]`, `bias[r]` / `bias[0, r]`, `B[d, r] + B[d, G·H + r]`.
 */
export function nativeIndex(entry, kind, k, u, j = 0, b = 0) {
  const H = entry.W.shape[1];
  const G = entry.gates.length;
  const r = k * H + u;
  const d = entry.direction || 0;
  const fw = entry.framework;
  if (kind === "W" || kind === "U") {
    const name = entry.names[kind];
    if (fw === "keras") return `${name}[${j}, ${r}]`;
    if (fw === "onnx") return `${name}[${d}, ${r}, ${j}]`;
    return `${name}[${r}, ${j}]`;
  }
  const name = entry.biases[b];
  if (fw === "keras") return name === "bias[0]" ? `bias[0, ${r}]` : name === "bias[1]" ? `bias[1, ${r}]` : `bias[${r}]`;
  if (fw === "onnx") {
    const wb = `B[${d}, ${r}]`;
    const rb = `B[${d}, ${G * H + r}]`;
    return name === "Wb" ? wb : name === "Rb" ? rb : `${wb} + ${rb}`;
  }
  if (name === "bias_ih" || name === "bias_hh") return `${name}[${r}]`;
  return `bias_ih[${r}] + bias_hh[${r}]`;
}

export class WeightsView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    [this.title, this.sub] = titleSpans("Weights per gate");
    this.layer = el("select", {
      "aria-label": "Weights layer",
      title: "Layer (and direction) whose weights are shown",
    });
    this.layer.addEventListener("change", () => store.set({ layer: Number(this.layer.value) }));
    this.body = el("div", { class: "lw-body" });
    this.labels = el("div", { class: "lw-w-labels" });
    this.message = el("div", { class: "lw-message" });
    this.el = el(
      "div",
      { class: "lw-weights lw-view lw-card", "data-t": "0", "data-selected": "" },
      viewHead([this.title, this.sub], [labelled("layer", this.layer)]),
      this.body,
    );
    this.plot = new Plot(this.body, { height: 120 });
    this.body.append(this.labels, this.message);
    this.sizeTarget = this.body;
    this.images = new Map(); // key -> offscreen canvas
    this.baseKey = null;
    this.labelKey = null;
    this.layout = null;
    this.entry = null;
    this.T = 0;
    this.identity = new Int32Array(0);
    this.el.__lw_geometry = () => this.geometry();
    this.attachPointer();
  }

  /** For tests: every panel's rectangle (CSS px in the canvas) with its gate, kind and name, and the unit count. */
  geometry() {
    const e = this.entry;
    const lay = this.layout;
    if (!e || !lay) return null;
    const U = e.W.shape[1];
    const panels = [];
    e.gates.forEach((gate, k) => {
      for (const c of lay.columns) {
        panels.push({
          gate,
          ours: e.ours[k],
          kind: c.kind,
          name: this.columnName(c),
          x: c.x,
          y: lay.rows[k],
          w: c.w,
          h: lay.rowH,
        });
      }
    });
    return { panels, units: U, labelWidth: LABEL_W };
  }

  columnName(c) {
    const e = this.entry;
    if (c.kind === "act") return "activation";
    if (c.kind === "b") return e.biases[c.index];
    return e.names[c.kind];
  }

  attachPointer() {
    const { store, tooltip } = this.ctx;
    const target = this.plot.overlay;
    const at = (ev) => {
      const e = this.entry;
      const lay = this.layout;
      if (!e || !lay) return null;
      const { x, y } = this.plot.point(ev);
      const U = e.W.shape[1];
      const k = lay.rows.findIndex((y0) => y >= y0 && y < y0 + lay.rowH);
      if (k < 0) return null;
      const u = Math.min(U - 1, Math.floor(((y - lay.rows[k]) / lay.rowH) * U));
      const c = lay.columns.find((col) => x >= col.x && x < col.x + col.w);
      if (x < LABEL_W) return { k, u, c: null };
      if (!c) return null;
      return { k, u, c, fx: (x - c.x) / c.w, x };
    };
    target.addEventListener("pointermove", (ev) => {
      const hit = at(ev);
      const snap = store.snapshot();
      target.style.cursor = hit ? "pointer" : "";
      if (!hit) {
        tooltip.hide();
        clearHover(store, "weights");
        return;
      }
      const e = this.entry;
      const gate = e.gates[hit.k];
      const ours = e.ours[hit.k];
      let text = `unit ${hit.u} · gate ${gate}`;
      let t = null;
      if (hit.c && hit.c.kind === "act") {
        t = stepFromX(hit.x, hit.c.x, hit.c.w, this.T);
        text += ` · ${QUANTITY_TITLES[ours] || ours} · t ${t} · ${fmt(store.value(ours, snap.layer, snap.sequence, t, hit.u))}`;
      } else if (hit.c && (hit.c.kind === "W" || hit.c.kind === "U")) {
        const a = e[hit.c.kind];
        const C = a.shape[2];
        const j = Math.min(C - 1, Math.floor(hit.fx * C));
        const v = a.data[(hit.k * a.shape[1] + hit.u) * C + j];
        const from = hit.c.kind === "U" ? `from unit ${j}` : this.inputName(j);
        text += ` · ${nativeIndex(e, hit.c.kind, hit.k, hit.u, j)} · ${from} · ${fmt(v)}`;
      } else if (hit.c && hit.c.kind === "b") {
        const b = e.b;
        const v = b.data[(hit.c.index * b.shape[1] + hit.k) * b.shape[2] + hit.u];
        text += ` · ${nativeIndex(e, "b", hit.k, hit.u, 0, hit.c.index)} · ${fmt(v)}`;
      } else {
        text += " — click to select";
      }
      tooltip.show(ev.clientX, ev.clientY, text);
      store.set({ hover: { sequence: snap.sequence, t, unit: hit.u, view: "weights" } });
    });
    attachUnitMarks(target, this.ctx, "weights", (ev) => at(ev)?.u ?? null);
  }

  inputName(j) {
    const e = this.entry;
    const m = /^layer(\d+)/.exec(e.layer_name || "");
    const names = this.ctx.store.meta.feature_names;
    if (m && m[1] === "0" && names[j] != null) return `input ${names[j]}`;
    return `input ${j}`;
  }

  resize(width) {
    if (this.plot.resize(width)) this.baseKey = null;
  }

  render({ snap, theme, themeChanged }) {
    this.el.dataset.t = String(snap.t);
    if (!snap.gate_details) return; // the section is closed: nothing to draw
    const { store } = this.ctx;
    const L = store.nLayers();
    fillSelect(
      this.layer,
      Array.from({ length: L }, (_, l) => [l, store.layerName(l)]),
      snap.layer,
    );
    const entry = store.meta.has_weights ? store.weights(snap.layer) : null;
    this.entry = entry;
    this.el.dataset.selected = snap.selected_units.join(",");
    if (!entry) {
      this.layout = null;
      const name = store.layerName(snap.layer);
      setText(this.sub, name);
      setText(
        this.message,
        !store.meta.has_weights
          ? store.meta.model_note
            ? `no weights: ${store.meta.model_note}`
            : "no weights: this explorer shows recordings without their model"
          : this.ctx.offline
            ? `the weights of ${name} are not in this page`
            : `loading the weights of ${name}…`,
      );
      this.message.hidden = false;
      if (this.plot.setHeight(60)) this.plot.resize(this.plot.width);
      this.plot.begin(this.plot.bctx);
      this.plot.begin(this.plot.octx);
      this.labels.replaceChildren();
      this.baseKey = null;
      this.labelKey = null;
      return;
    }
    this.message.hidden = true;
    const [G, U, D] = entry.W.shape;
    const P = entry.U.shape[2];
    const nb = entry.b ? entry.b.shape[0] : 0;
    setText(
      this.sub,
      `${entry.layer_name} · ${FRAMEWORK_LABELS[entry.framework] || entry.framework} names · gates ${entry.gates.join(", ")} · ${U} units`,
    );
    const lay = weightsLayout(this.plot.width, { G, U, D, P, nb });
    if (this.plot.setHeight(lay.height)) {
      this.plot.resize(this.plot.width);
      this.baseKey = null;
    }
    this.layout = lay;
    const block0 = store.series(entry.ours[0], snap.layer, snap.sequence);
    this.T = block0 ? block0.rows : snap.T;
    const scales = this.scales(entry, theme);
    const loaded = entry.ours.map((q) => store.has(q)).join("");
    const baseKey = [
      store.weightsVersion,
      snap.layer,
      snap.sequence,
      store.seqVersion(snap.sequence),
      loaded,
      this.plot.width,
      this.plot.height,
      this.plot.dpr,
      theme.key,
      snap.selected_units.join(","),
    ].join("|");
    if (baseKey !== this.baseKey || themeChanged) {
      this.baseKey = baseKey;
      this.drawBase(snap, theme, entry, lay, scales);
    }
    const labelKey = [store.weightsVersion, snap.layer, this.plot.width, G, U, nb, scales.W.hi, scales.U.hi].join("|");
    if (labelKey !== this.labelKey) {
      this.labelKey = labelKey;
      this.placeLabels(entry, lay, scales);
    }
    this.drawOverlay(snap, theme, entry, lay);
  }

  /** Colour scales: each matrix symmetric around 0 over all its gates; activations the heatmap's. */
  scales(entry, theme) {
    const key = `${this.ctx.store.weightsVersion}|${entry.row}|${theme.dark}`;
    if (this.scaleKey !== key) {
      this.scaleKey = key;
      const sym = (data) => {
        const m = maxAbs(data);
        return scaleFor("w", [-m, m], theme.dark);
      };
      this.scaleCache = { W: sym(entry.W.data), U: sym(entry.U.data), b: entry.b ? sym(entry.b.data) : null };
    }
    return this.scaleCache;
  }

  identityOrder(U) {
    if (this.identity.length !== U) this.identity = Int32Array.from({ length: U }, (_, k) => k);
    return this.identity;
  }

  /** An offscreen canvas of a (U rows × C columns) block drawn at no more than its device pixels (cached). */
  image(key, U, C, w, h, scale, fill) {
    const dpr = this.plot.dpr;
    const imgW = Math.max(1, Math.min(C, Math.round(w * dpr)));
    const imgH = Math.max(1, Math.min(U, Math.round(h * dpr)));
    const full = [key, imgW, imgH, scale.map, scale.lo, scale.hi].join("|");
    let canvas = this.images.get(full);
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.width = imgW;
      canvas.height = imgH;
      const c2 = canvas.getContext("2d");
      const img = c2.createImageData(imgW, imgH);
      img.data.set(heatmapPixels(fill(), C, U, this.identityOrder(U), imgW, imgH, scale));
      c2.putImageData(img, 0, 0);
      if (this.images.size > 64) this.images.clear();
      this.images.set(full, canvas);
    }
    return canvas;
  }

  drawBase(snap, theme, entry, lay, scales) {
    const { store } = this.ctx;
    const ctx = this.plot.begin(this.plot.bctx);
    const [G, U] = entry.W.shape;
    const wv = `${store.weightsVersion}|${entry.row}`;
    // (U, C) row-major block of gate k of a (G, U, C) array, transposed to heatmapPixels' (C, U) layout.
    const transposed = (a, k, C) => () => {
      const out = new Float32Array(C * U);
      const base = k * U * C;
      for (let u = 0; u < U; u++) for (let j = 0; j < C; j++) out[j * U + u] = a.data[base + u * C + j];
      return out;
    };
    const blit = (img, c, y) => {
      ctx.imageSmoothingEnabled = !(
        img.width < c.w * this.plot.dpr * 0.75 || img.height < lay.rowH * this.plot.dpr * 0.75
      );
      ctx.drawImage(img, c.x, y, c.w, lay.rowH);
    };
    ctx.save();
    entry.gates.forEach((_gate, k) => {
      const y = lay.rows[k];
      const q = entry.ours[k];
      if (k % 2 === 0) {
        ctx.fillStyle = theme.grid;
        ctx.fillRect(0, y - ROW_GAP / 2, this.plot.width, lay.rowH + ROW_GAP);
      }
      for (const c of lay.columns) {
        ctx.fillStyle = theme.dark ? "rgba(255,255,255,0.05)" : "rgba(0,0,0,0.04)";
        ctx.fillRect(c.x, y, c.w, lay.rowH);
        if (c.kind === "act") {
          const block = store.series(q, snap.layer, snap.sequence);
          if (block && block.rows > 0) {
            const scale = scaleFor(q, store.limits(q), theme.dark);
            const key = `act|${q}|${snap.layer}|${snap.sequence}|${store.seqVersion(snap.sequence)}`;
            blit(
              this.image(key, block.cols, block.rows, c.w, lay.rowH, scale, () => block.data),
              c,
              y,
            );
          } else {
            ctx.font = font(theme, 10);
            ctx.fillStyle = theme.fg2;
            ctx.textAlign = "center";
            ctx.textBaseline = "middle";
            ctx.fillText(store.pending(q) ? `loading ${q}…` : `no ${q} recorded`, c.x + c.w / 2, y + lay.rowH / 2);
          }
        } else if (c.kind === "W" || c.kind === "U") {
          const a = entry[c.kind];
          const C = a.shape[2];
          blit(this.image(`${c.kind}|${k}|${wv}`, U, C, c.w, lay.rowH, scales[c.kind], transposed(a, k, C)), c, y);
        } else {
          const b = entry.b;
          const fill = () => b.data.slice((c.index * G + k) * U, (c.index * G + k + 1) * U);
          blit(this.image(`b|${c.index}|${k}|${wv}`, U, 1, c.w, lay.rowH, scales.b, fill), c, y);
        }
      }
    });
    ctx.restore();
    // The selected units: a tab in the gutter and an outline across every panel, in the selection colour.
    const rowPx = lay.rowH / U;
    ctx.save();
    snap.selected_units.forEach((u, j) => {
      if (u >= U) return;
      const color = categorical(j, theme.dark);
      ctx.fillStyle = color;
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      for (const y0 of lay.rows) {
        const y = y0 + u * rowPx;
        const h = Math.max(2, rowPx);
        ctx.fillRect(LABEL_W - 8, y + rowPx / 2 - Math.max(2, h / 2), 6, Math.max(4, h));
        for (const c of lay.columns) {
          ctx.strokeRect(c.x - 0.75, y - 0.75, c.w + 1.5, h + 1.5);
        }
      }
    });
    ctx.restore();
  }

  /** Gate names in the gutter and the framework's matrix names (with their colour ranges) over the columns. */
  placeLabels(entry, lay, scales) {
    const nodes = [];
    entry.gates.forEach((gate, k) => {
      const ours = entry.ours[k];
      const title = (QUANTITY_TITLES[ours] || ours) + (ours !== gate ? ` (our ${ours})` : "");
      nodes.push(
        el(
          "div",
          {
            class: "lw-w-gate",
            "data-gate": gate,
            title,
            style: { top: `${lay.rows[k] + lay.rowH / 2}px`, width: `${GATE_LABEL_W}px` },
          },
          el("b", { class: "lw-w-gate-name", text: gate }),
          el("span", { class: "lw-w-gate-title", text: title }),
        ),
      );
      // The unit numbers at the first and last row of the gate's panels.
      const U = entry.W.shape[1];
      for (const [u, edge] of [
        [0, "top"],
        [U - 1, "bottom"],
      ]) {
        const y = lay.rows[k] + (edge === "top" ? 0 : lay.rowH);
        nodes.push(
          el("span", {
            class: `lw-w-unit lw-w-unit-${edge}`,
            "data-unit": String(u),
            title: `unit ${u}`,
            text: String(u),
            style: {
              left: `${GATE_LABEL_W}px`,
              width: `${LABEL_W - 10 - GATE_LABEL_W}px`,
              top: `${y}px`,
              transform: edge === "top" ? "none" : "translateY(-100%)",
            },
          }),
        );
      }
    });
    const head = (kind, name, range, x, w, title, scale = null) => {
      let bar = null;
      if (scale) {
        // a colour bar with its range: -m, 0, +m
        bar = colorbar({ title: `${name}: colour scale ${range}`, midText: "0" });
        bar.bar.style.background = cssGradient(scale.map);
        setText(bar.lo, fmt(scale.lo, 2));
        setText(bar.hi, fmt(scale.hi, 2));
      }
      return el(
        "div",
        { class: "lw-w-head", "data-kind": kind, title, style: { left: `${x}px`, width: `${w}px` } },
        el("span", { class: "lw-w-name", text: name }),
        bar ? bar.node : el("span", { class: "lw-w-range", text: range }),
      );
    };
    const [act, W, U] = lay.columns;
    nodes.push(
      head(
        "act",
        "gate over time",
        `t 0–${Math.max(0, this.T - 1)}`,
        act.x,
        act.w,
        "the gate's activation at every step of the sequence",
      ),
    );
    for (const [kind, col, what] of [
      ["W", W, "input weights W"],
      ["U", U, "recurrent weights U"],
    ]) {
      const name = entry.names[kind];
      nodes.push(
        head(
          kind,
          name,
          `${kind} · ±${fmt(scales[kind].hi, 2)}`,
          col.x,
          col.w,
          `${name}: ${what}, one block per gate`,
          scales[kind],
        ),
      );
    }
    if (entry.biases.length) {
      const first = lay.columns[3];
      nodes.push(
        head(
          "b",
          entry.biases.join(" | "),
          `b · ±${fmt(scales.b.hi, 2)}`,
          first.x,
          lay.biasGroup,
          `${entry.biases.join(", ")}: biases b, one block per gate`,
          scales.b,
        ),
      );
    }
    this.labels.replaceChildren(...nodes);
  }

  drawOverlay(snap, theme, entry, lay) {
    const ctx = this.plot.begin(this.plot.octx);
    const U = entry.W.shape[1];
    const act = lay.columns[0];
    if (this.T > 0) {
      const x = Math.round(xFromStep(Math.min(snap.t, this.T - 1), act.x, act.w, this.T)) + 0.5;
      ctx.fillStyle = theme.brand;
      for (const y of lay.rows) ctx.fillRect(x - 1, y - 2, 2, lay.rowH + 4);
    }
    const h = snap.hover;
    if (h && h.unit != null && h.unit < U) {
      const rowPx = lay.rowH / U;
      ctx.save();
      ctx.strokeStyle = theme.fg1;
      ctx.globalAlpha = 0.75;
      ctx.lineWidth = 1;
      for (const y0 of lay.rows) {
        const y = y0 + h.unit * rowPx;
        for (const c of lay.columns) ctx.strokeRect(c.x - 0.5, y - 0.5, c.w + 1, Math.max(1, rowPx) + 1);
      }
      ctx.restore();
    }
  }
}
