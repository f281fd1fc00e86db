// Gate saturation (lw-saturation): the scatter of Karpathy, Johnson & Fei-Fei (2015) — per unit, the fraction of
// steps its gate is left-saturated (< 0.1, x) against the fraction it is right-saturated (> 0.9, y); one point per
// unit, one panel per gate squashed to [0, 1] (an LSTM's i, f, o; a GRU's r, z), for the chosen layer row, over the
// current sequence or over every loaded sequence. The fractions are counted here from the gate data on the page and
// equal `lstm_widget.gate_saturation`'s (same thresholds, compared in float32 as numpy compares a float32 recording
// with a Python float). Points of the selected units are drawn large in their selection colour; clicking a point
// toggles its unit, hovering one highlights the unit in the other views. Nothing here depends on the cursor: a scrub
// only updates data-t.

import { categorical, isSigned } from "../colormap.js";
import { font } from "../theme.js";
import { attachUnitMarks, clearHover, el, fmt, Plot, setText, titleSpans, viewHead } from "./common.js";
import { QUANTITY_TITLES } from "./gates.js";

/** Karpathy et al.'s thresholds (and `gate_saturation`'s defaults). */
export const LOW = 0.1;
export const HIGH = 0.9;
const CAPTION_H = 18;
const PAD = { left: 30, right: 8, top: 4, bottom: 28 };
const GAP = 12;
const MIN_PANEL = 140;
const MAX_PANEL = 230;
const HIT_PX = 8;

/**
 * Per unit, the fraction of the rows of a (rows, U) block (data[t * U + u]) whose value is below `low` and above
 * `high`. Thresholds are rounded to float32 first (numpy 2 compares a float32 array with a Python float in float32);
 * NaN cells (gaps of a live sequence) are not steps. Returns {left, right: Float64Array(U), steps: Uint32Array(U)}.
 */
export function saturationFractions(data, rows, U, low = LOW, high = HIGH) {
  const lo = Math.fround(low);
  const hi = Math.fround(high);
  const below = new Uint32Array(U);
  const above = new Uint32Array(U);
  const steps = new Uint32Array(U);
  for (let t = 0; t < rows; t++) {
    const base = t * U;
    for (let u = 0; u < U; u++) {
      const v = data[base + u];
      if (v !== v) continue;
      steps[u]++;
      if (v < lo) below[u]++;
      else if (v > hi) above[u]++;
    }
  }
  const left = new Float64Array(U);
  const right = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    left[u] = steps[u] ? below[u] / steps[u] : NaN;
    right[u] = steps[u] ? above[u] / steps[u] : NaN;
  }
  return { left, right, steps };
}

/** The gates of a model's quantities that a saturation panel is drawn for: those squashed to [0, 1]. */
export function saturationGates(quantities) {
  return quantities.filter((q) => !isSigned(q));
}

/** Panel rectangles (CSS px) for `n` panels in a plot `width` wide: as many per row as fit, square plot areas. */
export function saturationLayout(width, n) {
  const cols = Math.max(1, Math.min(n, Math.floor((width + GAP) / (MIN_PANEL + GAP))));
  const size = Math.max(80, Math.min(MAX_PANEL, Math.floor((width - (cols - 1) * GAP) / cols)));
  const rows = Math.ceil(n / cols);
  const inner = size - PAD.left - PAD.right; // a square plot area
  const blockH = CAPTION_H + PAD.top + inner + PAD.bottom;
  const panels = [];
  for (let k = 0; k < n; k++) {
    const x0 = (k % cols) * (size + GAP);
    const y0 = Math.floor(k / cols) * (blockH + GAP);
    panels.push({ x0, y0, size, x: x0 + PAD.left, y: y0 + CAPTION_H + PAD.top, w: inner, h: inner });
  }
  return { panels, height: Math.max(60, rows * blockH + (rows - 1) * GAP), cols };
}

