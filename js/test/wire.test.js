import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeArray, floatToHalf } from "../dev/encode.js";
import { decodeArray, halfToFloat, shapeSize } from "../src/wire.js";

/** A DataView over `bytes` placed at `offset` inside a larger buffer with junk around it. */
function viewAt(bytes, offset) {
  const ab = new ArrayBuffer(offset + bytes.length + 5);
  const u8 = new Uint8Array(ab);
  u8.fill(0xee);
  u8.set(bytes, offset);
  return new DataView(ab, offset, bytes.length);
}

test("float32 little-endian bytes decode to the same values, respecting the DataView's byteOffset", () => {
  // 1.0 = 00 00 80 3f, -2.5 = 00 00 20 c0 (little-endian)
  const bytes = [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0];
  for (const offset of [0, 4, 3]) {
    const { data, shape } = decodeArray({ buffer: viewAt(bytes, offset), dtype: "float32", shape: [2] });
    assert.ok(data instanceof Float32Array);
    assert.deepEqual(shape, [2]);
    assert.deepEqual(Array.from(data), [1, -2.5], `byteOffset ${offset}`);
  }
});

test("float16 decodes normal, subnormal, zero, infinity and negative values", () => {
  const halves = [0x3c00, 0xc000, 0x3555, 0x0001, 0x0000, 0x8000, 0x7c00, 0x7bff];
  const bytes = halves.flatMap((h) => [h & 0xff, h >> 8]);
  for (const offset of [0, 6, 1]) {
    const { data } = decodeArray({ buffer: viewAt(bytes, offset), dtype: "float16", shape: [2, 4] });
    assert.ok(data instanceof Float32Array);
    assert.equal(data[0], 1);
    assert.equal(data[1], -2);
    assert.ok(Math.abs(data[2] - 0.333251953125) < 1e-9);
    assert.equal(data[3], 2 ** -24);
    assert.equal(data[4], 0);
    assert.ok(Object.is(data[5], -0));
    assert.equal(data[6], Infinity);
    assert.equal(data[7], 65504);
  }
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test("float16 round trip through the dev encoder stays within half precision", () => {
  const values = [0, 1, -1, 0.1, -3.3, 1000, 6e-5, 65504];
  const entry = encodeArray(values, [8], "float16", { byteOffset: 6 });
  const { data } = decodeArray(entry);
  values.forEach((v, k) => {
    assert.ok(Math.abs(data[k] - v) <= Math.abs(v) * 1e-3 + 1e-7, `${v} -> ${data[k]}`);
  });
  assert.equal(floatToHalf(1), 0x3c00);
});

test("uint8 decodes as offset + scale * byte", () => {
  const bytes = [0, 1, 128, 255];
  const { data } = decodeArray({ buffer: viewAt(bytes, 3), dtype: "uint8", shape: [4], scale: 0.5, offset: -1 });
  assert.ok(data instanceof Float32Array);
  assert.deepEqual(Array.from(data), [-1, -0.5, 63, 126.5]);
});

test("uint8 decodes the byte named by nan as NaN", () => {
  const bytes = [0, 255, 254];
  const { data } = decodeArray({ buffer: viewAt(bytes, 1), dtype: "uint8", shape: [3], scale: 1, offset: 0, nan: 255 });
  assert.equal(data[0], 0);
  assert.ok(Number.isNaN(data[1]));
  assert.equal(data[2], 254);
});

test("int32 decodes signed little-endian integers into an Int32Array", () => {
  const bytes = [0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0, 0];
  for (const offset of [0, 8, 2]) {
    const { data } = decodeArray({ buffer: viewAt(bytes, offset), dtype: "int32", shape: [3] });
    assert.ok(data instanceof Int32Array);
    assert.deepEqual(Array.from(data), [1, -1, 256]);
  }
});

test("3-D shapes, ArrayBuffer and Uint8Array buffers, and errors", () => {
  const values = Array.from({ length: 2 * 3 * 4 }, (_, k) => k - 5);
  const entry = encodeArray(values, [2, 3, 4], "float32", { byteOffset: 12 });
  const { data, shape } = decodeArray(entry);
  assert.deepEqual(shape, [2, 3, 4]);
  assert.equal(shapeSize(shape), 24);
  assert.deepEqual(Array.from(data), values);
  const copy = new Uint8Array(entry.buffer.buffer, entry.buffer.byteOffset, entry.buffer.byteLength).slice();
  assert.deepEqual(Array.from(decodeArray({ ...entry, buffer: copy.buffer }).data), values);
  assert.deepEqual(Array.from(decodeArray({ ...entry, buffer: copy }).data), values);
  assert.throws(() => decodeArray({ buffer: copy, dtype: "float64", shape: [3] }), /unsupported dtype/);
  assert.throws(() => decodeArray({ buffer: new Uint8Array(4), dtype: "float32", shape: [2] }), /needs 8 bytes/);
  assert.equal(decodeArray({ buffer: new Uint8Array(0), dtype: "float32", shape: [0, 5] }).data.length, 0);
});
