// Inputs (lw-inputs): the input features of the current sequence over time as lines (MATLAB's plot(X')), with a
// legend of the feature names (as text) and their values at the cursor. A token model's inputs are the embedding
// vectors its recurrent module received (e0, e1, …); a strip of token labels above them (.lw-token-strip, the steps
// around t, the one at t marked) says which token each step is, and the time axis shows them where they fit.

import { categorical } from "../colormap.js";
import { stepLabels, stripRange, tokenLabel } from "../tokens.js";
import { el, seriesRange, setText } from "./common.js";
import { LineChartView, paddedRange } from "./lines.js";

/** Token labels in the strip above a token model's embedding. */
export const STRIP_TOKENS = 15;

export class InputsView extends LineChartView {
  constructor(ctx) {
    super(ctx, { cls: "lw-inputs", title: "Input features", height: 130, legendMax: 24 });
    this.strip = el("div", { class: "lw-token-strip", hidden: true, "aria-label": "Tokens around t" });
    this.chart.body.before(this.strip);
    this.strip.addEventListener("click", (ev) => {
      const step = ev.target?.dataset?.step;
      if (step != null) ctx.store.set({ t: Number(step) });
    });
  }

  renderStrip(snap, block) {
    const { store } = this.ctx;
    const tokens = store.meta.tokens && store.has("token_ids");
    if (this.strip.hidden === tokens) this.strip.hidden = !tokens;
    if (!tokens) return;
    const T = block ? block.rows : snap.T;
    const [t0, t1] = stripRange(snap.t, T, STRIP_TOKENS);
    const key = [snap.sequence, store.seqVersion(snap.sequence), t0, t1, snap.t].join("|");
    if (key === this.stripKey) return;
    this.stripKey = key;
    const nodes = [];
    for (let t = t0; t < t1; t++) {
      const label = tokenLabel(store.meta.vocab, store.tokenId(snap.sequence, t));
      nodes.push(
        el("span", {
          class: `lw-strip-tok${t === snap.t ? " lw-strip-cur" : ""}`,
          "data-step": String(t),
          title: `t = ${t} · ${label}`,
          text: label,
        }),
      );
    }
    this.strip.replaceChildren(...nodes);
  }

  render(frame) {
    const { store } = this.ctx;
    const { snap, theme } = frame;
    const block = store.series("inputs", 0, snap.sequence);
    this.renderStrip(snap, block);
    if (!block) {
      setText(this.chart.sub, "");
      this.renderEmpty(frame, "no inputs recorded");
      return;
    }
    const D = block.cols;
    const names = store.meta.feature_names;
    const cols = Array.from({ length: D }, (_, j) => j);
    const tokens = stepLabels(store, snap.sequence);
    setText(this.chart.title, tokens ? "Tokens and their embedding" : "Input features");
    setText(this.chart.sub, `${D} ${tokens ? "embedding dimension" : "feature"}${D === 1 ? "" : "s"}`);
    const range = () => seriesRange(block.data, block.rows, D, cols);
    const [lo, hi] = paddedRange(
      ...this.chart.memo([snap.sequence, store.seqVersion(snap.sequence), D].join("|"), range),
    );
    this.chart.render(frame, {
      T: block.rows,
      data: block.data,
      stride: D,
      cols,
      names: cols.map((j) => names[j] ?? `x${j}`),
      colors: cols.map((j) => categorical(j, theme.dark)),
      lo,
      hi,
      view: "inputs",
      tokens,
      stages: store.stages(snap.sequence),
      live: store.isProvisional(snap.sequence),
      key: [snap.sequence, store.drawVersion(snap.sequence), D, theme.dark, Boolean(tokens)].join("|"),
    });
  }
}
