"""The linked explorer in a real JupyterLab + Chromium, on a small notebook built here (the bundled Japanese Vowels
network, the first 20 test utterances): keys, quantity, trajectory clicks, Python -> page, a jslinked IntSlider,
live streaming, heatmap row selection, dark-theme contrast and a narrow layout. Every test checks values, in the
page and in Python. (test_demo_notebook.py covers the demo notebook: rendering, the slider, play/pause, seeking
while playing, canvases following the theme; nothing of that is repeated here.)

Selectors (the front-end conventions of DESIGN.md and the view modules in js/src/views/):
    ROOT       ".lstm-widget"                         root: tabindex="0", data-frames
    VIEWS      elements inside ROOT with a class "lw-<view>" and data-t
    QUANTITY   ".lw-heatmap select[aria-label=Quantity]"
    COLORBAR   ".lw-heatmap .lw-cb-label"              low / mid / high of the colour scale
    PICKER     ".lw-picker select", ".lw-seq-count"    "6 of 20"
    TLABEL     ".lw-timeline .lw-tlabel"               "t = 4 (0–25)"
    LEGEND     ".lw-<view> .lw-legend-name" / ".lw-legend-value"   (inputs, traces, probs: values at the cursor)
    TOOLTIP    ".lw-tooltip"                           heatmap "unit 17 · t 5 · 0.734", gates "unit 3 · input gate i · t 4 · 0.5"
    TRAJECTORY ".lw-trajectory" with __lw_project(x, y) -> CSS px from its canvas's top-left
Geometry of the canvases (js/src/views/common.js timeRect / TIME_MARGIN, gates.js constants) is in HEATMAP_RECT and
GATES below; hover tooltips confirm what lies under the pointer before anything is asserted on a click.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import ClassVar

import pytest
from playwright.sync_api import Locator

from lab import (
    Widget,
    canvas_pixels,
    code_done,
    first_repaint,
    hover_text,
    next_frames,
    pixel_hash,
    py_json,
    run_code,
    set_theme,
    start_code,
    wait_code,
    wait_py,
    wait_until,
    widget_notebook,
)
from server import VIEWPORT

ROOT = ".lstm-widget"
N_SEQUENCES = 20
# Heatmap data rectangle inside its canvas (CSS px): x = 48 .. W - 12, y = 4 .. H - 18 (timeRect(plot, 4, 18)).
HEATMAP_RECT = {"left": 48, "right": 12, "top": 4, "bottom": 18}
# Gates canvas: label column 62 px, head row 30 px, one row of 30 px per unit, 5 columns i f g o c over W - 66 px.
GATES = {"label_w": 62, "head_h": 30, "row_h": 30, "columns": ["i", "f", "g", "o", "c"]}

SETUP = f"""\
import json
import numpy as np
import ipywidgets as widgets
import lstm_widget as lw
from lstm_widget._wire import decode_array
from lstm_widget.datasets import japanese_vowels, JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES
from lstm_widget.models import japanese_vowels_net

net = japanese_vowels_net()
X_test, y_test = japanese_vowels("test")
X, y = X_test[:{N_SEQUENCES}], y_test[:{N_SEQUENCES}]
ex = lw.Explorer(
    net, X, labels=y,
    class_names=JAPANESE_VOWELS_CLASS_NAMES, feature_names=JAPANESE_VOWELS_FEATURE_NAMES,
    sequence_names=[f"utterance {{k}}" for k in range(len(X))],
)

def page_values(s, t, units=()):
    # What the views should show at (sequence s, step t): inputs, probs, h of `units`, and the predicted class.
    r = ex.recordings[s]
    p = r.probs[t]
    return json.dumps({{
        "inputs": r.inputs[t].tolist(), "probs": p.tolist(), "h": [float(r.h[0, t, u]) for u in units],
        "predicted": JAPANESE_VOWELS_CLASS_NAMES[int(np.argmax(p))], "length": len(r),
    }})
