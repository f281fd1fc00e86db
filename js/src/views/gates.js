// Gates (lw-gates): for the selected units (the first few when none are selected), the gate activations at the
// current step, coloured with the same scales as the heatmap — the columns follow `_meta.quantities`: an LSTM's
// i, f, o (bars on 0..1), its candidate g and cell state c (signed bars around 0); a GRU's r, z (0..1), its
// candidate n and hidden state h (signed). A step where the layer's module did not run (NaN) shows "–" and no bar.
// The column heads are text over the canvas (.lw-gate-head: the name and a caption that fits its column — the full
// title, a short one, or none), so they never run into each other.

import { categorical, cssColor, scaleFor } from "../colormap.js";
import { font } from "../theme.js";
import { el, fmt, Plot, setText, titleSpans, viewHead } from "./common.js";
import { fallbackCaption, shownUnits } from "./traces.js";

/** What each recorded quantity is, for column heads and tooltips. */
export const QUANTITY_TITLES = {
  i: "input gate",
  f: "forget gate",
  g: "candidate",
  o: "output gate",
  c: "cell state",
  r: "reset gate",
  z: "update gate",
  n: "candidate",
  h: "hidden state",
};

/** The short captions of the column heads, for columns too narrow for the full title. */
export const SHORT_TITLES = {
  i: "input",
  f: "forget",
  g: "cand.",
  o: "output",
  c: "cell",
  r: "reset",
  z: "update",
  n: "cand.",
  h: "hidden",
};

/**
 * The caption of a column head `room` px wide: the first of `texts` that `measure(text)` says fits, else "".
 */
export function fittingCaption(texts, room, measure) {
  for (const text of texts) if (text && measure(text) <= room) return text;
  return "";
}

/** The gates view's columns for a model's quantities: its gates in recorded order, then its state (c, else h). */
export function gateColumns(quantities) {
  const gates = quantities.filter((q) => q !== "h" && q !== "c");
  const state = quantities.includes("c") ? "c" : "h";
  return [...gates, state].map((q) => ({ q, name: q, title: QUANTITY_TITLES[q] || q }));
}

/** An LSTM's columns (i, f, g, o, c). */
export const GATE_COLUMNS = gateColumns(["h", "c", "i", "f", "g", "o"]);
const MAX_ROWS = 10;
const HEAD_H = 30;
const ROW_H = 30;
const LABEL_W = 62;

export class GatesView {
  constructor(ctx) {
    this.ctx = ctx;
    [this.title, this.sub] = titleSpans("Gates");
    this.body = el("div", { class: "lw-body" });
    this.message = el("div", { class: "lw-message" });
    this.el = el(
      "div",
      { class: "lw-gates lw-view lw-card", "data-t": "0" },
      viewHead([this.title, this.sub]),
      this.body,
    );
    this.plot = new Plot(this.body, { height: HEAD_H + 5 * ROW_H });
    this.headLayer = el("div", { class: "lw-gate-heads" });
    this.headSig = "";
    this.body.append(this.headLayer, this.message);
    this.sizeTarget = this.body;
    this.cells = [];
    this.columns = GATE_COLUMNS;
    this.attachHover();
  }

