import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeArray } from "../dev/encode.js";
import { appendMsg, twoSequences } from "../dev/store-fixture.js";

/** Appends whose buffers sit at byte 4 of a larger buffer, as ipywidgets may deliver them. */
const appendMsgAt = (...args) => appendMsg(...args, { byteOffset: 4 });

import { Column, createStore, normalizeMeta } from "../src/store.js";

test("load: per-sequence slices via offsets", () => {
  const { meta, arrays } = twoSequences();
  const store = createStore({ meta, arrays });
  assert.equal(store.nSequences(), 2);
  assert.equal(store.length(0), 3);
  assert.equal(store.length(1), 2);
  const s1 = store.series("h", 0, 1);
  assert.deepEqual([s1.rows, s1.cols], [2, 2]);
  assert.deepEqual(Array.from(s1.data), [30, 31, 40, 41]);
  assert.equal(store.value("h", 0, 0, 2, 1), 21);
  assert.ok(Number.isNaN(store.value("h", 0, 0, 3, 1)));
  assert.deepEqual(Array.from(store.series("inputs", 0, 1).data), [0.3, 0.4].map(Math.fround));
  assert.deepEqual(store.limits("h"), [0, 41]);
});

test("state: page sets are clamped, model sets kept as given and clamped in the snapshot", () => {
  const { meta, arrays } = twoSequences();
  const store = createStore({ meta, arrays });
  const seen = [];
  store.subscribe((changes, source) => seen.push([[...changes].sort().join(","), source]));
  store.set({ t: 99 });
  assert.equal(store.state.t, 2);
  store.set({ sequence: 1 });
  assert.equal(store.state.t, 1, "t clamped to the new sequence");
  store.set({ t: 7, sequence: 0 }, "model");
  assert.equal(store.state.t, 7);
  assert.equal(store.snapshot().t, 2);
  store.set({ t: 7 }, "model");
  assert.deepEqual(seen, [
    ["t", "ui"],
    ["sequence,t", "ui"],
    ["sequence,t", "model"],
  ]);
  store.set({ selected_units: [3, 1, 3, -1, "2"] });
  assert.deepEqual(store.state.selected_units, [3, 1, 2]);
  store.toggleUnit(1);
  assert.deepEqual(store.state.selected_units, [3, 2]);
  store.set({ quantity: "zz" });
  assert.equal(store.state.quantity, "h");
});

test("append to the last sequence grows every array, and the cursor at the end follows", () => {
  const { meta, arrays } = twoSequences();
  const store = createStore({ meta, arrays });
  store.set({ sequence: 1, t: 1 });
  const changes = store.applyMessage(...appendMsgAt(1, 2, [50, 51, 60, 61], [0.5, 0.6]));
  assert.ok(changes.has("data") && changes.has("t"));
  assert.equal(store.length(1), 4);
  assert.deepEqual(store.meta.offsets, [0, 3, 7]);
  assert.deepEqual(Array.from(store.series("h", 0, 1).data), [30, 31, 40, 41, 50, 51, 60, 61]);
  assert.equal(store.state.t, 3, "cursor followed the new last step");
  // traj was not sent: its new rows are NaN (not drawn) and the array stays aligned
  const traj = store.series("traj", 0, 1);
  assert.equal(traj.rows, 4);
  assert.ok(Number.isNaN(traj.data[4]) && Number.isNaN(traj.data[7]));
  assert.deepEqual(store.limits("h"), [0, 61]);
  // a cursor not at the end stays put
  store.set({ t: 1 });
  store.applyMessage(...appendMsgAt(1, 4, [70, 71], [0.7]));
  assert.equal(store.state.t, 1);
  assert.equal(store.length(1), 5);
});

