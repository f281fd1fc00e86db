import assert from "node:assert/strict";
import { test } from "node:test";
import {
  blockMaxAbs,
  COLOR_SCALES,
  heatmapScale,
  normalizeUnits,
  resolveScaleMode,
  shortNumber,
  unitMaxAbs,
} from "../src/colorscale.js";
import { clipText, plural } from "../src/views/common.js";
import { fittingCaption } from "../src/views/gates.js";
import { heatmapPixels, selectionRuns } from "../src/views/heatmap.js";
import { lagTicks } from "../src/views/influence.js";
import { stepLabel } from "../src/views/timeline.js";
import { fallbackCaption } from "../src/views/traces.js";

// A (T = 3, U = 2) block: unit 0 within ±4 (this sequence), unit 1 within ±0.5.
const block = { data: Float32Array.from([1, -0.5, -4, 0.25, 2, 0.1]), rows: 3, cols: 2 };

test("auto scales c per sequence and every other signed quantity globally", () => {
  assert.deepEqual(COLOR_SCALES, ["auto", "sequence", "unit", "global"]);
  assert.equal(resolveScaleMode("auto", "c"), "sequence");
  assert.equal(resolveScaleMode("auto", "h"), "global");
  assert.equal(resolveScaleMode("auto", "g"), "global");
  assert.equal(resolveScaleMode("unit", "h"), "unit");
  assert.equal(resolveScaleMode("bogus", "c"), "sequence");
});

test("sequence, global and unit scales: range and the legend's words", () => {
  const limits = [-17.9, 12];
  const seq = heatmapScale("sequence", "c", { limits, block });
  assert.deepEqual([seq.lo, seq.hi, seq.mode, seq.signed], [-4, 4, "sequence", true]);
  assert.equal(seq.caption, "scale: this sequence, ±4.0");
  const glob = heatmapScale("global", "c", { limits, block });
  assert.deepEqual([glob.lo, glob.hi, glob.mode], [-17.9, 17.9, "global"]);
  assert.equal(glob.caption, "scale: all sequences, ±17.9");
  assert.equal(heatmapScale("auto", "c", { limits, block }).caption, "scale: this sequence, ±4.0");
  assert.equal(heatmapScale("auto", "h", { limits: [-0.5, 0.98], block }).caption, "scale: all sequences, ±0.98");
  const unit = heatmapScale("unit", "c", { limits, block });
  assert.deepEqual([unit.lo, unit.hi, unit.mode], [-1, 1, "unit"]);
  // no block yet (still loading): the global range, said so
  assert.equal(heatmapScale("sequence", "c", { limits, block: null }).mode, "global");
  // a gate keeps 0..1 whatever the mode
  const gate = heatmapScale("sequence", "f", { limits: [0.2, 0.3], block });
  assert.deepEqual([gate.lo, gate.hi, gate.mode, gate.map], [0, 1, "fixed", "viridis"]);
  assert.equal(gate.caption, "scale: 0–1 (gate)");
  // dark theme: the dark diverging map
  assert.equal(heatmapScale("sequence", "c", { limits, block, dark: true }).map, "bkr");
});

test("max |value| of a block and per unit, NaN ignored; per-unit normalisation", () => {
  const withNaN = Float32Array.from([1, NaN, -4, 0.25, 2, -0.5]);
  assert.equal(blockMaxAbs(withNaN, 3, 2), 4);
  assert.deepEqual(Array.from(unitMaxAbs(withNaN, 3, 2)), [4, 0.5]);
  const n = normalizeUnits(withNaN, 3, 2);
  assert.deepEqual(Array.from(n).slice(0, 1), [0.25]);
  assert.ok(Number.isNaN(n[1]));
  assert.deepEqual(Array.from(n).slice(2), [-1, 0.5, 0.5, -1]);
  // a unit of zeros stays 0 (no division by zero)
  assert.deepEqual(Array.from(normalizeUnits(Float32Array.from([0, 2, 0, -1]), 2, 2)), [0, 1, 0, -0.5]);
  assert.equal(blockMaxAbs(new Float32Array(0), 0, 2), 0);
});

