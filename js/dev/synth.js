// Dev helper (not bundled): synthetic data sets in the exact wire format of js/PROTOCOL.md.
//   smallSet(): a real (random-weight) LSTM run over class-dependent smooth inputs: N sequences, D=12, H=100, C=9,
//               with a nearest-class-centroid "head" for probabilities and PCA of h for the trajectory.
//   jvSet():    the same at the Japanese Vowels size (640 sequences, T 7..29).
//   bigSet():   one sequence of T=10000 steps × H=1024 units of cheap structured signals.
//   datasetTrajFor(set): a DatasetExplorer's `_dataset_traj` around a window set (the trajectory's background).
// Every array is encoded with encodeArray (DataView at a non-zero byteOffset); dtypes are mixed on purpose.

import { decodeArray } from "../src/wire.js";
import { encodeArray } from "./encode.js";

export function rng(seed = 1) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  next.normal = () => {
    const u = Math.max(1e-12, next());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return next;
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));

/** A random-weight LSTM (PyTorch gate order i, f, g, o) that can step. */
export class TinyLSTM {
  constructor(D, H, seed = 7) {
    const r = rng(seed);
    this.D = D;
    this.H = H;
    this.W = Float32Array.from({ length: 4 * H * D }, () => (r.normal() * 1.6) / Math.sqrt(D));
    this.U = Float32Array.from({ length: 4 * H * H }, () => (r.normal() * 1.1) / Math.sqrt(H));
    this.b = Float32Array.from({ length: 4 * H }, (_, k) => r.normal() * 0.3 + (k >= H && k < 2 * H ? 1.0 : 0));
  }

  /** One step: returns {h, c, i, f, g, o} (Float32Array H each) given x and the previous (h, c). */
  step(x, hPrev, cPrev) {
    const { D, H, W, U, b } = this;
    const z = new Float32Array(4 * H);
    for (let k = 0; k < 4 * H; k++) {
      let acc = b[k];
      const wo = k * D;
      for (let d = 0; d < D; d++) acc += W[wo + d] * x[d];
      const uo = k * H;
      for (let j = 0; j < H; j++) acc += U[uo + j] * hPrev[j];
      z[k] = acc;
    }
    const i = new Float32Array(H);
    const f = new Float32Array(H);
    const g = new Float32Array(H);
    const o = new Float32Array(H);
    const c = new Float32Array(H);
    const h = new Float32Array(H);
    for (let u = 0; u < H; u++) {
      i[u] = sigmoid(z[u]);
      f[u] = sigmoid(z[H + u]);
      g[u] = Math.tanh(z[2 * H + u]);
      o[u] = sigmoid(z[3 * H + u]);
      c[u] = f[u] * cPrev[u] + i[u] * g[u];
      h[u] = o[u] * Math.tanh(c[u]);
    }
    return { h, c, i, f, g, o };
  }
}

/** Class-dependent smooth input curves (like cepstral coefficients): a function (t, T) -> Float32Array(D). */
export function inputMaker(D, C, seed = 3) {
  const r = rng(seed);
  const proto = Array.from({ length: C }, () =>
    Array.from({ length: D }, () => ({ a: 0.3 + r() * 0.9, w: 0.5 + r() * 2, p: r() * 6.28, m: r.normal() * 0.6 })),
  );
  return (cls, jitter) => (t, T) => {
    const x = new Float32Array(D);
    for (let d = 0; d < D; d++) {
      const q = proto[cls][d];
      x[d] = q.m + q.a * Math.sin((q.w * 6.28 * t) / Math.max(8, T) + q.p + jitter.p[d]) + jitter.n() * 0.08;
    }
    return x;
  };
}

