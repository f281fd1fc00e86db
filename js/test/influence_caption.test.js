import assert from "node:assert/strict";
import { test } from "node:test";
import { influenceCaption } from "../src/views/influence.js";

test("influence caption: a regression's raw output by index, a classifier's class by name, a next token as a token", () => {
  const f_x = new Float32Array([0.5, 1.25]);
  const reg = { output: "output", targets: new Int32Array([0, 1]), f_x };
  assert.ok(influenceCaption(reg, 1, { class_names: null }).startsWith("explains output 1 (predicted at t=1) = 1.25"));
  const clf = { output: "logit", targets: new Int32Array([2, 0]), f_x };
  assert.ok(
    influenceCaption(clf, 0, { class_names: ["a", "b", "c"] }).startsWith(
      "explains the logit of “c” (predicted at t=0)",
    ),
  );
  const tok = { output: "logit", targets: new Int32Array([1, 0]), f_x, tokens: true };
  const text = influenceCaption(tok, 0, { next_token: true, vocab: ["x", " "] });
  assert.ok(text.startsWith("explains the logit of the next token “␣” (predicted at t=0)"), text);
  assert.ok(text.endsWith(" · attributed to each token's embedding"));
});
