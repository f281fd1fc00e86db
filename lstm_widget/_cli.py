"""The `lstm-widget` console command: `lstm-widget demo` starts JupyterLab on the Japanese Vowels notebook."""

from __future__ import annotations

import argparse
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

_NOTEBOOK = "japanese_vowels.ipynb"


def demo_notebook() -> pathlib.Path:
    """The demo notebook: inside the installed package, or in the repository's notebooks/ for editable installs."""
    here = pathlib.Path(__file__).parent
    for candidate in (here / "notebooks" / _NOTEBOOK, here.parent / "notebooks" / _NOTEBOOK):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"the demo notebook {_NOTEBOOK} is not installed with this copy of lstm_widget")


def _free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"JupyterLab exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"JupyterLab did not answer at {url} within {timeout:.0f} s")


def demo(args) -> int:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        print("lstm-widget demo needs JupyterLab: pip install 'lstm_widget[demo]'", file=sys.stderr)
        return 2
    folder = pathlib.Path(args.dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _NOTEBOOK
    if not target.exists() or args.overwrite:
        shutil.copyfile(demo_notebook(), target)
    port = args.port or _free_port(args.ip)
    token = secrets.token_hex(16)
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        f"--ServerApp.ip={args.ip}", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}", "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines often run as root
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd)
    try:
        _wait_ready(f"http://{args.ip}:{port}/api/status?token={token}", proc)
        print(f"\nlstm_widget demo: {target}\nopen  http://{args.ip}:{port}/lab/tree/{_NOTEBOOK}?token={token}\n"
              "run all cells (Run → Run All Cells); Ctrl-C here stops the server.\n", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lstm-widget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="start JupyterLab on a copy of the Japanese Vowels notebook and print its URL")
    p.add_argument("--dir", default="lstm_widget_demo", help="folder for the notebook copy (default: %(default)s)")
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="default: a free port")
    p.add_argument("--overwrite", action="store_true", help="replace an existing copy of the notebook")
    p.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
