"""Helpers that drive a real JupyterLab (4.x) in Chromium for the end-to-end tests.

JupyterLab is started with ``--LabApp.expose_app_in_browser=True`` (see ``conftest.py``), so the page has
``window.jupyterapp``. The helpers drive JupyterLab through its own command registry -- the same commands that its
menus, palette and shortcuts call -- and wait on explicit conditions read from its models (kernel status, execution
counts, promises of the commands), never on fixed sleeps; the only sleeps are the short polling intervals of
Playwright's ``wait_for_function`` and of ``wait_until``.

    name = copy_notebook(server, "notebooks/demo.ipynb")
    open_notebook(page, server, name)
    run_all_cells(page)
    root = wait_for_widget(page)                 # the .lstm-widget locator
    run_code(page, "ex.t = 7")                   # appended as a new last cell, run, text output returned
    h = start_code(page, "ex.stream(x)")         # the same without waiting: watch the page meanwhile ...
    wait_code(page, h)                           # ... then wait for it (code_done(page, h) polls)
    assert run_code(page, "print(ex.t)") == "7"
    px = canvas_pixels(root.locator("canvas").first)  # (H, W, 4) uint8 RGBA, read with getImageData
"""

from __future__ import annotations

import base64
import re
import shutil
import struct
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, TypeVar

import numpy as np
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

T = TypeVar("T")

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"  # git-ignored

# Generous defaults: the machines are small and shared (kernel start + first render can take a minute).
OPEN_TIMEOUT_MS = 180_000
KERNEL_TIMEOUT_MS = 180_000
RUN_ALL_TIMEOUT_MS = 300_000
RUN_CODE_TIMEOUT_MS = 120_000
WIDGET_TIMEOUT_MS = 180_000
POLL_MS = 100

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}

# {view class: data-t} for every view (class "lw-*" with a data-t attribute) inside the root.
VIEW_TS_JS = """(root) => {
  const out = {};
  root.querySelectorAll('[data-t]').forEach((el, i) => {
    const cls = [...el.classList].find((c) => c.startsWith('lw-'));
    if (cls) out[out[cls] === undefined ? cls : `${cls}#${i}`] = el.getAttribute('data-t');
  });
  return out;
}"""

# page -> console lines (errors, warnings, uncaught exceptions); attached to failing tests by conftest.py.
CONSOLE: dict = {}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookError(AssertionError):
    """A cell raised in the kernel (the message carries the traceback, without ANSI colours)."""


