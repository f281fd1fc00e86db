// The "Why" section: decoding of the kernel's `_influence`, `_ranking`, `_comparison` and `_patterns`
// traits into the store, the pure maths the page does itself (the per-lag sums of an influence map, unit ranking at a
// step / over a sequence, brush ranges, intervention requests), the section's collapsible frame, and the unit context
// menu (zero / clamp / scale a unit from a step: the page's intervention request). See js/PROTOCOL.md ("Why").
//
// Requests are synced traits whose change is the request: `why_open` (opening the section), `influence_method`,
// `comparison` and `pattern_query`. A closed section costs nothing on a scrub: its views only update data-t.

import { el } from "./views/common.js";
import { decodeArray } from "./wire.js";

/** The attribution methods of `influence_method` ([value, label]). */
export const INFLUENCE_METHODS = [
  ["gradient_x_input", "gradient × input"],
  ["integrated_gradients", "integrated gradients"],
];
/** Trait names of the kernel's results, decoded into the store's aux slots of the same name. */
export const WHY_TRAITS = ["_influence", "_ranking", "_comparison", "_patterns"];

// ---- pure helpers ------------------------------------------------------------------------------------------------

/** JSON text of a value with object keys sorted: two requests are the same when their texts are. */
export function canonical(value) {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/** Whether two JSON-like requests say the same thing (key order aside). */
export function sameRequest(a, b) {
  return canonical(a ?? {}) === canonical(b ?? {});
}

/** Whether a request value is empty (no request): {} / null / undefined. */
export function isEmpty(v) {
  return !v || typeof v !== "object" || Object.keys(v).length === 0;
}

function decodeOr(entry, what) {
  if (!entry || typeof entry !== "object" || !("dtype" in entry)) return null;
  try {
    return decodeArray(entry);
  } catch (err) {
    console.warn(`lstm_widget: cannot decode ${what}:`, err);
    return null;
  }
}

/**
 * `_influence` decoded: {sequence, method, output, steps, error, T, D, values (T·T·D: [t][s][d]), f_x, targets,
 * f_baseline, completeness} (arrays null when absent), or null for {}.
 */
export function decodeInfluence(raw) {
  if (isEmpty(raw)) return null;
  const out = {
    sequence: Number(raw.sequence),
    method: String(raw.method ?? ""),
    output: raw.output == null ? null : String(raw.output),
    steps: raw.steps == null ? null : Number(raw.steps),
    error: raw.error == null ? null : String(raw.error),
    tokens: Boolean(raw.tokens), // a token model's: values over the embedding of the token at each step
    T: 0,
    D: 0,
    values: null,
    f_x: null,
    targets: null,
    f_baseline: null,
    completeness: null,
  };
  const values = decodeOr(raw.values, "_influence.values");
  if (values && values.shape.length === 3 && values.shape[0] === values.shape[1]) {
    out.T = values.shape[0];
    out.D = values.shape[2];
    out.values = values.data;
  } else if (!out.error) {
    out.error = "no influence values";
  }
  for (const name of ["f_x", "targets", "f_baseline", "completeness"]) {
    const a = decodeOr(raw[name], `_influence.${name}`);
    out[name] = a ? a.data : null;
  }
  return out;
}

/** The (T, D) attributions of the prediction at step t ([s][d]), a view into the map. */
export function influenceRow(inf, t) {
  const n = inf.T * inf.D;
  return inf.values.subarray(t * n, (t + 1) * n);
}

/**
 * Per-lag sums of one step's attributions (row: (T, D) [s][d]): signed[k] and abs[k] = step t−k's attribution
 * summed over the features (of |values| for abs), k = 0..t — `Influence.per_lag` / `per_lag_abs`.
 */
export function perLag(row, T, D, t) {
  const n = Math.max(0, Math.min(t, T - 1) + 1);
  const signed = new Float64Array(n);
  const abs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const base = (t - k) * D;
    let s = 0;
    let a = 0;
    for (let d = 0; d < D; d++) {
      const v = row[base + d];
      s += v;
      a += Math.abs(v);
    }
    signed[k] = s;
    abs[k] = a;
  }
  return { signed, abs };
}

