"""The explorer's layout and words in a real JupyterLab + Chromium: every view laid out from 600 to 1600 px wide in
the light and the dark theme with nothing running out of its box and no two gate captions over each other; the
captions that say what is shown (the first units when none is selected, the step label, the influence chart's axis,
a zoom button that cannot act); the heatmap's colour scale (``ex.color_scale``, the page's select, the pixels'
contrast); runs of adjacent selected units; 3-D trajectory labels clear of each other; and names of 200 000
characters cut in the page (whole in a tooltip and in Python) without widening it.

The notebook (written here): ``ex``, the bundled Japanese Vowels network on 20 test utterances with units selected
and the "Gates & weights" and "Why" sections open; ``lx``, the same network on a 10-step and a 17-step utterance
whose class, feature and sequence names are each 200 000 characters long.

Selectors (js/src/views/*.js, js/src/style.js):
    CARD        ".lw-card" (every view's box)          ROOT ".lstm-widget"
    GATE HEADS  ".lw-gates .lw-gate-head[data-q] .lw-gate-head-title"
    WEIGHTS     ".lw-w-gate", ".lw-w-head", ".lw-w-unit"; SATURATION ".lw-sat-title"
    HEATMAP     ".lw-heatmap" data-scale, data-selection-runs; select[aria-label="Colour scale"];
                ".lw-scale-caption" ("scale: this sequence, ±4.0"); ".lw-zoom-in" aria-disabled, title
    TLABEL      ".lw-timeline .lw-tlabel"  "t = 18 (0–18)"
    INFLUENCE   ".lw-influence" __lw_influence() -> {per_step_ticks, per_step_axis, ...}
    TRAJECTORY  ".lw-trajectory .lw-traj-label"; __lw_axis_titles() -> [[x0, y0, x1, y1]] in its canvas
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pytest
from playwright.sync_api import Locator, Page

from lab import (
    canvas_pixels,
    first_repaint,
    next_frames,
    py_json,
    run_code,
    set_theme,
    wait_py,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-widget"
WIDTHS = (600, 870, 1100, 1400, 1600)
LONG = 200_000  # characters in each of lx's names
SELECTED = [3, 7, 12, 40]

SETUP = f"""\
import json
import numpy as np
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels, JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES
from lstm_widget.models import japanese_vowels_net