"""


EXPECTED_VIEWS = {
    "lw-picker",
    "lw-timeline",
    "lw-inputs",
    "lw-heatmap",
    "lw-traces",
    "lw-probs",
    "lw-trajectory",
    "lw-gates",
}


@dataclass
class Ex(Widget):
    lengths: list[int]  # steps of each of the N_SEQUENCES sequences
    expected_views: ClassVar[frozenset[str]] = frozenset(EXPECTED_VIEWS)


@pytest.fixture(scope="module")
def ex(new_page, jupyter_server):
    """The notebook written, opened and run once for the whole module; the tests reset what they need."""
    info = {}

    def ready(page, root):
        info.update(json.loads(run_code(page, "print(json.dumps({'lengths': ex._meta['lengths']}))")))
        assert len(info["lengths"]) == N_SEQUENCES, info
        first_repaint(root)  # views render once the data is in

    page, root = widget_notebook(new_page, jupyter_server, "explorer", [SETUP, "ex"], ready=ready, selector=ROOT)
    yield Ex(page, root, info["lengths"])
    new_page.close(page)


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def py(ex: Ex, expr: str) -> str:
    return run_code(ex.page, f"print({expr})")


def reset(ex: Ex, sequence: int = 0, t: int = 0, quantity: str = "h", units=()) -> None:
    """Put the cursor, quantity and selection where a test wants them, from Python, once page and kernel agree."""
    run_code(ex.page, "ex.playing = False")
    seen = []

    def settled():  # the same (sequence, t) in the page and in Python on two polls in a row
        page = (ex.root.locator(".lw-picker select").input_value(), ex.views().get("lw-timeline"))
        kernel = tuple(str(v) for v in py_json(ex, "[ex.sequence, ex.t]"))
        seen.append((page, kernel))
        return len(seen) > 1 and seen[-1] == seen[-2] and page == kernel

    wait_until(settled, timeout=30, interval=0.3, message=lambda: f"page and kernel agree (last {seen[-1:]})")
    run_code(
        ex.page,
        f"ex.quantity = {quantity!r}\nex.selected_units = {list(units)!r}\nex.sequence = {sequence}\nex.t = {t}",
    )
    ex.wait_views_at(t)
    sel = ex.root.locator(".lw-picker select")
    wait_until(lambda: sel.input_value() == str(sequence), timeout=30, message=f"the picker shows {sequence}")
    quantity_select(ex).wait_for()
    wait_until(lambda: quantity_select(ex).input_value() == quantity, timeout=30, message=f"the page shows {quantity}")
    ex.root.scroll_into_view_if_needed()


def quantity_select(ex: Ex) -> Locator:
    return ex.root.locator(".lw-heatmap select[aria-label=Quantity]")


def texts(loc: Locator) -> list[str]:
    return [s.strip() for s in loc.all_text_contents()]


def legend(ex: Ex, view: str) -> tuple[list[str], list[str]]:
    """(names, values at the cursor) of a line-chart view's legend."""
    card = ex.root.locator(f".lw-{view}")
    return texts(card.locator(".lw-legend-name")), texts(card.locator(".lw-legend-value"))


def assert_shows(text: str, value: float, what: str) -> None:
    """``text`` is ``value`` as the page formats it (fixed decimals or one-digit exponent): equal to within half a
    unit of its last digit."""
    assert text not in ("", "–"), f"{what}: the page shows {text!r} for {value}"
    m = re.fullmatch(r"(-?\d+)(?:\.(\d+))?(?:e([+-]?\d+))?%?", text.strip())
    assert m, f"{what}: unexpected number {text!r}"
    decimals = len(m.group(2) or "")
    scale = 10.0 ** int(m.group(3) or 0)
    tol = 0.5 * 10.0**-decimals * scale * 1.001 + 1e-7
    got = float(text.rstrip("%"))
    assert abs(got - value) <= tol, f"{what}: the page shows {text}, Python has {value}"


def overlay(ex: Ex, view: str) -> Locator:
    return ex.root.locator(f".lw-{view} canvas.lw-overlay").first


def heatmap_geometry(ex: Ex) -> dict:
    box = overlay(ex, "heatmap").bounding_box()
    W, H = box["width"], box["height"]
    r = HEATMAP_RECT
    return {"x": r["left"], "y": r["top"], "w": W - r["left"] - r["right"], "h": H - r["top"] - r["bottom"]}


def heatmap_hash(ex: Ex) -> str:
    return pixel_hash(canvas_pixels(ex.root.locator(".lw-heatmap canvas.lw-base").first))


# --------------------------------------------------------------------------------------------------------------------
# 1. Keyboard on the focused root: every view and Python follow.


