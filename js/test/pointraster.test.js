import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGrid, nearestPoint, nearestPointScan, packRGB, projectInto, rasterPaths } from "../src/pointraster.js";
import { makeFrame, projectRows } from "../src/traj3d.js";

const RED = 0x0000ff; // 0x00BBGGRR
const BLUE = 0xff0000;

/** The set pixels of a W × H buffer as "x,y" strings. */
function setPixels(buf, W) {
  const out = [];
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) out.push(`${i % W},${Math.floor(i / W)}`);
  return out.sort();
}

function path(points) {
  const xs = new Float32Array(points.map((p) => p[0]));
  const ys = new Float32Array(points.map((p) => p[1]));
  return { xs, ys };
}

test("packRGB reads hex and rgb() colours as 0x00BBGGRR", () => {
  assert.equal(packRGB("#ff0000"), 0x0000ff);
  assert.equal(packRGB("#0000ff"), 0xff0000);
  assert.equal(packRGB("#0f0"), 0x00ff00);
  assert.equal(packRGB("rgb(1, 2, 3)"), 0x030201);
  assert.equal(packRGB("hsl(120, 100%, 50%)"), 0x00ff00);
  assert.equal(packRGB("nonsense"), -1);
});

test("a horizontal segment sets every pixel between its ends, in the sequence's colour with the given alpha", () => {
  const W = 10;
  const H = 4;
  const buf = new Uint32Array(W * H);
  const { xs, ys } = path([
    [1.5, 2.5],
    [7.5, 2.5],
  ]);
  const n = rasterPaths(buf, W, H, xs, ys, [0, 2], 1, new Uint32Array([RED]), { alpha: 100 });
  assert.equal(n, 1);
  assert.deepEqual(setPixels(buf, W), ["1,2", "2,2", "3,2", "4,2", "5,2", "6,2", "7,2"].sort());
  assert.equal(buf[2 * W + 4], ((100 << 24) | RED) >>> 0);
});

test("a diagonal and a steep segment are 8-connected with one pixel per major step", () => {
  const W = 12;
  const H = 12;
  const buf = new Uint32Array(W * H);
  const { xs, ys } = path([
    [0.5, 0.5],
    [5.5, 5.5],
    [7.5, 11.5],
  ]);
  rasterPaths(buf, W, H, xs, ys, [0, 3], 1, new Uint32Array([RED]), { alpha: 255 });
  const px = setPixels(buf, W);
  for (let k = 0; k <= 5; k++) assert.ok(px.includes(`${k},${k}`), `diagonal pixel ${k}`);
  // steep part: rows 6..11 each have exactly one pixel, x within [5, 7]
  for (let y = 6; y <= 11; y++) {
    const row = px.filter((p) => p.endsWith(`,${y}`));
    assert.equal(row.length, 1, `row ${y}`);
    const x = Number(row[0].split(",")[0]);
    assert.ok(x >= 5 && x <= 7);
  }
  assert.ok(px.includes("7,11"));
  assert.equal(px.length, 6 + 6);
});

test("alpha accumulates where paths cross and saturates at 255", () => {
  const W = 5;
  const H = 5;
  const buf = new Uint32Array(W * H);
  const { xs, ys } = path([
    [0.5, 2.5],
    [4.5, 2.5],
    [2.5, 0.5],
    [2.5, 4.5],
  ]);
  rasterPaths(buf, W, H, xs, ys, [0, 2, 4], 2, new Uint32Array([RED, BLUE]), { alpha: 200 });
  assert.equal(buf[2 * W + 2] >>> 24, 255); // crossing: 200 + 200 saturated
  assert.equal(buf[2 * W + 2] & 0xffffff, BLUE); // the later path's colour
  assert.equal(buf[2 * W + 0] >>> 24, 200);
  buf.fill(0);
  rasterPaths(buf, W, H, xs, ys, [0, 2, 4], 2, new Uint32Array([RED, BLUE]), { alpha: 100, cap: 150 });
  assert.equal(buf[2 * W + 2] >>> 24, 150); // capped
  assert.equal(buf[2 * W + 0] >>> 24, 100);
});