  attachHover() {
    const { tooltip, store } = this.ctx;
    this.plot.overlay.addEventListener("pointermove", (ev) => {
      const { x, y } = this.plot.point(ev);
      const head = this.heads.find((h) => y < HEAD_H && x >= h.x && x < h.x + h.w);
      this.plot.overlay.style.cursor = head ? "pointer" : "";
      if (head) {
        tooltip.show(
          ev.clientX,
          ev.clientY,
          store.pending(head.q) ? `load ${head.q} (shows it in the heatmap)` : `show ${head.q} in the heatmap`,
        );
        return;
      }
      const cell = this.cells.find((c) => x >= c.x && x < c.x + c.w && y >= c.y && y < c.y + c.h);
      if (!cell) {
        tooltip.hide();
        return;
      }
      tooltip.show(
        ev.clientX,
        ev.clientY,
        `unit ${cell.unit} · ${cell.title} ${cell.q} · t ${cell.t} · ${fmt(cell.v)}`,
      );
    });
    this.plot.overlay.addEventListener("pointerleave", () => tooltip.hide());
    this.plot.overlay.addEventListener("click", (ev) => {
      const { x, y } = this.plot.point(ev);
      const head = this.heads.find((h) => y < HEAD_H && x >= h.x && x < h.x + h.w);
      if (head) {
        store.set({ quantity: head.q }); // shows it in the heatmap (and has the kernel load it if it is not here)
        return;
      }
      const row = this.rows.find((r) => y >= r.y && y < r.y + ROW_H && x < LABEL_W);
      if (row && !row.fallback) store.toggleUnit(row.unit);
    });
    this.rows = [];
    this.heads = [];
  }

  resize(width) {
    this.plot.resize(width);
  }

  render({ snap, theme }) {
    const { store } = this.ctx;
    this.columns = gateColumns(store.meta.quantities);
    const U = Math.max(...this.columns.map((c) => store.width(c.q)), 0);
    const { units: all, fallback } = shownUnits(snap.selected_units, U, 6);
    const units = all.slice(0, MAX_ROWS);
    const extra = all.length - units.length;
    setText(this.title, `Gates at t = ${snap.t}`);
    const pending = this.columns.filter((c) => store.pending(c.q)).map((c) => c.q);
    // Several stages (an encoder, then a decoder): a layer whose module did not run at t has no values there.
    const stateQ = this.columns[this.columns.length - 1].q;
    const idle =
      store.stages(snap.sequence).length > 0 &&
      store.has(stateQ) &&
      Number.isNaN(store.value(stateQ, snap.layer, snap.sequence, snap.t, 0));
    setText(
      this.sub,
      `${store.layerName(snap.layer)}${fallback ? ` · ${fallbackCaption(units.length)}` : ""}${extra > 0 ? ` · +${extra} more` : ""}` +
        (pending.length ? ` · not loaded: ${pending.join(", ")} (click a column)` : "") +
        (idle ? " · its module did not run at this step" : ""),
    );
    const has = U > 0 && snap.T > 0;
    this.message.hidden = has;
    if (!has) setText(this.message, U > 0 ? "no steps recorded yet" : "no gate activations recorded");
    if (this.plot.setHeight(has ? HEAD_H + units.length * ROW_H + 6 : 40)) this.plot.resize(this.plot.width);

    const ctx = this.plot.begin(this.plot.bctx); // (nothing is drawn on the overlay: it only takes the pointer)
    this.cells = [];
    this.rows = [];
    this.heads = [];
    if (has) this.draw(ctx, snap, theme, units, fallback);
    else this.placeHeads([], ctx, theme);
    this.el.dataset.t = String(snap.t);
  }

  /** The column heads as text over the canvas: `cols` [{q, name, title, pending, x, w}]. */
  placeHeads(cols, ctx, theme) {
    // The same heads as last time (the usual case: a repaint for a new step): nothing to measure or place.
    const given = JSON.stringify([cols.map((c) => [c.q, c.title, c.name, c.pending, c.x, c.w]), theme.key]);
    if (given === this.headsGiven) return;
    this.headsGiven = given;
    ctx.save();
    ctx.font = font(theme, 9);
    const measure = (text) => ctx.measureText(text).width;
    const heads = cols.map((c) => {
      const texts = c.pending ? ["click to load", "load"] : [c.title, SHORT_TITLES[c.q]];
      return { ...c, caption: fittingCaption(texts, c.w - 6, measure) };
    });
    ctx.restore();
    const sig = JSON.stringify([heads, theme.key]);
    if (sig === this.headSig) return;
    this.headSig = sig;
    this.headLayer.replaceChildren(
      ...heads.map((h) =>
        el(
          "div",
          {
            class: `lw-gate-head${h.pending ? " lw-pending" : ""}`,
            "data-q": h.q,
            title: h.pending ? `${h.title}: click to load` : `${h.title} (click to show it in the heatmap)`,
            style: { left: `${h.x}px`, width: `${h.w}px`, height: `${HEAD_H}px` },
          },
          el("span", { class: "lw-gate-head-name", text: h.name }),
          el("span", { class: "lw-gate-head-title", text: h.caption }),
        ),
      ),
    );
  }

