"""The trajectory's data-set layer with the real kernel side, in JupyterLab + Chromium: an explorer over a recorded
store of 40 Japanese Vowels utterances, 16 at a time (``lw.Explorer.from_dataset(ds, window=16)``), whose
``_dataset_traj`` places every step of the store. The trajectory draws all 40 sequences as its background
(``data-raster="dataset"``, ``data-background="40"``), the window's own paths coincide with their background points
(the same frame: ``__lw_project`` of a window point and of the same store row agree), and a click on a step of a
sequence outside the window loads that window (Python's ``window_start``) and selects it (``sequence``).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lab import Widget, canvas_pixels, py_json, wait_until, widget_notebook
from test_dataset_pager import SETUP, N, W  # the same store of 40 utterances, 16 a window

ROOT = ".lstm-widget"

# Points of sequence k (store rows) as [[x, y], ...] and the store's offsets, from the kernel's own trait.
POINTS = "(lambda d: {{'points': d['points'].values[d['offsets'].values[{k}]:d['offsets'].values[{k} + 1]].tolist()}})(ex._dataset_traj)"

# The projected places of `rows` (CSS px from the plot's top-left).
PLACES_JS = "([view, rows]) => rows.map((p) => view.__lw_project(...p))"


@pytest.fixture(scope="module")
def ex(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, "trajectory_dataset", [SETUP, "ex"], selector=ROOT)
    yield Widget(page, root)
    new_page.close(page)


def test_background_holds_the_whole_store(ex):
    traj = ex.root.locator(".lw-trajectory")
    expect(traj).to_have_attribute("data-raster", "dataset")
    expect(traj).to_have_attribute("data-background", str(N))
    # a sequence of another window (the store's 30th) is drawn: pixels at its placed steps
    rows = py_json(ex, POINTS.format(k=30))["points"]
    traj.scroll_into_view_if_needed()
    places = ex.page.evaluate(PLACES_JS, [traj.element_handle(), rows])
    px = canvas_pixels(traj.locator("canvas.lw-base"))
    drawn = [p for p in places if 2 < p["x"] < px.shape[1] - 2 and 2 < p["y"] < px.shape[0] - 2]
    assert drawn, "no step of sequence 30 inside the plot"
    for p in drawn:
        x, y = int(p["x"]), int(p["y"])
        assert px[y - 1 : y + 2, x - 1 : x + 2, 3].max() > 0, f"nothing drawn at {p}"


def hover_target(ex, traj):
    """(k, x, y, box): a step of a sequence outside the window, inside the plot, that names k when hovered. The
    points come from the kernel first (running a cell scrolls the notebook), then the plot is scrolled into view."""
    ks = (37, 33, 29, 25, 21)
    rows = {k: py_json(ex, POINTS.format(k=k))["points"] for k in ks}
    traj.scroll_into_view_if_needed()
    box = traj.locator("canvas.lw-overlay").bounding_box()
    seen = []
    for k in ks:
        places = ex.page.evaluate(PLACES_JS, [traj.element_handle(), rows[k]])
        for p in places:
            if not (10 < p["x"] < box["width"] - 10 and 10 < p["y"] < box["height"] - 10):
                continue
            ex.page.mouse.move(box["x"] + p["x"], box["y"] + p["y"])
            hovered = traj.get_attribute("data-bg-hover") or ""
            if hovered.split(",")[0] == str(k):
                return k, p["x"], p["y"], box
            seen.append((k, round(p["x"]), round(p["y"]), hovered))
    pytest.fail(f"no step of a sequence outside the window could be hovered by itself: {seen[:12]}")


def test_click_on_a_sequence_outside_the_window_goes_there(ex):
    traj = ex.root.locator(".lw-trajectory")
    k, x, y, box = hover_target(ex, traj)
    expect(ex.page.locator(".lw-tooltip")).to_contain_text(f"sequence {k} (of the data set), step ")
    ex.page.mouse.click(box["x"] + x, box["y"] + y)
    start = k // W * W
    want = [start, k - start]
    wait_until(lambda: py_json(ex, "[ex.window_start, ex.sequence]") == want, timeout=60)
