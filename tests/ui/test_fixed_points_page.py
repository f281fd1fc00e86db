"""Fixed points on the trajectory map in a real JupyterLab + Chromium: ``ex.fixed_points = fp`` draws a marker per
point where the page's own projection of the kernel's coordinates puts it (2-D and 3-D), in the marker of its kind,
with a legend; hover names q and the largest |λ|; the "fixed points" button asks the kernel for the current
sequence's mean input ("computing…" meanwhile); a map of another quantity says why they are not drawn.

The notebook: the bundled Japanese Vowels network on 12 test utterances, a 3-component PCA of layer0's h.

Selectors (js/src/views/trajectory.js):
    VIEW      ".lw-trajectory"  data-fixed-points (JSON [{i, kind, x, y}] in the canvas's CSS px, as drawn),
              data-fp-state (none / computing / drawn / not-drawn); __lw_project(x, y, z)
    STATUS    ".lw-fp-status"   LEGEND ".lw-fp-legend .lw-fp-key[data-kind]"   BUTTON ".lw-fp-button"
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from lab import (
    ARTIFACTS_DIR,
    canvas_pixels,
    first_repaint,
    hover_text,
    next_frames,
    py_json,
    run_code,
    screenshot_element,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-widget"
VIEW = ".lw-trajectory"

SETUP = """\
import json
import numpy as np
import torch
import lstm_widget as lw
from sklearn.decomposition import PCA
from lstm_widget._wire import decode_array
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net

