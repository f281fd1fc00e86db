// Traces (lw-traces): the selected units' values over time for the current quantity and layer (the first few
// units when none are selected), coloured like their marks in the heatmap and the gates view.

import { categorical, isSigned } from "../colormap.js";
import { stepLabels } from "../tokens.js";
import { plural, seriesRange, setText } from "./common.js";
import { LineChartView, paddedRange } from "./lines.js";

export const FALLBACK_UNITS = 5;

/** What a view showing the first `n` units (no unit selected) says in its caption. */
export function fallbackCaption(n) {
  return `first ${plural(n, "unit")} — select units to choose`;
}

/** The units the traces and gates views show: the selection (within range), else the first `fallback` units. */
export function shownUnits(selected, U, fallback = FALLBACK_UNITS) {
  const sel = selected.filter((u) => u < U);
  if (sel.length) return { units: sel, fallback: false };
  return { units: Array.from({ length: Math.min(fallback, U) }, (_, u) => u), fallback: true };
}

export class TracesView extends LineChartView {
  constructor(ctx) {
    super(ctx, { cls: "lw-traces", title: "Selected units", height: 140 });
  }

  render(frame) {
    const { store } = this.ctx;
    const { snap, theme } = frame;
    const q = snap.quantity;
    const block = store.series(q, snap.layer, snap.sequence);
    if (!block) {
      setText(this.chart.sub, "");
      const message = store.pending(q) ? `loading ${q}…` : `no ${q} recorded`;
      this.renderEmpty(frame, message);
      return;
    }
    const { units, fallback } = shownUnits(snap.selected_units, block.cols);
    setText(
      this.chart.sub,
      `${q} · ${store.layerName(snap.layer)}${fallback ? ` · ${fallbackCaption(units.length)}` : ""}`,
    );
    const colors = units.map((_, k) => categorical(k, theme.dark));
    let lo;
    let hi;
    let ticks = null;
    const key = [snap.sequence, store.seqVersion(snap.sequence), snap.layer, q, units.join(",")].join("|");
    if (isSigned(q))
      [lo, hi] = paddedRange(
        ...this.chart.memo(key, () => seriesRange(block.data, block.rows, block.cols, units)),
        true,
      );
    else [lo, hi, ticks] = [-0.04, 1.04, [0, 0.5, 1]];
    this.chart.render(frame, {
      T: block.rows,
      data: block.data,
      stride: block.cols,
      cols: units,
      units,
      names: units.map((u) => `unit ${u}`),
      titles: units.map((u) => (fallback ? `unit ${u}` : `unit ${u} — click to deselect`)),
      colors,
      lo,
      hi,
      ticks,
      view: "traces",
      tokens: stepLabels(store, snap.sequence),
      stages: store.stages(snap.sequence),
      onLegendClick: fallback ? null : (u) => store.toggleUnit(u), // a chip of a selected unit deselects it
      live: store.isProvisional(snap.sequence),
      liveRange: isSigned(q) ? paddedRange(...store.limits(q), true) : null,
      key: [snap.sequence, store.drawVersion(snap.sequence), snap.layer, q, `${units}`, `${colors}`].join("|"),
    });
  }
}