def watch_console(page: Page) -> list[str]:
    lines = CONSOLE.setdefault(page, [])

    def on_console(msg):
        if msg.type in ("error", "warning", "assert"):
            lines.append(f"[{msg.type}] {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: lines.append(f"[pageerror] {exc}"))
    page.on("crash", lambda *_: lines.append("[crash] the page crashed"))
    return lines


# --------------------------------------------------------------------------------------------------------------------
# Files


def copy_notebook(server, src_path, name: str | None = None) -> str:
    """Copy a notebook into the server's root directory; returns its name there (relative path, for URLs)."""
    src = Path(src_path)
    if not src.is_file():
        raise FileNotFoundError(f"no notebook at {src.resolve()}")
    name = name or src.name
    shutil.copyfile(src, Path(server.root_dir) / name)
    return name


def write_notebook(server, nb, name: str) -> str:
    """Write an ``nbformat`` notebook node into the server's root directory; returns its name."""
    import nbformat

    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    nbformat.write(nb, str(Path(server.root_dir) / name))
    return name


# --------------------------------------------------------------------------------------------------------------------
# JupyterLab

# Installed on window.__lwh once the app exists (again after every navigation).
_HELPERS_JS = r"""
() => {
  if (window.__lwh) return true;
  const app = window.jupyterapp;
  if (!app || !app.shell) return false;
  const isNotebook = (w) => !!(w && w.content && w.sessionContext && w.context && w.content.model
                               && w.content.model.cells !== undefined);
  const h = {
    current: null, seq: 0, runs: {},
    panel(path) {
      path = path || h.current;
      for (const w of app.shell.widgets('main')) {
        if (isNotebook(w) && (!path || w.context.path === path)) return w;
      }
      return null;
    },
    kernel(path) {
      const p = h.panel(path);
      const sc = p && p.sessionContext;
      const k = sc && sc.session && sc.session.kernel;
      return {
        panel: !!p, ready: !!(p && p.context.isReady && sc.isReady),
        status: k ? k.status : null, connection: k ? k.connectionStatus : null,
        name: k ? k.name : null, restarting: !!(sc && sc.isRestarting),
        dialog: !!document.querySelector('.jp-Dialog'),
      };
    },
    idle(path) {
      const s = h.kernel(path);
      return s.ready && s.status === 'idle' && s.connection === 'connected' && !s.restarting;
    },
    // Start a command, remember its promise; poll h.runs[id].done.
    start(command, args) {
      const id = ++h.seq;
      const r = h.runs[id] = {done: false, value: null, error: null};
      Promise.resolve().then(() => app.commands.execute(command, args || {}))
        .then((v) => { r.value = (v === undefined ? null : v); r.done = true; },
              (e) => { r.error = String(e && e.stack || e); r.done = true; });
      return id;
    },
    activate(path) {
      const p = h.panel(path);
      if (!p) throw new Error('no notebook panel for ' + (path || h.current));
      app.shell.activateById(p.id);
      return p;
    },
    cellInfo(p, i) {
      const m = p.content.model.cells.get(i);
      const out = {id: m.id, type: m.type, source: m.sharedModel.getSource(),
                   count: null, state: null, outputs: []};
      if (m.type === 'code') {
        out.count = m.executionCount;
        out.state = m.executionState === undefined ? null : m.executionState;
        out.outputs = m.outputs.toJSON();
      }
      return out;
    },
    cells(path) {
      const p = h.panel(path);
      const n = p.content.model.cells.length;
      const all = [];
      for (let i = 0; i < n; i++) all.push(h.cellInfo(p, i));
      return all;
    },
    cellIndex(p, id) {
      const cells = p.content.model.cells;
      for (let i = 0; i < cells.length; i++) if (cells.get(i).id === id) return i;
      return -1;
    },
  };
  window.__lwh = h;
  return true;
}
"""


def _helpers(page: Page, timeout: float = OPEN_TIMEOUT_MS) -> None:
    page.wait_for_function(_HELPERS_JS, timeout=timeout, polling=POLL_MS)


def kernel_status(page: Page, path: str | None = None) -> dict:
    """``{panel, ready, status, connection, name, restarting, dialog}`` of the notebook's kernel."""
    _helpers(page)
    return page.evaluate("(path) => window.__lwh.kernel(path)", path)


def kernel_idle(page: Page, path: str | None = None) -> bool:
    """True when the notebook's session is ready and its kernel is connected and idle."""
    _helpers(page)
    return bool(page.evaluate("(path) => window.__lwh.idle(path)", path))


def wait_kernel_idle(page: Page, timeout: float = KERNEL_TIMEOUT_MS, path: str | None = None) -> None:
    """Wait until the notebook's kernel is idle; fails at once if it died."""
    _helpers(page)
    try:
        page.wait_for_function(
            "(path) => window.__lwh.idle(path) || window.__lwh.kernel(path).status === 'dead'",
            arg=path, timeout=timeout, polling=POLL_MS,
        )  # fmt: skip
    except PlaywrightTimeoutError:
        raise AssertionError(f"kernel not idle after {timeout / 1000:.0f}s: {kernel_status(page, path)}") from None
    status = kernel_status(page, path)
    if status["status"] == "dead":
        raise AssertionError(f"the kernel died: {status}")


def open_notebook(
    page: Page, server, name: str, timeout: float = OPEN_TIMEOUT_MS, collapse_sidebars: bool = True
) -> None:
    """Open ``name`` (relative to the server root) in a fresh JupyterLab workspace; wait for its panel and an idle
    kernel. The notebook must name a kernelspec (``python3``) so that no kernel-picker dialog appears. The side
    panels are collapsed (more width for widgets) unless ``collapse_sidebars`` is False.

    A Notebook 7 server (``server.app == "notebook"``, see ``server.start_server``) opens it at ``notebooks/<name>``
    instead -- one document per page, the same ``window.jupyterapp`` API -- and every helper here works the same."""
    if getattr(server, "app", "lab") == "notebook":
        url = f"notebooks/{name}"
    else:
        workspace = "lw-" + uuid.uuid4().hex[:10]  # fresh layout: nothing restored from earlier tests
        url = f"lab/workspaces/{workspace}/tree/{name}"
    page.goto(server.lab_url(url), wait_until="domcontentloaded")
    _helpers(page, timeout)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    page.wait_for_function("(path) => !!window.__lwh.panel(path)", arg=name, timeout=timeout, polling=POLL_MS)
    page.evaluate("(path) => { window.__lwh.current = path; window.__lwh.activate(path); }", name)
    if collapse_sidebars:
        page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }")
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible", timeout=timeout)
    wait_kernel_idle(page, timeout, name)


