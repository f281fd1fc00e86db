// Influence (lw-influence): how much each input (step × feature) drove the prediction at the cursor's step — a
// features (rows) × steps (columns) heatmap on the diverging map symmetric around 0, and the per-lag summary below it
// (how much comes from t, t-1, t-2, …: signed bars, and the sums of |values| behind them, each drawn under the step it
// comes from, so the two charts share one step axis; its y axis has round ticks). The kernel sends the whole
// (T, T, D) map of the shown sequence (`_influence`, computed by `influence_all` when the Why section opens or the
// method / sequence changes); following the cursor is then purely client side. Drag sideways: scrub. Hover: values.
// The root carries data-t, data-sequence, data-method, data-pending and __lw_influence() (what is drawn, for tests).

import { cssColor, cssGradient } from "../colormap.js";
import { rowFromY, stepFromX, xEdge, xFromStep } from "../scrub.js";
import { font } from "../theme.js";
import { stepLabels, tokenLabel } from "../tokens.js";
import { canRunModel, INFLUENCE_METHODS, influenceRow, maxAbs, noModelReason, perLag } from "../why.js";
import {
  attachScrub,
  clipText,
  colorbar,
  drawCursor,
  drawTimeAxis,
  drawYAxis,
  el,
  fillSelect,
  fmt,
  niceTicks,
  Plot,
  setText,
  timeRect,
  titleSpans,
  viewHead,
} from "./common.js";
import { heatmapPixels } from "./heatmap.js";

const SCALES = [
  ["step", "scale: this step"],
  ["all", "scale: all steps"],
];
const LAG_H = 96;

/** Round y ticks of the per-step chart, whose range is ±top: 0 and the round values within it (±1, ±0.5, …). */
export function lagTicks(top) {
  const ticks = niceTicks(0, top, 1).filter((v) => v > 0);
  return [...ticks.map((v) => -v).reverse(), 0, ...ticks];
}

/**
 * What the map at step t explains (the line under it): a regression's raw output `targets[t]` (`output` "output"),
 * else the logit / probability of the class — or next token — predicted at t; then the baseline and completeness.
 */
export function influenceCaption(inf, t, meta) {
  const c = inf.targets ? inf.targets[t] : null;
  const value = fmt(inf.f_x ? inf.f_x[t] : NaN);
  let text;
  if (inf.output === "output") text = `explains output ${c} (predicted at t=${t}) = ${value}`;
  else {
    const cname =
      c == null ? "" : meta.next_token ? tokenLabel(meta.vocab, c) : clipText(meta.class_names?.[c] ?? `class ${c}`);
    const what = meta.next_token ? "the next token " : "";
    text = `explains the ${inf.output || "logit"} of ${what}“${cname}” (predicted at t=${t}) = ${value}`;
  }
  if (inf.tokens) text += " · attributed to each token's embedding";
  if (inf.f_baseline) text += ` · baseline ${fmt(inf.f_baseline[t])}`;
  if (inf.completeness) text += ` · completeness error ${(100 * inf.completeness[t]).toFixed(2)}%`;
  return text;
}

