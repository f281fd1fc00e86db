// Epoch axis (lw-epochs) of an explorer over training snapshots (Explorer.from_training; kernel side
// lstm_widget/_widget/training.py): shown only when `_meta.training` is there. A slider over the recorded epochs with
// play (one epoch per EPOCH_MS) and the `[` / `]` keys write the `epoch` trait; the kernel (or, in a standalone export,
// the offline model) then swaps every view's data for that epoch's. `data-epoch` holds the epoch whose data the views
// show (`_meta.training.epoch`), so it changes once the data has arrived. The metrics given to tr.snapshot (loss,
// accuracy, ...) are drawn one small line chart each over the epochs, with the epoch cursor; dragging on a chart picks
// an epoch. Text only (metric names are data).

import { categorical } from "../colormap.js";
import { el, setIcon, setText } from "./common.js";
import { LineChart, paddedRange } from "./lines.js";

/** Milliseconds per epoch while playing. */
export const EPOCH_MS = 700;
/** Metric charts drawn at most. */
const MAX_CHARTS = 4;

const finiteOrNaN = (v) => (v == null || !Number.isFinite(Number(v)) ? NaN : Number(v));

/**
 * `_meta.training` as {epochs: int[], metrics: [[name, Float32Array]], epoch, index} (index: the shown epoch's place
 * in `epochs`, 0 when it is not one of them), or null when there is none (an explorer that is not over training).
 */
export function trainingInfo(raw) {
  if (!raw || typeof raw !== "object" || !Array.isArray(raw.epochs) || !raw.epochs.length) return null;
  const epochs = raw.epochs.map((v) => Math.trunc(Number(v)));
  if (epochs.some((v) => !Number.isFinite(v))) return null;
  const metrics = [];
  for (const [name, values] of Object.entries(raw.metrics || {})) {
    if (!Array.isArray(values)) continue;
    const data = new Float32Array(epochs.length).fill(NaN);
    for (let k = 0; k < Math.min(values.length, epochs.length); k++) data[k] = finiteOrNaN(values[k]);
    metrics.push([String(name), data]);
  }
  const epoch = Math.trunc(Number(raw.epoch));
  const index = Math.max(0, epochs.indexOf(epoch));
  return { epochs, metrics, epoch: epochs[index], index };
}

/** The epoch `delta` recorded epochs from `current` (clamped to the ends); `current` not recorded: the first. */
export function stepEpoch(epochs, current, delta) {
  const k = epochs.indexOf(current);
  const next = Math.min(Math.max((k < 0 ? 0 : k) + delta, 0), epochs.length - 1);
  return epochs[next];
}

/** The step a key asks for: `[` → -1, `]` → +1, anything else null. */
export function epochKeyStep(key) {
  return key === "[" ? -1 : key === "]" ? 1 : null;
}

export class EpochsView {
  /** `kernel`: {training() → `_meta.training` as the model holds it, epoch() → `epoch`, setEpoch(e) → writes it}. */
  constructor(ctx, kernel) {
    this.ctx = ctx;
    this.kernel = kernel;
    this.info = null;
    this.timer = 0;
    this.play = el("button", { class: "lw-icon-btn lw-epoch-play", type: "button", "aria-label": "Play the epochs" });
    setIcon(this.play, "play");
    this.slider = el("input", {
      class: "lw-epoch-slider",
      type: "range",
      min: "0",
      max: "0",
      step: "1",
      value: "0",
      "aria-label": "Epoch",
      title: "The recorded epoch every view shows ([ and ] step)",
    });
    this.label = el("span", { class: "lw-epoch-label", role: "status", "aria-live": "polite" });
    this.charts = el("div", { class: "lw-epoch-charts" });
    this.el = el(
      "div",
      { class: "lw-epochs lw-view lw-card", hidden: true, "data-epoch": "", "data-t": "0" },
      el(
        "div",
        { class: "lw-head" },
        el("span", { class: "lw-titles" }, el("span", { class: "lw-title", text: "Training" })),
        this.play,
        this.slider,
        this.label,
      ),
      this.charts,
    );
    this.chartList = [];
    this.chartKey = null;
    // each chart sized to its own box (the charts share the card's width in a grid)
    this.sizes =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver((entries) => {
            for (const entry of entries) {
              const chart = this.chartList.find((c) => c.sizeTarget === entry.target);
              if (chart) chart.resize(entry.contentRect.width);
            }
            ctx.store.notify(new Set(["epoch"]), "ui");
          });
    // A chart's scrub and hover act on the epochs, not on the time cursor.
    this.chartCtx = {
      tooltip: ctx.tooltip,
      store: {
        set: (patch) => {
          if (patch && "t" in patch && this.info) this.goTo(this.info.epochs[patch.t] ?? this.info.epoch);
        },
        snapshot: () => ({ sequence: 0 }),
      },
    };
    this.slider.addEventListener("input", () => {
      if (this.info) this.goTo(this.info.epochs[Number(this.slider.value)]);
    });
    this.play.addEventListener("click", () => (this.timer ? this.stop() : this.start()));
  }

