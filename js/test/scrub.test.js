import assert from "node:assert/strict";
import { test } from "node:test";
import {
  clampStep,
  keyAction,
  playStep,
  rowFromY,
  stepFromX,
  tickStep,
  timeTicks,
  xEdge,
  xFromStep,
} from "../src/scrub.js";

test("x pixel <-> step round trip over columns", () => {
  const left = 48;
  const width = 500;
  const T = 26;
  for (let t = 0; t < T; t++) assert.equal(stepFromX(xFromStep(t, left, width, T), left, width, T), t);
  assert.equal(xFromStep(0, left, width, T), left + width / T / 2);
  assert.equal(xEdge(T, left, width, T), left + width);
  assert.equal(stepFromX(left, left, width, T), 0);
  assert.equal(stepFromX(left + width - 0.01, left, width, T), T - 1);
});

test("x outside the plot clamps to the first / last step", () => {
  assert.equal(stepFromX(-100, 48, 500, 26), 0);
  assert.equal(stepFromX(10_000, 48, 500, 26), 25);
  assert.equal(stepFromX(100, 48, 500, 0), 0);
  assert.equal(stepFromX(100, 48, 0, 26), 0);
});

test("10000 steps on 700 px: every pixel maps into range, monotonic", () => {
  let prev = -1;
  for (let x = 0; x <= 760; x++) {
    const t = stepFromX(x, 48, 700, 10000);
    assert.ok(t >= 0 && t <= 9999 && t >= prev);
    prev = t;
  }
  assert.equal(prev, 9999);
});

test("clampStep", () => {
  assert.equal(clampStep(-3, 10), 0);
  assert.equal(clampStep(12, 10), 9);
  assert.equal(clampStep(4.7, 10), 4);
  assert.equal(clampStep(5, 0), 0);
  assert.equal(clampStep(NaN, 10), 0);
});

test("keys: arrows step (Shift: 10), Home/End, PageUp/Down, space toggles, others ignored", () => {
  assert.deepEqual(keyAction("ArrowRight", 5, 26), { t: 6 });
  assert.deepEqual(keyAction("ArrowLeft", 5, 26), { t: 4 });
  assert.deepEqual(keyAction("ArrowLeft", 0, 26), { t: 0 });
  assert.deepEqual(keyAction("ArrowRight", 25, 26), { t: 25 });
  assert.deepEqual(keyAction("ArrowRight", 5, 26, { shift: true }), { t: 15 });
  assert.deepEqual(keyAction("ArrowLeft", 5, 26, { shift: true }), { t: 0 });
  assert.deepEqual(keyAction("Home", 17, 26), { t: 0 });
  assert.deepEqual(keyAction("End", 3, 26), { t: 25 });
  assert.deepEqual(keyAction("PageDown", 3, 26), { t: 13 });
  assert.deepEqual(keyAction(" ", 3, 26), { toggle: true });
  assert.equal(keyAction("a", 3, 26), null);
  assert.deepEqual(keyAction("End", 0, 0), { t: 0 });
});

test("playback: speed steps per second from the anchor, done at the last step", () => {
  assert.deepEqual(playStep(0, 0, 8, 26), { t: 0, done: false });
  assert.deepEqual(playStep(0, 1000, 8, 26), { t: 8, done: false });
  assert.deepEqual(playStep(5, 250, 8, 26), { t: 7, done: false });
  assert.deepEqual(playStep(20, 10_000, 8, 26), { t: 25, done: true });
  assert.deepEqual(playStep(0, 100, 8, 0), { t: 0, done: true });
});

test("time ticks are 1-2-5 multiples at least minPx apart", () => {
  assert.equal(tickStep(26, 600, 56), 5);
  assert.equal(tickStep(10000, 700, 56), 1000);
  assert.equal(tickStep(7, 600, 56), 1);
  assert.deepEqual(timeTicks(26, 600, 56), [0, 5, 10, 15, 20, 25]);
});

test("rowFromY", () => {
  assert.equal(rowFromY(4, 4, 300, 100), 0);
  assert.equal(rowFromY(303.9, 4, 300, 100), 99);
  assert.equal(rowFromY(304, 4, 300, 100), -1);
  assert.equal(rowFromY(2, 4, 300, 100), -1);
});
