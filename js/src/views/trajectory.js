// Trajectory (lw-trajectory): the 2-D projection `traj` (sumT, 2) of the hidden state. The current sequence's path
// is coloured by time step with the current point marked; every other sequence is a faint path in its class
// colour; class labels sit at paths' last steps (with many sequences: at each class's mean last point, plus the
// current path's). Hover names sequence and step; click a point of the current path to jump to it, another path
// to switch to that sequence.
// The root carries `__lw_project(x, y)`: a projected point (data coordinates, as in `traj`) -> {x, y} in CSS pixels
// from the top-left of the plot's canvas, with the scale last drawn (null before the first draw); tests use it to
// click known points.

import { el, Plot, setText } from "./common.js";
import { lut, categorical } from "../colormap.js";
import { font } from "../theme.js";

const PAD = 16;
const LABEL_ALL_MAX = 40; // label every path end up to this many sequences

/** Sequence owning global row r (binary search in offsets). */
export function sequenceOfRow(offsets, n, r) {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= r) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function timeColor(frac) {
  const table = lut("viridis");
  const n = table.length / 4;
  const k = Math.max(0, Math.min(n - 1, Math.round(frac * (n - 1))));
  return `rgb(${table[4 * k]},${table[4 * k + 1]},${table[4 * k + 2]})`;
}

export class TrajectoryView {
  constructor(ctx) {
    this.ctx = ctx;
    this.title = el("span", { class: "lw-title", text: "Hidden-state trajectory" });
    this.sub = el("span", { class: "lw-sub" });
    this.timeKey = el("span", { class: "lw-time-key", title: "colour = time step of the current path" });
    this.body = el("div", { class: "lw-body" });
    this.message = el("div", { class: "lw-message" });
    this.el = el(
      "div",
      { class: "lw-trajectory lw-view lw-card", "data-t": "0" },
      el("div", { class: "lw-head" }, el("span", { class: "lw-titles" }, this.title, this.sub), this.timeKey),
      this.body,
    );
    this.plot = new Plot(this.body, { height: 300 });
    this.body.append(this.message);
    this.sizeTarget = this.body;
    this.baseKey = null;
    this.xs = null;
    this.ys = null;
    this.hit = null;
    this.scale = null; // {x0, y0, sx, sy, H}: data -> CSS pixels, as last drawn
    this.el.__lw_project = (x, y) => {
      const s = this.scale;
      return s ? { x: PAD + (x - s.x0) * s.sx, y: s.H - PAD - (y - s.y0) * s.sy } : null;
    };
    this.attachPointer();
  }

  resize(width) {
    const h = Math.round(Math.max(220, Math.min(420, width * 0.85)));
    const changedH = this.plot.setHeight(h);
    if (this.plot.resize(width) || changedH) this.baseKey = null;
  }

  /** Nearest point to (x, y): prefers the current path within 8 px, else any within 10 px. */
  pick(x, y) {
    const { store } = this.ctx;
    if (!this.xs) return null;
    const snap = store.snapshot();
    const meta = store.meta;
    const n = this.xs.length;
    let best = -1;
    let bestD = 100;
    for (let r = 0; r < n; r++) {
      const dx = this.xs[r] - x;
      const dy = this.ys[r] - y;
      const d = dx * dx + dy * dy;
      if (d < bestD) [bestD, best] = [d, r];
    }
    const o0 = meta.offsets[snap.sequence];
    const o1 = meta.offsets[snap.sequence + 1] ?? o0;
    let bestCur = -1;
    let bestCurD = 64;
    for (let r = o0; r < o1 && r < n; r++) {
      const dx = this.xs[r] - x;
      const dy = this.ys[r] - y;
      const d = dx * dx + dy * dy;
      if (d < bestCurD) [bestCurD, bestCur] = [d, r];
    }
    const r = bestCur >= 0 ? bestCur : best;
    if (r < 0) return null;
    const s = sequenceOfRow(meta.offsets, meta.n_sequences, r);
    return { row: r, sequence: s, t: r - meta.offsets[s] };
  }

