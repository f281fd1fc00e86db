import assert from "node:assert/strict";
import { test } from "node:test";
import { block } from "../dev/blocks.js";
import { encodeArray } from "../dev/encode.js";
import { createStore } from "../src/store.js";
import {
  addIntervention,
  brushRange,
  canonical,
  classRanking,
  comparedSeries,
  decodeComparison,
  decodeInfluence,
  decodePatterns,
  decodeRanking,
  describeEntry,
  differenceBlock,
  influenceRow,
  interventionEntry,
  isEmpty,
  maxAbs,
  perLag,
  rankUnits,
  sameRequest,
  topIndices,
} from "../src/why.js";

test("requests compare by content, not key order", () => {
  assert.equal(canonical({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  assert.ok(sameRequest({ kind: "compare", sequence: 1, other: 2 }, { other: 2, sequence: 1, kind: "compare" }));
  assert.ok(!sameRequest({ start: 1 }, { start: 2 }));
  assert.ok(sameRequest(null, {}));
  assert.ok(isEmpty({}) && isEmpty(null) && !isEmpty({ a: 1 }));
});

test("influence decodes and each step's row and per-lag sums are Influence.per_lag / per_lag_abs", () => {
  const T = 3;
  const D = 2;
  // values[t][s][d] = (t + 1) * (s - 1) * (d + 1): signs differ per step
  const values = [];
  for (let t = 0; t < T; t++)
    for (let s = 0; s < T; s++) for (let d = 0; d < D; d++) values.push((t + 1) * (s - 1) * (d + 1));
  const inf = decodeInfluence({
    sequence: 4,
    method: "gradient_x_input",
    output: "logit",
    values: encodeArray(values, [T, T, D]),
    f_x: encodeArray([0.5, 1, 1.5], [T]),
    targets: encodeArray([2, 2, 1], [T], "int32"),
  });
  assert.equal(inf.sequence, 4);
  assert.equal(inf.T, 3);
  assert.equal(inf.D, 2);
  assert.equal(inf.error, null);
  assert.equal(inf.f_baseline, null);
  assert.deepEqual(Array.from(inf.targets), [2, 2, 1]);
  const row = influenceRow(inf, 2);
  assert.deepEqual(Array.from(row), [-3, -6, 0, 0, 3, 6]);
  const { signed, abs } = perLag(row, T, D, 2);
  // lag 0 = step 2, lag 1 = step 1, lag 2 = step 0
  assert.deepEqual(Array.from(signed), [9, 0, -9]);
  assert.deepEqual(Array.from(abs), [9, 0, 9]);
  assert.equal(perLag(influenceRow(inf, 0), T, D, 0).signed.length, 1);
  assert.equal(maxAbs(row), 6);
  assert.equal(maxAbs(new Float32Array([NaN, -2])), 2);
});

test("influence errors and bad shapes say so", () => {
  assert.equal(decodeInfluence({}), null);
  const e = decodeInfluence({ sequence: 0, method: "integrated_gradients", error: "the model has no head" });
  assert.equal(e.error, "the model has no head");
  assert.equal(e.values, null);
  const bad = decodeInfluence({ sequence: 0, method: "m", values: encodeArray([1, 2], [1, 2]) });
  assert.equal(bad.error, "no influence values");
});

test("topIndices: highest first, ties to the lower index, NaN last", () => {
  assert.deepEqual(topIndices([0.2, 0.9, NaN, 0.9, -1], 5), [1, 3, 0, 4, 2]);
  assert.deepEqual(topIndices([1, 2, 3], 2), [2, 1]);
  assert.deepEqual(topIndices([1], 5), [0]);
});

test("rankUnits equals rank_units' rules: abs, mean, max, absmax; one step (negative from the end) or all", () => {
  const { data, T, U } = block([
    [0.1, -0.2, 0.3, 0.0], // unit 0: mean |a| 0.15, mean 0.05, max 0.3, max|a| 0.3
    [-0.9, 0.0, 0.0, 0.1], // unit 1: mean |a| 0.25, mean -0.2, max 0.1, max|a| 0.9
    [0.5, 0.5, -0.5, 0.2], // unit 2: mean |a| 0.425, mean 0.175, max 0.5, max|a| 0.5
  ]);
  const f = (x) => Math.fround(x);
  let r = rankUnits(data, T, U, { by: "abs" });
  assert.deepEqual(r.units, [2, 1, 0]);
  assert.ok(Math.abs(r.scores[0] - (f(0.5) * 3 + f(0.2)) / 4) < 1e-15);
  assert.deepEqual(rankUnits(data, T, U, { by: "mean" }).units, [2, 0, 1]);
  assert.deepEqual(rankUnits(data, T, U, { by: "max" }).units, [2, 0, 1]);
  assert.deepEqual(rankUnits(data, T, U, { by: "absmax" }).units, [1, 2, 0]);
  r = rankUnits(data, T, U, { t: 0, by: "abs", k: 2 });
  assert.deepEqual(r.units, [1, 2]);
  assert.deepEqual(r.scores, [f(0.9), f(0.5)]);
  assert.deepEqual(rankUnits(data, T, U, { t: -1, by: "abs" }).units, [2, 1, 0]); // last step: 0, 0.1, 0.2
  // ties go to the lower unit
  const tie = block([
    [1, 1],
    [-1, -1],
    [1, 1],
  ]);
  assert.deepEqual(rankUnits(tie.data, tie.T, tie.U, { by: "abs" }).units, [0, 1, 2]);
  assert.throws(() => rankUnits(data, T, U, { t: 4 }), /out of range/);
  // NaN propagates through max like numpy's, and sorts last
  const nan = block([
    [1, NaN],
    [0.5, 0.5],
  ]);
  const m = rankUnits(nan.data, nan.T, nan.U, { by: "max" });
  assert.deepEqual(m.units, [1, 0]);
  assert.ok(Number.isNaN(m.all[0]));
});

test("per-class ranking decodes and picks a class's row", () => {
  const r = decodeRanking({
    layer: 1,
    quantity: "h",
    by: "t",
    classes: [0, 3],
    units: encodeArray([4, 1, 2, 0], [2, 2], "int32"),
    scores: encodeArray([2.5, 1, 3, -1], [2, 2]),
  });
  assert.equal(r.k, 2);
  assert.deepEqual(classRanking(r, 3), { units: [2, 0], scores: [3, -1] });
  assert.deepEqual(classRanking(r, 5), { units: [], scores: [] });
  assert.equal(decodeRanking({ layer: 0, quantity: "c", error: "needs labels" }).error, "needs labels");
});

test("comparison decodes; the difference is other − original over the common steps, NaN after", () => {
  const cmp = decodeComparison({
    request: { kind: "compare", sequence: 0, other: 1 },
    kind: "compare",
    sequence: 0,
    names: ["a", "b"],
    description: "a against b",
    length: 2,
    probs: encodeArray([0.2, 0.8, 0.6, 0.4], [2, 2]),
    traj: encodeArray([0, 0, 1, 1], [2, 2]),
    data: { h: encodeArray([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]) },
  });
  assert.equal(cmp.kind, "compare");
  assert.deepEqual(cmp.names, ["a", "b"]);
  const s = comparedSeries(cmp, "h", 1);
  assert.deepEqual(Array.from(s.data), [5, 6, 7, 8]);
  assert.equal(comparedSeries(cmp, "c", 0), null);
  const orig = new Float32Array([1, 1, 2, 2, 3, 3]); // 3 steps
  const d = differenceBlock(orig, 3, s.data, 2, 2);
  assert.equal(d.common, 2);
  assert.deepEqual(Array.from(d.data.subarray(0, 4)), [4, 5, 5, 6]);
  assert.ok(Number.isNaN(d.data[4]) && Number.isNaN(d.data[5]));
  assert.equal(d.max, 6);
});

test("patterns decode; brushes become half-open ranges clamped to the sequence", () => {
  const p = decodePatterns({
    query: { sequence: 0, start: 1, stop: 3, threshold: 0.3 },
    units: [4, 7],
    matches: [{ sequence: 2, start: 5, stop: 7, score: 1, jaccard: 1, length_match: 1 }],
  });
  assert.deepEqual(p.units, [4, 7]);
  assert.equal(p.matches[0].stop, 7);
  assert.deepEqual(brushRange(5, 2, 10), { start: 2, stop: 6 });
  assert.deepEqual(brushRange(-3, 40, 10), { start: 0, stop: 10 });
});

test("intervention requests: the kernel's key order, appended on the same sequence, described like the kernel", () => {
  const e = interventionEntry({ quantity: "h", layer: "layer0", unit: 17, start: 5, op: "zero", value: 3 });
  assert.deepEqual(Object.keys(e), ["quantity", "layer", "units", "start", "stop", "op", "value"]);
  assert.deepEqual(e, { quantity: "h", layer: "layer0", units: [17], start: 5, stop: null, op: "zero", value: null });
  const first = addIntervention({}, 2, e);
  assert.deepEqual(first, { kind: "intervention", sequence: 2, interventions: [e] });
  const c = interventionEntry({ quantity: "c", layer: "layer1", unit: 3, start: 0, op: "clamp", value: 0.5 });
  assert.equal(addIntervention(first, 2, c).interventions.length, 2);
  assert.equal(addIntervention(first, 3, c).interventions.length, 1); // another sequence starts over
  assert.equal(addIntervention({ kind: "compare", sequence: 2, other: 1 }, 2, c).interventions.length, 1);
  // the same text as lstm_widget._why.describe_intervention
  assert.equal(describeEntry(e), "zero layer0.h[17] from t=5");
  assert.equal(describeEntry(c), "clamp at 0.5 layer1.c[3] from t=0");
  assert.equal(describeEntry({ ...c, op: "scale", value: 2, stop: 1 }), "scale ×2 layer1.c[3] at t=0");
});

test("store: the Why traits are synced keys; kernel results live in aux slots", () => {
  const store = createStore();
  const seen = [];
  store.subscribe((changes) => seen.push([...changes]));
  store.set({
    comparison: { kind: "compare", sequence: 0, other: 1 },
    why_open: true,
    influence_method: "integrated_gradients",
  });
  const snap = store.snapshot();
  assert.equal(snap.why_open, true);
  assert.equal(snap.influence_method, "integrated_gradients");
  assert.deepEqual(snap.comparison, { kind: "compare", sequence: 0, other: 1 });
  store.set({ comparison: { kind: "compare", sequence: 0, other: 1 } }); // same content: no change
  assert.equal(seen.length, 1);
  store.set({ pattern_query: null });
  assert.deepEqual(store.snapshot().pattern_query, {});
  store.setAux("_patterns", { units: [1] });
  assert.deepEqual(store.aux("_patterns"), { units: [1] });
  assert.equal(store.auxVersion("_patterns"), 1);
  assert.equal(store.aux("_influence"), null);
  assert.ok(seen.at(-1).includes("aux:_patterns"));
});
