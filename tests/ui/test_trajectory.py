"""The trajectory view's options in a real JupyterLab + Chromium: 2-D / 3-D (and rotating by dragging), colour by time /
class / group, signed log1p, labels at the path ends, the last-step scatter, two overlaid classes, the projection
choice, and clicks that still pick points in every mode. Every option is checked both in the page (the drawing
changes, the legend names what is drawn) and in Python (``ex.traj_view``, ``ex.t``, ``ex.sequence``).

The notebook: the bundled Japanese Vowels network on 20 test utterances (2 per speaker, 4 of speaker 1), projected by
a 3-component PCA, with a per-sequence group (speakers 1-4 / 5-9; one group name carries markup, which must show as
text).

Selectors (js/src/views/trajectory.js):
    VIEW      ".lw-trajectory"  data-dims, data-color, data-pending, data-view (the options as drawn, JSON),
                                data-t; __lw_project(x, y, z) -> CSS px from the plot canvas's top-left
    BASE      ".lw-trajectory canvas.lw-base"      every path (cached); OVERLAY "canvas.lw-overlay" (cursor, hover)
    DIMS      ".lw-trajectory button[data-dims=2|3]"  aria-pressed
    COLOR     "select[aria-label='Colour paths by']"  time / class / group
    CHECKS    "input[data-key=log1p|labels|last_only]"
    OVERLAY   "select[aria-label='Overlay class A']", "... B"
    PROJECT   "select[aria-label='Projected quantity']", "select[aria-label='Projected layer']"
    LABELS    ".lw-traj-label" (data-sequence; .lw-current for the current path), LEGEND ".lw-traj-legend"
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest
from playwright.sync_api import Locator, Page

from lab import canvas_pixels, first_repaint, next_frames, pixel_hash, py_json, run_code, wait_until, widget_notebook

ROOT = ".lstm-widget"
VIEW = ".lw-trajectory"
GROUP_NAME = "speaker half"
GROUPS = ("<i>first</i> half", "second half")  # markup in a user's name: shown as text

SETUP = f"""\
import json
import numpy as np
import lstm_widget as lw
from sklearn.decomposition import PCA
from lstm_widget._wire import decode_array
from lstm_widget.datasets import japanese_vowels, JAPANESE_VOWELS_CLASS_NAMES
from lstm_widget.models import japanese_vowels_net

