import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeArray } from "../dev/encode.js";
import { createStore } from "../src/store.js";
import {
  joiner,
  maxAbsFinite,
  spanText,
  stepLabels,
  stripRange,
  tokenColors,
  tokenLabel,
  tokenScores,
  tokenText,
  topKAt,
  visibleToken,
} from "../src/tokens.js";
import { windowStart } from "../src/views/text.js";

test("labels show control characters visibly; ids without a vocabulary read #id", () => {
  assert.equal(visibleToken("\n"), "⏎");
  assert.equal(visibleToken(" "), "␣");
  assert.equal(visibleToken("a b\t"), "a␣b⇥");
  assert.equal(visibleToken("\u0007"), "␇");
  assert.equal(visibleToken(""), "∅");
  const vocab = ["a", "\n", "the"];
  assert.equal(tokenLabel(vocab, 1), "⏎");
  assert.equal(tokenLabel(vocab, 2), "the");
  assert.equal(tokenLabel(null, 17), "#17");
  assert.equal(tokenLabel(vocab, -1), "–");
  assert.equal(tokenText(vocab, 1), "\n"); // the text view keeps the raw string
  assert.equal(tokenText(null, 4), "#4");
});

test("the text view joins characters directly and words with spaces; a newline token breaks the line", () => {
  assert.equal(joiner(["a", "b", "\n", " "]), "");
  assert.equal(joiner(["the", "cat"]), " ");
  assert.equal(joiner(null), " ");
  assert.equal(spanText("\n"), "⏎\n");
  assert.equal(spanText("a\r\nb"), "a⏎\nb");
  assert.equal(spanText(" "), " ");
});

test("token colours follow the scale, with a text colour that reads on them", () => {
  const scale = { map: "rdbu", lo: -1, hi: 1 };
  const hi = tokenColors(scale, 1);
  const lo = tokenColors(scale, -1);
  assert.notEqual(hi.bg, lo.bg);
  assert.match(hi.bg, /^rgb\(/);
  assert.ok(["#fff", "#000"].includes(hi.fg));
  assert.deepEqual(tokenColors(scale, NaN), { bg: "", fg: "" });
});

test("token scores sum an influence row over the embedding, NaN after t", () => {
  // T = 3, D = 2: row[s][d]
  const row = Float32Array.from([1, 2, -3, 0.5, 9, 9]);
  const scores = tokenScores(row, 3, 2, 1);
  assert.deepEqual(Array.from(scores.slice(0, 2)), [3, -2.5]);
  assert.ok(Number.isNaN(scores[2]));
  assert.equal(maxAbsFinite(scores), 3);
  assert.equal(maxAbsFinite([NaN, 0]), 1e-12);
});

test("top-k at a step lists ids best first and the actual next token with its rank", () => {
  const ids = Int32Array.from([4, 2, 7, 1, 3, 0]); // T = 2, k = 3
  const probs = Float32Array.from([0.5, 0.3, 0.1, 0.6, 0.2, 0.1]);
  const got = topKAt(ids, probs, 3, 1, 3, 2, 0.2);
  assert.deepEqual(
    got.list.map((e) => e.id),
    [1, 3, 0],
  );
  assert.deepEqual(got.actual, { id: 3, rank: 2, p: 0.2 });
  assert.equal(topKAt(ids, probs, 3, 1, -1, -1, NaN).actual, null);
});

test("the text view's window and the token strip stay inside the sequence", () => {
  assert.equal(windowStart(10, 50, 100), 0);
  assert.equal(windowStart(5000, 10000, 4000), 3000);
  assert.equal(windowStart(9990, 10000, 4000), 6000);
  assert.deepEqual(stripRange(0, 40, 15), [0, 15]);
  assert.deepEqual(stripRange(20, 40, 15), [13, 28]);
  assert.deepEqual(stripRange(39, 40, 15), [25, 40]);
  assert.deepEqual(stripRange(2, 4, 15), [0, 4]);
});

test("the store keeps token ids: loaded, appended one step at a time, labelled per step", () => {
  const store = createStore({
    meta: { lengths: [2], quantities: ["h"], units: { h: 1 }, tokens: true, vocab: ["a", " ", "c"], top_k: 0 },
    arrays: {
      h: encodeArray(Float32Array.from([1, 2]), [1, 2, 1], "float32"),
      token_ids: encodeArray(Int32Array.from([0, 1]), [2], "int32"),
    },
  });
  assert.equal(store.meta.tokens, true);
  assert.deepEqual(store.meta.vocab, ["a", " ", "c"]);
  const ids = encodeArray(Int32Array.from([2]), [1], "int32");
  const h = encodeArray(Float32Array.from([3]), [1, 1, 1], "float32");
  const fields = [
    { name: "h", dtype: h.dtype, shape: h.shape },
    { name: "token_ids", dtype: ids.dtype, shape: ids.shape },
  ];
  store.applyMessage({ type: "append", sequence: 0, start: 2, fields }, [h.buffer, ids.buffer]);
  assert.deepEqual(Array.from(store.series("token_ids", 0, 0).data), [0, 1, 2]);
  assert.equal(store.tokenId(0, 2), 2);
  assert.equal(store.tokenId(0, 5), -1);
  const labels = stepLabels(store, 0);
  assert.deepEqual([0, 1, 2].map(labels), ["a", "␣", "c"]);
  // a new sequence's first append: the int column grows with -1 (unknown) before it is written
  store.applyMessage({ type: "append", sequence: 1, start: 0, fields }, [h.buffer, ids.buffer]);
  assert.deepEqual(Array.from(store.series("token_ids", 0, 1).data), [2]);
});
