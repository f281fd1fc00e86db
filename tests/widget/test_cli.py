"""`lstm-widget demo` — the README's first command — starts JupyterLab on a copy of the demo notebook."""

import json
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import nbformat
import pytest

from lstm_widget._cli import demo_notebook


def test_demo_notebook_is_found_and_is_the_seed_example():
    nb = nbformat.read(demo_notebook(), as_version=4)
    source = "\n".join(c.source for c in nb.cells)
    for needle in ("japanese_vowels_net()", 'japanese_vowels("test")', "lw.Stepper(net)", "lw.Explorer("):
        assert needle in source


@pytest.mark.skipif(shutil.which("lstm-widget") is None, reason="the console script is installed by pip install")
def test_demo_command_serves_the_notebook_and_prints_its_url(tmp_path):
    proc = subprocess.Popen(
        ["lstm-widget", "demo", "--dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 180
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"(http://127\.0\.0\.1:\d+)/lab/tree/japanese_vowels\.ipynb\?token=(\w+)", line)
            if m:
                url = m
        assert url, "the demo command printed no URL"
        base, token = url.group(1), url.group(2)
        with urllib.request.urlopen(f"{base}/api/contents/japanese_vowels.ipynb?token={token}", timeout=30) as r:
            content = json.load(r)
        assert content["type"] == "notebook" and (tmp_path / "demo" / "japanese_vowels.ipynb").exists()
        with urllib.request.urlopen(f"{base}/lab/tree/japanese_vowels.ipynb?token={token}", timeout=30) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode is not None
