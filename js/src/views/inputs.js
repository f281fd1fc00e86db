// Inputs (lw-inputs): the input features of the current sequence over time as lines (MATLAB's plot(X')), with a
// legend of the feature names (as text) and their values at the cursor.

import { categorical } from "../colormap.js";
import { seriesRange, setText } from "./common.js";
import { LineChartView, paddedRange } from "./lines.js";

export class InputsView extends LineChartView {
  constructor(ctx) {
    super(ctx, { cls: "lw-inputs", title: "Input features", height: 130, legendMax: 24 });
  }

  render(frame) {
    const { store } = this.ctx;
    const { snap, theme } = frame;
    const block = store.series("inputs", 0, snap.sequence);
    if (!block) {
      setText(this.chart.sub, "");
      this.renderEmpty(frame, "no inputs recorded");
      return;
    }
    const D = block.cols;
    const names = store.meta.feature_names;
    const cols = Array.from({ length: D }, (_, j) => j);
    setText(this.chart.sub, `${D} feature${D === 1 ? "" : "s"}`);
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
      stages: store.stages(snap.sequence),
      key: [snap.sequence, store.seqVersion(snap.sequence), D, theme.dark].join("|"),
    });
  }
}
