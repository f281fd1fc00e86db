import assert from "node:assert/strict";
import { test } from "node:test";
import { categorical } from "../src/colormap.js";
import {
  axisLines,
  axisTitle,
  colorPlan,
  DEFAULT_VIEW,
  depthFade,
  depthSize,
  dragRotation,
  effectiveView,
  fillView,
  lastRows,
  makeFrame,
  nearestRow,
  projectPoint,
  projectRows,
  rotationMatrix,
  slog1p,
  timeColor,
  wrapAngle,
} from "../src/traj3d.js";

const close = (a, b, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("fillView: defaults for missing keys, Python's values kept, junk replaced", () => {
  assert.deepEqual(fillView({}), { ...DEFAULT_VIEW, overlay: [] });
  assert.deepEqual(fillView(null), fillView({}));
  const full = {
    dims: 3,
    color: "group",
    log1p: true,
    labels: false,
    last_only: true,
    overlay: [2, 5],
    yaw: 1,
    pitch: -0.5,
  };
  assert.deepEqual(fillView(structuredClone(full)), full);
  const bad = fillView({ dims: 4, color: "rainbow", overlay: [1], yaw: "x", pitch: 9, extra: 1 });
  assert.equal(bad.dims, 2);
  assert.equal(bad.color, "time");
  assert.deepEqual(bad.overlay, []);
  assert.equal(bad.yaw, DEFAULT_VIEW.yaw);
  assert.equal(bad.pitch, Math.PI / 2); // clamped
  assert.ok(!("extra" in bad));
  assert.deepEqual(fillView({ overlay: [1, -1] }).overlay, []);
  assert.deepEqual(fillView({ overlay: [1.5, 2] }).overlay, []);
  close(fillView({ yaw: 2 * Math.PI + 0.25 }).yaw, 0.25);
});

test("effectiveView: 3-D needs 3 columns, group needs groups, overlay needs classes in range", () => {
  const v = fillView({ dims: 3, color: "group", overlay: [0, 3] });
  assert.equal(effectiveView(v, { cols: 2 }).dims, 2);
  assert.equal(effectiveView(v, { cols: 3 }).dims, 3);
  assert.equal(effectiveView(v, { cols: 3, hasGroups: true }).color, "group");
  assert.equal(effectiveView(v, { cols: 3, labelled: true }).color, "class");
  assert.equal(effectiveView(v, { cols: 3 }).color, "time");
  assert.deepEqual(effectiveView(v, { nClasses: 4 }).overlay, [0, 3]);
  assert.deepEqual(effectiveView(v, { nClasses: 3 }).overlay, []);
  assert.equal(v.dims, 3, "the filled view (what is written back) keeps the request");
});

test("drag: right turns yaw up, down turns pitch up; pitch clamps, yaw wraps", () => {
  assert.deepEqual(dragRotation(0, 0, 10, 0), { yaw: 0.1, pitch: 0 });
  close(dragRotation(0, 0, 0, 20).pitch, 0.2);
  assert.equal(dragRotation(0, 1.5, 0, 100).pitch, Math.PI / 2);
  assert.equal(dragRotation(0, -1.5, 0, -100).pitch, -Math.PI / 2);
  const y = dragRotation(3, 0, 100, 0).yaw; // 4 rad -> 4 - 2π
  close(y, 4 - 2 * Math.PI);
  close(wrapAngle(-Math.PI), Math.PI);
});

test("signed log1p: odd, monotonic, log1p for positives, NaN kept", () => {
  assert.equal(slog1p(0), 0);
  close(slog1p(Math.E - 1), 1);
  close(slog1p(-(Math.E - 1)), -1);
  for (const v of [0.001, 0.5, 3, 1e4]) assert.equal(slog1p(-v), -slog1p(v));
  let prev = -Infinity;
  for (let v = -50; v <= 50; v += 0.5) {
    assert.ok(slog1p(v) > prev);
    prev = slog1p(v);
  }
  assert.ok(Number.isNaN(slog1p(NaN)));
});

test("rotation matrix is orthonormal; identity at yaw = pitch = 0", () => {
  assert.deepEqual(
    rotationMatrix(0, 0).map((v) => v + 0),
    [1, 0, 0, 0, 1, 0, 0, 0, 1],
  );
  const M = rotationMatrix(0.7, -0.4);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let d = 0;
      for (let k = 0; k < 3; k++) d += M[3 * i + k] * M[3 * j + k];
      close(d, i === j ? 1 : 0, 1e-12);
    }
  }
});