test("a NaN point and a sequence boundary break the path", () => {
  const W = 20;
  const H = 3;
  const buf = new Uint32Array(W * H);
  // sequence 0: (0,1) -> (4,1), NaN, (8,1) -> (10,1); sequence 1: (14,1) -> (18,1)
  const { xs, ys } = path([
    [0.5, 1.5],
    [4.5, 1.5],
    [Number.NaN, 1.5],
    [8.5, 1.5],
    [10.5, 1.5],
    [14.5, 1.5],
    [18.5, 1.5],
  ]);
  rasterPaths(buf, W, H, xs, ys, [0, 5, 7], 2, new Uint32Array([RED, RED]), { alpha: 255 });
  const row = Array.from({ length: W }, (_, x) => (buf[W + x] ? 1 : 0)).join("");
  assert.equal(row, "11111000111000111110");
});

test("segments are clipped to the buffer; a segment wholly outside draws nothing", () => {
  const W = 10;
  const H = 10;
  const buf = new Uint32Array(W * H);
  const { xs, ys } = path([
    [-100.5, 5.5],
    [200.5, 5.5], // crosses the whole row 5
    [200.5, 50.5], // outside, right
    [-20, -20], // crosses nothing inside? from (200,50) to (-20,-20): passes through the buffer
  ]);
  rasterPaths(buf, W, H, xs, ys, [0, 3], 1, new Uint32Array([RED]), { alpha: 255 });
  const px = setPixels(buf, W);
  for (let x = 0; x < W; x++) assert.ok(px.includes(`${x},5`));
  assert.equal(px.length, W);
  // the diagonal one through the buffer: clipped pixels only inside
  const buf2 = new Uint32Array(W * H);
  const d = path([
    [-5.5, -5.5],
    [15.5, 15.5],
  ]);
  rasterPaths(buf2, W, H, d.xs, d.ys, [0, 2], 1, new Uint32Array([RED]), { alpha: 255 });
  const px2 = setPixels(buf2, W);
  assert.deepEqual(px2, Array.from({ length: 10 }, (_, k) => `${k},${k}`).sort());
});

test("stride draws only every k-th sequence; a colour of 0xFFFFFFFF skips the sequence", () => {
  const W = 4;
  const H = 6;
  const rows = [];
  const offsets = [0];
  for (let s = 0; s < 6; s++) {
    rows.push([0.5, s + 0.5], [3.5, s + 0.5]);
    offsets.push(rows.length);
  }
  const { xs, ys } = path(rows);
  const colors = new Uint32Array(6).fill(RED);
  const buf = new Uint32Array(W * H);
  rasterPaths(buf, W, H, xs, ys, offsets, 6, colors, { alpha: 255, stride: 3 });
  const drawnRows = [...new Set(setPixels(buf, W).map((p) => Number(p.split(",")[1])))].sort();
  assert.deepEqual(drawnRows, [0, 3]);
  colors[3] = 0xffffffff;
  buf.fill(0);
  rasterPaths(buf, W, H, xs, ys, offsets, 6, colors, { alpha: 255 });
  const all = [...new Set(setPixels(buf, W).map((p) => Number(p.split(",")[1])))].sort();
  assert.deepEqual(all, [0, 1, 2, 4, 5]);
});

test("scale maps CSS pixels to device pixels", () => {
  const W = 8;
  const H = 8;
  const buf = new Uint32Array(W * H);
  const { xs, ys } = path([
    [0.25, 1.25],
    [3.25, 1.25],
  ]);
  rasterPaths(buf, W, H, xs, ys, [0, 2], 1, new Uint32Array([RED]), { alpha: 255, scale: 2 });
  assert.deepEqual(setPixels(buf, W), ["0,2", "1,2", "2,2", "3,2", "4,2", "5,2", "6,2"].sort());
});

