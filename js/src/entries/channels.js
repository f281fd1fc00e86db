// anywidget entry of the channel grid (lstm_widget.ChannelGrid; bundled as lstm_widget/static/channels.js): wires
// the grid's view (views/channelgrid.js) to the model's traits, its writes through sync.js, and the decoded `_meta` /
// `_arrays` into it. Repaints go through one loop (loop.js): one per animation frame.

import { createLoop, watchSize } from "../loop.js";
import { createSync, onTraits } from "../sync.js";
import { channelGridView, GRID_ARRAYS } from "../views/channelgrid.js";
import { decodeNamed } from "../wire.js";

/** The traits the page writes (and repaints on when the kernel sets them). */
const SYNCED = ["layer", "channel", "opacity", "show", "rank_by"];
/** Below this width (CSS px) the grid and the detail stack (class lc-narrow). */
const NARROW_PX = 720;

/** Mount the channel grid for `model` into `host`; returns the cleanup function. */
export function mount(model, host) {
  const cleanups = [];
  const on = (event, fn) => {
    model.on(event, fn);
    cleanups.push(() => model.off(event, fn));
  };
  const sync = createSync(model); // no throttled traits, no revisions: every choice is written as made
  const view = channelGridView({
    get: (key) => model.get(key),
    write(patch) {
      sync.set(patch);
      loop.mark("traits");
    },
  });
  const root = view.el;
  host.append(root);
  const loop = createLoop(root, (f) => view.render(f), { initial: ["data"], themePollMs: 500 });

  const load = () => {
    view.setData(
      model.get("_meta") || {},
      decodeNamed(model.get("_arrays") || {}, GRID_ARRAYS, "lstm_widget channels"),
    );
    loop.mark("data");
  };
  onTraits(on, ["_meta", "_arrays"], load, () => !loop.destroyed); // decoded once per update message
  for (const key of SYNCED) on(`change:${key}`, () => loop.mark("traits"));
  cleanups.push(watchSize(root, { narrowClass: "lc-narrow", narrowPx: NARROW_PX }));

  load();
  return () => {
    loop.destroy();
    sync.close();
    for (const fn of cleanups.splice(0)) fn();
    view.destroy();
    root.remove();
  };
}

export default {
  render({ model, el: host }) {
    return mount(model, host);
  },
};
