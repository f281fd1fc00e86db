import assert from "node:assert/strict";
import { test } from "node:test";
import { lut } from "../src/colormap.js";
import {
  buildPyramid,
  colorCells,
  columnOf,
  followCursor,
  isWhole,
  liveCapacity,
  MIN_WINDOW,
  panWindow,
  pickLevel,
  pyramidBytes,
  reduceColumns,
  reduceWindow,
  stepAt,
  visibleWindow,
  zoomWindow,
} from "../src/lod.js";
import { heatmapPixels } from "../src/views/heatmap.js";

/** Deterministic pseudo-random (T, U) block with some NaN. */
function block(T, U, seed = 1, nanEvery = 17) {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  };
  const data = new Float32Array(T * U);
  for (let k = 0; k < data.length; k++) data[k] = k % nanEvery === 3 ? NaN : rnd();
  return data;
}

function bruteMinMax(data, U, t0, t1, u) {
  let lo = NaN;
  let hi = NaN;
  for (let t = t0; t < t1; t++) {
    const v = data[t * U + u];
    if (v !== v) continue;
    if (!(lo <= v)) lo = v;
    if (!(hi >= v)) hi = v;
  }
  return [lo, hi];
}

test("pyramid min/max equal a brute-force reduction at every level (partial last block, NaN skipped)", () => {
  const T = 1000;
  const U = 5;
  const data = block(T, U);
  // a unit that is NaN over the whole first block
  for (let t = 0; t < 8; t++) data[t * U + 2] = NaN;
  const pyr = buildPyramid(data, T, U, { base: 8, factor: 4 });
  assert.deepEqual(
    pyr.levels.map((l) => l.block),
    [8, 32, 128, 512],
  );
  assert.deepEqual(
    pyr.levels.map((l) => l.n),
    [125, 32, 8, 2],
  );
  for (const level of pyr.levels) {
    for (let j = 0; j < level.n; j++) {
      for (let u = 0; u < U; u++) {
        const [lo, hi] = bruteMinMax(data, U, j * level.block, Math.min(T, (j + 1) * level.block), u);
        assert.ok(
          Object.is(level.min[j * U + u], lo) || level.min[j * U + u] === lo,
          `min b${level.block} j${j} u${u}`,
        );
        assert.ok(
          Object.is(level.max[j * U + u], hi) || level.max[j * U + u] === hi,
          `max b${level.block} j${j} u${u}`,
        );
      }
    }
  }
  assert.ok(Number.isNaN(pyr.levels[0].min[2]) && Number.isNaN(pyr.levels[0].max[2]));
  assert.equal(pyramidBytes(pyr), 2 * 4 * U * (125 + 32 + 8 + 2));
});

test("pyramid of a short block has no levels; pickLevel picks the coarsest block that fits a pixel", () => {
  assert.equal(buildPyramid(new Float32Array(8), 8, 1).levels.length, 0);
  const pyr = buildPyramid(block(5000, 2), 5000, 2);
  assert.equal(pickLevel(pyr, 1), null);
  assert.equal(pickLevel(pyr, 7.9), null);
  assert.equal(pickLevel(pyr, 8).block, 8);
  assert.equal(pickLevel(pyr, 127).block, 32);
  assert.equal(pickLevel(pyr, 128).block, 128);
  assert.equal(pickLevel(pyr, 1e9).block, pyr.levels[pyr.levels.length - 1].block);
  assert.equal(pickLevel(null, 100), null);
});

