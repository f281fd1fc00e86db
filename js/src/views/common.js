// Shared pieces of the views: DOM helpers (text only, never HTML strings), the two-layer plot canvas (a base layer
// redrawn when its content changes, an overlay redrawn every frame for the cursor), time axes, long-series line
// drawing with per-pixel min/max decimation, and legends.

import { stepFromX, tickStep, timeTicks, xEdge, xFromStep } from "../scrub.js";
import { font } from "../theme.js";

/** Create an element: el("div", {class: "x", title: "y"}, child, "text", ...). Strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") Object.assign(node.style, v);
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  // JupyterLab resolves shortcuts from the focused element upward and stops at this attribute, but tests the
  // focused element itself first (command-mode bindings use `... :focus`): every focusable control carries it.
  if (FOCUSABLE.has(tag)) node.setAttribute("data-lm-suppress-shortcuts", "true");
  for (const c of children) if (c != null) node.append(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}
const FOCUSABLE = new Set(["button", "select", "input", "textarea", "a"]);

const SVG_NS = "http://www.w3.org/2000/svg";
const ICON_PATHS = {
  play: "M4 2.5v11l9.5-5.5z",
  pause: "M3.5 2.5h3.2v11H3.5zM9.3 2.5h3.2v11H9.3z",
  back: "M2.5 2.5h2v11h-2zM13.5 2.5v11L5.5 8z",
  forward: "M11.5 2.5h2v11h-2zM2.5 2.5v11L10.5 8z",
  first: "M2 2.5h2v11H2zM9 2.5v11L4 8zM15 2.5v11L10 8z",
  last: "M12 2.5h2v11h-2zM7 2.5v11L12 8zM1 2.5v11L6 8z",
  prev: "M10.5 2.5 5 8l5.5 5.5 1.4-1.4L7.8 8l4.1-4.1z",
  next: "M5.5 2.5 11 8l-5.5 5.5-1.4-1.4L8.2 8 4.1 3.9z",
};

/** A 16×16 SVG icon built with DOM calls. */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICON_PATHS[name]);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

/** Set an icon button's icon (replacing the old one). */
export function setIcon(button, name) {
  if (button.dataset.icon === name) return;
  button.dataset.icon = name;
  button.replaceChildren(icon(name));
}

