"""The explorer's "Why" section in a real JupyterLab + Chromium, on 12 Japanese Vowels utterances of 3
speakers: the section is closed by default and opening it asks the kernel for the influence map; the influence view
follows the cursor (pixels change with t, the values shown are lstm_widget.influence's); a top-units entry selects its
unit in Python; a unit's context action (right-click a heatmap row) re-runs the sequence with the intervention and the
page shows record(..., interventions=...)'s probabilities beside the original; a shift-drag brush on the heatmap gives
match_pattern's matches, and clicking one moves sequence and t there.

Selectors (js/src/views/whypanel.js and the views it holds):
    TOGGLE     ".lw-why-toggle"                         aria-expanded
    INFLUENCE  ".lw-influence"   data-sequence, data-method, data-pending; __lw_influence() -> what is drawn
               "select[aria-label='Influence method']"
    RANKING    ".lw-ranking"     ".lw-seg button[data-mode=t|sequence|class]", ".lw-rank-item[data-unit]";
               __lw_ranking() -> {mode, by, class, units, scores}
    COMPARE    ".lw-compare"     data-kind, data-pending; ".lw-cmp-tr[data-class]" .lw-cmp-a / .lw-cmp-b;
               __lw_compare() -> {sequence, t, original, other, ...}
    PATTERNS   ".lw-patterns"    "input[aria-label=Threshold]", ".lw-match[data-sequence][data-start][data-stop]"
    MENU       ".lw-menu"        ".lw-menu-item[data-action=zero|zero-all|clamp|scale|select|clear]", ".lw-menu-input"
"""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Locator

