import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeState, fromBase64, offlineModel } from "../src/offline.js";

test("base64 buffers decode into DataViews with the right bytes", () => {
  const f = new Float32Array([1.5, -2, 3.25]);
  const b64 = Buffer.from(f.buffer).toString("base64");
  const state = decodeState({ _arrays: { inputs: { buffer: { $b64: b64 }, dtype: "float32", shape: [3] } }, t: 2 });
  const view = state._arrays.inputs.buffer;
  assert.ok(view instanceof DataView);
  assert.equal(view.byteLength, 12);
  assert.deepEqual(
    [0, 1, 2].map((k) => view.getFloat32(4 * k, true)),
    [1.5, -2, 3.25],
  );
  assert.equal(state.t, 2);
  assert.deepEqual([...fromBase64("AAH/")], [0, 1, 255]);
});

test("objects that merely contain $b64 among other keys are left as they are", () => {
  assert.deepEqual(decodeState({ $b64: "AA==", x: 1 }), { $b64: "AA==", x: 1 });
  assert.deepEqual(decodeState([{ a: [1, "s", null] }]), [{ a: [1, "s", null] }]);
});

test("the offline model fires change events on set, not when silent, and forgets removed listeners", () => {
  const m = offlineModel({ t: 0, quantity: "h" });
  const seen = [];
  const fn = () => seen.push(m.get("t"));
  m.on("change:t", fn);
  m.set("t", 4);
  m.set("t", 4); // unchanged: no event
  m.set("t", 5, { silent: true });
  m.save_changes();
  m.off("change:t", fn);
  m.set("t", 6);
  assert.deepEqual(seen, [4]);
  assert.equal(m.get("t"), 6);
  assert.equal(m.get("quantity"), "h");
  assert.equal(m.get("missing"), undefined);
  assert.equal(m.offline, true);
});
