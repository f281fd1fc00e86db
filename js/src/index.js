// anywidget entry: builds the layout, creates the store from the model, syncs the traits both ways, plays back
// client side, and repaints every view once per animation frame (bursts of changes coalesce into one repaint,
// timed into the root's data-frame-ms and counted in its data-frames).

import { createStore, SYNCED_KEYS, QUANTITIES } from "./store.js";
import { keyAction, playStep } from "./scrub.js";
import { zoomWindow, panWindow } from "./lod.js";
import { readTheme } from "./theme.js";
import { CSS } from "./style.js";
import { el, setText } from "./views/common.js";
import { PickerView } from "./views/picker.js";
import { PagerView } from "./views/pager.js";
import { TimelineView } from "./views/timeline.js";
import { InputsView } from "./views/inputs.js";
import { HeatmapView } from "./views/heatmap.js";
import { TracesView } from "./views/traces.js";
import { ProbsView } from "./views/probs.js";
import { TrajectoryView } from "./views/trajectory.js";
import { GatesView } from "./views/gates.js";
import { WeightsView } from "./views/weights.js";
import { SaturationView } from "./views/saturation.js";
import { createWhy } from "./views/whypanel.js";
import { attachWhy } from "./why.js";

/** Minimum milliseconds between two writes of `t` to the model while playing or scrubbing (and of `traj_view`
 * while the trajectory is rotated by dragging); the last value is always sent. */
export const T_WRITE_MS = 50;
const THROTTLED_KEYS = ["t", "traj_view"];
const NARROW_PX = 760;

function makeTooltip(root) {
  const node = el("div", { class: "lw-tooltip", role: "tooltip", hidden: true });
  root.append(node);
  return {
    node,
    show(clientX, clientY, text) {
      setText(node, text);
      node.hidden = false;
      const r = root.getBoundingClientRect();
      const w = node.offsetWidth;
      let x = clientX - r.left + 12;
      if (x + w > r.width - 4) x = clientX - r.left - w - 12;
      node.style.left = `${Math.max(2, x)}px`;
      node.style.top = `${clientY - r.top + 14}px`;
    },
    hide() {
      if (!node.hidden) node.hidden = true;
    },
  };
}

/**
 * The collapsible "Gates & weights" section: a toggle (writes `gate_details`) over the weight view and the gate
 * saturation scatter. A view in the repaint loop (it shows or hides its body from the state).
 */
function detailsSection(ctx, weights, saturation) {
  const { store } = ctx;
  const caret = el("span", { class: "lw-caret", "aria-hidden": "true", text: "▸" });
  const hint = el("span", { class: "lw-details-hint", text: "W, U, b per gate next to the gates over time · gate saturation" });
  const toggle = el(
    "button",
    {
      type: "button",
      class: "lw-details-toggle lw-gate-details-toggle",
      "aria-expanded": "false",
      title: "Show or hide the per-gate weights and the gate saturation",
    },
    caret,
    el("span", { class: "lw-details-name", text: "Gates & weights" }),
    hint,
  );
  const body = el("div", { class: "lw-details-body lw-gate-details-body", hidden: true }, weights.el, saturation.el);
  toggle.addEventListener("click", () => store.set({ gate_details: !store.state.gate_details }));
  return {
    el: el("section", { class: "lw-details lw-gate-details" }, toggle, body),
    render({ snap }) {
      const open = Boolean(snap.gate_details);
      if (body.hidden === open) {
        body.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        setText(caret, open ? "▾" : "▸");
      }
    },
  };
}

