// Dev/test helper (not bundled): a small explorer state and the kernel's append messages, as js/PROTOCOL.md
// describes them, for the store and stream tests.
import { encodeArray } from "./encode.js";

/** Two sequences (T = 3, 2), L = 1, U = 2, D = 1; value = 10 * row + unit. */
export function twoSequences() {
  const lengths = [3, 2];
  const sumT = 5;
  const h = Float32Array.from({ length: sumT * 2 }, (_, k) => 10 * Math.floor(k / 2) + (k % 2));
  const inputs = Float32Array.from({ length: sumT }, (_, r) => r / 10);
  const traj = Float32Array.from({ length: sumT * 2 }, (_, k) => k);
  return {
    meta: {
      n_sequences: 2,
      lengths,
      offsets: [0, 3, 5],
      labels: [1, null],
      class_names: ["a", "b"],
      feature_names: ["x"],
      layer_names: ["layer0"],
      quantities: ["h"],
      units: { h: 2 },
      has_head: false,
      n_classes: 2,
      limits: { h: [0, 41] },
      projection: { name: "PCA", dims: 2, layer: 0, quantity: "h" },
      sequence_names: ["first", "second"],
    },
    arrays: {
      h: encodeArray(h, [1, sumT, 2], "float32"),
      inputs: encodeArray(inputs, [sumT, 1], "float32"),
      traj: encodeArray(traj, [sumT, 2], "float32"),
    },
  };
}

/** An append message: k steps of h (1, k, 2) and inputs (k, 1), as the kernel sends them; `byteOffset` places each
 * buffer inside a larger one, as ipywidgets may deliver it. */
export function appendMsg(sequence, start, hValues, inputValues, { byteOffset = 0 } = {}) {
  const k = inputValues.length;
  const fields = [];
  const buffers = [];
  for (const [name, values, shape] of [
    ["h", hValues, [1, k, 2]],
    ["inputs", inputValues, [k, 1]],
  ]) {
    const e = encodeArray(values, shape, "float32", { byteOffset });
    buffers.push(e.buffer);
    delete e.buffer;
    fields.push({ name, ...e });
  }
  return [{ type: "append", sequence, start, fields }, buffers];
}