/** max |value| of a typed array (0 when empty or all NaN). */
export function maxAbs(data) {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.abs(data[i]);
    if (v > m) m = v;
  }
  return m;
}

/** Scores without labels, as `rank_units`' `by`: [value, label]. */
export const RANK_BY = [
  ["abs", "mean |a|"],
  ["mean", "mean a"],
  ["max", "max a"],
  ["absmax", "max |a|"],
];

/** Indices 0..n-1 by score, highest first; ties to the lower index; NaN last (numpy's stable argsort of −score). */
export function topIndices(scores, k) {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    const na = sa !== sa;
    const nb = sb !== sb;
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    return sb > sa ? 1 : sb < sa ? -1 : a - b;
  });
  return idx.slice(0, Math.max(0, Math.min(k, idx.length)));
}

/**
 * `rank_units(recording, quantity, layer, t=t, by=by, k=k)` of one sequence: data is its (rows, U) block
 * ([t][u]); t null uses every step, an int that one step (negative counts from the end). Scores in float64 summed in
 * step order, as numpy reduces over axis 0. Returns {units: number[], scores: number[], all: Float64Array(U)}.
 */
export function rankUnits(data, rows, U, { t = null, by = "abs", k = 10 } = {}) {
  let t0 = 0;
  let t1 = rows;
  if (t != null) {
    const s = t < 0 ? rows + t : t;
    if (!(s >= 0 && s < rows)) throw new RangeError(`t=${t} is out of range for ${rows} steps`);
    [t0, t1] = [s, s + 1];
  }
  const all = new Float64Array(U);
  const n = t1 - t0;
  for (let u = 0; u < U; u++) {
    let acc = by === "max" || by === "absmax" ? -Infinity : 0;
    for (let s = t0; s < t1; s++) {
      const v = data[s * U + u];
      if (by === "abs") acc += Math.abs(v);
      else if (by === "mean") acc += v;
      else if (by === "max") acc = v > acc || v !== v ? v : acc;
      else {
        const a = Math.abs(v);
        acc = a > acc || a !== a ? a : acc;
      }
    }
    all[u] = by === "abs" || by === "mean" ? acc / n : acc;
  }
  const units = topIndices(all, k);
  return { units, scores: units.map((u) => all[u]), all };
}

/** `_ranking` decoded: {layer, quantity, by, classes, k, units (C·k), scores (C·k), error} or null for {}. */
export function decodeRanking(raw) {
  if (isEmpty(raw)) return null;
  const out = {
    layer: Number(raw.layer),
    quantity: String(raw.quantity ?? ""),
    by: raw.by == null ? null : String(raw.by),
    classes: Array.isArray(raw.classes) ? raw.classes.map(Number) : [],
    error: raw.error == null ? null : String(raw.error),
    k: 0,
    units: null,
    scores: null,
  };
  const units = decodeOr(raw.units, "_ranking.units");
  const scores = decodeOr(raw.scores, "_ranking.scores");
  if (units && scores && units.shape.length === 2) {
    out.k = units.shape[1];
    out.units = units.data;
    out.scores = scores.data;
  } else if (!out.error) {
    out.error = "no ranking";
  }
  return out;
}

/** One class's entries of a decoded `_ranking`: {units, scores} (empty when the class is not there). */
export function classRanking(r, c) {
  const i = r?.units ? r.classes.indexOf(c) : -1;
  if (i < 0) return { units: [], scores: [] };
  return {
    units: Array.from(r.units.subarray(i * r.k, (i + 1) * r.k)),
    scores: Array.from(r.scores.subarray(i * r.k, (i + 1) * r.k)),
  };
}

/**
 * `_comparison` decoded: {request, kind, sequence, names, description, length, inputs, probs, traj, data: {q: {L,
 * rows, U, data}}} — arrays as {data, shape} — or null for {}.
 */
