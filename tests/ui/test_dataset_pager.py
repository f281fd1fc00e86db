"""The data set pager (js/src/views/pager.js) in a real JupyterLab + Chromium: an explorer over a recorded store of 40
Japanese Vowels utterances, 16 at a time (`lw.Explorer.from_dataset(ds, window=16)`). The pager says "sequences 1–16
of 40"; next writes `window_start` (Python sees 16), says "loading…" until the window arrives, then the picker lists
sequences 16–31 and the views repaint on them; previous goes back; next is disabled on the last window; the number
input jumps to a sequence of another window (as `show_sequence(k)`); `ex.window_start = 0` from Python moves the page.

Selectors:
    PAGER  ".lw-pager"   data-start (loaded window), data-requested (window_start), data-n, data-pending
           ".lw-page-range" (text), ".lw-page-prev", ".lw-page-next" (buttons), ".lw-page-jump" (number input)
    PICKER ".lw-picker select" (options: the window's sequence names)
"""

from __future__ import annotations

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
    start_code,
    wait_code,
    wait_py,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-widget"
N, W = 40, 16

SETUP = f"""\
import json, pathlib, tempfile
import numpy as np
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net

X_test, y_test = japanese_vowels("test")
X = [X_test[k] for k in range({N})]
store = pathlib.Path(tempfile.mkdtemp()) / "s.zarr"
ds = lw.record_dataset(japanese_vowels_net(), X, store, progress=False)
ex = lw.Explorer.from_dataset(ds, window={W}, sequence_names=[f"utterance {{k}}" for k in range({N})])
"""


@pytest.fixture(scope="module")
def ex(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, "dataset_pager", [SETUP, "ex"], selector=ROOT)
    yield Widget(page, root)
    new_page.close(page)


def pager(ex: Widget) -> Locator:
    return ex.root.locator(".lw-pager")


def range_text(ex: Widget) -> str:
    return pager(ex).locator(".lw-page-range").text_content()


def picker_names(ex: Widget) -> list[str]:
    return ex.root.locator(".lw-picker select option").all_text_contents()


def heatmap_hash(ex: Widget) -> str:
    return pixel_hash(canvas_pixels(ex.root.locator(".lw-heatmap canvas.lw-base").first))


def wait_window(ex: Widget, start: int) -> None:
    """The page shows the window at `start`: the pager's text, the picker's names, every view repainted at t = 0."""
    stop = min(start + W, N)
    want = [f"utterance {k}" for k in range(start, stop)]
    wait_until(
        lambda: (
            pager(ex).get_attribute("data-pending") == "false"
            and pager(ex).get_attribute("data-start") == str(start)
            and range_text(ex) == f"sequences {start + 1}–{stop} of {N}"
            and picker_names(ex) == want
            and ex.root.locator(".lw-picker select").input_value() == "0"
        ),
        timeout=60,
        message=lambda: (
            f"the page shows sequences {start}..{stop - 1} (pager {range_text(ex)!r}, picker {picker_names(ex)[:2]}…)"
        ),
    )
    next_frames(ex.page)
    views = ex.root.locator(".lw-view")
    ts = views.evaluate_all("(els) => els.map((e) => [e.className, e.dataset.t])")
    assert len(ts) > 5 and all(t == "0" for _, t in ts), ts


def set_t(ex: Widget, t: int) -> None:
    run_code(ex.page, f"ex.playing = False\nex.t = {t}")
    wait_until(
        lambda: ex.root.locator(".lw-heatmap").first.get_attribute("data-t") == str(t),
        timeout=30,
        message=f"the page shows t={t}",
    )


# --------------------------------------------------------------------------------------------------------------------


def test_pager_shows_the_window_and_is_reachable(ex):
    p = pager(ex)
    assert p.is_visible()
    wait_window(ex, 0)
    assert range_text(ex) == "sequences 1–16 of 40"
    assert p.get_attribute("data-n") == "40"
    prev, nxt = p.locator(".lw-page-prev"), p.locator(".lw-page-next")
    assert prev.is_disabled() and nxt.is_enabled()
    assert prev.get_attribute("aria-label") and nxt.get_attribute("aria-label")
    assert p.locator(".lw-page-jump").get_attribute("aria-label")
    assert py_json(ex, "[ex.window_start, ex.window_size, ex._meta['dataset']]") == [
        0,
        W,
        {"n_sequences": N, "start": 0, "size": W},
    ]


