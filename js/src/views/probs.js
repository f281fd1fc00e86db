// Predictions (lw-probs): class probabilities of the current sequence over time, and the predicted class
// (argmax) at the cursor as big text with its probability (and the true label when known). Hidden when the
// model has no classifier head (meta.has_head false) — a regression's outputs have their own view (outputs.js) —
// except when no per-step output could be verified (`_meta.task` null): the card then says why in one line
// (`_meta.outputs_note`, .lw-outputs-note) instead of a chart. An intervention or comparison shown for this sequence (the
// Why section's `_comparison`) adds its probabilities as dashed curves, and "original → other" in the legend.
// A token model with a large vocabulary (meta.top_k > 0) shows instead the top-k next tokens at t as a bar list with
// their labels (.lw-topk, one .lw-topk-row each), the actual next token (token_ids[t+1]) marked and its rank and
// probability in a line of its own ("actual: 'e' rank 3, p = 0.08"), from the kernel's topk_ids / topk_probs /
// next_rank / next_prob.

import { categorical } from "../colormap.js";
import { tokenLabel, topKAt } from "../tokens.js";
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
    this.topkList = el("div", { class: "lw-topk-list", role: "list" });
    this.topkActual = el("div", { class: "lw-topk-actual-line" });
    this.topk = el("div", { class: "lw-topk", hidden: true }, this.topkList, this.topkActual);
    this.el.append(this.topk);
    this.note = el("div", { class: "lw-outputs-note", hidden: true });
    this.chart.body.before(this.note);
  }

  /** Whether the card only says why there are no per-step outputs (nothing verified: `_meta.task` null). */
  showsNote(store) {
    const meta = store.meta;
    return meta.task === null && Boolean(meta.outputs_note) && !store.hasHead();
  }

  render(frame) {
    const { store } = this.ctx;
    const { snap, theme } = frame;
    const block = store.hasHead() ? store.series("probs", 0, snap.sequence) : null;
    const noted = this.showsNote(store);
    this.chart.setHidden(!store.hasHead() && !noted);
    this.note.hidden = !noted;
    this.chart.body.hidden = noted;
    this.pred.hidden = noted;
    if (noted) {
      setText(this.chart.title, "Predictions");
      setText(this.chart.sub, "");
      setText(this.note, store.meta.outputs_note);
    }
    if (!store.hasHead()) {
      this.el.dataset.t = String(snap.t); // not rendered, but still names the step, like every view
      return;
    }
    setText(this.chart.title, "Class probabilities");
    const meta = store.meta;
    const topk = meta.top_k > 0;
    this.chart.body.hidden = topk;
    this.chart.legend.node.hidden = topk;
    this.topk.hidden = !topk;
    if (topk) {
      this.renderTopK(snap, theme);
      return;
    }
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
      live: store.isProvisional(snap.sequence),
      key: [
        snap.sequence,
        store.drawVersion(snap.sequence),
        C,
        theme.dark,
        ghost ? store.auxVersion("_comparison") : 0,
      ].join("|"),
    });
  }

  /** The top-k next tokens at t: a bar per token (label, bar ∝ p, p), the actual next one marked, and its rank. */
  renderTopK(snap, theme) {
    const { store } = this.ctx;
    const meta = store.meta;
    const k = meta.top_k;
    const s = snap.sequence;
    const ids = store.series("topk_ids", 0, s);
    const probs = store.series("topk_probs", 0, s);
    this.el.dataset.t = String(snap.t);
    setText(this.chart.title, "Next token");
    if (!ids || !probs || !(ids.rows > 0) || ids.cols !== k || probs.cols !== k) {
      setText(this.chart.sub, "");
      setText(this.predClass, "–");
      setText(this.predP, "");
      setText(this.truth, "");
      this.topkList.replaceChildren(el("div", { class: "lw-muted", text: "no predictions recorded yet" }));
      setText(this.topkActual, "");
      return;
    }
    const t = Math.min(snap.t, ids.rows - 1);
    const rank = store.value("next_rank", 0, s, t, 0);
    const { list, actual } = topKAt(
      ids.data,
      probs.data,
      k,
      t,
      meta.next_token ? store.tokenId(s, t + 1) : -1,
      rank === rank ? rank : -1,
      store.value("next_prob", 0, s, t, 0),
    );
    const label = (id) => (meta.next_token ? tokenLabel(meta.vocab, id) : (meta.class_names?.[id] ?? `class ${id}`));
    setText(this.chart.sub, `top ${k} of ${meta.n_classes} at t = ${t}`);
    const best = list[0];
    setText(this.predClass, best ? label(best.id) : "–");
    setText(this.predP, best ? `${(100 * best.p).toFixed(1)}%` : "");
    setText(this.truth, "");
    this.predClass.style.color = "";
    const key = [s, store.seqVersion(s), t, theme.key, meta.vocab?.length ?? -1].join("|");
    if (key !== this.topkKey) {
      this.topkKey = key;
      const top = best ? best.p : 1;
      this.topkList.replaceChildren(
        ...list.map(({ id, p }, j) => {
          const mine = actual && actual.id === id;
          const bar = el("span", { class: "lw-topk-bar" });
          bar.style.width = `${Math.max(1, (100 * p) / (top || 1)).toFixed(1)}%`;
          bar.style.background = categorical(0, theme.dark);
          return el(
            "div",
            {
              class: `lw-topk-row${mine ? " lw-topk-actual" : ""}`,
              role: "listitem",
              "data-id": String(id),
              "data-rank": String(j + 1),
              title: `${label(id)} · p = ${p.toFixed(4)}${mine ? " · the actual next token" : ""}`,
            },
            el("span", { class: "lw-topk-rank lw-muted", text: String(j + 1) }),
            el("span", { class: "lw-topk-token", text: label(id) }),
            el("span", { class: "lw-topk-track" }, bar),
            el("span", { class: "lw-topk-p", text: p.toFixed(3) }),
            el("span", { class: "lw-topk-mark", text: mine ? "← actual" : "" }),
          );
        }),
      );
      setText(
        this.topkActual,
        actual
          ? `actual: '${label(actual.id)}' rank ${actual.rank}, p = ${fmt3(actual.p)}`
          : meta.next_token
            ? "actual next token: not known at the last step"
            : "",
      );
    }
  }
}

function fmt3(p) {
  return p === p ? (p >= 0.001 ? p.toFixed(3) : p.toExponential(1)) : "–";
}
