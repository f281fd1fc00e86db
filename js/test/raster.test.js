import assert from "node:assert/strict";
import { test } from "node:test";
import { LUT_SIZE, lut } from "../src/colormap.js";
import { bilinear, blend, imagePixels, mapPixels } from "../src/raster.js";
import { gridScale, rankedChannels } from "../src/views/channelgrid.js";

const close = (a, b, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test("bilinear 2x2 -> 4x4 matches torch.nn.functional.interpolate(align_corners=False)", () => {
  // torch: F.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(4, 4), mode="bilinear", align_corners=False)
  const expected = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]; // prettier-ignore
  close(bilinear([0, 1, 2, 3], 2, 2, 4, 4), expected);
});

test("bilinear: a non-square upscale, a downscale, an offset, and the identity", () => {
  // torch: interpolate(tensor([[[[0., 1., 2.]]]]), size=(2, 5)) -> each row [0, 0.4, 1, 1.6, 2]
  close(bilinear([0, 1, 2], 1, 3, 2, 5), [0, 0.4, 1, 1.6, 2, 0, 0.4, 1, 1.6, 2], 1e-6);
  // torch: interpolate(tensor([[[[0., 1., 2., 3.]]]]), size=(1, 2)) -> [0.5, 2.5]
  close(bilinear([0, 1, 2, 3], 1, 4, 1, 2), [0.5, 2.5]);
  // the second of two 1x2 maps stored one after the other
  close(bilinear([9, 9, 4, 8], 1, 2, 1, 2, 2), [4, 8]);
  const src = Float32Array.from({ length: 12 }, (_, i) => i * 0.5);
  close(bilinear(src, 3, 4, 3, 4), src);
});

test("mapPixels colours values through a table; NaN is transparent, out of range clamps", () => {
  const table = lut("viridis");
  const px = mapPixels([0, 1, NaN, 5, 0.5], 4, 0, 1, table, 1);
  assert.equal(px.length, 16);
  assert.deepEqual([...px.subarray(0, 4)], [...table.subarray(4 * (LUT_SIZE - 1), 4 * LUT_SIZE - 1), 255]);
  assert.deepEqual([...px.subarray(4, 8)], [0, 0, 0, 0]);
  assert.deepEqual([...px.subarray(8, 12)], [...px.subarray(0, 4)]);
  assert.equal(px[15], 255);
  const low = mapPixels([0], 1, 0, 1, table);
  assert.deepEqual([...low], [...table.subarray(0, 3), 255]);
});

test("imagePixels: grey and RGB images resized by nearest neighbour", () => {
  const grey = imagePixels([0, 1, 0.5, 0], [2, 2], 4, 4);
  assert.equal(grey.length, 64);
  assert.deepEqual([...grey.subarray(0, 4)], [0, 0, 0, 255]); // (0, 0) <- (0, 0)
  assert.deepEqual([...grey.subarray(4 * 3, 4 * 4)], [255, 255, 255, 255]); // (0, 3) <- (0, 1)
  assert.deepEqual([...grey.subarray(4 * 8, 4 * 9)], [128, 128, 128, 255]); // (2, 0) <- (1, 0): 127.5 rounds up
  const rgb = imagePixels([1, 0, 0, 0, 0, 1], [1, 2, 3], 1, 2);
  assert.deepEqual([...rgb], [255, 0, 0, 255, 0, 0, 255, 255]);
});

test("blend mixes by opacity; a transparent overlay pixel leaves the base", () => {
  const base = new Uint8ClampedArray([0, 0, 0, 255, 100, 100, 100, 255]);
  const over = new Uint8ClampedArray([200, 100, 0, 255, 0, 0, 0, 0]);
  assert.deepEqual([...blend(base, over, 0.5)], [100, 50, 0, 255, 100, 100, 100, 255]);
  assert.deepEqual([...blend(base, over, 0)], [...base]);
  assert.deepEqual([...blend(base, over, 1)].slice(0, 4), [200, 100, 0, 255]);
  // per-pixel weights: alpha × weight (clamped to [0, 1]; NaN counts as 0)
  const over2 = new Uint8ClampedArray([200, 100, 0, 255, 200, 200, 200, 255]);
  assert.deepEqual([...blend(base, over2, 1, [0.5, 0])], [100, 50, 0, 255, 100, 100, 100, 255]);
  assert.deepEqual([...blend(base, over2, 0.5, [2, NaN])], [100, 50, 0, 255, 100, 100, 100, 255]);
});

test("grid scales: activations sequential on [0, 1], differences diverging on [-1, 1] (dark variant)", () => {
  assert.deepEqual(gridScale("x", false), { map: "viridis", lo: 0, hi: 1 });
  assert.deepEqual(gridScale("x2", true), { map: "viridis", lo: 0, hi: 1 });
  assert.deepEqual(gridScale("diff", false), { map: "rdbu", lo: -1, hi: 1 });
  assert.deepEqual(gridScale("diff", true), { map: "bkr", lo: -1, hi: 1 });
});

test("ranked list: the first `top` of the chosen ranking, the max ranking when there is no change ranking", () => {
  const data = { rank: { data: Int32Array.from([3, 0, 2, 1]) }, rank_diff: { data: Int32Array.from([1, 2, 3, 0]) } };
  assert.deepEqual(rankedChannels(data, "max", 2), [3, 0]);
  assert.deepEqual(rankedChannels(data, "change", 3), [1, 2, 3]);
  assert.deepEqual(rankedChannels({ rank: data.rank }, "change", 10), [3, 0, 2, 1]);
  assert.deepEqual(rankedChannels({}, "max", 5), []);
});
