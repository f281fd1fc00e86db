"""Gates and weights in a real JupyterLab + Chromium: the "Gates & weights" section (closed by default; opening it
asks the kernel for the weights), the weight view's per-gate blocks under the framework's own names (PyTorch and
Keras), unit selection linked across every panel and Python, the gate saturation scatter (its numbers equal
``gate_saturation``'s; clicking a point selects the unit), and a GRU explorer showing r, z, n everywhere.

The notebook (written here): the bundled Japanese Vowels network (LSTM 100) on 12 test utterances as ``ex``, a
randomly initialised GRU 16 on the same utterances as ``gex``, and a Keras 3 LSTM 8 (torch backend) converted with
``lw.from_keras`` as ``kex`` (its own weights in ``KW``), each displayed in its own cell, in that order.

Selectors (js/src/views/weights.js, saturation.js, shell.js; js/PROTOCOL.md "Gates & weights"):
    TOGGLE     ".lw-gate-details-toggle"            aria-expanded
    WEIGHTS    ".lw-weights"  data-t, data-selected; __lw_geometry() -> {panels: [{gate, kind, name, x, y, w, h}],
               units, labelWidth} (CSS px in its canvas); gate labels ".lw-w-gate[data-gate]", column heads
               ".lw-w-head[data-kind] .lw-w-name"
    SATURATION ".lw-saturation"  data-t, data-mode; __lw_points() -> [{gate, unit, x, y, left, right}];
               captions ".lw-sat-title[data-gate]"; mode buttons "button[data-mode=sequence|all]"
    TOOLTIP    ".lw-tooltip"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page

from lab import (
    canvas_pixels,
    first_repaint,
    hover_text,
    next_frames,
    py_json,
    run_code,
    wait_py,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-widget"
N_SEQUENCES = 12
SELECTION_RGB = (0x4E, 0x79, 0xA7)  # the first selected unit's colour (categorical 0, light theme)

SETUP = f"""\
import os, json
os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import torch
import keras
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels, JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES
from lstm_widget.models import japanese_vowels_net

X_test, y_test = japanese_vowels("test")
X, y = X_test[:{N_SEQUENCES}], y_test[:{N_SEQUENCES}]
kw = dict(labels=y, class_names=JAPANESE_VOWELS_CLASS_NAMES, feature_names=JAPANESE_VOWELS_FEATURE_NAMES)
ex = lw.Explorer(japanese_vowels_net(), X, **kw)

torch.manual_seed(0)
class GRUNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(12, 16, batch_first=True)
        self.fc = torch.nn.Linear(16, 9)
    def forward(self, x):
        return self.fc(self.gru(x)[0])
gex = lw.Explorer(GRUNet().eval(), X, **kw)

keras.utils.set_random_seed(0)
kmodel = keras.Sequential([keras.Input((None, 12)), keras.layers.LSTM(8, return_sequences=True),
                           keras.layers.Dense(9, activation="softmax")])
kex = lw.Explorer(lw.from_keras(kmodel), X, **kw)
KW = kmodel.layers[0].get_weights()  # kernel (12, 32), recurrent_kernel (8, 32), bias (32,)

def sat_json(explorer, sequence=None):
    recs = explorer.recordings if sequence is None else explorer.recordings[sequence]
    s = lw.gate_saturation(recs, layer=explorer.layer)
    return json.dumps({{g: [s.left[g][0].tolist(), s.right[g][0].tolist()] for g in s.gates}})
