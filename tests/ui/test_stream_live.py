"""A live stream drawn incrementally, in a real JupyterLab + Chromium: while ``ex.stream`` appends steps, the time-axis
views span a fixed capacity of steps (js/src/lod.js liveCapacity; data-live on the view) and add the appended steps
to what they drew — the heatmap's base canvas shows a column of cells for every step drawn (data-drawn) and nothing
after them — and the whole base layer is drawn again only when the capacity or the scale changes; after the stream,
each view's base canvas is the same, pixel for pixel, as a fresh full repaint of the same data.

Selectors: ROOT ".lstm-widget"; ".lw-heatmap" (data-live, data-drawn, data-base-draws), ".lw-traces",
".lw-inputs", ".lw-probs" (data-live, data-base-draws), each with a "canvas.lw-base"; ".lw-picker" (data-streaming).
Heatmap data rectangle inside its canvas (CSS px): x = 48 .. W - 12, y = 4 .. H - 18 (timeRect(plot, 4, 18)).
"""

from __future__ import annotations

import pytest

from lab import (
    canvas_pixels,
    code_done,
    next_frames,
    pixel_hash,
    run_code,
    start_code,
    wait_code,
    wait_until,
    widget_notebook,
)

NAME = "stream_live"
N = 4  # sequences loaded
STEPS = 150  # steps streamed: the capacity grows 64 -> 128 -> 256 on the way
FPS = 40  # ~4 s of stream: the page is sampled while it runs
VIEWS = (".lw-heatmap", ".lw-traces", ".lw-inputs", ".lw-probs", ".lw-trajectory")
LINES = (".lw-traces", ".lw-inputs", ".lw-probs")

SETUP = f"""\
import numpy as np
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net

net = japanese_vowels_net()
X, y = japanese_vowels("test")
ex = lw.Explorer(net, X[:{N}], labels=y[:{N}])
x = np.tile(X[0], (-(-{STEPS} // len(X[0])), 1))[:{STEPS}]
"""

# The heatmap's live state and, on its base canvas, the distinct colours down the middle of the column of a few steps
# drawn (the first, the middle, the last) and of one step after them (none drawn yet), inside the data rectangle.
HEATMAP_LIVE_JS = """(root) => {
  const hm = root.querySelector('.lw-heatmap');
  const c = hm.querySelector('canvas.lw-base');
  const cap = Number(hm.dataset.live || 0);
  const drawn = Number(hm.dataset.drawn || 0);
  const out = {cap, drawn, draws: Number(hm.dataset.baseDraws || 0), drawnCols: [], after: null};
  if (!cap || !drawn) return out;
  const W = parseFloat(c.style.width), H = parseFloat(c.style.height), dpr = c.width / W;
  const rx = 48, rw = W - 60, ry = 4, rh = H - 22;
  const ctx = c.getContext('2d');
  const colours = (k) => {
    const x = Math.floor((rx + ((k + 0.5) * rw) / cap) * dpr);
    const y0 = Math.ceil((ry + 1) * dpr), y1 = Math.floor((ry + rh - 1) * dpr);
    const d = ctx.getImageData(x, y0, 1, y1 - y0).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]},${d[i + 3]}`);
    return seen.size;
  };
  for (const k of [0, Math.floor(drawn / 2), drawn - 1]) out.drawnCols.push(colours(k));
  if (drawn + 2 < cap) out.after = colours(drawn + 2);
  return out;
}"""

VIEW_STATE_JS = """(root, sels) => sels.map((s) => {
  const v = root.querySelector(s);
  return {live: v.dataset.live || '', draws: Number(v.dataset.baseDraws || 0)};
})"""


SAMPLE_JS = f"""(root, sels) => ({{heatmap: ({HEATMAP_LIVE_JS})(root), views: ({VIEW_STATE_JS})(root, sels)}})"""


@pytest.fixture(scope="module")
def sx(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, NAME, [SETUP, "ex"])
    yield page, root
    new_page.close(page)


def base_hashes(root) -> list[str]:
    return [pixel_hash(canvas_pixels(root.locator(f"{sel} canvas.lw-base"))) for sel in VIEWS]


def test_a_stream_draws_what_is_appended_and_ends_as_a_full_repaint(sx):
    page, root = sx
    draws0 = root.evaluate(VIEW_STATE_JS, list(VIEWS))
    cell = start_code(page, f"ex.stream(x, name='live', fps={FPS})")
    samples, states = [], []
    while not code_done(page, cell):
        s = root.evaluate(SAMPLE_JS, list(VIEWS))  # the heatmap and the views in one frame
        if s["heatmap"]["cap"]:
            samples.append(s["heatmap"])
            states.append(s["views"])
        page.wait_for_timeout(100)
    wait_code(page, cell, timeout=120_000)

    # While it streamed: the heatmap spanned a power-of-two capacity ≥ the steps drawn, every column drawn holds
    # cells of several colours, and the columns after them are the plain background (one colour).
    assert len(samples) >= 5, f"too few samples of the stream: {samples}"
    assert {s["cap"] for s in samples} >= {64, 128, 256}, samples
    for s in samples:
        assert s["cap"] in (64, 128, 256) and s["drawn"] <= s["cap"], s
        assert all(n >= 4 for n in s["drawnCols"]), f"a column drawn has no cells: {s}"
        assert s["after"] in (None, 1), f"a column after the steps drawn is painted: {s}"
    drawn = [s["drawn"] for s in samples]
    assert drawn == sorted(drawn) and drawn[-1] > drawn[0], drawn
    # The whole base layer was drawn again only when the capacity changed (the scale of the loaded sequences holds
    # the streamed one's values): once for the first steps, once per capacity, never per append.
    assert samples[-1]["draws"] - draws0[0]["draws"] <= 4, (draws0, samples)
    # The line charts: once per capacity and when the data leave their y range (which then at least doubles). The
    # trajectory: once per capacity (its time colours) and when a point leaves the frame drawn.
    for sel, before, last in zip(VIEWS[1:], draws0[1:], states[-1][1:], strict=True):
        if sel in LINES:
            assert last["live"] in ("64", "128", "256"), (sel, states[-1])
        assert last["draws"] - before["draws"] <= 6, (sel, draws0, states[-1])

    # After it: no view is live, and each base canvas equals a fresh full repaint of the same data (the views drawn
    # for another sequence, then for this one again).
    wait_until(
        lambda: (
            all(v["live"] == "" for v in root.evaluate(VIEW_STATE_JS, list(VIEWS)))
            and root.locator(".lw-picker").get_attribute("data-streaming") == "false"
        ),
        timeout=30,
        message=lambda: f"views still live: {root.evaluate(VIEW_STATE_JS, list(VIEWS))}",
    )
    next_frames(page, 3)
    ended = base_hashes(root)
    run_code(page, "ex.sequence = 0")
    wait_until(lambda: root.locator(".lw-picker select").input_value() == "0", timeout=30)
    next_frames(page, 3)
    assert base_hashes(root) != ended, "the views did not draw the other sequence"
    run_code(page, f"ex.sequence = {N}")
    wait_until(lambda: root.locator(".lw-picker select").input_value() == str(N), timeout=30)
    next_frames(page, 3)
    assert base_hashes(root) == ended, "a view's picture after the stream differs from a full repaint"