net = japanese_vowels_net()
X_test, y_test = japanese_vowels("test")
idx = np.concatenate([np.flatnonzero(y_test == k)[:2] for k in range(9)] + [np.flatnonzero(y_test == 0)[2:4]])
X, y = [X_test[i] for i in idx], y_test[idx]
groups = [{GROUPS[0]!r} if c < 4 else {GROUPS[1]!r} for c in y]
ex = lw.Explorer(
    net, X, labels=y, class_names=JAPANESE_VOWELS_CLASS_NAMES,
    sequence_names=[f"utterance {{i}}" for i in idx],
    projection=PCA(n_components=3), groups=groups, group_name={GROUP_NAME!r},
)
"""


@dataclass
class Tj:
    page: Page
    root: Locator
    view: Locator
    lengths: list[int]
    labels: list[int]
    class_names: list[str]
    groups: list[str]

    @property
    def n(self) -> int:
        return len(self.lengths)


@pytest.fixture(scope="module")
def tj(new_page, jupyter_server):
    info = {}

    def ready(page, root):
        info.update(
            json.loads(
                run_code(
                    page,
                    "print(json.dumps({'lengths': ex._meta['lengths'], 'labels': ex._meta['labels'], "
                    "'classes': ex._meta['class_names'], 'groups': ex._meta['groups'], 'projection': ex._meta['projection']}))",
                )
            )
        )
        assert info["projection"]["dims"] == 3, info["projection"]
        assert info["groups"]["name"] == GROUP_NAME and len(info["groups"]["values"]) == len(info["lengths"]), info
        first_repaint(root)

    page, root = widget_notebook(new_page, jupyter_server, "trajectory", [SETUP, "ex"], ready=ready, selector=ROOT)
    yield Tj(page, root, root.locator(VIEW), info["lengths"], info["labels"], info["classes"], info["groups"]["values"])
    new_page.close(page)


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def py(tj: Tj, expr: str) -> str:
    return run_code(tj.page, f"print({expr})")


def wait_py_until(tj: Tj, expr: str, ok, what: str, timeout: float = 30):
    """Poll the kernel until ``ok(value of expr)``; page -> kernel writes may be throttled."""
    seen = []

    def check():
        seen.append(py_json(tj, expr))
        return ok(seen[-1])

    wait_until(check, timeout=timeout, interval=0.3, message=lambda: f"Python: {what} (last {expr} = {seen[-1:]})")
    return seen[-1]


def drawn(tj: Tj) -> dict:
    """The options as the page draws them (data-view)."""
    return json.loads(tj.view.get_attribute("data-view") or "{}")


def wait_drawn(tj: Tj, **want) -> dict:
    def ok():
        d = drawn(tj)
        return d if all(d.get(k) == v for k, v in want.items()) else None

    d = wait_until(ok, timeout=30, message=lambda: f"the page draws {want} (it draws {drawn(tj)})")
    next_frames(tj.page)
    return d


def reset(tj: Tj, sequence: int = 0, t: int = 0, view: dict | None = None) -> None:
    """Cursor, sequence and view options set from Python; wait until the page shows them."""
    view = view or {}
    run_code(tj.page, f"ex.playing = False\nex.traj_view = {view!r}\nex.sequence = {sequence}\nex.t = {t}")
    wait_until(
        lambda: (
            tj.root.locator(".lw-picker select").input_value() == str(sequence)
            and tj.view.get_attribute("data-t") == str(t)
        ),
        timeout=30,
        message=f"the page shows sequence {sequence}, t {t}",
    )
    want = {"dims": view.get("dims", 2), "color": view.get("color", "time")}
    for k in ("log1p", "labels", "last_only"):
        if k in view:
            want[k] = view[k]
    wait_drawn(tj, **want)
    tj.view.scroll_into_view_if_needed()
    next_frames(tj.page)


def base(tj: Tj) -> Locator:
    return tj.view.locator("canvas.lw-base")


def overlay_canvas(tj: Tj) -> Locator:
    return tj.view.locator("canvas.lw-overlay")


def base_pixels(tj: Tj) -> np.ndarray:
    next_frames(tj.page)
    return canvas_pixels(base(tj))


def traj(tj: Tj) -> tuple[list[list[float]], list[int]]:
    data = py_json(tj, "{'traj': decode_array(ex._arrays['traj']).tolist(), 'offsets': ex._meta['offsets']}")
    return data["traj"], data["offsets"]


PROJECT_JS = "([rows, view]) => rows.map((p) => view.__lw_project(...p))"


def projected(tj: Tj, rows: list[list[float]]) -> list[dict]:
    pts = tj.page.evaluate(PROJECT_JS, [rows, tj.view.element_handle()])
    assert pts and all(p is not None for p in pts), "__lw_project maps every point"
    return pts


def dist(a: dict, b: dict) -> float:
    return math.hypot(a["x"] - b["x"], a["y"] - b["y"])


def alpha_at(px: np.ndarray, p: dict, scale: float = 1.0, r: int = 1) -> int:
    """Max alpha of the (2r+1)² pixels around a CSS point."""
    x, y = int(round(p["x"] * scale)), int(round(p["y"] * scale))
    h, w = px.shape[:2]
    win = px[max(0, y - r) : min(h, y + r + 1), max(0, x - r) : min(w, x + r + 1), 3]
    return int(win.max()) if win.size else 0


def css_scale(tj: Tj, px: np.ndarray) -> float:
    return px.shape[1] / base(tj).bounding_box()["width"]


def legend(tj: Tj) -> tuple[list[str], list[tuple[int, int, int]]]:
    """(names, swatch colours) of the trajectory's legend."""
    host = tj.view.locator(".lw-traj-legend")
    if host.is_hidden():
        return [], []
    names = [s.strip() for s in host.locator(".lw-legend-name").all_inner_texts()]
    colours = host.locator(".lw-swatch").evaluate_all("(els) => els.map((e) => getComputedStyle(e).backgroundColor)")
    rgb = [tuple(int(float(v)) for v in c[c.index("(") + 1 : c.index(")")].split(",")[:3]) for c in colours]
    return names, rgb