def test_keys_move_every_view_and_python(ex):
    s = max(range(N_SEQUENCES), key=lambda k: ex.lengths[k])  # the longest: room for PageDown's 10 steps
    T = ex.lengths[s]
    assert T > 11, ex.lengths
    reset(ex, sequence=s, t=0)
    ex.root.focus()
    expected = 0
    for key, step in [
        ("ArrowRight", lambda t: t + 1),
        ("ArrowRight", lambda t: t + 1),
        ("ArrowLeft", lambda t: t - 1),
        ("End", lambda t: T - 1),
        ("ArrowLeft", lambda t: t - 1),
        ("Home", lambda t: 0),
        ("PageDown", lambda t: t + 10),
        ("Shift+ArrowLeft", lambda t: t - 10),
    ]:
        expected = step(expected)
        ex.root.press(key)
        ex.wait_views_at(expected)
        assert ex.root.locator(".lw-timeline .lw-tlabel").text_content() == f"t = {expected} (0–{T - 1})"
        wait_py(ex, "ex.t", expected)
        assert py(ex, "ex.sequence") == str(s), "a key changed the sequence"
        assert ex.page.evaluate("(sel) => document.activeElement.matches(sel)", ROOT), f"{key} moved the focus"


# --------------------------------------------------------------------------------------------------------------------
# 2. The quantity, from the page's control and from Python: heatmap pixels and colour scale.


def colorbar(ex: Ex) -> list[str]:
    return texts(ex.root.locator(".lw-heatmap .lw-cb-label"))


def assert_gate_scale(labels: list[str]) -> None:
    lo, mid, hi = (float(v) for v in labels)
    assert (lo, mid, hi) == (0.0, 0.5, 1.0), labels


def assert_signed_scale(labels: list[str], limits: list[float]) -> None:
    lo, mid, hi = (float(v) for v in labels)
    m = max(abs(limits[0]), abs(limits[1]))
    assert mid == 0.0 and lo == -hi and hi > 0, labels
    assert_shows(labels[2], m, "colour scale maximum |h|")


def test_quantity_changes_heatmap_and_scale(ex):
    reset(ex, sequence=1, t=3, quantity="h", units=[0, 1])
    limits_h = py_json(ex, "ex._meta['limits']['h']")
    heat_h = heatmap_hash(ex)
    scale_h = colorbar(ex)
    assert_signed_scale(scale_h, limits_h)
    title = ex.root.locator(".lw-heatmap .lw-title")
    assert title.text_content() == "Hidden state h"
    values_h = legend(ex, "traces")[1]

    # From the page's quantity control: Python follows, the heatmap and its scale change.
    quantity_select(ex).select_option("i")
    wait_py(ex, "ex.quantity", "i")
    wait_until(lambda: colorbar(ex) != scale_h, timeout=30, message="the colour scale changes for i")
    assert_gate_scale(colorbar(ex))
    assert title.text_content() == "Input gate i"
    next_frames(ex.page)
    heat_i = heatmap_hash(ex)
    assert heat_i != heat_h, "the heatmap did not change from h to i"
    values_i = legend(ex, "traces")[1]
    assert values_i != values_h, "the traces still show h"
    i_now = py_json(ex, "[float(ex.recordings[1].i[0, 3, u]) for u in (0, 1)]")
    for text, v in zip(values_i, i_now, strict=True):
        assert_shows(text, v, "traces value of i")

    # From Python.
    run_code(ex.page, 'ex.quantity = "f"')
    wait_until(lambda: quantity_select(ex).input_value() == "f", timeout=30, message="the control shows f")
    wait_until(lambda: title.text_content() == "Forget gate f", timeout=30, message="the heatmap title names f")
    assert_gate_scale(colorbar(ex))
    wait_until(lambda: heatmap_hash(ex) not in (heat_h, heat_i), timeout=30, message="the heatmap repaints for f")
    f_now = py_json(ex, "[float(ex.recordings[1].f[0, 3, u]) for u in (0, 1)]")
    wait_until(lambda: legend(ex, "traces")[1] != values_i, timeout=30, message="the traces show f")
    for text, v in zip(legend(ex, "traces")[1], f_now, strict=True):
        assert_shows(text, v, "traces value of f")

    run_code(ex.page, 'ex.quantity = "h"')
    wait_until(lambda: colorbar(ex) == scale_h, timeout=30, message="the colour scale of h comes back")
    wait_until(lambda: heatmap_hash(ex) == heat_h, timeout=30, message="the heatmap of h comes back")