def _wait_run(page: Page, run_id: int, timeout: float, what: str):
    try:
        page.wait_for_function("(id) => window.__lwh.runs[id].done", arg=run_id, timeout=timeout, polling=POLL_MS)
    except PlaywrightTimeoutError:
        raise AssertionError(f"{what} did not finish in {timeout / 1000:.0f}s; kernel: {kernel_status(page)}") from None
    r = page.evaluate("(id) => { const r = window.__lwh.runs[id]; delete window.__lwh.runs[id]; return r; }", run_id)
    if r["error"]:
        raise AssertionError(f"{what} failed in the page: {r['error']}")
    return r["value"]


def _error_text(out: dict) -> str:
    tb = out.get("traceback") or [f"{out.get('ename')}: {out.get('evalue')}"]
    return _ANSI.sub("", "\n".join(tb))


def _raise_cell_errors(cells: list[dict], what: str) -> None:
    errors = []
    for i, c in enumerate(cells):
        for out in c["outputs"]:
            if out.get("output_type") == "error":
                errors.append(f"--- cell {i} ---\n{c['source'][:500]}\n--- raised ---\n{_error_text(out)}")
    if errors:
        raise NotebookError(f"{what}: a cell raised\n" + "\n".join(errors))


def run_all_cells(page: Page, timeout: float = RUN_ALL_TIMEOUT_MS, via: str = "command") -> list[dict]:
    """Run every cell of the current notebook and wait until all executions have finished and the kernel is idle.

    ``via="command"`` runs JupyterLab's ``notebook:run-all-cells`` command (what *Run → Run All Cells* calls) and
    waits on its promise; ``via="menu"`` clicks *Run → Run All Cells* in the menu bar (outputs are cleared first, so
    that completion can be read from the cells' execution counts). Raises ``NotebookError`` with the traceback if a cell
    raised. Returns the cells (``{id, type, source, count, state, outputs}``).
    """
    _helpers(page)
    wait_kernel_idle(page)
    page.evaluate("() => window.__lwh.activate()")
    if via == "command":
        run_id = page.evaluate("() => window.__lwh.start('notebook:run-all-cells')")
        _wait_run(page, run_id, timeout, "Run All Cells")
    elif via == "menu":
        clear = page.evaluate("() => window.__lwh.start('notebook:clear-all-cell-outputs')")
        _wait_run(page, clear, 30_000, "Clear All Outputs")
        page.locator("#jp-menu-panel .lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-item:visible", has_text=re.compile(r"^Run All Cells")).first.click()
        done = """() => {
          const cells = window.__lwh.cells().filter((c) => c.type === 'code' && c.source.trim());
          if (cells.some((c) => c.state === 'running')) return false;
          const failed = cells.findIndex((c) => c.outputs.some((o) => o.output_type === 'error'));
          const needed = failed >= 0 ? cells.slice(0, failed + 1) : cells;
          return needed.every((c) => c.count !== null);
        }"""
        try:
            page.wait_for_function(done, timeout=timeout, polling=250)
        except PlaywrightTimeoutError:
            raise AssertionError(f"Run All Cells did not finish in {timeout / 1000:.0f}s") from None
    else:
        raise ValueError(f"via must be 'command' or 'menu', not {via!r}")
    wait_kernel_idle(page)
    cells = page.evaluate("() => window.__lwh.cells()")
    _raise_cell_errors(cells, "Run All Cells")
    skipped = [i for i, c in enumerate(cells) if c["type"] == "code" and c["source"].strip() and c["count"] is None]
    if skipped:
        raise NotebookError(f"Run All Cells: cells {skipped} were not executed (kernel: {kernel_status(page)})")
    return cells