test("a sequence scale shows the contrast a global one washes out", () => {
  // |c| <= 4 in this sequence, 17.9 elsewhere: on the global scale its colours stay near the middle (white)
  const order = Int32Array.from([0, 1]);
  const spread = (scale) => {
    const px = heatmapPixels(block.data, 3, 2, order, 3, 2, scale);
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < px.length; i += 4) {
      const l = 0.2126 * px[i] + 0.7152 * px[i + 1] + 0.0722 * px[i + 2];
      lo = Math.min(lo, l);
      hi = Math.max(hi, l);
    }
    return hi - lo;
  };
  const glob = spread(heatmapScale("global", "c", { limits: [-17.9, 17.9], block }));
  const seq = spread(heatmapScale("sequence", "c", { limits: [-17.9, 17.9], block }));
  assert.ok(seq > glob * 2, `sequence ${seq} vs global ${glob}`);
});

test("short numbers for the legend", () => {
  assert.deepEqual([4, 17.94, 0.98, 0.0123, 250, 12345].map(shortNumber), [
    "4.0",
    "17.9",
    "0.98",
    "0.012",
    "250",
    "1.2e+4",
  ]);
});

test("adjacent selected rows make one run with one label", () => {
  const rowOf = Int32Array.from({ length: 30 }, (_, u) => u);
  const ten = Array.from({ length: 10 }, (_, k) => 10 + k);
  const runs = selectionRuns([3, ...ten, 25], 30, rowOf);
  assert.deepEqual(
    runs.map((r) => [r.k0, r.k1, r.label, r.members.length]),
    [
      [3, 3, "3", 1],
      [10, 19, "10–19", 10],
      [25, 25, "25", 1],
    ],
  );
  // selection order gives the colours (j); rows sorted top to bottom; units past U left out
  assert.deepEqual(
    selectionRuns([12, 11, 40], 30, rowOf).map((r) => r.members.map((m) => m.j)),
    [[1, 0]],
  );
  // adjacent rows whose unit numbers are not consecutive (another order): "n units"
  const reversed = Int32Array.from({ length: 30 }, (_, u) => 29 - u);
  assert.deepEqual(
    selectionRuns([5, 4, 3], 30, reversed).map((r) => r.label),
    ["3 units"],
  );
});

test("words: plural, clipped names, the step label, captions, round influence ticks", () => {
  assert.deepEqual(
    [plural(1, "class"), plural(9, "class"), plural(1, "unit"), plural(0, "step"), plural(2, "feature")],
    ["1 class", "9 classes", "1 unit", "0 steps", "2 features"],
  );
  const long = "x".repeat(200000);
  assert.equal(clipText(long).length, 80);
  assert.ok(clipText(long).endsWith("…"));
  assert.equal(clipText("speaker 1"), "speaker 1");
  assert.equal(stepLabel(18, 19), "t = 18 (0–18)");
  assert.equal(stepLabel(0, 0), "t = 0 (no steps)");
  assert.equal(fallbackCaption(5), "first 5 units — select units to choose");
  assert.equal(fallbackCaption(1), "first 1 unit — select units to choose");
  assert.deepEqual(lagTicks(1.2051), [-1, 0, 1]);
  assert.deepEqual(lagTicks(0.0123), [-0.01, 0, 0.01]);
  assert.deepEqual(lagTicks(37), [-20, 0, 20]);
  const measure = (s) => s.length * 5;
  assert.equal(fittingCaption(["forget gate", "forget"], 60, measure), "forget gate");
  assert.equal(fittingCaption(["forget gate", "forget"], 40, measure), "forget");
  assert.equal(fittingCaption(["forget gate", "forget"], 20, measure), "");
});