# --------------------------------------------------------------------------------------------------------------------
# 3. Clicking the trajectory.

PROJECTED_JS = """([traj, root]) => {
  const view = root.querySelector('.lw-trajectory');
  if (!view || !view.__lw_project) return null;
  return traj.map(([x, y]) => view.__lw_project(x, y));
}"""


def projected_points(ex: Ex) -> tuple[list[dict], list[int]]:
    data = py_json(ex, "{'traj': decode_array(ex._arrays['traj'])[:, :2].tolist(), 'offsets': ex._meta['offsets']}")
    handle = ex.root.element_handle()
    pts = wait_until(
        lambda: (lambda p: p if p and all(q is not None for q in p) else None)(
            ex.page.evaluate(PROJECTED_JS, [data["traj"], handle])
        ),
        timeout=30,
        message="__lw_project maps the trajectory's points",
    )
    return pts, data["offsets"]


def test_trajectory_click_sets_step_and_sequence(ex):
    s0 = 2
    reset(ex, sequence=s0, t=0)
    canvas = overlay(ex, "trajectory")
    canvas.scroll_into_view_if_needed()
    next_frames(ex.page)
    box = canvas.bounding_box()
    pts, offsets = projected_points(ex)
    n = len(pts)
    dist = lambda a, b: math.hypot(a["x"] - b["x"], a["y"] - b["y"])  # noqa: E731
    inside = lambda p: 6 <= p["x"] <= box["width"] - 6 and 6 <= p["y"] <= box["height"] - 6  # noqa: E731
    cur = range(offsets[s0], offsets[s0 + 1])

    # A step of the current path (not the current one) that stands apart from the path's other points.
    def apart(r):
        return min(dist(pts[r], pts[q]) for q in cur if q != r)

    candidates = [r for r in cur if r != offsets[s0] and inside(pts[r])]
    assert candidates, "no point of the current path inside the plot"
    row = max(candidates, key=apart)
    t = row - offsets[s0]
    assert apart(row) >= 3, f"the current path's points all overlap ({apart(row):.1f} px)"
    canvas.click(position=pts[row])
    ex.wait_views_at(t)
    wait_py(ex, "ex.t", t)
    assert py(ex, "ex.sequence") == str(s0)

    # A point of another path, farther than 10 px from the current path and with no other point on it.
    seq_of = lambda r: max(k for k in range(len(offsets) - 1) if offsets[k] <= r)  # noqa: E731
    best = None
    for r in range(n):
        if r in cur or not inside(pts[r]):
            continue
        near_cur = min(dist(pts[r], pts[q]) for q in cur)
        near_any = min(dist(pts[r], pts[q]) for q in range(n) if q != r)
        if near_cur > 10 and near_any >= 2 and (best is None or near_cur > best[1]):
            best = (r, near_cur)
    assert best is not None, "no other path's point stands apart from the current path"
    s1 = seq_of(best[0])
    canvas.click(position=pts[best[0]])
    wait_py(ex, "ex.sequence", s1)
    want_t = min(t, ex.lengths[s1] - 1)  # the step is kept, clamped to the new sequence
    ex.wait_views_at(want_t)
    assert ex.root.locator(".lw-picker select").input_value() == str(s1)
    wait_py(ex, "ex.t", want_t)


# --------------------------------------------------------------------------------------------------------------------
# 4. Python -> page: t, sequence, selected units.