test("window math: clamp, zoom around an anchor, pan, follow the cursor, x -> step", () => {
  const T = 1000;
  assert.deepEqual(visibleWindow(null, T), { t0: 0, t1: T });
  assert.deepEqual(visibleWindow({ t0: -50, t1: 50 }, T), { t0: 0, t1: 100 });
  assert.deepEqual(visibleWindow({ t0: 990, t1: 1100 }, T), { t0: 890, t1: 1000 });
  assert.deepEqual(visibleWindow({ t0: 10, t1: 12 }, T), { t0: 10, t1: 10 + MIN_WINDOW });
  assert.deepEqual(visibleWindow({ t0: 0, t1: 5 }, 3), { t0: 0, t1: 3 });
  assert.deepEqual(visibleWindow({ t0: 1, t1: 2 }, 0), { t0: 0, t1: 0 });
  assert.ok(isWhole(null, T) && isWhole({ t0: 0, t1: T }, T) && !isWhole({ t0: 0, t1: 10 }, T));

  // zoom in ×2 around the centre, then around an anchor that stays at the same fraction of the window
  assert.deepEqual(zoomWindow(null, T, 2), { t0: 250, t1: 750 });
  assert.deepEqual(zoomWindow(null, T, 2, 0), { t0: 0, t1: 500 });
  assert.deepEqual(zoomWindow(null, T, 2, 1000), { t0: 500, t1: 1000 });
  assert.deepEqual(zoomWindow({ t0: 0, t1: 400 }, T, 4, 100), { t0: 75, t1: 175 });
  // zoom out back to the whole sequence -> null; zooming in stops at MIN_WINDOW steps
  assert.equal(zoomWindow({ t0: 250, t1: 750 }, T, 0.5), null);
  assert.equal(zoomWindow({ t0: 250, t1: 750 }, T, 0.1), null);
  assert.equal(zoomWindow({ t0: 100, t1: 120 }, T, 100).t1 - zoomWindow({ t0: 100, t1: 120 }, T, 100).t0, MIN_WINDOW);
  // zoom out near an edge stays inside
  assert.deepEqual(zoomWindow({ t0: 900, t1: 1000 }, T, 0.5, 950), { t0: 800, t1: 1000 });

  assert.deepEqual(panWindow({ t0: 100, t1: 200 }, T, 50), { t0: 150, t1: 250 });
  assert.deepEqual(panWindow({ t0: 100, t1: 200 }, T, -500), { t0: 0, t1: 100 });
  assert.deepEqual(panWindow({ t0: 100, t1: 200 }, T, 5000), { t0: 900, t1: 1000 });
  assert.equal(panWindow(null, T, 10), null);

  const w = { t0: 100, t1: 200 };
  assert.equal(followCursor(w, 150, T), w); // inside: unchanged (same object)
  assert.deepEqual(followCursor(w, 200, T), { t0: 111, t1: 211 }); // stepped past the right edge: t 10 % from the right
  assert.deepEqual(followCursor(w, 99, T), { t0: 89, t1: 189 }); // stepped left: t 10 % from the left
  assert.deepEqual(followCursor(w, 700, T), { t0: 650, t1: 750 }); // far jump: centred
  assert.deepEqual(followCursor(w, 999, T), { t0: 900, t1: 1000 }); // End: clamped
  assert.equal(followCursor(null, 5, T), null);

  assert.equal(stepAt(48, 48, 100, 200, 300), 200);
  assert.equal(stepAt(147.9, 48, 100, 200, 300), 299);
  assert.equal(stepAt(98, 48, 100, 200, 300), 250);
  assert.equal(stepAt(0, 48, 100, 200, 300), 200);
  assert.equal(stepAt(1e6, 48, 100, 200, 300), 299);
  assert.equal(columnOf(250, 200, 300, 10), 5);
  assert.equal(columnOf(299, 200, 300, 10), 9);
});

