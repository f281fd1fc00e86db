"""Fixtures for the real-browser end-to-end tests (JupyterLab + Chromium via Playwright).

* ``jupyter_server`` (session): a private JupyterLab on a free port, with its own config/runtime/settings/workspace
  directories (never the user's), news/update checks off, ``window.jupyterapp`` exposed so that the helpers in
  ``lab.py`` can drive JupyterLab through its own commands. Its log is ``tests/ui/artifacts/jupyter-server.log``;
  the tail is attached to the report of every failing test.
* ``browser`` (session): Debian's Chromium (``/usr/bin/chromium``, override with ``LW_CHROMIUM``); Playwright cannot
  download browsers on these machines.
* ``new_page`` (session): a factory ``new_page() -> Page`` (fresh context, 1280x1000) for module-scoped fixtures.
* ``page`` (function): a fresh page per test.

On failure the page that the test used is saved to ``tests/ui/artifacts/<test name>.png`` and the browser console
(errors, warnings, uncaught exceptions) is attached to the report. ``LW_UI_TRACE=1`` also records a Playwright trace
per context (``artifacts/<name>.trace.zip``; open with ``playwright show-trace``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # `import lab` / `import server` also under --import-mode=importlib
    sys.path.insert(0, str(HERE))
from server import CHROMIUM, VIEWPORT, JupyterServer, launch_browser, start_server, stop_server  # noqa: E402

ARTIFACTS = HERE / "artifacts"
KEEP_ARTIFACTS = {"explorer.png"}  # wanted outputs (the README's screenshot), not failure evidence

_state: dict = {"server": None}


def pytest_configure(config):
    config.addinivalue_line("markers", "ui: end-to-end test in a real JupyterLab + Chromium")
    try:  # Playwright's expect() waits 5 s by default: too short on small shared machines
        from playwright.sync_api import expect

        expect.set_options(timeout=30_000)
    except ImportError:
        pass


def pytest_collection_modifyitems(config, items):
    # Within this folder, the harness self-test first: when it fails nothing else here can pass, and -x then stops on
    # the real cause. Items elsewhere keep their places.
    slots = [i for i, item in enumerate(items) if HERE in Path(str(item.fspath)).resolve().parents]
    ours = sorted((items[i] for i in slots), key=lambda item: Path(str(item.fspath)).name != "test_harness.py")
    for i, item in zip(slots, ours, strict=True):
        items[i] = item
    if slots and ARTIFACTS.is_dir():  # failure shots / traces of an earlier run would mislead
        for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.trace.zip")]:
            if old.name not in KEEP_ARTIFACTS:
                old.unlink(missing_ok=True)
    skip = None
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (set LW_CHROMIUM)")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            skip = pytest.mark.skip(reason="playwright (Python) is not installed")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.ui)
            if skip is not None:
                item.add_marker(skip)


# --------------------------------------------------------------------------------------------------------------------
# Failure reporting: screenshot of the page, server log tail, browser console.


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")[:120] or "test"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if not rep.failed:
        return
    from lab import CONSOLE, Page  # local: lab imports playwright

    name = _safe_name(item.nodeid)
    values = list(getattr(item, "funcargs", {}).values())
    pages = [v for v in values if isinstance(v, Page)]  # the `page` fixture, or any object with a `.page`
    pages += [v.page for v in values if isinstance(getattr(v, "page", None), Page)]
    for i, page in enumerate(dict.fromkeys(pages)):
        try:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            path = ARTIFACTS / (f"{name}.png" if i == 0 else f"{name}-{i}.png")
            page.screenshot(path=str(path), full_page=False, timeout=15_000)
            rep.sections.append(("screenshot", str(path)))
        except Exception as exc:  # the page may be gone
            rep.sections.append(("screenshot", f"could not take a screenshot: {exc!r}"))
        lines = CONSOLE.get(page)
        if lines:
            rep.sections.append(("browser console", "\n".join(lines[-80:])))
    # the session's JupyterLab, and any other server a module fixture started (an object with a `.server`)
    servers = [_state["server"], *(getattr(v, "server", None) for v in values)]
    servers = {id(s): s for s in servers if isinstance(s, JupyterServer)}  # (dataclasses are unhashable)
    for server in servers.values():
        rep.sections.append((f"jupyter server log (tail of {server.log_path})", server.log_tail()))


# --------------------------------------------------------------------------------------------------------------------
# JupyterLab server


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory) -> JupyterServer:
    """A private JupyterLab (see server.py); its log is artifacts/jupyter-server.log."""
    base = tmp_path_factory.mktemp("jupyter")
    server = start_server(base, ARTIFACTS / "jupyter-server.log")
    _state["server"] = server
    try:
        yield server
    finally:
        _state["server"] = None
        stop_server(server)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------------------
# Browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        try:
            yield b
        finally:
            b.close()


class _PageFactory:
    """``new_page(name=None) -> Page`` in a fresh context; ``new_page.close(page)``; the rest close at the end."""

    def __init__(self, browser):
        self.browser = browser
        self.trace = os.environ.get("LW_UI_TRACE") == "1"
        self.open: dict = {}  # context -> name

    def __call__(self, name: str | None = None):
        from lab import watch_console

        ctx = self.browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        ctx.set_default_timeout(60_000)
        ctx.set_default_navigation_timeout(120_000)
        if self.trace:
            ctx.tracing.start(screenshots=True, snapshots=True)
        pg = ctx.new_page()
        watch_console(pg)
        self.open[ctx] = name or f"page{len(self.open)}"
        return pg

    def close(self, pg) -> None:
        ctx = pg.context
        name = self.open.pop(ctx, "page")
        try:
            if self.trace:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                ctx.tracing.stop(path=str(ARTIFACTS / f"{_safe_name(name)}.trace.zip"))
        finally:
            try:
                ctx.close()
            except Exception:
                pass

    def close_all(self) -> None:
        for ctx in list(self.open):
            self.close(ctx.pages[0] if ctx.pages else type("P", (), {"context": ctx})())


@pytest.fixture(scope="session")
def new_page(browser):
    """Factory for pages in fresh contexts (use it from module-scoped fixtures)."""
    factory = _PageFactory(browser)
    yield factory
    factory.close_all()


@pytest.fixture
def page(new_page, request):
    """A fresh page (own browser context, 1280x1000) for one test."""
    pg = new_page(request.node.nodeid)
    yield pg
    new_page.close(pg)
