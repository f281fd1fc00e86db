"""The channel grid (lstm_widget.ChannelGrid) in a real JupyterLab + Chromium, on the bundled digits CNN: the tiles
render the kernel's maps, a click on a tile selects that channel (overlay and Python follow), the layer picker
changes the number of tiles (the kernel computes the new layer), the ranked list and the difference view.

Selectors (js/src/views/channelgrid.js):
    ROOT      ".lstm-channels"                    root: data-layer (drawn), data-channel (selected), data-pending
    TILE      ".lc-tile[data-channel=k]"          one tile per channel; its canvas holds the map at the layer's size
    OVERLAY   ".lc-overlay-x canvas"              the selected channel over the first input (also -x2, -diff)
    LAYER     "select.lc-layer"                   the layer picker
    RANK      ".lc-rank-item[data-channel=k]"     the ranked list
    SHOW      ".lc-show button[data-show=diff]"   what the grid tiles: x, x2, diff
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from playwright.sync_api import Locator, Page

from lab import (
    canvas_pixels,
    distinct_colors,
    next_frames,
    pixel_hash,
    run_code,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-channels"
TILE = ".lc-tile"
OVERLAY_X = ".lc-overlay-x canvas"
LAYER = "select.lc-layer"

SETUP = """\
import json
import numpy as np
import lstm_widget as lw
from lstm_widget.datasets import digits
from lstm_widget.models import digits_cnn
from lstm_widget._core.vision.channels import normalize_channels, channel_range

net = digits_cnn()
X, y = digits("test")
x = X[int(np.flatnonzero(y == 7)[0])]
x2 = x.copy()
x2[:, :10] = 0.0
g = lw.ChannelGrid(net, x, x2=x2, layer="conv1", names=("seven", "no top stroke"), channel=0)

def shown_maps():
    a, b = g.maps, g.maps2
    lo, hi = channel_range(a, b)
    return normalize_channels(a, lo, hi)
