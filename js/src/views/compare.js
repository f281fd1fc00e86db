// Beside the original (lw-compare): one display, filled two ways — an intervention (`ex.intervene(...)` or a unit's
// context menu) or a comparison with another input (`ex.compare(...)` or the "compare with" select). From the kernel's
// `_comparison`: the probabilities at the cursor (original, other, difference; the predictions view draws the other's
// curves dashed), the other's heatmap and the difference (other − original) of the shown quantity and layer, and both
// trajectories on the same fitted projection. __lw_compare() says what is shown (tests).

import { categorical, cssGradient, scaleFor } from "../colormap.js";
import { font } from "../theme.js";
import { canRunModel, comparedSeries, differenceBlock, isEmpty, noModelReason, sameRequest } from "../why.js";
import {
  clipText,
  colorbar,
  drawCursor,
  drawTimeAxis,
  el,
  fillSelect,
  fmt,
  Plot,
  setText,
  timeRect,
  titleSpans,
  viewHead,
} from "./common.js";
import { heatmapPixels } from "./heatmap.js";
import { argmaxRow } from "./probs.js";

const PANEL_H = 100;

export class CompareView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    [this.title, this.sub] = titleSpans("Intervene & compare");
    this.other = el("select", { "aria-label": "Compare with", title: "Show another sequence beside this one" });
    this.clear = el("button", {
      type: "button",
      class: "lw-btn lw-cmp-clear",
      text: "clear",
      title: "Remove the intervention / comparison",
    });
    this.goto = el("button", { type: "button", class: "lw-btn lw-cmp-goto" });
    this.note = el("div", { class: "lw-cmp-note lw-muted" });
    this.summary = el("div", { class: "lw-cmp-summary" });
    this.table = el("div", { class: "lw-cmp-probs", role: "table" });
    this.panels = el("div", { class: "lw-cmp-panels" });
    this.otherTitle = el("div", { class: "lw-cmp-caption" });
    this.diffTitle = el("div", { class: "lw-cmp-caption" });
    this.otherBar = colorbar();
    this.diffBar = colorbar();
    this.otherBody = el("div", { class: "lw-body" });
    this.diffBody = el("div", { class: "lw-body" });
    this.trajTitle = el("div", { class: "lw-cmp-caption" });
    this.trajBody = el("div", { class: "lw-body" });
    this.content = el(
      "div",
      { class: "lw-cmp-content" },
      this.summary,
      this.table,
      el("div", { class: "lw-cmp-row-head" }, this.otherTitle, this.otherBar.node),
      this.otherBody,
      el("div", { class: "lw-cmp-row-head" }, this.diffTitle, this.diffBar.node),
      this.diffBody,
      this.trajTitle,
      this.trajBody,
    );
    this.el = el(
      "div",
      { class: "lw-compare lw-view lw-card", "data-t": "0", "data-pending": "false", "data-kind": "" },
      viewHead([this.title, this.sub], [this.other, this.clear]),
      this.note,
      this.goto,
      this.content,
    );
    this.otherPlot = new Plot(this.otherBody, { height: PANEL_H });
    this.diffPlot = new Plot(this.diffBody, { height: PANEL_H });
    this.trajPlot = new Plot(this.trajBody, { height: 170 });
    this.sizeTarget = this.otherBody;
    this.other.addEventListener("change", () => {
      const snap = store.snapshot();
      const k = this.other.value;
      store.set({ comparison: k === "" ? {} : { kind: "compare", sequence: snap.sequence, other: Number(k) } });
    });
    this.clear.addEventListener("click", () => store.set({ comparison: {} }));
    this.goto.addEventListener("click", () => {
      const cmp = store.aux("_comparison");
      if (cmp) store.set({ sequence: cmp.sequence });
    });
    this.images = { other: { key: null, canvas: null }, diff: { key: null, canvas: null } };
    this.baseKey = null;
    this.shown = null;
    this.rows = [];
    this.tableSig = "";
    this.el.__lw_compare = () => this.shown;
  }

  resize(width) {
    const a = this.otherPlot.resize(width);
    const b = this.diffPlot.resize(width);
    const c = this.trajPlot.resize(width);
    if (a || b || c) this.baseKey = null;
  }

  render({ snap, theme, themeChanged }) {
    this.el.dataset.t = String(snap.t);
    if (!snap.why_open) return;
    const { store } = this.ctx;
    const meta = store.meta;
    const run = canRunModel(this.ctx);
    const cmp = store.aux("_comparison");
    const request = snap.comparison;
    const pending = !isEmpty(request) && !(cmp && sameRequest(cmp.request, request)) && !this.ctx.offline;
    this.el.dataset.pending = String(pending);
    this.el.dataset.kind = cmp ? cmp.kind : "";
    const names = meta.sequence_names;
    const compareOptions = [["", "compare with…"], ...names.map((n, k) => [k, n]).filter(([k]) => k !== snap.sequence)];
    const selected =
      cmp && cmp.kind === "compare" && cmp.sequence === snap.sequence && cmp.request.other != null
        ? cmp.request.other
        : "";
    fillSelect(this.other, compareOptions, selected);
    this.other.disabled = this.ctx.offline;
    this.clear.hidden = !cmp && isEmpty(request);
    this.clear.disabled = this.ctx.offline;
    setText(this.title, cmp ? (cmp.kind === "intervention" ? "Intervention" : "Comparison") : "Intervene & compare");
    setText(this.sub, cmp ? cmp.description : "");
    this.goto.hidden = true;
    if (pending) {
      setText(this.note, cmp ? "computing… (showing the previous result)" : "computing…");
    } else if (!cmp) {
      setText(
        this.note,
        run
          ? "Right-click a unit (a heatmap row or a top-units entry) to zero, clamp or scale it from a step, or compare with another sequence."
          : `Pick a sequence to compare with.${this.ctx.offline ? "" : meta.model_note ? ` (${noModelReason(this.ctx, "Interventions")}.)` : " (Interventions need the model.)"}`,
      );
    } else setText(this.note, "");
    if (!cmp) {
      this.content.hidden = true;
      this.shown = null;
      return;
    }
    if (cmp.sequence !== snap.sequence) {
      this.content.hidden = true;
      this.shown = null;
      this.goto.hidden = false;
      setText(this.goto, `shown for ${clipText(names[cmp.sequence] ?? `sequence ${cmp.sequence}`)} — go there`);
      return;
    }
    this.content.hidden = false;
    this.drawProbs(snap, theme, cmp);
    this.drawPanels(snap, theme, themeChanged, cmp);
    this.drawTraj(snap, theme, cmp);
  }

  drawProbs(snap, theme, cmp) {
    const { store } = this.ctx;
    const meta = store.meta;
    const a = store.hasHead() ? store.series("probs", 0, snap.sequence) : null;
    const b = cmp.probs;
    const shown = {
      sequence: snap.sequence,
      t: snap.t,
      kind: cmp.kind,
      length: cmp.length,
      original: null,
      other: null,
    };
    this.shown = shown;
    if (!a || !b || !(a.rows > 0)) {
      this.table.hidden = true;
      setText(this.summary, store.hasHead() ? "" : "no head: nothing is predicted");
      return;
    }
    this.table.hidden = false;
    const C = a.cols;
    const className = (c) => clipText(meta.class_names?.[c] ?? `class ${c}`);
    const tb = Math.min(snap.t, cmp.length - 1);
    const ta = Math.min(snap.t, a.rows - 1);
    const pa = Array.from(a.data.subarray(ta * C, (ta + 1) * C));
    const pb = Array.from(b.data.subarray(tb * C, (tb + 1) * C));
    shown.original = pa;
    shown.other = pb;
    shown.other_t = tb;
    const common = Math.min(a.rows, cmp.length);
    let changed = 0;
    for (let s = 0; s < common; s++) if (argmaxRow(a.data, C, s) !== argmaxRow(b.data, C, s)) changed++;
    const ba = argmaxRow(a.data, C, ta);
    const bb = argmaxRow(b.data, C, tb);
    shown.predicted = [ba, bb];
    shown.changed_steps = changed;
    const [na, nb] = cmp.names;
    setText(
      this.summary,
      `at t=${snap.t}: ${className(ba)} → ${className(bb)} · the prediction differs at ${changed} of ${common} steps`,
    );
    const sig = JSON.stringify([C, cmp.names, meta.class_names, theme.dark]);
    if (sig !== this.tableSig) {
      this.tableSig = sig;
      const head = el(
        "div",
        { class: "lw-cmp-tr lw-cmp-th", role: "row" },
        el("span", { text: "class" }),
        el("span", { text: na, title: na }),
        el("span", { text: nb, title: nb }),
        el("span", { text: "Δ" }),
      );
      this.rows = Array.from({ length: C }, (_, c) => {
        const cells = [
          el("span", { class: "lw-cmp-a" }),
          el("span", { class: "lw-cmp-b" }),
          el("span", { class: "lw-cmp-d" }),
        ];
        const row = el(
          "div",
          { class: "lw-cmp-tr", role: "row", "data-class": String(c) },
          el(
            "span",
            { class: "lw-cmp-class" },
            el("span", { class: "lw-swatch", style: { background: categorical(c, theme.dark) } }),
            className(c),
          ),
          ...cells,
        );
        return { row, cells };
      });
      this.table.replaceChildren(head, ...this.rows.map((r) => r.row));
    }
    this.rows.forEach(({ row, cells }, c) => {
      setText(cells[0], pa[c].toFixed(3));
      setText(cells[1], pb[c].toFixed(3));
      const d = pb[c] - pa[c];
      setText(cells[2], `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(3)}`);
      row.classList.toggle("lw-pred-a", c === ba);
      row.classList.toggle("lw-pred-b", c === bb);
    });
  }

  imageOf(slot, key, block, rows, U, T, plot, rect, scale) {
    const cache = this.images[slot];
    const dpr = plot.dpr;
    const imgW = Math.max(1, Math.min(T, Math.round(rect.w * dpr)));
    const imgH = Math.max(1, Math.min(U, Math.round(rect.h * dpr)));
    const full = `${key}|${imgW}|${imgH}`;
    if (cache.key !== full) {
      let data = block;
      if (rows < T) {
        data = new Float32Array(T * U).fill(NaN);
        data.set(block.subarray(0, rows * U));
      }
      const order = Int32Array.from({ length: U }, (_, k) => k);
      const canvas = cache.canvas || document.createElement("canvas");
      canvas.width = imgW;
      canvas.height = imgH;
      const c2 = canvas.getContext("2d");
      const img = c2.createImageData(imgW, imgH);
      img.data.set(heatmapPixels(data, T, U, order, imgW, imgH, scale));
      c2.putImageData(img, 0, 0);
      cache.key = full;
      cache.canvas = canvas;
    }
    return cache.canvas;
  }

  drawPanels(snap, theme, themeChanged, cmp) {
    const { store } = this.ctx;
    const q = snap.quantity;
    const orig = store.series(q, snap.layer, snap.sequence);
    const other = comparedSeries(cmp, q, snap.layer);
    const T = Math.max(orig ? orig.rows : 0, cmp.length);
    const ro = timeRect(this.otherPlot, 4, 16);
    const rd = timeRect(this.diffPlot, 4, 16);
    const layerName = store.layerName(snap.layer);
    setText(this.otherTitle, `${cmp.names[1]}: ${q} · ${layerName}`);
    if (!orig || !other) {
      setText(this.diffTitle, store.pending(q) ? `loading ${q}…` : `no ${q} to compare`);
      this.otherPlot.begin(this.otherPlot.bctx);
      this.diffPlot.begin(this.diffPlot.bctx);
      this.otherPlot.begin(this.otherPlot.octx);
      this.diffPlot.begin(this.diffPlot.octx);
      this.baseKey = null;
      return;
    }
    const U = other.U;
    const diff = this.diffFor(cmp, q, snap.layer, orig, other, T);
    const m = diff.max > 0 ? diff.max : 1e-12;
    setText(
      this.diffTitle,
      `difference ${cmp.names[1]} − ${cmp.names[0]}: ${q} · ${layerName} · max |Δ| ${fmt(diff.max)}`,
    );
    const scaleOther = scaleFor(q, store.limits(q), theme.dark);
    const scaleDiff = { map: theme.dark ? "bkr" : "rdbu", lo: -m, hi: m, signed: true };
    for (const [bar, sc] of [
      [this.otherBar, scaleOther],
      [this.diffBar, scaleDiff],
    ]) {
      bar.bar.style.background = cssGradient(sc.map);
      setText(bar.lo, fmt(sc.lo, 2));
      setText(bar.hi, fmt(sc.hi, 2));
      setText(bar.mid, sc.signed ? "0" : "0.5");
    }
    const height = Math.max(70, Math.min(180, U * 2)) + 20;
    if (this.otherPlot.setHeight(height)) this.otherPlot.resize(this.otherPlot.width);
    if (this.diffPlot.setHeight(height)) this.diffPlot.resize(this.diffPlot.width);
    const dataKey = [
      cmp.request && JSON.stringify(cmp.request),
      cmp.length,
      q,
      snap.layer,
      store.seqVersion(snap.sequence),
    ].join("|");
    const key = [
      dataKey,
      scaleOther.map,
      scaleOther.lo,
      scaleOther.hi,
      this.otherPlot.width,
      this.otherPlot.height,
      theme.key,
    ].join("|");
    if (key !== this.baseKey || themeChanged) {
      this.baseKey = key;
      const panels = [
        [
          this.otherPlot,
          ro,
          this.imageOf(
            "other",
            `${dataKey}|${scaleOther.map}|${scaleOther.hi}`,
            other.data,
            other.rows,
            U,
            T,
            this.otherPlot,
            ro,
            scaleOther,
          ),
        ],
        [
          this.diffPlot,
          rd,
          this.imageOf("diff", `${dataKey}|${scaleDiff.map}`, diff.data, T, U, T, this.diffPlot, rd, scaleDiff),
        ],
      ];
      for (const [plot, r, img] of panels) {
        const ctx = plot.begin(plot.bctx);
        ctx.save();
        ctx.fillStyle = theme.dark ? "rgba(255,255,255,0.04)" : "rgba(0,0,0,0.03)";
        ctx.fillRect(r.x, r.y, r.w, r.h);
        ctx.imageSmoothingEnabled = !(img.width < r.w * plot.dpr * 0.75 || img.height < r.h * plot.dpr * 0.75);
        ctx.drawImage(img, r.x, r.y, r.w, r.h);
        ctx.font = font(theme, 9.5);
        ctx.fillStyle = theme.fg2;
        ctx.textAlign = "right";
        ctx.textBaseline = "top";
        ctx.fillText("units", r.x - 4, r.y);
        ctx.restore();
        drawTimeAxis(ctx, r, T, theme, { grid: false });
      }
    }
    for (const [plot, r] of [
      [this.otherPlot, ro],
      [this.diffPlot, rd],
    ]) {
      const octx = plot.begin(plot.octx);
      drawCursor(octx, r, Math.min(snap.t, T - 1), T, theme, { band: false });
    }
    const t = Math.min(snap.t, diff.common - 1);
    if (this.shown) {
      this.shown.quantity = q;
      this.shown.layer = snap.layer;
      this.shown.diff_max = diff.max;
      this.shown.diff_at_t = t >= 0 ? Array.from(diff.data.subarray(t * U, (t + 1) * U)) : [];
    }
  }

  diffFor(cmp, q, layer, orig, other, T) {
    const key = [
      cmp.request && JSON.stringify(cmp.request),
      cmp.length,
      q,
      layer,
      T,
      this.ctx.store.seqVersion(cmp.sequence),
    ].join("|");
    if (this.diffCache?.key !== key) {
      this.diffCache = { key, value: differenceBlock(orig.data, orig.rows, other.data, other.rows, other.U, T) };
    }
    return this.diffCache.value;
  }

  drawTraj(snap, theme, cmp) {
    const { store } = this.ctx;
    const a = store.series("traj", 0, snap.sequence);
    const b = cmp.traj;
    const plot = this.trajPlot;
    const ctx = plot.begin(plot.bctx);
    plot.begin(plot.octx);
    setText(this.trajTitle, `trajectories on the same projection: ${cmp.names[0]} (solid), ${cmp.names[1]} (dashed)`);
    if (!a || !b || !(a.rows > 0)) return;
    const da = a.cols;
    const db = b.shape[1];
    const paths = [
      { data: a.data, rows: a.rows, stride: da, dash: [], color: theme.fg2 },
      { data: b.data, rows: b.shape[0], stride: db, dash: [5, 3], color: categorical(1, theme.dark) },
    ];
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (const p of paths) {
      for (let s = 0; s < p.rows; s++) {
        const x = p.data[s * p.stride];
        const y = p.data[s * p.stride + 1];
        if (x === x) [x0, x1] = [Math.min(x0, x), Math.max(x1, x)];
        if (y === y) [y0, y1] = [Math.min(y0, y), Math.max(y1, y)];
      }
    }
    if (!(x1 >= x0 && y1 >= y0)) return;
    const pad = 10;
    const W = plot.width;
    const H = plot.height;
    const sx = (W - 2 * pad) / (x1 - x0 || 1);
    const sy = (H - 2 * pad) / (y1 - y0 || 1);
    const px = (x) => pad + (x - x0) * sx;
    const py = (y) => H - pad - (y - y0) * sy;
    ctx.save();
    for (const p of paths) {
      ctx.strokeStyle = p.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(p.dash);
      ctx.beginPath();
      let pen = false;
      for (let s = 0; s < p.rows; s++) {
        const x = p.data[s * p.stride];
        const y = p.data[s * p.stride + 1];
        if (x !== x || y !== y) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(px(x), py(y));
        else ctx.moveTo(px(x), py(y));
        pen = true;
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
    for (const p of paths) {
      const s = Math.min(snap.t, p.rows - 1);
      const x = p.data[s * p.stride];
      const y = p.data[s * p.stride + 1];
      if (x !== x || y !== y) continue;
      ctx.beginPath();
      ctx.arc(px(x), py(y), 4, 0, 2 * Math.PI);
      ctx.fillStyle = p.color;
      ctx.fill();
      ctx.strokeStyle = theme.bg0;
      ctx.lineWidth = 1;
      ctx.stroke();
    }
    ctx.restore();
  }
}
