// Gates and weights on the page: GRU quantities, the gates view's columns, gate saturation counts, the weight
// view's layout and the framework-native index text, the store's weights.

import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeArray } from "../dev/encode.js";
import { isSigned, scaleFor } from "../src/colormap.js";
import { createStore, normalizeMeta, QUANTITIES, SYNCED_KEYS } from "../src/store.js";
import { gateColumns } from "../src/views/gates.js";
import { HIGH, LOW, saturationFractions, saturationGates, saturationLayout } from "../src/views/saturation.js";
import { nativeIndex, weightsLayout } from "../src/views/weights.js";

const LSTM = ["h", "c", "i", "f", "g", "o"];
const GRU = ["h", "r", "z", "n"];

test("colour scales: r, z sequential 0..1 like i, f, o; n diverging like g", () => {
  for (const q of ["i", "f", "o", "r", "z"]) {
    assert.equal(isSigned(q), false, q);
    assert.deepEqual(scaleFor(q, [0.2, 0.7]), { map: "viridis", lo: 0, hi: 1, signed: false });
  }
  for (const q of ["h", "c", "g", "n"]) assert.equal(isSigned(q), true, q);
  assert.deepEqual(scaleFor("n", [-0.4, 0.8]), { map: "rdbu", lo: -0.8, hi: 0.8, signed: true });
});

test("gates view columns follow the quantities: LSTM i f g o c, GRU r z n h", () => {
  assert.deepEqual(
    gateColumns(LSTM).map((c) => c.q),
    ["i", "f", "g", "o", "c"],
  );
  assert.deepEqual(
    gateColumns(GRU).map((c) => c.q),
    ["r", "z", "n", "h"],
  );
  assert.deepEqual(
    gateColumns(GRU).map((c) => c.title),
    ["reset gate", "update gate", "candidate", "hidden state"],
  );
});

test("saturation panels: the gates squashed to [0, 1]", () => {
  assert.deepEqual(saturationGates(LSTM), ["i", "f", "o"]);
  assert.deepEqual(saturationGates(GRU), ["r", "z"]);
});

test("saturation fractions equal a direct count; thresholds compared in float32; NaN is not a step", () => {
  const T = 50;
  const U = 7;
  let seed = 3;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const data = Float32Array.from({ length: T * U }, () => rand());
  // Values at and beside the thresholds, as float32 (what numpy compares in).
  data[0] = Math.fround(0.1); // not < 0.1 in float32
  data[1] = Math.fround(0.9); // not > 0.9 in float32
  data[U] = 0.09999999; // below
  data[U + 1] = 0.90000004; // above
  const { left, right, steps } = saturationFractions(data, T, U);
  for (let u = 0; u < U; u++) {
    let below = 0;
    let above = 0;
    for (let t = 0; t < T; t++) {
      const v = data[t * U + u];
      if (v < Math.fround(LOW)) below++;
      if (v > Math.fround(HIGH)) above++;
    }
    assert.equal(steps[u], T);
    assert.equal(left[u], below / T, `left of unit ${u}`);
    assert.equal(right[u], above / T, `right of unit ${u}`);
  }
  const hand = saturationFractions(Float32Array.from([0.05, 0.95, 0.5, NaN, Math.fround(0.1), 0.95]), 3, 2);
  assert.deepEqual(Array.from(hand.left), [1 / 3, 0]);
  assert.deepEqual(Array.from(hand.right), [0, 1]);
  assert.deepEqual(Array.from(hand.steps), [3, 2]);
});

test("saturation layout: one square panel per gate inside the width, none overlapping", () => {
  for (const width of [240, 420, 900]) {
    const { panels, height, cols } = saturationLayout(width, 3);
    assert.equal(panels.length, 3);
    assert.ok(cols >= 1 && cols <= 3);
    for (const p of panels) {
      assert.equal(p.w, p.h);
      assert.ok(p.x0 >= 0 && p.x0 + p.size <= width + 1, `panel inside ${width}`);
      assert.ok(p.y + p.h <= height);
    }
    for (let a = 0; a < 3; a++) {
      for (let b = a + 1; b < 3; b++) {
        const [p, q] = [panels[a], panels[b]];
        const apart = p.x0 + p.size <= q.x0 || q.x0 + q.size <= p.x0 || p.y + p.h <= q.y0 || q.y + q.h <= p.y0;
        assert.ok(apart, `panels ${a} and ${b} overlap at width ${width}`);
      }
    }
  }
});

test("weights layout: activation, W, U, biases left to right inside the width; one row of panels per gate", () => {
  for (const [width, nb] of [
    [700, 1],
    [1000, 2],
    [420, 0],
  ]) {
    const lay = weightsLayout(width, { G: 4, U: 100, D: 12, P: 100, nb });
    assert.deepEqual(
      lay.columns.map((c) => c.kind),
      ["act", "W", "U", ...Array(nb).fill("b")],
    );
    for (let k = 1; k < lay.columns.length; k++) {
      assert.ok(lay.columns[k].x >= lay.columns[k - 1].x + lay.columns[k - 1].w, "columns do not overlap");
    }
    const last = lay.columns[lay.columns.length - 1];
    if (width >= 600) assert.ok(last.x + last.w <= width, `inside ${width}`);
    assert.equal(lay.rows.length, 4);
    assert.ok(lay.rows[3] + lay.rowH <= lay.height);
  }
});

