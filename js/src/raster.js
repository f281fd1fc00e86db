// Raster helpers of the channel grid (pure; no DOM): bilinear resizing of a channel map, value -> RGBA through a
// colour table, an image resized by nearest neighbour, and a map blended over an image with an opacity.

import { indexOf } from "./colormap.js";

/**
 * Resize an (h, w) map (row-major, starting at `offset` of `src`) to (H, W) by bilinear interpolation with pixel
 * centres aligned — the same numbers as torch's interpolate(mode="bilinear", align_corners=False) and
 * lstm_widget._core.channels.resize_bilinear. Returns a Float32Array(H * W).
 */
export function bilinear(src, h, w, H, W, offset = 0) {
  const out = new Float32Array(H * W);
  const axis = (n, N) => {
    // per output index: the two source indices and the weight of the second
    const i0 = new Int32Array(N);
    const i1 = new Int32Array(N);
    const f = new Float32Array(N);
    const s = n / N;
    for (let k = 0; k < N; k++) {
      const x = Math.max(0, (k + 0.5) * s - 0.5);
      const a = Math.min(n - 1, Math.floor(x));
      i0[k] = a;
      i1[k] = Math.min(n - 1, a + 1);
      f[k] = x - a;
    }
    return { i0, i1, f };
  };
  const ys = axis(h, H);
  const xs = axis(w, W);
  for (let r = 0; r < H; r++) {
    const top = offset + ys.i0[r] * w;
    const bot = offset + ys.i1[r] * w;
    const fy = ys.f[r];
    for (let c = 0; c < W; c++) {
      const a = xs.i0[c];
      const b = xs.i1[c];
      const fx = xs.f[c];
      const upper = src[top + a] + (src[top + b] - src[top + a]) * fx;
      const lower = src[bot + a] + (src[bot + b] - src[bot + a]) * fx;
      out[r * W + c] = upper + (lower - upper) * fy;
    }
  }
  return out;
}

/**
 * RGBA pixels (Uint8ClampedArray, opaque) of `n` values starting at `offset` of `values`, coloured on [lo, hi]
 * through `table` (an RGBA lookup table from colormap.js); NaN is transparent.
 */
export function mapPixels(values, n, lo, hi, table, offset = 0) {
  const size = table.length / 4;
  const px = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const k = indexOf(values[offset + i], lo, hi, size);
    if (k < 0) continue;
    px.set(table.subarray(4 * k, 4 * k + 3), 4 * i);
    px[4 * i + 3] = 255;
  }
  return px;
}

/**
 * An image (values in [0, 1], shape [h, w] grey or [h, w, 3] RGB) resized to (H, W) by nearest neighbour, as RGBA.
 */
export function imagePixels(image, shape, H, W) {
  const [h, w] = shape;
  const rgb = shape.length === 3 && shape[2] >= 3;
  const ch = rgb ? shape[2] : 1;
  const px = new Uint8ClampedArray(H * W * 4);
  for (let r = 0; r < H; r++) {
    const y = Math.min(h - 1, Math.floor(((r + 0.5) * h) / H));
    for (let c = 0; c < W; c++) {
      const x = Math.min(w - 1, Math.floor(((c + 0.5) * w) / W));
      const s = (y * w + x) * ch;
      const o = 4 * (r * W + c);
      px[o] = 255 * image[s];
      px[o + 1] = 255 * image[rgb ? s + 1 : s];
      px[o + 2] = 255 * image[rgb ? s + 2 : s];
      px[o + 3] = 255;
    }
  }
  return px;
}

/**
 * `over` blended onto `base` (both RGBA of one size) with opacity `alpha` in [0, 1], each pixel's opacity times its
 * weight in [0, 1] when `weights` is given (a channel map over an image: alpha × the map's value, so that the image
 * shows through where the channel is quiet). A transparent `over` pixel leaves the base. A new array.
 */
export function blend(base, over, alpha, weights = null) {
  const out = new Uint8ClampedArray(base.length);
  const a = Math.max(0, Math.min(1, alpha));
  for (let i = 0, p = 0; i < base.length; i += 4, p++) {
    let t = over[i + 3] ? a : 0;
    if (weights) {
      const w = weights[p];
      t *= w !== w ? 0 : w < 0 ? 0 : w > 1 ? 1 : w;
    }
    out[i] = base[i] + (over[i] - base[i]) * t;
    out[i + 1] = base[i + 1] + (over[i + 1] - base[i + 1]) * t;
    out[i + 2] = base[i + 2] + (over[i + 2] - base[i + 2]) * t;
    out[i + 3] = 255;
  }
  return out;
}
