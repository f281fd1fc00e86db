"""A token model in a real JupyterLab + Chromium: a next-token LSTM (tests/zoo.py TokenClassifier: Embedding → LSTM →
Linear(vocab)) over a short text with a character vocabulary. The text view colours each character by the selected
unit (in the direction of the diverging scale), follows t both ways (outline, data-t, a click sets Python's ``ex.t``)
and colours by each token's influence on request; the predictions view lists the top-k next tokens with the actual
next one marked and ranked as the kernel ranked it; the standalone export shows the text offline.

Selectors (js/src/views/text.js, probs.js):
    TEXT   ".lw-text" (data-t, data-mode, data-unit), tokens ".lw-tok[data-step]", the one at t ".lw-tok-cur",
           mode select ".lw-text select[aria-label='Colour the text by']"
    TOPK   ".lw-probs .lw-topk-row" (data-id, data-rank), the actual next token ".lw-topk-row.lw-topk-actual",
           ".lw-probs .lw-topk-actual-line" "actual: 'e' rank 3, p = 0.080"
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab import hover_text, py_json, run_code, wait_py, wait_until, widget_notebook

ROOT = ".lstm-widget"
TESTS = Path(__file__).resolve().parents[1]
TEXT = "the cat sat on the mat.\nthe dog ran.\n"

SETUP = f"""\
import sys
sys.path.insert(0, {str(TESTS)!r})
import json
import numpy as np
import torch
import lstm_widget as lw
from lstm_widget._wire import decode_array
from zoo import TokenClassifier

