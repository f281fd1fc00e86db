// A time-series line chart card shared by the traces, inputs and probabilities views: title, legend with the
// values at the cursor, lines on the base layer (redrawn only when the series change), cursor / hover / value dots
// on the overlay. Drag to scrub; hover names the nearest line.

import {
  el,
  Plot,
  Legend,
  timeRect,
  drawTimeAxis,
  drawYAxis,
  drawSeries,
  drawCursor,
  drawHoverLine,
  attachScrub,
  setText,
  fmt,
} from "./common.js";
import { stepFromX, xFromStep } from "../scrub.js";

export class LineChart {
  /**
   * @param ctx the view context (store, tooltip)
   * @param opts {cls: "lw-inputs", title, height, legendMax}
   */
  constructor(ctx, { cls, title, height = 130, legendMax = 24 }) {
    this.ctx = ctx;
    this.title = el("span", { class: "lw-title", text: title });
    this.sub = el("span", { class: "lw-sub" });
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
    this.disposeScrub = attachScrub(this.plot.overlay, this.plot, () => this.rect, () => (this.spec ? this.spec.T : 0), (t) =>
      ctx.store.set({ t }),
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
      const t = stepFromX(x, r.x, r.w, spec.T);
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
      store.set({ hover: { sequence: store.snapshot().sequence, t, unit: spec.units ? spec.units[best] ?? null : null, view: spec.view } });
    });
    target.addEventListener("pointerleave", () => {
      tooltip.hide();
      store.set({ hover: null });
    });
  }

  resize(width) {
    if (this.plot.resize(width)) this.baseKey = null;
  }

  setHidden(hidden) {
    if (this.el.hidden !== hidden) this.el.hidden = hidden;
  }

  /**
   * Paint. spec: {T, data, stride, cols[], names[], colors[], lo, hi, key, message?, format?, view, units?, ghost?}
   * (data is the (T, stride) block of the current sequence; cols the columns drawn). `ghost` {data, T, stride}: the
   * same columns of a second block (an intervened or compared input) drawn dashed over the same axes, its value at
   * the cursor after the first's in the legend ("0.81 → 0.12"); spec.key must change when it does.
   */
  render({ snap, theme, themeChanged }, spec) {
    this.spec = spec;
    const empty = !spec || !(spec.T > 0) || !spec.cols.length;
    this.message.hidden = !empty;
    if (empty) setText(this.message, (spec && spec.message) || "no data");
    const items = spec
      ? spec.cols.map((j, k) => ({
          name: spec.names[k],
          color: spec.colors[k],
          key: String(j),
          title: spec.titles?.[k],
          onclick: spec.onLegendClick ? () => spec.onLegendClick(j) : null,
        }))
      : [];
    this.legend.update(items, { extra: (spec && spec.legendExtra) || "" });

    this.rect = timeRect(this.plot);
    const r = this.rect;
    const lo = spec ? spec.lo : 0;
    const hi = spec ? spec.hi : 1;
    const span = hi - lo || 1;
    this.yOf = (v) => r.y + r.h - ((v - lo) / span) * r.h;

    const key = empty ? `empty|${theme.key}|${this.plot.width}` : [spec.key, lo, hi, this.plot.width, this.plot.height, theme.key].join("|");
    if (key !== this.baseKey || themeChanged) {
      this.baseKey = key;
      const ctx = this.plot.begin(this.plot.bctx);
      if (!empty) {
        drawYAxis(ctx, r, lo, hi, theme, this.yOf, { ticks: spec.ticks });
        drawTimeAxis(ctx, r, spec.T, theme);
        // Dense lines (segments under 3 px, or many of them) are drawn 1 px wide: a hairline, which software canvas
        // rasterises ~20x faster than 1.5 px strokes (50-130 ms -> 2-6 ms for 12 series of 1500 steps), and which
        // looks the same when the steps are that close.
        const width = spec.cols.length > 12 || spec.T * 3 > r.w ? 1 : 1.5;
        spec.cols.forEach((j, k) => drawSeries(ctx, spec.data, spec.T, spec.stride, j, r, this.yOf, spec.colors[k], width));
        const g = spec.ghost;
        if (g && g.T > 0) {
          // Over the first series' time axis (a longer ghost is cut at its end).
          const T = Math.min(g.T, spec.T);
          ctx.save();
          ctx.setLineDash([5, 3]);
          ctx.globalAlpha = 0.95;
          const gr = { ...r, w: (r.w * T) / spec.T };
          spec.cols.forEach((j, k) => drawSeries(ctx, g.data, T, g.stride, j, gr, this.yOf, spec.colors[k], 1.5));
          ctx.restore();
        }
      }
    }

    const ctx = this.plot.begin(this.plot.octx);
    const values = [];
    if (!empty) {
      const t = Math.min(snap.t, spec.T - 1);
      const h = snap.hover;
      if (h && h.sequence === snap.sequence && h.t != null && h.view !== spec.view) drawHoverLine(ctx, r, h.t, spec.T, theme);
      drawCursor(ctx, r, t, spec.T, theme);
      const x = xFromStep(t, r.x, r.w, spec.T);
      const base = t * spec.stride;
      const dots = spec.cols.length <= 32;
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
