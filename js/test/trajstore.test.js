import assert from "node:assert/strict";
import { test } from "node:test";
import { createStore, normalizeMeta, SYNCED_KEYS } from "../src/store.js";

const meta = {
  n_sequences: 2,
  lengths: [2, 1],
  labels: [0, 1],
  class_names: ["a", "b"],
  layer_names: ["layer0", "layer1"],
  groups: { name: "hands", values: ["one", 2] },
};

test("the trajectory traits are synced keys", () => {
  for (const k of ["projection_layer", "projection_quantity", "traj_view"]) assert.ok(SYNCED_KEYS.includes(k), k);
});

test("_meta.groups: values as strings, padded to n_sequences; absent or malformed -> null", () => {
  assert.deepEqual(normalizeMeta(meta).groups, { name: "hands", values: ["one", "2"] });
  assert.deepEqual(normalizeMeta({ ...meta, groups: { values: ["x"] } }).groups, {
    name: "group",
    values: ["x", null],
  });
  assert.equal(normalizeMeta({ ...meta, groups: null }).groups, null);
  assert.equal(normalizeMeta({ ...meta, groups: { name: "g" } }).groups, null);
  assert.equal(normalizeMeta({ lengths: [1] }).groups, null);
});

test("a begun sequence has no group", () => {
  const store = createStore({ meta });
  store.beginSequence(2, { name: "live" });
  assert.deepEqual(store.meta.groups.values, ["one", "2", null]);
});

test("traj_view: kept as given from the model, replaced (deep-compared) from the page", () => {
  const store = createStore({ meta });
  const seen = [];
  store.subscribe((changes, source) => seen.push([[...changes].join(","), source]));
  store.set({ traj_view: { dims: 7, extra: 1 } }, "model");
  assert.deepEqual(store.snapshot().traj_view, { dims: 7, extra: 1 });
  store.set({ traj_view: { dims: 7, extra: 1 } }, "model"); // same content: no change
  store.set({ traj_view: { dims: 3, yaw: 0.5 } });
  store.set({ traj_view: [1, 2] }); // not an object: ignored
  store.set({ traj_view: null });
  assert.deepEqual(store.state.traj_view, { dims: 3, yaw: 0.5 });
  assert.deepEqual(seen, [
    ["traj_view", "model"],
    ["traj_view", "ui"],
  ]);
});

test("projection_layer / projection_quantity: null until set; page values clamped, model values kept", () => {
  const store = createStore({ meta });
  assert.equal(store.snapshot().projection_layer, null);
  assert.equal(store.snapshot().projection_quantity, null);
  store.set({ projection_layer: 9 });
  assert.equal(store.state.projection_layer, 1);
  store.set({ projection_layer: 9 }, "model");
  assert.equal(store.state.projection_layer, 9);
  store.set({ projection_quantity: "zz" });
  assert.equal(store.state.projection_quantity, null);
  store.set({ projection_quantity: "c" });
  assert.equal(store.state.projection_quantity, "c");
  store.set({ projection_quantity: "zz" }, "model");
  assert.equal(store.snapshot().projection_quantity, "zz");
});