def run_code(
    page: Page, code: str, timeout: float = RUN_CODE_TIMEOUT_MS, raise_errors: bool = True, keep_focus: bool = True
) -> str:
    """Append a code cell with ``code`` at the end of the current notebook, run it, wait for the kernel to be idle,
    and return its text output (stdout + ``text/plain`` of results, stripped). Raises ``NotebookError`` if it raised.

    Running a cell moves the focus to it; with ``keep_focus`` the element that had the focus before (a widget's
    root, its slider, ...) gets it back afterwards, so keyboard tests can go on where they were.
    """
    return wait_code(page, start_code(page, code), timeout, raise_errors, keep_focus)


def start_code(page: Page, code: str, wait_idle: bool = True) -> dict:
    """Like :func:`run_code`, but returns as soon as the cell is submitted (first waiting for an idle kernel unless
    ``wait_idle`` is False: then the cell queues behind the running one), so that the test can watch the page while
    the cell runs; finish with :func:`wait_code` (or poll :func:`code_done`).
    The handle is ``{id, run, t0}`` with ``t0`` the page's ``performance.now()`` just before the cell was run."""
    _helpers(page)
    if wait_idle:
        wait_kernel_idle(page)
    return page.evaluate(
        """(code) => {
          const h = window.__lwh;
          h.prevFocus = document.activeElement;
          const p = h.activate(), nb = p.content, model = nb.model;
          const idx = model.cells.length;
          model.sharedModel.insertCell(idx, {cell_type: 'code', source: code});
          const id = model.cells.get(idx).id;
          nb.activeCellIndex = idx;
          nb.deselectAll();
          const t0 = performance.now();
          return {id, run: h.start('notebook:run-cell'), t0};
        }""",
        code,
    )


def code_done(page: Page, handle: dict) -> bool:
    """Whether the cell started by :func:`start_code` has finished (JupyterLab's run-cell command resolved)."""
    return bool(page.evaluate("(id) => !!(window.__lwh.runs[id] && window.__lwh.runs[id].done)", handle["run"]))


def wait_code(
    page: Page, handle: dict, timeout: float = RUN_CODE_TIMEOUT_MS, raise_errors: bool = True, keep_focus: bool = True
) -> str:
    """Wait for a cell started by :func:`start_code` and the kernel to be idle; returns its text output (see
    :func:`run_code`)."""
    code = page.evaluate(
        "(id) => { const h = window.__lwh, p = h.panel(); return h.cellInfo(p, h.cellIndex(p, id)).source; }",
        handle["id"],
    )
    _wait_run(page, handle["run"], timeout, f"running {code!r}")
    wait_kernel_idle(page)
    if keep_focus:
        page.evaluate(
            """() => {
              const prev = window.__lwh.prevFocus;
              window.__lwh.prevFocus = null;
              if (prev && prev.isConnected && prev !== document.body && prev !== document.activeElement) {
                prev.focus({preventScroll: true});
              }
            }"""
        )
    cell = page.evaluate(
        "(id) => { const h = window.__lwh, p = h.panel(); return h.cellInfo(p, h.cellIndex(p, id)); }", handle["id"]
    )
    if cell["count"] is None and raise_errors:
        raise NotebookError(f"cell {code!r} was not executed (execution count is empty)")
    text = []
    for out in cell["outputs"]:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            text.append(_join(out.get("text", "")))
        elif kind in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
            text.append(_join(out["data"]["text/plain"]) + "\n")
        elif kind == "error" and raise_errors:
            raise NotebookError(f"{code!r} raised:\n{_error_text(out)}")
    return "".join(text).strip()