/** Top-K (2) principal axes of rows (n, H) by power iteration; returns {mean, axes: [Float64Array H, ...]}. */
export function pca2(rows, n, H, K = 2) {
  const mean = new Float64Array(H);
  for (let r = 0; r < n; r++) for (let u = 0; u < H; u++) mean[u] += rows[r * H + u] / n;
  const cov = new Float64Array(H * H);
  const x = new Float64Array(H);
  for (let r = 0; r < n; r++) {
    for (let u = 0; u < H; u++) x[u] = rows[r * H + u] - mean[u];
    for (let a = 0; a < H; a++) {
      const xa = x[a];
      if (!xa) continue;
      const o = a * H;
      for (let b = a; b < H; b++) cov[o + b] += xa * x[b];
    }
  }
  for (let a = 0; a < H; a++) for (let b = 0; b < a; b++) cov[a * H + b] = cov[b * H + a];
  const axes = [];
  for (let k = 0; k < K; k++) {
    let v = Float64Array.from({ length: H }, (_, u) => Math.sin(u * 1.7 + k + 1));
    for (let it = 0; it < 80; it++) {
      for (const prev of axes) {
        let d = 0;
        for (let u = 0; u < H; u++) d += v[u] * prev[u];
        for (let u = 0; u < H; u++) v[u] -= d * prev[u];
      }
      const w = new Float64Array(H);
      for (let a = 0; a < H; a++) {
        let acc = 0;
        const o = a * H;
        for (let b = 0; b < H; b++) acc += cov[o + b] * v[b];
        w[a] = acc;
      }
      let norm = 0;
      for (let u = 0; u < H; u++) norm += w[u] * w[u];
      norm = Math.sqrt(norm) || 1;
      for (let u = 0; u < H; u++) w[u] /= norm;
      v = w;
    }
    axes.push(v);
  }
  return { mean, axes };
}

export function project(h, p) {
  const out = p.axes.map(() => 0);
  for (let u = 0; u < h.length; u++) {
    const x = h[u] - p.mean[u];
    for (let k = 0; k < out.length; k++) out[k] += x * p.axes[k][u];
  }
  return out;
}

/** The meta fields fixed by the sizes: D inputs, one layer of H units (the six quantities), a head over C classes. */
const sizeMeta = (D, H, C) => ({
  class_names: Array.from({ length: C }, (_, k) => `speaker ${k + 1}`),
  feature_names: Array.from({ length: D }, (_, k) => `LPC ${k + 1}`),
  layer_names: ["layer0"],
  quantities: ["h", "c", "i", "f", "g", "o"],
  units: { h: H, c: H, i: H, f: H, g: H, o: H },
  has_head: true,
  n_classes: C,
});

/** meta.limits: [min, max] of every quantity of q. */
function limitsOf(q) {
  const limits = {};
  for (const [k, v] of Object.entries(q)) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < v.length; j++) {
      if (v[j] < lo) lo = v[j];
      if (v[j] > hi) hi = v[j];
    }
    limits[k] = [lo, hi];
  }
  return limits;
}

/** The wire arrays of a set of `rows` steps; dtypes mixed on purpose (g's is the caller's). */
function encodeSet({ q, inputs, probs, traj }, { rows, D, H, C, dims, gDtype }) {
  return {
    inputs: encodeArray(inputs, [rows, D], "float32"),
    h: encodeArray(q.h, [1, rows, H], "float32"),
    c: encodeArray(q.c, [1, rows, H], "float16"),
    g: encodeArray(q.g, [1, rows, H], gDtype),
    i: encodeArray(q.i, [1, rows, H], "uint8"),
    f: encodeArray(q.f, [1, rows, H], "uint8"),
    o: encodeArray(q.o, [1, rows, H], "uint8"),
    probs: encodeArray(probs, [rows, C], "float32"),
    traj: encodeArray(traj, [rows, dims], "float32"),
  };
}