  attachPointer() {
    const { store, tooltip } = this.ctx;
    const target = this.plot.overlay;
    target.addEventListener("pointermove", (ev) => {
      const { x, y } = this.plot.point(ev);
      const p = this.pick(x, y);
      const meta = store.meta;
      if (!p) {
        tooltip.hide();
        store.set({ hover: null });
        target.style.cursor = "";
        return;
      }
      target.style.cursor = "pointer";
      const label = meta.labels[p.sequence];
      const cls = label != null && meta.class_names ? ` (${meta.class_names[label] ?? label})` : "";
      tooltip.show(ev.clientX, ev.clientY, `${meta.sequence_names[p.sequence]}${cls} · t ${p.t}`);
      store.set({ hover: { sequence: p.sequence, t: p.t, unit: null, view: "trajectory" } });
    });
    target.addEventListener("pointerleave", () => {
      tooltip.hide();
      store.set({ hover: null });
    });
    target.addEventListener("click", (ev) => {
      const { x, y } = this.plot.point(ev);
      const p = this.pick(x, y);
      if (!p) return;
      const snap = store.snapshot();
      if (p.sequence === snap.sequence) store.set({ t: p.t });
      else store.set({ sequence: p.sequence }); // t kept, clamped to the new sequence
    });
  }

  render({ snap, theme, themeChanged }) {
    const { store } = this.ctx;
    const meta = store.meta;
    const all = store.all("traj", 0);
    const proj = meta.projection || {};
    const pname = proj.name || "projection";
    setText(
      this.sub,
      all ? `${pname} of ${proj.quantity || "h"}${proj.layer != null ? ` · ${store.layerName(proj.layer)}` : ""} · ${meta.n_sequences} sequence${meta.n_sequences === 1 ? "" : "s"}` : "",
    );
    if (!this.timeKey.firstChild) {
      this.timeKey.append(el("span", { class: "lw-muted", text: "t = 0" }), el("span", { class: "lw-cb-bar lw-time-bar" }), el("span", { class: "lw-muted lw-time-end" }));
      this.timeKey.children[1].style.background = "linear-gradient(to right, #440154, #3b528b, #21918c, #5ec962, #fde725)";
    }
    setText(this.timeKey.children[2], String(Math.max(0, snap.T - 1)));
    const has = all && all.rows > 0 && all.cols >= 2;
    this.message.hidden = has;
    if (!has) setText(this.message, all ? "no steps recorded yet" : "no projection recorded");
    const key = has
      ? [store.version, snap.sequence, this.plot.width, this.plot.height, theme.key].join("|")
      : `empty|${this.plot.width}|${theme.key}`;
    if (key !== this.baseKey || themeChanged) {
      this.baseKey = key;
      const ctx = this.plot.begin(this.plot.bctx);
      this.xs = null;
      this.scale = null;
      if (has) this.drawBase(ctx, snap, theme, all, pname);
    }
    const octx = this.plot.begin(this.plot.octx);
    if (has && this.xs) this.drawOverlay(octx, snap, theme);
    this.el.dataset.t = String(snap.t);
  }