def _join(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def set_theme(page: Page, theme: str, timeout: float = 60_000) -> None:
    """Switch JupyterLab's theme ("light", "dark", or a full theme name) and wait until it is applied."""
    _helpers(page)
    name = THEMES.get(theme, theme)
    run_id = page.evaluate("(theme) => window.__lwh.start('apputils:change-theme', {theme})", name)
    _wait_run(page, run_id, timeout, f"change theme to {name}")
    page.wait_for_function(
        "(name) => document.body.dataset.jpThemeName === name", arg=name, timeout=timeout, polling=POLL_MS
    )
    next_frames(page)


def theme_is_light(page: Page) -> bool:
    return page.evaluate("() => document.body.dataset.jpThemeLight") == "true"


# --------------------------------------------------------------------------------------------------------------------
# Widgets and pixels


def wait_for_widget(page: Page, timeout: float = WIDGET_TIMEOUT_MS, selector: str = ".lstm-widget") -> Locator:
    """The first element matching ``selector`` once it is visible (scrolled into view)."""
    loc = page.locator(selector).first
    loc.wait_for(state="visible", timeout=timeout)
    loc.scroll_into_view_if_needed()
    return loc


def py_json(owner, expr: str):
    """The value of the Python expression ``expr`` in the kernel (through JSON); ``owner`` is a page or anything
    with a ``.page``."""
    import json

    return json.loads(run_code(getattr(owner, "page", owner), f"print(json.dumps({expr}))"))


def wait_py(owner, expr: str, want, timeout: float = 30) -> None:
    """Poll the kernel until ``expr`` equals ``want`` (compared through JSON): page -> kernel writes may be
    throttled or coalesced."""
    seen = []

    def ok():
        seen.append(py_json(owner, expr))
        return seen[-1] == want

    wait_until(ok, timeout=timeout, interval=0.3, message=lambda: f"Python: {expr} == {want} (last {seen[-1:]})")


def hover_text(
    root: Locator, target: Locator, x: float, y: float, pattern: str, tooltip: str = ".lw-tooltip"
) -> re.Match:
    """Hover ``target`` at (x, y) CSS px and return the widget's tooltip text (under ``root``) matched in full
    against ``pattern``; the tooltip is hidden first, so no stale text can match."""
    tip = root.locator(tooltip)
    tip.evaluate("(el) => { el.hidden = true; }")  # the next pointermove shows it again
    target.hover(position={"x": x, "y": y})
    seen = []

    def shown():
        if tip.is_hidden():
            return None
        seen.append(tip.text_content())
        return re.fullmatch(pattern, seen[-1])

    return wait_until(shown, timeout=10, interval=0.1, message=lambda: f"tooltip like {pattern!r} (saw {seen[-1:]})")


def first_repaint(root: Locator, timeout: float = 60) -> None:
    """Wait until the widget at ``root`` has repainted at least once (its ``data-frames`` counter)."""
    wait_until(lambda: int(root.get_attribute("data-frames") or 0) > 0, timeout=timeout, message="a first repaint")


@dataclass
class Widget:
    """A widget on its page, what a module's browser fixture yields: the page and the widget's root element.
    Modules that need more (the sequence lengths, a server) subclass it with fields of their own."""

    page: Page
    root: Locator
    # views that must be among those wait_views_at finds (a subclass names the ones its notebook shows)
    expected_views: ClassVar[frozenset[str]] = frozenset()

    def views(self) -> dict[str, str]:
        """{view class: data-t} of every view in the widget (VIEW_TS_JS)."""
        return self.root.evaluate(VIEW_TS_JS)

    def wait_views_at(self, t: int, timeout: float = 30_000) -> None:
        """Wait until every view shows step t (and the repaint has landed); ``expected_views`` must be there."""
        try:
            self.page.wait_for_function(
                f"([root, t]) => {{ const v = Object.values(({VIEW_TS_JS})(root)); "
                "return v.length > 0 && v.every((x) => x === String(t)); }",
                arg=[self.root.element_handle(), t],
                timeout=timeout,
                polling=100,
            )
        except PlaywrightTimeoutError:
            raise AssertionError(
                f"the views do not all show t={t} after {timeout / 1000:.0f}s: {self.views()}"
            ) from None
        next_frames(self.page)
        got = self.views()
        assert self.expected_views <= set(got), f"views missing: {self.expected_views - set(got)}"
        assert got and all(v == str(t) for v in got.values()), got


def widget_notebook(
    new_page, server, name: str, cells: list[str], ready: Callable | None = None, selector: str = ".lstm-widget"
) -> tuple[Page, Locator]:
    """The set-up of a module's browser fixture: a notebook of ``cells`` (code) written as ``<name>_e2e.ipynb``,
    opened in a new page, every cell run, the first ``selector`` visible, then ``ready(page, root)`` (default: a
    first repaint). Returns ``(page, root)``; the fixture closes the page with ``new_page.close(page)``. On failure
    a screenshot goes to ``artifacts/<name>_setup.png`` and the page is closed."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    page = new_page(name)
    try:
        open_notebook(page, server, write_notebook(server, nb, f"{name}_e2e.ipynb"))
        run_all_cells(page)
        root = wait_for_widget(page, selector=selector)
        (ready or (lambda _page, r: first_repaint(r)))(page, root)
    except BaseException:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS_DIR / f"{name}_setup.png"))
        finally:
            new_page.close(page)
        raise
    return page, root


def screenshot_element(page: Page, locator: Locator, path, margin: int = 8) -> Path:
    """Save a PNG of ``locator`` with nothing of JupyterLab over it: if the element is taller than the notebook's
    visible area, the viewport grows for the shot (then comes back), and the element is scrolled to the top."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    geom = locator.evaluate(
        """(el) => {
          const box = el.getBoundingClientRect();
          const sc = el.closest('.jp-WindowedPanel-outer') || el.closest('.jp-Notebook') || document.scrollingElement;
          const view = sc.getBoundingClientRect();
          return {h: box.height, viewH: view.height};
        }"""
    )
    grow = max(0, int(geom["h"] + 2 * margin - geom["viewH"]) + 1)
    try:
        if grow:
            page.set_viewport_size({"width": size["width"], "height": size["height"] + grow})
        locator.evaluate("(el) => el.scrollIntoView({block: 'start'})")
        next_frames(page, 3)
        locator.screenshot(path=str(path), animations="disabled")
    finally:
        if grow:
            page.set_viewport_size(size)
            next_frames(page)
            locator.scroll_into_view_if_needed()
    return path


