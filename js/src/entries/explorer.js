// anywidget entry of the Explorer (lstm_widget.Explorer; bundled as lstm_widget/static/widget.js): wires the views
// to the store, the store to the kernel model through sync.js, and the model's data into the store through feed.js.
// Repaints go through one loop (loop.js): bursts of changes coalesce into one repaint per animation frame.

import { createPlayer, keyHandler, storeActions } from "../controls.js";
import { feedStore } from "../feed.js";
import { createLoop, paintViews, watchSize } from "../loop.js";
import { createStore, SYNCED_KEYS, THROTTLED_KEYS, traitValue } from "../store.js";
import { CSS } from "../style.js";
import { createSync, modelValues, watchConnection } from "../sync.js";
import { el } from "../views/common.js";
import { EpochsView } from "../views/epochs.js";
import { GatesView } from "../views/gates.js";
import { HeatmapView } from "../views/heatmap.js";
import { InputsView } from "../views/inputs.js";
import { OutputsView } from "../views/outputs.js";
import { PagerView } from "../views/pager.js";
import { PickerView } from "../views/picker.js";
import { ProbsView } from "../views/probs.js";
import { SaturationView } from "../views/saturation.js";
import { detailsSection, explorerRoot, layOut, makeTooltip, notices } from "../views/shell.js";
import { TextView } from "../views/text.js";
import { TimelineView } from "../views/timeline.js";
import { TracesView } from "../views/traces.js";
import { TrajectoryView } from "../views/trajectory.js";
import { WeightsView } from "../views/weights.js";
import { createWhy } from "../views/whypanel.js";

/** Below this width (CSS px) the Explorer stacks its columns (class lw-narrow). */
const NARROW_PX = 760;

/** Mount the explorer for `model` into `host`; returns the cleanup function. */
export function mount(model, host) {
  const root = explorerRoot();
  root.append(el("style", { text: CSS }));
  const store = createStore();
  const cleanups = [];
  const on = (event, fn) => {
    model.on(event, fn);
    cleanups.push(() => model.off(event, fn));
  };
  const sync = createSync(model, {
    read: (key) => traitValue(store.state, key),
    throttled: THROTTLED_KEYS,
    revised: SYNCED_KEYS,
    hold: (key) => store.heldBack(key), // sequence / t on a sequence still streaming: Python does not have it yet
  });

  const ctx = {
    store,
    root,
    tooltip: makeTooltip(root),
    offline: Boolean(model.offline), // a model with no kernel behind it (the standalone HTML export) says so
    ...storeActions(store),
  };
  // A DatasetExplorer's pager: shown when the explorer is a window onto a bigger recorded data set; it writes
  // `window_start` (the kernel then sends the window's _meta and arrays).
  const picker = new PickerView(ctx);
  const pager = new PagerView(ctx, {
    dataset: () => model.get("_meta")?.dataset ?? null,
    windowStart: () => model.get("window_start"),
    setWindowStart(start) {
      if (model.get("window_start") !== start) sync.set({ window_start: start });
    },
  });
  // The trajectory's data-set layer: a click on a sequence of the data set goes there as the pager's "go to" does.
  ctx.datasetGoTo = (k) => pager.goTo(k);
  // An explorer over training snapshots: the epoch axis (writes `epoch`; the kernel sends that epoch's data).
  const epochs = new EpochsView(ctx, {
    training: () => model.get("_meta")?.training ?? null,
    epoch: () => model.get("epoch"),
    setEpoch(epoch) {
      if (model.get("epoch") !== epoch) sync.set({ epoch });
    },
  });
  const v = {
    picker,
    pager,
    timeline: new TimelineView(ctx),
    inputs: new InputsView(ctx),
    heatmap: new HeatmapView(ctx),
    traces: new TracesView(ctx),
    probs: new ProbsView(ctx),
    outputs: new OutputsView(ctx),
    trajectory: new TrajectoryView(ctx),
    gates: new GatesView(ctx),
    text: new TextView(ctx), // token models only (hidden otherwise)
  };
  // "Gates & weights" and "Why" are closed by default (the default page stays light); opening them writes
  // gate_details / why_open, which ask the kernel for what they show. createWhy also sets ctx.why (the heatmap's
  // context menu and brush, the probs' ghost).
  const weights = new WeightsView(ctx);
  const saturation = new SaturationView(ctx);
  v.details = detailsSection(ctx, weights, saturation);
  v.why = createWhy(ctx);
  const views = [
    ...[
      v.picker,
      v.pager,
      v.timeline,
      v.text,
      v.inputs,
      v.heatmap,
      v.traces,
      v.probs,
      v.outputs,
      v.trajectory,
      v.gates,
      v.details,
    ],
    ...[weights, saturation, ...v.why.views, epochs],
  ];
  layOut(root, v);
  root.querySelector(".lw-bar")?.after(epochs.el);
  const note = notices(root);
  host.append(root);

  // ---- repaints: once per animation frame, playback advanced first --------------------------------------------------
  const player = createPlayer(store);
  const loop = createLoop(
    root,
    ({ changes, theme, themeChanged }) => {
      const snap = store.snapshot();
      paintViews(root, views, { snap, changes, theme, themeChanged });
      return snap.playing;
    },
    { initial: ["data"], beforeFrame: player.tick, themePollMs: 1000, watchDocument: true },
  );

  // ---- store <-> model ---------------------------------------------------------------------------------------------
  cleanups.push(
    store.subscribe((changes, source) => {
      for (const c of changes) loop.mark(c);
      if (source !== "model") sync.changed(SYNCED_KEYS.filter((k) => changes.has(k)));
    }),
  );
  feedStore(model, store, on, note.showErrors, () => !loop.destroyed);
  store.set(modelValues(model, SYNCED_KEYS), "model");
  sync.listen(SYNCED_KEYS, (key, value) => store.set({ [key]: value }, "model"));
  on("change:window_start", () => loop.mark("dataset")); // the pager: "loading…" until the window's _meta arrives
  on("change:epoch", () => loop.mark("epoch")); // the epoch axis: "loading…" until the epoch's _meta arrives
  // A kernel restart: the view keeps what it holds (it still scrubs) and says that Python no longer answers.
  cleanups.push(watchConnection(model, (why) => loop.destroyed || note.markStale(why)));

  // ---- keyboard, size ----------------------------------------------------------------------------------------------
  const onKey = keyHandler(store, ctx);
  const onEpochKey = (ev) => epochs.onKey(ev);
  root.addEventListener("keydown", onEpochKey);
  cleanups.push(() => root.removeEventListener("keydown", onEpochKey));
  root.addEventListener("keydown", onKey);
  cleanups.push(() => root.removeEventListener("keydown", onKey));
  cleanups.push(
    watchSize(root, { narrowClass: "lw-narrow", narrowPx: NARROW_PX, views, onResize: () => loop.mark("size") }),
  );

  loop.schedule();
  return () => {
    loop.destroy();
    sync.close();
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
