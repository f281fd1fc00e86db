// A time-series line chart card shared by the traces, inputs and probabilities views: title, legend with the
// values at the cursor, lines on the base layer (redrawn only when the series change), cursor / hover / value dots
// on the overlay. Drag to scrub; hover names the nearest line.

import { liveCapacity } from "../lod.js";
import { stepFromX, xFromStep } from "../scrub.js";
import { drawStageRules, stageRules, stagesText } from "../stages.js";
import {
  attachScrub,
  drawCursor,
  drawHoverLine,
  drawSeries,
  drawSeriesRange,
  drawTimeAxis,
  drawYAxis,
  el,
  fmt,
  Legend,
  Plot,
  setText,
  timeRect,
  titleSpans,
} from "./common.js";

export class LineChart {
  /**
   * @param ctx the view context (store, tooltip)
   * @param opts {cls: "lw-inputs", title, height, legendMax}
   */
  constructor(ctx, { cls, title, height = 130, legendMax = 24 }) {
    this.ctx = ctx;
    [this.title, this.sub] = titleSpans(title);
    this.right = el("span", { class: "lw-head-right" });
    this.head = el("div", { class: "lw-head" }, el("span", { class: "lw-titles" }, this.title, this.sub), this.right);
    this.body = el("div", { class: "lw-body" });
    this.message = el("div", { class: "lw-message" });
    this.el = el("div", { class: `${cls} lw-view lw-card`, "data-t": "0" }, this.head, this.body);
    this.legend = new Legend(this.head, { max: legendMax });
    this.head.append(this.legend.node);
    this.plot = new Plot(this.body, { height });
    this.body.append(this.message);
    this.sizeTarget = this.body;
    this.spec = null;
    this.baseKey = null;
    this.rect = timeRect(this.plot);
    this.yOf = (v) => v;
    // The zoomed time window shown (lod.js; the store's `window`): steps w0 .. w0 + n - 1.
    this.w0 = 0;
    this.n = 0;
    this.disposeScrub = attachScrub(
      this.plot.overlay,
      this.plot,
      () => this.rect,
      () => this.n,
      (t) => ctx.store.set({ t: t + this.w0 }),
    );
    this.attachHover();
  }

  attachHover() {
    const { store, tooltip } = this.ctx;
    const target = this.plot.overlay;
    target.addEventListener("pointermove", (ev) => {
      const spec = this.spec;
      if (!spec || !(spec.T > 0) || !spec.cols.length) return;
      const { x, y } = this.plot.point(ev);
      const r = this.rect;
      if (x < r.x || x > r.x + r.w) {
        tooltip.hide();
        store.set({ hover: null });
        return;
      }
      const t = Math.min(spec.T - 1, this.w0 + stepFromX(x, r.x, r.w, this.n));
      let best = -1;
      let bestD = Infinity;
      spec.cols.forEach((j, k) => {
        const v = spec.data[t * spec.stride + j];
        if (v !== v) return;
        const d = Math.abs(this.yOf(v) - y);
        if (d < bestD) [bestD, best] = [d, k];
      });
      if (best >= 0 && bestD < 24) {
        const v = spec.data[t * spec.stride + spec.cols[best]];
        tooltip.show(ev.clientX, ev.clientY, `${spec.names[best]} · t ${t} · ${(spec.format || fmt)(v)}`);
      } else {
        tooltip.show(ev.clientX, ev.clientY, `t ${t}`);
      }
      store.set({
        hover: {
          sequence: store.snapshot().sequence,
          t,
          unit: spec.units ? (spec.units[best] ?? null) : null,
          view: spec.view,
        },
      });
    });
    target.addEventListener("pointerleave", () => {
      tooltip.hide();
      store.set({ hover: null });
    });
    // The zoomed time window, as on the heatmap: Ctrl/⌘+wheel zooms around the step under the pointer, Shift+wheel or
    // a sideways wheel pans; a plain wheel scrolls the page.
    target.addEventListener(
      "wheel",
      (ev) => {
        if (!(this.n > 0) || !this.ctx.zoom) return;
        const r = this.rect;
        const sideways = Math.abs(ev.deltaX) > Math.abs(ev.deltaY);
        if (ev.ctrlKey || ev.metaKey) {
          ev.preventDefault();
          this.ctx.zoom(ev.deltaY < 0 ? 1.25 : 0.8, this.w0 + stepFromX(this.plot.point(ev).x, r.x, r.w, this.n));
        } else if (ev.shiftKey || sideways) {
          ev.preventDefault();
          const d = sideways ? ev.deltaX : ev.deltaY;
          this.ctx.pan(
            Math.sign(d) * Math.max(1, Math.round((this.n * Math.min(200, Math.abs(d))) / Math.max(1, r.w))),
          );
        }
      },
      { passive: false },
    );
  }

  resize(width) {
    if (this.plot.resize(width)) this.baseKey = null;
  }

  /** fn(), computed once per `key` (a series' y range is a pass over every step: long sequences can't pay it per
   * frame). */
  memo(key, fn) {
    if (this.memoKey !== key) {
      this.memoKey = key;
      this.memoValue = fn();
    }
    return this.memoValue;
  }