/** Run the tiny LSTM over N labelled sequences and build {meta, arrays, model: {...live stepping}}. */
export function lstmSet({
  N = 3,
  Tmin = 20,
  Tmax = 30,
  D = 12,
  H = 100,
  C = 9,
  seed = 11,
  names = null,
  dims = 2,
} = {}) {
  const r = rng(seed);
  const lstm = new TinyLSTM(D, H, seed + 1);
  const makeInput = inputMaker(D, C, seed + 2);
  const lengths = [];
  const labels = [];
  const perSeq = [];
  for (let s = 0; s < N; s++) {
    const T = Tmin + Math.floor(r() * (Tmax - Tmin + 1));
    const label = N <= C ? s % C : Math.floor(r() * C);
    lengths.push(T);
    labels.push(label);
    const jitter = { p: Array.from({ length: D }, () => r.normal() * 0.25), n: r.normal };
    const gen = makeInput(label, jitter);
    let h = new Float32Array(H);
    let c = new Float32Array(H);
    const steps = [];
    for (let t = 0; t < T; t++) {
      const x = gen(t, T);
      const out = lstm.step(x, h, c);
      h = out.h;
      c = out.c;
      steps.push({ x, ...out });
    }
    perSeq.push(steps);
  }
  const offsets = [0];
  for (const T of lengths) offsets.push(offsets[offsets.length - 1] + T);
  const sumT = offsets[N];
  const fill = (key, width) => {
    const out = new Float32Array(sumT * width);
    let r0 = 0;
    for (const steps of perSeq) for (const st of steps) out.set(st[key], width * r0++);
    return out;
  };
  const q = { h: fill("h", H), c: fill("c", H), i: fill("i", H), f: fill("f", H), g: fill("g", H), o: fill("o", H) };
  const inputs = fill("x", D);
  // Head: nearest class centroid of the final hidden state, softmax of negative squared distances.
  const centroids = Array.from({ length: C }, () => new Float64Array(H));
  const counts = new Array(C).fill(0);
  perSeq.forEach((steps, s) => {
    const hT = steps[steps.length - 1].h;
    counts[labels[s]]++;
    for (let u = 0; u < H; u++) centroids[labels[s]][u] += hT[u];
  });
  centroids.forEach((m, k) => {
    if (counts[k]) for (let u = 0; u < m.length; u++) m[u] /= counts[k];
  });
  // Scale: the mean squared distance between class centroids.
  let spread = 0;
  let pairs = 0;
  for (let a = 0; a < C; a++)
    for (let b = a + 1; b < C; b++) {
      if (!counts[a] || !counts[b]) continue;
      for (let u = 0; u < H; u++) spread += (centroids[a][u] - centroids[b][u]) ** 2;
      pairs++;
    }
  const beta = 4 / Math.max(1e-6, spread / Math.max(1, pairs));
  const head = (h) => {
    const logits = centroids.map((m, k) => {
      if (!counts[k]) return -1e9;
      let d = 0;
      for (let u = 0; u < H; u++) d += (h[u] - m[u]) ** 2;
      return -beta * d;
    });
    const mx = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - mx));
    const z = e.reduce((a, b) => a + b, 0);
    return Float32Array.from(e, (v) => v / z);
  };
  const probs = new Float32Array(sumT * C);
  for (let r0 = 0; r0 < sumT; r0++) probs.set(head(q.h.subarray(r0 * H, (r0 + 1) * H)), r0 * C);
  const proj = pca2(q.h, sumT, H, dims);
  const traj = new Float32Array(sumT * dims);
  for (let r0 = 0; r0 < sumT; r0++) traj.set(project(q.h.subarray(r0 * H, (r0 + 1) * H), proj), dims * r0);

  const meta = {
    n_sequences: N,
    lengths,
    offsets,
    labels,
    ...sizeMeta(D, H, C),
    limits: limitsOf(q),
    projection: { name: "PCA", dims, layer: 0, quantity: "h", explained: null },
    // Two groups (like "one hand" / "two hands"): even and odd classes.
    groups: { name: "hands", values: labels.map((l) => (l % 2 ? "two hands" : "one hand")) },
    sequence_names: names ? names(N) : Array.from({ length: N }, (_, s) => `utterance ${s + 1}`),
  };
  const arrays = encodeSet({ q, inputs, probs, traj }, { rows: sumT, D, H, C, dims, gDtype: "float32" });
  // Live stepping of a new sequence of class `label`: yields append-message fields + buffers step by step.
  const live = (label, T, seedLive = 99) => {
    const rl = rng(seedLive);
    const jitter = { p: Array.from({ length: D }, () => rl.normal() * 0.25), n: rl.normal };
    const gen = makeInput(label, jitter);
    let h = new Float32Array(H);
    let c = new Float32Array(H);
    let t = 0;
    return () => {
      if (t >= T) return null;
      const x = gen(t, T);
      const out = lstm.step(x, h, c);
      h = out.h;
      c = out.c;
      const fields = [];
      const buffers = [];
      const add = (name, values, shape, dtype = "float32") => {
        const e = encodeArray(values, shape, dtype, { byteOffset: 0 });
        buffers.push(e.buffer);
        delete e.buffer;
        fields.push({ name, ...e });
      };
      for (const k of ["h", "c", "i", "f", "g", "o"]) add(k, out[k], [1, 1, H], k === "c" ? "float16" : "float32");
      add("inputs", x, [1, D]);
      add("probs", head(h), [1, C]);
      add("traj", Float32Array.from(project(h, proj)), [1, dims]);
      const start = t++;
      return { start, fields, buffers };
    };
  };
  return { meta, arrays, live };
}

