"""Long sequences in a real JupyterLab + Chromium: one synthetic recording of T = 20 000 steps × H = 256
units (numpy, ``benchmarks/bench_frontend.py``'s ``synthetic_recordings``), shown with ``Explorer.from_recordings`` and
wire dtype float16. The heatmap draws a level of detail (min/max pyramid) at full zoom-out, zooms (buttons, keys,
Ctrl+wheel) and pans (Shift+wheel, the timeline's window band); the line charts follow the window; the cursor stays
linked (every view's ``data-t``) and pulls the window along.

Selectors (js/src/views/heatmap.js, timeline.js; lod.js for the window math):
    HEATMAP  ".lw-heatmap" with data-window="t0,t1" (steps t0 .. t1-1 shown) and data-lod (steps per source block of the
             drawn image: 1 = raw steps, 8, 32, ... = a pyramid level)
    ZOOM     ".lw-heatmap .lw-zoom-in", ".lw-zoom-out", ".lw-zoom-reset"
    BAND     ".lw-timeline .lw-window-band" (hidden when the whole sequence is shown)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from lab import (
    VIEW_TS_JS,
    canvas_pixels,
    next_frames,
    pixel_hash,
    run_code,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-widget"
T, H = 20_000, 256
BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
# Heatmap data rectangle inside its canvas (CSS px): x = 48 .. W - 12, y = 4 .. H - 18 (timeRect(plot, 4, 18)).
HEATMAP_RECT = {"left": 48, "right": 12, "top": 4, "bottom": 18}

SETUP = f"""\
import json, sys
sys.path.insert(0, {str(BENCH)!r})
from bench_frontend import synthetic_recordings
import lstm_widget as lw
recs = synthetic_recordings({T}, {H})
ex = lw.Explorer.from_recordings(recs, wire_dtype="float16", selected_units=[0, 1, 2])
"""

EXPECTED_VIEWS = {"lw-timeline", "lw-inputs", "lw-heatmap", "lw-traces", "lw-probs", "lw-trajectory", "lw-gates"}


@dataclass
class Long:
    page: Page
    root: Locator
    heatmap: Locator


@pytest.fixture(scope="module")
def long(new_page, jupyter_server):
    def ready(_page, root):
        heatmap = root.locator(".lw-heatmap")

        def drawn():
            return heatmap.get_attribute("data-window") == f"0,{T}" and heatmap.locator(".lw-message").is_hidden()

        wait_until(drawn, timeout=120, message="the heatmap drawn with every step")
        root.scroll_into_view_if_needed()

    page, root = widget_notebook(new_page, jupyter_server, "long", [SETUP, "ex"], ready=ready, selector=ROOT)
    yield Long(page, root, root.locator(".lw-heatmap"))
    new_page.close(page)


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def window(lg: Long) -> tuple[int, int]:
    t0, t1 = lg.heatmap.get_attribute("data-window").split(",")
    return int(t0), int(t1)


def wait_window(lg: Long, pred, message: str) -> tuple[int, int]:
    seen = []

    def ok():
        seen.append(window(lg))
        return pred(*seen[-1])

    wait_until(ok, timeout=30, message=lambda: f"{message} (window {seen[-1:]})")
    next_frames(lg.page)
    return window(lg)


def base_pixels(view: Locator):
    return canvas_pixels(view.locator("canvas.lw-base"))


def view_ts(lg: Long) -> dict[str, str]:
    return lg.root.evaluate(VIEW_TS_JS)


def wait_views_at(lg: Long, t: int) -> None:
    wait_until(
        lambda: set(view_ts(lg).values()) == {str(t)}, timeout=30, message=lambda: f"every view at t={t}: {view_ts(lg)}"
    )
    got = view_ts(lg)
    assert EXPECTED_VIEWS <= set(got), f"views missing: {EXPECTED_VIEWS - set(got)}"


def heatmap_point(lg: Long, frac: float) -> tuple[float, float]:
    """Page coordinates of a point at fraction `frac` across the heatmap's data rectangle, mid-height."""
    box = lg.heatmap.locator("canvas.lw-overlay").bounding_box()
    w = box["width"] - HEATMAP_RECT["left"] - HEATMAP_RECT["right"]
    h = box["height"] - HEATMAP_RECT["top"] - HEATMAP_RECT["bottom"]
    return box["x"] + HEATMAP_RECT["left"] + frac * w, box["y"] + HEATMAP_RECT["top"] + h / 2