torch.set_num_threads(1)
net = japanese_vowels_net()
X_test, y_test = japanese_vowels("test")
idx = np.concatenate([np.flatnonzero(y_test == k)[:2] for k in range(6)])
ex = lw.Explorer(net, [X_test[i] for i in idx], labels=y_test[idx], projection=PCA(n_components=3))
fp = lw.fixed_points(net, X_test[idx[0]].mean(0), sequences=ex.recordings, n_inits=16, slow_tol=1e-4)
assert len(fp) >= 2 and fp.stable.any(), fp
"""


@pytest.fixture(scope="module")
def fx(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, "fixed_points", [SETUP, "ex"], selector=ROOT)
    first_repaint(root)
    yield page, root
    new_page.close(page)


def drawn(view) -> list[dict]:
    return json.loads(view.get_attribute("data-fixed-points") or "[]")


def wait_state(view, state: str) -> None:
    wait_until(
        lambda: view.get_attribute("data-fp-state") == state,
        timeout=60,
        message=lambda: f"data-fp-state {state} (it is {view.get_attribute('data-fp-state')})",
    )


def payload(page) -> dict:
    return py_json(
        page,
        "{'points': decode_array(ex._fixed_points['points']).tolist(), 'kinds': ex._fixed_points['kinds'], "
        "'q': decode_array(ex._fixed_points['q']).tolist(), 'radius': decode_array(ex._fixed_points['radius']).tolist()}",
    )


def expected_positions(page, view, points: list[list[float]]) -> list[dict]:
    return page.evaluate("([rows, view]) => rows.map((p) => view.__lw_project(...p))", [points, view.element_handle()])


def check_drawn_where_projected(page, view) -> tuple[dict, list[dict]]:
    want = payload(page)
    wait_until(lambda: len(drawn(view)) == len(want["kinds"]), timeout=30, message="every point is drawn")
    next_frames(page)
    marks = sorted(drawn(view), key=lambda m: m["i"])
    where = expected_positions(page, view, want["points"])
    for m, p, kind in zip(marks, where, want["kinds"], strict=True):
        assert m["kind"] == kind
        assert abs(m["x"] - p["x"]) <= 0.06 and abs(m["y"] - p["y"]) <= 0.06, (m, p)
    return want, marks


def test_points_are_drawn_at_their_projection_with_a_marker_per_kind_and_hover_shows_q(fx):
    page, root = fx
    view = root.locator(VIEW)
    run_code(page, "ex.traj_view = {'dims': 2}\nex.fixed_points = fp")
    wait_state(view, "drawn")
    want, marks = check_drawn_where_projected(page, view)
    screenshot_element(page, view, ARTIFACTS_DIR / "fixed_points_2d.png")  # for a look: the markers and the legend
    base = view.locator("canvas.lw-base")
    with_points = canvas_pixels(base)
    scale = with_points.shape[1] / base.bounding_box()["width"]
    # the legend names the kinds drawn, the status line what the points are
    kinds = set(want["kinds"])
    shown = {k.get_attribute("data-kind") for k in root.locator(".lw-fp-key").all() if k.is_visible()}
    assert shown == kinds
    assert re.fullmatch(r"fixed points of layer0 for one input: .*", root.locator(".lw-fp-status").text_content())
    # hover a point: its kind, q and largest |λ|
    overlay = view.locator("canvas.lw-overlay")
    m = marks[0]
    k = m["i"]
    match = hover_text(
        root,
        overlay,
        m["x"],
        m["y"],
        r"(stable|unstable) fixed point · q (\S+) · max \|λ\| (\S+)(?: · eigenvector \S+% in h)?",
    )
    assert match.group(1) == want["kinds"][k]
    assert float(match.group(2)) == pytest.approx(want["q"][k], rel=5e-3, abs=1e-45)
    assert float(match.group(3)) == pytest.approx(want["radius"][k], rel=5e-3)
    # the markers are in the pixels: clearing the points changes every marker's centre
    run_code(page, "ex.fixed_points = None")
    wait_until(lambda: drawn(view) == [] and view.get_attribute("data-fp-state") == "none", timeout=30)
    next_frames(page)
    without = canvas_pixels(base)
    for mark in marks:
        x, y = int(round(mark["x"] * scale)), int(round(mark["y"] * scale))
        before, after = with_points[y, x].astype(int), without[y, x].astype(int)
        assert np.abs(before - after).max() > 40, (mark, before, after)
        if mark["kind"] == "unstable":  # the red cross
            assert before[0] > 150 and before[1] < 110 and before[2] < 110, before
    assert root.locator(".lw-fp-bar").is_hidden()


def test_three_d_draws_them_through_the_rotation(fx):
    page, root = fx
    view = root.locator(VIEW)
    run_code(page, "ex.traj_view = {'dims': 3, 'yaw': 0.8, 'pitch': 0.4}\nex.fixed_points = fp")
    wait_until(lambda: json.loads(view.get_attribute("data-view") or "{}").get("dims") == 3, timeout=30)
    wait_state(view, "drawn")
    check_drawn_where_projected(page, view)
    run_code(page, "ex.traj_view = {'dims': 2}")


def test_the_button_asks_for_the_current_sequences_mean_input(fx):
    page, root = fx
    view = root.locator(VIEW)
    run_code(page, "ex.fixed_points = None\nex.sequence = 3")
    wait_until(lambda: root.locator(".lw-picker select").input_value() == "3", timeout=30)
    view.evaluate(
        """(el) => { el.__states = []; new MutationObserver(() => el.__states.push(el.dataset.fpState))
             .observe(el, {attributes: true, attributeFilter: ['data-fp-state']}); }"""
    )
    root.locator(".lw-fp-button").click()
    wait_state(view, "drawn")
    assert "computing" in view.evaluate("(el) => el.__states"), "the page said it was computing"
    assert py_json(page, "ex.fixed_points_request") == {"sequence": 3, "layer": 0}
    assert py_json(page, "ex._fixed_points['about']") == "the mean input of sequence 3"
    assert "for the mean input of sequence 3" in root.locator(".lw-fp-status").text_content()
    check_drawn_where_projected(page, view)


def test_a_map_of_another_quantity_says_why_the_points_are_not_drawn(fx):
    page, root = fx
    view = root.locator(VIEW)
    run_code(page, "ex.fixed_points = fp\nex.projection_quantity = 'c'")
    wait_state(view, "not-drawn")
    assert drawn(view) == []
    assert root.locator(".lw-fp-status").text_content() == (
        "fixed points not drawn: they are states h of layer0, the map projects c of layer0 (project h of layer0 to "
        "see them)"
    )
    run_code(page, "ex.projection_quantity = 'h'")
    wait_state(view, "drawn")
    check_drawn_where_projected(page, view)