net = japanese_vowels_net()
X_test, y_test = japanese_vowels("test")
X, y = X_test[:20], y_test[:20]
ex = lw.Explorer(
    net, X, labels=y, class_names=JAPANESE_VOWELS_CLASS_NAMES, feature_names=JAPANESE_VOWELS_FEATURE_NAMES,
    sequence_names=[f"utterance {{k}}" for k in range(len(X))], selected_units={SELECTED},
    gate_details=True, why_open=True,
)
N = {LONG}
lx = lw.Explorer(
    net, [X_test[0][:10], X_test[1][:17]], labels=[0, 1],
    class_names=[str(k) + "c" * N for k in range(9)], feature_names=[str(k) + "f" * N for k in range(12)],
    sequence_names=["s" * N, "t" * N],
)
"""

# Every element under the root (not hidden, not a form control's inside or a canvas) whose content is wider than its
# box, and every card or label whose box reaches past the root's: [what, scrollWidth, clientWidth, text, cut], `cut`
# saying that the element shows an ellipsis and it (or a parent) has a title holding a whole long name.
OVERFLOW_JS = """(root) => {
  const out = [];
  const skip = new Set(['STYLE', 'OPTION', 'CANVAS', 'SELECT', 'INPUT', 'BUTTON']);
  const name = (e) => e.tagName.toLowerCase() + '.' + [...e.classList].join('.');
  const right = root.getBoundingClientRect().right;
  for (const e of [root, ...root.querySelectorAll('*')]) {
    if (skip.has(e.tagName) || e.closest('[hidden]') || e.closest('svg') || e.closest('.lw-tooltip')) continue;
    const cs = getComputedStyle(e);
    if (cs.display === 'none' || cs.overflowY === 'auto') continue;  // a list that scrolls on purpose
    const text = (e.textContent || '').slice(0, 60);
    const cut = cs.textOverflow === 'ellipsis' && cs.overflowX === 'hidden'
      && (e.closest('[title]')?.title.length || 0) > 1000;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
      out.push([name(e), e.scrollWidth, e.clientWidth, text, cut]);
    const box = e.getBoundingClientRect();
    if (box.width > 0 && box.right > right + 1) out.push([name(e) + ' (past the root)', box.right, right, text, false]);
  }
  return out;
}"""

# Pairs of boxes of one group that overlap (by more than half a pixel each way): [group, a's text, b's text].
OVERLAP_JS = """(root, groups) => {
  const out = [];
  for (const sel of groups) {
    const boxes = [...root.querySelectorAll(sel)].filter((e) => !e.closest('[hidden]'))
      .map((e) => [e.getBoundingClientRect(), e.textContent]).filter(([b, t]) => b.width > 0 && t);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, ta] = boxes[i], [b, tb] = boxes[j];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5) out.push([sel, ta, tb]);
      }
  }
  return out;
}"""
CAPTION_GROUPS = [
    ".lw-gates .lw-gate-head-title",
    ".lw-gates .lw-gate-head-name",
    ".lw-weights .lw-w-gate",
    ".lw-weights .lw-w-head",
    ".lw-weights .lw-w-unit",
    ".lw-saturation .lw-sat-title",
]


@dataclass
class Nb:
    page: Page
    ex: Locator
    lx: Locator


@pytest.fixture(scope="module")
def nb(new_page, jupyter_server):
    """The notebook written, opened and run once for the module; the page is wide enough for a 1600 px explorer."""
    roots = {}

    def ready(page, _first):
        for name, n in (("ex", 20), ("lx", 2)):
            # found by what it shows (its picker's "k of n"): JupyterLab takes cells far out of view out of the page
            # and may render an output again, so "the second .lstm-widget" is not always the same explorer
            count = page.locator(".lw-seq-count", has_text=re.compile(rf" of {n}$"))
            root = page.locator(ROOT).filter(has=count)
            root.scroll_into_view_if_needed()
            first_repaint(root)
            roots[name] = root

    page, _ = widget_notebook(new_page, jupyter_server, "layout", [SETUP, "ex", "lx"], ready=ready, selector=ROOT)
    page.set_viewport_size({"width": 1900, "height": 1000})
    yield Nb(page, roots["ex"], roots["lx"])
    new_page.close(page)


def set_width(root: Locator, width: int) -> None:
    """Lay the explorer out `width` px wide (the host's width is what the explorer follows) and let it repaint."""
    root.scroll_into_view_if_needed()  # JupyterLab leaves cells out of view unrendered
    frames = int(root.get_attribute("data-frames") or 0)
    root.evaluate("(el, w) => { el.style.width = `${w}px`; el.style.maxWidth = 'none'; }", width)
    wait_until(
        lambda: abs(root.evaluate("(el) => el.getBoundingClientRect().width") - width) < 1,
        timeout=10,
        message=f"the explorer is {width} px wide",
    )
    wait_until(lambda: int(root.get_attribute("data-frames") or 0) > frames, timeout=10, message="a repaint")
    next_frames(root.page, 3)


def problems(root: Locator) -> list:
    """Elements wider than their boxes or past the root, and captions over each other."""
    return root.evaluate(OVERFLOW_JS) + root.evaluate(OVERLAP_JS, CAPTION_GROUPS)


def settled_problems(root: Locator) -> list:
    """The layout's problems once it has settled (images, fonts and the kernel's data can land a frame late)."""
    seen = []

    def none():
        seen.append(problems(root))
        return not seen[-1]

    try:
        wait_until(none, timeout=8, interval=0.4)
    except AssertionError:
        pass
    return seen[-1]


# --------------------------------------------------------------------------------------------------------------------
# 1. Every view from 600 to 1600 px, light and dark: nothing wider than its box, no captions over each other.


def test_every_view_fits_from_600_to_1600_px_in_both_themes(nb):
    root = nb.ex
    # the sections the brief names are open, their data in (weights, influence map)
    wait_until(
        lambda: root.locator(".lw-weights").evaluate("(el) => !!el.__lw_geometry()"), timeout=120, message="weights"
    )
    wait_until(
        lambda: root.locator(".lw-influence").evaluate("(el) => !!el.__lw_influence()"),
        timeout=180,
        message="the influence map",
    )
    assert root.locator(".lw-gate-details-body").is_visible() and root.locator(".lw-why-body").is_visible()
    failures = {}
    try:
        for theme in ("light", "dark"):
            set_theme(nb.page, theme)
            for width in WIDTHS:
                set_width(root, width)
                got = settled_problems(root)
                heads = root.locator(".lw-gates .lw-gate-head-title").all_text_contents()
                assert len(heads) == 5 and all(heads[:4]), f"{theme} {width}: gate captions {heads}"
                if got:
                    failures[f"{theme} {width}px"] = got[:12]
    finally:
        set_theme(nb.page, "light")
        root.evaluate("(el) => { el.style.width = ''; }")
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)