test("append into a middle sequence shifts the later rows; begin adds an empty sequence", () => {
  const { meta, arrays } = twoSequences();
  const store = createStore({ meta, arrays });
  const h0 = arrays.h.buffer;
  const before = new Float32Array(h0.buffer, h0.byteOffset, 10).slice();
  store.applyMessage(...appendMsgAt(0, 3, [90, 91], [0.9]));
  assert.deepEqual(store.meta.offsets, [0, 4, 6]);
  assert.deepEqual(Array.from(store.series("h", 0, 0).data), [0, 1, 10, 11, 20, 21, 90, 91]);
  assert.deepEqual(Array.from(store.series("h", 0, 1).data), [30, 31, 40, 41]);
  assert.deepEqual(
    Array.from(new Float32Array(h0.buffer, h0.byteOffset, 10)),
    Array.from(before),
    "model buffer untouched",
  );
  // overwrite existing steps (start < length) keeps the length
  store.applyMessage(...appendMsgAt(0, 1, [-1, -2], [0]));
  assert.equal(store.length(0), 4);
  assert.deepEqual(Array.from(store.series("h", 0, 0).data.subarray(2, 4)), [-1, -2]);

  store.set({ t: 1 });
  const ch = store.applyMessage({ type: "begin", sequence: 2, name: "live", label: 1 });
  assert.ok(ch.has("data") && ch.has("sequence") && ch.has("t"));
  assert.deepEqual([store.state.sequence, store.state.t], [2, 0], "begin shows the new sequence");
  assert.equal(store.nSequences(), 3);
  assert.equal(store.length(2), 0);
  assert.deepEqual(store.meta.sequence_names, ["first", "second", "live"]);
  assert.deepEqual(store.meta.labels, [1, null, 1]);
  store.set({ sequence: 2 });
  for (let k = 0; k < 40; k++) store.applyMessage(...appendMsgAt(2, k, [k, -k], [k]));
  assert.equal(store.length(2), 40);
  assert.equal(store.state.t, 39, "cursor followed from an empty sequence");
  assert.deepEqual(Array.from(store.series("h", 0, 2).data.subarray(78, 80)), [39, -39]);
  assert.deepEqual(Array.from(store.series("h", 0, 1).data), [30, 31, 40, 41], "earlier sequences intact after growth");
});

test("arrays whose step count disagrees with _meta are held back", () => {
  const { meta, arrays } = twoSequences();
  const store = createStore();
  const warn = console.warn;
  console.warn = () => {};
  try {
    store.load({ ...meta, lengths: [3, 3], offsets: [0, 3, 6] }, arrays);
  } finally {
    console.warn = warn;
  }
  assert.equal(store.has("h"), false);
  assert.equal(store.series("h", 0, 0), null);
});

test("normalizeMeta fills defaults and derives offsets from lengths", () => {
  const m = normalizeMeta({ lengths: [2, 3] });
  assert.deepEqual(m.offsets, [0, 2, 5]);
  assert.deepEqual(m.labels, [null, null]);
  assert.deepEqual(m.sequence_names, ["sequence 0", "sequence 1"]);
  assert.deepEqual(m.quantities, ["h", "c", "i", "f", "g", "o"]);
  assert.deepEqual(normalizeMeta({ offsets: [0, 4, 6] }).lengths, [4, 2]);
  assert.deepEqual(normalizeMeta(null, 7).lengths, [7]);
});

test("Column grows with spare capacity and copies before writing to a borrowed buffer", () => {
  const borrowed = new Float32Array([1, 2, 3, 4]);
  const col = new Column(borrowed, 2, 2);
  col.insertRows(2, 1);
  assert.ok(col.data !== borrowed && col.owned);
  assert.deepEqual(Array.from(borrowed), [1, 2, 3, 4]);
  col.writeRows(2, [5, 6]);
  assert.deepEqual(Array.from(col.rowsView(0, 3)), [1, 2, 3, 4, 5, 6]);
  const cap = col.capacityRows;
  col.insertRows(3, 1);
  assert.equal(col.capacityRows, cap, "no reallocation while capacity lasts");
  col.removeRows(0, 1);
  assert.equal(col.rows, 3);
  assert.deepEqual(Array.from(col.rowsView(0, 2)), [3, 4, 5, 6]);
});

