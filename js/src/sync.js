// Sync with the kernel model, written once for every widget (js/PROTOCOL.md, "Who wins"): the page's writes of
// synced traits (each with the revision of it the page had seen, `_seen_<trait>`, against the kernel's `_rev`), the
// throttling of fast writes (`t` while playing or scrubbing, `traj_view` while dragging: at most one per `_sync_ms`,
// the last value always sent), and the kernel's changes of those traits back to the page (the page's own echoes
// ignored; a change from the kernel drops a pending throttled write of the same trait), the data traits of one update
// message handled once, and the kernel going away.

/** Milliseconds between two throttled writes when the model has no `_sync_ms` trait (the export page, old kernels). */
export const DEFAULT_SYNC_MS = 50;

/** The throttle interval the kernel set in its `_sync_ms` trait (int, ms), or DEFAULT_SYNC_MS when absent. */
export function syncInterval(model) {
  const ms = model.get("_sync_ms");
  return Number.isInteger(ms) && ms >= 0 ? ms : DEFAULT_SYNC_MS;
}

/** The model's values of `keys` (trait -> value), those it has (not undefined or null). */
export function modelValues(model, keys) {
  const out = {};
  for (const key of keys) {
    const value = model.get(key);
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

/**
 * The page's side of the sync with `model` (the anywidget model: get / set / save_changes / on / off).
 *
 * Options: `read(key)` gives the page's current value of a trait (what `write` and `changed` send; a fresh copy for
 * arrays and objects); `throttled` lists the traits written at most once per `syncInterval(model)` ms; `revised`
 * lists the traits whose writes carry `_seen_<trait>` (the kernel's revision protocol; [] for a widget without
 * it); `hold(key)` true means the page's value of `key` is not to be written now (the explorer: `sequence` and `t`
 * while the cursor is on a sequence still streaming — changes of them are dropped, a pending throttled write of
 * them is not sent); `now` is the clock in ms (performance.now by default).
 *
 * Returns {write(keys), set(patch), changed(keys), listen(keys, fn), close(), writing}.
 */
export function createSync(
  model,
  { read = () => undefined, throttled = [], revised = [], hold = () => false, now = defaultNow } = {},
) {
  let writing = false; // true while the page writes: the model's "change:" events of that write are its own echo
  let writes = 0; // the write counter of `_seen_<trait>`: the attribute changes on every write, so it is sent
  const lastWrite = {}; // trait -> time of its last throttled write
  const timers = {}; // trait -> pending throttled write
  const listeners = [];

  /** Write `patch` (trait -> value) to the model now, as one message. */
  const set = (patch) => {
    writing = true;
    try {
      const seen = model.get("_rev") || {};
      writes += 1;
      for (const [key, value] of Object.entries(patch)) {
        model.set(key, value);
        // One attribute per trait, so that writes merged in ipywidgets' send buffer keep each value with the
        // revision it was made against.
        if (revised.includes(key)) model.set(`_seen_${key}`, [seen[key] ?? 0, writes]);
      }
      model.save_changes();
    } finally {
      writing = false;
    }
  };

  /** Write the page's current values of `keys` now, as one message. */
  const write = (keys) => set(Object.fromEntries(keys.map((key) => [key, read(key)])));

  const cancel = (key) => {
    if (!timers[key]) return false;
    clearTimeout(timers[key]);
    timers[key] = 0;
    return true;
  };

  const flush = (key) => {
    timers[key] = 0;
    if (hold(key)) return;
    lastWrite[key] = now();
    if (JSON.stringify(model.get(key)) !== JSON.stringify(read(key))) write([key]);
  };

  /**
   * The page changed `keys`: the unthrottled ones are written now (one message), a throttled one now when its last
   * write is `syncInterval` ms old, else once that time is up (with the value it has then); held keys not at all.
   */
  const changed = (keys) => {
    keys = keys.filter((key) => !hold(key));
    const out = keys.filter((key) => !throttled.includes(key));
    for (const key of keys) {
      if (!throttled.includes(key)) continue;
      const wait = syncInterval(model) - (now() - (lastWrite[key] ?? -Infinity));
      if (wait <= 0 && !timers[key]) {
        lastWrite[key] = now();
        out.push(key);
      } else if (!timers[key]) {
        timers[key] = setTimeout(() => flush(key), Math.max(0, wait));
      }
    }
    if (out.length) write(out);
  };

  /** Call `fn(key, value)` when the kernel changes one of `keys` (not on the page's own writes); the kernel's value
   * wins over a pending throttled write of it. */
  const listen = (keys, fn) => {
    for (const key of keys) {
      const handler = () => {
        if (writing) return;
        cancel(key);
        fn(key, model.get(key));
      };
      model.on(`change:${key}`, handler);
      listeners.push([`change:${key}`, handler]);
    }
  };

  /** Send the pending throttled writes now and stop listening. */
  const close = () => {
    for (const key of throttled) if (cancel(key)) flush(key);
    for (const [event, handler] of listeners.splice(0)) model.off(event, handler);
  };

  return {
    set,
    write,
    changed,
    listen,
    close,
    get writing() {
      return writing;
    },
  };
}

function defaultNow() {
  return performance.now();
}

/**
 * Call `gone(why)` when the kernel behind `model` restarts or dies, or closes the widget's comm (the page then keeps
 * what it holds but no longer reaches Python). Returns the cleanup function.
 */
export function watchConnection(model, gone) {
  const cleanups = [];
  const kernel = model.widget_manager?.kernel;
  if (kernel?.statusChanged?.connect) {
    const onStatus = (_k, status) => {
      if (status === "restarting" || status === "autorestarting") gone("The kernel restarted");
      else if (status === "dead") gone("The kernel died");
    };
    kernel.statusChanged.connect(onStatus);
    cleanups.push(() => kernel.statusChanged.disconnect(onStatus));
  }
  const onClose = () => gone("The kernel closed this widget");
  model.on("comm:close", onClose);
  cleanups.push(() => model.off("comm:close", onClose));
  return () => {
    for (const fn of cleanups.splice(0)) fn();
  };
}

/**
 * Call `fn(names)` once per burst of changes of the `traits` of `model` (the set of those that changed), in a
 * microtask after the handlers of one update message all ran. `on(event, handler)` registers a model listener (and
 * its cleanup); `alive()` false drops a pending call.
 */
export function onTraits(on, traits, fn, alive = () => true) {
  let dirty = new Set();
  for (const trait of traits) {
    on(`change:${trait}`, () => {
      if (!dirty.size) {
        queueMicrotask(() => {
          const names = dirty;
          dirty = new Set();
          if (alive()) fn(names);
        });
      }
      dirty.add(trait);
    });
  }
}