  /** The epoch the page asks for (the kernel's `epoch`, or the data's while the model has none). */
  requested() {
    const e = this.kernel.epoch();
    return Number.isInteger(e) && this.info?.epochs.includes(e) ? e : (this.info?.epoch ?? null);
  }

  goTo(epoch) {
    if (epoch == null || epoch === this.kernel.epoch()) return;
    this.kernel.setEpoch(epoch);
    this.ctx.store.notify(new Set(["epoch"]), "ui");
  }

  /** Step `delta` recorded epochs (the `[` / `]` keys). */
  step(delta) {
    if (!this.info) return;
    this.goTo(stepEpoch(this.info.epochs, this.requested(), delta));
  }

  start() {
    if (!this.info || this.timer) return;
    const { epochs } = this.info;
    if (this.requested() === epochs[epochs.length - 1]) this.goTo(epochs[0]);
    this.timer = setInterval(() => {
      const info = this.info;
      if (!info) return this.stop();
      const cur = this.requested();
      if (cur === info.epochs[info.epochs.length - 1]) return this.stop();
      this.goTo(stepEpoch(info.epochs, cur, 1));
    }, EPOCH_MS);
    this.ctx.store.notify(new Set(["epoch"]), "ui");
  }

  stop() {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = 0;
    this.ctx.store.notify(new Set(["epoch"]), "ui");
  }

  /** keydown on the explorer: `[` / `]` step the epochs (true when handled). */
  onKey(ev) {
    const delta = epochKeyStep(ev.key);
    if (delta == null || !this.info || ev.altKey || ev.ctrlKey || ev.metaKey) return false;
    const tag = ev.target?.tagName;
    if (tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && ev.target.type !== "range")) return false;
    ev.preventDefault();
    ev.stopPropagation();
    this.step(delta);
    return true;
  }

  render({ snap, theme, themeChanged }) {
    const info = trainingInfo(this.kernel.training());
    this.info = info;
    this.el.dataset.t = String(snap.t);
    if (!info) {
      if (!this.el.hidden) this.el.hidden = true;
      this.stop();
      return;
    }
    if (this.el.hidden) this.el.hidden = false;
    const n = info.epochs.length;
    const requested = this.requested();
    const k = Math.max(0, info.epochs.indexOf(requested));
    this.slider.max = String(n - 1);
    if (this.slider.value !== String(k)) this.slider.value = String(k);
    const pending = requested !== info.epoch;
    setText(this.label, `epoch ${requested} (${k + 1}/${n})${pending ? " · loading…" : ""}`);
    if (this.el.dataset.epoch !== String(info.epoch)) this.el.dataset.epoch = String(info.epoch);
    this.el.dataset.pending = String(pending);
    setIcon(this.play, this.timer ? "pause" : "play");
    this.play.setAttribute("aria-label", this.timer ? "Pause the epochs" : "Play the epochs");

    // one chart per metric (the first MAX_CHARTS), rebuilt when the names change
    const metrics = info.metrics.slice(0, MAX_CHARTS);
    const names = metrics.map(([name]) => name).join("\u0000");
    if (this.chartKey !== names) {
      this.chartKey = names;
      for (const chart of this.chartList) {
        this.sizes?.unobserve(chart.sizeTarget);
        chart.destroy();
      }
      this.chartList = metrics.map(
        ([name]) => new LineChart(this.chartCtx, { cls: "lw-epoch-chart", title: name, height: 70, legendMax: 1 }),
      );
      this.charts.replaceChildren(...this.chartList.map((c) => c.el));
      for (const chart of this.chartList) {
        chart.resize(chart.sizeTarget.clientWidth || 320);
        this.sizes?.observe(chart.sizeTarget);
      }
    }
    const frame = { snap: { t: info.index, window: null, hover: null, sequence: 0 }, theme, themeChanged };
    metrics.forEach(([name, data], j) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of data) if (v === v) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      if (!(lo <= hi)) [lo, hi] = [0, 1];
      [lo, hi] = paddedRange(lo, hi);
      this.chartList[j].render(frame, {
        T: n,
        data,
        stride: 1,
        cols: [0],
        names: [`${name} · epoch ${info.epoch}`],
        colors: [categorical(j)],
        lo,
        hi,
        key: `${name}|${info.epochs.join(",")}`,
        view: "epochs",
      });
    });
  }

  destroy() {
    this.stop();
    this.sizes?.disconnect();
    for (const chart of this.chartList) chart.destroy();
  }
}
