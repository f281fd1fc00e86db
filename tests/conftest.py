"""Fixtures shared by tests/ and tests/ui/.

``nbconvert_html`` (session): ``convert(notebook_path) -> Path`` runs ``jupyter nbconvert --execute --to html`` on a
copy of the notebook (in a temporary directory, with its own Jupyter config/runtime/IPython directories) and returns
the HTML file. Each notebook is converted once per session, so tests/widget/test_nbconvert.py (the saved widget state) and
tests/ui/test_nbconvert_html.py (the page in Chromium) share the work.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NBCONVERT_TIMEOUT_S = 1200  # the whole conversion; each cell gets 600 s
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture(scope="session")
def nbconvert_html(tmp_path_factory):
    base = tmp_path_factory.mktemp("nbconvert")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", JUPYTER_PLATFORM_DIRS="0")
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        env[var] = str(base / sub)
    done: dict[Path, tuple[subprocess.CompletedProcess, Path]] = {}

    def convert(notebook) -> Path:
        src = Path(notebook).resolve()
        if src not in done:
            work = base / src.stem
            work.mkdir()
            shutil.copyfile(src, work / src.name)
            cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html", src.name,
                   "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.kernel_name=python3"]  # fmt: skip
            proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=NBCONVERT_TIMEOUT_S)
            done[src] = (proc, work / f"{src.stem}.html")
        proc, html = done[src]
        if proc.returncode != 0 or not html.is_file():
            log = _ANSI.sub("", proc.stderr)[-6000:]
            raise AssertionError(f"jupyter nbconvert --execute --to html {src.name} failed ({proc.returncode}):\n{log}")
        return html

    return convert


UI = Path(__file__).resolve().parent / "ui"


def pytest_collection_modifyitems(config, items):
    """The real-browser tests run last: they are the slowest (the kernel and widget tests report first), and a
    Playwright session keeps an event loop running in the main thread until the session ends, which tests that
    start their own (``asyncio.run``) must not meet. Each group keeps its order."""
    in_ui = [UI in Path(str(item.fspath)).resolve().parents for item in items]
    items[:] = [i for i, ui in zip(items, in_ui, strict=True) if not ui] + [
        i for i, ui in zip(items, in_ui, strict=True) if ui
    ]
