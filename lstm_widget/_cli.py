"""The `lstm-widget` console command: `lstm-widget demo` starts JupyterLab on the Japanese Vowels notebook;
`lstm-widget export` writes a standalone HTML explorer (no kernel, no network) for teaching material."""

from __future__ import annotations

import argparse
import importlib
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
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={args.ip}",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}",
        "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines often run as root
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd)
    try:
        _wait_ready(f"http://{args.ip}:{port}/api/status?token={token}", proc)
        print(
            f"\nlstm_widget demo: {target}\nopen  http://{args.ip}:{port}/lab/tree/{_NOTEBOOK}?token={token}\n"
            "run all cells (Run → Run All Cells); Ctrl-C here stops the server.\n",
            flush=True,
        )
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


def _load_callable(spec: str, what: str):
    """``package.module:function`` -> the function (the user's own code, imported like any module)."""
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise SystemExit(f"--{what} {spec!r}: expected package.module:function")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise SystemExit(f"--{what} {spec!r}: {exc}") from None


def _load_data(spec: str):
    """``--data``: "japanese_vowels:train|test", an .npz file (array ``X`` (N, T, D) or ``x0``, ``x1``, ... (T_i, D);
    optional ``y``; read without pickle), or package.module:function returning X or (X, y)."""
    import numpy as np

    if spec.startswith("japanese_vowels:"):
        from .datasets import JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES, japanese_vowels

        X, y = japanese_vowels(spec.split(":", 1)[1])
        return list(X), y, JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES
    if spec.endswith(".npz"):
        try:
            with np.load(spec, allow_pickle=False) as z:
                keys = set(z.files)
                if "X" in keys:
                    X = list(z["X"])
                else:
                    parts = sorted((int(k[1:]), k) for k in keys if k[:1] == "x" and k[1:].isdigit())
                    if not parts:
                        raise SystemExit(
                            f"--data {spec!r}: expected an array 'X' or arrays 'x0', 'x1', ... in the file"
                        )
                    X = [z[k] for _, k in parts]
                y = z["y"] if "y" in keys else None
        except (OSError, ValueError) as exc:
            raise SystemExit(f"--data {spec!r}: {exc}") from None
        return X, y, None, None
    out = _load_callable(spec, "data")()
    X, y = out if isinstance(out, tuple) and len(out) == 2 else (out, None)
    return list(X), y, None, None


def export(args) -> int:
    from ._widget.explorer import Explorer

    model = _load_callable(args.model, "model")()
    X, y, class_names, feature_names = _load_data(args.data)
    if args.limit < 0:
        raise SystemExit(f"--limit {args.limit}: expected a number of sequences (0 for all)")
    if args.limit:
        X = X[: args.limit]
        y = None if y is None else y[: args.limit]
    ex = Explorer(model, X, y, class_names=class_names, feature_names=feature_names)
    out = pathlib.Path(args.out)
    # every sequence read (--limit chooses how many), not save_html's default of the current one and its neighbours
    size = ex.save_html(
        out, sequences="all", wire_dtype="float16" if args.float16 else None, title=args.title, quiet=True
    )
    print(
        f"wrote {out} ({size / 2**20:.2f} MiB, {len(X)} sequences"
        f"{', float16' if args.float16 else ''}): open it in a browser, no kernel or network needed"
    )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lstm-widget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="start JupyterLab on a copy of the Japanese Vowels notebook and print its URL")
    p.add_argument("--dir", default="lstm_widget_demo", help="folder for the notebook copy (default: %(default)s)")
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="default: a free port")
    p.add_argument("--overwrite", action="store_true", help="replace an existing copy of the notebook")
    p.set_defaults(func=demo)
    p = sub.add_parser("export", help="write a standalone HTML explorer that plays back with no kernel or network")
    p.add_argument("--out", required=True, help="the HTML file to write, e.g. lesson.html")
    p.add_argument(
        "--model",
        default="lstm_widget.models:japanese_vowels_net",
        help="package.module:function returning the torch model (default: %(default)s)",
    )
    p.add_argument(
        "--data",
        default="japanese_vowels:test",
        help="japanese_vowels:train|test, an .npz file (X or x0, x1, ...; optional y), or "
        "package.module:function returning X or (X, y) (default: %(default)s)",
    )
    p.add_argument("--limit", type=int, default=40, help="first N sequences only, 0 for all (default: %(default)s)")
    p.add_argument("--float16", action="store_true", help="half the size: values as float16")
    p.add_argument("--title", default="LSTM explorer", help="the page's title")
    p.set_defaults(func=export)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