test("reduceWindow from raw steps equals a brute-force per-pixel farthest-from-mid reduction", () => {
  const T = 300;
  const U = 7;
  const data = block(T, U, 7);
  const rowOf = Int32Array.from([0, 0, 1, 1, 2, 2, 2]); // 7 units on 3 image rows
  const [t0, t1, imgW, imgH, mid] = [37, 237, 13, 3, 0.1];
  const { cells, read } = reduceWindow(data, U, t0, t1, rowOf, imgW, imgH, mid);
  assert.equal(read, (t1 - t0) * U);
  for (let r = 0; r < imgH; r++) {
    for (let c = 0; c < imgW; c++) {
      let best = NaN;
      for (let t = t0; t < t1; t++) {
        if (Math.floor(((t - t0) * imgW) / (t1 - t0)) !== c) continue;
        for (let u = 0; u < U; u++) {
          if (rowOf[u] !== r) continue;
          const v = data[t * U + u];
          if (v === v && (best !== best || Math.abs(v - mid) > Math.abs(best - mid))) best = v;
        }
      }
      assert.ok(Object.is(cells[r * imgW + c], best) || cells[r * imgW + c] === best, `cell ${r},${c}`);
    }
  }
});

test("reduceWindow from a pyramid level equals the raw reduction when blocks align with the columns", () => {
  const T = 4096;
  const U = 6;
  const data = block(T, U, 3);
  const pyr = buildPyramid(data, T, U);
  const rowOf = Int32Array.from([0, 1, 2, 3, 4, 5]);
  for (const [t0, t1, imgW] of [
    [0, 4096, 128], // 32 steps per column: level 32
    [512, 1536, 64], // 16 per column: level 8, two blocks a column
    [1024, 3072, 16], // 128 per column: level 128
  ]) {
    const spp = (t1 - t0) / imgW;
    const level = pickLevel(pyr, spp);
    assert.ok(level && level.block <= spp);
    const raw = reduceWindow(data, U, t0, t1, rowOf, imgW, U, 0);
    const lod = reduceWindow(data, U, t0, t1, rowOf, imgW, U, 0, level);
    assert.deepEqual(Array.from(lod.cells), Array.from(raw.cells), `window ${t0}..${t1} over ${imgW}`);
    assert.ok(lod.read <= raw.read / 4, `reads ${lod.read} vs ${raw.read}`);
  }
  // Unaligned window: every pixel still shows a value of a step it is near (within one block of its span).
  const [t0, t1, imgW] = [1001, 3999, 50];
  const level = pickLevel(pyr, (t1 - t0) / imgW);
  const lod = reduceWindow(data, U, t0, t1, rowOf, imgW, U, 0, level);
  for (let c = 0; c < imgW; c++) {
    const a = t0 + (c * (t1 - t0)) / imgW;
    const b = t0 + ((c + 1) * (t1 - t0)) / imgW;
    const [lo, hi] = bruteMinMax(
      data,
      U,
      Math.floor(a / level.block) * level.block,
      Math.ceil(b / level.block) * level.block,
      0,
    );
    const v = lod.cells[c];
    assert.ok(v >= lo && v <= hi, `column ${c}: ${v} in [${lo}, ${hi}]`);
  }
});

test("the whole window reduced and coloured equals heatmapPixels (same downsampling rule and colours)", () => {
  const T = 500;
  const U = 9;
  const data = block(T, U, 11);
  const order = [3, 1, 4, 0, 5, 2, 8, 6, 7];
  const [imgW, imgH] = [120, 4];
  const scale = { map: "rdbu", lo: -1, hi: 1 };
  const table = lut(scale.map);
  const rowOf = new Int32Array(U);
  for (let k = 0; k < U; k++) rowOf[order[k]] = Math.min(imgH - 1, Math.floor((k * imgH) / U));
  const { cells } = reduceWindow(data, U, 0, T, rowOf, imgW, imgH, 0);
  const px = colorCells(cells, scale, table);
  assert.deepEqual(Array.from(px), Array.from(heatmapPixels(data, T, U, order, imgW, imgH, scale, table)));
});

