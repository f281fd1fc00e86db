"""The wheel carries the front end: ``python -m build --wheel`` makes a wheel with the bundles inside, and that wheel
installs and runs in a fresh virtual environment with no Node on the PATH — the package then loads its JavaScript from
where it was installed, not from this checkout. Built once (about a minute and a half: the build's own environment is
installed first); marked ``packaging`` so that it can be left out (``-m "not packaging"``)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ("widget.js", "export.js", "channels.js")

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.skipif(importlib.util.find_spec("build") is None, reason="needs `build` (the test extra)"),
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``python -m build --wheel`` makes from this checkout (Node is needed here only when the bundles are
    missing or older than js/src)."""
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (found,) = out.glob("lstm_widget-*.whl")
    return found


def test_the_wheel_installs_and_runs_without_node(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        sizes = {n: z.getinfo(n).file_size for n in names}
    for name in BUNDLES:
        assert sizes.get(f"lstm_widget/static/{name}", 0) > 10_000, f"{name} is not in the wheel"
    assert "lstm_widget/notebooks/japanese_vowels.ipynb" in names and "lstm_widget/_core/files.py" in names

    venv = tmp_path / "venv"
    # the system's packages (torch, numpy, ...) are seen; lstm_widget itself comes from the wheel, in the venv
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    bindir = venv / "bin"
    python = bindir / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = str(bindir)  # the venv's python, pip and lstm-widget, and nothing else: no node, no npm
    assert shutil.which("node", path=env["PATH"]) is None and shutil.which("npm", path=env["PATH"]) is None
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--force-reinstall", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    check = (
        "import pathlib, sys, lstm_widget as lw\n"
        "from lstm_widget._widget.static import bundle\n"
        "venv = pathlib.Path(sys.argv[1]).resolve()\n"
        "assert pathlib.Path(lw.__file__).resolve().is_relative_to(venv), lw.__file__\n"
        "esm = lw.Explorer._esm\n"
        "text = esm.read_text() if hasattr(esm, 'read_text') else str(esm)\n"
        "assert len(text) > 10_000, len(text)\n"
        "for name in ('widget.js', 'export.js', 'channels.js'):\n"
        "    assert bundle(name).resolve().is_relative_to(venv), bundle(name)\n"
        "print('ok', lw.__file__)\n"
    )
    run = subprocess.run(
        [str(python), "-c", check, str(venv)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert run.returncode == 0 and run.stdout.startswith("ok"), run.stdout + run.stderr
    export = subprocess.run(
        [str(bindir / "lstm-widget"), "export", "--out", "page.html", "--limit", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert export.returncode == 0, export.stdout + export.stderr
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "lstmWidgetExport.renderPage" in page and len(page) > 100_000