"""

# viridis ends (js/src/colormap.js): what a tile shows at its channel's minimum and maximum
VIRIDIS_LO = (68, 1, 84)
VIRIDIS_HI = (253, 231, 37)


@dataclass
class Grid:
    page: Page
    root: Locator


@pytest.fixture(scope="module")
def grid(new_page, jupyter_server):
    def ready(_page, root):
        wait_until(lambda: root.get_attribute("data-layer") == "conv1", timeout=60, message="the first paint")

    page, root = widget_notebook(new_page, jupyter_server, "channels", [SETUP, "g"], ready=ready, selector=ROOT)
    yield Grid(page, root)
    new_page.close(page)


def py(grid: Grid, expr: str) -> str:
    return run_code(grid.page, f"print({expr})")


def set_py(grid: Grid, code: str) -> None:
    run_code(grid.page, code)
    next_frames(grid.page, 3)


def reset(grid: Grid, layer: str = "conv1", channel: int = 0) -> None:
    set_py(grid, f"g.show = 'x'; g.rank_by = 'max'; g.layer = {layer!r}; g.channel = {channel}")
    wait_until(
        lambda: grid.root.get_attribute("data-layer") == layer and grid.root.get_attribute("data-channel") == str(channel),
        timeout=30, message=f"the page showing {layer} channel {channel}",
    )  # fmt: skip


def tiles(grid: Grid) -> Locator:
    return grid.root.locator(TILE)


def tile_pixels(grid: Grid, k: int) -> np.ndarray:
    return canvas_pixels(grid.root.locator(f"{TILE}[data-channel='{k}'] canvas"))


def test_grid_renders_the_kernels_maps(grid):
    reset(grid)
    n = int(py(grid, "g._meta['n_channels']"))
    assert n == 32
    assert tiles(grid).count() == n
    hashes = [pixel_hash(tile_pixels(grid, k)) for k in range(n)]
    assert len(set(hashes)) >= n // 2, "most tiles should differ from each other"
    # the strongest channel's tile is a real picture, the layer's size, and shows that channel's data in place:
    # its minimum and maximum are drawn in viridis's end colours exactly where the kernel's map has them
    k = int(py(grid, "g.strongest"))
    px = tile_pixels(grid, k)
    assert px.shape == (32, 32, 4) and distinct_colors(px) > 20
    m = np.array(json.loads(py(grid, f"json.dumps(shown_maps()[{k}].tolist())")))
    hi = np.unravel_index(np.argmax(m), m.shape)
    lo = np.unravel_index(np.argmin(m), m.shape)
    assert tuple(px[hi][:3]) == VIRIDIS_HI, (hi, px[hi])
    assert tuple(px[lo][:3]) == VIRIDIS_LO, (lo, px[lo])


def test_clicking_a_tile_shows_that_channel(grid):
    reset(grid, channel=0)
    overlay = grid.root.locator(OVERLAY_X)
    before = pixel_hash(canvas_pixels(overlay))
    k = int(py(grid, "g.strongest"))
    assert k != 0
    grid.root.locator(f"{TILE}[data-channel='{k}']").click()
    wait_until(lambda: py(grid, "g.channel") == str(k), timeout=30, message=f"Python sees g.channel == {k}")
    wait_until(lambda: grid.root.get_attribute("data-channel") == str(k), timeout=10, message="the page's channel")
    next_frames(grid.page)
    assert pixel_hash(canvas_pixels(overlay)) != before, "the overlay should show the clicked channel"
    selected = grid.root.locator(f"{TILE}[aria-selected='true']")
    assert selected.count() == 1 and selected.get_attribute("data-channel") == str(k)
    # and Python -> page: the overlay follows g.channel too
    after_click = pixel_hash(canvas_pixels(overlay))
    set_py(grid, "g.channel = 0")
    wait_until(lambda: grid.root.get_attribute("data-channel") == "0", timeout=30, message="the page follows Python")
    next_frames(grid.page)
    assert pixel_hash(canvas_pixels(overlay)) == before != after_click


def test_layer_picker_changes_the_tiles(grid):
    reset(grid)
    assert tiles(grid).count() == 32
    grid.root.locator(LAYER).select_option("relu2")
    wait_until(lambda: tiles(grid).count() == 48, timeout=60, message="48 tiles for relu2")
    wait_until(lambda: py(grid, "g.layer") == "relu2", timeout=30, message="Python sees the new layer")
    assert grid.root.get_attribute("data-layer") == "relu2"
    assert grid.root.get_attribute("data-pending") == "false"
    assert tile_pixels(grid, 0).shape == (16, 16, 4)  # relu2 maps are 16×16
    options = grid.root.locator(f"{LAYER} option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == [
        "conv1", "relu1", "conv2", "relu2", "conv3", "relu3",
    ]  # fmt: skip
    set_py(grid, "g.layer = 'conv3'")  # Python -> page
    wait_until(lambda: tiles(grid).count() == 64, timeout=60, message="64 tiles for conv3")
    assert grid.root.locator(LAYER).input_value() == "conv3"


def test_ranked_list_and_difference_view(grid):
    reset(grid, layer="relu2")
    items = grid.root.locator(".lc-rank-item")
    assert items.count() == 10
    ranking = json.loads(py(grid, "json.dumps(g.ranking[:10].tolist())"))
    assert [int(items.nth(i).get_attribute("data-channel")) for i in range(10)] == ranking
    items.nth(2).click()
    wait_until(lambda: py(grid, "g.channel") == str(ranking[2]), timeout=30, message="the list selects a channel")
    # the difference view: tiles on the diverging map, Python's show and the order by change follow
    k = ranking[0]
    before = pixel_hash(tile_pixels(grid, k))
    grid.root.locator(".lc-show button[data-show='diff']").click()
    wait_until(lambda: py(grid, "g.show") == "diff", timeout=30, message="Python sees show == 'diff'")
    wait_until(lambda: pixel_hash(tile_pixels(grid, k)) != before, timeout=10, message="the tiles show differences")
    grid.root.locator("select.lc-rank-by").select_option("change")
    wait_until(lambda: py(grid, "g.rank_by") == "change", timeout=30, message="Python sees rank_by == 'change'")
    by_change = json.loads(
        py(
            grid,
            "json.dumps(__import__('lstm_widget._core.vision.channels', fromlist=['x']).rank_by_difference(g.maps, g.maps2, 10).tolist())",
        )
    )
    wait_until(
        lambda: [int(items.nth(i).get_attribute("data-channel")) for i in range(10)] == by_change,
        timeout=10, message="the list ranked by change",
    )  # fmt: skip
    assert grid.root.locator(".lc-overlay-diff canvas").count() == 1
    assert grid.root.locator(".lc-overlay-x2 canvas").count() == 1
