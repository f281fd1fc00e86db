// The one store of the front end: decoded arrays, meta, and the linked view state (cursor t, sequence, layer,
// quantity, selected units, playing, speed, hover, unit order). Views read it; loop.js repaints on its changes.
//
// Data layout: every time-major array is kept as one growable column per layer: name -> {L, rowSize, cols[L]},
// cols[l] holding rows 0..sumT-1 (row = one time step, rowSize values). Sequence s occupies rows
// offsets[s] .. offsets[s+1]. (L, sumT, U) arrays (h, c, i, f, g, o) become L columns of rowSize U; (sumT, D)
// arrays (inputs, probs, traj) one column of rowSize D. Live appends ("begin"/"append" custom messages) grow the
// columns in place (capacity doubling, copy-on-write over the model's own buffers). A streamed sequence is
// provisional until the kernel's "end" (or traits that hold it) commits it; "abort" removes it and puts the cursor
// back where Python has it (js/PROTOCOL.md, "Streams").
//
// State values coming from the model are kept as given (Python may set t before the data that makes it valid
// arrives); `snapshot()` clamps them for display. Values set by the page are clamped when set.

import { COLOR_SCALES } from "./colorscale.js";
import { followCursor, isWhole, visibleWindow } from "./lod.js";
import { decodeArray } from "./wire.js";

/** Every quantity that has a `_data_<q>` trait: an LSTM's h, c, i, f, g, o and a GRU's r, z, n. Which ones a model
 * records is `meta.quantities` (what the views go by). */
export const QUANTITIES = ["h", "c", "i", "f", "g", "o", "r", "z", "n"];
export const ORDER_MODES = ["index", "peak", "variance", "clustered"];
/** State keys mirrored in the widget model's traits. */
export const SYNCED_KEYS = [
  "t",
  "sequence",
  "layer",
  "quantity",
  "selected_units",
  "playing",
  "speed",
  "projection_layer",
  "projection_quantity",
  "traj_view",
  "gate_details",
  "why_open",
  "influence_method",
  "comparison",
  "pattern_query", // the Why section (why.js)
  "fixed_points_request", // the trajectory's fixed points (fixedpoints.js)
  "color_scale", // the heatmap's colour range (colorscale.js)
];
/** State keys the page does not write while the cursor is on a provisional (streaming) sequence: Python does not
 * have that sequence yet (js/PROTOCOL.md, "Streams"). */
export const HELD_WHILE_PROVISIONAL = ["sequence", "t"];
/** State keys written at most once per sync interval (sync.js): the cursor while playing or scrubbing, the
 * trajectory's view while it is rotated by dragging. */
export const THROTTLED_KEYS = ["t", "traj_view"];

/** The value of synced `key` to write to the model from `state`: a fresh copy of a list or an object per write. */
export function traitValue(state, key) {
  if (key === "selected_units") return state.selected_units.slice();
  if (key === "traj_view") return JSON.parse(JSON.stringify(state.traj_view));
  return state[key];
}

/** A growable 2-D block of rows (typed array storage with spare capacity). */
export class Column {
  constructor(data, rowSize, rows, owned = false) {
    this.data = data;
    this.rowSize = rowSize;
    this.rows = rows;
    this.owned = owned; // false while `data` may alias the model's buffer: copy before writing
  }

  static empty(rowSize, rows = 0, Type = Float32Array, fill = NaN) {
    const data = new Type(Math.max(1, rows * rowSize));
    if (Type === Float32Array && rows > 0) data.fill(fill);
    return new Column(data, rowSize, rows, true);
  }

  get capacityRows() {
    return this.rowSize > 0 ? Math.floor(this.data.length / this.rowSize) : Infinity;
  }

  /** Make sure we own the storage and it holds at least `rows` rows. */
  reserve(rows) {
    if (this.owned && this.capacityRows >= rows) return;
    // Spare room for later appends (also on the first copy of a borrowed buffer: live appends follow loads).
    const cap = rows > this.rows ? Math.max(rows, Math.ceil(this.rows * 1.5) + 16) : rows;
    const next = new this.data.constructor(Math.max(1, cap * this.rowSize));
    next.set(this.data.subarray(0, this.rows * this.rowSize));
    this.data = next;
    this.owned = true;
  }

  /** Insert k rows at row `at` (filled with `fill`), shifting the rows after it. */
  insertRows(at, k, fill = NaN) {
    if (k <= 0) return;
    const rs = this.rowSize;
    this.reserve(this.rows + k);
    if (at < this.rows) this.data.copyWithin((at + k) * rs, at * rs, this.rows * rs);
    // integer columns (token ids, ranks) say "unknown" with -1
    this.data.fill(this.data instanceof Float32Array ? fill : -1, at * rs, (at + k) * rs);
    this.rows += k;
  }

