"""The HTML that ``jupyter nbconvert --execute --to html`` writes for every notebook under notebooks/, opened from
file:// in Chromium with no network: its lstm_widget widgets come back from the saved widget state and the
explorers scrub.

That page loads require.js, the ipywidgets HTML manager (``embed-amd.js``) and every widget module's front end from
CDNs (cdnjs, unpkg, jsDelivr). Here each CDN URL is answered from a local copy instead: require.js and
``@jupyter-widgets/html-manager`` from npm (tests/ui/cdn/package.json; tests/run.sh runs ``npm ci`` there), and
anywidget's, bqplot's and bqscales' AMD front ends from their Python packages (``share/jupyter/nbextensions/<name>/
index.js``, the same versions as the kernel side). Every other request is aborted; MathJax is the only CDN file left
unanswered (the notebooks need no maths to show widgets). Asserts, per notebook: as many explorers and channel grids
render as the cells display, each explorer's heatmap has real pixels and ``End`` / ``Home`` / ``ArrowRight`` on its
root move every view's ``data-t`` (no kernel: the saved state is all there is), each channel grid paints its canvases,
and no CDN request other than MathJax went unanswered.

The conversion is the session fixture ``nbconvert_html`` (tests/conftest.py), shared with tests/widget/test_nbconvert.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lab import VIEW_TS_JS, canvas_pixels, distinct_colors, largest_canvas, wait_painted, wait_until

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted((HERE.parents[1] / "notebooks").glob("*.ipynb"))
NODE_MODULES = HERE / "cdn" / "node_modules"
HTML_MANAGER_DIST = NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist"
REQUIREJS = NODE_MODULES / "requirejs" / "require.js"
NPM_CDN = r"https://(?:unpkg\.com|cdn\.jsdelivr\.net/npm)"
IGNORED = re.compile(r"^https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/")  # not needed for widgets

STATE_RE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)
VIEW_RE = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.S)


def _nbextension(name: str) -> Path | None:
    """A widget package's AMD front end: its data files (share/jupyter/nbextensions/<name>/index.js), else the copy
    inside the Python package (<package>/nbextension/index.js, as anywidget ships it)."""
    import importlib.util

    from jupyter_core.paths import jupyter_path

    for d in jupyter_path("nbextensions"):
        p = Path(d) / name / "index.js"
        if p.is_file():
            return p
    spec = importlib.util.find_spec(name) if name.isidentifier() else None
    if spec is not None and spec.submodule_search_locations:
        p = Path(next(iter(spec.submodule_search_locations))) / "nbextension" / "index.js"
        if p.is_file():
            return p
    return None


def local_copy(url: str) -> Path | None:
    """The local file that answers a CDN request of nbconvert's page, or None."""
    if re.match(r"^https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^/]+/require(\.min)?\.js$", url):
        return REQUIREJS
    m = re.match(rf"^{NPM_CDN}/@jupyter-widgets/html-manager@[^/]*/dist/([\w.-]+)$", url)
    if m:
        return HTML_MANAGER_DIST / m.group(1)
    m = re.match(rf"^{NPM_CDN}/((?:@[^/]+/)?[^@/]+)@[^/]*/dist/index\.js$", url)
    if m:
        return _nbextension(m.group(1))
    m = re.match(r"^file://.*/([0-9a-f]{20}\.(?:woff2?|ttf|eot|svg))$", url)  # the HTML manager's icon font
    if m:
        return HTML_MANAGER_DIST / m.group(1)
    return None


def saved_widgets(html: Path) -> list[dict]:
    """The saved state of every widget the cells display, in page order."""
    text = html.read_text(encoding="utf-8")
    found = STATE_RE.findall(text)
    if not found:
        return []
    state = json.loads(found[0])["state"]
    return [state[json.loads(v)["model_id"]]["state"] for v in VIEW_RE.findall(text)]


def _class(state: dict) -> str:
    return str(state.get("_anywidget_id", ""))