def reset(lg: Long, t: int = 0) -> None:
    run_code(lg.page, f"ex.t = {t}")
    button = lg.heatmap.locator(".lw-zoom-reset")
    if button.get_attribute("aria-disabled") != "true":  # (not zoomed: the button says so and does nothing)
        button.click()
    wait_window(lg, lambda a, b: (a, b) == (0, T), "the whole sequence shown")
    wait_views_at(lg, t)


# --------------------------------------------------------------------------------------------------------------------
# Tests


def test_zoom_changes_the_visible_window_and_level_of_detail(long):
    lg = long
    reset(lg, 0)
    assert lg.root.locator(".lw-timeline .lw-window-band").is_hidden()
    full_lod = lg.heatmap.get_attribute("data-lod")
    assert int(full_lod) >= 8, "zoomed out, the heatmap draws a pyramid level"
    full_heat, full_traces = pixel_hash(base_pixels(lg.heatmap)), pixel_hash(base_pixels(lg.root.locator(".lw-traces")))
    full_inputs = pixel_hash(base_pixels(lg.root.locator(".lw-inputs")))

    # + once around the cursor at t = 0: [0, T/2), ~15 steps per pixel of a ~650 px plot: a finer pyramid level
    lg.heatmap.locator(".lw-zoom-in").click()
    wait_window(lg, lambda a, b: (a, b) == (0, T // 2), "a zoom-in keeps t=0 at the left edge")
    assert lg.root.locator(".lw-timeline .lw-window-band").is_visible()
    assert 1 < int(lg.heatmap.get_attribute("data-lod")) < int(full_lod), "a finer level"
    # + twice more: [0, T/8), fewer than 8 steps per pixel: the raw steps
    for _ in range(2):
        lg.heatmap.locator(".lw-zoom-in").click()
    a, b = wait_window(lg, lambda a, b: (a, b) == (0, T // 8), "three zoom-ins keep t=0 at the left edge")
    assert "steps 0–2499" in lg.heatmap.locator(".lw-zoom-label").inner_text()
    assert lg.heatmap.get_attribute("data-lod") == "1"
    wait_until(lambda: pixel_hash(base_pixels(lg.heatmap)) != full_heat, timeout=30, message="heatmap redrawn")
    # the line charts follow the window
    wait_until(
        lambda: pixel_hash(base_pixels(lg.root.locator(".lw-traces"))) != full_traces,
        timeout=30,
        message="traces redrawn for the window",
    )
    wait_until(
        lambda: pixel_hash(base_pixels(lg.root.locator(".lw-inputs"))) != full_inputs,
        timeout=30,
        message="inputs redrawn for the window",
    )

    # Ctrl+wheel over the middle of the heatmap zooms in around the step under the pointer
    x, y = heatmap_point(lg, 0.5)
    lg.page.mouse.move(x, y)
    lg.page.keyboard.down("Control")
    for _ in range(6):
        lg.page.mouse.wheel(0, -100)
    lg.page.keyboard.up("Control")
    a2, b2 = wait_window(lg, lambda a2, b2: b2 - a2 < 1000, "Ctrl+wheel zooms in")
    mid = (a + b) // 2
    assert a2 <= mid < b2 and abs((a2 + b2) / 2 - mid) < 0.05 * (b - a), (a2, b2)
    assert lg.heatmap.get_attribute("data-lod") == "1"
    zoomed = pixel_hash(base_pixels(lg.heatmap))

    # keys on the focused root: − zooms out (×2), 0 shows every step again
    lg.root.focus()
    lg.page.keyboard.press("-")
    a3, b3 = wait_window(lg, lambda a3, b3: b3 - a3 == 2 * (b2 - a2) or (a3, b3) == (0, T), "− zooms out")
    assert pixel_hash(base_pixels(lg.heatmap)) not in (zoomed, full_heat)
    lg.page.keyboard.press("0")
    wait_window(lg, lambda a, b: (a, b) == (0, T), "0 shows every step")
    wait_until(
        lambda: pixel_hash(base_pixels(lg.heatmap)) == full_heat,
        timeout=30,
        message="the zoomed-out image is the same as before",
    )

    # Ctrl+wheel over a line chart (the traces) zooms the same window, around the step under the pointer
    box = lg.root.locator(".lw-traces canvas.lw-overlay").bounding_box()
    lg.page.mouse.move(box["x"] + 48 + 0.25 * (box["width"] - 60), box["y"] + box["height"] / 2)
    lg.page.keyboard.down("Control")
    for _ in range(4):
        lg.page.mouse.wheel(0, -100)
    lg.page.keyboard.up("Control")
    a5, b5 = wait_window(lg, lambda a5, b5: b5 - a5 < T // 2, "Ctrl+wheel over the traces zooms in")
    assert a5 <= T // 4 < b5, (a5, b5)
    lg.heatmap.locator(".lw-zoom-reset").click()
    wait_window(lg, lambda a, b: (a, b) == (0, T), "all shows every step")


def test_scrub_zoomed_out_sets_data_t_on_every_view(long):
    lg = long
    reset(lg, 0)
    # drag across the heatmap: every step of 20 000 is reachable in principle; each view follows
    x0, y = heatmap_point(lg, 0.1)
    x1, _ = heatmap_point(lg, 0.73)
    lg.page.mouse.move(x0, y)
    lg.page.mouse.down()
    for k in range(1, 21):
        lg.page.mouse.move(x0 + (x1 - x0) * k / 20, y)
    lg.page.mouse.up()
    t = int(lg.root.locator(".lw-timeline").get_attribute("data-t"))
    assert abs(t - 0.73 * T) < 0.01 * T, t
    wait_views_at(lg, t)
    wait_until(lambda: run_code(lg.page, "print(ex.t)").strip() == str(t), timeout=30, message=f"Python's ex.t == {t}")
    # keys still work zoomed out: → steps one, End jumps to the last step
    lg.root.focus()
    lg.page.keyboard.press("ArrowRight")
    wait_views_at(lg, t + 1)
    lg.page.keyboard.press("End")
    wait_views_at(lg, T - 1)
    assert window(lg) == (0, T)


def test_pan_moves_the_window_and_the_cursor_pulls_it_back(long):
    lg = long
    reset(lg, 10_000)
    lg.root.focus()
    lg.page.keyboard.press("+")
    lg.page.keyboard.press("+")
    a, b = wait_window(lg, lambda a, b: b - a == T // 4, "two zoom-ins by key")
    assert a <= 10_000 < b
    before = pixel_hash(base_pixels(lg.heatmap))

    # Shift+wheel pans right (the cursor stays where it was)
    x, y = heatmap_point(lg, 0.5)
    lg.page.mouse.move(x, y)
    lg.page.keyboard.down("Shift")
    for _ in range(5):
        lg.page.mouse.wheel(0, 100)
    lg.page.keyboard.up("Shift")
    a2, b2 = wait_window(lg, lambda a2, b2: a2 > a, "Shift+wheel pans right")
    assert b2 - a2 == b - a
    wait_until(lambda: pixel_hash(base_pixels(lg.heatmap)) != before, timeout=30, message="heatmap redrawn panned")
    assert lg.root.locator(".lw-timeline").get_attribute("data-t") == "10000"

    # drag the timeline's window band left by a quarter of the slider: about T/4 steps earlier
    band = lg.root.locator(".lw-timeline .lw-window-band")
    band.scroll_into_view_if_needed()  # the bar sits above the heatmap: the notebook may have scrolled it away
    bb = band.bounding_box()
    track = lg.root.locator(".lw-timeline .lw-slider-wrap").bounding_box()["width"] - 16
    lg.page.mouse.move(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2)
    lg.page.mouse.down()
    for k in range(1, 11):
        lg.page.mouse.move(bb["x"] + bb["width"] / 2 - track / 4 * k / 10, bb["y"] + bb["height"] / 2)
    lg.page.mouse.up()
    a3, b3 = wait_window(lg, lambda a3, b3: a3 < a2, "dragging the band pans left")
    assert abs((a2 - a3) - T / 4) < 0.02 * T or a3 == 0, (a2, a3)
    assert b3 - a3 == b - a

    # move the cursor out of the window from Python: the window follows it (centred on a far jump)
    run_code(lg.page, "ex.t = 19000")
    wait_views_at(lg, 19000)
    a4, b4 = wait_window(lg, lambda a4, b4: a4 <= 19000 < b4, "the window follows the cursor")
    assert b4 - a4 == b - a
    # and stepping past the right edge pages it on
    lg.root.focus()
    lg.page.keyboard.press("End")
    wait_views_at(lg, T - 1)
    assert window(lg) == (T - (b - a), T)