  setHidden(hidden) {
    if (this.el.hidden !== hidden) this.el.hidden = hidden;
  }

  /**
   * Paint. spec: {T, data, stride, cols[], names[], colors[], lo, hi, key, message?, format?, view, units?, ghost?,
   * tokens?, dashed?, stages?} (tokens: a token model's step labels for the time axis, see drawTimeAxis;
   * dashed[k]: column k drawn dashed)
   * (data is the (T, stride) block of the current sequence; cols the columns drawn). `ghost` {data, T, stride}: the
   * same columns of a second block (an intervened or compared input) drawn dashed over the same axes, its value at
   * the cursor after the first's in the legend ("0.81 → 0.12"); spec.key must change when it does. `stages`
   * ([{module, start, stop}], store.stages): a rule at each stage's first step, named by its module. `live`: the
   * sequence is streaming and spec.key stays the same while steps are appended (store.drawVersion): the time axis
   * then spans liveCapacity(T) steps and the y range only widens, so that the lines drawn stay valid and each repaint
   * adds the new steps' segments to them; the repaint after the stream (spec.key moves on) draws it all anew.
   * `liveRange` ([lo, hi], optional): a y range the streaming chart starts from (e.g. the quantity's over every
   * sequence), widened to the data's.
   */
  render({ snap, theme, themeChanged }, spec) {
    this.spec = spec;
    const empty = !spec || !(spec.T > 0) || !spec.cols.length;
    this.message.hidden = !empty;
    if (empty) setText(this.message, spec?.message || "no data");
    const items = spec
      ? spec.cols.map((j, k) => ({
          name: spec.names[k],
          color: spec.colors[k],
          key: String(j),
          title: spec.titles?.[k],
          onclick: spec.onLegendClick ? () => spec.onLegendClick(j) : null,
        }))
      : [];
    this.legend.update(items, { extra: spec?.legendExtra || "" });

    this.rect = timeRect(this.plot);
    const r = this.rect;
    // Follow the zoomed window when this chart's steps are the shown sequence's (snap.T).
    const win = !empty && snap.window && spec.T === snap.T ? snap.window : null;
    const live = !empty && !win && Boolean(spec.live);
    const w0 = win ? win.t0 : 0;
    const n = win ? win.t1 - win.t0 : empty ? 0 : live ? liveCapacity(spec.T) : spec.T;
    this.w0 = w0;
    this.n = n;
    let lo = spec ? spec.lo : 0;
    let hi = spec ? spec.hi : 1;
    if (live) {
      // The y range of a streaming chart only widens (by half its span beyond the data: the span at least doubles),
      // so that appended steps seldom change the scale of what is drawn.
      const lr = this.liveRange;
      if (!(lr && lr.key === spec.key) && spec.liveRange) {
        // the first steps' range is a poor guess at the whole stream's: the one given covers what is known
        lo = Math.min(lo, spec.liveRange[0]);
        hi = Math.max(hi, spec.liveRange[1]);
      }
      if (lr && lr.key === spec.key && lo >= lr.lo && hi <= lr.hi) [lo, hi] = [lr.lo, lr.hi];
      else if (lr && lr.key === spec.key) {
        const grow = (Math.max(hi, lr.hi) - Math.min(lo, lr.lo)) / 2;
        if (lo < lr.lo) lo -= grow;
        else lo = lr.lo;
        if (hi > lr.hi) hi += grow;
        else hi = lr.hi;
      }
      this.liveRange = { key: spec.key, lo, hi };
    } else this.liveRange = null;
    const span = hi - lo || 1;
    this.yOf = (v) => r.y + r.h - ((v - lo) / span) * r.h;

    const key = empty
      ? `empty|${theme.key}|${this.plot.width}`
      : [spec.key, lo, hi, this.plot.width, this.plot.height, theme.key, w0, n, stagesText(spec.stages), live].join(
          "|",
        );
    // Dense lines (segments under 3 px, or many of them) are drawn 1 px wide: a hairline, which software canvas
    // rasterises ~20x faster than 1.5 px strokes (50-130 ms -> 2-6 ms for 12 series of 1500 steps), and which looks
    // the same when the steps are that close.
    const width = empty ? 1 : spec.cols.length > 12 || n * 3 > r.w ? 1 : 1.5;
    if (this.el.dataset.live !== (live ? String(n) : "")) this.el.dataset.live = live ? String(n) : "";
    if (key !== this.baseKey || themeChanged) {
      this.baseKey = key;
      this.drawnT = live ? spec.T : 0;
      this.el.dataset.baseDraws = String(Number(this.el.dataset.baseDraws || 0) + 1);
      const ctx = this.plot.begin(this.plot.bctx);
      if (!empty) {
        drawYAxis(ctx, r, lo, hi, theme, this.yOf, { ticks: spec.ticks });
        drawTimeAxis(ctx, r, n, theme, { t0: w0, tokens: live ? null : spec.tokens || null });
        const data = win ? spec.data.subarray(w0 * spec.stride, (w0 + n) * spec.stride) : spec.data;
        spec.cols.forEach((j, k) => {
          if (spec.dashed?.[k]) ctx.setLineDash([5, 3]);
          if (live) drawSeriesRange(ctx, data, n, spec.stride, j, r, this.yOf, spec.colors[k], width, 0, spec.T);
          else drawSeries(ctx, data, n, spec.stride, j, r, this.yOf, spec.colors[k], width);
          if (spec.dashed?.[k]) ctx.setLineDash([]);
        });
        const g = spec.ghost;
        if (g && Math.min(g.T, w0 + n) > w0) {
          // Over the first series' time axis (a longer ghost is cut at its end; a shorter one stops early).
          const T = Math.min(g.T, w0 + n) - w0;
          ctx.save();
          ctx.setLineDash([5, 3]);
          ctx.globalAlpha = 0.95;
          const gr = { ...r, w: (r.w * T) / n };
          const gdata = g.data.subarray(w0 * g.stride, (w0 + T) * g.stride);
          spec.cols.forEach((j, k) => {
            drawSeries(ctx, gdata, T, g.stride, j, gr, this.yOf, spec.colors[k], 1.5);
          });
          ctx.restore();
        }
        drawStageRules(ctx, r, stageRules(spec.stages, w0, w0 + n), w0, n, theme);
      }
    } else if (live && spec.T > this.drawnT) {
      // Steps appended to the streaming sequence: their segments only, on what is drawn.
      const ctx = this.plot.bctx;
      ctx.setTransform(this.plot.dpr, 0, 0, this.plot.dpr, 0, 0);
      spec.cols.forEach((j, k) => {
        if (spec.dashed?.[k]) ctx.setLineDash([5, 3]);
        drawSeriesRange(ctx, spec.data, n, spec.stride, j, r, this.yOf, spec.colors[k], width, this.drawnT, spec.T);
        if (spec.dashed?.[k]) ctx.setLineDash([]);
      });
      this.drawnT = spec.T;
    }
    const stagesAttr = empty ? "" : stagesText(spec.stages);
    if (this.el.dataset.stages !== stagesAttr) this.el.dataset.stages = stagesAttr;

    const ctx = this.plot.begin(this.plot.octx);
    const values = [];
    if (!empty) {
      const t = Math.min(snap.t, spec.T - 1);
      const h = snap.hover;
      if (h && h.sequence === snap.sequence && h.t != null && h.view !== spec.view)
        drawHoverLine(ctx, r, h.t - w0, n, theme);
      const inView = t >= w0 && t < w0 + n;
      if (inView) drawCursor(ctx, r, t - w0, n, theme);
      const x = xFromStep(t - w0, r.x, r.w, n);
      const base = t * spec.stride;
      const dots = spec.cols.length <= 32 && inView;
      const g = spec.ghost && t < Math.min(spec.ghost.T, spec.T) ? spec.ghost : null;
      spec.cols.forEach((j, k) => {
        const v = spec.data[base + j];
        const gv = g ? g.data[t * g.stride + j] : NaN;
        values.push(g ? `${(spec.format || fmt)(v)} → ${(spec.format || fmt)(gv)}` : (spec.format || fmt)(v));
        if (g && dots && gv === gv) {
          ctx.beginPath();
          ctx.arc(x, this.yOf(gv), 3, 0, 2 * Math.PI);
          ctx.strokeStyle = spec.colors[k];
          ctx.lineWidth = 1.5;
          ctx.stroke();
        }
        if (!dots || v !== v) return;
        ctx.beginPath();
        ctx.arc(x, this.yOf(v), 3, 0, 2 * Math.PI);
        ctx.fillStyle = spec.colors[k];
        ctx.fill();
        ctx.lineWidth = 1;
        ctx.strokeStyle = theme.bg0;
        ctx.stroke();
      });
    }
    this.legend.values(values);
    this.el.dataset.t = String(snap.t);
  }

  destroy() {
    this.disposeScrub();
  }
}

/** A view that is one LineChart: the chart's card is the view's element and what is sized. */
export class LineChartView {
  constructor(ctx, opts) {
    this.ctx = ctx;
    this.chart = new LineChart(ctx, opts);
    this.el = this.chart.el;
    this.sizeTarget = this.chart.sizeTarget;
  }

  resize(width) {
    this.chart.resize(width);
  }

  /** No series to draw: an empty chart with `message` over it. */
  renderEmpty(frame, message) {
    this.chart.render(frame, { T: 0, cols: [], names: [], colors: [], message });
  }
}

/** y range [lo, hi] padded by 6 %, including 0 when `withZero`. */
export function paddedRange(lo, hi, withZero = false) {
  if (withZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (!(hi > lo)) {
    const m = Math.abs(lo) || 1;
    return [lo - 0.5 * m, hi + 0.5 * m];
  }
  const pad = (hi - lo) * 0.06;
  return [lo - pad, hi + pad];
}