  drawBase(ctx, snap, theme, all, pname) {
    const { store } = this.ctx;
    const meta = store.meta;
    const W = this.plot.width;
    const H = this.plot.height;
    const { data, rows, cols } = all;
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let r = 0; r < rows; r++) {
      const a = data[r * cols];
      const b = data[r * cols + 1];
      if (a < x0) x0 = a;
      if (a > x1) x1 = a;
      if (b < y0) y0 = b;
      if (b > y1) y1 = b;
    }
    if (!(x1 >= x0)) [x0, x1, y0, y1] = [-1, 1, -1, 1];
    if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
    if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
    const sx = (W - 2 * PAD) / (x1 - x0);
    const sy = (H - 2 * PAD) / (y1 - y0);
    const xs = new Float32Array(rows);
    const ys = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      xs[r] = PAD + (data[r * cols] - x0) * sx;
      ys[r] = H - PAD - (data[r * cols + 1] - y0) * sy;
    }
    this.xs = xs;
    this.ys = ys;
    this.scale = { x0, y0, sx, sy, H };

    // Frame, zero axes and axis names.
    ctx.save();
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
    if (x0 < 0 && x1 > 0) {
      const zx = Math.round(PAD - x0 * sx) + 0.5;
      ctx.beginPath();
      ctx.moveTo(zx, 0);
      ctx.lineTo(zx, H);
      ctx.stroke();
    }
    if (y0 < 0 && y1 > 0) {
      const zy = Math.round(H - PAD + y0 * sy) + 0.5;
      ctx.beginPath();
      ctx.moveTo(0, zy);
      ctx.lineTo(W, zy);
      ctx.stroke();
    }
    ctx.font = font(theme, 10);
    ctx.fillStyle = theme.fg3;
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText(`${pname} 1 →`, W - 4, H - 2);
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(`↑ ${pname} 2`, 4, 3);
    ctx.restore();

    const N = meta.n_sequences;
    const cur = snap.sequence;
    const labelled = meta.labels.some((l) => l != null);
    const classColor = (s) => (labelled && meta.labels[s] != null ? categorical(meta.labels[s], theme.dark) : theme.fg2);
    const pathOf = (s) => {
      const o0 = meta.offsets[s];
      const o1 = meta.offsets[s + 1];
      ctx.beginPath();
      let pen = false;
      for (let r = o0; r < o1; r++) {
        if (xs[r] !== xs[r] || ys[r] !== ys[r]) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(xs[r], ys[r]);
        else ctx.moveTo(xs[r], ys[r]);
        pen = true;
      }
    };
    const lastRow = (s) => {
      for (let r = meta.offsets[s + 1] - 1; r >= meta.offsets[s]; r--) if (xs[r] === xs[r] && ys[r] === ys[r]) return r;
      return -1;
    };

    // Other sequences: faint paths, end dots.
    ctx.save();
    ctx.globalAlpha = N > 200 ? 0.16 : N > 40 ? 0.24 : 0.35;
    ctx.lineWidth = 1;
    ctx.lineJoin = "round";
    for (let s = 0; s < N; s++) {
      if (s === cur) continue;
      ctx.strokeStyle = classColor(s);
      pathOf(s);
      ctx.stroke();
    }
    ctx.globalAlpha = N > 200 ? 0.45 : 0.7;
    for (let s = 0; s < N; s++) {
      const r = lastRow(s);
      if (s === cur || r < 0) continue;
      ctx.fillStyle = classColor(s);
      ctx.beginPath();
      ctx.arc(xs[r], ys[r], 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.restore();

    // Class labels: at every path end when few; else at each class's mean end point.
    const className = (l) => (meta.class_names && meta.class_names[l] != null ? meta.class_names[l] : `class ${l}`);
    const halo = (text, x, y, color, weight = 400, size = 10) => {
      ctx.font = font(theme, size, weight);
      ctx.lineWidth = 3;
      ctx.strokeStyle = theme.bg0;
      ctx.strokeText(text, x, y);
      ctx.fillStyle = color;
      ctx.fillText(text, x, y);
    };
    ctx.save();
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    if (labelled) {
      if (N <= LABEL_ALL_MAX) {
        for (let s = 0; s < N; s++) {
          const r = lastRow(s);
          if (s === cur || r < 0 || meta.labels[s] == null) continue;
          halo(className(meta.labels[s]), xs[r] + 4, ys[r], theme.fg2);
        }
      } else {
        const acc = new Map();
        for (let s = 0; s < N; s++) {
          const r = lastRow(s);
          const l = meta.labels[s];
          if (r < 0 || l == null) continue;
          const a = acc.get(l) || [0, 0, 0];
          a[0] += xs[r];
          a[1] += ys[r];
          a[2]++;
          acc.set(l, a);
        }
        ctx.textAlign = "center";
        for (const [l, [sx2, sy2, n]] of acc) halo(className(l), sx2 / n, sy2 / n, categorical(l, theme.dark), 700, 11);
      }
    }
    ctx.restore();

    // The current path, coloured by time (segments batched into colour buckets).
    const o0 = meta.offsets[cur];
    const o1 = meta.offsets[cur + 1];
    const T = o1 - o0;
    if (T > 0) {
      ctx.save();
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      const buckets = Math.min(64, Math.max(1, T - 1));
      for (let b = 0; b < buckets; b++) {
        const r0 = o0 + Math.floor((b * (T - 1)) / buckets);
        const r1 = o0 + Math.floor(((b + 1) * (T - 1)) / buckets);
        if (r1 <= r0) continue;
        ctx.strokeStyle = timeColor((b + 0.5) / buckets);
        ctx.beginPath();
        let pen = false;
        for (let r = r0; r <= r1; r++) {
          if (xs[r] !== xs[r] || ys[r] !== ys[r]) {
            pen = false;
            continue;
          }
          if (pen) ctx.lineTo(xs[r], ys[r]);
          else ctx.moveTo(xs[r], ys[r]);
          pen = true;
        }
        ctx.stroke();
      }
      if (T <= 300) {
        for (let r = o0; r < o1; r++) {
          if (xs[r] !== xs[r]) continue;
          ctx.fillStyle = timeColor(T > 1 ? (r - o0) / (T - 1) : 0);
          ctx.beginPath();
          ctx.arc(xs[r], ys[r], 2.6, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
      // Start ring and the label at the last step.
      if (xs[o0] === xs[o0]) {
        ctx.strokeStyle = theme.fg1;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.arc(xs[o0], ys[o0], 4.5, 0, 2 * Math.PI);
        ctx.stroke();
      }
      const r = lastRow(cur);
      const l = meta.labels[cur];
      if (r >= 0) {
        ctx.textAlign = "left";
        ctx.textBaseline = "middle";
        ctx.lineJoin = "round";
        const text = l != null ? className(l) : meta.sequence_names[cur];
        const right = xs[r] + 8 + ctx.measureText(text).width > W - 4;
        ctx.textAlign = right ? "right" : "left";
        halo(text, xs[r] + (right ? -8 : 8), ys[r] - 8, theme.fg0, 700, 12);
      }
      ctx.restore();
    }
  }

  drawOverlay(ctx, snap, theme) {
    const { store } = this.ctx;
    const meta = store.meta;
    const xs = this.xs;
    const ys = this.ys;
    const h = snap.hover;
    // Hovered path (from any view that names a sequence), and its point.
    if (h && h.view === "trajectory" && h.sequence !== snap.sequence && h.sequence < meta.n_sequences) {
      ctx.save();
      ctx.strokeStyle = theme.fg1;
      ctx.globalAlpha = 0.85;
      ctx.lineWidth = 1.75;
      ctx.beginPath();
      let pen = false;
      for (let r = meta.offsets[h.sequence]; r < meta.offsets[h.sequence + 1]; r++) {
        if (xs[r] !== xs[r]) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(xs[r], ys[r]);
        else ctx.moveTo(xs[r], ys[r]);
        pen = true;
      }
      ctx.stroke();
      ctx.restore();
    }
    if (h && h.t != null && h.sequence < meta.n_sequences) {
      const r = meta.offsets[h.sequence] + h.t;
      if (r < meta.offsets[h.sequence + 1] && xs[r] === xs[r]) {
        ctx.save();
        ctx.strokeStyle = theme.fg1;
        ctx.lineWidth = 1.25;
        ctx.beginPath();
        ctx.arc(xs[r], ys[r], 5, 0, 2 * Math.PI);
        ctx.stroke();
        ctx.restore();
      }
    }
    // The current step: a big dot in its time colour.
    const r = meta.offsets[snap.sequence] + snap.t;
    if (snap.T > 0 && r < xs.length && xs[r] === xs[r]) {
      ctx.save();
      ctx.beginPath();
      ctx.arc(xs[r], ys[r], 7.5, 0, 2 * Math.PI);
      ctx.fillStyle = theme.bg0;
      ctx.fill();
      ctx.beginPath();
      ctx.arc(xs[r], ys[r], 6, 0, 2 * Math.PI);
      ctx.fillStyle = timeColor(snap.T > 1 ? snap.t / (snap.T - 1) : 0);
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = theme.fg0;
      ctx.stroke();
      ctx.restore();
    }
  }
}
