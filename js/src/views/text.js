// Text (lw-text): a token model's sequence as running text (tokens joined; a newline token breaks the line), each
// token's background coloured by a value at its step — the selected unit (the one hovered in the heatmap, else the
// first of selected_units) in the shown layer and quantity, on the heatmap's colour scale; or, in the "influence on t"
// mode, how much each earlier token drove the prediction at the cursor (the Why section's `_influence`, summed over
// the embedding). Karpathy, Johnson & Fei-Fei (2015) read quote- and line-length cells off this view. Hover a token:
// "t = 12 · 'e' · h[3] = 0.82"; click: moves t; the token at t is outlined. Shown only for token models
// (meta.tokens). The root carries data-t, data-mode, data-unit ("" when no unit colours the text) and data-start (the
// first step shown: long sequences show a window of MAX_SPANS tokens around t).

import { cssGradient, scaleFor } from "../colormap.js";
import { joiner, maxAbsFinite, spanText, tokenColors, tokenLabel, tokenScores, tokenText } from "../tokens.js";
import { canRunModel, influenceRow } from "../why.js";
import { clearHover, el, fillSelect, fmt, labelled, setText, titleSpans, viewHead } from "./common.js";

/** The most token spans the view holds at once (a window around t beyond that). */
export const MAX_SPANS = 4000;
const MODES = [
  ["unit", "unit"],
  ["influence", "influence on t"],
];

/** The first step of the window of `T` steps shown around `t`: snapped to quarters of MAX_SPANS, so a scrub
 * rebuilds the spans rarely. */
export function windowStart(t, T, max = MAX_SPANS) {
  if (T <= max) return 0;
  const q = Math.max(1, Math.floor(max / 4));
  const start = Math.floor((t - max / 2) / q) * q;
  return Math.max(0, Math.min(start, T - max));
}