def test_next_and_previous_page_through_the_store(ex):
    p = pager(ex)
    set_t(ex, 3)
    before = heatmap_hash(ex)
    frames = int(ex.root.get_attribute("data-frames"))
    p.locator(".lw-page-next").click()
    wait_py(ex, "ex.window_start", 16)
    wait_window(ex, 16)
    assert int(ex.root.get_attribute("data-frames")) > frames
    assert heatmap_hash(ex) != before, "the heatmap did not repaint with the new window's sequence"
    assert py_json(ex, "[ex.sequence, ex.t, ex.dataset_index, ex._meta['sequence_names'][0]]") == [
        0,
        0,
        16,
        "utterance 16",
    ]

    # keyboard: focus next, Enter → the last window (33–40); next is then disabled and the focus stays in the pager
    nxt, prev = p.locator(".lw-page-next"), p.locator(".lw-page-prev")
    nxt.focus()
    ex.page.keyboard.press("Enter")
    wait_py(ex, "ex.window_start", 32)
    wait_window(ex, 32)
    assert range_text(ex) == "sequences 33–40 of 40"
    wait_until(lambda: nxt.is_disabled(), timeout=10, message="next is disabled on the last window")
    assert prev.is_enabled()
    assert ex.page.evaluate("() => document.activeElement?.classList.contains('lw-page-prev')")

    prev.click()
    wait_py(ex, "ex.window_start", 16)
    wait_window(ex, 16)
    assert prev.is_enabled() and nxt.is_enabled()


def test_loading_state_while_the_kernel_reads(ex):
    """Between the page's write of window_start and the window's arrival the pager says "loading…" (every state it
    went through is logged by a MutationObserver, so a fast kernel cannot hide it); a busy kernel makes it last."""
    p = pager(ex)
    p.evaluate("""(el) => {
      const read = () => ({pending: el.dataset.pending, busy: el.getAttribute('aria-busy'),
                           requested: el.dataset.requested, text: el.querySelector('.lw-page-range').textContent});
      window.__lwPagerLog = [read()];
      window.__lwPagerObs?.disconnect();
      window.__lwPagerObs = new MutationObserver(() => window.__lwPagerLog.push(read()));
      window.__lwPagerObs.observe(el, {attributes: true, childList: true, subtree: true, characterData: true});
    }""")
    h = start_code(ex.page, "import time\ntime.sleep(4)")  # the request then waits behind this cell
    try:
        p.locator(".lw-page-prev").click()
    finally:
        wait_code(ex.page, h)
    wait_py(ex, "ex.window_start", 0)
    wait_window(ex, 0)
    log = ex.page.evaluate("() => { window.__lwPagerObs.disconnect(); return window.__lwPagerLog; }")
    loading = {"pending": "true", "busy": "true", "requested": "0", "text": "loading sequences 1–16 of 40…"}
    assert loading in log, log
    assert log[-1] == {"pending": "false", "busy": "false", "requested": "0", "text": "sequences 1–16 of 40"}, log


def test_jump_to_a_sequence_index(ex):
    jump = pager(ex).locator(".lw-page-jump")
    jump.fill("21")
    jump.press("Enter")
    wait_py(ex, "[ex.window_start, ex.sequence, ex.dataset_index]", [16, 5, 21])
    wait_until(
        lambda: ex.root.locator(".lw-picker select").input_value() == "5",
        timeout=30,
        message="the picker shows the jumped-to sequence",
    )
    assert picker_names(ex)[5] == "utterance 21"
    # inside the window: only the sequence moves
    jump.fill("18")
    jump.press("Enter")
    wait_py(ex, "[ex.window_start, ex.sequence]", [16, 2])
    # out of range: nothing is asked of the kernel
    jump.fill("40")
    jump.press("Enter")
    next_frames(ex.page)
    assert py_json(ex, "[ex.window_start, ex.sequence]") == [16, 2]


def test_python_moves_the_page(ex):
    run_code(ex.page, "ex.window_start = 32")
    wait_window(ex, 32)
    assert pager(ex).locator(".lw-page-next").is_disabled()
    run_code(ex.page, "ex.window_start = 0")
    wait_window(ex, 0)
    assert pager(ex).locator(".lw-page-prev").is_disabled()
    assert pager(ex).locator(".lw-page-next").is_enabled()


def test_no_errors_in_the_page(ex):
    bad = [line for line in CONSOLE.get(ex.page, []) if "lstm_widget" in line or line.startswith("[pageerror]")]
    assert not bad, bad


def test_narrow_page_keeps_the_pager_inside(ex):
    page = ex.page
    size = page.viewport_size
    try:
        page.set_viewport_size({"width": 680, "height": size["height"]})
        wait_until(
            lambda: "lw-narrow" in (ex.root.get_attribute("class") or ""), timeout=30, message="the root turns narrow"
        )
        next_frames(page, 3)
        p = pager(ex)
        p.scroll_into_view_if_needed()
        box, root = p.bounding_box(), ex.root.bounding_box()
        assert box["width"] > 100 and box["x"] + box["width"] <= root["x"] + root["width"] + 1, (box, root)
        assert p.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    finally:
        page.set_viewport_size(size)