/** Rows of a (n, cols) array. */
const rowsOf = (pts, cols) => Float32Array.from(pts.flatMap((p) => p.slice(0, cols)));

test("2-D frame: corners of the data at the padded corners of the plot; projectRows == projectPoint", () => {
  const pts = [
    [-2, 10],
    [4, 20],
    [1, 15],
    [NaN, 0],
  ];
  const data = rowsOf(pts, 2);
  const f = makeFrame(data, 4, 2, { W: 216, H: 116, pad: 8 });
  const a = projectPoint(f, -2, 10);
  const b = projectPoint(f, 4, 20);
  close(a.x, 8);
  close(a.y, 108);
  close(b.x, 208);
  close(b.y, 8);
  const P = projectRows(f, data, 4, 2);
  assert.equal(P.ds, null);
  for (let r = 0; r < 3; r++) {
    const p = projectPoint(f, ...pts[r]);
    close(P.xs[r], p.x, 1e-3);
    close(P.ys[r], p.y, 1e-3);
  }
  assert.ok(Number.isNaN(P.xs[3]), "a NaN coordinate is a gap");
  // A third column is ignored in 2-D.
  const f3 = makeFrame(
    rowsOf(
      [
        [0, 0, 5],
        [1, 1, -5],
      ],
      3,
    ),
    2,
    3,
    { dims: 2, W: 100, H: 100, pad: 0 },
  );
  assert.equal(f3.dims, 2);
  close(projectPoint(f3, 1, 1, 99).x, 100);
});

test("2-D frame with log1p: the transform applies to points and to the bounds", () => {
  const pts = [
    [-100, 0],
    [100, 1000],
  ];
  const data = rowsOf(pts, 2);
  const f = makeFrame(data, 2, 2, { log: true, W: 100, H: 100, pad: 0 });
  close(projectPoint(f, -100, 0).x, 0);
  close(projectPoint(f, 100, 1000).x, 100);
  close(projectPoint(f, 0, 0).x, 50, 1e-9); // odd transform: 0 in the middle of ±100
  const g = makeFrame(data, 2, 2, { log: false, W: 100, H: 100, pad: 0 });
  close(projectPoint(g, 10, 0).x, 55);
  assert.ok(projectPoint(f, 10, 0).x > 70, "log1p spreads small values out");
  // Degenerate ranges widen to ±1.
  const d = makeFrame(
    rowsOf(
      [
        [3, 3],
        [3, 3],
      ],
      2,
    ),
    2,
    2,
    { W: 100, H: 100, pad: 0 },
  );
  close(projectPoint(d, 3, 3).x, 50);
});

test("3-D frame: yaw = pitch = 0 looks down z (x right, y up, z depth); scale fixed under rotation", () => {
  const pts = [
    [-1, -1, -1],
    [1, 1, 1],
    [1, -1, 0],
    [0, 0, 1],
  ];
  const data = rowsOf(pts, 3);
  const opts = { dims: 3, W: 200, H: 100, pad: 10 };
  const f = makeFrame(data, 4, 3, { ...opts, yaw: 0, pitch: 0 });
  assert.equal(f.dims, 3);
  close(f.R, Math.sqrt(3));
  const c = projectPoint(f, 0, 0, 0);
  close(c.x, 100);
  close(c.y, 50);
  close(c.depth, 0);
  const px = projectPoint(f, 1, 0, 0);
  const py = projectPoint(f, 0, 1, 0);
  const pz = projectPoint(f, 0, 0, 1);
  assert.ok(px.x > c.x && Math.abs(px.y - c.y) < 1e-9);
  assert.ok(py.y < c.y && Math.abs(py.x - c.x) < 1e-9);
  close(pz.x, c.x);
  close(pz.y, c.y);
  close(pz.depth, 1 / Math.sqrt(3));
  // Every point stays inside the plot whatever the rotation (the scale fits the farthest point's sphere).
  for (const [yaw, pitch] of [
    [0, 0],
    [0.7, 0.3],
    [2.5, -1.2],
    [-1, 1.5],
  ]) {
    const g = makeFrame(data, 4, 3, { ...opts, yaw, pitch });
    close(g.k, f.k);
    const P = projectRows(g, data, 4, 3);
    for (let r = 0; r < 4; r++) {
      assert.ok(
        P.xs[r] >= 10 - 1e-6 && P.xs[r] <= 190 + 1e-6 && P.ys[r] >= 10 - 1e-6 && P.ys[r] <= 90 + 1e-6,
        `${yaw},${pitch}`,
      );
      const p = projectPoint(g, ...pts[r]);
      close(P.xs[r], p.x, 1e-3);
      close(P.ys[r], p.y, 1e-3);
      close(P.ds[r], p.depth, 1e-6);
      assert.ok(P.ds[r] >= -1 - 1e-6 && P.ds[r] <= 1 + 1e-6);
    }
  }
  // Yaw by +90°: the +x end turns towards the viewer, +z to the right.
  const q = makeFrame(data, 4, 3, { ...opts, yaw: Math.PI / 2, pitch: 0 });
  close(projectPoint(q, 1, 0, 0).depth, -1 / Math.sqrt(3));
  assert.ok(projectPoint(q, 0, 0, 1).x > 100 + 1);
  // Pitch by +90°: +y turns towards the viewer... and the front (+z) goes down.
  const p90 = makeFrame(data, 4, 3, { ...opts, yaw: 0, pitch: Math.PI / 2 });
  assert.ok(projectPoint(p90, 0, 0, 1).y > 50 + 1);
  close(projectPoint(p90, 0, 1, 0).depth, 1 / Math.sqrt(3));
  // Only 2 columns: 3-D is not possible.
  assert.equal(makeFrame(rowsOf(pts, 2), 4, 2, { ...opts }).dims, 2);
});