def test_python_sets_t_sequence_and_units(ex):
    reset(ex, sequence=0, t=0)
    s = 5
    T = ex.lengths[s]
    t = min(4, T - 1)
    units = [3, 17]
    run_code(ex.page, f"ex.sequence = {s}\nex.t = {t}\nex.selected_units = {units}")
    ex.wait_views_at(t)
    assert ex.root.locator(".lw-picker select").input_value() == str(s)
    assert ex.root.locator(".lw-picker .lw-seq-count").text_content() == f"{s + 1} of {N_SEQUENCES}"
    assert ex.root.locator(".lw-timeline .lw-tlabel").text_content() == f"t = {t} (0–{T - 1})"

    # The views show sequence s at step t: inputs, probabilities, the selected units' traces.
    want = py_json(ex, f"json.loads(page_values({s}, {t}, {units}))")
    wait_until(
        lambda: legend(ex, "traces")[0] == [f"unit {u}" for u in units],
        timeout=30,
        message=lambda: f"the traces show units {units} (legend {legend(ex, 'traces')[0]})",
    )
    for text, v in zip(legend(ex, "traces")[1], want["h"], strict=True):
        assert_shows(text, v, "traced h")
    names, values = legend(ex, "inputs")
    assert len(values) == len(want["inputs"]), names
    for text, v in zip(values, want["inputs"], strict=True):
        assert_shows(text, v, "input feature")
    for text, v in zip(legend(ex, "probs")[1], want["probs"], strict=True):
        assert_shows(text, v, "class probability")
    assert ex.root.locator(".lw-probs .lw-pred-class").text_content() == want["predicted"]

    # The gates view has one row per selected unit; its cells hold those units' gate values at (s, t).
    gates = overlay(ex, "gates")
    gates.scroll_into_view_if_needed()
    g = GATES
    wait_until(
        lambda: gates.bounding_box()["height"] == g["head_h"] + len(units) * g["row_h"] + 6,
        timeout=30,
        message="the gates view has one row per selected unit",
    )
    W = gates.bounding_box()["width"]
    col_w = (W - g["label_w"] - 4) / len(g["columns"])
    gate_values = py_json(
        ex, f"{{q: [float(getattr(ex.recordings[{s}], q)[0, {t}, u]) for u in {units}] for q in 'ifgoc'}}"
    )
    for row, u in enumerate(units):
        for k, q in enumerate(g["columns"]):
            x = g["label_w"] + k * col_w + col_w / 2
            y = g["head_h"] + row * g["row_h"] + g["row_h"] / 2
            m = hover_text(ex.root, gates, x, y, r"unit (\d+) · .* (\w) · t (\d+) · (\S+)")
            assert (int(m.group(1)), m.group(2), int(m.group(3))) == (u, q, t), m.group(0)
            assert_shows(m.group(4), gate_values[q][row], f"gate {q} of unit {u}")
    ex.page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------------------------------
# 5. An ipywidgets IntSlider jslinked to the explorer's t.

INT_SLIDER = ".lw-test-slider"


def test_jslinked_int_slider(ex):
    reset(ex, sequence=0, t=0)
    T = ex.lengths[0]
    run_code(
        ex.page,
        f"slider = widgets.IntSlider(value=0, min=0, max={T - 1}, description='linked t')\n"
        "slider.add_class('lw-test-slider')\n"
        "link = widgets.jslink((slider, 'value'), (ex, 't'))\n"
        "display(slider)",
    )
    try:
        sl = ex.page.locator(INT_SLIDER).first
        sl.wait_for(state="visible", timeout=60_000)
        readout = sl.locator(".widget-readout")

        # The IntSlider moves the explorer (Python sets the slider; the link runs in the page).
        run_code(ex.page, "slider.value = 5")
        ex.wait_views_at(5)
        wait_py(ex, "ex.t", 5)

        # Keys on the IntSlider's handle move it, and the explorer with it.
        handle = sl.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        ex.wait_views_at(6)
        wait_py(ex, "slider.value", 6)
        wait_py(ex, "ex.t", 6)

        # Scrubbing in the explorer moves the IntSlider: keys on the root, then its own time slider.
        ex.root.focus()
        ex.root.press("End")
        ex.wait_views_at(T - 1)
        wait_until(
            lambda: readout.text_content().strip() == str(T - 1),
            timeout=30,
            message=lambda: (
                f"the IntSlider's readout shows {T - 1} (it shows {readout.text_content()!r}; "
                f"Python: slider {py(ex, 'slider.value')}, ex.t {py(ex, 'ex.t')})"
            ),
        )
        wait_py(ex, "slider.value", T - 1)
        ex.root.locator(".lw-timeline input[type=range]").fill("2")
        ex.wait_views_at(2)
        wait_until(lambda: readout.text_content().strip() == "2", timeout=30, message="the IntSlider's readout shows 2")
        wait_py(ex, "slider.value", 2)
        wait_py(ex, "ex.t", 2)
    finally:
        run_code(ex.page, "link.unlink()\nslider.close()")