# --------------------------------------------------------------------------------------------------------------------
# 2. Words: what is shown when no unit is selected, the step label, the influence chart, the zoom button.


def test_captions_say_what_is_shown(nb):
    root = nb.ex
    run_code(nb.page, "ex.selected_units = []\nex.sequence = 0\nex.t = len(ex.recording) - 1")
    T = py_json(nb, "len(ex.recording)")
    sub = root.locator(".lw-traces .lw-sub")
    wait_until(lambda: "first 5 units — select units to choose" in sub.text_content(), timeout=30, message="traces")
    assert "first 6 units — select units to choose" in root.locator(".lw-gates .lw-sub").text_content()
    label = root.locator(".lw-timeline .lw-tlabel")
    wait_until(lambda: label.text_content() == f"t = {T - 1} (0–{T - 1})", timeout=30, message="the step label")
    assert root.locator(".lw-probs .lw-sub").text_content() == "9 classes"

    # the influence chart under the map: round y ticks, an x axis named by what it shows
    influence = root.locator(".lw-influence")
    shown = wait_until(
        lambda: (d := influence.evaluate("(el) => el.__lw_influence()")) and d["t"] == T - 1 and d, timeout=120
    )
    assert shown["per_step_axis"] == "step"
    ticks = shown["per_step_ticks"]
    assert ticks[len(ticks) // 2] == 0 and ticks == [-v for v in reversed(ticks)], ticks
    top = max(abs(v) for v in shown["per_lag_abs"])
    for v in ticks[len(ticks) // 2 + 1 :]:
        mantissa = v / 10 ** np.floor(np.log10(v))
        assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5)) < 1e-9, f"tick {v} is not round"
        assert v <= top * 1.0001, (v, top)

    # "+" on a 10-step sequence cannot zoom: dimmed, and its title says why; a click changes nothing
    lx = nb.lx
    lx.scroll_into_view_if_needed()
    run_code(nb.page, "lx.sequence = 0")
    zoom = lx.locator(".lw-heatmap .lw-zoom-in")
    wait_until(lambda: zoom.get_attribute("aria-disabled") == "true", timeout=30, message="+ disabled")
    assert zoom.get_attribute("title") == "Nothing to zoom: this sequence has 10 steps, every one shown"
    window = lx.locator(".lw-heatmap").get_attribute("data-window")
    zoom.click(force=True)  # (Playwright would wait for an aria-disabled button to be enabled)
    next_frames(nb.page, 3)
    assert lx.locator(".lw-heatmap").get_attribute("data-window") == window == "0,10"
    # on a longer sequence (ex: 19+ steps) it zooms
    root.scroll_into_view_if_needed()
    ex_zoom = root.locator(".lw-heatmap .lw-zoom-in")
    assert ex_zoom.get_attribute("aria-disabled") == "false"
    assert root.locator(".lw-heatmap .lw-zoom-out").get_attribute("aria-disabled") == "true"