export function smallSet(opts = {}) {
  return lstmSet({ N: 3, Tmin: 20, Tmax: 30, seed: 11, ...opts });
}

/** 20 sequences (Japanese Vowels lengths): classes, groups and 3-D trajectories to look at. */
export function midSet(opts = {}) {
  return lstmSet({ N: 20, Tmin: 7, Tmax: 29, seed: 5, ...opts });
}

export function jvSet(opts = {}) {
  return lstmSet({
    N: 640,
    Tmin: 7,
    Tmax: 29,
    seed: 5,
    ...opts,
    names: (N) => Array.from({ length: N }, (_, s) => (s < 270 ? `train ${s + 1}` : `test ${s - 269}`)),
  });
}

/** One long sequence, T × H, of cheap structured signals (16 families of units sharing rhythms). */
export function bigSet({ T = 10000, H = 1024, D = 12, C = 9 } = {}) {
  const r = rng(17);
  const families = 16;
  const fam = Array.from({ length: families }, () => ({
    w: (2 * Math.PI) / (20 + r() * 3000),
    w2: (2 * Math.PI) / (7 + r() * 60),
  }));
  const units = Array.from({ length: H }, () => {
    const f = Math.floor(r() * families);
    return { f, p: r() * 0.6, a: 0.4 + r() * 2.2, s: r() < 0.5 ? -1 : 1, b: r.normal() * 0.4 };
  });
  const q = {};
  for (const k of ["h", "c", "i", "f", "g", "o"]) q[k] = new Float32Array(T * H);
  const sinT = new Float32Array(T * families);
  const sin2 = new Float32Array(T * families);
  for (let t = 0; t < T; t++)
    for (let k = 0; k < families; k++) {
      sinT[t * families + k] = Math.sin(fam[k].w * t);
      sin2[t * families + k] = Math.sin(fam[k].w2 * t);
    }
  for (let t = 0; t < T; t++) {
    const o = t * H;
    for (let u = 0; u < H; u++) {
      const U = units[u];
      const a = sinT[t * families + U.f];
      const b2 = sin2[t * families + U.f];
      const c = U.s * U.a * (a + 0.25 * b2) + U.b;
      const gi = sigmoid(2 * a + U.b);
      const gf = sigmoid(1.5 + b2);
      const go = sigmoid(U.s * (a - 0.3 * b2));
      q.c[o + u] = c;
      q.i[o + u] = gi;
      q.f[o + u] = gf;
      q.o[o + u] = go;
      q.g[o + u] = Math.tanh(U.s * (a + b2));
      q.h[o + u] = go * Math.tanh(c);
    }
  }
  const inputs = new Float32Array(T * D);
  for (let t = 0; t < T; t++)
    for (let d = 0; d < D; d++) inputs[t * D + d] = Math.sin(t / (30 + 40 * d) + d) * (1 - d / D) + 0.05 * r.normal();
  const probs = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    const e = Array.from({ length: C }, (_, k) => Math.exp(2 * Math.sin(t / 400 + k)));
    const z = e.reduce((a, b) => a + b, 0);
    for (let k = 0; k < C; k++) probs[t * C + k] = e[k] / z;
  }
  const traj = new Float32Array(T * 2);
  for (let t = 0; t < T; t++) {
    traj[2 * t] = Math.cos(t / 700) * (1 + t / T) + 0.1 * Math.sin(t / 37);
    traj[2 * t + 1] = Math.sin(t / 900) * (1 + 0.5 * Math.sin(t / 2000)) + 0.1 * Math.cos(t / 29);
  }
  const meta = {
    n_sequences: 1,
    lengths: [T],
    offsets: [0, T],
    labels: [3],
    ...sizeMeta(D, H, C),
    limits: limitsOf(q),
    projection: { name: "PCA", dims: 2, layer: 0, quantity: "h" },
    sequence_names: [`long recording (${T} steps)`],
  };
  const arrays = encodeSet({ q, inputs, probs, traj }, { rows: T, D, H, C, dims: 2, gDtype: "float16" });
  return { meta, arrays, live: null };
}

