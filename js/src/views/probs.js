// Predictions (lw-probs): class probabilities of the current sequence over time, and the predicted class
// (argmax) at the cursor as big text with its probability (and the true label when known). Hidden when the
// model has no classifier head (meta.has_head false). An intervention or comparison shown for this sequence (the
// Why section's `_comparison`) adds its probabilities as dashed curves, and "original → other" in the legend.

import { categorical } from "../colormap.js";
import { el, plural, setName, setText } from "./common.js";
import { LineChartView } from "./lines.js";

/** Index of the largest finite value of row t of a (T, C) block; -1 if none. */
export function argmaxRow(data, C, t) {
  let best = -1;
  let bv = -Infinity;
  for (let j = 0; j < C; j++) {
    const v = data[t * C + j];
    if (v > bv) [bv, best] = [v, j];
  }
  return best;
}

export class ProbsView extends LineChartView {
  constructor(ctx) {
    super(ctx, { cls: "lw-probs", title: "Class probabilities", height: 130, legendMax: 16 });
    this.predClass = el("span", { class: "lw-pred-class" });
    this.predP = el("span", { class: "lw-pred-p" });
    this.truth = el("span", { class: "lw-pred-truth" });
    this.pred = el(
      "span",
      { class: "lw-pred", "aria-live": "polite" },
      el("span", { class: "lw-muted lw-pred-caption", text: "predicted" }),
      this.predClass,
      this.predP,
      this.truth,
    );
    this.chart.right.append(this.pred);
  }

  render(frame) {
    const { store } = this.ctx;
    const { snap, theme } = frame;
    const block = store.hasHead() ? store.series("probs", 0, snap.sequence) : null;
    this.chart.setHidden(!store.hasHead());
    if (!store.hasHead()) {
      this.el.dataset.t = String(snap.t); // not rendered, but still names the step, like every view
      return;
    }
    const meta = store.meta;
    const className = (c) => (meta.class_names && meta.class_names[c] != null ? meta.class_names[c] : `class ${c}`);
    if (!block || !(block.rows > 0)) {
      setText(this.predClass, "–");
      setText(this.predP, "");
      setText(this.truth, "");
      this.renderEmpty(frame, block ? "no steps recorded yet" : "no probabilities recorded");
      return;
    }
    const C = block.cols;
    const cols = Array.from({ length: C }, (_, j) => j);
    const t = Math.min(snap.t, block.rows - 1);
    const best = argmaxRow(block.data, C, t);
    const label = meta.labels[snap.sequence];
    setName(this.predClass, best >= 0 ? className(best) : "–");
    setText(this.predP, best >= 0 ? `${(100 * block.data[t * C + best]).toFixed(1)}%` : "");
    if (label != null) {
      const ok = label === best;
      setName(this.truth, `${ok ? "✓" : "✗"} true: ${className(label)}`);
      this.truth.className = `lw-pred-truth ${ok ? "lw-ok" : "lw-bad"}`;
    } else {
      setText(this.truth, "");
    }
    this.predClass.style.color = best >= 0 ? categorical(best, theme.dark) : "";
    // An intervention / comparison shown for this sequence (the Why section): its probabilities dashed.
    const cmp = this.ctx.why ? this.ctx.why.comparisonFor(snap.sequence) : null;
    const ghost =
      cmp?.probs && cmp.probs.shape[1] === C ? { data: cmp.probs.data, T: cmp.probs.shape[0], stride: C } : null;
    setText(this.chart.sub, ghost ? `${plural(C, "class")} · dashed: ${cmp.names[1]}` : plural(C, "class"));
    this.chart.render(frame, {
      T: block.rows,
      data: block.data,
      stride: C,
      cols,
      names: cols.map(className),
      colors: cols.map((j) => categorical(j, theme.dark)),
      lo: -0.04,
      hi: 1.04,
      ticks: [0, 0.5, 1],
      format: (v) => (v === v ? v.toFixed(2) : "–"),
      view: "probs",
      ghost,
      key: [
        snap.sequence,
        store.seqVersion(snap.sequence),
        C,
        theme.dark,
        ghost ? store.auxVersion("_comparison") : 0,
      ].join("|"),
    });
  }
}