# --------------------------------------------------------------------------------------------------------------------
# 3. The colour scale: Python and the page's select, the legend's words, the pixels' contrast.


def heatmap_contrast(root: Locator) -> float:
    """The spread (standard deviation) of the heatmap's lightness over its data rectangle (CSS px 48.. W-12, 4.. H-18,
    at the canvas' pixel ratio)."""
    px = canvas_pixels(root.locator(".lw-heatmap canvas.lw-base")).astype(float)
    H, W = px.shape[:2]
    ratio = W / root.locator(".lw-heatmap canvas.lw-base").bounding_box()["width"]
    cells = px[int(6 * ratio) : int(H - 20 * ratio), int(50 * ratio) : int(W - 14 * ratio), :3]
    return float((0.2126 * cells[..., 0] + 0.7152 * cells[..., 1] + 0.0722 * cells[..., 2]).std())


def test_color_scale_from_the_page_and_python(nb):
    root = nb.ex
    root.scroll_into_view_if_needed()
    # the sequence whose |c| is smallest next to the global range: washed out under the global scale
    info = json.loads(
        run_code(
            nb.page,
            "peaks = [float(np.abs(r.c[0]).max()) for r in ex.recordings]\n"
            "s = int(np.argmin(peaks))\n"
            "ex.sequence = s\nex.t = 0\nex.quantity = 'c'\nex.selected_units = []\n"
            "print(json.dumps({'seq': peaks[s], 'all': max(peaks), 'default': ex.color_scale}))",
        )
    )
    assert info["all"] > 1.5 * info["seq"], info
    assert info["default"] == "auto"
    heatmap = root.locator(".lw-heatmap")
    select = heatmap.locator('select[aria-label="Colour scale"]')
    caption = heatmap.locator(".lw-scale-caption")

    def shown_range(text: str, words: str) -> float:
        m = re.fullmatch(rf"scale: {words}, ±(\S+)", text)
        assert m, text
        return float(m.group(1))

    # auto: c is scaled to the sequence shown
    wait_until(lambda: heatmap.get_attribute("data-scale") == "sequence", timeout=60, message="auto = sequence for c")
    assert select.input_value() == "auto"
    assert abs(shown_range(caption.text_content(), "this sequence") - info["seq"]) <= 0.051 * max(1, info["seq"])

    select.select_option("global")
    wait_py(nb, "ex.color_scale", "global")
    wait_until(lambda: heatmap.get_attribute("data-scale") == "global", timeout=30, message="global")
    assert abs(shown_range(caption.text_content(), "all sequences") - info["all"]) <= 0.051 * max(1, info["all"])
    next_frames(nb.page, 3)
    washed = heatmap_contrast(root)

    select.select_option("sequence")
    wait_py(nb, "ex.color_scale", "sequence")
    wait_until(lambda: heatmap.get_attribute("data-scale") == "sequence", timeout=30, message="sequence")
    next_frames(nb.page, 3)
    vivid = heatmap_contrast(root)
    assert vivid > 1.3 * washed, f"contrast per sequence {vivid:.1f} vs global {washed:.1f}"

    # per unit, from Python: the page's select follows, the bar reads ∓max
    run_code(nb.page, "ex.color_scale = 'unit'")
    wait_until(lambda: heatmap.get_attribute("data-scale") == "unit", timeout=30, message="unit")
    assert select.input_value() == "unit"
    assert heatmap.locator(".lw-cb-label").all_text_contents() == ["−max", "0", "+max"]
    assert caption.text_content() == "scale: per unit, ±1 = the unit's max |value|"
    # h under auto: one range over every sequence (tanh bounds it)
    run_code(nb.page, "ex.color_scale = 'auto'\nex.quantity = 'h'")
    wait_until(lambda: heatmap.get_attribute("data-scale") == "global", timeout=30, message="auto = global for h")

    # ten adjacent selected units: one bracket and one label, not ten stacked bands
    run_code(nb.page, "ex.selected_units = list(range(10, 20)) + [40]")
    wait_until(lambda: heatmap.get_attribute("data-selection-runs") == "10–19;40", timeout=30, message="one run of ten")
    run_code(nb.page, f"ex.selected_units = {SELECTED}\nex.quantity = 'h'\nex.sequence = 0")