export class SaturationView {
  constructor(ctx) {
    this.ctx = ctx;
    this.mode = "all"; // "all": every loaded sequence; "sequence": the current one (page-local)
    [this.title, this.sub] = titleSpans("Gate saturation");
    this.modeButtons = [
      ["sequence", "this sequence", "count the steps of the current sequence"],
      ["all", "all sequences", "count the steps of every loaded sequence"],
    ].map(([mode, label, title]) => {
      const b = el("button", { type: "button", "data-mode": mode, title, "aria-pressed": "false", text: label });
      b.addEventListener("click", () => {
        this.mode = mode;
        this.key = null;
        this.ctx.store.notify(new Set(["saturation"]), "ui"); // repaint on the next frame
      });
      return b;
    });
    this.body = el("div", { class: "lw-body" });
    this.message = el("div", { class: "lw-message" });
    this.captions = el("div", { class: "lw-sat-captions" });
    this.el = el(
      "div",
      { class: "lw-saturation lw-view lw-card", "data-t": "0", "data-mode": this.mode },
      viewHead(
        [this.title, this.sub],
        [el("span", { class: "lw-seg", role: "group", "aria-label": "Steps counted" }, ...this.modeButtons)],
      ),
      this.body,
      el("div", {
        class: "lw-sat-note lw-muted",
        text: `x: share of steps below ${LOW} · y: share above ${HIGH} · click a point to select its unit`,
      }),
    );
    this.plot = new Plot(this.body, { height: 200 });
    this.body.append(this.captions, this.message);
    this.sizeTarget = this.body;
    this.key = null;
    this.baseKey = null;
    this.points = []; // [{gate, panel, unit, x, y, left, right}]
    this.stats = null; // {gates: [{q, left, right}], U}
    this.el.__lw_points = () =>
      this.points.map(({ gate, unit, x, y, left, right }) => ({ gate, unit, x, y, left, right }));
    this.attachPointer();
  }

