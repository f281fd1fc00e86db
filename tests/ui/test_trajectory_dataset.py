"""The trajectory's data-set layer (``_dataset_traj``) in a real Chromium, without a kernel: the dev harness
(js/dev/harness.html, served from the repository root) mounts the built explorer bundle on an in-page model that plays
a DatasetExplorer's part — a 20-sequence window (``_meta.dataset``) and the whole data set's points
(js/dev/synth.js datasetTrajFor: the window's own paths plus random walks, one class per sequence).

Checked: the background is drawn (the base canvas's pixel at a data-set point projected by the root's
``__lw_project`` is that sequence's class colour), 2-D and 3-D; hovering that point names "sequence k (of the data
set), step t" (tooltip and ``data-bg-hover``); clicking it asks for k's window (``window_start``) and selects k in it
once it arrives; the points' note shows in one line.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lab import canvas_pixels

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "lstm_widget" / "static" / "widget.js"
N_DATASET = 150
STEPS = 30
WINDOW = 20  # the harness's "mid" set: 20 sequences


def class_colors() -> list[tuple[int, int, int]]:
    """The light theme's categorical colours (js/src/colormap.js CATEGORICAL)."""
    text = (REPO / "js" / "src" / "colormap.js").read_text()
    body = text.split("const CATEGORICAL = [", 1)[1].split("]", 1)[0]
    return [tuple(int(h[i : i + 2], 16) for i in (0, 2, 4)) for h in re.findall(r'"#([0-9a-fA-F]{6})"', body)]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def harness_url():
    if not BUNDLE.exists():
        pytest.skip("the front end is not built (cd js && npm run build)")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(REPO)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/js/dev/harness.html"
    httpd.shutdown()


# A data-set point to aim at: a step of a sequence outside the window whose projected place is inside the plot, at
# least 4 px from every other sequence's points and 1.5 px from its own other steps (so the nearest step is that one
# and the pixel is its colour), 12 px from the window's points (drawn on top, and picked first) and 5 px from the 2-D
# axis lines.
PICK_JS = """
(view) => {
  const h = window.harness;
  const dt = h.datasetTraj;
  const [rows, dims] = dt.points.shape;
  const pts = new Float32Array(dt.points.buffer.buffer, dt.points.buffer.byteOffset, rows * dims);
  const off = new Int32Array(dt.offsets.buffer.buffer, dt.offsets.buffer.byteOffset, dt.offsets.shape[0]);
  const cls = new Int32Array(dt.classes.buffer.buffer, dt.classes.buffer.byteOffset, dt.classes.shape[0]);
  const proj = (r) => view.__lw_project(pts[r * dims], pts[r * dims + 1], dims > 2 ? pts[r * dims + 2] : 0);
  const P = Array.from({ length: rows }, (_, r) => proj(r));
  const canvas = view.querySelector('canvas.lw-base');
  const W = canvas.clientWidth, H = canvas.clientHeight;
  const origin = view.dataset.dims === '2' ? view.__lw_project(0, 0, 0) : null;
  const winRows = off[%(window)d];
  const near = (p, q, d) => Math.abs(p.x - q.x) < d && Math.abs(p.y - q.y) < d && Math.hypot(p.x - q.x, p.y - q.y) < d;
  for (let k = %(window)d + 7; k < off.length - 1; k++) {
    for (let r = off[k] + 2; r < off[k + 1] - 2; r++) {
      const p = P[r];
      if (!(p.x > 24 && p.x < W - 24 && p.y > 24 && p.y < H - 24)) continue;
      if (origin && (Math.abs(p.x - origin.x) < 5 || Math.abs(p.y - origin.y) < 5)) continue;
      let ok = true;
      for (let q = 0; q < rows && ok; q++) {
        if (q === r) continue;
        const d = q < winRows ? 12 : q >= off[k] && q < off[k + 1] ? 1.5 : 4;
        if (near(p, P[q], d)) ok = false;
      }
      if (ok) return { k, t: r - off[k], row: r, x: p.x, y: p.y, cls: cls[k] };
    }
  }
  return null;
}
""" % {"window": WINDOW}


def open_harness(page, url, dims=2, extra=""):
    view = '{"dims":3}' if dims == 3 else "{}"
    page.goto(f"{url}?data=mid&dims={dims}&dstraj={N_DATASET}&dstrajT={STEPS}&view={view}{extra}")
    traj = page.locator(".lw-trajectory")
    expect(traj).to_have_attribute("data-background", str(N_DATASET))
    expect(traj).to_have_attribute("data-moving", "false")
    expect(traj).to_have_attribute("data-raster", "dataset")
    traj.scroll_into_view_if_needed()
    return traj


def aim(page, traj):
    target = page.evaluate(PICK_JS, traj.element_handle())
    assert target is not None, "no isolated data-set point to aim at"
    return target


