// A stream is a transaction (js/PROTOCOL.md, "Streams"): `begin` / `append` make a provisional sequence that the page
// shows but does not point `sequence` / `t` at in its writes to the kernel; `end` (or traits that hold it) commits
// it; `abort` removes it and puts the cursor back where Python has it. The store and the sync are wired as
// entries/explorer.js wires them, over a fake model (dev/fake-model.js).
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { encodeArray } from "../dev/encode.js";
import { FakeModel } from "../dev/fake-model.js";
import { appendMsg, twoSequences } from "../dev/store-fixture.js";
import { createStore, SYNCED_KEYS, THROTTLED_KEYS, traitValue } from "../src/store.js";
import { createSync } from "../src/sync.js";

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1000 }));
afterEach(() => mock.timers.reset());

/** The explorer's wiring: the store's page changes written through the sync, held back as explorer.js does. */
function page(state = { sequence: 1, t: 1 }) {
  const { meta, arrays } = twoSequences();
  const store = createStore({ meta, arrays, state });
  const model = new FakeModel({ ...state, _rev: {} });
  const sync = createSync(model, {
    read: (key) => traitValue(store.state, key),
    throttled: THROTTLED_KEYS,
    revised: SYNCED_KEYS,
    hold: (key) => store.heldBack(key),
    now: () => Date.now(),
  });
  store.subscribe((changes, source) => {
    if (source !== "model") sync.changed(SYNCED_KEYS.filter((k) => changes.has(k)));
  });
  const written = () => model.outbox.map((m) => m.state);
  return { store, model, sync, written };
}

/** begin sequence 2 and append three steps to it (h rows 100.., inputs 1..). */
function streamThreeSteps(store) {
  store.applyMessage({ type: "begin", sequence: 2, name: "live", label: 0 });
  store.applyMessage(...appendMsg(2, 0, [100, 101, 110, 111], [1, 2]));
  store.applyMessage(...appendMsg(2, 2, [500, -500], [3]));
}

test("begin / append: the sequence is shown, provisional, and sequence / t pointing into it are not written", () => {
  const { store, written } = page();
  streamThreeSteps(store);
  assert.equal(store.nSequences(), 3);
  assert.equal(store.length(2), 3);
  assert.deepEqual([store.state.sequence, store.state.t], [2, 2], "the cursor follows the live end");
  assert.equal(store.isProvisional(2), true);
  assert.equal(store.isProvisional(1), false);
  assert.equal(store.heldBack("t") && store.heldBack("sequence"), true);
  assert.equal(store.heldBack("layer"), false);
  assert.deepEqual(store.limits("h"), [-500, 500], "the appended values widen the colour scale");
  mock.timers.tick(1000); // a throttled write of t that was pending is not sent either
  assert.deepEqual(written(), [], "nothing of the provisional sequence reaches the kernel");
  // other keys are written as usual while streaming
  store.set({ layer: 0, selected_units: [1] });
  assert.deepEqual(written(), [{ selected_units: [1], _seen_selected_units: [0, 1] }]);
  // scrubbing inside the provisional sequence is held back too
  store.set({ t: 0 });
  mock.timers.tick(1000);
  assert.equal(written().length, 1);
});

test("abort: the provisional sequence is removed and the cursor goes back to what Python holds", () => {
  const { store, written } = page({ sequence: 1, t: 1 });
  const before = [store.version, store.limits("h")];
  streamThreeSteps(store);
  const changes = store.applyMessage({
    type: "abort",
    sequence: 2,
    reason: "KeyboardInterrupt",
    state: { sequence: 1, t: 1 },
  });
  assert.ok(changes.has("data") && changes.has("sequence") && changes.has("t"));
  assert.equal(store.nSequences(), 2);
  assert.deepEqual(store.meta.lengths, [3, 2]);
  assert.deepEqual(store.meta.offsets, [0, 3, 5]);
  assert.deepEqual(store.meta.sequence_names, ["first", "second"]);
  assert.deepEqual(store.meta.labels, [1, null]);
  assert.equal(store.all("h").rows, 5);
  assert.deepEqual(Array.from(store.series("h", 0, 1).data), [30, 31, 40, 41], "the other rows are intact");
  assert.deepEqual(Array.from(store.all("inputs").data), [0, 0.1, 0.2, 0.3, 0.4].map(Math.fround));
  assert.equal(store.isProvisional(2), false);
  assert.deepEqual([store.state.sequence, store.state.t], [1, 1]);
  assert.deepEqual(store.limits("h"), before[1], "the colour scale is the kernel's again");
  assert.ok(store.version > before[0]);
  mock.timers.tick(1000);
  assert.deepEqual(written(), [], "the restored cursor is Python's: it is not written back");
  // afterwards the page writes as before
  store.set({ t: 0 });
  assert.deepEqual(written(), [{ t: 0, _seen_t: [0, 1] }]);
});

