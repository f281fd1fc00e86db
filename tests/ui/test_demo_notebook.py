"""The demo notebook (notebooks/japanese_vowels.ipynb) in a real JupyterLab + Chromium: the Explorer renders, the
keyboard, the slider and Python move one shared cursor, and every view follows it.

Selectors (the front-end conventions of DESIGN.md; keep this list short):
    ROOT    ".lstm-widget"                       the widget root: tabindex="0", data-frame-ms
    VIEWS   elements inside ROOT with a class "lw-<view>" and a data-t attribute (the step each view shows)
    HEATMAP ".lw-heatmap"                        the heatmap view; its largest canvas is the heatmap itself
    SLIDER  ".lw-timeline input[type=range]"     the time slider
The notebook assigns the widget to ``ex`` and ``ex.recordings[s].inputs`` is sequence s's (T, D) input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lab import (
    ARTIFACTS_DIR,
    Widget,
    canvas_pixels,
    copy_notebook,
    largest_canvas,
    next_frames,
    open_notebook,
    pixel_hash,
    run_all_cells,
    run_code,
    screenshot_element,
    set_theme,
    wait_for_widget,
    wait_painted,
    wait_until,
)

ROOT = ".lstm-widget"
HEATMAP = ".lw-heatmap"
SLIDER = ".lw-timeline input[type=range]"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "japanese_vowels.ipynb"


@dataclass
class Demo(Widget):
    length: int  # steps of the shown sequence

    @property
    def last(self) -> int:
        return self.length - 1


@pytest.fixture(scope="module")
def demo(new_page, jupyter_server):
    """The demo notebook opened and run once for the whole module (the tests reset the cursor themselves)."""
    assert NOTEBOOK.is_file(), f"the demo notebook is missing: {NOTEBOOK}"
    page = new_page("demo_notebook")
    try:
        name = copy_notebook(jupyter_server, NOTEBOOK)
        open_notebook(page, jupyter_server, name)
        run_all_cells(page)
        root = wait_for_widget(page, selector=ROOT)
        length = int(run_code(page, "print(len(ex.recordings[ex.sequence].inputs))"))
        assert length >= 3, length
    except BaseException:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS_DIR / "demo_notebook_setup.png"))
        raise
    yield Demo(page, root, length)
    new_page.close(page)


def python_t(demo: Demo) -> int:
    return int(run_code(demo.page, "print(ex.t)"))


def wait_python_t(demo: Demo, t: int) -> None:
    """The page -> kernel sync may be debounced: poll until Python sees t."""
    wait_until(lambda: python_t(demo) == t, timeout=30, interval=0.3, message=f"Python sees ex.t == {t}")


def heatmap_canvases(demo: Demo) -> list[np.ndarray]:
    demo.root.locator(HEATMAP).first.scroll_into_view_if_needed()
    canvases = demo.root.locator(f"{HEATMAP} canvas")
    return [canvas_pixels(canvases.nth(i)) for i in range(canvases.count())]


def reset(demo: Demo, t: int = 0) -> None:
    """Stop playback, let the page and the kernel agree on the cursor, then put it at t from Python; every view
    must follow."""
    run_code(demo.page, "ex.playing = False")
    seen = []

    def settled():  # the same cursor in the page and in Python on two polls in a row
        seen.append((demo.views().get("lw-timeline"), str(python_t(demo))))
        return len(seen) > 1 and seen[-1] == seen[-2] and seen[-1][0] == seen[-1][1]

    wait_until(settled, timeout=30, interval=0.3, message="page and kernel agree on t after pausing")
    run_code(demo.page, f"ex.t = {t}")
    demo.wait_views_at(t)
    demo.root.scroll_into_view_if_needed()


def test_explorer_renders(demo):
    root = demo.root
    assert root.get_attribute("tabindex") == "0"
    views = demo.views()
    assert "lw-timeline" in views and "lw-heatmap" in views, views
    frame_ms = wait_until(lambda: root.get_attribute("data-frame-ms"), timeout=30, message="data-frame-ms is set")
    assert float(frame_ms) >= 0, frame_ms

    heatmap = largest_canvas(root.locator(HEATMAP).first)
    heatmap.scroll_into_view_if_needed()

    wait_painted(heatmap)


def test_keyboard_home_end_and_arrows(demo):
    reset(demo, 0)
    assert python_t(demo) == 0
    at_start = heatmap_canvases(demo)

    demo.root.focus()
    demo.root.press("End")
    demo.wait_views_at(demo.last)
    wait_python_t(demo, demo.last)
    at_end = heatmap_canvases(demo)
    assert [pixel_hash(p) for p in at_start] != [pixel_hash(p) for p in at_end], "the heatmap did not change"

    demo.root.press("ArrowLeft")
    demo.wait_views_at(demo.last - 1)
    demo.root.press("ArrowRight")
    demo.wait_views_at(demo.last)
    demo.root.press("Home")
    demo.wait_views_at(0)
    wait_python_t(demo, 0)


def test_python_moves_the_views(demo):
    reset(demo, 0)
    t = min(3, demo.last)
    run_code(demo.page, f"ex.t = {t}")
    demo.wait_views_at(t)


def test_slider(demo):
    reset(demo, 0)
    slider = demo.root.locator(SLIDER).first
    mid = demo.last // 2
    slider.fill(str(mid))
    demo.wait_views_at(mid)
    wait_python_t(demo, mid)

    screenshot_element(demo.page, demo.root, ARTIFACTS_DIR / "explorer.png")  # for the README

    # An arrow key on the focused slider moves exactly one step (JupyterLab's own shortcuts must not eat it, and the
    # root must not step a second time).
    slider.focus()
    slider.press("ArrowRight")
    demo.wait_views_at(mid + 1)
    assert demo.page.evaluate(f"() => document.activeElement.matches({SLIDER!r})"), "the slider lost the focus"
    wait_python_t(demo, mid + 1)


def test_space_plays_and_pauses_in_the_page(demo):
    reset(demo, 0)
    run_code(demo.page, "ex.speed = 4")
    demo.root.focus()
    demo.root.press(" ")
    wait_until(lambda: run_code(demo.page, "print(ex.playing)") == "True", timeout=30, message="Python sees playing")
    wait_until(lambda: int(demo.views()["lw-timeline"]) > 0, timeout=30, message="playback moves the cursor")
    demo.root.press(" ")
    wait_until(lambda: run_code(demo.page, "print(ex.playing)") == "False", timeout=30, message="Python sees paused")
    t = int(demo.views()["lw-timeline"])
    demo.wait_views_at(t)
    wait_python_t(demo, t)


def test_python_pause_and_seek_while_playing(demo):
    """``ex.playing = False; ex.t = 0`` while the page plays lands on 0 in the page and in Python: the cursor writes
    that the page sent while playing must not win over the kernel's later seek."""
    for speed in (4, 8, 16):
        reset(demo, 0)
        run_code(demo.page, f"ex.speed = {speed}")
        demo.root.focus()
        demo.root.press(" ")
        wait_until(lambda: int(demo.views()["lw-timeline"]) > 1, timeout=30, message="playback moves the cursor")
        run_code(demo.page, "ex.playing = False\nex.t = 0")
        demo.wait_views_at(0, timeout=10_000)
        wait_python_t(demo, 0)


def test_canvases_follow_the_theme(demo):
    reset(demo, 0)

    def all_canvases():
        cs = demo.root.locator("canvas")
        return [pixel_hash(canvas_pixels(cs.nth(i))) for i in range(cs.count())]

    light = all_canvases()
    next_frames(demo.page, 5)
    assert all_canvases() == light, "the canvases change on their own: this test could not tell"
    try:
        set_theme(demo.page, "dark")
        wait_until(lambda: all_canvases() != light, timeout=30, message="some canvas repaints for the dark theme")
    finally:
        set_theme(demo.page, "light")
