// Wire: bytes from the kernel -> typed arrays (see js/PROTOCOL.md, "Encoded array").
// decodeArray({buffer, dtype, shape, scale?, offset?}) -> {data: Float32Array | Int32Array, shape}
// Bytes are little-endian, C order. float16 and uint8 (value = offset + scale * byte) widen to Float32Array.
// `buffer` may be a DataView (what ipywidgets hands us), an ArrayBuffer, a typed array or a plain byte list;
// a DataView's byteOffset/byteLength are respected.

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const DTYPE_SIZES = { float32: 4, float16: 2, uint8: 1, int32: 4 };

/** Number of elements of a shape (product of its dimensions; 1 for a scalar shape []). */
export function shapeSize(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The bytes of a buffer-like value as a Uint8Array view (no copy). */
export function bytesOf(buffer) {
  if (buffer == null) return new Uint8Array(0);
  if (buffer instanceof Uint8Array) return buffer;
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer) return new Uint8Array(buffer);
  if (Array.isArray(buffer)) return Uint8Array.from(buffer);
  // Some transports hand over {buffer: ArrayBuffer} wrappers.
  if (buffer.buffer instanceof ArrayBuffer) return bytesOf(buffer.buffer);
  throw new TypeError(`decodeArray: unsupported buffer type ${Object.prototype.toString.call(buffer)}`);
}

let HALF_TABLE = null;
/** Float32 value of every float16 bit pattern (built once, 256 KiB). */
function halfTable() {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfToFloat(h);
  HALF_TABLE = t;
  return t;
}

/** IEEE 754 binary16 bit pattern -> number. */
export function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24; // zero / subnormal
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Decode one encoded array.
 * @returns {{data: Float32Array|Int32Array, shape: number[]}}
 */
export function decodeArray(entry) {
  if (!entry || typeof entry !== "object") throw new TypeError("decodeArray: expected an encoded array object");
  const dtype = entry.dtype;
  const shape = (entry.shape || []).map((d) => Number(d));
  const n = shapeSize(shape);
  const size = DTYPE_SIZES[dtype];
  if (!size) throw new TypeError(`decodeArray: unsupported dtype ${JSON.stringify(dtype)}`);
  const bytes = bytesOf(entry.buffer);
  if (bytes.byteLength < n * size) {
    throw new RangeError(
      `decodeArray: ${dtype} ${JSON.stringify(shape)} needs ${n * size} bytes, got ${bytes.byteLength}`,
    );
  }
  const { buffer, byteOffset } = bytes;
  const dv = new DataView(buffer, byteOffset, n * size);

  if (dtype === "float32") {
    // Zero-copy view when aligned on a little-endian host (every browser); copy otherwise.
    if (LITTLE_ENDIAN_HOST && byteOffset % 4 === 0) return { data: new Float32Array(buffer, byteOffset, n), shape };
    const out = new Float32Array(n);
    for (let k = 0; k < n; k++) out[k] = dv.getFloat32(4 * k, true);
    return { data: out, shape };
  }
  if (dtype === "int32") {
    if (LITTLE_ENDIAN_HOST && byteOffset % 4 === 0) return { data: new Int32Array(buffer, byteOffset, n), shape };
    const out = new Int32Array(n);
    for (let k = 0; k < n; k++) out[k] = dv.getInt32(4 * k, true);
    return { data: out, shape };
  }
  if (dtype === "float16") {
    const table = halfTable();
    const out = new Float32Array(n);
    if (LITTLE_ENDIAN_HOST && byteOffset % 2 === 0) {
      const u16 = new Uint16Array(buffer, byteOffset, n);
      for (let k = 0; k < n; k++) out[k] = table[u16[k]];
    } else {
      for (let k = 0; k < n; k++) out[k] = table[dv.getUint16(2 * k, true)];
    }
    return { data: out, shape };
  }
  // uint8: value = offset + scale * byte
  const scale = entry.scale == null ? 1 : Number(entry.scale);
  const offset = entry.offset == null ? 0 : Number(entry.offset);
  const lut = new Float32Array(256);
  for (let b = 0; b < 256; b++) lut[b] = offset + scale * b;
  if (entry.nan != null) lut[Number(entry.nan) & 255] = Number.NaN; // steps where a module did not run
  const out = new Float32Array(n);
  const u8 = new Uint8Array(buffer, byteOffset, n);
  for (let k = 0; k < n; k++) out[k] = lut[u8[k]];
  return { data: out, shape };
}

/** The entries of `arrays` (name -> encoded array) named in `names`, decoded; an absent entry or one that cannot be
 * decoded (said in the console, with `what`) is left out. */
export function decodeNamed(arrays, names, what = "lstm_widget") {
  const out = {};
  for (const name of names) {
    const entry = arrays[name];
    if (!entry?.dtype) continue;
    try {
      out[name] = decodeArray(entry);
    } catch (err) {
      console.warn(`${what}: cannot decode ${name}`, err);
    }
  }
  return out;
}