# --------------------------------------------------------------------------------------------------------------------
# 6. Streaming a long sequence: the page grows while the cell runs, and ends on Python's data.

STREAM_STEPS = 300
STREAM_FPS = 75  # ~4 s
STREAM_SAMPLE_JS = """(r) => [
  r.querySelector('.lw-picker select').value,
  r.querySelector('.lw-timeline .lw-tlabel').textContent,
  [...r.querySelectorAll('.lw-probs .lw-legend-value')].map((v) => v.textContent.trim()),
]"""


def test_stream_appends_visibly_and_ends_on_pythons_data(ex):
    units = [0, 1, 2]
    reset(ex, sequence=0, t=0, units=units)
    n_before = int(py(ex, "len(ex.recordings)"))
    label = ex.root.locator(".lw-timeline .lw-tlabel")
    handle = start_code(
        ex.page,
        f"x_long = np.tile(X[0], ({STREAM_STEPS} // len(X[0]) + 1, 1))[:{STREAM_STEPS}]\n"
        f"rec = ex.stream(x_long, name='streamed', fps={STREAM_FPS})",
    )
    shown = []  # [sequence in the picker, timeline label, probabilities in the legend], read in one go
    while not code_done(ex.page, handle):
        shown.append(ex.root.evaluate(STREAM_SAMPLE_JS))
        ex.page.wait_for_timeout(150)
    wait_code(ex.page, handle, timeout=180_000)
    seen, probs_seen = [], {}  # (t, T) of the streamed sequence; t -> the probabilities shown there (appended data)
    for sequence, text, probs in shown:
        m = re.fullmatch(r"t = (\d+) \(0–(\d+)\)", text)  # "t = 4 (0–25)": step 4 of 26 (none yet: "no steps")
        if m and sequence == str(n_before):
            seen.append((int(m.group(1)), int(m.group(2)) + 1))
            if seen[-1][1] > 0:
                probs_seen[seen[-1][0]] = probs

    lengths = sorted({T for _, T in seen})
    assert len(lengths) >= 3, f"the page did not grow visibly while streaming: {shown}"
    assert [T for _, T in seen] == sorted(T for _, T in seen), f"the length shrank: {seen}"
    assert all(t == T - 1 for t, T in seen if T > 0), f"the cursor did not follow the live end: {seen}"
    assert lengths[0] < STREAM_STEPS, seen

    # Afterwards: Python has the whole recording and shows it; the page shows its last step with Python's values.
    assert py_json(ex, "[len(ex.recordings[-1]), len(ex.recordings)]") == [STREAM_STEPS, n_before + 1]
    wait_py(ex, "ex.sequence", n_before)
    wait_py(ex, "ex.t", STREAM_STEPS - 1)
    # What the page showed while the frames came in (the appends, before the traits replaced them) was Python's.
    ts = sorted(probs_seen)
    recorded = py_json(ex, f"ex.recordings[-1].probs[{ts}].tolist()")
    for t, row in zip(ts, recorded, strict=True):
        assert len(probs_seen[t]) == len(row), (t, probs_seen[t])
        for text, v in zip(probs_seen[t], row, strict=True):
            assert_shows(text, v, f"probability at streamed step {t}")
    ex.wait_views_at(STREAM_STEPS - 1)
    assert label.text_content() == f"t = {STREAM_STEPS - 1} (0–{STREAM_STEPS - 1})"
    assert ex.root.locator(".lw-picker select").input_value() == str(n_before)
    assert "streamed" in ex.root.locator(".lw-picker select option:checked").text_content()

    want = py_json(ex, f"json.loads(page_values({n_before}, {STREAM_STEPS - 1}, {units}))")
    assert want["length"] == STREAM_STEPS
    assert ex.root.locator(".lw-probs .lw-pred-class").text_content() == want["predicted"]
    for view, key in [("probs", "probs"), ("inputs", "inputs"), ("traces", "h")]:
        values = legend(ex, view)[1]
        assert len(values) == len(want[key]), (view, values)
        for text, v in zip(values, want[key], strict=True):
            assert_shows(text, v, f"{view} at the last streamed step")

    # The heatmap's last column holds the last step's h (its tooltip names unit, step and value).
    heat = overlay(ex, "heatmap")
    heat.scroll_into_view_if_needed()
    r = heatmap_geometry(ex)
    x = r["x"] + (STREAM_STEPS - 0.5) * r["w"] / STREAM_STEPS
    u = 40
    m = hover_text(ex.root, heat, x, r["y"] + (u + 0.5) * r["h"] / 100, r"unit (\d+) · t (\d+) · (\S+)")
    unit, t = int(m.group(1)), int(m.group(2))
    assert t == STREAM_STEPS - 1, m.group(0)
    assert_shows(m.group(3), float(py(ex, f"ex.recordings[-1].h[0, {t}, {unit}]")), f"heatmap h of unit {unit}")
    ex.page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------------------------------