test("projectInto matches traj3d projectRows (2-D, 3-D, log1p) and applies zoom/pan", () => {
  const rows = 50;
  const data = new Float32Array(rows * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 1.7) * 3 + (i % 7);
  data[10 * 3 + 1] = Number.NaN;
  for (const opts of [
    { dims: 2 },
    { dims: 2, log: true },
    { dims: 3, yaw: 0.7, pitch: -0.3 },
    { dims: 3, yaw: 2, pitch: 0.9, log: true },
  ]) {
    const frame = makeFrame(data, rows, 3, { ...opts, W: 400, H: 300, pad: 16 });
    const ref = projectRows(frame, data, rows, 3);
    const got = projectInto(frame, data, rows, 3);
    for (let r = 0; r < rows; r++) {
      if (r === 10) {
        assert.ok(Number.isNaN(got.xs[r]) || Number.isNaN(got.ys[r]));
        continue;
      }
      assert.ok(Math.abs(got.xs[r] - ref.xs[r]) < 1e-3, `${JSON.stringify(opts)} x ${r}`);
      assert.ok(Math.abs(got.ys[r] - ref.ys[r]) < 1e-3, `${JSON.stringify(opts)} y ${r}`);
    }
    const zoomed = projectInto({ ...frame, z: 2.5, tx: -30, ty: 12 }, data, rows, 3);
    const zf = makeFrame(data, rows, 3, { ...opts, W: 400, H: 300, pad: 16, zoom: { zoom: 2.5, tx: -30, ty: 12 } });
    const zref = projectRows(zf, data, rows, 3);
    for (const r of [0, 5, 49]) {
      assert.ok(Math.abs(zoomed.xs[r] - (ref.xs[r] * 2.5 - 30)) < 1e-2);
      assert.ok(Math.abs(zoomed.ys[r] - (ref.ys[r] * 2.5 + 12)) < 1e-2);
      assert.ok(Math.abs(zref.xs[r] - zoomed.xs[r]) < 1e-2 && Math.abs(zref.ys[r] - zoomed.ys[r]) < 1e-2);
    }
  }
});

test("projectInto with a stride projects only every k-th sequence's rows", () => {
  const data = new Float32Array([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
  const frame = makeFrame(data, 6, 2, { W: 100, H: 100, pad: 0 });
  const out = { xs: new Float32Array(6).fill(-7), ys: new Float32Array(6).fill(-7) };
  projectInto(frame, data, 6, 2, out, { offsets: [0, 2, 4, 6], n: 3, stride: 2 });
  const ref = projectRows(frame, data, 6, 2);
  for (const r of [0, 1, 4, 5]) assert.ok(Math.abs(out.xs[r] - ref.xs[r]) < 1e-4);
  for (const r of [2, 3]) assert.equal(out.xs[r], -7);
});

test("the grid's nearest point is exactly the brute-force nearest (ties to the lower row)", () => {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const rows = 20000;
  const W = 300;
  const H = 200;
  const xs = new Float32Array(rows);
  const ys = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    // some outside, some NaN, many on a coarse lattice (exact ties)
    xs[r] = r % 97 === 0 ? Number.NaN : r % 3 === 0 ? Math.round(rand() * 60) * 5 : rand() * (W + 40) - 20;
    ys[r] = r % 3 === 0 ? Math.round(rand() * 40) * 5 : rand() * (H + 40) - 20;
  }
  const grid = buildGrid(xs, ys, rows, W, H, { cell: 8 });
  for (let q = 0; q < 3000; q++) {
    const x = q % 5 === 0 ? Math.round(rand() * 60) * 5 : rand() * W;
    const y = q % 5 === 0 ? Math.round(rand() * 40) * 5 : rand() * H;
    const maxDist = q % 2 ? 3 : 12;
    assert.equal(
      nearestPoint(grid, x, y, maxDist),
      nearestPointScan(xs, ys, rows, x, y, maxDist, W, H),
      `query ${q} at ${x},${y}`,
    );
  }
  // a filter: only even rows
  const even = (r) => r % 2 === 0;
  const r = nearestPoint(grid, 150, 100, 30, even);
  assert.ok(r >= 0 && r % 2 === 0);
});