test("abort drops the provisional sequence's stages too", () => {
  const { meta, arrays } = twoSequences();
  const two = [
    ["enc", 0, 1],
    ["dec", 1, 2],
  ];
  meta.stages = [two, two];
  const store = createStore({ meta, arrays, state: { sequence: 1, t: 1 } });
  streamThreeSteps(store);
  assert.equal(store.meta.stages.length, 3);
  store.applyMessage({ type: "abort", sequence: 2, state: { sequence: 1, t: 1 } });
  assert.equal(store.meta.stages.length, 2, "one entry per sequence, as lengths and labels");
  assert.deepEqual(store.stages(1), [
    { module: "enc", start: 0, stop: 1 },
    { module: "dec", start: 1, stop: 2 },
  ]);
  store.applyMessage({ type: "begin", sequence: 2, name: "again", label: 0 });
  assert.equal(store.meta.stages.length, 3, "a new sequence gets its own entry");
});

test("abort restores a cursor that Python moved elsewhere, and an abort of nothing changes nothing", () => {
  const { store } = page({ sequence: 1, t: 1 });
  assert.equal(store.applyMessage({ type: "abort", sequence: 2, state: { sequence: 0, t: 0 } }).size, 0);
  streamThreeSteps(store);
  store.applyMessage({ type: "abort", sequence: 2, state: { sequence: 0, t: 2 } });
  assert.deepEqual([store.state.sequence, store.state.t, store.nSequences()], [0, 2, 2]);
});

test("end: the sequence is committed, and sequence / t pointing into it are written again", () => {
  const { store, written } = page();
  streamThreeSteps(store);
  const v = store.version;
  const changes = store.applyMessage({ type: "end", sequence: 2 });
  assert.ok(changes.has("data") && store.version > v, "the picker relabels it");
  assert.equal(store.isProvisional(2), false);
  assert.equal(store.nSequences(), 3);
  store.set({ t: 0 });
  assert.deepEqual(written(), [{ t: 0, _seen_t: [0, 1] }]);
});

test("traits that hold the streamed sequence commit it even before `end` arrives", () => {
  const { store } = page();
  streamThreeSteps(store);
  const { meta, arrays } = twoSequences();
  store.load(meta, arrays); // traits from another thread, without the sequence: it stays provisional (gone)
  assert.equal(store.isProvisional(2), true);
  store.applyMessage(...appendMsg(2, 3, [1, 2], [4])); // the next append begins it again, provisional
  assert.equal(store.isProvisional(2) && store.nSequences() === 3, true);
  const h = Float32Array.from({ length: 16 }, (_, k) => k);
  store.load(
    { ...meta, n_sequences: 3, lengths: [3, 2, 3], offsets: [0, 3, 5, 8], sequence_names: ["first", "second", "live"] },
    { h: encodeArray(h, [1, 8, 2], "float32"), inputs: encodeArray(new Float32Array(8), [8, 1], "float32") },
  );
  assert.equal(store.isProvisional(2), false, "Python's traits hold it: committed");
  assert.equal(store.applyMessage({ type: "end", sequence: 2 }).size, 0, "the end that follows changes nothing");
});

test("drawVersion: while a sequence streams it stays put across appends at its end, and moves on a rewrite or the end", () => {
  const { store } = page();
  store.applyMessage({ type: "begin", sequence: 2, name: "live", label: 0 });
  store.applyMessage(...appendMsg(2, 0, [100, 101, 110, 111], [1, 2]));
  const drawn = store.drawVersion(2);
  const seq = store.seqVersion(2);
  store.applyMessage(...appendMsg(2, 2, [500, -500], [3]));
  assert.equal(store.drawVersion(2), drawn, "steps appended at the end keep what was drawn valid");
  assert.notEqual(store.seqVersion(2), seq, "the sequence's data did change");
  assert.equal(store.drawVersion(1), store.seqVersion(1), "a sequence that is not streaming: its seqVersion");
  store.applyMessage(...appendMsg(2, 1, [7, 8], [9])); // step 1 written over
  assert.notEqual(store.drawVersion(2), drawn, "a step written over invalidates what was drawn");
  const rewritten = store.drawVersion(2);
  store.applyMessage({ type: "end", sequence: 2 });
  assert.notEqual(store.drawVersion(2), rewritten, "the end of the stream: everything is drawn again");
  assert.equal(store.drawVersion(2), store.seqVersion(2));
});