# 7. Clicking a heatmap row selects that unit.


def test_heatmap_row_click_selects_unit(ex):
    reset(ex, sequence=0, t=0, units=[5])
    heat = overlay(ex, "heatmap")
    heat.scroll_into_view_if_needed()
    r = heatmap_geometry(ex)
    U = 100
    want = 42
    x = r["x"] + r["w"] / 2
    y = r["y"] + (want + 0.5) * r["h"] / U
    m = hover_text(ex.root, heat, x, y, r"unit (\d+) · t (\d+) · (\S+)")
    unit = int(m.group(1))
    assert unit == want, f"row {want} is unit {unit}: the rows are not in index order"

    t_before = ex.views()["lw-timeline"]
    heat.click(position={"x": x, "y": y})
    wait_py(ex, "ex.selected_units", [5, unit])
    wait_until(
        lambda: legend(ex, "traces")[0] == ["unit 5", f"unit {unit}"],
        timeout=30,
        message="the traces show the clicked unit",
    )
    assert ex.views()["lw-timeline"] == t_before, "a click (no drag) moved the cursor"
    # A second click on the same row deselects it.
    heat.click(position={"x": x, "y": y})
    wait_py(ex, "ex.selected_units", [5])
    ex.page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------------------------------
# 8. Dark theme: the widget's text is readable (WCAG contrast).

CONTRAST_JS = r"""(root) => {
  const probe = document.createElement('canvas').getContext('2d');
  const rgba = (css) => {
    probe.fillStyle = '#010203';
    probe.fillStyle = css;
    const s = probe.fillStyle;
    if (s[0] === '#') return [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16)).concat(1);
    let m = s.match(/rgba?\(([^)]+)\)/);
    if (m) { const p = m[1].split(',').map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    m = s.match(/color\(srgb ([^)]+)\)/);
    if (m) { const p = m[1].replace('/', ' ').split(/\s+/).filter(Boolean).map(Number);
             return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1]; }
    throw new Error('cannot parse colour ' + css + ' -> ' + s);
  };
  const over = (top, under) => {  // top (with alpha) composited over an opaque colour
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
  };
  const background = (el) => {  // the opaque colour behind el: its and its ancestors' backgrounds, composited
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const out = [];
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('style, option, .lw-tooltip, svg')) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own && el.tagName !== 'SELECT') continue;
    if (!el.getClientRects().length) continue;  // not rendered
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden') continue;
    let opacity = 1;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
    const bg = background(el);
    const fg = rgba(cs.color);
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const l1 = lum(text), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    out.push({
      cls: el.className || el.tagName.toLowerCase(),
      text: (el.tagName === 'SELECT' ? el.selectedOptions[0]?.text : el.textContent).trim().slice(0, 40),
      color: cs.color, bg: `rgb(${bg.slice(0, 3).map(Math.round).join(',')})`, ratio: Math.round(ratio * 100) / 100,
      trajectory: !!el.closest('.lw-trajectory'),
    });
  }
  return out;
}"""


def dark_theme_text(ex: Ex) -> list[dict]:
    """Every rendered text of the widget in JupyterLab Dark: {cls, text, color, bg, ratio, trajectory}."""
    reset(ex, sequence=0, t=2, units=[0, 1])
    try:
        set_theme(ex.page, "dark")
        wait_until(
            lambda: (
                ex.root.evaluate("(r) => getComputedStyle(r).backgroundColor")
                not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
            ),
            timeout=30,
            message="the widget's background turns dark",
        )
        next_frames(ex.page, 3)
        items = ex.root.evaluate(CONTRAST_JS)
    finally:
        set_theme(ex.page, "light")
    assert any(float(i["bg"][4:-1].split(",")[0]) < 80 for i in items), "no dark background was found"
    return items