/**
 * A DatasetExplorer's `_dataset_traj` for a window `set` (lstmSet): `n` sequences of the data set, of which the
 * first `set.meta.n_sequences` are the window's own paths (so the two layers coincide) and the rest `T`-step random
 * walks with a drift per class, started around the window's points and scaled to their range. Returns the trait
 * ({points, offsets, classes, layer, quantity, note}, encoded as the kernel sends it).
 */
export function datasetTrajFor(set, { n = 10000, T = 100, seed = 23, note = null } = {}) {
  const traj = decodeArray(set.arrays.traj);
  const [wRows, dims] = traj.shape;
  const meta = set.meta;
  const W = meta.n_sequences;
  const C = Math.max(1, meta.class_names ? meta.class_names.length : 1);
  const total = wRows + Math.max(0, n - W) * T;
  const points = new Float32Array(total * dims);
  points.set(traj.data.subarray(0, wRows * dims));
  const lo = new Array(dims).fill(Infinity);
  const hi = new Array(dims).fill(-Infinity);
  for (let r = 0; r < wRows; r++) {
    for (let k = 0; k < dims; k++) {
      const v = traj.data[r * dims + k];
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
  }
  const span = lo.map((l, k) => (hi[k] > l ? hi[k] - l : 1));
  const offsets = new Int32Array(n + 1);
  const classes = new Int32Array(n);
  for (let s = 0; s < Math.min(n, W); s++) {
    offsets[s + 1] = meta.offsets[s + 1];
    classes[s] = meta.labels[s] ?? -1;
  }
  const r = rng(seed);
  let row = wRows;
  for (let s = W; s < n; s++) {
    const c = s % C;
    classes[s] = c;
    const p = lo.map((l, k) => l + span[k] * (0.2 + 0.6 * r()));
    const drift = lo.map((_, k) => span[k] * 0.004 * Math.cos(c * 1.9 + k * 2.3));
    for (let t = 0; t < T; t++, row++) {
      for (let k = 0; k < dims; k++) {
        p[k] += drift[k] + span[k] * 0.012 * (r() - 0.5);
        points[row * dims + k] = p[k];
      }
    }
    offsets[s + 1] = row;
  }
  return {
    points: encodeArray(points, [total, dims], "float32"),
    offsets: encodeArray(offsets, [n + 1], "int32"),
    classes: encodeArray(classes, [n], "int32"),
    layer: meta.projection?.layer ?? 0,
    quantity: meta.projection?.quantity ?? "h",
    note,
  };
}
