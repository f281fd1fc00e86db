// sync.js: the page's writes to the kernel model (revisions, throttling with the interval from `_sync_ms`, one
// message per write), the kernel's changes back (own echoes ignored, a pending throttled write dropped), the data
// traits of one update handled once, and the kernel going away. A fake model (dev/fake-model.js) and fake timers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { FakeModel } from "../dev/fake-model.js";
import { createSync, DEFAULT_SYNC_MS, modelValues, onTraits, syncInterval, watchConnection } from "../src/sync.js";

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1000 }));
afterEach(() => mock.timers.reset());

/** A sync over a fake model whose page values are in `page` (what `read` gives); the clock is the mocked Date. */
function setup(state = {}, options = {}) {
  const model = new FakeModel({ t: 0, layer: 0, traj_view: {}, ...state });
  const page = { t: 0, layer: 0, traj_view: {} };
  const sync = createSync(model, {
    read: (key) => page[key],
    throttled: ["t", "traj_view"],
    revised: ["t", "layer", "traj_view"],
    now: () => Date.now(),
    ...options,
  });
  return { model, page, sync, messages: () => model.outbox.map((m) => m.state) };
}

test("syncInterval: the model's _sync_ms, else 50 (absent, or not a non-negative int)", () => {
  assert.equal(DEFAULT_SYNC_MS, 50);
  assert.equal(syncInterval(new FakeModel({})), 50);
  assert.equal(syncInterval(new FakeModel({ _sync_ms: 20 })), 20);
  assert.equal(syncInterval(new FakeModel({ _sync_ms: 0 })), 0);
  for (const bad of [null, -5, 12.5, "20", true]) assert.equal(syncInterval(new FakeModel({ _sync_ms: bad })), 50);
});

test("write: one message; each revised trait with _seen_<trait> = [the kernel's revision seen, write number]", () => {
  const { page, sync, messages } = setup({ _rev: { t: 3 } });
  page.t = 5;
  page.layer = 1;
  sync.write(["t", "layer"]);
  assert.deepEqual(messages(), [{ t: 5, _seen_t: [3, 1], layer: 1, _seen_layer: [0, 1] }]);
  page.layer = 2;
  sync.write(["layer"]);
  assert.deepEqual(messages()[1], { layer: 2, _seen_layer: [0, 2] }); // the counter makes _seen_ change every write
});

test("set: a trait outside `revised` goes alone, no _seen_; a widget without revisions sends only its values", () => {
  const { model, sync, messages } = setup();
  sync.set({ window_start: 40 });
  assert.deepEqual(messages(), [{ window_start: 40 }]);
  assert.equal(model.saves, 1);
  const grid = new FakeModel({ channel: 0 });
  createSync(grid).set({ channel: 3, opacity: 0.5 });
  assert.deepEqual(
    grid.outbox.map((m) => m.state),
    [{ channel: 3, opacity: 0.5 }],
  );
});

test("changed: a throttled trait is written at once, then at most once per interval with its last value", () => {
  const { page, sync, messages } = setup();
  page.t = 1;
  sync.changed(["t"]);
  assert.deepEqual(
    messages().map((m) => m.t),
    [1],
  );
  mock.timers.tick(10);
  page.t = 2;
  sync.changed(["t"]);
  mock.timers.tick(10);
  page.t = 3;
  sync.changed(["t"]); // still within 50 ms of the first write: one pending write, not two
  assert.equal(messages().length, 1);
  mock.timers.tick(29);
  assert.equal(messages().length, 1);
  mock.timers.tick(1); // 50 ms after the first write: the value the page has then
  assert.deepEqual(
    messages().map((m) => m.t),
    [1, 3],
  );
  assert.deepEqual(messages()[1]._seen_t, [0, 2]);
  mock.timers.tick(200);
  assert.equal(messages().length, 2);
});

test("changed: the interval comes from the model's _sync_ms", () => {
  const { page, sync, messages } = setup({ _sync_ms: 20 });
  page.t = 1;
  sync.changed(["t"]);
  page.t = 2;
  sync.changed(["t"]);
  mock.timers.tick(19);
  assert.equal(messages().length, 1);
  mock.timers.tick(1);
  assert.deepEqual(
    messages().map((m) => m.t),
    [1, 2],
  );
  mock.timers.tick(25); // a change 25 ms after the last write goes at once
  page.t = 7;
  sync.changed(["t"]);
  assert.deepEqual(
    messages().map((m) => m.t),
    [1, 2, 7],
  );
});