def assert_background_pixel(traj, target):
    """The base canvas's pixels around the point: one of them drawn (alpha > 0) in the sequence's class colour — the
    nearest of the class colours, within the rounding of a faint pixel (the canvas keeps colours premultiplied)."""
    base = traj.locator("canvas.lw-base")
    px = canvas_pixels(base)
    dpr = px.shape[1] / base.evaluate("c => c.clientWidth")
    cx, cy = int(target["x"] * dpr), int(target["y"] * dpr)
    colors = class_colors()
    want = colors[target["cls"]]

    def is_class_color(p):
        if p[3] == 0:
            return False
        dist = [max(abs(int(a) - b) for a, b in zip(p[:3], c, strict=True)) for c in colors]
        return dist.index(min(dist)) == target["cls"] and min(dist) <= 12

    around = px[cy - 1 : cy + 2, cx - 1 : cx + 2].reshape(-1, 4)
    hits = [is_class_color(p) for p in around]
    assert any(hits), f"no pixel in class colour {want} around ({cx}, {cy}): {around.tolist()}"
    # and the background is not the window's layer alone: far from the window, class-coloured pixels abound
    colored = (px[..., 3] > 0).sum()
    assert colored > 0.05 * px.shape[0] * px.shape[1], f"only {colored} drawn pixels"


@pytest.mark.parametrize("dims", [2, 3])
def test_background_drawn_and_hover_names_the_dataset_sequence(page, harness_url, dims):
    traj = open_harness(page, harness_url, dims)
    target = aim(page, traj)
    assert_background_pixel(traj, target)
    box = traj.locator("canvas.lw-overlay").bounding_box()
    page.mouse.move(box["x"] + target["x"], box["y"] + target["y"])
    expect(traj).to_have_attribute("data-bg-hover", f"{target['k']},{target['t']}")
    expect(page.locator(".lw-tooltip")).to_have_text(f"sequence {target['k']} (of the data set), step {target['t']}")


def test_click_on_background_loads_its_window_and_selects_it(page, harness_url):
    traj = open_harness(page, harness_url, 2)
    target = aim(page, traj)
    box = traj.locator("canvas.lw-overlay").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    k = target["k"]
    start = k // WINDOW * WINDOW
    assert start > 0
    page.wait_for_function(f"window.harness.model.get('window_start') === {start}")
    # the harness answers with the new window's _meta; the view then selects k in it
    page.wait_for_function(f"window.harness.model.get('sequence') === {k - start}")
    expect(page.locator(".lw-pager")).to_have_attribute("data-start", str(start))


def test_note_shows_in_one_line(page, harness_url):
    note = "only every 10th sequence is sent: the data set has 4 000 000 steps"
    traj = open_harness(page, harness_url, 2, extra="&dstrajnote=" + note.replace(" ", "%20"))
    line = traj.locator(".lw-traj-note")
    expect(line).to_be_visible()
    expect(line).to_have_text(note)
    assert line.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"


# A point of a window with many steps to aim at: the last step of a sequence, 4 px from every other sequence's points.
PICK_WINDOW_JS = """
(view) => {
  const h = window.harness;
  const tr = h.set.arrays.traj;
  const [rows, dims] = tr.shape;
  const pts = new Float32Array(tr.buffer.buffer, tr.buffer.byteOffset, rows * dims);
  const off = h.set.meta.offsets;
  const P = Array.from({ length: rows }, (_, r) => view.__lw_project(pts[r * dims], pts[r * dims + 1]));
  const canvas = view.querySelector('canvas.lw-base');
  const W = canvas.clientWidth, H = canvas.clientHeight;
  for (let s = 1; s < off.length - 1; s += 7) {
    const r = off[s + 1] - 1;
    const p = P[r];
    if (!(p.x > 24 && p.x < W - 24 && p.y > 24 && p.y < H - 24)) continue;
    let ok = true;
    for (let q = 0; q < rows && ok; q++) {
      if (q !== r && Math.hypot(p.x - P[q].x, p.y - P[q].y) < (q >= off[s] && q < off[s + 1] ? 1.5 : 4)) ok = false;
    }
    if (ok) return { s, t: r - off[s], x: p.x, y: p.y, name: h.set.meta.sequence_names[s] };
  }
  return null;
}
"""


def test_window_with_many_steps_is_rasterised_and_hover_names_its_paths(page, harness_url):
    # 8 000 sequences of 7-29 steps (> 100 000 steps): the window's other paths go through the raster
    page.goto(f"{harness_url}?data=mid&n=8000")
    traj = page.locator(".lw-trajectory")
    expect(traj).to_have_attribute("data-moving", "false", timeout=90_000)
    traj.scroll_into_view_if_needed()
    assert traj.get_attribute("data-background") == ""
    assert traj.get_attribute("data-raster") == "window"
    target = page.evaluate(PICK_WINDOW_JS, traj.element_handle())
    assert target is not None, "no isolated path end to aim at"
    px = canvas_pixels(traj.locator("canvas.lw-base"))
    assert (px[..., 3] > 0).sum() > 0.1 * px.shape[0] * px.shape[1]
    box = traj.locator("canvas.lw-overlay").bounding_box()
    page.mouse.move(box["x"] + target["x"], box["y"] + target["y"])
    expect(page.locator(".lw-tooltip")).to_contain_text(f"{target['name']} (")
    expect(page.locator(".lw-tooltip")).to_contain_text(f"· t {target['t']}")