export class TextView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    [this.title, this.sub] = titleSpans("Text");
    this.mode = el("select", { "aria-label": "Colour the text by", title: "What colours each token" });
    this.swatch = el("span", { class: "lw-cb-bar lw-text-scale" });
    this.body = el("div", { class: "lw-text-body", role: "list" });
    this.message = el("div", { class: "lw-text-message lw-muted" });
    this.el = el(
      "div",
      { class: "lw-text lw-view lw-card", "data-t": "0", "data-mode": "unit", "data-unit": "", "data-start": "0" },
      viewHead([this.title, this.sub], [labelled("colour by", this.mode), this.swatch]),
      this.message,
      this.body,
    );
    this.modeValue = "unit";
    this.spans = [];
    this.built = null; // key of the spans built
    this.painted = null; // key of the colours painted
    this.start = 0;
    this.cur = null;
    this.mode.addEventListener("change", () => {
      this.modeValue = this.mode.value;
      // colouring by influence needs the influence map: opening the Why section is the request for it
      if (this.modeValue === "influence" && !store.state.why_open) store.set({ why_open: true });
      store.notify(new Set(["text-mode"]), "ui");
    });
    this.body.addEventListener("click", (ev) => {
      const step = this.stepOf(ev.target);
      if (step != null) store.set({ t: step });
    });
    this.body.addEventListener("pointermove", (ev) => {
      const step = this.stepOf(ev.target);
      if (step == null) {
        ctx.tooltip.hide();
        return;
      }
      ctx.tooltip.show(ev.clientX, ev.clientY, this.describeStep(step));
      const snap = store.snapshot();
      store.set({ hover: { sequence: snap.sequence, t: step, unit: null, view: "text" } });
    });
    this.body.addEventListener("pointerleave", () => {
      ctx.tooltip.hide();
      clearHover(store, "text");
    });
  }

  stepOf(node) {
    const span = node?.closest ? node.closest(".lw-tok") : null;
    return span && this.body.contains(span) ? Number(span.dataset.step) : null;
  }

  /** The unit that colours the text: the one hovered in the heatmap, else the first selected one; null if none. */
  unitFor(snap) {
    const h = snap.hover;
    if (h && h.view === "heatmap" && h.unit != null) return h.unit;
    const U = this.ctx.store.width(snap.quantity);
    const u = snap.selected_units.find((v) => v < U);
    return u == null ? null : u;
  }

  /** The tooltip of a step: "t = 12 · 'e' · h[3] = 0.82" (or its influence on the prediction at t). */
  describeStep(step) {
    const { store } = this.ctx;
    const snap = store.snapshot();
    const id = store.tokenId(snap.sequence, step);
    let text = `t = ${step} · '${tokenLabel(store.meta.vocab, id)}'`;
    const c = this.coloring;
    if (c?.kind === "unit") text += ` · ${snap.quantity}[${c.unit}] = ${fmt(c.values[step - c.start])}`;
    else if (c?.kind === "influence") {
      const v = c.values[step];
      text += v === v ? ` · influence on t = ${c.t}: ${fmt(v)}` : ` · after t = ${c.t}`;
    }
    return text;
  }

  render({ snap, theme, themeChanged }) {
    const { store } = this.ctx;
    const meta = store.meta;
    this.el.dataset.t = String(snap.t);
    const show = meta.tokens;
    if (this.el.hidden === show) this.el.hidden = !show;
    if (!show) return;
    fillSelect(this.mode, MODES, this.modeValue);
    this.el.dataset.mode = this.modeValue;
    const T = snap.T;
    const start = windowStart(snap.t, T);
    const stop = Math.min(T, start + MAX_SPANS);
    this.el.dataset.start = String(start);
    const buildKey = [snap.sequence, store.seqVersion(snap.sequence), start, stop, meta.vocab?.length ?? -1].join("|");
    if (buildKey !== this.built) {
      this.built = buildKey;
      this.build(snap.sequence, start, stop);
      this.painted = null;
    }
    this.paint(snap, theme, themeChanged);
    // the token at t: outlined (and kept in view while the cursor moves)
    const cur = this.spans[snap.t - start] || null;
    if (cur !== this.cur) {
      this.cur?.classList.remove("lw-tok-cur");
      cur?.classList.add("lw-tok-cur");
      this.cur = cur;
      if (cur && snap.playing) cur.scrollIntoView?.({ block: "nearest", inline: "nearest" });
    }
  }

  /** One span per token of steps [start, stop) of sequence s, joined as running text. */
  build(s, start, stop) {
    const { store } = this.ctx;
    const vocab = store.meta.vocab;
    const sep = joiner(vocab);
    const nodes = [];
    this.spans = [];
    if (start > 0) nodes.push(el("span", { class: "lw-muted", text: `… ${start} earlier tokens … ` }));
    for (let t = start; t < stop; t++) {
      const id = store.tokenId(s, t);
      const span = el("span", {
        class: "lw-tok",
        role: "listitem",
        "data-step": String(t),
        text: id >= 0 ? spanText(tokenText(vocab, id)) : "·",
      });
      this.spans.push(span);
      nodes.push(span);
      if (sep && t < stop - 1) nodes.push(sep);
    }
    if (stop < store.length(s)) nodes.push(el("span", { class: "lw-muted", text: " …" }));
    this.body.replaceChildren(...nodes);
  }

  /** Colour every span by the mode's values (only when what they depend on changed). */
  paint(snap, theme, themeChanged) {
    const { store } = this.ctx;
    const start = this.start0();
    let coloring = null;
    let message = "";
    if (this.modeValue === "unit") {
      const unit = this.unitFor(snap);
      const q = snap.quantity;
      if (unit == null) message = "select a unit (click a heatmap row) to colour the text by its value";
      else if (!store.has(q)) message = store.pending(q) ? `loading ${q}…` : `no ${q} recorded`;
      else {
        const scale = scaleFor(q, store.limits(q), theme.dark);
        const key = ["unit", this.built, unit, snap.layer, q, scale.lo, scale.hi, scale.map].join("|");
        coloring = { kind: "unit", unit, key, scale, start };
        if (key !== this.painted?.key || themeChanged) {
          coloring.values = this.spans.map((_, k) => store.value(q, snap.layer, snap.sequence, start + k, unit));
        }
        setText(this.sub, `${store.layerName(snap.layer)} · ${q}[${unit}] per token`);
      }
    } else {
      const inf = store.aux("_influence");
      const ready = inf && inf.sequence === snap.sequence && inf.method === snap.influence_method && inf.values;
      if (!ready) {
        message =
          inf?.sequence === snap.sequence && inf.error
            ? inf.error
            : canRunModel(this.ctx)
              ? "computing the influence of each token…"
              : "the influence is computed by the kernel: not in this view";
      } else if (snap.t >= inf.T) message = "no influence values for this step";
      else {
        const values = tokenScores(influenceRow(inf, snap.t), inf.T, inf.D, snap.t);
        const m = maxAbsFinite(values);
        const scale = { map: theme.dark ? "bkr" : "rdbu", lo: -m, hi: m };
        const key = ["influence", this.built, store.auxVersion("_influence"), snap.t, scale.map].join("|");
        coloring = { kind: "influence", key, scale, values, t: snap.t, start };
        setText(this.sub, `each token's influence on the prediction at t = ${snap.t} (summed over the embedding)`);
      }
    }
    this.message.hidden = !message;
    setText(this.message, message);
    this.el.dataset.unit = coloring?.kind === "unit" ? String(coloring.unit) : "";
    if (!coloring) {
      setText(this.sub, "");
      if (this.painted) for (const span of this.spans) span.style.background = span.style.color = "";
      this.painted = null;
      this.coloring = null;
      return;
    }
    if (coloring.key === this.painted?.key && !themeChanged) {
      this.coloring = this.painted;
      return;
    }
    const offset = coloring.kind === "influence" ? start : 0;
    this.spans.forEach((span, k) => {
      const { bg, fg } = tokenColors(coloring.scale, coloring.values[k + offset]);
      span.style.background = bg;
      span.style.color = fg;
    });
    this.swatch.style.background = cssGradient(coloring.scale.map);
    this.swatch.title = `${fmt(coloring.scale.lo, 2)} … ${fmt(coloring.scale.hi, 2)}`;
    this.painted = coloring;
    this.coloring = coloring;
  }

  start0() {
    return Number(this.el.dataset.start) || 0;
  }
}