export function decodeComparison(raw) {
  if (isEmpty(raw)) return null;
  const data = {};
  for (const [q, entry] of Object.entries(raw.data || {})) {
    const a = decodeOr(entry, `_comparison.data.${q}`);
    if (a && a.shape.length === 3) data[q] = { L: a.shape[0], rows: a.shape[1], U: a.shape[2], data: a.data };
  }
  return {
    request: raw.request || {},
    kind: String(raw.kind ?? ""),
    sequence: Number(raw.sequence),
    names: Array.isArray(raw.names) ? raw.names.map(String) : ["original", "other"],
    description: String(raw.description ?? ""),
    length: Number(raw.length) || 0,
    inputs: decodeOr(raw.inputs, "_comparison.inputs"),
    probs: decodeOr(raw.probs, "_comparison.probs"),
    traj: decodeOr(raw.traj, "_comparison.traj"),
    data,
  };
}

/** One layer row of a compared quantity: {data (rows·U), rows, U} or null. */
export function comparedSeries(cmp, q, layer) {
  const a = cmp?.data[q];
  if (!a) return null;
  const l = Math.max(0, Math.min(layer, a.L - 1));
  return { data: a.data.subarray(l * a.rows * a.U, (l + 1) * a.rows * a.U), rows: a.rows, U: a.U };
}

/**
 * The difference other − original of two (rows, U) blocks over their common steps, padded with NaN to `T` columns:
 * {data (T·U), common, max (max |diff|)}.
 */
export function differenceBlock(a, rowsA, b, rowsB, U, T = Math.max(rowsA, rowsB)) {
  const common = Math.min(rowsA, rowsB);
  const data = new Float32Array(T * U).fill(NaN);
  let max = 0;
  for (let i = 0; i < common * U; i++) {
    const d = b[i] - a[i];
    data[i] = d;
    const m = Math.abs(d);
    if (m > max) max = m;
  }
  return { data, common, max };
}

/** `_patterns` decoded: {query, resolved, units, matches: [{sequence, start, stop, score, jaccard, length_match}]}. */
export function decodePatterns(raw) {
  if (isEmpty(raw)) return null;
  return {
    query: raw.query || {},
    resolved: raw.resolved || raw.query || {},
    error: raw.error == null ? null : String(raw.error),
    units: Array.isArray(raw.units) ? raw.units.map(Number) : [],
    matches: Array.isArray(raw.matches)
      ? raw.matches.map((m) => ({
          sequence: Number(m.sequence),
          start: Number(m.start),
          stop: Number(m.stop),
          score: Number(m.score),
          jaccard: Number(m.jaccard),
          length_match: Number(m.length_match),
        }))
      : [],
  };
}

/** A brushed pair of steps (either order) as the half-open range [start, stop), clamped to 0..T. */
export function brushRange(a, b, T) {
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(Math.max(0, T - 1), Math.max(a, b));
  return { start: lo, stop: hi + 1 };
}

/** The keys of one intervention, in the order the kernel writes them (js/PROTOCOL.md). */
export function interventionEntry({ quantity, layer, unit, start, stop = null, op, value = null }) {
  return {
    quantity,
    layer,
    units: unit == null ? null : [unit],
    start,
    stop,
    op,
    value: op === "zero" ? null : value,
  };
}

/**
 * The `comparison` request for adding `entry` on sequence s: appended to the interventions already shown on s,
 * else on its own.
 */
export function addIntervention(current, s, entry) {
  const keep =
    current && current.kind === "intervention" && current.sequence === s && Array.isArray(current.interventions)
      ? current.interventions
      : [];
  return { kind: "intervention", sequence: s, interventions: [...keep, entry] };
}

/** A short text for one intervention entry, as the kernel writes in `_comparison.description`. */
export function describeEntry(e) {
  const units = e.units == null ? "all" : e.units.join(",");
  const steps =
    e.stop == null ? `from t=${e.start}` : e.stop === e.start + 1 ? `at t=${e.start}` : `t=${e.start}..${e.stop - 1}`;
  const what = e.op === "zero" ? "zero" : e.op === "scale" ? `scale ×${e.value}` : `clamp at ${e.value}`;
  return `${what} ${e.layer}.${e.quantity}[${units}] ${steps}`;
}