"""


@dataclass
class Nb:
    page: Page
    roots: dict  # "ex" / "gex" / "kex" -> the widget's root


@pytest.fixture(scope="module")
def nb(new_page, jupyter_server):
    """The notebook written, opened and run once for the whole module."""
    roots = {}

    def ready(page, _first):
        for k, name in enumerate(("ex", "gex", "kex")):
            root = page.locator(ROOT).nth(k)
            root.scroll_into_view_if_needed()
            first_repaint(root)
            roots[name] = root

    page, _ = widget_notebook(
        new_page, jupyter_server, "gates", [SETUP, "ex", "gex", "kex"], ready=ready, selector=ROOT
    )
    yield Nb(page, roots)
    new_page.close(page)


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def py(nb: Nb, expr: str) -> str:
    return run_code(nb.page, f"print({expr})")


def texts(loc: Locator) -> list[str]:
    return [s.strip() for s in loc.all_text_contents()]


def assert_shows(text: str, value: float, what: str) -> None:
    """``text`` is ``value`` as the page formats it: equal to within half a unit of its last digit."""
    m = re.fullmatch(r"(-?\d+)(?:\.(\d+))?(?:e([+-]?\d+))?", text.strip())
    assert m, f"{what}: unexpected number {text!r}"
    tol = 0.5 * 10.0 ** -len(m.group(2) or "") * 10.0 ** int(m.group(3) or 0) * 1.001 + 1e-7
    assert abs(float(text) - value) <= tol, f"{what}: the page shows {text}, Python has {value}"


def open_details(nb: Nb, name: str) -> Locator:
    """Open the Gates & weights section of explorer ``name`` from the page (its toggle) and wait for the weights."""
    root = nb.roots[name]
    toggle = root.locator(".lw-gate-details-toggle")
    toggle.scroll_into_view_if_needed()
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    wait_py(nb, f"{name}.gate_details", True)
    weights = root.locator(".lw-weights")
    wait_until(
        lambda: weights.evaluate("(el) => !!el.__lw_geometry()"), timeout=60, message=f"the weights of {name} arrive"
    )
    next_frames(nb.page, 2)
    return weights


def geometry(weights: Locator) -> dict:
    return weights.evaluate("(el) => el.__lw_geometry()")


def panel(geo: dict, gate: str, kind: str) -> dict:
    return next(p for p in geo["panels"] if p["gate"] == gate and p["kind"] == kind)


def points(root: Locator) -> list[dict]:
    return root.locator(".lw-saturation").evaluate("(el) => el.__lw_points()")


# --------------------------------------------------------------------------------------------------------------------
# 1. Closed by default; opening it is the request for the weights; the PyTorch names.


def test_section_closed_by_default_then_weights_arrive_with_pytorch_names(nb):
    root = nb.roots["ex"]
    assert py_json(nb, "[ex.gate_details, ex._weights]") == [False, {}], "the default page carries no weights"
    assert root.locator(".lw-gate-details-toggle").get_attribute("aria-expanded") == "false"
    assert root.locator(".lw-weights").is_hidden() and root.locator(".lw-saturation").is_hidden()
    run_code(nb.page, "ex.t = 4")
    wait_until(
        lambda: root.locator(".lw-weights").get_attribute("data-t") == "4",
        timeout=30,
        message="the closed views keep data-t",
    )

    weights = open_details(nb, "ex")
    assert py_json(nb, "sorted(ex._weights['rows'])") == ["0"]
    assert weights.is_visible()
    assert texts(weights.locator(".lw-w-gate .lw-w-gate-name")) == ["i", "f", "g", "o"]
    assert texts(weights.locator(".lw-w-head .lw-w-name")) == [
        "gate over time",
        "weight_ih",
        "weight_hh",
        "bias_ih + bias_hh",
    ]
    geo = geometry(weights)
    assert geo["units"] == 100 and len(geo["panels"]) == 16
    assert {(p["gate"], p["kind"]) for p in geo["panels"]} == {(g, k) for g in "ifgo" for k in ("act", "W", "U", "b")}

    # A cell of g's weight_ih block: the tooltip says where it lives in PyTorch's array, and its value is Python's.
    p = panel(geo, "g", "W")
    canvas = weights.locator("canvas.lw-overlay")
    m = hover_text(
        root,
        canvas,
        p["x"] + 3.5 * p["w"] / 12,
        p["y"] + 10.5 * p["h"] / 100,
        r"unit (\d+) · gate g · weight_ih\[(\d+), (\d+)\] · input (.+) · (\S+)",
    )
    unit, row, j = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert (unit, j) == (10, 3) and row == 2 * 100 + unit, m.group(0)
    assert m.group(4) == py(nb, "JAPANESE_VOWELS_FEATURE_NAMES[3]")
    assert_shows(m.group(5), float(py(nb, f"ex.weights.W['g'][{unit}, {j}]")), "weight_ih value")
    value = float(py(nb, f"ex._loaded.spec.layers[0][0].w_ih[{row}, {j}].item()"))  # PyTorch's own layout
    assert_shows(m.group(5), value, "weight_ih[row, j]")
    nb.page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------------------------------
# 2. Selecting a unit highlights its row in every panel; Python and the page agree.


def tab_color(weights: Locator, geo: dict, gate: str, unit: int) -> tuple:
    """The base canvas's pixel in the gutter tab of ``unit``'s row of gate ``gate``."""
    px = canvas_pixels(weights.locator("canvas.lw-base"))
    p = panel(geo, gate, "act")
    y = int(p["y"] + (unit + 0.5) * p["h"] / geo["units"])
    return tuple(int(v) for v in px[y, geo["labelWidth"] - 5, :3])


def test_selecting_a_unit_highlights_its_row_in_every_panel(nb):
    root = nb.roots["ex"]
    weights = open_details(nb, "ex")
    run_code(nb.page, "ex.selected_units = []")
    wait_until(lambda: weights.get_attribute("data-selected") == "", timeout=30, message="no selection")
    geo = geometry(weights)
    before = {g: tab_color(weights, geo, g, 42) for g in "ifgo"}
    assert all(c != SELECTION_RGB for c in before.values()), before

    # Click unit 42's row in f's weight_hh panel.
    p = panel(geo, "f", "U")
    canvas = weights.locator("canvas.lw-overlay")
    x, y = p["x"] + p["w"] / 2, p["y"] + 42.5 * p["h"] / 100
    m = hover_text(root, canvas, x, y, r"unit (\d+) · gate f · weight_hh\[(\d+), (\d+)\] · from unit \d+ · \S+")
    assert int(m.group(1)) == 42 and int(m.group(2)) == 142, m.group(0)
    canvas.click(position={"x": x, "y": y})
    wait_py(nb, "ex.selected_units", [42])
    wait_until(lambda: weights.get_attribute("data-selected") == "42", timeout=30, message="the page selects 42")
    next_frames(nb.page, 2)
    after = {g: tab_color(weights, geo, g, 42) for g in "ifgo"}
    assert all(c == SELECTION_RGB for c in after.values()), f"unit 42 is not marked in every gate's row: {after}"
    # An outline in the selection colour runs around the unit's row of every panel (its left edge sits one pixel
    # left of the panel).
    px = canvas_pixels(weights.locator("canvas.lw-base"))
    for q in geo["panels"]:
        y = int(q["y"] + 42.5 * q["h"] / 100)
        assert tuple(int(v) for v in px[y, int(q["x"]) - 1, :3]) == SELECTION_RGB, f"no outline in {q}"
        assert tuple(int(v) for v in px[int(q["y"] + 60.5 * q["h"] / 100), int(q["x"]) - 1, :3]) != SELECTION_RGB
    # From Python: the highlight moves.
    run_code(nb.page, "ex.selected_units = [7]")
    wait_until(lambda: weights.get_attribute("data-selected") == "7", timeout=30, message="the page selects 7")
    next_frames(nb.page, 2)
    assert all(tab_color(weights, geo, g, 7) == SELECTION_RGB for g in "ifgo")
    assert all(tab_color(weights, geo, g, 42) != SELECTION_RGB for g in "ifgo")
    # A second click on the same row deselects it.
    canvas.click(position={"x": x, "y": p["y"] + 7.5 * p["h"] / 100})
    wait_py(nb, "ex.selected_units", [])
    nb.page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------------------------------
# 3. The saturation scatter: one point per unit per gate; the numbers of gate_saturation; clicks select.


def by_gate(pts: list[dict]) -> dict:
    out: dict = {}
    for p in pts:
        out.setdefault(p["gate"], {})[p["unit"]] = p
    return out


def test_saturation_points_equal_gate_saturation_and_select_units(nb):
    root = nb.roots["ex"]
    open_details(nb, "ex")
    run_code(nb.page, "ex.selected_units = []\nex.sequence = 3")
    sat = root.locator(".lw-saturation")
    sat.scroll_into_view_if_needed()
    assert texts(sat.locator(".lw-sat-title b")) == ["i", "f", "o"]
    assert sat.get_attribute("data-mode") == "all"
    wait_until(lambda: len(points(root)) == 300, timeout=30, message="300 points (100 units × 3 gates)")
    pts = by_gate(points(root))
    assert {g: len(v) for g, v in pts.items()} == {"i": 100, "f": 100, "o": 100}
    want = json.loads(py(nb, "sat_json(ex)"))
    for g in "ifo":
        assert [pts[g][u]["left"] for u in range(100)] == want[g][0], f"left fractions of {g} (all sequences)"
        assert [pts[g][u]["right"] for u in range(100)] == want[g][1], f"right fractions of {g} (all sequences)"
    assert any(v > 0 for g in "ifo" for v in want[g][0] + want[g][1]), "nothing saturates: the check is empty"

    # This sequence only.
    sat.locator("button[data-mode=sequence]").click()
    wait_until(lambda: sat.get_attribute("data-mode") == "sequence", timeout=30, message="sequence mode")
    want3 = json.loads(py(nb, "sat_json(ex, 3)"))
    wait_until(
        lambda: [by_gate(points(root))["f"][u]["left"] for u in range(100)] == want3["f"][0],
        timeout=30,
        message="the fractions of sequence 3",
    )
    pts = by_gate(points(root))
    for g in "ifo":
        assert [pts[g][u]["right"] for u in range(100)] == want3[g][1]

    # Click an isolated point of the forget gate's panel: that unit is selected, in Python too.
    f = list(pts["f"].values())
    lone = next(p for p in f if all((q["x"] - p["x"]) ** 2 + (q["y"] - p["y"]) ** 2 > 12**2 for q in f if q is not p))
    canvas = sat.locator("canvas.lw-overlay")
    m = hover_text(root, canvas, lone["x"], lone["y"], r"unit (\d+) · f · left \S+ · right \S+")
    assert int(m.group(1)) == lone["unit"]
    canvas.click(position={"x": lone["x"], "y": lone["y"]})
    wait_py(nb, "ex.selected_units", [lone["unit"]])
    wait_until(
        lambda: root.locator(".lw-weights").get_attribute("data-selected") == str(lone["unit"]),
        timeout=30,
        message="the weights view marks the unit picked in the scatter",
    )
    sat.locator("button[data-mode=all]").click()
    run_code(nb.page, "ex.selected_units = []")
    nb.page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------------------------------
# 4. A model from Keras: Keras's names and gate order.


def test_keras_model_weights_have_keras_names(nb):
    root = nb.roots["kex"]
    run_code(nb.page, "kex.gate_details = True")  # from Python this time
    wait_until(
        lambda: root.locator(".lw-gate-details-toggle").get_attribute("aria-expanded") == "true",
        timeout=30,
        message="the section opens when Python sets gate_details",
    )
    weights = root.locator(".lw-weights")
    weights.scroll_into_view_if_needed()
    wait_until(lambda: weights.evaluate("(el) => !!el.__lw_geometry()"), timeout=60, message="the Keras weights")
    next_frames(nb.page, 2)
    assert texts(weights.locator(".lw-w-gate .lw-w-gate-name")) == ["i", "f", "c", "o"]
    assert "our g" in weights.locator(".lw-w-gate[data-gate=c]").get_attribute("title")
    assert texts(weights.locator(".lw-w-head .lw-w-name")) == ["gate over time", "kernel", "recurrent_kernel", "bias"]
    assert "Keras names" in weights.locator(".lw-sub").text_content()
    geo = geometry(weights)
    assert geo["units"] == 8
    # kernel[j, 2·8 + u] is the value of the c block at (input j, unit u) — the seed's W[:, units*2:units*3]
    p = panel(geo, "c", "W")
    m = hover_text(
        root,
        weights.locator("canvas.lw-overlay"),
        p["x"] + 5.5 * p["w"] / 12,
        p["y"] + 3.5 * p["h"] / 8,
        r"unit (\d+) · gate c · kernel\[(\d+), (\d+)\] · input .+ · (\S+)",
    )
    unit, j, col = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert (unit, j, col) == (3, 5, 2 * 8 + 3), m.group(0)
    assert_shows(m.group(4), float(py(nb, f"KW[0][{j}, {col}]")), "Keras kernel value")
    p = panel(geo, "o", "b")
    m = hover_text(
        root,
        weights.locator("canvas.lw-overlay"),
        p["x"] + p["w"] / 2,
        p["y"] + 6.5 * p["h"] / 8,
        r"unit 6 · gate o · bias\[(\d+)\] · (\S+)",
    )
    assert int(m.group(1)) == 3 * 8 + 6
    assert_shows(m.group(2), float(py(nb, "KW[2][30]")), "Keras bias value")
    nb.page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------------------------------
# 5. A GRU: r, z, n in the heatmap, the gates view, the weights and the saturation panels.

GATES = {"label_w": 62, "head_h": 30, "row_h": 30}


def test_gru_explorer_shows_r_z_n(nb):
    root = nb.roots["gex"]
    root.scroll_into_view_if_needed()
    run_code(nb.page, "gex.sequence = 1\ngex.t = 2\ngex.selected_units = []")
    select = root.locator(".lw-heatmap select[aria-label=Quantity]")
    assert [o.strip() for o in select.locator("option").all_text_contents()] == ["h", "r", "z", "n"]
    select.select_option("z")
    wait_py(nb, "gex.quantity", "z")
    title = root.locator(".lw-heatmap .lw-title")
    wait_until(lambda: title.text_content() == "Update gate z", timeout=30, message="the heatmap shows z")
    assert [float(v) for v in texts(root.locator(".lw-heatmap .lw-cb-label"))] == [0, 0.5, 1], "z: sequential 0..1"
    select.select_option("n")
    wait_until(lambda: title.text_content() == "Candidate n", timeout=30, message="the heatmap shows n")
    lo, mid, hi = texts(root.locator(".lw-heatmap .lw-cb-label"))
    assert mid == "0" and float(lo) == -float(hi) > -1.01, "n: diverging around 0"

    # The gates view: columns r, z, n, h; the first unit's values at t are Python's.
    gates = root.locator(".lw-gates canvas.lw-overlay")
    gates.scroll_into_view_if_needed()
    wait_until(lambda: root.locator(".lw-gates").get_attribute("data-t") == "2", timeout=30, message="gates at t=2")
    W = gates.bounding_box()["width"]
    col_w = (W - GATES["label_w"] - 4) / 4
    values = py_json(nb, "[float(getattr(gex.recordings[1], q)[0, 2, 0]) for q in 'rznh']")
    for k, (q, name) in enumerate(
        [("r", "reset gate"), ("z", "update gate"), ("n", "candidate"), ("h", "hidden state")]
    ):
        x = GATES["label_w"] + (k + 0.5) * col_w
        m = hover_text(root, gates, x, GATES["head_h"] + GATES["row_h"] / 2, rf"unit 0 · {name} {q} · t 2 · (\S+)")
        assert_shows(m.group(1), values[k], f"gates view {q}")

    # Gates & weights: r, z, n blocks with the GRU's two biases; saturation panels for r and z.
    weights = open_details(nb, "gex")
    assert texts(weights.locator(".lw-w-gate .lw-w-gate-name")) == ["r", "z", "n"]
    assert texts(weights.locator(".lw-w-head .lw-w-name")) == [
        "gate over time",
        "weight_ih",
        "weight_hh",
        "bias_ih | bias_hh",
    ]
    assert py_json(nb, "gex.loaded_quantities") == ["h", "r", "z", "n"]
    sat = root.locator(".lw-saturation")
    assert texts(sat.locator(".lw-sat-title b")) == ["r", "z"]
    wait_until(lambda: len(points(root)) == 32, timeout=30, message="32 points (16 units × r, z)")
    pts = by_gate(points(root))
    assert {g: len(v) for g, v in pts.items()} == {"r": 16, "z": 16}
    want = json.loads(py(nb, "sat_json(gex)"))
    for g in "rz":
        assert [pts[g][u]["left"] for u in range(16)] == want[g][0]
        assert [pts[g][u]["right"] for u in range(16)] == want[g][1]
    run_code(nb.page, "gex.quantity = 'h'")
    nb.page.mouse.move(0, 0)