export class InfluenceView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    [this.title, this.sub] = titleSpans("Influence of past inputs");
    this.method = el("select", { "aria-label": "Influence method", title: "Attribution method" });
    this.scaleSel = el("select", {
      "aria-label": "Influence scale",
      title: "Colour scale: max |value| of this step or of every step",
    });
    this.colorbar = colorbar({ title: "attribution (diverging, symmetric around 0)", midText: "0" });
    this.explain = el("div", { class: "lw-inf-explain lw-muted" });
    this.body = el("div", { class: "lw-body" });
    this.lagBody = el("div", { class: "lw-body lw-inf-lags" });
    this.message = el("div", { class: "lw-message" });
    this.el = el(
      "div",
      { class: "lw-influence lw-view lw-card", "data-t": "0", "data-pending": "false" },
      viewHead([this.title, this.sub], [this.method, this.scaleSel, this.colorbar.node]),
      this.explain,
      this.body,
      this.lagBody,
    );
    this.plot = new Plot(this.body, { height: 160 });
    this.body.append(this.message);
    this.lagPlot = new Plot(this.lagBody, { height: LAG_H });
    this.sizeTarget = this.body;
    this.scale = "step";
    this.method.addEventListener("change", () => store.set({ influence_method: this.method.value }));
    this.scaleSel.addEventListener("change", () => {
      this.scale = this.scaleSel.value;
      this.ctx.store.notify(new Set(["influence-scale"]), "ui");
    });
    this.rect = timeRect(this.plot, 4, 18);
    this.lagRect = timeRect(this.lagPlot, 6, 16);
    this.shown = null; // what is drawn: {inf, t, row, lags, scale}
    this.image = { key: null, canvas: null };
    this.allMax = { inf: null, value: 0 };
    this.disposeScrub = attachScrub(
      this.plot.overlay,
      this.plot,
      () => this.rect,
      () => (this.shown ? this.shown.inf.T : 0),
      (t) => store.set({ t }),
    );
    this.attachHover();
    this.el.__lw_influence = () => this.describe();
  }

  resize(width) {
    const a = this.plot.resize(width);
    const b = this.lagPlot.resize(width);
    if (a || b) this.image.key = null;
  }

  attachHover() {
    const { tooltip } = this.ctx;
    const meta = () => this.ctx.store.meta;
    this.plot.overlay.addEventListener("pointermove", (ev) => {
      const sh = this.shown;
      if (!sh) return tooltip.hide();
      const { x, y } = this.plot.point(ev);
      const r = this.rect;
      const d = rowFromY(y, r.y, r.h, sh.inf.D);
      if (d < 0 || x < r.x || x > r.x + r.w) return tooltip.hide();
      const s = stepFromX(x, r.x, r.w, sh.inf.T);
      const v = sh.row[s * sh.inf.D + d];
      const name = meta().feature_names[d] ?? `x${d}`;
      const lag = sh.t - s;
      const labels = stepLabels(this.ctx.store, sh.inf.sequence);
      const tok = labels ? ` '${labels(s) ?? "–"}'` : "";
      tooltip.show(
        ev.clientX,
        ev.clientY,
        `${name} · step ${s}${tok}${lag >= 0 ? ` (t-${lag})` : " (after t)"} · ${fmt(v)}`,
      );
    });
    this.plot.overlay.addEventListener("pointerleave", () => tooltip.hide());
    this.lagPlot.overlay.addEventListener("pointermove", (ev) => {
      const sh = this.shown;
      if (!sh) return tooltip.hide();
      const { x } = this.lagPlot.point(ev);
      const r = this.lagRect;
      if (x < r.x || x > r.x + r.w) return tooltip.hide();
      const step = stepFromX(x, r.x, r.w, sh.inf.T);
      const k = sh.t - step;
      if (k < 0) return tooltip.show(ev.clientX, ev.clientY, `step ${step}: after t, no influence on it`);
      tooltip.show(
        ev.clientX,
        ev.clientY,
        `step ${step} (t-${k}) · signed ${fmt(sh.lags.signed[k])} · |.| ${fmt(sh.lags.abs[k])}`,
      );
    });
    this.lagPlot.overlay.addEventListener("pointerleave", () => tooltip.hide());
  }

  /** What the view shows now (tests compare it with `lstm_widget.influence`). */
  describe() {
    const sh = this.shown;
    if (!sh) return null;
    return {
      sequence: sh.inf.sequence,
      method: sh.inf.method,
      t: sh.t,
      T: sh.inf.T,
      D: sh.inf.D,
      values: Array.from(sh.row),
      per_lag: Array.from(sh.lags.signed),
      per_lag_abs: Array.from(sh.lags.abs),
      f_x: sh.inf.f_x ? sh.inf.f_x[sh.t] : null,
      target: sh.inf.targets ? sh.inf.targets[sh.t] : null,
      scale: [sh.scale.lo, sh.scale.hi],
      per_step_ticks: sh.yTicks ? sh.yTicks.slice() : null, // the per-step chart's y ticks, and its x axis' name
      per_step_axis: "step",
    };
  }

  setMessage(text) {
    this.message.hidden = !text;
    if (text) setText(this.message, text);
  }

  render({ snap, theme, themeChanged }) {
    this.el.dataset.t = String(snap.t);
    if (!snap.why_open) return; // closed: nothing to draw
    const { store } = this.ctx;
    fillSelect(this.method, INFLUENCE_METHODS, snap.influence_method);
    fillSelect(this.scaleSel, SCALES, this.scale);
    this.method.disabled = !canRunModel(this.ctx);
    const inf = store.aux("_influence");
    const ready = inf && inf.sequence === snap.sequence && inf.method === snap.influence_method;
    const pending = !ready && canRunModel(this.ctx) && store.hasHead();
    this.el.dataset.pending = String(pending);
    this.el.dataset.sequence = String(snap.sequence);
    this.el.dataset.method = snap.influence_method;
    const methodLabel = (INFLUENCE_METHODS.find(([m]) => m === snap.influence_method) || [
      null,
      snap.influence_method,
    ])[1];
    const seqName = store.meta.sequence_names[snap.sequence] ?? "";
    setText(this.sub, `${methodLabel} · ${clipText(seqName)}`);
    this.sub.title = seqName;
    const D = inf?.D || store.width("inputs");
    const height = Math.max(90, Math.min(260, D * 12)) + 22;
    if (this.plot.setHeight(height)) {
      this.plot.resize(this.plot.width);
      this.image.key = null;
    }
    this.rect = timeRect(this.plot, 4, 18);
    this.lagRect = timeRect(this.lagPlot, 6, 16);
    let problem = null;
    if (ready && inf.error) problem = inf.error;
    else if (!ready) {
      if (store.meta.model_note && !this.ctx.offline) problem = noModelReason(this.ctx, "influence");
      else if (!store.hasHead()) problem = "the model has no head: there is no prediction to explain";
      else if (!canRunModel(this.ctx))
        problem = this.ctx.offline
          ? "computed by the kernel: not in this export"
          : "needs the model (this explorer was made from recordings)";
      else problem = `computing ${methodLabel}…`;
    } else if (!inf.values || snap.t >= inf.T) problem = "no influence values for this step";
    if (problem) {
      this.shown = null;
      this.setMessage(problem);
      setText(this.explain, "");
      this.plot.begin(this.plot.bctx);
      this.plot.begin(this.plot.octx);
      this.lagPlot.begin(this.lagPlot.bctx);
      this.image.key = null;
      return;
    }
    this.setMessage("");
    const t = snap.t;
    const row = influenceRow(inf, t);
    const lags = perLag(row, inf.T, inf.D, t);
    let m;
    if (this.scale === "all") {
      if (this.allMax.inf !== inf) this.allMax = { inf, value: maxAbs(inf.values) };
      m = this.allMax.value;
    } else m = maxAbs(row);
    if (!(m > 0)) m = 1e-12;
    const scale = { map: theme.dark ? "bkr" : "rdbu", lo: -m, hi: m, signed: true };
    this.shown = { inf, t, row, lags, scale };
    this.colorbar.bar.style.background = cssGradient(scale.map);
    setText(this.colorbar.lo, fmt(-m, 2));
    setText(this.colorbar.hi, fmt(m, 2));
    this.explainText(inf, t);
    this.drawMap(theme, themeChanged);
    this.drawLags(theme);
  }

  explainText(inf, t) {
    setText(this.explain, influenceCaption(inf, t, this.ctx.store.meta));
  }

  drawMap(theme, themeChanged) {
    const sh = this.shown;
    const { inf, row, scale, t } = sh;
    const r = this.rect;
    const dpr = this.plot.dpr;
    const imgW = Math.max(1, Math.min(inf.T, Math.round(r.w * dpr)));
    const imgH = Math.max(1, Math.min(inf.D, Math.round(r.h * dpr)));
    const key = [
      inf.sequence,
      inf.method,
      t,
      imgW,
      imgH,
      scale.map,
      scale.lo,
      this.plot.width,
      this.plot.height,
      theme.key,
    ].join("|");
    if (key !== this.image.key || themeChanged) {
      this.image.key = key;
      const order = Int32Array.from({ length: inf.D }, (_, k) => k);
      const canvas = this.image.canvas || document.createElement("canvas");
      canvas.width = imgW;
      canvas.height = imgH;
      const c2 = canvas.getContext("2d");
      const img = c2.createImageData(imgW, imgH);
      img.data.set(heatmapPixels(row, inf.T, inf.D, order, imgW, imgH, scale));
      c2.putImageData(img, 0, 0);
      this.image.canvas = canvas;
      const ctx = this.plot.begin(this.plot.bctx);
      ctx.save();
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(canvas, r.x, r.y, r.w, r.h);
      // The steps after t (zero for a causal model) are shaded: they cannot have influenced the prediction at t.
      if (t < inf.T - 1) {
        const x0 = xEdge(t + 1, r.x, r.w, inf.T);
        ctx.fillStyle = theme.dark ? "rgba(0,0,0,0.35)" : "rgba(255,255,255,0.55)";
        ctx.fillRect(x0, r.y, r.x + r.w - x0, r.h);
      }
      ctx.font = font(theme, 9.5);
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      ctx.fillStyle = theme.fg2;
      const rowH = r.h / inf.D;
      const every = rowH >= 10 ? 1 : Math.ceil(11 / rowH);
      const names = this.ctx.store.meta.feature_names;
      for (let d = 0; d < inf.D; d += every) {
        let name = names[d] ?? `x${d}`;
        if (name.length > 7) name = `${name.slice(0, 6)}…`;
        ctx.fillText(name, r.x - 4, r.y + (d + 0.5) * rowH);
      }
      ctx.restore();
      drawTimeAxis(ctx, r, inf.T, theme, { grid: false, tokens: stepLabels(this.ctx.store, inf.sequence) });
    }
    const octx = this.plot.begin(this.plot.octx);
    drawCursor(octx, r, t, inf.T, theme, { band: false });
  }

  drawLags(theme) {
    const { inf, lags } = this.shown;
    const r = this.lagRect;
    const ctx = this.lagPlot.begin(this.lagPlot.bctx);
    let top = 0;
    for (let k = 0; k < lags.abs.length; k++) top = Math.max(top, lags.abs[k]);
    if (!(top > 0)) top = 1;
    const lo = -top;
    const hi = top;
    const yOf = (v) => r.y + r.h - ((v - lo) / (hi - lo)) * r.h;
    const ticks = lagTicks(top);
    this.shown.yTicks = ticks;
    drawYAxis(ctx, r, lo, hi, theme, yOf, { ticks });
    const T = inf.T;
    const scale = { map: theme.dark ? "bkr" : "rdbu", lo: -1, hi: 1 };
    const pos = cssColor(scale, 0.8);
    const neg = cssColor(scale, -0.8);
    const y0 = yOf(0);
    for (let k = 0; k < lags.abs.length; k++) {
      const step = this.shown.t - k; // lag k comes from step t - k: drawn under that step of the map above
      const x0 = xEdge(step, r.x, r.w, T);
      const w = Math.max(1, xEdge(step + 1, r.x, r.w, T) - x0);
      // |.|: a faint bar up from 0; signed: a narrower bar in the sign's colour.
      ctx.fillStyle = theme.grid;
      ctx.fillRect(x0 + w * 0.08, yOf(lags.abs[k]), w * 0.84, y0 - yOf(lags.abs[k]));
      ctx.strokeStyle = theme.fg3;
      ctx.lineWidth = 1;
      ctx.strokeRect(
        x0 + w * 0.08 + 0.5,
        yOf(lags.abs[k]) + 0.5,
        Math.max(0, w * 0.84 - 1),
        Math.max(0, y0 - yOf(lags.abs[k]) - 1),
      );
      const v = lags.signed[k];
      ctx.fillStyle = v >= 0 ? pos : neg;
      const ys = yOf(v);
      ctx.fillRect(x0 + w * 0.28, Math.min(ys, y0), w * 0.44, Math.max(1, Math.abs(ys - y0)));
    }
    // step ticks (the map's axis)
    ctx.save();
    ctx.font = font(theme, 9.5);
    ctx.fillStyle = theme.fg2;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const every = Math.max(1, Math.ceil(28 / (r.w / Math.max(1, T))));
    for (let k = 0; k < T; k += every) ctx.fillText(String(k), xFromStep(k, r.x, r.w, T), r.y + r.h + 3);
    ctx.textAlign = "right";
    ctx.fillText("step", r.x - 4, r.y + r.h + 3);
    ctx.restore();
  }

  destroy() {
    this.disposeScrub();
  }
}