// ---- store glue --------------------------------------------------------------------------------------------------

const DECODERS = {
  _influence: decodeInfluence,
  _ranking: decodeRanking,
  _comparison: decodeComparison,
  _patterns: decodePatterns,
};

/** Decode the Why traits into the store now and on every change. `on(event, fn)` registers a model listener. */
export function attachWhy(model, store, on) {
  const load = (name) => {
    let value = null;
    try {
      value = DECODERS[name](model.get(name));
    } catch (err) {
      console.warn(`lstm_widget: cannot read ${name}:`, err);
    }
    store.setAux(name, value);
  };
  for (const name of WHY_TRAITS) {
    load(name);
    on(`change:${name}`, () => load(name));
  }
}

/** Whether the page can ask the kernel to run the model (not an export, not an explorer made from recordings). */
export function canRunModel(ctx) {
  return !ctx.offline && Boolean(ctx.store.meta.has_weights);
}

/** Why the page cannot run the model, in one line, for a feature that needs it ("interventions", "influence", ...):
 * an export has no kernel; a model the kernel cannot step exactly says why (`_meta.model_note`); recordings have no
 * model. */
export function noModelReason(ctx, what) {
  if (ctx.offline) return `${what}: computed by the kernel, not in this export`;
  const note = ctx.store.meta.model_note;
  if (note) return `${what} unavailable: ${note}`;
  return `${what} need the model (this explorer was made from recordings)`;
}

/** The comparison shown beside sequence s (decoded `_comparison`), or null. */
export function comparisonFor(store, s) {
  const cmp = store.aux("_comparison");
  return cmp && cmp.sequence === s ? cmp : null;
}

// ---- the unit context menu ---------------------------------------------------------------------------------------

let openMenuState = null;

/** Close the open context menu (if any). */
export function closeMenu() {
  if (!openMenuState) return;
  const { node, cleanup } = openMenuState;
  openMenuState = null;
  cleanup();
  node.remove();
}

/**
 * A small menu at (clientX, clientY) inside the root: items {label, action, onSelect()} | {label, action, input:
 * {value, label}, onSelect(value)} | {note} | {separator}. Closes on a choice, Escape or a press elsewhere.
 */
export function openMenu(ctx, clientX, clientY, items, title = "") {
  closeMenu();
  const { root } = ctx;
  const node = el("div", { class: "lw-menu", role: "menu" });
  if (title) node.append(el("div", { class: "lw-menu-title", text: title }));
  let first = null;
  for (const item of items) {
    if (item.separator) {
      node.append(el("div", { class: "lw-menu-sep" }));
      continue;
    }
    if (item.note) {
      node.append(el("div", { class: "lw-menu-note", text: item.note }));
      continue;
    }
    const row = el("div", { class: "lw-menu-row" });
    const button = el("button", {
      type: "button",
      class: "lw-menu-item",
      role: "menuitem",
      "data-action": item.action || null,
      disabled: item.disabled || null,
      text: item.label,
    });
    row.append(button);
    let input = null;
    if (item.input) {
      input = el("input", {
        type: "number",
        step: "any",
        class: "lw-menu-input",
        value: String(item.input.value),
        "aria-label": item.input.label || item.label,
        "data-action": item.action || null,
      });
      row.append(input);
      input.addEventListener("keydown", (ev) => {
        ev.stopPropagation();
        if (ev.key === "Enter") button.click();
        if (ev.key === "Escape") closeMenu();
      });
    }
    button.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (input) {
        const v = Number(input.value);
        if (input.value.trim() === "" || !Number.isFinite(v)) {
          input.classList.add("lw-invalid");
          input.focus();
          return;
        }
        closeMenu();
        item.onSelect(v);
      } else {
        closeMenu();
        item.onSelect();
      }
    });
    if (!first && !item.disabled) first = button;
    node.append(row);
  }
  root.append(node);
  const r = root.getBoundingClientRect();
  const w = node.offsetWidth;
  const h = node.offsetHeight;
  let x = clientX - r.left + 2;
  let y = clientY - r.top + 2;
  if (x + w > r.width - 4) x = Math.max(4, r.width - w - 4);
  if (y + h > r.height - 4) y = Math.max(4, y - h - 4);
  node.style.left = `${x}px`;
  node.style.top = `${y}px`;
  const away = (ev) => {
    if (!node.contains(ev.target)) closeMenu();
  };
  const esc = (ev) => {
    if (ev.key === "Escape") {
      ev.stopPropagation();
      closeMenu();
    }
  };
  document.addEventListener("pointerdown", away, true);
  node.addEventListener("keydown", esc);
  openMenuState = {
    node,
    cleanup: () => {
      document.removeEventListener("pointerdown", away, true);
      node.removeEventListener("keydown", esc);
    },
  };
  first?.focus({ preventScroll: true });
  return node;
}