test("the store's window: page-local, clamped, left alone by zoom/pan, pulled along by the cursor and live appends", async () => {
  const { createStore } = await import("../src/store.js");
  const { encodeArray } = await import("../dev/encode.js");
  const T = 200;
  const meta = {
    n_sequences: 1,
    lengths: [T],
    offsets: [0, T],
    layer_names: ["layer0"],
    quantities: ["h"],
    units: { h: 1 },
  };
  const h = Float32Array.from({ length: T }, (_, k) => k);
  const store = createStore({ meta, arrays: { h: encodeArray(h, [1, T, 1], "float32") } });
  assert.equal(store.snapshot().window, null);
  let changes = store.set({ window: { t0: 50, t1: 100 } });
  assert.ok(changes.has("window"));
  assert.deepEqual(store.snapshot().window, { t0: 50, t1: 100 });
  assert.equal(store.snapshot().t, 0); // setting the window leaves the cursor outside it
  store.set({ window: { t0: 0, t1: T } });
  assert.equal(store.state.window, null); // the whole sequence is stored as null
  store.set({ window: { t0: 190, t1: 400 } });
  assert.equal(store.state.window, null); // 210 steps > T: the whole sequence
  store.set({ window: { t0: 190, t1: 250 } });
  assert.deepEqual(store.snapshot().window, { t0: 140, t1: 200 }); // clamped to the sequence
  store.set({ window: { t0: 50, t1: 100 } });
  // the cursor moved (page or model) out of the window: the window follows, same width
  changes = store.set({ t: 100 });
  assert.ok(changes.has("window"));
  assert.deepEqual(store.snapshot().window, { t0: 56, t1: 106 }); // t 5 steps in from the right edge
  store.set({ t: 7 }, "model");
  assert.deepEqual(store.snapshot().window, { t0: 2, t1: 52 });
  changes = store.set({ t: 8 });
  assert.ok(!changes.has("window"));
  // a live append at the end with the cursor on the last step: t and the window follow the live end
  store.set({ t: T - 1 });
  assert.deepEqual(store.snapshot().window, { t0: 150, t1: 200 });
  store.applyMessage(
    { type: "append", sequence: 0, start: T, fields: [{ name: "h", dtype: "float32", shape: [1, 30, 1] }] },
    [new Uint8Array(new Float32Array(30).buffer)],
  );
  const snap = store.snapshot();
  assert.equal(snap.t, T + 29);
  assert.ok(
    snap.window.t0 <= snap.t && snap.t < snap.window.t1 && snap.window.t1 - snap.window.t0 === 50,
    JSON.stringify(snap.window),
  );
});

test("liveCapacity: the next power of two at or above T, at least 64", () => {
  assert.deepEqual([0, 1, 64, 65, 128, 129, 1000].map(liveCapacity), [64, 64, 64, 128, 128, 256, 1024]);
});

test("reduceColumns: any run of columns equals those of reduceWindow over [0, n) of the steps there are", () => {
  const U = 5;
  const n = 64;
  for (const [T, imgW] of [
    [64, 64],
    [40, 64],
    [40, 23],
    [17, 9],
  ]) {
    const data = Float32Array.from({ length: T * U }, (_, k) => Math.sin(k * 1.7) * (k % 7));
    const rowOf = Int32Array.from({ length: U }, (_, u) => (u * 3) % U);
    const imgH = U;
    // reduceWindow over the whole capacity, the steps to come NaN
    const padded = new Float32Array(n * U).fill(NaN);
    padded.set(data);
    const { cells: whole } = reduceWindow(padded, U, 0, n, rowOf, imgW, imgH, 0.25);
    for (const [c0, c1] of [
      [0, imgW],
      [3, 7],
      [imgW - 2, imgW],
    ]) {
      const part = reduceColumns(data, U, T, n, rowOf, imgW, imgH, 0.25, c0, c1);
      const want = [];
      for (let r = 0; r < imgH; r++) for (let c = c0; c < c1; c++) want.push(whole[r * imgW + c]);
      assert.deepEqual(Array.from(part), want, `T ${T}, imgW ${imgW}, columns ${c0}-${c1}`);
    }
  }
});