  /** Remove k rows at row `at`. */
  removeRows(at, k) {
    if (k <= 0) return;
    const rs = this.rowSize;
    this.reserve(this.rows);
    this.data.copyWithin(at * rs, (at + k) * rs, this.rows * rs);
    this.rows -= k;
  }

  /** Overwrite rows from row `at` with `src` (a whole number of rows). */
  writeRows(at, src) {
    this.reserve(this.rows);
    this.data.set(src, at * this.rowSize);
  }

  /** Rows [r0, r1) as a view (no copy). */
  rowsView(r0, r1) {
    return this.data.subarray(r0 * this.rowSize, r1 * this.rowSize);
  }
}

function toInt(v, fallback = 0) {
  const n = Math.trunc(Number(v));
  return Number.isFinite(n) ? n : fallback;
}

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

function uniqueInts(list) {
  const out = [];
  const seen = new Set();
  for (const v of Array.isArray(list) ? list : []) {
    const n = toInt(v, -1);
    if (n >= 0 && !seen.has(n)) {
      seen.add(n);
      out.push(n);
    }
  }
  return out;
}

/** Equality of JSON-like values (plain objects, arrays, scalars). */
function sameJSON(a, b) {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** `_meta.groups` as {name, values: (string|null)[] per sequence} or null. */
function normalizeGroups(g, n) {
  if (!g || typeof g !== "object" || !Array.isArray(g.values)) return null;
  const values = g.values.slice(0, n).map((v) => (v == null ? null : String(v)));
  while (values.length < n) values.push(null);
  return { name: g.name == null ? "group" : String(g.name), values };
}

function sameList(a, b) {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Min/max of the finite values of a typed array (or [0, 0]). */
/** (L, steps, units) | (steps, units) | (steps,) → {L, rows, rowSize}; null for any other rank. */
export function layerDims(shape) {
  if (shape.length === 3) return { L: shape[0], rows: shape[1], rowSize: shape[2] };
  if (shape.length === 2) return { L: 1, rows: shape[0], rowSize: shape[1] };
  if (shape.length === 1) return { L: 1, rows: shape[0], rowSize: 1 };
  return null;
}

export function finiteRange(data, lo = Infinity, hi = -Infinity) {
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** `_meta.stages` as [[{module, start, stop}, ...] per sequence] (null: one stage, nothing to draw). */
function normalizeStages(stages, n) {
  if (!Array.isArray(stages)) return null;
  const out = [];
  for (let s = 0; s < n; s++) {
    const list = Array.isArray(stages[s]) ? stages[s] : [];
    out.push(
      list
        .filter((st) => Array.isArray(st) && st.length === 3)
        .map(([module, start, stop]) => ({ module: String(module), start: toInt(start), stop: toInt(stop) })),
    );
  }
  return out;
}

/** Fill the defaults of a `_meta` value; lengths/offsets reconciled (offsets win, else prefix sums of lengths). */
export function normalizeMeta(raw, fallbackRows = 0) {
  const m = raw && typeof raw === "object" ? raw : {};
  let lengths = Array.isArray(m.lengths) ? m.lengths.map((v) => Math.max(0, toInt(v))) : null;
  let offsets = Array.isArray(m.offsets) ? m.offsets.map((v) => toInt(v)) : null;
  if (offsets && offsets.length >= 1 && (!lengths || lengths.length !== offsets.length - 1)) {
    lengths = offsets.slice(1).map((o, k) => Math.max(0, o - offsets[k]));
  }
  if (!lengths) lengths = fallbackRows > 0 ? [fallbackRows] : [];
  if (!offsets || offsets.length !== lengths.length + 1) {
    offsets = [0];
    for (const n of lengths) offsets.push(offsets[offsets.length - 1] + n);
  }
  const n = lengths.length;
  const list = (v, fill) => {
    const out = Array.isArray(v) ? v.slice(0, n) : [];
    while (out.length < n) out.push(fill(out.length));
    return out;
  };
  const quantities =
    Array.isArray(m.quantities) && m.quantities.length ? m.quantities.map(String) : QUANTITIES.slice(0, 6);
  return {
    n_sequences: n,
    lengths,
    offsets,
    labels: list(m.labels, () => null).map((v) => (v == null || v === "" ? null : toInt(v, null))),
    class_names: Array.isArray(m.class_names) ? m.class_names.map((v) => String(v)) : null,
    feature_names: Array.isArray(m.feature_names) ? m.feature_names.map((v) => String(v)) : [],
    layer_names: Array.isArray(m.layer_names) ? m.layer_names.map((v) => String(v)) : [],
    quantities,
    cell: m.cell === "gru" || m.cell === "lstm" ? m.cell : quantities.includes("r") ? "gru" : "lstm",
    units: m.units && typeof m.units === "object" ? { ...m.units } : {},
    has_weights: Boolean(m.has_weights),
    model_note: m.model_note == null ? null : String(m.model_note),
    // what the head gave per step: "classification" (probs), "regression" (outputs), null (nothing verified: the
    // note says why); undefined from a kernel that predates it (the page then goes by has_head)
    task: m.task === "classification" || m.task === "regression" || m.task === null ? m.task : undefined,
    outputs_note: m.outputs_note == null ? null : String(m.outputs_note),
    n_outputs: m.n_outputs == null ? 0 : toInt(m.n_outputs),
    stages: normalizeStages(m.stages, n),
    framework: m.framework == null ? null : String(m.framework),
    has_head: m.has_head == null ? null : Boolean(m.has_head),
    n_classes: m.n_classes == null ? null : toInt(m.n_classes),
    limits: m.limits && typeof m.limits === "object" ? { ...m.limits } : {},
    projection: m.projection && typeof m.projection === "object" ? { ...m.projection } : null,
    // a DatasetExplorer's window onto the whole data set ({n_sequences, start, size}; views/pager.js datasetInfo)
    dataset: m.dataset && typeof m.dataset === "object" ? { ...m.dataset } : null,
    groups: normalizeGroups(m.groups, n),
    sequence_names: list(m.sequence_names, (k) => `sequence ${k}`).map((v) => String(v)),
    // token models: the ids travel in `token_ids`; `vocab` (raw strings, id → string) or null labels them; `top_k` > 0
    // when the kernel sends the top-k next tokens instead of `probs`; `next_token` when the classes are the ids
    tokens: Boolean(m.tokens),
    vocab: Array.isArray(m.vocab) ? m.vocab.map((v) => String(v)) : null,
    top_k: Math.max(0, toInt(m.top_k)),
    next_token: Boolean(m.next_token),
  };
}

export function createStore(init = {}) {
  const listeners = new Set();
  const state = {
    t: 0,
    sequence: 0,
    layer: 0,
    quantity: "h",
    selected_units: [],
    playing: false,
    speed: 8,
    hover: null, // {sequence, t, unit?, view}
    order: "index",
    window: null, // page-local: the time window {t0, t1} the time views show (lod.js), null = the whole sequence
    projection_layer: null, // null: whatever _meta.projection holds (a kernel without these traits)
    projection_quantity: null,
    traj_view: {}, // as given (the trajectory view fills the defaults)
    gate_details: false, // the "Gates & weights" section is open (opening it asks the kernel for weights and gates)
    // the Why section (why.js): open (the request for the influence map and the per-class ranking), the attribution
    // method, the intervention / comparison shown beside the original, the pattern search ({} = none)
    why_open: false,
    influence_method: "gradient_x_input",
    comparison: {},
    pattern_query: {},
    fixed_points_request: {}, // {} or {sequence, layer}: the fixed points of a sequence's mean input, asked for
    color_scale: "auto", // the heatmap's colour range: "auto" | "sequence" | "unit" | "global" (colorscale.js)
  };
  let meta = normalizeMeta({});
  /** name -> {L, rowSize, cols: Column[]} */
  let arrays = new Map();
  let limits = {};
  let version = 0;
  let seqVersions = [];
  /** Per sequence, the version of its last change that was not steps appended at its end (see drawVersion). */
  let baseVersions = [];
  /** `_weights.rows` decoded: layer row -> {row, layer_name, framework, gates, ours, names, biases, W, U, b} */
  let weights = new Map();
  let weightsVersion = 0;
  /** Indices of the sequences being streamed (begun, not yet ended): at the end of the list, not in Python yet. */
  let provisional = new Set();
  /** Decoded kernel results that are not time-major data (the Why section's `_influence`, `_ranking`, ...). */
  const aux = new Map();
  const auxVersions = new Map();

  /** Decode every non-empty entry (name -> {data, shape}); bad entries are reported and skipped. */
  let decodeErrors = []; // "name: why" for each entry the last decodeAll skipped (the page says so: views/shell.js)
  const decodeAll = (raw) => {
    const out = new Map();
    decodeErrors = [];
    for (const [name, entry] of Object.entries(raw || {})) {
      if (!entry || typeof entry !== "object" || !("dtype" in entry)) continue;
      try {
        out.set(name, decodeArray(entry));
      } catch (err) {
        console.warn(`lstm_widget: cannot decode array ${name}:`, err);
        decodeErrors.push(`${name}: ${err?.message ? err.message : err}`);
      }
    }
    return out;
  };

  /** Keep a decoded array as per-layer columns if its step count agrees with the offsets. */
  const placeArray = (name, { data, shape }) => {
    const sumT = meta.offsets[meta.n_sequences];
    const dims = layerDims(shape);
    if (!dims) return;
    const { L, rows, rowSize } = dims;
    if (rows !== sumT) {
      // _meta and the data traits can arrive in separate messages: skip until they agree.
      console.warn(`lstm_widget: ${name} has ${rows} steps, _meta says ${sumT}; waiting for matching data`);
      return;
    }
    const block = rows * rowSize;
    const cols = [];
    for (let l = 0; l < L; l++) cols.push(new Column(data.subarray(l * block, (l + 1) * block), rowSize, rows));
    arrays.set(name, { L, rowSize, cols });
  };

  /** The colour limits as the kernel's `_meta.limits` give them (computed from the data where they do not). */
  const resetLimits = () => {
    limits = {};
    for (const [q, lim] of Object.entries(meta.limits)) {
      if (Array.isArray(lim) && lim.length === 2 && Number.isFinite(+lim[0]) && Number.isFinite(+lim[1])) {
        limits[q] = [+lim[0], +lim[1]];
      }
    }
    for (const q of meta.quantities) if (!limits[q]) limits[q] = store.computeLimits(q);
  };

  /** Remove sequences k … N−1 (their rows in every array and their entries in meta). */
  const truncateSequences = (k) => {
    const n = meta.n_sequences;
    if (k >= n) return;
    const rows = meta.offsets[n] - meta.offsets[k];
    for (const a of arrays.values()) for (const col of a.cols) col.removeRows(meta.offsets[k], rows);
    meta.lengths.length = k;
    meta.offsets.length = k + 1;
    meta.labels.length = k;
    if (meta.groups) meta.groups.values.length = k;
    if (meta.stages) meta.stages.length = k;
    meta.sequence_names.length = k;
    seqVersions.length = k;
    baseVersions.length = k;
    meta.n_sequences = k;
  };

  const store = {
    state,
    get meta() {
      return meta;
    },
    get version() {
      return version;
    },

    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },

    notify(changes, source) {
      if (!changes.size) return changes;
      for (const fn of [...listeners]) fn(changes, source);
      return changes;
    },

    // ---- data --------------------------------------------------------------------------------------------------
    /**
     * Replace all data: `_meta` and a name -> encoded array map (`_arrays` merged with the `_data_<q>` traits;
     * an empty entry {} means "not loaded"). Returns the changed-key set.
     */
    /** The entries the last load could not decode ("name: why"); [] when every one decoded. */
    decodeErrors: () => decodeErrors.slice(),

    load(rawMeta, rawArrays) {
      const decoded = decodeAll(rawArrays);
      let firstRows = 0;
      for (const a of decoded.values()) if (!firstRows) firstRows = a.shape.length === 3 ? a.shape[1] : a.shape[0] || 0;
      meta = normalizeMeta(rawMeta, firstRows);
      arrays = new Map();
      for (const [name, a] of decoded) placeArray(name, a);
      resetLimits();
      // Traits that hold a streamed sequence are Python's commit of it; one they do not hold is gone from the page
      // (appends that follow begin it again, provisional).
      provisional = new Set([...provisional].filter((s) => s >= meta.n_sequences));
      version++;
      seqVersions = meta.lengths.map(() => version);
      baseVersions = seqVersions.slice();
      return store.notify(new Set(["data"]), "data");
    },

    /**
     * Replace some arrays only (a `_data_<q>` trait changed): entries decode and replace their array; an empty
     * entry removes it (not loaded). Returns the changed-key set.
     */
    loadArrays(rawArrays) {
      const decoded = decodeAll(rawArrays);
      for (const [name, entry] of Object.entries(rawArrays || {})) {
        if (!decoded.has(name) && !entry?.dtype) arrays.delete(name);
      }
      for (const [name, a] of decoded) {
        arrays.delete(name);
        placeArray(name, a);
        const lim = meta.limits[name];
        if (!(Array.isArray(lim) && lim.length === 2)) limits[name] = store.computeLimits(name);
      }
      version++;
      seqVersions = meta.lengths.map(() => version);
      baseVersions = seqVersions.slice();
      return store.notify(new Set(["data"]), "data");
    },

    /**
     * Replace the weights (`_weights` changed): {rows: {row: entry}}, each entry's W (G, units, inputs), U (G, units,
     * outputs) and b (biases, G, units) decoded. Returns the changed-key set.
     */
    loadWeights(raw) {
      weights = new Map();
      const rows = raw && typeof raw === "object" && raw.rows && typeof raw.rows === "object" ? raw.rows : {};
      for (const [key, entry] of Object.entries(rows)) {
        if (!entry || typeof entry !== "object") continue;
        try {
          const out = { ...entry, row: toInt(entry.row ?? key, -1) };
          for (const name of ["W", "U", "b"]) if (entry[name]?.dtype) out[name] = decodeArray(entry[name]);
          if (!out.W || !out.U || out.W.shape.length !== 3 || out.U.shape.length !== 3) continue;
          out.gates = (Array.isArray(entry.gates) ? entry.gates : []).map(String);
          out.ours = (Array.isArray(entry.ours) ? entry.ours : out.gates).map(String);
          out.biases = (Array.isArray(entry.biases) ? entry.biases : []).map(String);
          out.names = { W: "W", U: "U", ...(entry.names || {}) };
          weights.set(out.row, out);
        } catch (err) {
          console.warn(`lstm_widget: cannot decode the weights of layer row ${key}:`, err);
        }
      }
      weightsVersion++;
      return store.notify(new Set(["weights"]), "data");
    },

    /** The decoded weights of layer row `row`, or null when the page does not have them. */
    weights(row) {
      return weights.get(row) || null;
    },
    get weightsVersion() {
      return weightsVersion;
    },

    /** Keep a decoded kernel result under `name` (null: none); notifies "aux" and `aux:<name>`. */
    setAux(name, value) {
      aux.set(name, value);
      auxVersions.set(name, (auxVersions.get(name) || 0) + 1);
      return store.notify(new Set(["aux", `aux:${name}`]), "data");
    },
    /** The decoded kernel result `name`, or null. */
    aux(name) {
      return aux.get(name) ?? null;
    },
    /** How many times `name` was set (a cache key). */
    auxVersion(name) {
      return auxVersions.get(name) || 0;
    },

    /** Whether a quantity is known to the data (meta.units) but its array is not on the page yet. */
    pending(name) {
      return !arrays.has(name) && meta.quantities.includes(name) && Number(meta.units[name]) > 0;
    },

    computeLimits(name) {
      const a = arrays.get(name);
      let lo = Infinity;
      let hi = -Infinity;
      if (a) for (const col of a.cols) [lo, hi] = finiteRange(col.rowsView(0, col.rows), lo, hi);
      return lo <= hi ? [lo, hi] : [0, 0];
    },

    /** Handle a custom message from the kernel ("begin" / "append" / "end" / "abort"). Returns the changed-key
     * set. */
    applyMessage(content, buffers = []) {
      if (!content || typeof content !== "object") return new Set();
      if (content.type === "begin") {
        // The kernel starts streaming a sequence: show it (the cursor then follows the appends), provisional.
        const s = toInt(content.sequence, meta.n_sequences);
        const changes = store.beginSequence(s, { ...content, provisional: true }, false);
        if (s >= 0) {
          if (state.sequence !== s) changes.add("sequence");
          if (state.t !== 0) changes.add("t");
          state.sequence = s;
          state.t = 0;
        }
        return store.notify(changes, "data");
      }
      if (content.type === "append") return store.append(content, buffers);
      if (content.type === "end") return store.endSequence(toInt(content.sequence, -1));
      if (content.type === "abort") return store.abortSequence(toInt(content.sequence, -1), content.state);
      return new Set();
    },

    /** Whether sequence s is being streamed: begun, neither ended nor aborted (Python does not have it yet). */
    isProvisional(s) {
      return provisional.has(s);
    },
    /** Whether the page holds back its write of synced `key` now (HELD_WHILE_PROVISIONAL, cursor on a provisional
     * sequence). */
    heldBack(key) {
      return HELD_WHILE_PROVISIONAL.includes(key) && provisional.has(toInt(state.sequence, -1));
    },

    /** The kernel committed the streamed sequence s ("end"): it is an ordinary sequence from now on. */
    endSequence(s) {
      if (!provisional.delete(s)) return new Set();
      version++;
      seqVersions[s] = version;
      baseVersions[s] = version;
      return store.notify(new Set(["data"]), "data");
    },

    /**
     * The kernel's stream of sequence s failed ("abort"): the provisional sequences are removed and the cursor goes
     * to `kernelState` ({sequence, t}: what Python holds), as a change from the model (not written back).
     */
    abortSequence(s, kernelState) {
      const gone = [...provisional].filter((k) => k < meta.n_sequences);
      if (!provisional.has(s) && !gone.length) return new Set();
      provisional = new Set();
      if (gone.length) truncateSequences(Math.min(...gone));
      resetLimits();
      version++;
      store.notify(new Set(["data"]), "model");
      const back = kernelState && typeof kernelState === "object" ? kernelState : {};
      const patch = {};
      for (const key of HELD_WHILE_PROVISIONAL) if (Number.isInteger(back[key])) patch[key] = back[key];
      const changes = store.set(patch, "model");
      changes.add("data");
      return changes;
    },

    /** A new empty sequence s (added at the end; an existing s is emptied and renamed). `provisional`: the
     * sequences added are being streamed (applyMessage). */
    beginSequence(s, { name = null, label = null, provisional: streamed = false } = {}, notify = true) {
      if (s < 0) return new Set();
      while (meta.n_sequences <= s) {
        const k = meta.n_sequences;
        if (streamed) provisional.add(k);
        meta.lengths.push(0);
        meta.offsets.push(meta.offsets[k]);
        meta.labels.push(null);
        meta.groups?.values.push(null);
        meta.stages?.push([]);
        meta.sequence_names.push(`sequence ${k}`);
        seqVersions.push(version);
        baseVersions.push(version);
        meta.n_sequences++;
      }
      const len = meta.lengths[s];
      if (len > 0) {
        for (const a of arrays.values()) for (const col of a.cols) col.removeRows(meta.offsets[s], len);
        meta.lengths[s] = 0;
        for (let k = s + 1; k <= meta.n_sequences; k++) meta.offsets[k] -= len;
      }
      if (name != null) meta.sequence_names[s] = String(name);
      meta.labels[s] = label == null ? null : toInt(label, null);
      version++;
      seqVersions[s] = version;
      baseVersions[s] = version;
      const changes = new Set(["data"]);
      return notify ? store.notify(changes, "data") : changes;
    },

    /** Append (or overwrite) k steps of sequence s starting at step `start`. */
    append(content, buffers) {
      const s = toInt(content.sequence, -1);
      if (s < 0) return new Set();
      if (s >= meta.n_sequences) store.beginSequence(s, { provisional: true }); // only a stream appends
      const fields = Array.isArray(content.fields) ? content.fields : [];
      const parts = [];
      let k = 0;
      fields.forEach((field, idx) => {
        try {
          const { data, shape } = decodeArray({ ...field, buffer: field.buffer ?? buffers[idx] });
          const dims = layerDims(shape);
          if (!dims) return;
          const { L, rows, rowSize } = dims;
          parts.push({ name: String(field.name), data, L, rows, rowSize });
          k = Math.max(k, rows);
        } catch (err) {
          console.warn(`lstm_widget: cannot decode appended field ${field?.name}:`, err);
        }
      });
      const len = meta.lengths[s];
      const start = Math.max(0, toInt(content.start, len));
      const newLen = Math.max(len, start + k);
      const grow = newLen - len;
      const at = meta.offsets[s] + len;
      const sumT = meta.offsets[meta.n_sequences];
      // New arrays (first data for a name) start as NaN rows for the steps already there — except a quantity
      // that is merely not loaded yet (its _data_<q> trait brings all of it), which is left out.
      for (let k = parts.length - 1; k >= 0; k--) {
        const p = parts[k];
        if (!arrays.has(p.name) && sumT > 0 && QUANTITIES.includes(p.name)) parts.splice(k, 1);
      }
      // Steps written over (start < len) or a new array (NaN rows for the steps already there) change more than the
      // end of the sequence: drawVersion moves on.
      let rewrite = start < len;
      for (const p of parts) {
        const a = arrays.get(p.name);
        if (!a) {
          rewrite = true;
          const cols = [];
          for (let l = 0; l < p.L; l++) cols.push(Column.empty(p.rowSize, sumT, p.data.constructor));
          arrays.set(p.name, { L: p.L, rowSize: p.rowSize, cols });
        }
      }
      for (const a of arrays.values()) for (const col of a.cols) col.insertRows(at, grow);
      meta.lengths[s] = newLen;
      for (let j = s + 1; j <= meta.n_sequences; j++) meta.offsets[j] += grow;
      const row0 = meta.offsets[s] + start;
      for (const p of parts) {
        const a = arrays.get(p.name);
        if (a.rowSize !== p.rowSize || a.L !== p.L) {
          console.warn(
            `lstm_widget: appended ${p.name} has shape (${p.L}, k, ${p.rowSize}), expected (${a.L}, k, ${a.rowSize})`,
          );
          continue;
        }
        const block = p.rows * p.rowSize;
        for (let l = 0; l < p.L; l++) {
          const src = p.data.subarray(l * block, (l + 1) * block);
          a.cols[l].writeRows(row0, src);
          if (QUANTITIES.includes(p.name) || p.name === "probs" || p.name === "outputs") {
            const cur = limits[p.name];
            const [lo, hi] = finiteRange(src, cur ? cur[0] : Infinity, cur ? cur[1] : -Infinity);
            if (lo <= hi) limits[p.name] = [lo, hi];
          }
        }
      }
      version++;
      seqVersions[s] = version;
      if (rewrite) baseVersions[s] = version;
      const changes = new Set(["data"]);
      // The cursor follows the live end of the sequence it is on.
      const cur = store.snapshot();
      if (cur.sequence === s && grow > 0 && (len === 0 || cur.t >= len - 1)) {
        state.t = newLen - 1;
        changes.add("t");
        if (state.window) {
          // a zoomed window follows the live end too
          state.window = followCursor(visibleWindow(state.window, newLen), state.t, newLen);
          changes.add("window");
        }
      }
      return store.notify(changes, "data");
    },

    // ---- derived reads -------------------------------------------------------------------------------------------
    nSequences() {
      return meta.n_sequences;
    },
    length(s) {
      return s >= 0 && s < meta.n_sequences ? meta.lengths[s] : 0;
    },
    offset(s) {
      return meta.offsets[clamp(s, 0, meta.n_sequences)] || 0;
    },
    seqVersion(s) {
      return seqVersions[s] || 0;
    },
    /** The version views key their drawings of sequence s on: while s streams (provisional), it moves only when
     * something other than steps appended at its end changes (the drawings then add the new steps to what they
     * drew); otherwise it is seqVersion(s). */
    drawVersion(s) {
      return provisional.has(s) ? baseVersions[s] || 0 : seqVersions[s] || 0;
    },
    has(name) {
      return arrays.has(name);
    },
    nLayers() {
      let L = meta.layer_names.length;
      for (const q of QUANTITIES) if (arrays.has(q)) L = Math.max(L, arrays.get(q).L);
      return Math.max(1, L);
    },
    layerName(l) {
      return meta.layer_names[l] ?? `layer${l}`;
    },
    /** Number of values per step of an array (units of a quantity, D of inputs, C of probs). */
    width(name) {
      const a = arrays.get(name);
      if (a) return a.rowSize;
      const u = meta.units[name];
      return u == null ? 0 : toInt(u);
    },
    /** Rows of sequence s of array `name` at layer l: {data, rows, cols} (a view, no copy) or null. */
    series(name, layer, s) {
      const a = arrays.get(name);
      if (!a || s < 0 || s >= meta.n_sequences) return null;
      const col = a.cols[clamp(layer, 0, a.L - 1)];
      const r0 = meta.offsets[s];
      const r1 = meta.offsets[s + 1];
      return { data: col.rowsView(r0, r1), rows: r1 - r0, cols: a.rowSize };
    },
    /** All rows of an array at layer l (every sequence): {data, rows, cols} or null. */
    all(name, layer = 0) {
      const a = arrays.get(name);
      if (!a) return null;
      const col = a.cols[clamp(layer, 0, a.L - 1)];
      const rows = meta.offsets[meta.n_sequences];
      return { data: col.rowsView(0, rows), rows, cols: a.rowSize };
    },
    /** One value (NaN when absent). */
    value(name, layer, s, t, j) {
      const a = arrays.get(name);
      if (!a || s < 0 || s >= meta.n_sequences || t < 0 || t >= meta.lengths[s] || j < 0 || j >= a.rowSize) return NaN;
      return a.cols[clamp(layer, 0, a.L - 1)].data[(meta.offsets[s] + t) * a.rowSize + j];
    },
    limits(name) {
      return limits[name] || [0, 0];
    },
    /** The token id at step t of sequence s (-1 when the step has none, or the model takes no ids). */
    tokenId(s, t) {
      const v = store.value("token_ids", 0, s, t, 0);
      return v === v ? v : -1;
    },

    /** The stages of sequence s ([{module, start, stop}]; [] when its modules share every step). */
    stages(s) {
      const list = meta.stages?.[s];
      return list && list.length > 1 ? list : [];
    },
    /** Whether the model has a classifier head (meta.has_head, else whether probs exist). */
    hasHead() {
      return meta.has_head == null ? arrays.has("probs") : meta.has_head;
    },

    // ---- state -------------------------------------------------------------------------------------------------
    /** State clamped to the data: what the views show. */
    snapshot() {
      const N = meta.n_sequences;
      const sequence = N ? clamp(toInt(state.sequence), 0, N - 1) : 0;
      const T = store.length(sequence);
      const t = clamp(toInt(state.t), 0, Math.max(0, T - 1));
      const layer = clamp(toInt(state.layer), 0, store.nLayers() - 1);
      const quantity = meta.quantities.includes(state.quantity) ? state.quantity : meta.quantities[0] || "h";
      return {
        sequence,
        t,
        T,
        layer,
        quantity,
        selected_units: state.selected_units,
        playing: state.playing,
        speed: state.speed,
        hover: state.hover,
        order: state.order,
        window: state.window && T > 0 && !isWhole(state.window, T) ? visibleWindow(state.window, T) : null,
        projection_layer: state.projection_layer,
        projection_quantity: state.projection_quantity,
        traj_view: state.traj_view,
        gate_details: state.gate_details,
        why_open: state.why_open,
        influence_method: state.influence_method,
        comparison: state.comparison,
        pattern_query: state.pattern_query,
        fixed_points_request: state.fixed_points_request,
        color_scale: COLOR_SCALES.includes(state.color_scale) ? state.color_scale : "auto",
      };
    },

    /**
     * Set state. source "model": values from the Python side, kept unclamped; any other source: a page action,
     * clamped to the data. Notifies with the set of keys that changed.
     */
    set(patch, source = "ui") {
      const changes = new Set();
      const fromModel = source === "model";
      const put = (key, value, same = (a, b) => a === b) => {
        if (!same(state[key], value)) {
          state[key] = value;
          changes.add(key);
        }
      };
      if ("sequence" in patch) {
        let s = toInt(patch.sequence, state.sequence);
        if (!fromModel) s = clamp(s, 0, Math.max(0, meta.n_sequences - 1));
        put("sequence", s);
      }
      if ("t" in patch || (changes.has("sequence") && !fromModel)) {
        let t = "t" in patch ? toInt(patch.t, state.t) : state.t;
        if (!fromModel) t = clamp(t, 0, Math.max(0, store.length(store.snapshot().sequence) - 1));
        put("t", t);
      }
      if ("layer" in patch) {
        let l = toInt(patch.layer, state.layer);
        if (!fromModel) l = clamp(l, 0, store.nLayers() - 1);
        put("layer", l);
      }
      if ("quantity" in patch && typeof patch.quantity === "string") {
        if (fromModel || meta.quantities.includes(patch.quantity)) put("quantity", patch.quantity);
      }
      if ("selected_units" in patch) put("selected_units", uniqueInts(patch.selected_units), sameList);
      if ("playing" in patch) put("playing", Boolean(patch.playing));
      if ("speed" in patch) {
        const v = Number(patch.speed);
        if (Number.isFinite(v) && v > 0) put("speed", fromModel ? v : clamp(v, 0.1, 10000));
      }
      if ("hover" in patch) {
        put(
          "hover",
          patch.hover || null,
          (a, b) =>
            a === b || (a && b && a.sequence === b.sequence && a.t === b.t && a.unit === b.unit && a.view === b.view),
        );
      }
      if ("order" in patch && ORDER_MODES.includes(patch.order)) put("order", patch.order);
      if ("window" in patch || ((changes.has("t") || changes.has("sequence")) && state.window)) {
        // The zoomed time window (page-local), as set (zoom, pan: the cursor may be left outside); when the cursor
        // moves, whoever moved it, the window pans to keep it in view.
        const snap = store.snapshot();
        let w = "window" in patch ? patch.window : state.window;
        w = w && typeof w === "object" && !isWhole(w, snap.T) ? visibleWindow(w, snap.T) : null;
        if (w && !("window" in patch)) w = followCursor(w, snap.t, snap.T);
        put("window", w, (a, b) => a === b || (a && b && a.t0 === b.t0 && a.t1 === b.t1));
      }
      if ("projection_layer" in patch && patch.projection_layer != null) {
        let l = toInt(patch.projection_layer, state.projection_layer ?? 0);
        if (!fromModel) l = clamp(l, 0, store.nLayers() - 1);
        put("projection_layer", l);
      }
      if ("projection_quantity" in patch && typeof patch.projection_quantity === "string") {
        if (fromModel || meta.quantities.includes(patch.projection_quantity))
          put("projection_quantity", patch.projection_quantity);
      }
      if (
        "traj_view" in patch &&
        patch.traj_view &&
        typeof patch.traj_view === "object" &&
        !Array.isArray(patch.traj_view)
      ) {
        put("traj_view", patch.traj_view, sameJSON);
      }
      if ("gate_details" in patch) put("gate_details", Boolean(patch.gate_details));
      if ("why_open" in patch) put("why_open", Boolean(patch.why_open));
      if ("influence_method" in patch && typeof patch.influence_method === "string")
        put("influence_method", patch.influence_method);
      if ("color_scale" in patch && typeof patch.color_scale === "string") {
        if (fromModel || COLOR_SCALES.includes(patch.color_scale)) put("color_scale", patch.color_scale);
      }
      for (const key of ["comparison", "pattern_query", "fixed_points_request"]) {
        if (key in patch) {
          const v = patch[key];
          put(key, v && typeof v === "object" && !Array.isArray(v) ? v : {}, sameJSON);
        }
      }
      return store.notify(changes, source);
    },

    /** Toggle one unit in the selection. */
    toggleUnit(u, source = "ui") {
      const sel = state.selected_units.slice();
      const k = sel.indexOf(u);
      if (k >= 0) sel.splice(k, 1);
      else sel.push(u);
      return store.set({ selected_units: sel }, source);
    },

    /** Move the cursor by `delta` steps (clamped). */
    step(delta, source = "ui") {
      const snap = store.snapshot();
      return store.set({ t: snap.t + delta }, source);
    },
  };

  if (init.meta || init.arrays) store.load(init.meta, init.arrays);
  if (init.state) store.set(init.state, "model");
  return store;
}
