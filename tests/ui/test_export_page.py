"""The standalone HTML export (Explorer.save_html) opened from file:// in Chromium with every network request
blocked: the widget renders, keys scrub, every view's data-t follows, and markup in user-given names stays text.
No JupyterLab here: the exported page needs no server."""

from __future__ import annotations

import numpy as np
import pytest

from lab import canvas_pixels, distinct_colors, largest_canvas, wait_until

HOSTILE = "<img src=x onerror=alert(1)>"
VIEW_TS_JS = """() => Object.fromEntries([...document.querySelectorAll('.lstm-widget [data-t]')]
  .map((el) => [[...el.classList].find((c) => c.startsWith('lw-')), el.dataset.t]))"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import lstm_widget as lw
    from lstm_widget.datasets import JAPANESE_VOWELS_FEATURE_NAMES, japanese_vowels
    from lstm_widget.models import japanese_vowels_net

    X, y = japanese_vowels("test")
    idx = [0, 40, 80, 120, 160, 200, 240, 280, 320, 360]  # lengths vary; several speakers
    names = [HOSTILE] + [f"speaker {k}" for k in range(2, 10)]
    features = [HOSTILE + "f"] + list(JAPANESE_VOWELS_FEATURE_NAMES[1:])
    ex = lw.Explorer(
        japanese_vowels_net(),
        [X[i] for i in idx],
        y[idx],
        class_names=names,
        feature_names=features,
        sequence_names=[f"utterance {i} {HOSTILE}" for i in idx],
        preload="h",
    )
    ex.sequence, ex.quantity = 3, "h"
    out = tmp_path_factory.mktemp("export")
    sizes = {
        dt: ex.save_html(out / f"{dt}.html", wire_dtype=dt, title=f"Lesson {HOSTILE}", quiet=True)
        for dt in ("float32", "float16")
    }
    return ex, out, sizes


def _open_offline(page, path):
    """Open ``path`` with every request but that file aborted; returns the list of URLs that were asked for."""
    asked, dialogs = [], []
    target = path.as_uri()

    def route(r):
        asked.append(r.request.url)
        r.continue_() if r.request.url == target else r.abort()

    page.context.route("**/*", route)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(target)
    page.wait_for_selector(".lstm-widget .lw-heatmap[data-t]")
    return asked, dialogs


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_export_plays_back_offline(page, exported, dtype):
    ex, out, _ = exported
    asked, dialogs = _open_offline(page, out / f"{dtype}.html")
    root = page.locator(".lstm-widget")
    T = len(ex.recordings[3])
    # It opens where the explorer was: sequence 3, and shows the data (a heatmap with real colours).
    wait_until(lambda: page.evaluate(VIEW_TS_JS).get("lw-heatmap") == "0", message="the heatmap at t = 0")
    assert page.locator(".lw-picker select").first.input_value() == "3"
    assert distinct_colors(canvas_pixels(largest_canvas(page.locator(".lw-heatmap")))) > 20
    root.focus()
    for key, want in [("End", T - 1), ("ArrowLeft", T - 2), ("Home", 0), ("ArrowRight", 1)]:
        page.keyboard.press(key)
        wait_until(
            lambda want=want: set(page.evaluate(VIEW_TS_JS).values()) == {str(want)},
            message=f"every view at t = {want} after {key}",
        )
    ts = page.evaluate(VIEW_TS_JS)
    assert {"lw-timeline", "lw-heatmap", "lw-trajectory", "lw-inputs", "lw-probs", "lw-gates"} <= set(ts), ts
    # Quantities other than the one shown in the notebook travel too: the export is complete.
    before = canvas_pixels(largest_canvas(page.locator(".lw-heatmap")))
    page.locator(".lw-heatmap select").first.select_option("f")
    wait_until(
        lambda: not np.array_equal(canvas_pixels(largest_canvas(page.locator(".lw-heatmap"))), before),
        message="the heatmap showing f",
    )
    assert "loading" not in page.locator(".lw-heatmap").inner_text()
    assert asked == [(out / f"{dtype}.html").as_uri()], f"the page asked the network for {asked[1:]}"
    assert dialogs == []


def test_export_names_are_text(page, exported):
    ex, out, sizes = exported
    asked, dialogs = _open_offline(page, out / "float32.html")
    assert page.title() == f"Lesson {HOSTILE}"
    assert page.locator("h1").inner_text() == f"Lesson {HOSTILE}"
    options = page.locator(".lw-picker select option").all_inner_texts()
    assert any(HOSTILE in o for o in options), options
    text = page.locator(".lstm-widget").inner_text()
    assert HOSTILE + "f" in text  # the feature legend
    assert page.locator("img").count() == 0  # no name became an element
    assert page.evaluate("() => document.querySelectorAll('script').length") == 3  # state, bundle, mount: no more
    assert dialogs == []


def test_float16_halves_the_size(exported):
    from lstm_widget._widget.export import export_bundle

    _, _, sizes = exported
    page = len(export_bundle())  # the front end every export carries, whatever the dtype
    assert sizes["float16"] - page < 0.6 * (sizes["float32"] - page), sizes