test("changed: unthrottled traits go at once, with the throttled ones allowed now, in one message", () => {
  const { page, sync, messages } = setup();
  page.t = 4;
  page.layer = 1;
  sync.changed(["t", "layer"]);
  assert.deepEqual(messages(), [{ layer: 1, _seen_layer: [0, 1], t: 4, _seen_t: [0, 1] }]);
  page.t = 5;
  page.layer = 2;
  sync.changed(["t", "layer"]); // t is throttled now: layer alone
  assert.deepEqual(messages()[1], { layer: 2, _seen_layer: [0, 2] });
  mock.timers.tick(50);
  assert.deepEqual(messages()[2], { t: 5, _seen_t: [0, 3] });
});

test("a pending throttled write is skipped when the model already holds the page's value", () => {
  const { page, sync, messages } = setup();
  page.t = 1;
  sync.changed(["t"]);
  page.t = 2;
  sync.changed(["t"]);
  page.t = 1; // back to what the model has
  mock.timers.tick(50);
  assert.equal(messages().length, 1);
});

test("listen: the kernel's changes reach the page, the page's own echoes do not", () => {
  const { model, page, sync } = setup();
  const heard = [];
  sync.listen(["t", "layer"], (key, value) => heard.push([key, value]));
  page.t = 3;
  sync.write(["t"]); // FakeModel fires change:t synchronously, like Backbone
  assert.equal(sync.writing, false);
  model.kernelSet("layer", 2);
  model.kernelSet("t", 9);
  assert.deepEqual(heard, [
    ["layer", 2],
    ["t", 9],
  ]);
});

test("listen: a change from the kernel drops the pending throttled write of that trait", () => {
  const { model, page, sync, messages } = setup();
  sync.listen(["t"], () => {});
  page.t = 1;
  sync.changed(["t"]);
  page.t = 2;
  sync.changed(["t"]); // pending
  model.kernelSet("t", 8);
  mock.timers.tick(100);
  assert.deepEqual(
    messages().map((m) => m.t),
    [1],
  );
});

test("close: pending throttled writes are sent at once and the listeners removed", () => {
  const { model, page, sync, messages } = setup();
  const heard = [];
  sync.listen(["t"], (_key, value) => heard.push(value));
  page.t = 1;
  sync.changed(["t"]);
  page.traj_view = { yaw: 30 };
  sync.changed(["traj_view"]); // written at once: its own throttle clock
  page.traj_view = { yaw: 45 };
  sync.changed(["traj_view"]);
  page.t = 2;
  sync.changed(["t"]);
  sync.close();
  assert.deepEqual(
    messages().map((m) => m.t ?? m.traj_view),
    [1, { yaw: 30 }, 2, { yaw: 45 }],
  );
  model.kernelSet("t", 5);
  mock.timers.tick(100);
  assert.deepEqual(heard, []);
  assert.equal(messages().length, 4);
});

test("onTraits: the traits of one update are handled once, after all their handlers ran", async () => {
  const model = new FakeModel({});
  const calls = [];
  const on = (event, fn) => model.on(event, fn);
  let alive = true;
  onTraits(
    on,
    ["_meta", "_arrays"],
    (names) => calls.push([...names].sort()),
    () => alive,
  );
  model.kernelSet("_meta", { a: 1 });
  model.kernelSet("_arrays", { b: 2 });
  assert.deepEqual(calls, []);
  await Promise.resolve();
  assert.deepEqual(calls, [["_arrays", "_meta"]]);
  model.kernelSet("_arrays", { b: 3 });
  alive = false;
  await Promise.resolve();
  assert.deepEqual(calls, [["_arrays", "_meta"]]);
});

test("watchConnection: a kernel restart, death or closed comm is said; nothing after cleanup", () => {
  const slots = new Set();
  const kernel = { statusChanged: { connect: (fn) => slots.add(fn), disconnect: (fn) => slots.delete(fn) } };
  const model = new FakeModel({});
  model.widget_manager = { kernel };
  const said = [];
  const stop = watchConnection(model, (why) => said.push(why));
  for (const fn of slots) {
    fn(kernel, "busy");
    fn(kernel, "autorestarting");
    fn(kernel, "dead");
  }
  model.emit("comm:close");
  assert.deepEqual(said, ["The kernel restarted", "The kernel died", "The kernel closed this widget"]);
  stop();
  assert.equal(slots.size, 0);
  model.emit("comm:close");
  assert.equal(said.length, 3);
});

test("modelValues: the traits the model has, null and undefined left out", () => {
  const model = new FakeModel({ t: 0, layer: null, sequence: 2 });
  assert.deepEqual(modelValues(model, ["t", "layer", "sequence", "speed"]), { t: 0, sequence: 2 });
});