test("native index: where a value lives in the framework's own arrays", () => {
  const shape = { W: { shape: [4, 10, 3] } };
  const e = (framework, names, biases, extra = {}) => ({
    ...shape,
    framework,
    names,
    biases,
    gates: ["a", "b", "c", "d"],
    ...extra,
  });
  const torch = e("pytorch", { W: "weight_ih", U: "weight_hh" }, ["bias_ih + bias_hh"]);
  assert.equal(nativeIndex(torch, "W", 2, 7, 1), "weight_ih[27, 1]");
  assert.equal(nativeIndex(torch, "U", 3, 0, 9), "weight_hh[30, 9]");
  assert.equal(nativeIndex(torch, "b", 1, 4), "bias_ih[14] + bias_hh[14]");
  const keras = e("keras", { W: "kernel", U: "recurrent_kernel" }, ["bias"]);
  assert.equal(nativeIndex(keras, "W", 2, 7, 1), "kernel[1, 27]");
  assert.equal(nativeIndex(keras, "b", 2, 7), "bias[27]");
  const kerasGru = e("keras", { W: "kernel", U: "recurrent_kernel" }, ["bias[0]", "bias[1]"], {
    gates: ["z", "r", "h"],
  });
  assert.equal(nativeIndex(kerasGru, "b", 1, 2, 0, 1), "bias[1, 12]");
  const onnx = e("onnx", { W: "W", U: "R" }, ["Wb + Rb"], { direction: 1 });
  assert.equal(nativeIndex(onnx, "U", 1, 2, 5), "R[1, 12, 5]");
  assert.equal(nativeIndex(onnx, "b", 1, 2), "B[1, 12] + B[1, 52]");
});

test("meta: GRU quantities give cell gru; every quantity has a data trait; gate_details is synced", () => {
  assert.equal(normalizeMeta({ quantities: GRU }).cell, "gru");
  assert.equal(normalizeMeta({ quantities: LSTM }).cell, "lstm");
  assert.deepEqual(normalizeMeta({}).quantities, LSTM);
  for (const q of [...LSTM, ...GRU]) assert.ok(QUANTITIES.includes(q), q);
  assert.ok(SYNCED_KEYS.includes("gate_details"));
  const store = createStore();
  store.set({ gate_details: 1 }, "model");
  assert.equal(store.snapshot().gate_details, true);
});

test("store: GRU data by its own quantity names; an append of a quantity not loaded yet is dropped", () => {
  const meta = {
    n_sequences: 1,
    lengths: [2],
    offsets: [0, 2],
    layer_names: ["layer0"],
    quantities: GRU,
    cell: "gru",
    units: { h: 2, r: 2, z: 2, n: 2 },
    feature_names: ["x"],
  };
  const arrays = {
    h: encodeArray([1, 2, 3, 4], [1, 2, 2], "float32"),
    r: encodeArray([0.1, 0.2, 0.3, 0.4], [1, 2, 2], "float32"),
    inputs: encodeArray([0, 1], [2, 1], "float32"),
  };
  const store = createStore({ meta, arrays });
  assert.equal(store.value("r", 0, 0, 1, 0), Math.fround(0.3));
  assert.ok(store.pending("z") && store.pending("n") && !store.pending("c"));
  assert.deepEqual(store.limits("n"), [0, 0]);
  const fields = [];
  const buffers = [];
  for (const [name, values, shape] of [
    ["h", [5, 6], [1, 1, 2]],
    ["z", [0.5, 0.5], [1, 1, 2]],
    ["inputs", [2], [1, 1]],
  ]) {
    const enc = encodeArray(values, shape, "float32");
    buffers.push(enc.buffer);
    delete enc.buffer;
    fields.push({ name, ...enc });
  }
  store.applyMessage({ type: "append", sequence: 0, start: 2, fields }, buffers);
  assert.equal(store.length(0), 3);
  assert.equal(store.has("z"), false, "z is not loaded: its trait brings all of it");
  assert.ok(Number.isNaN(store.value("r", 0, 0, 2, 0)), "r gets a NaN row for the new step");
});

test("store: weights decoded per layer row", () => {
  const store = createStore();
  const G = 4;
  const U = 2;
  const W = Float32Array.from({ length: G * U * 3 }, (_, k) => k);
  const R = Float32Array.from({ length: G * U * U }, (_, k) => -k);
  const b = Float32Array.from({ length: G * U }, (_, k) => k / 10);
  let seen = null;
  store.subscribe((changes) => (seen = [...changes]));
  store.loadWeights({
    rows: {
      1: {
        row: 1,
        layer_name: "layer0_reverse",
        direction: 1,
        cell: "lstm",
        framework: "keras",
        gates: ["i", "f", "c", "o"],
        ours: ["i", "f", "g", "o"],
        names: { W: "kernel", U: "recurrent_kernel" },
        biases: ["bias"],
        W: encodeArray(W, [G, U, 3], "float32"),
        U: encodeArray(R, [G, U, U], "float32"),
        b: encodeArray(b, [1, G, U], "float32"),
      },
      2: { row: 2, W: {} }, // broken entries are skipped
    },
  });
  assert.deepEqual(seen, ["weights"]);
  assert.equal(store.weights(0), null);
  assert.equal(store.weights(2), null);
  const e = store.weights(1);
  assert.deepEqual(e.gates, ["i", "f", "c", "o"]);
  assert.deepEqual(e.W.shape, [G, U, 3]);
  assert.deepEqual(Array.from(e.W.data), Array.from(W));
  assert.deepEqual(e.b.shape, [1, G, U]);
  const v = store.weightsVersion;
  store.loadWeights({});
  assert.equal(store.weights(1), null);
  assert.ok(store.weightsVersion > v);
});