def colour_pixels(px: np.ndarray, rgb, tol: int = 14, min_alpha: int = 120) -> int:
    """How many pixels are drawn in colour ``rgb`` (within ``tol`` per channel, fairly opaque)."""
    diff = np.abs(px[..., :3].astype(int) - np.asarray(rgb, int)).max(axis=-1)
    return int(((px[..., 3] >= min_alpha) & (diff <= tol)).sum())


def apart_rows(pts: list[dict], rows, box: dict, min_gap: float, others=None) -> list[tuple[int, float]]:
    """Rows (of ``rows``) inside the plot whose nearest other point (of ``others``, default all) is ≥ min_gap px away,
    with that gap, farthest first."""
    others = range(len(pts)) if others is None else others
    out = []
    for r in rows:
        p = pts[r]
        if not (8 <= p["x"] <= box["width"] - 8 and 8 <= p["y"] <= box["height"] - 8):
            continue
        gap = min((dist(p, pts[q]) for q in others if q != r), default=1e9)
        if gap >= min_gap:
            out.append((r, gap))
    return sorted(out, key=lambda x: -x[1])


def last_rows(offsets: list[int]) -> list[int]:
    return [offsets[s + 1] - 1 for s in range(len(offsets) - 1)]


# --------------------------------------------------------------------------------------------------------------------
# Tests


def test_python_view_is_honoured(tj):
    reset(tj, view={"dims": 3, "color": "class", "yaw": 0.3, "pitch": -0.2, "log1p": True, "labels": False})
    d = wait_drawn(tj, dims=3, color="class", log1p=True, labels=False)
    assert math.isclose(d["yaw"], 0.3) and math.isclose(d["pitch"], -0.2), d
    assert tj.view.locator("button[data-dims='3']").get_attribute("aria-pressed") == "true"
    assert tj.view.locator("button[data-dims='3']").is_enabled(), "3-D is offered: traj has 3 columns"
    assert tj.view.locator("select[aria-label='Colour paths by']").input_value() == "class"
    assert tj.view.locator("input[data-key=log1p]").is_checked()
    assert not tj.view.locator("input[data-key=labels]").is_checked()
    assert tj.view.locator(".lw-traj-label").count() == 0
    # The page writes nothing back for a value that came from Python (the kernel may fill in defaults).
    v = py_json(tj, "ex.traj_view")
    assert {k: v.get(k) for k in ("dims", "color", "yaw", "pitch", "log1p", "labels")} == {
        "dims": 3,
        "color": "class",
        "yaw": 0.3,
        "pitch": -0.2,
        "log1p": True,
        "labels": False,
    }, v


