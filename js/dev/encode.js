// Dev/test helper (not bundled): numbers -> encoded arrays exactly as js/PROTOCOL.md describes (little-endian
// bytes in a DataView, optionally at a non-zero byteOffset inside a larger buffer, as ipywidgets delivers them).

/** float -> IEEE 754 binary16 bits (round to nearest even). */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
export function floatToHalf(v) {
  const f32 = F32;
  const u32 = U32;
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> 0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * Encode numbers as {buffer: DataView, dtype, shape[, scale, offset]}.
 * opts.byteOffset: where the bytes start inside a larger ArrayBuffer (default 8, to exercise byteOffset handling).
 */
export function encodeArray(values, shape, dtype = "float32", { byteOffset = 8 } = {}) {
  const n = shape.reduce((a, b) => a * b, 1);
  const size = { float32: 4, float16: 2, uint8: 1, int32: 4 }[dtype];
  const ab = new ArrayBuffer(byteOffset + n * size + 3);
  const dv = new DataView(ab, byteOffset, n * size);
  const entry = { buffer: dv, dtype, shape: shape.slice() };
  if (dtype === "float32") for (let k = 0; k < n; k++) dv.setFloat32(4 * k, values[k], true);
  else if (dtype === "int32") for (let k = 0; k < n; k++) dv.setInt32(4 * k, values[k], true);
  else if (dtype === "float16") for (let k = 0; k < n; k++) dv.setUint16(2 * k, floatToHalf(values[k]), true);
  else if (dtype === "uint8") {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < n; k++) {
      if (values[k] < lo) lo = values[k];
      if (values[k] > hi) hi = values[k];
    }
    if (!(hi > lo)) [lo, hi] = [lo === Infinity ? 0 : lo, (lo === Infinity ? 0 : lo) + 1];
    const scale = (hi - lo) / 255;
    for (let k = 0; k < n; k++) dv.setUint8(k, Math.round((values[k] - lo) / scale));
    entry.scale = scale;
    entry.offset = lo;
  } else throw new Error(`dtype ${dtype}`);
  return entry;
}