/** Mount the explorer for `model` into `host`; returns the cleanup function. */
export function mount(model, host) {
  const root = el("div", {
    class: "lstm-widget",
    tabindex: "0",
    "data-frame-ms": "0",
    "data-frames": "0",
    "data-lm-suppress-shortcuts": "true",
    "aria-label": "LSTM activation explorer. Left and right arrows step, Home and End jump, space plays.",
  });
  root.append(el("style", { text: CSS }));
  const store = createStore();
  const tooltip = makeTooltip(root);
  const cleanups = [];

  const ctx = {
    store,
    root,
    tooltip,
    offline: Boolean(model.offline), // a model with no kernel behind it (the standalone HTML export) says so
    /** Zoom the time views by `factor` (> 1: in) around step `anchor` (the cursor when it is in view, else the
     * window's centre). */
    zoom(factor, anchor = null) {
      const snap = store.snapshot();
      const w = snap.window || { t0: 0, t1: snap.T };
      const a = anchor ?? (snap.t >= w.t0 && snap.t < w.t1 ? snap.t : null);
      store.set({ window: zoomWindow(snap.window, snap.T, factor, a) });
    },
    /** Pan the zoomed time views by `delta` steps. */
    pan(delta) {
      const snap = store.snapshot();
      if (snap.window) store.set({ window: panWindow(snap.window, snap.T, delta) });
    },
    togglePlay() {
      const snap = store.snapshot();
      if (snap.playing) store.set({ playing: false });
      else {
        if (snap.t >= snap.T - 1) store.set({ t: 0 });
        store.set({ playing: true });
      }
    },
  };

  const picker = new PickerView(ctx);
  // A DatasetExplorer's pager (views/pager.js): shown when the explorer is a window onto a bigger recorded data set;
  // it writes `window_start` (the kernel then sends the window's _meta and arrays).
  const pager = new PagerView(ctx, {
    dataset: () => model.get("_meta")?.dataset ?? null,
    windowStart: () => model.get("window_start"),
    setWindowStart(start) {
      if (model.get("window_start") === start) return;
      model.set("window_start", start);
      model.save_changes();
    },
  });
  const timeline = new TimelineView(ctx);
  const inputs = new InputsView(ctx);
  const heatmap = new HeatmapView(ctx);
  const traces = new TracesView(ctx);
  const probs = new ProbsView(ctx);
  const trajectory = new TrajectoryView(ctx);
  const gates = new GatesView(ctx);
  // "Gates & weights": closed by default (the default page stays light); opening it writes gate_details, which asks
  // the kernel for the chosen layer's weights and for the gates not loaded yet.
  const weights = new WeightsView(ctx);
  const saturation = new SaturationView(ctx);
  const details = detailsSection(ctx, weights, saturation);
  // "Why" (views/whypanel.js): closed by default; opening it writes why_open, which asks the kernel for the influence
  // map and the per-class ranking. It also sets ctx.why (the heatmap's context menu and brush, the probs' ghost).
  const why = createWhy(ctx);
  const views = [picker, pager, timeline, inputs, heatmap, traces, probs, trajectory, gates, details, weights, saturation, ...why.views];

  root.append(
    el("div", { class: "lw-bar" }, el("span", { class: "lw-brandmark", text: "LSTM explorer" }), picker.el, pager.el, timeline.el),
    el(
      "div",
      { class: "lw-grid" },
      el("div", { class: "lw-col lw-col-main" }, inputs.el, heatmap.el, traces.el),
      el(
        "div",
        { class: "lw-col lw-col-side" },
        trajectory.el,
        probs.el,
        gates.el,
        el(
          "div",
          { class: "lw-help" },
          el("kbd", { text: "←" }),
          " ",
          el("kbd", { text: "→" }),
          " step · ",
          el("kbd", { text: "Home" }),
          " ",
          el("kbd", { text: "End" }),
          " · ",
          el("kbd", { text: "space" }),
          " play · ",
          el("kbd", { text: "+" }),
          " ",
          el("kbd", { text: "−" }),
          " zoom · click rows to select units",
        ),
      ),
    ),
    details.el,
    why.el,
  );
  host.append(root);

  // ---- repaint scheduling ------------------------------------------------------------------------------------------
  let pending = new Set(["data"]);
  let raf = 0;
  let theme = null;
  let frames = 0;
  let destroyed = false;
  const play = { anchorT: 0, anchorTime: 0, lastT: -1, speed: 0, active: false };
  const schedule = () => {
    if (!raf && !destroyed) raf = requestAnimationFrame(frame);
  };

  function tickPlayback(now) {
    const snap = store.snapshot();
    if (!snap.playing) {
      play.active = false;
      return;
    }
    if (!play.active || snap.t !== play.lastT || snap.speed !== play.speed) {
      // (Re)anchor: playback starts, someone moved the cursor, or the speed changed.
      Object.assign(play, { active: true, anchorT: snap.t, anchorTime: now, lastT: snap.t, speed: snap.speed });
    }
    const { t, done } = playStep(play.anchorT, now - play.anchorTime, snap.speed, snap.T);
    if (t !== snap.t) store.set({ t }, "play");
    play.lastT = t;
    if (done) store.set({ playing: false }, "play");
  }

  function frame(now) {
    raf = 0;
    if (destroyed) return;
    tickPlayback(now);
    const changes = pending;
    pending = new Set();
    const t0 = performance.now();
    const next = readTheme(root);
    const themeChanged = !theme || next.key !== theme.key;
    theme = next;
    const snap = store.snapshot();
    const f = { snap, changes, theme, themeChanged };
    const prof = globalThis.__lwViewMs; // benchmarks: set to {} to accumulate ms per view class
    for (const view of views) {
      try {
        if (prof) {
          const v0 = performance.now();
          view.render(f);
          const k = view.el.className.split(" ")[0];
          prof[k] = (prof[k] || 0) + performance.now() - v0;
        } else view.render(f);
      } catch (err) {
        console.error(`lstm_widget: ${view.el.className} failed to render`, err);
      }
    }
    root.dataset.frameMs = (performance.now() - t0).toFixed(2);
    root.dataset.frames = String(++frames); // full repaints so far (tests and benchmarks count them)
    if (snap.playing) schedule();
  }

  // ---- store -> model ----------------------------------------------------------------------------------------------
  let writing = false;
  const lastThrottled = {}; // key -> time of its last throttled write
  const timers = {}; // key -> pending throttled write
  const traitValue = (key) => {
    if (key === "selected_units") return store.state.selected_units.slice();
    if (key === "traj_view") return JSON.parse(JSON.stringify(store.state.traj_view)); // a fresh object per write
    return store.state[key];
  };
  // Each written key goes with the revision of it the page had seen (`_seen_<key>` = [revision, write number];
  // `_rev` comes with the kernel's values, one attribute per key so that writes merged in ipywidgets' send buffer
  // keep each value with its own revision): the kernel refuses a write of a key it changed since and sends its
  // value back, so writes the page made before it saw a change from Python (queued, buffered, or sent while
  // playing) never undo it.
  let writes = 0;
  const writeModel = (keys) => {
    writing = true;
    try {
      const seen = model.get("_rev") || {};
      writes += 1;
      for (const key of keys) {
        model.set(key, traitValue(key));
        model.set(`_seen_${key}`, [seen[key] ?? 0, writes]);
      }
      model.save_changes();
    } finally {
      writing = false;
    }
  };
  const flush = (key) => {
    timers[key] = 0;
    lastThrottled[key] = performance.now();
    if (JSON.stringify(model.get(key)) !== JSON.stringify(traitValue(key))) writeModel([key]);
  };

  cleanups.push(
    store.subscribe((changes, source) => {
      for (const c of changes) pending.add(c);
      schedule();
      if (source === "model") return;
      const keys = SYNCED_KEYS.filter((k) => !THROTTLED_KEYS.includes(k) && changes.has(k));
      for (const key of THROTTLED_KEYS) {
        if (!changes.has(key)) continue;
        // Throttled: at most one write per T_WRITE_MS; the last value is always sent.
        const wait = T_WRITE_MS - (performance.now() - (lastThrottled[key] ?? -Infinity));
        if (wait <= 0 && !timers[key]) {
          lastThrottled[key] = performance.now();
          keys.push(key);
        } else if (!timers[key]) {
          timers[key] = setTimeout(() => flush(key), Math.max(0, wait));
        }
      }
      if (keys.length) writeModel(keys);
    }),
  );

  // ---- model -> store ----------------------------------------------------------------------------------------------
  const on = (event, fn) => {
    model.on(event, fn);
    cleanups.push(() => model.off(event, fn));
  };
  const readTraits = () => {
    const patch = {};
    for (const key of SYNCED_KEYS) {
      const v = model.get(key);
      if (v !== undefined && v !== null) patch[key] = v;
    }
    return patch;
  };
  store.loadWeights(model.get("_weights"));
  on("change:_weights", () => store.loadWeights(model.get("_weights")));
  attachWhy(model, store, on); // _influence, _ranking, _comparison, _patterns -> store.aux
  // Data traits: _meta, _arrays (inputs, probs, traj) and one _data_<q> per quantity ({} = not loaded yet).
  const dataTrait = (q) => `_data_${q}`;
  const allArrays = () => {
    const out = { ...(model.get("_arrays") || {}) };
    for (const q of QUANTITIES) {
      const entry = model.get(dataTrait(q));
      if (entry && entry.dtype) out[q] = entry;
    }
    return out;
  };
  // Data the page cannot decode (or hold) is said in the page instead of leaving the views blank or stale.
  const notice = el("div", { class: "lw-notice", role: "alert", hidden: true });
  root.querySelector(".lw-bar")?.before(notice);
  const loadSafely = (load) => {
    let bad;
    try {
      load();
      bad = store.decodeErrors();
    } catch (err) {
      console.error("lstm_widget: could not load the data", err);
      bad = [err && err.message ? err.message : String(err)];
    }
    if (bad.length) {
      setText(notice, `Some data could not be shown (${bad.join("; ")}). Send less (fewer or shorter sequences, wire_dtype="float16", preload="h") or re-run the cell.`);
    }
    notice.hidden = !bad.length;
  };
  let dirty = new Set();
  const reload = (trait) => {
    if (!dirty.size) {
      // Traits that change together (one update message) load once, after all their handlers ran.
      queueMicrotask(() => {
        const names = dirty;
        dirty = new Set();
        if (destroyed) return;
        if (names.has("_meta") || names.has("_arrays")) loadSafely(() => store.load(model.get("_meta"), allArrays()));
        else {
          const some = {};
          for (const q of QUANTITIES) if (names.has(dataTrait(q))) some[q] = model.get(dataTrait(q)) || {};
          loadSafely(() => store.loadArrays(some));
        }
      });
    }
    dirty.add(trait);
  };
  loadSafely(() => store.load(model.get("_meta"), allArrays()));
  store.set(readTraits(), "model");
  for (const key of SYNCED_KEYS) {
    on(`change:${key}`, () => {
      if (writing) return;
      if (timers[key]) {
        clearTimeout(timers[key]); // the kernel's value wins over a pending throttled write
        timers[key] = 0;
      }
      store.set({ [key]: model.get(key) }, "model");
    });
  }
  for (const trait of ["_meta", "_arrays", ...QUANTITIES.map(dataTrait)]) on(`change:${trait}`, () => reload(trait));
  on("change:window_start", () => {
    pending.add("dataset"); // the pager: "loading…" until the window's _meta arrives
    schedule();
  });
  on("msg:custom", (content, buffers) => {
    try {
      store.applyMessage(content, buffers);
    } catch (err) {
      console.error("lstm_widget: bad custom message", err);
    }
  });

  // ---- kernel restart: the view keeps what it holds (it still scrubs) and says that Python no longer answers -----
  const stale = el("div", { class: "lw-stale", role: "status", hidden: true });
  root.querySelector(".lw-bar")?.before(stale);
  const markStale = (why) => {
    if (destroyed || !stale.hidden) return;
    setText(stale, `${why}: this view is no longer connected to Python. It still plays what it holds; run its cell again to reconnect.`);
    stale.hidden = false;
    root.dataset.stale = "true";
  };
  const kernel = model.widget_manager?.kernel;
  if (kernel?.statusChanged?.connect) {
    const onStatus = (_k, status) => {
      if (status === "restarting" || status === "autorestarting") markStale("The kernel restarted");
      else if (status === "dead") markStale("The kernel died");
    };
    kernel.statusChanged.connect(onStatus);
    cleanups.push(() => kernel.statusChanged.disconnect(onStatus));
  }
  on("comm:close", () => markStale("The kernel closed this widget"));

  // ---- keyboard ----------------------------------------------------------------------------------------------------
  const onKey = (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const target = ev.target;
    const tag = target && target.tagName;
    if (tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && target.type !== "range")) return;
    if (tag === "INPUT" && ev.key !== " ") return; // the slider handles its own arrows / Home / End
    if (tag === "BUTTON" && (ev.key === " " || ev.key === "Enter")) return;
    const snap = store.snapshot();
    const zoomKey = { "+": 2, "=": 2, "-": 0.5, _: 0.5, 0: 0 }[ev.key]; // zoom the time views (0: show every step)
    if (zoomKey != null && tag !== "INPUT") {
      ev.preventDefault();
      ev.stopPropagation();
      if (zoomKey) ctx.zoom(zoomKey);
      else store.set({ window: null });
      return;
    }
    const action = keyAction(ev.key, snap.t, snap.T, { shift: ev.shiftKey });
    if (!action) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (action.toggle) ctx.togglePlay();
    else store.set({ t: action.t });
  };
  root.addEventListener("keydown", onKey);
  cleanups.push(() => root.removeEventListener("keydown", onKey));

  // ---- size and theme ----------------------------------------------------------------------------------------------
  if (typeof ResizeObserver !== "undefined") {
    const targets = new Map(views.filter((v) => v.sizeTarget).map((v) => [v.sizeTarget, v]));
    const ro = new ResizeObserver((entries) => {
      for (const entry of entries) {
        if (entry.target === root) {
          root.classList.toggle("lw-narrow", entry.contentRect.width < NARROW_PX);
          continue;
        }
        const view = targets.get(entry.target);
        if (view) view.resize(entry.contentRect.width);
      }
      pending.add("size");
      schedule();
    });
    ro.observe(root);
    for (const t of targets.keys()) ro.observe(t);
    cleanups.push(() => ro.disconnect());
  }
  const themeChanged = () => {
    pending.add("theme");
    schedule();
  };
  if (typeof MutationObserver !== "undefined" && typeof document !== "undefined") {
    const mo = new MutationObserver(themeChanged);
    mo.observe(document.body, { attributes: true, attributeFilter: ["class", "data-jp-theme-light", "data-jp-theme-name", "style"] });
    mo.observe(document.head, { childList: true });
    cleanups.push(() => mo.disconnect());
  }
  // Stylesheets can finish loading after the attribute flip that announced them: check the colours now and then.
  const themePoll = setInterval(() => {
    if (theme && !document.hidden && readTheme(root).key !== theme.key) themeChanged();
  }, 1000);
  cleanups.push(() => clearInterval(themePoll));
  if (typeof matchMedia !== "undefined") {
    const mql = matchMedia("(prefers-color-scheme: dark)");
    mql.addEventListener?.("change", themeChanged);
    cleanups.push(() => mql.removeEventListener?.("change", themeChanged));
  }

  schedule();
  return () => {
    destroyed = true;
    if (raf) cancelAnimationFrame(raf);
    for (const key of THROTTLED_KEYS) {
      if (timers[key]) {
        clearTimeout(timers[key]);
        flush(key);
      }
    }
    for (const fn of cleanups.splice(0)) fn();
    for (const view of views) view.destroy?.();
    root.remove();
  };
}

export default {
  render({ model, el: host }) {
    return mount(model, host);
  },
};