def test_2d_3d_toggle_and_drag_rotates(tj):
    reset(tj, sequence=0, t=0)
    flat = pixel_hash(base_pixels(tj))
    tj.view.locator("button[data-dims='3']").click()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("dims") == 3, "traj_view dims == 3")
    d0 = wait_drawn(tj, dims=3)
    solid = pixel_hash(base_pixels(tj))
    assert solid != flat, "the 3-D drawing is the 2-D one"

    # Drag: yaw follows x, pitch follows y (0.01 rad per px); the drag picks no point.
    canvas = overlay_canvas(tj)
    canvas.scroll_into_view_if_needed()  # the cells run since have scrolled the notebook
    next_frames(tj.page)
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    tj.page.mouse.move(x0, y0)
    tj.page.mouse.down()
    for k in range(1, 13):
        tj.page.mouse.move(x0 + 5 * k, y0 + 2.5 * k)
        tj.page.wait_for_timeout(16)
    tj.page.mouse.up()
    want_yaw = (d0["yaw"] + 0.6 + math.pi) % (2 * math.pi) - math.pi
    v = wait_py_until(
        tj,
        "ex.traj_view",
        lambda v: abs(v.get("yaw", 0) - want_yaw) < 0.03 and abs(v.get("pitch", 0) - (d0["pitch"] + 0.3)) < 0.03,
        f"yaw ≈ {want_yaw:.2f}, pitch ≈ {d0['pitch'] + 0.3:.2f} after the drag",
    )
    assert v["dims"] == 3
    wait_drawn(tj, dims=3, yaw=v["yaw"], pitch=v["pitch"])
    assert pixel_hash(base_pixels(tj)) not in (flat, solid), "rotating did not change the drawing"
    assert py_json(tj, "[ex.sequence, ex.t]") == [0, 0], "the drag picked a point"

    tj.view.locator("button[data-dims='2']").click()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("dims") == 2, "traj_view dims == 2")
    wait_drawn(tj, dims=2)
    assert pixel_hash(base_pixels(tj)) == flat, "the 2-D drawing does not come back"


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"dims": 3, "log1p": True, "yaw": 0.9, "pitch": -0.4},
        {"dims": 3, "color": "group", "yaw": -2.2, "pitch": 0.7},
    ],
    ids=["2d", "3d-log1p", "3d-group"],
)
def test_click_picks_points(tj, view):
    s0 = 2
    reset(tj, sequence=s0, t=0, view=view)
    rows, offsets = traj(tj)
    pts = projected(tj, rows)
    box = overlay_canvas(tj).bounding_box()
    canvas = overlay_canvas(tj)
    cur = range(offsets[s0] + 1, offsets[s0 + 1])
    found = apart_rows(pts, cur, box, min_gap=5)
    assert found, "no point of the current path stands apart"
    row = found[0][0]
    t = row - offsets[s0]
    canvas.click(position=pts[row])
    wait_until(lambda: tj.view.get_attribute("data-t") == str(t), timeout=30, message=f"the view shows t {t}")
    wait_py_until(tj, "ex.t", lambda v: v == t, f"ex.t == {t}")

    # Another path's point, well away from the current path and from every other point.
    cur_all = range(offsets[s0], offsets[s0 + 1])
    other = [r for r in range(len(pts)) if r not in cur_all and min(dist(pts[r], pts[q]) for q in cur_all) > 12]
    found = apart_rows(pts, other, box, min_gap=5)
    assert found, "no other path's point stands apart"
    r1 = found[0][0]
    s1 = max(k for k in range(len(offsets) - 1) if offsets[k] <= r1)
    canvas.click(position=pts[r1])
    wait_py_until(tj, "ex.sequence", lambda v: v == s1, f"ex.sequence == {s1}")


def test_colour_modes(tj):
    reset(tj, sequence=0, t=0)
    time_hash = pixel_hash(base_pixels(tj))
    assert legend(tj) == ([], []), "time mode keeps the time key, no legend"
    select = tj.view.locator("select[aria-label='Colour paths by']")

    select.select_option("class")
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("color") == "class", "traj_view color == 'class'")
    wait_drawn(tj, color="class")
    px = base_pixels(tj)
    assert pixel_hash(px) != time_hash
    names, colours = legend(tj)
    classes = sorted(set(tj.labels))
    assert names == [tj.class_names[c] for c in classes], names
    assert len(set(colours)) == len(classes), colours
    shown = [c for c in colours if colour_pixels(px, c) >= 8]
    assert len(shown) >= len(classes), f"only {len(shown)} of the {len(classes)} class colours are drawn"

    option = tj.view.locator("select[aria-label='Colour paths by'] option[value=group]")
    assert option.inner_text() == GROUP_NAME and option.is_enabled()
    select.select_option("group")
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("color") == "group", "traj_view color == 'group'")
    wait_drawn(tj, color="group")
    gpx = base_pixels(tj)
    assert pixel_hash(gpx) not in (time_hash, pixel_hash(px))
    names, colours = legend(tj)
    assert names == list(dict.fromkeys(tj.groups)) == list(GROUPS), names  # markup shown as text
    assert tj.view.locator(".lw-traj-legend i").count() == 0, "a group name was parsed as HTML"
    assert tj.view.locator(".lw-traj-legend").inner_text().startswith(GROUP_NAME)
    for c in colours:
        assert colour_pixels(gpx, c) >= 8, f"group colour {c} is not drawn"


