import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeArray } from "../dev/encode.js";
import {
  decodeFixedPoints,
  describeFixedPoint,
  fixedPointsPending,
  fixedPointsSummary,
  nearestFixedPoint,
  notDrawnReason,
  placeFixedPoints,
  shortNumber,
} from "../src/fixedpoints.js";
import { makeFrame, projectPoint } from "../src/traj3d.js";

const PROJECTION = { name: "PCA", dims: 2, layer: 1, quantity: "h" };

function payload() {
  return {
    request: { sequence: 2, layer: 1 },
    layer: 1,
    layer_name: "layer1",
    quantity: "h",
    n: 2,
    counts: { stable: 1, unstable: 1, slow: 0 },
    inputs: 2,
    about: "the mean input of sequence 2",
    projection: PROJECTION,
    dims: 2,
    points: encodeArray([0.5, -1, 2, 3], [2, 2]),
    ends: encodeArray([0.4, -1.1, 0.6, -0.9, 2, 2.5, 2, 3.5], [2, 2, 2]),
    kinds: ["stable", "unstable"],
    q: encodeArray([1e-20, 3e-12], [2]),
    radius: encodeArray([0.5, 1.25], [2]),
    input_index: encodeArray([0, 1], [2], "int32"),
    h_share: encodeArray([1, 0.25], [2]),
    segment: 0.1,
  };
}

test("the payload decodes to points, segment ends, kinds, q and max |λ|", () => {
  const fp = decodeFixedPoints(payload());
  assert.equal(fp.n, 2);
  assert.deepEqual(Array.from(fp.points), [0.5, -1, 2, 3]);
  assert.equal(fp.ends.length, 8);
  assert.deepEqual(fp.kinds, ["stable", "unstable"]);
  assert.deepEqual(Array.from(fp.inputIndex), [0, 1]);
  assert.equal(decodeFixedPoints({}), null);
  const refused = decodeFixedPoints({ request: { sequence: 0 }, error: "fixed points need the model" });
  assert.equal(refused.n, 0);
  assert.equal(notDrawnReason(refused, PROJECTION), "fixed points need the model");
});

test("points and segment ends go through the paths' frame, 2-D, log1p and 3-D alike", () => {
  const fp = decodeFixedPoints(payload());
  const data = new Float32Array([-2, -2, 4, 4]);
  for (const opts of [{ dims: 2 }, { dims: 2, log: true }]) {
    const frame = makeFrame(data, 2, 2, { ...opts, W: 200, H: 100, pad: 10 });
    const placed = placeFixedPoints(fp, frame);
    assert.equal(placed.length, 2);
    const p = projectPoint(frame, 2, 3);
    assert.deepEqual([placed[1].x, placed[1].y], [p.x, p.y]);
    const b = projectPoint(frame, 2, 3.5);
    assert.deepEqual([placed[1].bx, placed[1].by], [b.x, b.y]);
  }
  const fp3 = decodeFixedPoints({
    ...payload(),
    dims: 3,
    points: encodeArray([0, 0, 1, 1, 1, -1], [2, 3]),
    ends: encodeArray(new Array(12).fill(0), [2, 2, 3]),
  });
  const frame3 = makeFrame(new Float32Array([-1, -1, -1, 1, 1, 1]), 2, 3, { dims: 3, yaw: 0.5, pitch: 0.3 });
  const placed3 = placeFixedPoints(fp3, frame3);
  const q = projectPoint(frame3, 1, 1, -1);
  const hit = placed3.find((p) => p.i === 1);
  assert.ok(Math.abs(hit.x - q.x) < 1e-9 && Math.abs(hit.y - q.y) < 1e-9);
  assert.ok(placed3[0].d <= placed3[1].d, "far ones are drawn first");
});

test("hover finds the nearest point and names its kind, q and the largest |λ|", () => {
  const fp = decodeFixedPoints(payload());
  const placed = [
    { i: 0, x: 10, y: 10 },
    { i: 1, x: 40, y: 10 },
  ];
  assert.equal(nearestFixedPoint(placed, 38, 12), 1);
  assert.equal(nearestFixedPoint(placed, 25, 30), -1);
  assert.equal(
    describeFixedPoint(fp, 1),
    "unstable fixed point · q 3.00e-12 · max |λ| 1.25 · eigenvector 25% in h · input 1",
  );
  assert.equal(describeFixedPoint(fp, 0), "stable fixed point · q 1.00e-20 · max |λ| 0.5 · input 0");
  assert.equal(
    fixedPointsSummary(fp),
    "fixed points of layer1 for the mean input of sequence 2: 1 stable · 1 unstable",
  );
  assert.equal(shortNumber(0), "0");
});

test("a request is pending until the payload answers it; a refitted map hides the points", () => {
  const fp = decodeFixedPoints(payload());
  assert.equal(fixedPointsPending({}, fp), false);
  assert.equal(fixedPointsPending({ layer: 1, sequence: 2 }, fp), false);
  assert.equal(fixedPointsPending({ sequence: 3, layer: 1 }, fp), true);
  assert.equal(fixedPointsPending({ sequence: 3 }, null), true);
  assert.equal(notDrawnReason(fp, PROJECTION), "");
  assert.match(notDrawnReason(fp, { ...PROJECTION, quantity: "c" }), /refitted/);
});
