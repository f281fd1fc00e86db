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

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # `import lab` also under --import-mode=importlib
    sys.path.insert(0, str(HERE))
ARTIFACTS = HERE / "artifacts"
CHROMIUM = os.environ.get("LW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 1000}
SERVER_START_TIMEOUT_S = float(os.environ.get("LW_UI_SERVER_TIMEOUT", "180"))
LOG_TAIL_LINES = 120
KEEP_ARTIFACTS = {"explorer.png"}  # wanted outputs (the README's screenshot), not failure evidence

# Settings JupyterLab reads from the (temporary) user settings directory: no news/update toasts, no autosave.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Light"},
}

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
    for i, item in zip(slots, ours):
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
    server = _state["server"]
    if server is not None:
        rep.sections.append((f"jupyter server log (tail of {server.log_path})", server.log_tail()))


# --------------------------------------------------------------------------------------------------------------------
# JupyterLab server


@dataclass
class JupyterServer:
    url: str  # base URL, ends with "/"
    token: str
    root_dir: Path
    log_path: Path
    proc: subprocess.Popen
    env: dict = field(repr=False, default_factory=dict)

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 30):
        """Call the server's REST API (``path`` relative to the base URL, e.g. ``"api/kernels"``)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def lab_url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path}{sep}token={self.token}"

    def log_tail(self, n: int = LOG_TAIL_LINES) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(lines[-n:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Pids of all live descendants of ``pid`` (from /proc; no psutil)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "root"
    dirs = {k: base / k for k in ("config", "runtime", "settings", "workspaces", "ipython", "notary")}
    for d in [root, *dirs.values()]:
        d.mkdir(parents=True, exist_ok=True)
    for rel, value in LAB_SETTINGS.items():
        p = dirs["settings"] / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "jupyter-server.log"

    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTER_PLATFORM_DIRS="0",
        PYTHONUNBUFFERED="1",
        MPLBACKEND="Agg",
    )
    env.pop("JUPYTER_TOKEN", None)
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--port-retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.token={token}",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
        f"--NotebookNotary.data_dir={dirs['notary']}",
    ]  # fmt: skip
    log = open(log_path, "w", buffering=1)
    log.write("$ " + " ".join(cmd) + "\n")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=str(root), env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    server = JupyterServer(f"http://127.0.0.1:{port}/", token, root, log_path, proc, env)
    try:
        deadline = t0 + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                server.api("GET", "api/status", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"jupyter lab did not answer /api/status in {SERVER_START_TIMEOUT_S:.0f}s:\n{server.log_tail()}"
                )
            time.sleep(0.25)
        log.write(f"[lw-tests] server answered /api/status after {time.monotonic() - t0:.1f}s\n")
        _state["server"] = server
        yield server
    finally:
        _state["server"] = None
        _stop_server(server)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def _stop_server(server: JupyterServer) -> None:
    proc = server.proc
    kids = _descendants(proc.pid) if proc.poll() is None else []
    if proc.poll() is None:
        try:  # shuts the kernels down, then the server
            for k in server.api("GET", "api/kernels", timeout=10) or []:
                try:
                    server.api("DELETE", f"api/kernels/{k['id']}", timeout=30)
                except Exception:
                    pass
            server.api("POST", "api/shutdown", timeout=10)
        except Exception:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
    # Kernels run in their own sessions: end whichever of the processes we started is still there, by pid.
    for pid in kids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# --------------------------------------------------------------------------------------------------------------------
# Browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
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