/** Set textContent only when it differs (cheap per-frame updates). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** "1 class", "9 classes", "0 units": a count with its noun in the right number (`many`: the irregular plural). */
export function plural(n, one, many = /(s|x|z|ch|sh)$/.test(one) ? `${one}es` : `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Names that users give are shown whole up to this many characters, then cut (the whole name goes in a title). */
export const NAME_CHARS = 80;

/** `text` cut to at most `max` characters, ending in "…" when it was cut (the page's form of a long name). */
export function clipText(text, max = NAME_CHARS) {
  const s = String(text);
  return s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s;
}

/** Show a user-given name in `node`: its text cut by clipText, the whole name in its title (the tooltip). */
export function setName(node, name, max = NAME_CHARS) {
  const s = String(name ?? "");
  setText(node, clipText(s, max));
  if (node.title !== s) node.title = s;
}

/** Build a <select> from [value, label] pairs (labels as text). */
export function fillSelect(select, options, value) {
  const sig = JSON.stringify(options);
  if (select.dataset.sig !== sig) {
    select.dataset.sig = sig;
    select.replaceChildren(
      ...options.map(([v, label]) => el("option", { value: String(v), text: clipText(label), title: String(label) })),
    );
  }
  if (value != null && select.value !== String(value)) select.value = String(value);
}

/** A view's title and subtitle spans, [title, sub] (the subtitle starts empty; views set both as they change). */
export function titleSpans(text) {
  return [el("span", { class: "lw-title", text }), el("span", { class: "lw-sub" })];
}

/** A view's head row: its titles (title, sub, …) and, when given, its controls in a span.lw-controls. */
export function viewHead(titles, controls = null) {
  return el(
    "div",
    { class: "lw-head" },
    el("span", { class: "lw-titles" }, ...titles),
    controls && el("span", { class: "lw-controls" }, ...controls),
  );
}

/** A control with its muted name before it: <label><span class="lw-muted">text</span>control</label>. */
export function labelled(text, control) {
  return el("label", {}, el("span", { class: "lw-muted", text }), control);
}

/**
 * A colour bar: the gradient `bar` over three labels `lo`, `mid` (text `midText`) and `hi`; {node, bar, lo, mid, hi}.
 */
export function colorbar({ title = null, midText = null } = {}) {
  const bar = el("span", { class: "lw-cb-bar" });
  const lo = el("span", { class: "lw-cb-label" });
  const mid = el("span", { class: "lw-cb-label lw-cb-mid", text: midText });
  const hi = el("span", { class: "lw-cb-label" });
  const node = el("span", { class: "lw-colorbar", title }, bar, el("span", { class: "lw-cb-labels" }, lo, mid, hi));
  return { node, bar, lo, mid, hi };
}

/**
 * A collapsible section of the explorer: a toggle button (caret, name, hint) over a body of `children`, hidden at
 * first. A click flips the state key `key`; the section is a view in the repaint loop that shows or hides its body
 * from that key. `kind` names its classes: lw-<kind>, lw-<kind>-toggle, lw-<kind>-body.
 */
export function collapsible(store, { key, kind, name, hint, title }, ...children) {
  const caret = el("span", { class: "lw-caret", "aria-hidden": "true", text: "▸" });
  const toggle = el(
    "button",
    { type: "button", class: `lw-details-toggle lw-${kind}-toggle`, "aria-expanded": "false", title },
    caret,
    el("span", { class: "lw-details-name", text: name }),
    el("span", { class: "lw-details-hint", text: hint }),
  );
  const body = el("div", { class: `lw-details-body lw-${kind}-body`, hidden: true }, ...children);
  toggle.addEventListener("click", () => store.set({ [key]: !store.state[key] }));
  return {
    el: el("section", { class: `lw-details lw-${kind}` }, toggle, body),
    render({ snap }) {
      const open = Boolean(snap[key]);
      if (body.hidden === open) {
        body.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        setText(caret, open ? "▾" : "▸");
      }
    },
  };
}

/** Drop the store's hover when `view` set it (the pointer left that view's marks). */
export function clearHover(store, view) {
  const { hover } = store.snapshot();
  if (hover && hover.view === view) store.set({ hover: null });
}

/**
 * Marks that stand for units on a plot layer: leaving `target` hides the tooltip and drops `view`'s hover; a click
 * on a mark toggles its unit's selection (`unitAt(ev)`: the unit under the pointer, or null).
 */
export function attachUnitMarks(target, { store, tooltip }, view, unitAt) {
  target.addEventListener("pointerleave", () => {
    tooltip.hide();
    clearHover(store, view);
  });
  target.addEventListener("click", (ev) => {
    const unit = unitAt(ev);
    if (unit != null) store.toggleUnit(unit);
  });
}

/** Horizontal plot margins shared by every time-series view, so their cursors line up. */
export const TIME_MARGIN = { left: 48, right: 12 };

/**
 * A plot: base + overlay canvases stacked in a host div, sized to the host's width × a given height at the
 * device pixel ratio. Drawing coordinates are CSS pixels.
 */
export class Plot {
  constructor(host, { height = 120, cls = "" } = {}) {
    this.host = host;
    this.wrap = el("div", { class: `lw-plot ${cls}`.trim() });
    this.base = el("canvas", { class: "lw-base" });
    this.overlay = el("canvas", { class: "lw-overlay" });
    this.wrap.append(this.base, this.overlay);
    host.append(this.wrap);
    this.bctx = this.base.getContext("2d");
    this.octx = this.overlay.getContext("2d");
    this.width = 0;
    this.height = 0;
    this.dpr = 1;
    this.setHeight(height);
  }

  setHeight(h) {
    h = Math.max(20, Math.round(h));
    if (this.cssHeight === h) return false;
    this.cssHeight = h;
    this.wrap.style.height = `${h}px`;
    return true;
  }

  /** Resize the canvases to width × cssHeight; true when the size changed (base must be redrawn). */
  resize(width) {
    const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
    const w = Math.max(10, Math.floor(width));
    const h = this.cssHeight;
    if (w === this.width && h === this.height && dpr === this.dpr) return false;
    this.width = w;
    this.height = h;
    this.dpr = dpr;
    for (const c of [this.base, this.overlay]) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    return true;
  }

  /** Begin drawing a layer: reset its transform to CSS pixels and clear it. */
  begin(ctx) {
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    return ctx;
  }

  /** Mouse position in CSS pixels relative to the plot. */
  point(ev) {
    const r = this.overlay.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  }
}

/** The data rectangle of a time plot. */
export function timeRect(plot, top = 6, bottom = 18) {
  return {
    x: TIME_MARGIN.left,
    y: top,
    w: Math.max(1, plot.width - TIME_MARGIN.left - TIME_MARGIN.right),
    h: Math.max(1, plot.height - top - bottom),
  };
}

/** A step is wide enough for a token label under it from this many CSS pixels on. */
export const TOKEN_PX = 12;

/** `text` cut (with "…") to at most `width` pixels in the context's font. */
export function fitText(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  const chars = [...text];
  for (let n = chars.length - 1; n > 0; n--) {
    const cut = `${chars.slice(0, n).join("")}…`;
    if (ctx.measureText(cut).width <= width) return cut;
  }
  return "";
}

/**
 * Step ticks and labels under a time rectangle; `t0`: the rectangle shows steps t0 .. t0+T-1 (a zoomed window).
 * `tokens(t)` (token models: the label of step t, or null): when every step is at least TOKEN_PX wide, each step is
 * labelled with its token instead of the step numbers (cut to the step's width).
 */
export function drawTimeAxis(ctx, rect, T, theme, { grid = true, t0 = 0, tokens = null } = {}) {
  ctx.save();
  ctx.font = font(theme, 10);
  ctx.fillStyle = theme.fg2;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  if (tokens && T > 0 && rect.w / T >= TOKEN_PX) {
    const w = rect.w / T;
    for (let t = 0; t < T; t++) {
      const label = tokens(t + t0);
      if (label == null) continue;
      const x = xFromStep(t, rect.x, rect.w, T);
      ctx.fillStyle = theme.axis;
      ctx.fillRect(Math.round(x), rect.y + rect.h, 1, 2);
      ctx.fillStyle = theme.fg2;
      ctx.fillText(fitText(ctx, label, w - 2), x, rect.y + rect.h + 4);
    }
    ctx.restore();
    return;
  }
  let ticks = timeTicks(T, rect.w, 56);
  if (t0) {
    const k = tickStep(T, rect.w, 56);
    ticks = [];
    for (let t = Math.ceil(t0 / k) * k; t < t0 + T; t += k) ticks.push(t - t0);
  }
  for (const t of ticks) {
    const x = Math.round(xFromStep(t, rect.x, rect.w, T)) + 0.5;
    if (grid) {
      ctx.fillStyle = theme.grid;
      ctx.fillRect(x - 0.5, rect.y, 1, rect.h);
    }
    ctx.fillStyle = theme.axis;
    ctx.fillRect(x - 0.5, rect.y + rect.h, 1, 3);
    ctx.fillStyle = theme.fg2;
    ctx.fillText(String(t + t0), x, rect.y + rect.h + 4);
  }
  ctx.restore();
}

/** "Nice" y ticks for [lo, hi]. */
export function niceTicks(lo, hi, maxTicks = 4) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / (maxTicks + 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step)
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Compact number text. */
export function fmt(v, digits = 3) {
  if (v == null || v !== v) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1);
  return v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : digits - (a >= 1 ? 1 : 0));
}

/** Y axis with grid lines and labels left of the rectangle. yOf maps a value to a pixel. */
export function drawYAxis(ctx, rect, lo, hi, theme, yOf, { ticks = null, zero = true } = {}) {
  ctx.save();
  ctx.font = font(theme, 10);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const list = ticks || niceTicks(lo, hi, Math.max(2, Math.floor(rect.h / 28)));
  const step = list.length > 1 ? Math.abs(list[1] - list[0]) : 1;
  const frac = String(Number(step.toPrecision(6))).split(".")[1];
  const decimals = Math.min(4, frac ? frac.length : 0);
  for (const v of list) {
    const y = Math.round(yOf(v)) + 0.5;
    if (y < rect.y - 1 || y > rect.y + rect.h + 1) continue;
    ctx.fillStyle = v === 0 && zero ? theme.axis : theme.grid;
    ctx.fillRect(rect.x, y - 0.5, rect.w, 1);
    ctx.fillStyle = theme.fg2;
    ctx.fillText(Math.abs(v) >= 1e4 ? v.toExponential(0) : v.toFixed(decimals), rect.x - 6, y);
  }
  ctx.restore();
}

/** Range of values of columns `cols` of a (T, stride) block, ignoring NaN. */
export function seriesRange(data, T, stride, cols) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < T; t++) {
    const b = t * stride;
    for (const j of cols) {
      const v = data[b + j];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/**
 * Draw column j of a (T, stride) block as a line over the time rectangle. Long series are decimated to per-pixel
 * min/max so 10 000 steps cost ~2 × width segments. NaN breaks the line.
 */
export function drawSeries(ctx, data, T, stride, j, rect, yOf, color, width = 1.5) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.lineJoin = "round";
  ctx.beginPath();
  const px = Math.max(1, Math.floor(rect.w));
  if (T <= px * 1.5) {
    traceSteps(ctx, data, T, stride, j, rect, yOf, 0, T);
    if (T === 1 && data[j] === data[j]) {
      const y = yOf(data[j]);
      ctx.moveTo(rect.x, y);
      ctx.lineTo(rect.x + rect.w, y);
    }
  } else {
    let pen = false;
    let t = 0;
    for (let c = 0; c < px; c++) {
      const tEnd = Math.min(T, Math.floor(((c + 1) * T) / px));
      let lo = Infinity;
      let hi = -Infinity;
      let first = NaN;
      let last = NaN;
      for (; t < tEnd; t++) {
        const v = data[t * stride + j];
        if (v !== v) continue;
        if (first !== first) first = v;
        last = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (first !== first) {
        pen = false;
        continue;
      }
      const x = rect.x + c + 0.5;
      if (pen) ctx.lineTo(x, yOf(first));
      else ctx.moveTo(x, yOf(first));
      if (hi > lo) {
        ctx.lineTo(x, yOf(lo));
        ctx.lineTo(x, yOf(hi));
      }
      ctx.lineTo(x, yOf(last));
      pen = true;
    }
  }
  ctx.stroke();
  ctx.restore();
}

/**
 * Steps t0 … t1 − 1 of column j of a (·, stride) block as a line on an x scale of n steps (xFromStep), joined to step
 * t0 − 1 when there is one: what a streaming chart adds to the lines it drew when steps are appended (NaN breaks the
 * line as in drawSeries).
 */
export function drawSeriesRange(ctx, data, n, stride, j, rect, yOf, color, width, t0, t1) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.lineJoin = "round";
  ctx.beginPath();
  traceSteps(ctx, data, n, stride, j, rect, yOf, Math.max(0, t0 - 1), t1);
  ctx.stroke();
  ctx.restore();
}

/** Steps t0 … t1 − 1 of column j added to the current path, one vertex per step on an x scale of n steps; NaN breaks
 * the line. */
function traceSteps(ctx, data, n, stride, j, rect, yOf, t0, t1) {
  let pen = false;
  for (let t = t0; t < t1; t++) {
    const v = data[t * stride + j];
    if (v !== v) {
      pen = false;
      continue;
    }
    const x = xFromStep(t, rect.x, rect.w, n);
    const y = yOf(v);
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  }
}

/** The cursor at step t: a column band when columns are wide, a line otherwise; drawn to read on any colour. */
export function drawCursor(ctx, rect, t, T, theme, { band = true } = {}) {
  if (!(T > 0)) return;
  const x0 = xEdge(t, rect.x, rect.w, T);
  const x1 = xEdge(t + 1, rect.x, rect.w, T);
  ctx.save();
  if (band && x1 - x0 >= 4) {
    ctx.fillStyle = theme.dark ? "rgba(255,255,255,0.07)" : "rgba(0,0,0,0.05)";
    ctx.fillRect(x0, rect.y, x1 - x0, rect.h);
  }
  const x = Math.round(xFromStep(t, rect.x, rect.w, T)) + 0.5;
  ctx.fillStyle = theme.brand;
  ctx.fillRect(x - 1, rect.y - 2, 2, rect.h + 4);
  ctx.restore();
}

/** A faint dashed line at a hovered step. */
export function drawHoverLine(ctx, rect, t, T, theme) {
  if (!(T > 0) || t == null || t < 0 || t >= T) return;
  const x = Math.round(xFromStep(t, rect.x, rect.w, T)) + 0.5;
  ctx.save();
  ctx.strokeStyle = theme.fg3;
  ctx.setLineDash([3, 3]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(x, rect.y);
  ctx.lineTo(x, rect.y + rect.h);
  ctx.stroke();
  ctx.restore();
}

/**
 * A legend: chips of [colour swatch, name, value]. update(items) rebuilds when names/colours change;
 * values(list) updates the value texts in place (cheap, per frame).
 */
export class Legend {
  constructor(host, { max = 24 } = {}) {
    this.node = el("div", { class: "lw-legend" });
    host.append(this.node);
    this.max = max;
    this.sig = "";
    this.valueNodes = [];
  }

  update(items, { extra = "" } = {}) {
    const shown = items.slice(0, this.max);
    const sig = JSON.stringify([
      shown.map((i) => [i.name, i.color, i.key, i.title, Boolean(i.onclick)]),
      items.length,
      extra,
    ]);
    if (sig === this.sig) return;
    this.sig = sig;
    this.valueNodes = [];
    const chips = shown.map((item) => {
      const value = el("span", { class: "lw-legend-value" });
      this.valueNodes.push(value);
      const chip = el(
        "span",
        { class: "lw-legend-item", title: item.title || item.name, "data-key": item.key ?? null },
        el("span", { class: "lw-swatch", style: { background: item.color } }),
        el("span", { class: "lw-legend-name", text: clipText(item.name) }),
        value,
      );
      if (item.onclick) {
        chip.classList.add("lw-clickable");
        chip.addEventListener("click", item.onclick);
      }
      return chip;
    });
    if (items.length > shown.length)
      chips.push(el("span", { class: "lw-legend-more", text: `+${items.length - shown.length} more` }));
    if (extra) chips.push(el("span", { class: "lw-legend-more", text: extra }));
    this.node.replaceChildren(...chips);
  }

  values(texts) {
    for (let k = 0; k < this.valueNodes.length; k++) setText(this.valueNodes[k], texts[k] ?? "");
  }
}

/**
 * Pointer scrubbing on a time plot: pointerdown + drag set t from x through `onStep(t)`. Returns a disposer.
 */
export function attachScrub(target, plot, getRect, getT, onStep) {
  let active = false;
  const move = (ev) => {
    if (!active) return;
    const { x } = plot.point(ev);
    const rect = getRect();
    onStep(stepFromX(x, rect.x, rect.w, getT()));
  };
  const down = (ev) => {
    if (ev.button !== 0) return;
    active = true;
    target.setPointerCapture?.(ev.pointerId);
    move(ev);
  };
  const up = (ev) => {
    active = false;
    target.releasePointerCapture?.(ev.pointerId);
  };
  target.addEventListener("pointerdown", down);
  target.addEventListener("pointermove", move);
  target.addEventListener("pointerup", up);
  target.addEventListener("pointercancel", up);
  return () => {
    target.removeEventListener("pointerdown", down);
    target.removeEventListener("pointermove", move);
    target.removeEventListener("pointerup", up);
    target.removeEventListener("pointercancel", up);
  };
}