@pytest.fixture(scope="module", autouse=True)
def cdn_copies():
    missing = [p for p in (REQUIREJS, HTML_MANAGER_DIST / "embed-amd.js") if not p.is_file()]
    if missing:
        pytest.skip(f"no local CDN copies ({missing[0]}): run `npm ci` in tests/ui/cdn (tests/run.sh does)")
    if _nbextension("anywidget") is None:
        pytest.skip("anywidget's AMD front end (share/jupyter/nbextensions/anywidget/index.js) is not installed")


def open_offline(page, html: Path) -> tuple[list, list]:
    """Open the page with every request answered locally or aborted; returns (served, unanswered) URLs."""
    served, unanswered = [], []
    target = html.as_uri()

    def route(r):
        url = r.request.url
        if url == target:
            return r.continue_()
        path = local_copy(url)
        if path is not None and path.is_file():
            served.append(url)
            kind = "application/javascript" if path.suffix == ".js" else None
            return r.fulfill(path=str(path), **({"content_type": kind} if kind else {}))
        unanswered.append(url)
        return r.abort()

    page.context.route("**/*", route)
    page.goto(target, wait_until="load", timeout=120_000)
    return served, unanswered


def _check_explorer_keys(root, i: int, saved: dict, last: int) -> None:
    """Explorer ``i`` of the page opens at its saved t, and End / Home / → move every view."""

    def views():
        return root.evaluate(VIEW_TS_JS)

    wait_until(lambda: set(views().values()) == {str(saved["t"])}, timeout=30,
               message=lambda: f"explorer {i} opens at the saved t = {saved['t']} ({views()})")  # fmt: skip
    assert {"lw-timeline", "lw-heatmap"} <= set(views()), views()
    root.focus()
    for key, want in [("End", last), ("Home", 0), ("ArrowRight", 1)]:
        root.press(key)
        wait_until(lambda want=want: set(views().values()) == {str(want)}, timeout=30,
                   message=lambda want=want, key=key: f"explorer {i}: every view at t = {want} after {key} ({views()})")  # fmt: skip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbconvert_page_renders_and_scrubs(page, path, nbconvert_html):
    html = nbconvert_html(path)
    widgets = saved_widgets(html)
    explorers = [w for w in widgets if _class(w).startswith("lstm_widget.") and _class(w).endswith(".Explorer")]
    grids = [w for w in widgets if _class(w).startswith("lstm_widget.") and _class(w).endswith(".ChannelGrid")]
    if not explorers and not grids:
        pytest.skip(f"{path.name} shows no lstm_widget widget")
    served, unanswered = open_offline(page, html)

    roots = page.locator(".lstm-widget")
    wait_until(lambda: roots.count() == len(explorers) and page.locator(".lstm-widget .lw-heatmap[data-t]").count()
               == len(explorers), timeout=120, message=lambda: f"{len(explorers)} explorers render "
               f"(found {roots.count()}; served {served}; unanswered {unanswered})")  # fmt: skip
    for i, saved in enumerate(explorers):
        root = roots.nth(i)
        root.scroll_into_view_if_needed()
        heatmap = largest_canvas(root.locator(".lw-heatmap"))
        wait_painted(heatmap)
        last = saved["_meta"]["lengths"][saved["sequence"]] - 1
        _check_explorer_keys(root, i, saved, last)

    grid_roots = page.locator(".lstm-channels")
    wait_until(lambda: grid_roots.count() == len(grids), timeout=60,
               message=lambda: f"{len(grids)} channel grids render (found {grid_roots.count()})")  # fmt: skip
    for i in range(len(grids)):
        root = grid_roots.nth(i)
        root.scroll_into_view_if_needed()
        wait_until(lambda root=root: root.locator("canvas").count() > 0
                   and distinct_colors(canvas_pixels(largest_canvas(root))) > 4, timeout=60,
                   message=f"channel grid {i} paints its canvases")  # fmt: skip

    cdn_misses = [u for u in unanswered if u.startswith("http") and not IGNORED.match(u)]
    assert not cdn_misses, f"CDN requests with no local copy: {cdn_misses}"
    assert any("html-manager" in u for u in served) and any("/anywidget@" in u for u in served), served