test("3-D frame with log1p: projectPoint takes raw coordinates", () => {
  const pts = [
    [-10, 0, 0],
    [10, 5, 3],
    [2, -3, -7],
  ];
  const data = rowsOf(pts, 3);
  const f = makeFrame(data, 3, 3, { dims: 3, log: true, yaw: 0.4, pitch: 0.2, W: 300, H: 300 });
  const P = projectRows(f, data, 3, 3);
  for (let r = 0; r < 3; r++) {
    const p = projectPoint(f, ...pts[r]);
    close(P.xs[r], p.x, 1e-3);
    close(P.ys[r], p.y, 1e-3);
  }
});

test("axis lines: 2-D zero lines only when 0 is inside; 3-D three axes, positive end last", () => {
  const f = makeFrame(
    rowsOf(
      [
        [-1, 1],
        [3, 5],
      ],
      2,
    ),
    2,
    2,
    { W: 100, H: 100, pad: 0 },
  );
  const lines = axisLines(f);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].axis, 1);
  close(lines[0].x0, 25);
  const g = makeFrame(
    rowsOf(
      [
        [-1, -1, -1],
        [1, 3, 1],
      ],
      3,
    ),
    2,
    3,
    { dims: 3, yaw: 0, pitch: 0, W: 100, H: 100, pad: 0 },
  );
  const a = axisLines(g);
  assert.deepEqual(
    a.map((l) => l.axis),
    [0, 1, 2],
  );
  assert.ok(a[0].x1 > a[0].x0, "x axis points right");
  assert.ok(a[1].y1 < a[1].y0, "y axis points up");
  const o = projectPoint(g, 0, 0, 0);
  close(a[0].y0, o.y); // through the origin
  close(a[2].x0, o.x);
  close(a[2].x1, o.x); // z seen end-on
});

test("axis titles with the explained variance", () => {
  assert.equal(axisTitle("PCA", 0, [0.4312, 0.051, 0.009]), "PCA 1 (43%)");
  assert.equal(axisTitle("PCA", 1, [0.4312, 0.051, 0.009]), "PCA 2 (5.1%)");
  assert.equal(axisTitle("PCA", 2, [0.4312, 0.051, 0.009]), "PCA 3 (0.9%)");
  assert.equal(axisTitle("DenoisingAutoencoder", 1, null), "DenoisingAutoencoder 2");
  assert.equal(axisTitle("PCA", 3, [0.5, 0.2]), "PCA 4");
});

test("hit testing: nearest within reach, NaN skipped, candidates by range or list", () => {
  const xs = Float32Array.from([0, 10, 20, NaN, 30]);
  const ys = Float32Array.from([0, 0, 0, 0, 0]);
  assert.equal(nearestRow(xs, ys, 9, 1), 1);
  assert.equal(
    nearestRow(xs, ys, 19, 0, { from: 0, to: 2, maxDist: 8 }),
    -1,
    "20 is out of the range; 10 is 9 px away > 8",
  );
  assert.equal(nearestRow(xs, ys, 16, 0, { from: 0, to: 2, maxDist: 8 }), 1);
  assert.equal(nearestRow(xs, ys, 100, 0), -1);
  assert.equal(nearestRow(xs, ys, 29, 0, { rows: Int32Array.from([-1, 4, 0]) }), 4);
  assert.equal(nearestRow(xs, ys, 31, 0, { rows: [0, 2] }), -1, "row 4 is not a candidate");
});