  draw(ctx, snap, theme, units, fallback) {
    const { store } = this.ctx;
    const W = this.plot.width;
    const columns = this.columns;
    const colW = (W - LABEL_W - 4) / columns.length;
    ctx.textBaseline = "middle";
    // Column heads: the shown quantity's shaded here, the text over the canvas (placeHeads).
    columns.forEach((col, k) => {
      if (col.q === snap.quantity) {
        ctx.fillStyle = theme.grid;
        ctx.fillRect(LABEL_W + k * colW + 2, 0, colW - 4, HEAD_H - 2);
      }
      this.heads.push({ x: LABEL_W + k * colW, w: colW, q: col.q });
    });
    this.placeHeads(
      columns.map((col, k) => ({ ...col, pending: store.pending(col.q), x: LABEL_W + k * colW, w: colW })),
      ctx,
      theme,
    );
    const scales = {};
    for (const col of columns) scales[col.q] = scaleFor(col.q, store.limits(col.q), theme.dark);
    units.forEach((u, r) => {
      const y0 = HEAD_H + r * ROW_H;
      if (r % 2 === 0) {
        ctx.fillStyle = theme.grid;
        ctx.fillRect(0, y0, W, ROW_H);
      }
      // Unit label with its colour (matches traces and the heatmap marks).
      const color = categorical(r, theme.dark);
      ctx.fillStyle = color;
      ctx.fillRect(6, y0 + ROW_H / 2 - 5, 10, 10);
      ctx.textAlign = "left";
      ctx.font = font(theme, 11, 600);
      ctx.fillStyle = theme.fg1;
      ctx.fillText(`unit ${u}`, 20, y0 + ROW_H / 2);
      this.rows.push({ unit: u, y: y0, fallback });
      columns.forEach((col, k) => {
        const v = store.value(col.q, snap.layer, snap.sequence, snap.t, u);
        const sc = scales[col.q];
        const x = LABEL_W + k * colW + 5;
        const w = colW - 10;
        const barY = y0 + 17;
        const barH = 8;
        ctx.fillStyle = theme.dark ? "rgba(255,255,255,0.08)" : "rgba(0,0,0,0.07)";
        ctx.fillRect(x, barY, w, barH);
        if (v === v) {
          // Signed bars: the length shows the magnitude; the colour only the sign (a near-zero colour would vanish).
          ctx.fillStyle = sc.signed ? cssColor(sc, (v < 0 ? -0.8 : 0.8) * sc.hi) : cssColor(sc, v);
          if (sc.signed) {
            const mid = x + w / 2;
            const frac = Math.max(-1, Math.min(1, v / sc.hi));
            const bw = (frac * w) / 2;
            ctx.fillRect(Math.min(mid, mid + bw), barY, Math.max(1, Math.abs(bw)), barH);
            ctx.fillStyle = theme.axis;
            ctx.fillRect(Math.round(mid) - 0.5, barY - 2, 1, barH + 4);
          } else {
            ctx.fillRect(x, barY, Math.max(1, Math.max(0, Math.min(1, v)) * w), barH);
          }
        }
        ctx.textAlign = "center";
        ctx.font = font(theme, 10);
        ctx.fillStyle = theme.fg1;
        ctx.fillText(v === v ? v.toFixed(2) : "–", x + w / 2, y0 + 9);
        this.cells.push({ x: x - 5, y: y0, w: colW, h: ROW_H, unit: u, q: col.q, title: col.title, t: snap.t, v });
      });
    });
  }
}
