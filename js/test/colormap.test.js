import assert from "node:assert/strict";
import { test } from "node:test";
import { categorical, indexOf, isSigned, LUT_SIZE, lut, MAP_NAMES, makeLUT, scaleFor } from "../src/colormap.js";

const rgb = (table, k) => [table[4 * k], table[4 * k + 1], table[4 * k + 2]];
const lightness = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

test("diverging RdBu: blue at the low end, red at the high end, white-ish exactly in the middle", () => {
  const t = makeLUT("rdbu");
  assert.equal(t.length, LUT_SIZE * 4);
  assert.deepEqual(rgb(t, 0), [5, 48, 97]);
  assert.deepEqual(rgb(t, LUT_SIZE - 1), [103, 0, 31]);
  assert.deepEqual(rgb(t, (LUT_SIZE - 1) / 2), [247, 247, 247]);
  for (let k = 0; k < LUT_SIZE; k++) assert.equal(t[4 * k + 3], 255);
  // Lightness falls off symmetrically from the centre (within ColorBrewer's own asymmetry).
  for (let d = 1; d <= 127; d += 7) {
    const lo = lightness(rgb(t, 127 - d));
    const hi = lightness(rgb(t, 127 + d));
    assert.ok(Math.abs(lo - hi) < 40, `d=${d}: ${lo} vs ${hi}`);
  }
});

test("value -> entry is symmetric around 0 on a signed scale", () => {
  const s = scaleFor("h", [-0.3, 0.8]);
  assert.deepEqual([s.lo, s.hi, s.signed], [-0.8, 0.8, true]);
  assert.equal(indexOf(0, s.lo, s.hi), (LUT_SIZE - 1) / 2);
  assert.equal(indexOf(-0.8, s.lo, s.hi), 0);
  assert.equal(indexOf(0.8, s.lo, s.hi), LUT_SIZE - 1);
  assert.equal(indexOf(5, s.lo, s.hi), LUT_SIZE - 1); // clamped
  assert.equal(indexOf(-5, s.lo, s.hi), 0);
  for (let v = 0; v <= 0.8; v += 0.0137)
    assert.equal(indexOf(v, s.lo, s.hi) + indexOf(-v, s.lo, s.hi), LUT_SIZE - 1, `v=${v}`);
  assert.equal(indexOf(NaN, s.lo, s.hi), -1);
});

test("gates use viridis on the fixed range 0..1; signed quantities a diverging map", () => {
  for (const q of ["i", "f", "o"]) {
    assert.equal(isSigned(q), false);
    assert.deepEqual(scaleFor(q, [0.2, 0.9]), { map: "viridis", lo: 0, hi: 1, signed: false });
  }
  for (const q of ["h", "c", "g"]) assert.equal(isSigned(q), true);
  const v = lut("viridis");
  assert.deepEqual(rgb(v, 0), [68, 1, 84]);
  assert.deepEqual(rgb(v, LUT_SIZE - 1), [253, 231, 37]);
  // Sequential: lightness increases monotonically (viridis is perceptually uniform).
  for (let k = 8; k < LUT_SIZE; k += 8) assert.ok(lightness(rgb(v, k)) > lightness(rgb(v, k - 8)));
  assert.equal(scaleFor("c", [0, 0]).hi, 1); // degenerate limits still give a usable range
  assert.equal(scaleFor("h", [-1, 1], true).map, "bkr"); // dark theme: dark-centred diverging map
});

test("dark diverging map: dark centre, blue low end, red high end", () => {
  const t = lut("bkr");
  const mid = rgb(t, (LUT_SIZE - 1) / 2);
  assert.ok(lightness(mid) < 40);
  const [r0, , b0] = rgb(t, 0);
  const [r1, , b1] = rgb(t, LUT_SIZE - 1);
  assert.ok(b0 > r0 && r1 > b1);
});

test("categorical palette: distinct colours", () => {
  const colors = Array.from({ length: 20 }, (_, k) => categorical(k));
  assert.equal(new Set(colors).size, 20);
  assert.deepEqual(MAP_NAMES.sort(), ["bkr", "rdbu", "viridis"]);
});