/**
 * The context menu of unit `unit` at step `t` (a heatmap row, a ranking entry): zero / clamp / scale it from t (or at
 * every step) — added to the intervention shown on this sequence — select it, clear the intervention. The quantity
 * intervened on is the shown one when it is h or c, else h (gates are computed, not states).
 */
export function unitMenu(ctx, ev, { unit, t }) {
  const { store } = ctx;
  const snap = store.snapshot();
  const meta = store.meta;
  const q =
    (snap.quantity === "c" || snap.quantity === "h") && meta.quantities.includes(snap.quantity) ? snap.quantity : "h";
  const layer = store.layerName(snap.layer);
  const name = `${layer}.${q}[${unit}]`;
  const s = snap.sequence;
  const step = Math.max(0, Math.min(t ?? snap.t, Math.max(0, snap.T - 1)));
  const current = snap.comparison;
  const adding = current && current.kind === "intervention" && current.sequence === s;
  const plus = adding ? "+ " : "";
  const send = (entry) => {
    store.set({ comparison: addIntervention(current, s, entry), why_open: true });
  };
  const items = [];
  if (!canRunModel(ctx)) {
    items.push({
      note: ctx.offline
        ? "interventions need the kernel (this is an export)"
        : ctx.store.meta.model_note
          ? noModelReason(ctx, "interventions")
          : "interventions need the model (made from recordings)",
    });
  } else {
    const base = { quantity: q, layer, unit, start: step };
    items.push(
      {
        label: `${plus}Zero ${name} from t=${step}`,
        action: "zero",
        onSelect: () => send(interventionEntry({ ...base, op: "zero" })),
      },
      {
        label: `${plus}Zero ${name} at every step`,
        action: "zero-all",
        onSelect: () => send(interventionEntry({ ...base, start: 0, op: "zero" })),
      },
      {
        label: `${plus}Clamp ${name} from t=${step} at`,
        action: "clamp",
        input: { value: 0, label: "clamp value" },
        onSelect: (v) => send(interventionEntry({ ...base, op: "clamp", value: v })),
      },
      {
        label: `${plus}Scale ${name} from t=${step} by`,
        action: "scale",
        input: { value: 0.5, label: "scale factor" },
        onSelect: (v) => send(interventionEntry({ ...base, op: "scale", value: v })),
      },
    );
  }
  items.push({ separator: true });
  const selected = snap.selected_units.includes(unit);
  items.push({
    label: selected ? `Deselect unit ${unit}` : `Select unit ${unit}`,
    action: "select",
    onSelect: () => store.toggleUnit(unit),
  });
  if (!isEmpty(current) && canRunModel(ctx)) {
    items.push({
      label: "Clear intervention / comparison",
      action: "clear",
      onSelect: () => store.set({ comparison: {} }),
    });
  }
  ev.preventDefault();
  ev.stopPropagation();
  return openMenu(ctx, ev.clientX, ev.clientY, items, name);
}