torch.manual_seed(0)
vocab = list("abcdefghijklmnopqrstuvwxyz") + [" ", "\\n", ".", "'"]
model = TokenClassifier(vocab=len(vocab)).eval()
text = {TEXT!r}
ids = np.array([vocab.index(c) for c in text])
ex = lw.Explorer(model, [ids, ids[:9]], tokens=vocab)
h = ex.recordings[0].h[0]  # (T, units)
unit = int(np.argmax(h.max(axis=0) - h.min(axis=0)))  # the unit that varies most over the text
ex.selected_units = [unit]
"""

RGB = "(el) => getComputedStyle(el).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"


@pytest.fixture(scope="module")
def tok(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, "tokens", [SETUP, "ex"], selector=ROOT)
    yield page, root
    new_page.close(page)


def test_the_text_view_colours_each_token_by_the_selected_unit(tok):
    page, root = tok
    text = root.locator(".lw-text")
    unit = py_json(page, "unit")
    wait_until(lambda: text.get_attribute("data-unit") == str(unit), message=f"the text coloured by unit {unit}")
    spans = text.locator(".lw-tok")
    assert spans.count() == len(TEXT)
    assert "".join(spans.all_text_contents()) == TEXT.replace("\n", "⏎\n")  # newlines break the lines, visibly
    hi, lo = py_json(page, "[int(np.argmax(h[:, unit])), int(np.argmin(h[:, unit]))]")
    values = py_json(page, "[float(h[:, unit].max()), float(h[:, unit].min())]")
    assert values[0] > 0 > values[1], values  # one token on each side of 0 of the diverging scale
    r_hi, _, b_hi = spans.nth(hi).evaluate(RGB)
    r_lo, _, b_lo = spans.nth(lo).evaluate(RGB)
    assert r_hi > b_hi and b_lo > r_lo, ((r_hi, b_hi), (r_lo, b_lo))  # light theme: red positive, blue negative
    m = hover_text(root, spans.nth(hi), 3, 6, rf"t = {hi} · '(.)' · h\[{unit}\] = (-?[\d.]+)")
    assert m.group(1) == TEXT[hi].replace(" ", "␣").replace("\n", "⏎")
    assert float(m.group(2)) == pytest.approx(values[0], abs=2e-3)


def test_the_text_view_follows_t_and_a_click_on_a_token_moves_it(tok):
    page, root = tok
    text = root.locator(".lw-text")
    run_code(page, "ex.t = 5")
    wait_until(lambda: text.get_attribute("data-t") == "5", message="the text view at t = 5")
    cur = text.locator(".lw-tok-cur")
    wait_until(lambda: cur.count() == 1 and cur.get_attribute("data-step") == "5", message="token 5 outlined")
    assert cur.evaluate("(el) => getComputedStyle(el).outlineStyle") == "solid"
    text.locator(".lw-tok[data-step='12']").click()
    wait_py(page, "ex.t", 12)
    wait_until(lambda: cur.get_attribute("data-step") == "12", message="the outline moved to token 12")
    assert root.locator(".lw-timeline .lw-tlabel").text_content() == f"t = 12 (0–{len(TEXT) - 1}) · {TEXT[12]}"


def test_the_top_k_panel_lists_k_tokens_with_the_actual_next_one_marked_and_ranked(tok):
    page, root = tok
    rank = py_json(page, "decode_array(ex._arrays['next_rank'])[:len(ids)].tolist()")
    t = next(k for k, r in enumerate(rank) if 1 <= r <= 10)  # a step whose next token is in the top 10
    run_code(page, f"ex.t = {t}")
    rows = root.locator(".lw-probs .lw-topk-row")
    wait_until(lambda: root.locator(".lw-probs").get_attribute("data-t") == str(t), message=f"predictions at t={t}")
    top = py_json(page, f"decode_array(ex._arrays['topk_ids'])[{t}].tolist()")
    wait_until(lambda: rows.count() == 10, message="10 rows")
    assert [int(rows.nth(j).get_attribute("data-id")) for j in range(10)] == top
    actual = root.locator(".lw-probs .lw-topk-row.lw-topk-actual")
    assert actual.count() == 1
    assert int(actual.get_attribute("data-id")) == py_json(page, f"int(ids[{t} + 1])")
    assert int(actual.get_attribute("data-rank")) == rank[t]
    p = py_json(page, f"float(torch.softmax(model(torch.from_numpy(ids)[None])[0, {t}], -1)[ids[{t} + 1]])")
    line = root.locator(".lw-probs .lw-topk-actual-line").text_content()
    label = TEXT[t + 1].replace(" ", "␣").replace("\n", "⏎")
    m = re.fullmatch(rf"actual: '{re.escape(label)}' rank {rank[t]}, p = ([\d.e-]+)", line)
    assert m and float(m.group(1)) == pytest.approx(p, abs=1e-3), line


def test_colour_by_influence_asks_the_kernel_and_leaves_later_tokens_plain(tok):
    page, root = tok
    text = root.locator(".lw-text")
    run_code(page, "ex.t = 10")
    text.locator("select[aria-label='Colour the text by']").select_option("influence")
    wait_py(page, "ex.why_open", True)
    wait_until(lambda: text.get_attribute("data-mode") == "influence", message="influence mode")
    spans = text.locator(".lw-tok")
    wait_until(lambda: spans.nth(3).evaluate(RGB) != [0, 0, 0], message="earlier tokens coloured", timeout=60)
    scores = py_json(page, "ex.influence_map.per_step[10].tolist()")
    strongest = max(range(11), key=lambda s: abs(scores[s]))
    r, _, b = spans.nth(strongest).evaluate(RGB)
    assert (r > b) == (scores[strongest] > 0), (scores[strongest], r, b)
    assert spans.nth(15).evaluate("(el) => el.style.background") == ""  # after t: cannot have influenced it
    text.locator("select[aria-label='Colour the text by']").select_option("unit")


def test_the_export_of_a_token_explorer_shows_the_tokens_offline(tok, new_page, tmp_path):
    page, _ = tok
    path = tmp_path / "tokens.html"
    run_code(page, f"ex.t = 4; ex.save_html({str(path)!r}, quiet=True)")
    offline = new_page("tokens_export")
    try:
        target = path.as_uri()
        offline.context.route("**/*", lambda r: r.continue_() if r.request.url == target else r.abort())
        offline.goto(target)
        text = offline.locator(".lstm-widget .lw-text")
        wait_until(lambda: text.get_attribute("data-t") == "4", message="the exported text view at t = 4")
        spans = text.locator(".lw-tok")
        assert "".join(spans.all_text_contents()) == TEXT.replace("\n", "⏎\n")
        assert text.locator(".lw-tok-cur").get_attribute("data-step") == "4"
        assert offline.locator(".lw-probs .lw-topk-row").count() == 10
        strip = offline.locator(".lw-inputs .lw-token-strip").text_content()
        assert strip == TEXT[:15].replace(" ", "␣")  # the 15 tokens around t = 4, labelled
    finally:
        new_page.close(offline)