  attachPointer() {
    const { store, tooltip } = this.ctx;
    const target = this.plot.overlay;
    const hit = (ev) => {
      const { x, y } = this.plot.point(ev);
      let best = null;
      let bestD = HIT_PX * HIT_PX;
      for (const p of this.points) {
        const d = (p.x - x) ** 2 + (p.y - y) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = p;
        }
      }
      return best;
    };
    target.addEventListener("pointermove", (ev) => {
      const p = hit(ev);
      target.style.cursor = p ? "pointer" : "";
      const snap = store.snapshot();
      if (!p) {
        tooltip.hide();
        clearHover(store, "saturation");
        return;
      }
      tooltip.show(
        ev.clientX,
        ev.clientY,
        `unit ${p.unit} · ${p.gate} · left ${fmt(p.left, 2)} · right ${fmt(p.right, 2)}`,
      );
      store.set({ hover: { sequence: snap.sequence, t: null, unit: p.unit, view: "saturation" } });
    });
    attachUnitMarks(target, this.ctx, "saturation", (ev) => hit(ev)?.unit ?? null);
  }

  resize(width) {
    if (this.plot.resize(width)) this.baseKey = null;
  }

  /** The fractions of every panel's gate for the current mode, layer and data (cached; no cursor dependence). */
  compute(snap, gates) {
    const { store } = this.ctx;
    const dataKey =
      this.mode === "all" ? `all|${store.version}` : `seq|${snap.sequence}|${store.seqVersion(snap.sequence)}`;
    const key = [dataKey, snap.layer, gates.join(""), gates.map((q) => store.has(q)).join("")].join("|");
    if (this.key === key) return this.stats;
    this.key = key;
    let U = 0;
    const out = [];
    for (const q of gates) {
      const block = this.mode === "all" ? store.all(q, snap.layer) : store.series(q, snap.layer, snap.sequence);
      if (!block) {
        out.push({ q, left: null, right: null });
        continue;
      }
      const { left, right } = saturationFractions(block.data, block.rows, block.cols);
      U = Math.max(U, block.cols);
      out.push({ q, left, right, steps: block.rows });
    }
    this.stats = { gates: out, U };
    return this.stats;
  }

  render({ snap, theme, themeChanged }) {
    this.el.dataset.t = String(snap.t);
    if (!snap.gate_details) return; // the section is closed: nothing to draw
    const { store } = this.ctx;
    for (const b of this.modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === this.mode));
    this.el.dataset.mode = this.mode;
    const gates = saturationGates(store.meta.quantities);
    const stats = this.compute(snap, gates);
    const pending = gates.filter((q) => store.pending(q));
    const steps = this.mode === "all" ? store.meta.offsets[store.nSequences()] || 0 : snap.T;
    setText(
      this.sub,
      `${store.layerName(snap.layer)} · ${stats.U} units · ${steps} steps` +
        (this.mode === "all" ? ` of ${store.nSequences()} sequences` : ""),
    );
    const layout = saturationLayout(this.plot.width, gates.length);
    if (this.plot.setHeight(layout.height)) {
      this.plot.resize(this.plot.width);
      this.baseKey = null;
    }
    const has = gates.length > 0 && stats.U > 0 && pending.length < gates.length;
    this.message.hidden = has;
    if (!has) {
      setText(
        this.message,
        !gates.length
          ? "no gates in [0, 1] recorded"
          : pending.length
            ? `loading ${pending.join(", ")}…`
            : "no gate activations recorded",
      );
    }
    const sel = snap.selected_units.join(",");
    const baseKey = [this.key, sel, this.plot.width, this.plot.height, theme.key].join("|");
    if (baseKey !== this.baseKey || themeChanged) {
      this.baseKey = baseKey;
      this.drawBase(snap, theme, layout, has ? stats : { gates: [], U: 0 });
      this.placeCaptions(layout, gates, pending);
    }
    this.drawOverlay(snap, theme);
  }

  placeCaptions(layout, gates, pending) {
    const nodes = gates.map((q, k) => {
      const p = layout.panels[k];
      const node = el(
        "div",
        { class: "lw-sat-title", "data-gate": q, style: { left: `${p.x}px`, top: `${p.y0}px`, width: `${p.w}px` } },
        el("b", { text: q }),
        ` ${QUANTITY_TITLES[q] || ""}${pending.includes(q) ? " (loading…)" : ""}`,
      );
      return node;
    });
    this.captions.replaceChildren(...nodes);
  }

  drawBase(snap, theme, layout, stats) {
    const ctx = this.plot.begin(this.plot.bctx);
    this.points = [];
    const selected = snap.selected_units;
    const selIndex = new Map(selected.map((u, k) => [u, k]));
    layout.panels.forEach((p, k) => {
      const g = stats.gates[k];
      // Frame, grid, the diagonal x + y = 1 (no unit can lie above it) and ticks.
      ctx.save();
      ctx.fillStyle = theme.dark ? "rgba(255,255,255,0.03)" : "rgba(0,0,0,0.025)";
      ctx.fillRect(p.x, p.y, p.w, p.h);
      ctx.strokeStyle = theme.grid;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const v of [0.5]) {
        ctx.moveTo(p.x + v * p.w, p.y);
        ctx.lineTo(p.x + v * p.w, p.y + p.h);
        ctx.moveTo(p.x, p.y + (1 - v) * p.h);
        ctx.lineTo(p.x + p.w, p.y + (1 - v) * p.h);
      }
      ctx.stroke();
      ctx.strokeStyle = theme.axis;
      ctx.strokeRect(p.x + 0.5, p.y + 0.5, p.w - 1, p.h - 1);
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(p.x + p.w, p.y + p.h);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = font(theme, 9.5);
      ctx.fillStyle = theme.fg2;
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (const v of [0, 0.5, 1]) ctx.fillText(String(v), p.x + v * p.w, p.y + p.h + 3);
      ctx.fillText(`left-saturated (< ${LOW})`, p.x + p.w / 2, p.y + p.h + 14);
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      for (const v of [0, 0.5, 1]) ctx.fillText(String(v), p.x - 4, p.y + (1 - v) * p.h);
      ctx.save();
      ctx.translate(p.x - 22, p.y + p.h / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText(`right-saturated (> ${HIGH})`, 0, 0);
      ctx.restore();
      ctx.restore();
      if (!g?.left) return;
      // Every unit's point, faint; then the selected units on top, large, in their selection colour.
      const xy = (u) => [p.x + g.left[u] * p.w, p.y + (1 - g.right[u]) * p.h];
      ctx.save();
      ctx.fillStyle = theme.fg2;
      ctx.globalAlpha = 0.55;
      for (let u = 0; u < g.left.length; u++) {
        if (g.left[u] !== g.left[u]) continue;
        const [x, y] = xy(u);
        this.points.push({ gate: g.q, panel: k, unit: u, x, y, left: g.left[u], right: g.right[u] });
        if (selIndex.has(u)) continue;
        ctx.beginPath();
        ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
      ctx.save();
      for (const [u, j] of selIndex) {
        if (u >= g.left.length || g.left[u] !== g.left[u]) continue;
        const [x, y] = xy(u);
        ctx.beginPath();
        ctx.arc(x, y, 5, 0, 2 * Math.PI);
        ctx.fillStyle = categorical(j, theme.dark);
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = theme.dark ? "#000" : "#fff";
        ctx.stroke();
      }
      ctx.restore();
    });
  }

  drawOverlay(snap, theme) {
    const ctx = this.plot.begin(this.plot.octx);
    const h = snap.hover;
    if (!h || h.unit == null) return;
    ctx.save();
    ctx.strokeStyle = theme.fg1;
    ctx.lineWidth = 1.5;
    for (const p of this.points) {
      if (p.unit !== h.unit) continue;
      ctx.beginPath();
      ctx.arc(p.x, p.y, 7, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.restore();
  }
}