test("per-quantity data: loadArrays adds, replaces and removes one array; appends skip quantities not loaded", () => {
  const { meta, arrays } = twoSequences();
  meta.quantities = ["h", "c"];
  meta.units = { h: 2, c: 2 };
  const store = createStore({ meta, arrays });
  assert.equal(store.pending("c"), true);
  assert.equal(store.pending("h"), false);
  // an append carrying c while c is not loaded leaves it out (the _data_c trait will bring all of it)
  const [msg, bufs] = appendMsgAt(1, 2, [50, 51], [0.5]);
  const c = encodeArray([7, 8], [1, 1, 2], "float32");
  bufs.push(c.buffer);
  delete c.buffer;
  msg.fields.push({ name: "c", ...c });
  store.applyMessage(msg, bufs);
  assert.equal(store.has("c"), false);
  assert.equal(store.length(1), 3);
  // the _data_c trait arrives (6 steps now)
  const cvals = Float32Array.from({ length: 12 }, (_, k) => 1 - k);
  const v0 = store.version;
  const ch = store.loadArrays({ c: encodeArray(cvals, [1, 6, 2], "float16") });
  assert.ok(ch.has("data") && store.version > v0);
  assert.equal(store.pending("c"), false);
  assert.deepEqual(Array.from(store.series("c", 0, 1).data), [-5, -6, -7, -8, -9, -10]);
  assert.deepEqual(store.limits("c"), [-10, 1]);
  assert.deepEqual(Array.from(store.series("h", 0, 1).data), [30, 31, 40, 41, 50, 51], "other arrays kept");
  store.loadArrays({ c: {} });
  assert.equal(store.has("c"), false);
  assert.equal(store.pending("c"), true);
});

test("meta keeps the task, the outputs note, the model note and the stages of every sequence", () => {
  const { meta, arrays } = twoSequences();
  const store = createStore({
    meta: {
      ...meta,
      task: "regression",
      outputs_note: "per-step outputs: what the model returned",
      n_outputs: 1,
      model_note: "several recurrent modules: cannot be stepped",
      stages: [
        [
          ["encoder", 0, 2],
          ["decoder", 2, 3],
        ],
        [["", 0, 2]],
      ],
    },
    arrays,
  });
  const m = store.meta;
  assert.equal(m.task, "regression");
  assert.equal(m.n_outputs, 1);
  assert.match(m.outputs_note, /what the model returned/);
  assert.match(m.model_note, /cannot be stepped/);
  assert.deepEqual(store.stages(0), [
    { module: "encoder", start: 0, stop: 2 },
    { module: "decoder", start: 2, stop: 3 },
  ]);
  assert.deepEqual(store.stages(1), []); // one stage: nothing to draw
  assert.equal(normalizeMeta({ task: null }).task, null);
  assert.equal(normalizeMeta({}).task, undefined);
  assert.equal(normalizeMeta({}).stages, null);
});

test("append keeps a regression's outputs as an array of its own, with their range", () => {
  const { meta, arrays } = twoSequences();
  const store = createStore({ meta: { ...meta, task: "regression", n_outputs: 1 }, arrays });
  const e = encodeArray(Float32Array.from([0.5, -2.5]), [2, 1], "float32", { byteOffset: 4 });
  const buffer = e.buffer;
  delete e.buffer;
  store.applyMessage({ type: "append", sequence: 1, start: 2, fields: [{ name: "outputs", ...e }] }, [buffer]);
  const block = store.series("outputs", 0, 1);
  assert.equal(block.rows, 4);
  assert.ok(Number.isNaN(block.data[0]) && Number.isNaN(block.data[1])); // steps there before: no outputs
  assert.deepEqual(Array.from(block.data.subarray(2)), [0.5, -2.5]);
  assert.deepEqual(store.limits("outputs"), [-2.5, 0.5]);
});