from lab import (
    CONSOLE,
    Widget,
    canvas_pixels,
    next_frames,
    pixel_hash,
    py_json,
    run_code,
    wait_py,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-widget"
# Heatmap data rectangle inside its canvas (CSS px): timeRect(plot, 4, 18) with TIME_MARGIN 48 / 12.
HEATMAP_RECT = {"left": 48, "right": 12, "top": 4, "bottom": 18}

SETUP = """\
import json
import numpy as np
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels, JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES
from lstm_widget.models import japanese_vowels_net

net = japanese_vowels_net()
X_test, y_test = japanese_vowels("test")
idx = np.concatenate([np.flatnonzero(y_test == c)[:4] for c in range(3)])
X, y = [X_test[i] for i in idx], y_test[idx]
ex = lw.Explorer(net, X, labels=y, class_names=JAPANESE_VOWELS_CLASS_NAMES,
                 feature_names=JAPANESE_VOWELS_FEATURE_NAMES, sequence_names=[f"utterance {k}" for k in range(len(X))])

def find_pattern_case():
    # a brush (sequence, start, stop, threshold) whose units switch on again elsewhere, in 2+ other sequences
    for thr in (0.5, 0.3, 0.7):
        for s, r in enumerate(ex.recordings):
            for a in range(2, len(r) - 4):
                for n in (2, 3, 4):
                    pm = lw.match_pattern(ex.recordings, s, a, a + n, thr, "h", 0, k=20)
                    if len(pm.units) and len(pm) >= 3 and len({m.sequence for m in pm}) >= 2:
                        return s, a, a + n, thr
"""


@pytest.fixture(scope="module")
def ex(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, "why", [SETUP, "ex"], selector=ROOT)
    yield Widget(page, root)
    new_page.close(page)


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def view(ex: Widget, name: str) -> Locator:
    return ex.root.locator(f".lw-{name}").first


def call(ex: Widget, name: str, hook: str):
    return view(ex, name).evaluate(f"(el) => el.{hook}()")


def open_why(ex: Widget) -> None:
    toggle = ex.root.locator(".lw-why-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    wait_until(lambda: toggle.get_attribute("aria-expanded") == "true", timeout=30, message="the Why section opens")
    wait_py(ex, "ex.why_open", True)


def settle(ex: Widget, sequence: int, t: int, **traits) -> None:
    """Set the cursor (and other traits) from Python and wait until the page shows it."""
    extra = "".join(f"\nex.{k} = {v!r}" for k, v in traits.items())
    run_code(ex.page, f"ex.playing = False\nex.sequence = {sequence}\nex.t = {t}{extra}")
    wait_until(
        lambda: (
            view(ex, "heatmap").get_attribute("data-t") == str(t)
            and ex.root.locator(".lw-picker select").input_value() == str(sequence)
        ),
        timeout=30,
        message=f"the page shows sequence {sequence}, t={t}",
    )
    next_frames(ex.page)


def wait_influence(ex: Widget, sequence: int, t: int, method: str) -> dict:
    inf = view(ex, "influence")

    def ready():
        if inf.get_attribute("data-pending") != "false" or inf.get_attribute("data-sequence") != str(sequence):
            return None
        if inf.get_attribute("data-method") != method:
            return None
        d = call(ex, "influence", "__lw_influence")
        return d if d and d["t"] == t and d["sequence"] == sequence and d["method"] == method else None

    return wait_until(ready, timeout=60, message=f"the influence view shows sequence {sequence}, t={t}, {method}")


def heatmap_geometry(ex: Widget) -> dict:
    box = view(ex, "heatmap").locator("canvas.lw-overlay").bounding_box()
    r = HEATMAP_RECT
    return {
        "x": r["left"],
        "y": r["top"],
        "w": box["width"] - r["left"] - r["right"],
        "h": box["height"] - r["top"] - r["bottom"],
        "box": box,
    }


def influence_hash(ex: Widget) -> str:
    return pixel_hash(canvas_pixels(view(ex, "influence").locator("canvas.lw-base").first))


# --------------------------------------------------------------------------------------------------------------------
# 1. Closed by default; opening asks for the influence map, which then follows the cursor client side.


def test_closed_by_default_then_influence_follows_the_cursor(ex):
    assert ex.root.locator(".lw-why-toggle").get_attribute("aria-expanded") == "false"
    assert ex.root.locator(".lw-why-body").is_hidden()
    assert py_json(ex, "[ex.why_open, ex._influence == {}, ex._ranking == {}]") == [False, True, True]
    # closed views still name the step (every view carries data-t)
    settle(ex, 2, 3)
    for name in ("influence", "ranking", "compare", "patterns"):
        assert view(ex, name).get_attribute("data-t") == "3", name

    open_why(ex)
    shown = wait_influence(ex, 2, 3, "gradient_x_input")
    ref = py_json(
        ex,
        """(lambda r: {"values": r.values.tolist(), "per_lag": r.per_lag.tolist(),
        "per_lag_abs": r.per_lag_abs.tolist(), "f_x": r.f_x, "target": r.target})(
        lw.influence(net, X[2], t=3, method="gradient_x_input"))""",
    )
    T, D = shown["T"], shown["D"]
    assert (T, D) == (len(ref["values"]), 12)
    np.testing.assert_allclose(np.reshape(shown["values"], (T, D)), ref["values"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(shown["per_lag"], ref["per_lag"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(shown["per_lag_abs"], ref["per_lag_abs"], rtol=1e-4, atol=1e-5)
    assert shown["target"] == ref["target"]
    assert abs(shown["f_x"] - ref["f_x"]) < 1e-4
    before = influence_hash(ex)

    # the cursor moves: the page redraws from the map it has (no new request), with that step's values
    sent = py_json(ex, "ex._influence['sequence']")
    settle(ex, 2, 9)
    shown = wait_influence(ex, 2, 9, "gradient_x_input")
    assert influence_hash(ex) != before, "the influence heatmap did not change with t"
    ref9 = py_json(ex, "lw.influence(net, X[2], t=9, method='gradient_x_input').values.tolist()")
    np.testing.assert_allclose(np.reshape(shown["values"], (T, D)), ref9, rtol=1e-5, atol=1e-6)
    assert py_json(ex, "ex._influence['sequence']") == sent

    # the method select is the request for integrated gradients
    view(ex, "influence").locator("select[aria-label='Influence method']").select_option("integrated_gradients")
    wait_py(ex, "ex.influence_method", "integrated_gradients")
    shown = wait_influence(ex, 2, 9, "integrated_gradients")
    ig = py_json(ex, "ex.influence_map.at(9).values.tolist()")
    np.testing.assert_allclose(np.reshape(shown["values"], (T, D)), ig, rtol=1e-5, atol=1e-6)
    err = py_json(ex, "float(ex.influence_map.at(9).completeness_error)")
    assert err < 0.01
    run_code(ex.page, "ex.influence_method = 'gradient_x_input'")


# --------------------------------------------------------------------------------------------------------------------
# 2. Top units: equal to rank_units; an entry selects its unit in Python.


def test_ranking_equals_rank_units_and_click_selects(ex):
    open_why(ex)
    settle(ex, 5, 6, selected_units=[], quantity="h", layer=0)
    rank = view(ex, "ranking")
    rank.locator(".lw-seg button[data-mode=t]").click()

    def listed(mode, want_t=None):
        d = call(ex, "ranking", "__lw_ranking")
        return d if d and d["mode"] == mode and (want_t is None or d["t"] == want_t) and d["units"] else None

    got = wait_until(lambda: listed("t", 6), timeout=30, message="the ranking at t")
    ref = py_json(ex, "(lambda r: [r.units.tolist(), r.scores.tolist()])(lw.rank_units(ex.recording, 'h', 0, t=6))")
    assert got["units"] == ref[0]
    np.testing.assert_allclose(got["scores"], ref[1], rtol=1e-12)
    assert [
        int(u) for u in rank.locator(".lw-rank-item").evaluate_all("(els) => els.map((e) => e.dataset.unit)")
    ] == ref[0]

    rank.locator(".lw-seg button[data-mode=sequence]").click()
    got = wait_until(lambda: listed("sequence"), timeout=30, message="the ranking over the sequence")
    ref = py_json(ex, "(lambda r: [r.units.tolist(), r.scores.tolist()])(lw.rank_units(ex.recording, 'h', 0))")
    assert got["units"] == ref[0]
    np.testing.assert_allclose(got["scores"], ref[1], rtol=1e-12)

    rank.locator(".lw-seg button[data-mode=class]").click()
    got = wait_until(lambda: listed("class"), timeout=30, message="the ranking per class")
    ref = py_json(
        ex,
        """(lambda r: [int(y[5]), r.for_class(y[5])[0].tolist()])(
        lw.rank_units(ex.recordings, 'h', 0, labels=y))""",
    )
    assert got["class"] == ref[0] and got["units"] == ref[1]

    # clicking an entry selects the unit in every view (and in Python)
    second = rank.locator(".lw-rank-item").nth(1)
    unit = int(second.get_attribute("data-unit"))
    second.click()
    wait_py(ex, "ex.selected_units", [unit])
    entry = rank.locator(f".lw-rank-item[data-unit='{unit}']")
    wait_until(
        lambda: "lw-selected" in (entry.get_attribute("class") or ""),
        timeout=10,
        message="the entry shows it is selected",
    )
    second.click()
    wait_py(ex, "ex.selected_units", [])
    rank.locator(".lw-seg button[data-mode=t]").click()


# --------------------------------------------------------------------------------------------------------------------
# 3. A unit's context action re-runs the sequence with the intervention; the page shows record(...)'s probabilities.


def test_page_intervention_shows_what_record_gives(ex):
    open_why(ex)
    run_code(ex.page, "ex.clear_intervention()")
    settle(ex, 4, 2, selected_units=[], quantity="h", layer=0)
    heat = view(ex, "heatmap").locator("canvas.lw-overlay")
    heat.scroll_into_view_if_needed()
    g = heatmap_geometry(ex)
    T = py_json(ex, "len(ex.recording)")
    unit, start = 42, 2
    x = g["x"] + (start + 0.5) * g["w"] / T
    y = g["y"] + (unit + 0.5) * g["h"] / 100
    heat.click(button="right", position={"x": x, "y": y})
    menu = ex.root.locator(".lw-menu")
    menu.wait_for(state="visible", timeout=10_000)
    assert menu.locator(".lw-menu-title").text_content() == f"layer0.h[{unit}]"
    menu.locator(".lw-menu-item[data-action=zero]").click()
    want = {
        "kind": "intervention",
        "sequence": 4,
        "interventions": [
            {
                "quantity": "h",
                "layer": "layer0",
                "units": [unit],
                "start": start,
                "stop": None,
                "op": "zero",
                "value": None,
            }
        ],
    }
    wait_py(ex, "ex.comparison", want)

    # a second action adds to it: clamp unit 7 at 0.9 from the same step
    y7 = g["y"] + (7 + 0.5) * g["h"] / 100
    heat.click(button="right", position={"x": x, "y": y7})
    menu.wait_for(state="visible", timeout=10_000)
    assert menu.locator(".lw-menu-item[data-action=clamp]").text_content().startswith("+ Clamp layer0.h[7]")
    menu.locator(".lw-menu-input[data-action=clamp]").fill("0.9")
    menu.locator(".lw-menu-item[data-action=clamp]").click()
    want["interventions"].append(
        {"quantity": "h", "layer": "layer0", "units": [7], "start": start, "stop": None, "op": "clamp", "value": 0.9}
    )
    wait_py(ex, "ex.comparison", want)

    cmp = view(ex, "compare")
    ref_code = """(lambda r: r.probs.tolist())(lw.record(net, X[4], interventions=[
        lw.Intervention("h", "layer0", [42], 2), lw.Intervention("h", "layer0", [7], 2, op="clamp", value=0.9)]))"""
    ref = np.array(py_json(ex, ref_code))
    orig = np.array(py_json(ex, "ex.recording.probs.tolist()"))
    assert np.abs(ref - orig).max() > 1e-4, "the intervention changes nothing to test against"
    for t in (2, 8, T - 1):
        settle(ex, 4, t)

        def shown(t=t):
            if cmp.get_attribute("data-pending") != "false" or cmp.get_attribute("data-kind") != "intervention":
                return None
            d = call(ex, "compare", "__lw_compare")
            return d if d and d["t"] == t and d["other"] else None

        d = wait_until(shown, timeout=30, message=f"the comparison at t={t}")
        np.testing.assert_allclose(d["other"], ref[t], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(d["original"], orig[t], rtol=1e-5, atol=1e-6)
        # the table's text says the same (3 decimals)
        best = int(np.argmax(ref[t]))
        row = cmp.locator(f".lw-cmp-tr[data-class='{best}']")
        assert abs(float(row.locator(".lw-cmp-b").text_content()) - ref[t, best]) <= 0.0005 + 1e-9
        assert abs(float(row.locator(".lw-cmp-a").text_content()) - orig[t, best]) <= 0.0005 + 1e-9
    # the predictions view shows both curves: "original → intervened" at the cursor
    values = view(ex, "probs").locator(".lw-legend-value").all_text_contents()
    assert values and all("→" in v for v in values), values

    cmp.locator(".lw-cmp-clear").click()
    wait_py(ex, "[ex.comparison, ex._comparison == {}]", [{}, True])
    wait_until(
        lambda: all("→" not in v for v in view(ex, "probs").locator(".lw-legend-value").all_text_contents()),
        timeout=10,
        message="the dashed curves go",
    )


# --------------------------------------------------------------------------------------------------------------------
# 4. Shift-drag on the heatmap: match_pattern's matches, ranked; a click jumps there.


def test_brush_gives_match_pattern_and_click_jumps(ex):
    open_why(ex)
    s, start, stop, thr = py_json(ex, "find_pattern_case()")
    settle(ex, s, start, selected_units=[], quantity="h", layer=0, pattern_query={})
    T = py_json(ex, "len(ex.recording)")  # (running a cell scrolls the notebook: before measuring anything)
    pat = view(ex, "patterns")
    pat.locator("input[aria-label=Threshold]").fill(str(thr))
    heat = view(ex, "heatmap").locator("canvas.lw-overlay")
    heat.scroll_into_view_if_needed()
    g = heatmap_geometry(ex)
    box = g["box"]
    y = box["y"] + g["y"] + g["h"] / 2
    x0 = box["x"] + g["x"] + (start + 0.5) * g["w"] / T
    x1 = box["x"] + g["x"] + (stop - 1 + 0.5) * g["w"] / T
    mouse, keyboard = ex.page.mouse, ex.page.keyboard
    mouse.move(x0, y)
    keyboard.down("Shift")
    mouse.down()
    mouse.move((x0 + x1) / 2, y, steps=4)
    mouse.move(x1, y, steps=4)
    mouse.up()
    keyboard.up("Shift")
    want_query = {
        "sequence": s,
        "start": start,
        "stop": stop,
        "threshold": thr,
        "layer": 0,
        "quantity": "h",
        "margin": 1,
    }
    wait_py(ex, "ex.pattern_query", want_query)
    ref = py_json(
        ex,
        f"(lambda pm: [pm.units.tolist(), pm.rows()])(lw.match_pattern(ex.recordings, {s}, {start}, "
        f"{stop}, {thr}, 'h', 0, margin=1, k=20))",
    )
    wait_until(lambda: pat.get_attribute("data-pending") == "false", timeout=30, message="the search answers")
    shown = call(ex, "patterns", "__lw_patterns")
    assert shown["units"] == ref[0]
    assert shown["matches"] == ref[1]
    items = pat.locator(".lw-match")
    assert items.count() == len(ref[1])
    listed = items.evaluate_all("(els) => els.map((e) => [+e.dataset.sequence, +e.dataset.start, +e.dataset.stop])")
    assert listed == [[m["sequence"], m["start"], m["stop"]] for m in ref[1]]

    # a match in another sequence: clicking it moves the cursor there and selects the pattern's units
    k = next(i for i, m in enumerate(ref[1]) if m["sequence"] != s)
    m = ref[1][k]
    items.nth(k).click()
    wait_py(ex, "[ex.sequence, ex.t, ex.selected_units]", [m["sequence"], m["start"], ref[0]])
    wait_until(
        lambda: view(ex, "heatmap").get_attribute("data-t") == str(m["start"]),
        timeout=10,
        message="the heatmap follows",
    )
    assert "lw-current" in (items.nth(k).get_attribute("class") or "")
    run_code(ex.page, "ex.pattern_query = {}\nex.selected_units = []")


# --------------------------------------------------------------------------------------------------------------------
# 5. Nothing above logged an error in the page (a view that throws is caught and logged by the repaint loop).


def test_no_errors_in_the_page(ex):
    bad = [line for line in CONSOLE.get(ex.page, []) if "lstm_widget" in line or line.startswith("[pageerror]")]
    assert not bad, bad
