"""`lstm-widget demo` — the README's first command — starts JupyterLab on a copy of the demo notebook; `lstm-widget
export` checks its output, title and data before any work, and never leaves a file half-written."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import nbformat
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lstm_widget as lw
from lstm_widget import _cli
from lstm_widget._cli import demo_notebook, main


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
            proc.wait(30)
    assert proc.returncode is not None


# ---- `lstm-widget export`: nothing half-done, refusals before the work --------------------------------------------
def _no_work(monkeypatch):
    """Loading the model is the start of the work: a refusal must come before it."""
    monkeypatch.setattr(_cli, "_load_callable", lambda *a: pytest.fail("the model was loaded before the refusal"))


def test_export_refuses_before_the_work_and_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "lesson.html"
    out.write_bytes(b"<p>my lesson</p>")
    with monkeypatch.context() as m:
        _no_work(m)
        for argv, message in [
            (["--out", str(out)], r"--out .*lesson.html' exists; pass --force to replace it"),
            # what the shell passes for $'Lesson \xff': the byte 0xff, which Python decodes as a lone surrogate
            (["--out", str(out), "--force", "--title", "Lesson \udcff"], r"--title .* is not valid UTF-8 text"),
            (["--out", str(tmp_path / "missing" / "a.html")], r"the folder .*missing' does not exist"),
            (["--out", str(tmp_path)], r"is a folder; expected the .html file to write"),
        ]:
            started = time.perf_counter()
            with pytest.raises(SystemExit, match=message):
                main(["export", *argv])
            assert time.perf_counter() - started < 0.5
        link = tmp_path / "link.html"
        link.symlink_to(out)
        with pytest.raises(SystemExit, match=r"is a symbolic link; give the file itself"):
            main(["export", "--out", str(link), "--force"])
    assert out.read_bytes() == b"<p>my lesson</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.html", "link.html"]
    assert main(["export", "--out", str(out), "--force", "--limit", "2"]) == 0
    assert out.stat().st_size > 1000 and b"my lesson" not in out.read_bytes()


def test_a_deflated_npz_too_big_for_the_page_is_refused_from_its_headers(tmp_path, monkeypatch):
    """93 KB of deflated zeros declaring 200 × 10⁴ × 12 float32: refused from the members' headers, nothing
    decompressed or recorded, with what to change."""
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, X=np.zeros((200, 10**4, 12), np.float32))
    assert path.stat().st_size < 200_000
    main(["export", "--out", str(tmp_path / "warm.html"), "--limit", "1"])  # imports and the model, warm
    loads = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    started = time.perf_counter()
    with pytest.raises(
        SystemExit,
        match=r"200 sequences of 2000000 steps in all would make a page of about 4829 MiB; a page holds at most "
        r"512 MiB \(lstm_widget.PAGE_BYTES_LIMIT\) — use --limit 21 \(the first 21 fit\), --float16",
    ):
        main(["export", "--out", str(tmp_path / "a.html"), "--data", str(path), "--limit", "0"])
    assert time.perf_counter() - started < 0.5 and loads == []
    monkeypatch.setattr(lw, "MEMORY_BUDGET", 100 * 2**20)
    with pytest.raises(SystemExit, match=r"would need about \d+ MiB of memory to record; the budget is 100 MiB"):
        main(["export", "--out", str(tmp_path / "a.html"), "--data", str(path), "--float16"])
    assert loads == [] and not (tmp_path / "a.html").exists()


BAD_SHAPES = st.sampled_from([(), (5,), (2, 5), (2, 3, 4, 12), (0, 3, 12), (2, 0, 12)])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=BAD_SHAPES, dtype=st.sampled_from(["float32", "int32", "bool"]), y=st.sampled_from([None, "2d", "str"]))
def test_bad_data_files_give_one_clear_error(tmp_path_factory, shape, dtype, y):
    folder = tmp_path_factory.mktemp("data")
    arrays = {"X": np.zeros(shape, dtype)}
    if y == "2d":
        arrays["y"] = np.zeros((2, 2), np.int64)
    elif y == "str":
        arrays["y"] = np.array(["a", "b"])
    np.savez(folder / "d.npz", **arrays)
    with pytest.raises(SystemExit) as info:
        main(["export", "--out", str(folder / "a.html"), "--data", str(folder / "d.npz")])
    assert "expected" in str(info.value) and not (folder / "a.html").exists()


def test_bad_data_of_every_kind_names_what_was_expected(tmp_path, monkeypatch):
    np.savez(tmp_path / "zero_d.npz", X=np.float32(3))
    np.save(tmp_path / "one_d.npy", np.zeros(5, np.float32))
    np.savez(tmp_path / "ragged.npz", x0=np.zeros((3, 12), np.float32), x1=np.zeros((3, 5), np.float32))
    np.savez(tmp_path / "none.npz", other=np.zeros(3))
    (tmp_path / "notzip.npz").write_bytes(b"hello")
    (tmp_path / "table.csv").write_text("1,2\n")
    (tmp_path / "mydata.py").write_text(
        "import numpy as np\ndef scalar():\n    return np.float32(1)\ndef objects():\n"
        "    return np.array([None, 1], dtype=object)\ndef labels():\n"
        "    return [np.zeros((4, 12), np.float32)], np.zeros((2, 2))\n"
    )
    monkeypatch.chdir(tmp_path)
    for data, message in [
        ("zero_d.npz", r"X has shape \(\) \(0-D\); expected \(sequences, steps, features\)"),
        ("one_d.npy", r"X has shape \(5,\) \(1-D\); expected \(sequences, steps, features\)"),
        ("ragged.npz", r"the sequences have shapes .*expected at least one sequence, each .* the same number"),
        ("none.npz", r"holds no array X and no arrays x0, x1, ...; expected japanese_vowels:train\|test"),
        ("notzip.npz", r"not a readable .npz file .*; expected"),
        ("table.csv", r"a file that is neither .npz nor .npy; expected"),
        ("missing.npz", r"not a readable .npz file .*No such file"),
        ("mydata:scalar", r"the function returned a float32; expected"),
        ("mydata:objects", r"the function returned an array of shape \(2,\) and dtype object; expected"),
        ("mydata:labels", r"labels y of shape \(2, 2\) .* for 1 sequences; expected"),
    ]:
        with pytest.raises(SystemExit, match=message):
            main(["export", "--out", "a.html", "--data", data])
    assert not (tmp_path / "a.html").exists()


def test_model_and_data_modules_are_found_in_the_current_folder(tmp_path, monkeypatch):
    """`--model mymodel:net` with mymodel.py in the current folder, as `python -m` finds it."""
    (tmp_path / "r16_mymodel.py").write_text(
        "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        torch.manual_seed(0)\n        self.lstm = nn.LSTM(3, 4, batch_first=True)\n"
        "        self.head = nn.Linear(4, 2)\n\n    def forward(self, x):\n        return self.head(self.lstm(x)[0])\n\n\n"
        "def net():\n    return Net().eval()\n\n\ndef data():\n    import numpy as np\n\n"
        "    return np.random.default_rng(0).normal(size=(3, 5, 3)).astype('float32'), np.array([0, 1, 0])\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd(), str(tmp_path))])
    monkeypatch.delitem(sys.modules, "r16_mymodel", raising=False)
    assert main(["export", "--out", "m.html", "--model", "r16_mymodel:net", "--data", "r16_mymodel:data"]) == 0
    assert (tmp_path / "m.html").stat().st_size > 1000
    sys.modules.pop("r16_mymodel", None)
