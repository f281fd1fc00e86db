// The data set pager's pure logic (js/src/views/pager.js): range text, bounds, the window of a jump, the state shown.

import assert from "node:assert/strict";
import { test } from "node:test";
import { datasetInfo, nextStart, pagerState, parseIndex, prevStart, rangeText, windowFor } from "../src/views/pager.js";

test("rangeText: 1-based, inclusive, the last window cut at N", () => {
  assert.equal(rangeText(0, 16, 40), "1–16 of 40");
  assert.equal(rangeText(16, 16, 40), "17–32 of 40");
  assert.equal(rangeText(32, 16, 40), "33–40 of 40");
  assert.equal(rangeText(39, 16, 40), "40–40 of 40");
});

test("prev / next window starts: null at the ends", () => {
  assert.equal(prevStart(0, 16), null);
  assert.equal(prevStart(16, 16), 0);
  assert.equal(prevStart(5, 16), 0); // a window opened at start=5 pages back to 0
  assert.equal(nextStart(0, 16, 40), 16);
  assert.equal(nextStart(16, 16, 40), 32);
  assert.equal(nextStart(32, 16, 40), null);
  assert.equal(nextStart(24, 16, 40), null); // 24 + 16 = 40: nothing after
  assert.equal(nextStart(0, 40, 40), null);
});

test("windowFor: multiples of the window size, as show_sequence", () => {
  assert.equal(windowFor(0, 16, 40), 0);
  assert.equal(windowFor(15, 16, 40), 0);
  assert.equal(windowFor(16, 16, 40), 16);
  assert.equal(windowFor(39, 16, 40), 32);
  assert.equal(windowFor(99, 16, 40), 32);
  assert.equal(windowFor(-3, 16, 40), 0);
});

test("parseIndex: integers in 0..n-1 only", () => {
  assert.equal(parseIndex("0", 40), 0);
  assert.equal(parseIndex(" 39 ", 40), 39);
  for (const bad of ["40", "-1", "1.5", "", "abc", "1e2", null, undefined]) {
    assert.equal(parseIndex(bad, 40), null, String(bad));
  }
});

test("datasetInfo: null without a usable _meta.dataset", () => {
  assert.equal(datasetInfo(undefined), null);
  assert.equal(datasetInfo({}), null);
  assert.equal(datasetInfo({ n_sequences: 0, start: 0, size: 16 }), null);
  assert.equal(datasetInfo({ n_sequences: 40, start: 40, size: 16 }), null);
  assert.equal(datasetInfo({ n_sequences: 40, start: 0, size: 0 }), null);
  assert.deepEqual(datasetInfo({ n_sequences: 40, start: 16, size: 16 }), { n: 40, start: 16, size: 16 });
});

test("pagerState: hidden when one window holds the whole store", () => {
  assert.equal(pagerState(undefined, undefined), null);
  assert.equal(pagerState({ n_sequences: 10, start: 0, size: 16 }, 0), null);
  assert.equal(pagerState({ n_sequences: 16, start: 0, size: 16 }, 0), null);
});

test("pagerState: loaded window, ends, and loading while window_start moves ahead", () => {
  const ds = { n_sequences: 40, start: 0, size: 16 };
  let st = pagerState(ds, 0);
  assert.deepEqual(st, {
    n: 40,
    size: 16,
    start: 0,
    requested: 0,
    loading: false,
    text: "sequences 1–16 of 40",
    prev: null,
    next: 16,
  });
  st = pagerState(ds, 16); // the page (or Python) wrote window_start; the kernel has not sent the window yet
  assert.equal(st.loading, true);
  assert.equal(st.text, "loading sequences 17–32 of 40…");
  assert.equal(st.prev, 0);
  assert.equal(st.next, 32);
  st = pagerState({ ...ds, start: 32 }, 32);
  assert.equal(st.loading, false);
  assert.equal(st.text, "sequences 33–40 of 40");
  assert.equal(st.next, null);
  assert.equal(st.prev, 16);
  // no window_start trait (or a bad one): the loaded window
  assert.equal(pagerState({ ...ds, start: 16 }, undefined).requested, 16);
  assert.equal(pagerState({ ...ds, start: 16 }, 99).loading, false);
});
