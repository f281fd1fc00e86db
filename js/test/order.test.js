import assert from "node:assert/strict";
import { test } from "node:test";
import { block } from "../dev/blocks.js";
import { correlationMatrix, orderUnits, unitStats } from "../src/order.js";

test("index order is the identity", () => {
  const { data, T, U } = block([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual(Array.from(orderUnits("index", data, T, U)), [0, 1, 2]);
});

test("peak order: largest max |value| first, ties by index", () => {
  const { data, T, U } = block([
    [0.1, 0.2, 0.1], // peak 0.2
    [0, -0.9, 0], // peak 0.9
    [0.5, 0.5, 0.5], // peak 0.5
    [0.2, 0, 0], // peak 0.2 (tie with unit 0)
  ]);
  assert.deepEqual(Array.from(orderUnits("peak", data, T, U)), [1, 2, 0, 3]);
});

test("variance order: most variable first; constant units last", () => {
  const { data, T, U } = block([
    [1, 1, 1, 1], // var 0
    [0, 1, 0, 1], // var 0.25
    [0, 4, 0, 4], // var 4
    [0, 2, 0, 2], // var 1
  ]);
  assert.deepEqual(Array.from(orderUnits("variance", data, T, U)), [2, 3, 1, 0]);
  const s = unitStats(data, T, U);
  assert.deepEqual(Array.from(s.variance), [0, 0.25, 4, 1]);
  assert.deepEqual(Array.from(s.mean), [1, 0.5, 2, 1]);
});

test("clustered order puts correlated units next to each other and constant units last", () => {
  const T = 40;
  const a = Array.from({ length: T }, (_, t) => Math.sin(t / 3));
  const b = Array.from({ length: T }, (_, t) => Math.cos(t / 7) * 2);
  const series = [
    a.map((v) => v * 3), // 0: family A (largest variance -> chain start)
    b.map((v) => v + 0.01), // 1: family B
    a.map((v) => v * 2 + 1), // 2: family A
    Array(T).fill(0.3), // 3: constant
    b.map((v) => v * 0.5), // 4: family B
    a.map((v) => v * 0.7 - 2), // 5: family A
  ];
  const { data, U } = block(series);
  const order = Array.from(orderUnits("clustered", data, T, U));
  assert.equal(order.length, U);
  assert.deepEqual([...order].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(order[U - 1], 3, "constant unit last");
  const pos = (u) => order.indexOf(u);
  const fam = (units) => units.map(pos).sort((x, y) => x - y);
  const A = fam([0, 2, 5]);
  const B = fam([1, 4]);
  assert.equal(A[2] - A[0], 2, `family A contiguous in ${order}`);
  assert.equal(B[1] - B[0], 1, `family B contiguous in ${order}`);
});

test("correlation matrix of identical, opposite and constant series", () => {
  const { data, T, U } = block([
    [1, 2, 3, 4],
    [2, 4, 6, 8],
    [4, 3, 2, 1],
    [5, 5, 5, 5],
  ]);
  const { C, norms } = correlationMatrix(data, T, U);
  const c = (a, b) => C[a * U + b];
  assert.ok(Math.abs(c(0, 1) - 1) < 1e-6);
  assert.ok(Math.abs(c(0, 2) + 1) < 1e-6);
  assert.equal(c(0, 3), 0);
  assert.equal(norms[3], 0);
});

test("NaN steps are ignored", () => {
  const { data, T, U } = block([
    [NaN, 1, 0],
    [0.5, NaN, 0.2],
  ]);
  assert.deepEqual(Array.from(orderUnits("peak", data, T, U)), [0, 1]);
});
