// Token models (pure): the label of a token id (the vocabulary's string with control characters made visible, or
// "#17" without one), how the text view joins tokens into running text, the colour a value gives a token's
// background (and the text colour that reads on it), and the per-token scores of an influence row. js/PROTOCOL.md,
// "Token models".

import { cssColor, indexOf, lut } from "./colormap.js";

/** Characters that a label shows as a visible sign (the text view keeps the raw string). */
const VISIBLE = { "\n": "⏎", "\r": "↵", "\t": "⇥", " ": "␣" };

/** A vocabulary string as a label: newline ⏎, space ␣, tab ⇥, other C0 controls as their control pictures. */
export function visibleToken(raw) {
  let out = "";
  for (const ch of String(raw)) {
    const code = ch.codePointAt(0);
    if (VISIBLE[ch]) out += VISIBLE[ch];
    else if (code < 0x20) out += String.fromCodePoint(0x2400 + code);
    else if (code === 0x7f) out += "␡";
    else out += ch;
  }
  return out === "" ? "∅" : out;
}

/** The label of token `id` under `vocab` (meta.vocab: raw strings, or null): visible, or "#id"; "–" for no id. */
export function tokenLabel(vocab, id) {
  if (!(id >= 0)) return "–";
  if (vocab && vocab[id] != null) return visibleToken(vocab[id]);
  return `#${id}`;
}

/** The raw text of token `id` as the text view shows it ("#id" without a vocabulary). */
export function tokenText(vocab, id) {
  if (!(id >= 0)) return "";
  return vocab && vocab[id] != null ? String(vocab[id]) : `#${id}`;
}

/**
 * How the text view joins tokens: "" between characters (every vocabulary entry one character long), else " "
 * (words, or ids without a vocabulary).
 */
export function joiner(vocab) {
  if (!vocab?.length) return " ";
  return vocab.every((s) => [...String(s)].length <= 1) ? "" : " ";
}

/**
 * What a token's span shows in the running text: its raw string with every newline drawn as "⏎" before the line
 * break (so that the token has a visible place to colour), tabs kept, and "␣" for a token that is only spaces.
 */
export function spanText(raw) {
  const s = String(raw);
  if (s === "") return "∅";
  if (/^ +$/.test(s)) return s.length === 1 ? " " : s;
  return s.replace(/\r?\n/g, "⏎\n");
}

/** The background colour of value v on `scale` ({map, lo, hi}) and the text colour that reads on it. */
export function tokenColors(scale, v) {
  if (v !== v || v == null) return { bg: "", fg: "" };
  const table = lut(scale.map);
  const k = indexOf(v, scale.lo, scale.hi, table.length / 4);
  const [r, g, b] = [table[4 * k], table[4 * k + 1], table[4 * k + 2]];
  const lum = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  return { bg: cssColor(scale, v), fg: lum < 0.5 ? "#fff" : "#000" };
}

/**
 * The score of every token s for the prediction at t from one influence row ((T, D) [s][d]: values over the
 * embedding of the token at s): the sum over d; NaN after t (a later token cannot have influenced it).
 */
export function tokenScores(row, T, D, t) {
  const out = new Float64Array(T).fill(NaN);
  for (let s = 0; s <= Math.min(t, T - 1); s++) {
    let v = 0;
    for (let d = 0; d < D; d++) v += row[s * D + d];
    out[s] = v;
  }
  return out;
}

/** The largest |value| of the finite entries (1e-12 when none is non-zero: a scale never collapses). */
export function maxAbsFinite(values) {
  let m = 0;
  for (const v of values) if (v === v && Math.abs(v) > m) m = Math.abs(v);
  return m > 0 ? m : 1e-12;
}

/**
 * The top-k list at row `t` of a (T, k) pair of blocks: [{id, p}] best first (ids < 0 skipped), and the actual next
 * token's {id, rank, p} when known (rank ≥ 1), else null.
 */
export function topKAt(ids, probs, k, t, nextId, rank, p) {
  const list = [];
  for (let j = 0; j < k; j++) {
    const id = ids[t * k + j];
    if (id >= 0) list.push({ id, p: probs[t * k + j] });
  }
  const actual = nextId >= 0 && rank >= 1 ? { id: nextId, rank, p } : null;
  return { list, actual };
}

/** The label function of sequence `s`'s steps for the time axes ((t) => label, or null when the model takes no ids). */
export function stepLabels(store, s) {
  const meta = store.meta;
  if (!meta.tokens || !store.has("token_ids")) return null;
  return (t) => {
    const id = store.tokenId(s, t);
    return id >= 0 ? tokenLabel(meta.vocab, id) : null;
  };
}

/** The steps a strip of `n` token labels centred on t shows: [t0, t1) within 0..T. */
export function stripRange(t, T, n) {
  const t0 = Math.max(0, Math.min(t - Math.floor(n / 2), T - n));
  return [t0, Math.min(T, t0 + n)];
}