def assert_readable(items: list[dict], wanted: tuple[str, ...]) -> None:
    classes = " ".join(str(i["cls"]) for i in items)
    for cls in wanted:
        assert cls in classes, f"no {cls} text was checked: {sorted(set(classes.split()))}"
    bad = [i for i in items if i["ratio"] < 4.5]
    assert not bad, "text below 4.5:1 contrast in the dark theme:\n" + "\n".join(map(str, bad))


def test_dark_theme_text_contrast(ex):
    items = [i for i in dark_theme_text(ex) if not i["trajectory"]]
    assert_readable(
        items,
        (
            "lw-title",
            "lw-sub",
            "lw-legend-name",
            "lw-legend-value",
            "lw-cb-label",
            "lw-seq-select",
            "lw-seq-count",
            "lw-tlabel",
            "lw-muted",
            "lw-pred-class",
            "lw-help",
        ),
    )


def test_dark_theme_trajectory_text_contrast(ex):
    items = [i for i in dark_theme_text(ex) if i["trajectory"]]
    assert items, "no text in the trajectory view"
    assert_readable(items, ("lw-sub",))


# --------------------------------------------------------------------------------------------------------------------
# 9. A narrow notebook: no horizontal overflow, every view still shown.

OVERFLOW_JS = """(root) => {
  const boxes = [root, ...root.querySelectorAll('.lw-view, .lw-bar, .lw-grid, .lw-col, .lw-card, .lw-head')];
  const host = root.closest('.jp-OutputArea-output') || root.parentElement;
  const hr = host.getBoundingClientRect();
  return {
    width: root.getBoundingClientRect().width,
    narrow: root.classList.contains('lw-narrow'),
    hostRight: hr.right, rootRight: root.getBoundingClientRect().right,
    hostOverflow: host.scrollWidth - host.clientWidth,
    overflow: boxes.filter((el) => el.scrollWidth > el.clientWidth + 1)
                   .map((el) => `${el.className}: ${el.scrollWidth} > ${el.clientWidth}`),
    outside: boxes.filter((el) => el.getBoundingClientRect().right > root.getBoundingClientRect().right + 1)
                  .map((el) => `${el.className}: right ${el.getBoundingClientRect().right}`),
  };
}"""


def test_narrow_layout_has_no_horizontal_overflow(ex):
    reset(ex, sequence=0, t=0, units=[0, 1, 2])
    try:
        # With both side bars collapsed, a 680 px window leaves the notebook panel about 610 px wide.
        ex.page.set_viewport_size({"width": 680, "height": VIEWPORT["height"]})
        wait_until(lambda: ex.root.evaluate(OVERFLOW_JS)["narrow"], timeout=30, message="the root turns narrow")
        next_frames(ex.page, 3)
        panel = ex.page.locator(".jp-NotebookPanel").first.bounding_box()["width"]
        assert 560 <= panel <= 640, f"the notebook panel is {panel} px wide"
        info = ex.root.evaluate(OVERFLOW_JS)
        assert info["width"] <= panel, info
        assert not info["overflow"], f"horizontal overflow: {info['overflow']}"
        assert not info["outside"], f"parts stick out of the root: {info['outside']}"
        assert info["rootRight"] <= info["hostRight"] + 1 and info["hostOverflow"] <= 1, info
        for cls in sorted(EXPECTED_VIEWS):
            view = ex.root.locator(f".{cls}").first
            view.scroll_into_view_if_needed()
            assert view.is_visible(), f"{cls} is not visible"
            box = view.bounding_box()
            assert box["width"] > 100 and box["height"] > 20, (cls, box)
        # The canvases fit their cards (redrawn at the new width).
        for cls in ("lw-heatmap", "lw-traces", "lw-trajectory", "lw-gates"):
            card, canvas = ex.root.locator(f".{cls}").first, ex.root.locator(f".{cls} canvas.lw-base").first
            wait_until(
                lambda card=card, canvas=canvas: canvas.bounding_box()["width"] <= card.bounding_box()["width"],
                timeout=30,
                message=f"the {cls} canvas fits its card",
            )
    finally:
        ex.page.set_viewport_size(VIEWPORT)
        next_frames(ex.page, 3)