def test_log1p(tj):
    reset(tj, sequence=0, t=0)
    rows, offsets = traj(tj)
    before = projected(tj, rows)
    h0 = pixel_hash(base_pixels(tj))
    tj.view.locator("input[data-key=log1p]").check()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("log1p") is True, "traj_view log1p is True")
    wait_drawn(tj, log1p=True)
    assert pixel_hash(base_pixels(tj)) != h0
    after = projected(tj, rows)
    moved = max(dist(a, b) for a, b in zip(before, after, strict=True))
    assert moved > 5, f"__lw_project ignores log1p (points moved at most {moved:.1f} px)"
    # The same point is still drawn where __lw_project says: a click there picks it.
    box = overlay_canvas(tj).bounding_box()
    found = apart_rows(after, range(offsets[0] + 1, offsets[1]), box, min_gap=5)
    assert found
    row = found[0][0]
    overlay_canvas(tj).click(position=after[row])
    wait_py_until(tj, "ex.t", lambda v: v == row - offsets[0], f"ex.t == {row - offsets[0]}")
    tj.view.locator("input[data-key=log1p]").uncheck()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("log1p") is False, "traj_view log1p is False")


@pytest.mark.parametrize(
    "view", [{"labels": True}, {"labels": True, "dims": 3, "yaw": 0.5, "pitch": 0.4}], ids=["2d", "3d"]
)
def test_labels_at_path_ends(tj, view):
    reset(tj, sequence=1, t=0, view=view)
    rows, offsets = traj(tj)
    ends = projected(tj, [rows[r] for r in last_rows(offsets)])
    labels = tj.view.locator(".lw-traj-label")
    n = labels.count()
    assert n >= 4, f"only {n} labels at the path ends"  # labels that would overlap one already placed are left out
    canvas_box = base(tj).bounding_box()
    info = labels.evaluate_all(
        "(els) => els.map((e) => { const b = e.getBoundingClientRect(); "
        "return {s: Number(e.dataset.sequence), text: e.textContent, cur: e.classList.contains('lw-current'), "
        "x0: b.left, y0: b.top, x1: b.right, y1: b.bottom}; })"
    )
    assert sum(i["cur"] for i in info) == 1, "the current path's label is missing"
    assert len({i["text"] for i in info}) >= 3, info
    for i in info:
        s = i["s"]
        assert i["text"] == tj.class_names[tj.labels[s]], i
        p = ends[s]
        px, py_ = canvas_box["x"] + p["x"], canvas_box["y"] + p["y"]
        gap = math.hypot(max(i["x0"] - px, 0, px - i["x1"]), max(i["y0"] - py_, 0, py_ - i["y1"]))
        assert gap <= 14, f"the label of sequence {s} is {gap:.0f} px from its last point"
    tj.view.locator("input[data-key=labels]").uncheck()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("labels") is False, "traj_view labels is False")
    wait_drawn(tj, labels=False)
    assert labels.count() == 0
    tj.view.locator("input[data-key=labels]").check()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("labels") is True, "traj_view labels is True")
    wait_until(lambda: labels.count() == n, timeout=30, message="the labels come back")


def test_last_only_scatter(tj):
    reset(tj, sequence=0, t=0, view={"color": "class", "labels": False})
    paths = base_pixels(tj)
    tj.view.locator("input[data-key=last_only]").check()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("last_only") is True, "traj_view last_only is True")
    wait_drawn(tj, last_only=True)
    scatter = base_pixels(tj)
    scale = css_scale(tj, scatter)
    assert (scatter[..., 3] > 0).sum() < 0.5 * (paths[..., 3] > 0).sum(), "the scatter paints as much as the paths"
    rows, offsets = traj(tj)
    pts = projected(tj, rows)
    lasts = last_rows(offsets)
    for s, r in enumerate(lasts):
        assert alpha_at(scatter, pts[r], scale) >= 100, f"sequence {s}'s last point is not drawn"
    # Points that are not last steps (far from every last point, and from the axis titles along the top and bottom
    # edges) are no longer drawn; at most a faint zero axis (grid colour) runs under them.
    H = base(tj).bounding_box()["height"]
    firsts = [
        offsets[s]
        for s in range(tj.n)
        if min(dist(pts[offsets[s]], pts[r]) for r in lasts) > 12 and 16 <= pts[offsets[s]]["y"] <= H - 16
    ]
    assert firsts, "every first step lies next to a last step"
    for r in firsts:
        assert alpha_at(scatter, pts[r], scale) < 60, f"row {r} (a first step) is still drawn"
        assert alpha_at(paths, pts[r], scale) >= 60, f"row {r} (a first step) was not drawn as a path"
    # Clicking a scatter point switches to that sequence.
    box = overlay_canvas(tj).bounding_box()
    found = apart_rows(pts, [lasts[s] for s in range(1, tj.n)], box, min_gap=6, others=lasts)
    assert found, "no last point stands apart"
    r = found[0][0]
    s = lasts.index(r)
    overlay_canvas(tj).click(position=pts[r])
    wait_py_until(tj, "ex.sequence", lambda v: v == s, f"ex.sequence == {s}")
    tj.view.locator("input[data-key=last_only]").uncheck()
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("last_only") is False, "traj_view last_only is False")