# --------------------------------------------------------------------------------------------------------------------
# 4. 3-D trajectory labels: none over another, none over an axis title.


def test_3d_trajectory_labels_do_not_overlap(nb):
    root = nb.ex
    run_code(nb.page, "ex.traj_view = {'dims': 3, 'labels': True, 'yaw': 0.6, 'pitch': 0.4}")
    traj = root.locator(".lw-trajectory")
    traj.scroll_into_view_if_needed()
    wait_until(lambda: traj.get_attribute("data-dims") == "3", timeout=30, message="3-D")
    next_frames(nb.page, 3)
    boxes = traj.evaluate(
        """(el) => {
          const c = el.querySelector('canvas.lw-base').getBoundingClientRect();
          const axes = el.__lw_axis_titles().map(([x0, y0, x1, y1]) => ({x0: c.left + x0, y0: c.top + y0,
            x1: c.left + x1, y1: c.top + y1, text: 'axis', current: false}));
          const labels = [...el.querySelectorAll('.lw-traj-label')].map((n) => {
            const b = n.getBoundingClientRect();
            return {x0: b.left, y0: b.top, x1: b.right, y1: b.bottom, text: n.textContent,
                    current: n.classList.contains('lw-current')};
          });
          return {axes, labels};
        }"""
    )
    assert len(boxes["labels"]) >= 2 and len(boxes["axes"]) >= 2, boxes
    every = boxes["axes"] + boxes["labels"]
    for i, a in enumerate(every):
        for b in every[i + 1 :]:
            if a["current"] or b["current"]:
                continue  # the current path's label always shows
            w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            assert not (w > 1 and h > 1), f"{a} overlaps {b}"
    run_code(nb.page, "ex.traj_view = {}")


# --------------------------------------------------------------------------------------------------------------------
# 5. Names of 200 000 characters: cut in the page, whole in a tooltip and in Python; the page no wider.


def test_long_names_are_cut_with_the_whole_name_in_a_tooltip(nb):
    lx = nb.lx
    lx.scroll_into_view_if_needed()
    # (the page as first drawn: sequence 0 at t = 0)
    wait_until(lambda: lx.locator(".lw-probs .lw-pred-class").get_attribute("title"), timeout=60, message="lx drawn")
    # what runs past its box is a long name cut with an ellipsis, the whole name in its title; nothing else
    left = [p for p in settled_problems(lx) if not (len(p) == 5 and p[4])]
    assert left == [], left
    width = lx.evaluate("(el) => [el.scrollWidth, el.clientWidth, document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1] + 1 and width[2] <= width[3] + 1, width
    whole = py_json(
        nb, "[len(n) for n in lx._meta['class_names'] + lx._meta['feature_names'] + lx._meta['sequence_names']]"
    )
    assert len(whole) == 9 + 12 + 2 and all(n >= LONG for n in whole), "Python holds every name whole"

    pred = lx.locator(".lw-probs .lw-pred-class")
    text, title = pred.text_content(), pred.get_attribute("title")
    assert len(text) <= 80 and text.endswith("…") and len(title) == LONG + 1 and title.startswith(text[:-1]), text
    truth = lx.locator(".lw-probs .lw-pred-truth")
    assert len(truth.text_content()) <= 80 and truth.get_attribute("title").endswith("c" * 1000)
    for legend in (".lw-probs", ".lw-inputs"):
        item = lx.locator(f"{legend} .lw-legend-item").first
        name = item.locator(".lw-legend-name").text_content()
        assert len(name) <= 80 and name.endswith("…"), name
        assert len(item.get_attribute("title")) == LONG + 1
    option = lx.locator(".lw-picker option").nth(1)
    assert len(option.text_content()) <= 80 and len(option.get_attribute("title")) > LONG
    labels = lx.locator(".lw-trajectory .lw-traj-label").all_text_contents()
    assert labels and all(len(t) <= 40 for t in labels), labels
