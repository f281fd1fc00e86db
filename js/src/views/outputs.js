// Outputs (lw-outputs): a regression's predicted values over time — the model's raw output per step (`outputs`,
// (sumT, k)) — one line per output (up to MAX_LINES; a select picks one when there are more), the targets given as
// Explorer(..., targets=) dashed beside them, the cursor, and the error at t (prediction − target) in the head
// (data-error: the first shown output's, "" without a target there; data-lines: the names of the lines drawn). Shown instead of the class probabilities when
// `_meta.task` is "regression"; hidden when there is neither an output nor a target to draw. Stage boundaries (an
// encoder, then its decoder) are drawn as rules.

import { categorical } from "../colormap.js";
import { el, fmt, seriesRange, setText } from "./common.js";
import { LineChartView, paddedRange } from "./lines.js";

/** Up to this many outputs are drawn together; with more, a select shows one at a time. */
export const MAX_LINES = 4;

/**
 * The block the chart draws: predicted and target columns side by side, (T, 2 · shown.length) — column 2m the
 * prediction of output shown[m], 2m + 1 its target (NaN where none). `pred` / `target`: {data, rows, cols} or null.
 */
export function outputColumns(pred, target, shown) {
  const T = pred ? pred.rows : target ? target.rows : 0;
  const w = 2 * shown.length;
  const out = new Float32Array(Math.max(1, T * w)).fill(NaN);
  for (let t = 0; t < T; t++) {
    shown.forEach((j, m) => {
      if (pred && j < pred.cols) out[t * w + 2 * m] = pred.data[t * pred.cols + j];
      if (target && j < target.cols) out[t * w + 2 * m + 1] = target.data[t * target.cols + j];
    });
  }
  return { data: out, rows: T, cols: w };
}

/** Prediction − target at row t of an outputColumns block, for shown output m (NaN when either is missing). */
export function errorAt(block, t, m) {
  if (!(t >= 0 && t < block.rows)) return NaN;
  return block.data[t * block.cols + 2 * m] - block.data[t * block.cols + 2 * m + 1];
}

export class OutputsView extends LineChartView {
  constructor(ctx) {
    super(ctx, { cls: "lw-outputs", title: "Predicted outputs", height: 130, legendMax: 2 * MAX_LINES });
    this.pick = el("select", { "aria-label": "Output shown", title: "Which output to draw", hidden: true });
    this.pick.addEventListener("change", () => {
      this.picked = Number(this.pick.value);
      this.ctx.store.notify(new Set(["outputs-pick"]), "ui"); // repaint
    });
    this.picked = 0;
    this.error = el("span", { class: "lw-out-error", "aria-live": "polite" });
    this.chart.right.append(this.pick, this.error);
    this.el.dataset.error = "";
  }

  render(frame) {
    const { store } = this.ctx;
    const { snap, theme } = frame;
    const meta = store.meta;
    const show = store.has("outputs") || store.has("targets");
    this.chart.setHidden(!show);
    if (!show) {
      this.el.dataset.t = String(snap.t);
      return;
    }
    const pred = store.series("outputs", 0, snap.sequence);
    const target = store.series("targets", 0, snap.sequence);
    const k = Math.max(pred ? pred.cols : 0, target ? target.cols : 0);
    const many = k > MAX_LINES;
    this.pick.hidden = !many;
    if (many) {
      this.picked = Math.min(this.picked, k - 1);
      const options = Array.from({ length: k }, (_, j) => [j, `output ${j}`]);
      if (this.pick.options.length !== k) {
        this.pick.replaceChildren(...options.map(([v, text]) => el("option", { value: String(v), text })));
      }
      if (this.pick.value !== String(this.picked)) this.pick.value = String(this.picked);
    }
    const shown = many ? [this.picked] : Array.from({ length: k }, (_, j) => j);
    const rows = pred ? pred.rows : target ? target.rows : 0;
    if (!(rows > 0) || !shown.length) {
      setText(this.error, "");
      this.el.dataset.error = "";
      this.renderEmpty(frame, "no steps recorded yet");
      return;
    }
    const key = [snap.sequence, store.seqVersion(snap.sequence), shown.join(","), theme.dark].join("|");
    const block = this.chart.memo(key, () => {
      const b = outputColumns(pred, target, shown);
      const cols = Array.from({ length: b.cols }, (_, c) => c);
      return { ...b, range: seriesRange(b.data, b.rows, b.cols, cols) };
    });
    const t = Math.min(snap.t, rows - 1);
    const errors = shown.map((_, m) => errorAt(block, t, m));
    const some = errors.some((e) => e === e);
    setText(
      this.error,
      some
        ? `error at t = ${t}: ${errors.map((e) => (e === e ? signed(e) : "–")).join(" · ")}`
        : target
          ? "no target at t"
          : "",
    );
    this.el.dataset.error = errors[0] === errors[0] ? String(errors[0]) : "";
    const name = (j) => (k === 1 ? "" : ` ${j}`);
    const cols = [];
    const names = [];
    const colors = [];
    const dashed = [];
    shown.forEach((j, m) => {
      const color = categorical(j, theme.dark);
      if (pred) {
        cols.push(2 * m);
        names.push(`predicted${name(j)}`);
        colors.push(color);
        dashed.push(false);
      }
      if (target) {
        cols.push(2 * m + 1);
        names.push(`target${name(j)}`);
        colors.push(pred ? theme.fg2 : color);
        dashed.push(true);
      }
    });
    const linesAttr = names.join(",");
    if (this.el.dataset.lines !== linesAttr) this.el.dataset.lines = linesAttr;
    setText(
      this.chart.sub,
      `${k} output${k === 1 ? "" : "s"}${target ? " · dashed: target" : ""}${many ? ` · showing output ${this.picked}` : ""}`,
    );
    const [lo, hi] = paddedRange(...block.range);
    this.chart.render(frame, {
      T: block.rows,
      data: block.data,
      stride: block.cols,
      cols,
      names,
      colors,
      dashed,
      lo,
      hi,
      view: "outputs",
      stages: store.stages(snap.sequence),
      key: `${key}|${cols.join(",")}|${meta.task}`,
    });
  }
}

function signed(v) {
  return `${v >= 0 ? "+" : ""}${fmt(v)}`;
}
