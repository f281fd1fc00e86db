import assert from "node:assert/strict";
import { test } from "node:test";
import { blankRanges, stageRules, stagesText } from "../src/stages.js";
import { effectiveView, fillView, valueBins, valueRange } from "../src/traj3d.js";
import { errorAt, MAX_LINES, outputColumns } from "../src/views/outputs.js";

const STAGES = [
  { module: "encoder", start: 0, stop: 6 },
  { module: "decoder", start: 6, stop: 10 },
];

test("stage rules: one at each stage's first step after 0, inside the window only", () => {
  assert.deepEqual(stageRules(STAGES, 0, 10), [{ step: 6, module: "decoder" }]);
  assert.deepEqual(stageRules(STAGES, 7, 10), []); // zoomed past the boundary
  assert.deepEqual(stageRules(STAGES, 6, 8), [{ step: 6, module: "decoder" }]);
  assert.deepEqual(stageRules([], 0, 10), []);
  assert.deepEqual(stageRules(null, 0, 10), []);
  assert.equal(stagesText(STAGES), "encoder:0-6,decoder:6-10");
  assert.equal(stagesText([]), "");
});

test("blank ranges: the runs of steps where every unit is NaN", () => {
  const U = 2;
  const data = new Float32Array(10 * U).fill(NaN);
  for (let t = 6; t < 10; t++) data.fill(t, t * U, (t + 1) * U);
  data[2 * U + 1] = 0.5; // one unit with a value at step 2: not blank
  assert.equal(blankRanges(data, U, 0, 10), "0-2,3-6");
  assert.equal(blankRanges(data, U, 4, 8), "4-6");
  assert.equal(blankRanges(data, U, 6, 10), "");
});

test("outputs: predictions and targets side by side, the error at t, NaN where either is missing", () => {
  const pred = { data: Float32Array.from([1, 10, 2, 20, 3, 30]), rows: 3, cols: 2 };
  const target = { data: Float32Array.from([0.5, NaN, 2.5, 19, NaN, 31]), rows: 3, cols: 2 };
  const b = outputColumns(pred, target, [0, 1]);
  assert.equal(b.cols, 4);
  assert.deepEqual(Array.from(b.data.subarray(0, 4)), [1, 0.5, 10, NaN]);
  assert.equal(errorAt(b, 0, 0), 0.5);
  assert.ok(Number.isNaN(errorAt(b, 0, 1)));
  assert.equal(errorAt(b, 1, 1), 1);
  assert.ok(Number.isNaN(errorAt(b, 2, 0)));
  assert.ok(Number.isNaN(errorAt(b, 5, 0))); // past the end
  // one output picked of many; no targets: the target columns stay NaN
  const one = outputColumns(pred, null, [1]);
  assert.deepEqual(Array.from(one.data), [10, NaN, 20, NaN, 30, NaN]);
  assert.equal(MAX_LINES, 4);
});

test("traj colour by target / output: offered only with the data, value bins skip NaN", () => {
  assert.equal(fillView({ color: "target" }).color, "target");
  assert.equal(fillView({ color: "output" }).color, "output");
  const view = (color) => fillView({ color });
  assert.equal(effectiveView(view("target"), { hasTargets: true }).color, "target");
  assert.equal(effectiveView(view("target"), { hasOutputs: true }).color, "output");
  assert.equal(effectiveView(view("target"), {}).color, "time");
  assert.equal(effectiveView(view("output"), { hasTargets: true }).color, "time");
  const data = Float32Array.from([0, NaN, 1, 0.5, 2]);
  assert.deepEqual(valueRange(data, 5, 1, 0), [0, 2]);
  assert.deepEqual(valueRange(Float32Array.from([3, 3]), 2, 1, 0), [2.5, 3.5]);
  assert.deepEqual(valueRange(Float32Array.from([NaN]), 1, 1, 0), [0, 1]);
  assert.deepEqual(Array.from(valueBins(data, 5, 1, 0, 0, 2, 4)), [0, -1, 2, 1, 3]);
});
