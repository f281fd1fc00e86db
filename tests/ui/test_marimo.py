"""The Explorer in marimo: an app file that wraps it with ``mo.ui.anywidget`` is served by ``marimo run --headless``
(a subprocess with its own config/cache/state directories, stopped at the end) and opened in Chromium. marimo
renders anywidgets inside a shadow root; Playwright's CSS locators pierce it, and the root's own ``querySelectorAll``
reads the views. Asserts: the widget renders (heatmap canvas with real pixels), keys on the root move every view's
``data-t``, marimo's Python sees the page's ``t`` (a cell that shows ``widget.value["t"]`` re-runs), ``ex.t`` set in
Python (from a ``mo.ui.number``'s ``on_change``) moves the page and a key pressed after it reaches Python, and no
request leaves 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lab import ARTIFACTS_DIR, Widget, largest_canvas, wait_painted, wait_until
from server import SERVER_START_TIMEOUT_S, _descendants, _free_port, end_process

pytest.importorskip("marimo", reason="marimo is not installed (pip install marimo)")

APP = """\
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import lstm_widget as lw
    from lstm_widget.datasets import japanese_vowels
    from lstm_widget.models import japanese_vowels_net

    X, y = japanese_vowels("test")
    idx = [0, 90, 180, 270]
    ex = lw.Explorer(japanese_vowels_net(), [X[i] for i in idx], y[idx])
    widget = mo.ui.anywidget(ex)
    widget
    return ex, mo, widget


@app.cell
def _(mo, widget):
    # re-runs whenever the page changes a trait: what Python sees
    mo.Html(f'<p id="lw-python-t">{widget.value["t"]}</p>')
    return


@app.cell
def _(ex, mo):
    jump = mo.ui.number(start=0, stop=1000, value=0, label="ex.t from Python",
                        on_change=lambda v: setattr(ex, "t", int(v)))
    jump
    return


if __name__ == "__main__":
    app.run()
"""


@dataclass
class Marimo:
    url: str
    proc: subprocess.Popen
    log_path: Path

    def log_tail(self, n: int = 80) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def start_marimo(app_path: Path, base: Path, log_path: Path, timeout: float = SERVER_START_TIMEOUT_S) -> Marimo:
    """``marimo run app_path --headless`` on a free port of 127.0.0.1, with its config, cache and state under
    ``base`` (never the user's); waits until ``/health`` answers."""
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg", MARIMO_SKIP_UPDATE_CHECK="1")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[var] = str(base / var.lower())
        Path(env[var]).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "marimo", "run", str(app_path), "--headless", "--host", "127.0.0.1",
           "--port", str(port), "--no-token", "--no-sandbox"]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as log:
        log.write("$ " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(cmd, cwd=str(app_path.parent), env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    server = Marimo(f"http://127.0.0.1:{port}/", proc, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"marimo run exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            urllib.request.urlopen(server.url + "health", timeout=5).read()
            return server
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_marimo(server)
            raise RuntimeError(f"marimo run did not answer /health in {timeout:.0f}s:\n{server.log_tail()}")
        time.sleep(0.25)


def stop_marimo(server: Marimo) -> None:
    """SIGTERM (marimo shuts its sessions down), then SIGKILL; then whatever it started that is left, by pid."""
    proc = server.proc
    end_process(proc, _descendants(proc.pid) if proc.poll() is None else [], wait_s=20)


@dataclass
class App(Widget):
    length: int  # steps of sequence 0, the one shown
    asked: list  # every URL the page requested

    def wait_python_t(self, t: int) -> None:
        loc = self.page.locator("#lw-python-t")
        wait_until(lambda: loc.inner_text() == str(t), timeout=30,
                   message=lambda: f"marimo's Python sees t = {t} (it shows {loc.inner_text()!r})")  # fmt: skip


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory, new_page):
    pytest.importorskip("lstm_widget")
    from lstm_widget.datasets import japanese_vowels

    base = tmp_path_factory.mktemp("marimo")
    app_path = base / "explorer_app.py"
    app_path.write_text(APP)
    server = start_marimo(app_path, base, ARTIFACTS_DIR / "marimo-server.log")
    page = None
    try:
        page = new_page("marimo")
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(server.url)
        root = page.locator(".lstm-widget")
        try:
            root.locator(".lw-heatmap[data-t]").wait_for(state="visible", timeout=180_000)
        except PlaywrightTimeoutError:
            ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS_DIR / "marimo_setup.png"))
            raise AssertionError(f"the widget did not render in marimo; server log:\n{server.log_tail()}") from None
        X, _ = japanese_vowels("test")
        yield App(page, root, len(X[0]), asked)
    finally:
        if page is not None:
            new_page.close(page)
        stop_marimo(server)
        shutil.rmtree(base, ignore_errors=True)


def test_renders(marimo_app):
    app = marimo_app
    assert app.root.count() == 1
    # inside marimo's shadow root: not reachable from document.querySelector
    assert app.page.evaluate("() => document.querySelector('.lstm-widget')") is None
    views = app.views()
    assert {"lw-timeline", "lw-heatmap", "lw-trajectory", "lw-inputs", "lw-probs"} <= set(views), views
    heatmap = largest_canvas(app.root.locator(".lw-heatmap"))
    heatmap.scroll_into_view_if_needed()

    wait_painted(heatmap)
    outside = [u for u in app.asked if not u.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:"))]
    assert not outside, f"the page asked the network for {outside}"


def test_keys_scrub_every_view(marimo_app):
    app = marimo_app
    app.root.focus()
    last = app.length - 1
    for key, want in [("Home", 0), ("End", last), ("ArrowLeft", last - 1), ("Home", 0), ("ArrowRight", 1)]:
        app.root.press(key)
        app.wait_views_at(want)
    app.wait_python_t(1)  # the page -> kernel direction: marimo re-ran the cell that reads widget.value


def test_python_moves_the_page(marimo_app):
    app = marimo_app
    number = app.page.locator("marimo-number input").first
    for t in (5, 2):
        number.fill(str(t))
        number.press("Enter")
        app.wait_views_at(t)
        # marimo re-runs cells on the page's changes, not on Python's: a key on the page after Python's change
        # is taken by the kernel (it carries the revision of t that Python's change brought)
        app.root.focus()
        app.root.press("ArrowRight")
        app.wait_views_at(t + 1)
        app.wait_python_t(t + 1)