test("hit testing in 3-D: rotated points are found where they are drawn; near beats far on a tie", () => {
  const pts = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [-1, -1, -1],
    [1, 1, 1],
  ];
  const data = rowsOf(pts, 3);
  const f = makeFrame(data, 5, 3, { dims: 3, yaw: 1.1, pitch: -0.6, W: 300, H: 300 });
  const P = projectRows(f, data, 5, 3);
  for (let r = 0; r < 5; r++) {
    const p = projectPoint(f, ...pts[r]);
    assert.equal(nearestRow(P.xs, P.ys, p.x + 1, p.y - 1, { ds: P.ds }), r);
  }
  // Two points drawn on the same pixel: the one nearer the viewer wins.
  const xs = Float32Array.from([50, 50.5, 80]);
  const ys = Float32Array.from([50, 50, 50]);
  const ds = Float32Array.from([-0.5, 0.7, 1]);
  assert.equal(nearestRow(xs, ys, 50, 50, { ds }), 1);
  assert.equal(nearestRow(xs, ys, 50, 50), 0, "2-D: plain nearest");
  ds[1] = -0.9;
  assert.equal(nearestRow(xs, ys, 50, 50, { ds }), 0);
});

test("lastRows: the last finite point of each sequence", () => {
  const xs = Float32Array.from([1, 2, NaN, 4, NaN, NaN]);
  assert.deepEqual(Array.from(lastRows([0, 3, 4, 6, 6], 4, xs)), [1, 3, -1, -1]);
});

test("depth cue: nearer is more opaque and larger, within bounds", () => {
  assert.ok(depthFade(1) > depthFade(0) && depthFade(0) > depthFade(-1));
  assert.ok(depthSize(1) > depthSize(-1));
  assert.equal(depthFade(1), 1);
  close(depthFade(-1), 0.35);
  close(depthFade(-5), 0.35);
  assert.equal(depthFade(NaN), depthFade(0));
});

test("colour plan: class, group, time and overlay modes", () => {
  const labels = [0, 1, 2, 1, null, 0];
  const classNames = ["a", "b", "c"];
  const groups = { name: "hands", values: ["one", "two", "one", null, "two", "one"] };
  const base = { n: 6, labels, classNames, groups };

  const cls = colorPlan("class", base);
  assert.deepEqual(cls.colors, [categorical(0), categorical(1), categorical(2), categorical(1), null, categorical(0)]);
  assert.deepEqual(
    cls.legend.map((i) => i.name),
    ["a", "b", "c"],
  );
  assert.equal(new Set(cls.colors.filter(Boolean)).size, 3, "distinct classes get distinct colours");
  assert.ok(cls.dim.every((d) => !d));

  const grp = colorPlan("group", base, { dark: true });
  assert.deepEqual(
    grp.legend.map((i) => i.name),
    ["one", "two"],
  );
  assert.equal(grp.colors[0], grp.colors[2]);
  assert.equal(grp.colors[0], categorical(0, true));
  assert.equal(grp.colors[1], categorical(1, true));
  assert.equal(grp.colors[3], null);

  const time = colorPlan("time", base);
  assert.deepEqual(time.colors, cls.colors, "time mode: other paths faint in their class colour");
  assert.deepEqual(time.legend, []);

  const ov = colorPlan("group", base, { overlay: [0, 2] });
  assert.deepEqual(ov.dim, [false, true, false, true, true, false]);
  assert.deepEqual(ov.colors, [categorical(0), null, categorical(2), null, null, categorical(0)]);
  assert.deepEqual(
    ov.legend.map((i) => i.name),
    ["a", "c"],
  );
  assert.notEqual(ov.legend[0].color, ov.legend[1].color);

  const same = colorPlan("class", base, { overlay: [1, 1] });
  assert.equal(same.legend.length, 1);
  // Group mode without groups falls back to class colours; names are never parsed.
  const evil = colorPlan("class", { n: 1, labels: [0], classNames: ["<b>x</b>"] });
  assert.equal(evil.legend[0].name, "<b>x</b>");
});

test("time colour: viridis ends", () => {
  assert.equal(timeColor(0), "rgb(68,1,84)");
  assert.equal(timeColor(1), "rgb(253,231,37)");
  assert.equal(timeColor(NaN), timeColor(0));
});