def next_frames(page: Page, n: int = 2) -> None:
    """Wait for ``n`` animation frames (lets rAF-coalesced repaints land)."""
    page.evaluate(
        "(n) => new Promise((res) => { const f = (k) => k ? requestAnimationFrame(() => f(k - 1)) : res(); f(n); })",
        n,
    )


def wait_until(
    fn: Callable[[], T], timeout: float = 30.0, interval: float = 0.2, message: str | Callable[[], str] = ""
) -> T:
    """Poll ``fn`` until it returns a truthy value (returned) or ``timeout`` seconds pass (AssertionError with
    ``message`` -- a string, or a callable evaluated then -- and the last value or exception)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
            if last is not None and bool(last):
                return last
        except AssertionError:
            raise
        except Exception as exc:
            last = exc
        if time.monotonic() > deadline:
            msg = message() if callable(message) else message
            raise AssertionError(f"{msg or 'condition'} not met in {timeout:.0f}s; last: {last!r}")
        time.sleep(interval)


_CANVAS_JS = r"""
(el) => {
  const c = el.tagName === 'CANVAS' ? el : el.querySelector('canvas');
  if (!c) throw new Error('no canvas in ' + el.outerHTML.slice(0, 200));
  const w = c.width, h = c.height;
  if (!w || !h) return {w, h, b64: ''};
  // Copy through a 2d canvas: works for 2d and (same-frame / preserveDrawingBuffer) WebGL canvases alike,
  // and never creates a context on the canvas under test.
  const tmp = document.createElement('canvas');
  tmp.width = w; tmp.height = h;
  const ctx = tmp.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(c, 0, 0);
  const data = ctx.getImageData(0, 0, w, h).data;
  let s = '';
  for (let i = 0; i < data.length; i += 0x8000) s += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
  return {w, h, b64: btoa(s)};
}
"""


def canvas_pixels(locator: Locator) -> np.ndarray:
    """The backing-store pixels of a canvas (or of the first canvas inside ``locator``): (H, W, 4) uint8 RGBA."""
    r = locator.evaluate(_CANVAS_JS)
    if not r["b64"]:
        return np.zeros((r["h"], r["w"], 4), np.uint8)
    return np.frombuffer(base64.b64decode(r["b64"]), np.uint8).reshape(r["h"], r["w"], 4)


def pixel_hash(pixels: np.ndarray) -> str:
    import hashlib

    return f"{pixels.shape}:{hashlib.sha1(np.ascontiguousarray(pixels).tobytes()).hexdigest()}"


def distinct_colors(pixels: np.ndarray) -> int:
    """Number of distinct RGBA values."""
    flat = np.ascontiguousarray(pixels).reshape(-1, pixels.shape[-1])
    return int(np.unique(flat.view(np.dtype((np.void, flat.shape[1])))).size) if flat.size else 0


def wait_painted(canvas: Locator, min_colors: int = 16, timeout: float = 60) -> np.ndarray:
    """The pixels of ``canvas`` once it shows ≥ ``min_colors`` distinct colours (a drawn heatmap, not a blank or
    one-colour box); asserts it is at least 20 × 20 and mostly opaque."""
    seen = []

    def painted():
        px = canvas_pixels(canvas)
        seen.append(f"{px.shape[1]}x{px.shape[0]}, {distinct_colors(px) if px.size else 0} colours")
        return {"px": px} if px.size and distinct_colors(px) >= min_colors else None

    px = wait_until(
        painted,
        timeout=timeout,
        message=lambda: f"the canvas shows >= {min_colors} distinct colours (it has {seen[-1:]})",
    )["px"]
    assert px.shape[0] >= 20 and px.shape[1] >= 20, px.shape
    assert (px[..., 3] > 0).mean() > 0.5, "the canvas is mostly transparent"
    return px


def largest_canvas(locator: Locator) -> Locator:
    """The largest (by CSS area) visible ``canvas`` inside ``locator``."""
    canvases = locator.locator("canvas")
    best, best_area = None, -1.0
    for i in range(canvases.count()):
        box = canvases.nth(i).bounding_box()
        area = (box["width"] * box["height"]) if box else 0.0
        if area > best_area:
            best, best_area = canvases.nth(i), area
    if best is None:
        raise AssertionError("no canvas found")
    return best


def element_pixels(locator: Locator) -> np.ndarray:
    """What is on screen over ``locator`` (a Playwright screenshot, decoded): (H, W, 4) uint8 RGBA."""
    return decode_png(locator.screenshot(animations="disabled"))


def decode_png(data: bytes) -> np.ndarray:
    """Minimal PNG decoder (8-bit greyscale/RGB/RGBA, non-interlaced -- what Chromium writes) -> (H, W, 4) uint8."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {ctype}, interlace {interlace})")
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, 1 + w * channels)
    bpp, stride = channels, w * channels
    out = np.zeros((h, stride), np.uint8)
    prev = [0] * stride
    for y in range(h):
        f = int(raw[y, 0])
        if f == 0:
            out[y] = raw[y, 1:]
        elif f == 1:  # Sub: running sum per channel
            out[y] = (np.cumsum(raw[y, 1:].reshape(w, bpp).astype(np.int64), axis=0) & 255).reshape(-1)
        elif f == 2:  # Up
            out[y] = (raw[y, 1:].astype(np.int32) + np.asarray(prev, np.int32)) & 255
        elif f in (3, 4):  # Average, Paeth: sequential in x
            cur = raw[y, 1:].tolist()
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = prev[x]
                if f == 3:
                    cur[x] = (cur[x] + ((a + b) >> 1)) & 255
                else:
                    c = prev[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    cur[x] = (cur[x] + (a if (pa <= pb and pa <= pc) else (b if pb <= pc else c))) & 255
            out[y] = cur
        else:
            raise ValueError(f"bad PNG filter {f}")
        prev = out[y].tolist()
    img = out.reshape(h, w, channels)
    if channels == 4:
        return img
    rgba = np.full((h, w, 4), 255, np.uint8)
    if channels in (1, 2):
        rgba[..., :3] = img[..., :1]
        if channels == 2:
            rgba[..., 3] = img[..., 1]
    else:
        rgba[..., :3] = img
    return rgba
