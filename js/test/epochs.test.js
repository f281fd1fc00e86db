// The epoch axis' pure parts (views/epochs.js) and the offline model's epoch swap (offline.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { offlineModel } from "../src/offline.js";
import { epochKeyStep, stepEpoch, trainingInfo } from "../src/views/epochs.js";

test("trainingInfo reads _meta.training, NaN for a missing metric, null without one", () => {
  const info = trainingInfo({ epochs: [0, 2, 4], metrics: { loss: [1, null, 0.5] }, epoch: 2 });
  assert.deepEqual(info.epochs, [0, 2, 4]);
  assert.equal(info.epoch, 2);
  assert.equal(info.index, 1);
  assert.equal(info.metrics[0][0], "loss");
  assert.ok(Number.isNaN(info.metrics[0][1][1]));
  assert.equal(info.metrics[0][1][2], 0.5);
  assert.equal(trainingInfo(null), null);
  assert.equal(trainingInfo({ epochs: [] }), null);
});

test("stepEpoch moves by recorded epochs and clamps; [ and ] are the keys", () => {
  assert.equal(stepEpoch([0, 2, 4], 2, 1), 4);
  assert.equal(stepEpoch([0, 2, 4], 4, 1), 4);
  assert.equal(stepEpoch([0, 2, 4], 0, -1), 0);
  assert.equal(stepEpoch([0, 2, 4], 7, 1), 2);
  assert.equal(epochKeyStep("]"), 1);
  assert.equal(epochKeyStep("["), -1);
  assert.equal(epochKeyStep("a"), null);
});

test("the offline model swaps an epoch's data traits in when epoch is set", () => {
  const model = offlineModel({
    epoch: 1,
    _meta: { training: { epoch: 1 } },
    _epoch_states: { 0: { _meta: { training: { epoch: 0 } }, _data_h: { dtype: "float32" } } },
  });
  const seen = [];
  model.on("change:_meta", () => seen.push("_meta"));
  model.on("change:_data_h", () => seen.push("_data_h"));
  model.set("epoch", 0);
  assert.equal(model.get("_meta").training.epoch, 0);
  assert.deepEqual(seen, ["_meta", "_data_h"]);
  model.set("epoch", 5); // not exported: nothing swapped
  assert.equal(model.get("_meta").training.epoch, 0);
});

test("the offline model starts with the shown epoch's data traits from _epoch_states", () => {
  const model = offlineModel({
    epoch: 1,
    _epoch_states: {
      0: { _meta: { training: { epoch: 0 } }, _data_h: { dtype: "float32" } },
      1: { _meta: { training: { epoch: 1 } }, _data_h: { dtype: "float16" } },
    },
  });
  assert.equal(model.get("_meta").training.epoch, 1);
  assert.equal(model.get("_data_h").dtype, "float16");
  model.set("epoch", 0);
  model.set("epoch", 1);
  assert.equal(model.get("_data_h").dtype, "float16", "back to the shown epoch");
});
