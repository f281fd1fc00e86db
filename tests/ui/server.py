"""A private JupyterLab (or Jupyter Notebook 7) and Debian's Chromium, startable outside pytest (the fixtures in
``conftest.py`` and the benchmarks in ``benchmarks/`` use the same code).

    server = start_server(base_dir, log_path)     # own config/runtime/settings/workspace dirs under base_dir
    # start_server(base_dir, log_path, app="notebook") starts Notebook 7 the same way (tests/ui/test_notebook7.py)
    try:
        browser = launch_browser(playwright)      # headless /usr/bin/chromium (LW_CHROMIUM overrides)
        ...
    finally:
        stop_server(server)                       # kernels, then the server, then whatever of ours is left

The server: a free port on 127.0.0.1, a random token, news/update checks off, no autosave, JupyterLab Light, and
``window.jupyterapp`` exposed so that ``lab.py`` can drive JupyterLab through its own commands. ``server_and_browser``
is a context manager that does all of it for scripts.
"""

from __future__ import annotations

import json
import os
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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

# Settings JupyterLab reads from the (temporary) user settings directory: no news/update toasts, no autosave.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Light"},
}


@dataclass
class JupyterServer:
    url: str  # base URL, ends with "/"
    token: str
    root_dir: Path
    log_path: Path
    proc: subprocess.Popen
    env: dict = field(repr=False, default_factory=dict)
    log: object = field(repr=False, default=None)  # the open log file (closed by stop_server)
    app: str = "lab"  # "lab" (JupyterLab) or "notebook" (Jupyter Notebook 7): which front end lab.py opens

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


def end_process(proc: subprocess.Popen, kids: list[int], wait_s: float = 15) -> None:
    """SIGTERM ``proc`` (when still running), wait ``wait_s``, then SIGKILL it; then SIGKILL whichever of ``kids``
    (pids it had started: kernels and renderers run in their own sessions) is still there."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    for pid in kids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# The front ends start_server knows: the ``jupyter`` subcommand and the traitlets class that owns the front end's
# options (settings/workspace directories, window.jupyterapp). Notebook 7 is built on JupyterLab's components and
# reads the same user settings, so LAB_SETTINGS apply to both.
APPS = {"lab": ("lab", "LabApp"), "notebook": ("notebook", "JupyterNotebookApp")}


def start_server(
    base: Path, log_path: Path, timeout: float = SERVER_START_TIMEOUT_S, app: str = "lab"
) -> JupyterServer:
    """Start JupyterLab (``app="lab"``) or Jupyter Notebook 7 (``app="notebook"``) with every directory of its own
    under ``base`` (notebooks go to ``base/root``) and wait until it answers ``/api/status``; its output goes to
    ``log_path``. Stop it with :func:`stop_server`."""
    if app not in APPS:
        raise ValueError(f"app must be one of {sorted(APPS)}, not {app!r}")
    subcommand, cls = APPS[app]
    base, log_path = Path(base), Path(log_path)
    root = base / "root"
    dirs = {k: base / k for k in ("config", "runtime", "settings", "workspaces", "ipython", "notary")}
    for d in [root, *dirs.values()]:
        d.mkdir(parents=True, exist_ok=True)
    for rel, value in LAB_SETTINGS.items():
        p = dirs["settings"] / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))
    log_path.parent.mkdir(parents=True, exist_ok=True)

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
        sys.executable, "-m", "jupyter", subcommand,
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
        f"--{cls}.expose_app_in_browser=True",
        f"--{cls}.user_settings_dir={dirs['settings']}",
        f"--{cls}.workspaces_dir={dirs['workspaces']}",
        f"--NotebookNotary.data_dir={dirs['notary']}",
    ]  # fmt: skip
    log = open(log_path, "w", buffering=1)
    log.write("$ " + " ".join(cmd) + "\n")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=str(root), env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    server = JupyterServer(f"http://127.0.0.1:{port}/", token, root, log_path, proc, env, log, app)
    try:
        deadline = t0 + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter {subcommand} exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                server.api("GET", "api/status", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"jupyter {subcommand} did not answer /api/status in {timeout:.0f}s:\n{server.log_tail()}"
                )
            time.sleep(0.25)
        log.write(f"[lw-tests] server answered /api/status after {time.monotonic() - t0:.1f}s\n")
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: JupyterServer) -> None:
    """Shut the kernels and the server down (politely, then by signal), end what is left of the processes it
    started (by pid), and close its log."""
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
            pass
    end_process(proc, kids)  # kernels run in their own sessions: whichever we started and is still there, by pid
    if server.log is not None and not server.log.closed:
        server.log.close()


def launch_browser(playwright, headless: bool = True):
    """Debian's Chromium through Playwright (no browser download on these machines)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM} (set LW_CHROMIUM)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless)


@contextmanager
def server_and_browser(log_path: Path):
    """For scripts: ``with server_and_browser(log) as (server, browser): ...`` -- a private JupyterLab in a temporary
    directory and a headless Chromium, both stopped (and the directory removed) at the end."""
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="lw-lab-"))
    server = None
    try:
        server = start_server(base, log_path)
        with sync_playwright() as p:
            browser = launch_browser(p)
            try:
                yield server, browser
            finally:
                browser.close()
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(base, ignore_errors=True)