def test_overlay_dims_the_rest(tj):
    reset(tj, sequence=0, t=0)
    rows, offsets = traj(tj)
    pts = projected(tj, rows)
    ends = [pts[r] for r in last_rows(offsets)]
    before = base_pixels(tj)
    scale = css_scale(tj, before)
    a = tj.labels[0]
    b = next(c for c in sorted(set(tj.labels)) if c != a)
    tj.view.locator("select[aria-label='Overlay class A']").select_option(str(a))
    assert py_json(tj, "ex.traj_view").get("overlay", []) == [], "one class alone is no overlay"
    tj.view.locator("select[aria-label='Overlay class B']").select_option(str(b))
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("overlay") == [a, b], f"traj_view overlay == [{a}, {b}]")
    wait_drawn(tj, overlay=[a, b])
    after = base_pixels(tj)
    assert pixel_hash(after) != pixel_hash(before)
    names, colours = legend(tj)
    assert names == [tj.class_names[a], tj.class_names[b]] and colours[0] != colours[1], (names, colours)
    assert "others dimmed" in tj.view.locator(".lw-traj-legend").inner_text()

    rest = [s for s in range(1, tj.n) if tj.labels[s] not in (a, b)]
    pair = [s for s in range(1, tj.n) if tj.labels[s] in (a, b)]
    alpha = lambda px, ss: float(np.median([alpha_at(px, ends[s], scale) for s in ss]))  # noqa: E731
    assert alpha(after, rest) < 0.5 * alpha(before, rest), (alpha(before, rest), alpha(after, rest))
    assert alpha(after, pair) >= 0.9 * alpha(before, pair), (alpha(before, pair), alpha(after, pair))
    for c in colours:
        assert colour_pixels(after, c) >= 8, f"overlay colour {c} is not drawn"

    tj.view.locator("select[aria-label='Overlay class A']").select_option("")
    wait_py_until(tj, "ex.traj_view", lambda v: v.get("overlay") == [], "traj_view overlay == []")


def test_projection_choice(tj):
    reset(tj, sequence=0, t=0)
    h_hash = pixel_hash(base_pixels(tj))
    tj.view.evaluate(
        "(v) => { v.__pending = []; new MutationObserver(() => v.__pending.push(v.dataset.pending))"
        ".observe(v, {attributes: true, attributeFilter: ['data-pending']}); }"
    )
    tj.view.locator("select[aria-label='Projected quantity']").select_option("c")
    wait_py_until(tj, "ex.projection_quantity", lambda v: v == "c", "ex.projection_quantity == 'c'")
    wait_py_until(tj, "ex._meta['projection']['quantity']", lambda v: v == "c", "the kernel projected c")
    wait_until(lambda: tj.view.get_attribute("data-pending") == "false", timeout=60, message="projecting… ends")
    assert "true" in tj.view.evaluate("(v) => v.__pending"), "the page never said projecting…"
    assert tj.view.locator(".lw-traj-badge").is_hidden()
    wait_until(lambda: " of c" in tj.view.locator(".lw-sub").inner_text(), timeout=30, message="the subtitle names c")
    assert pixel_hash(base_pixels(tj)) != h_hash, "the new projection draws the same"
    run_code(tj.page, "ex.projection_quantity = 'h'")
    wait_until(
        lambda: (
            tj.view.locator("select[aria-label='Projected quantity']").input_value() == "h"
            and tj.view.get_attribute("data-pending") == "false"
            and " of h" in tj.view.locator(".lw-sub").inner_text()
        ),
        timeout=60,
        message="the page shows the projection of h again",
    )
