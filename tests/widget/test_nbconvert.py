"""``jupyter nbconvert --execute --to html`` of every notebook under notebooks/ succeeds, and the HTML carries what
the ipywidgets HTML manager needs to bring our widgets back without a kernel: the widget state
(``application/vnd.jupyter.widget-state+json``) holds every lstm_widget model that a cell displays (a
``widget-view+json`` script), with its ``_esm`` bundle, its ``_meta`` and every array's bytes as a base64 ``buffers``
entry (ipywidgets moves ``bytes`` nested in a trait out of the JSON: ``{"path": [trait, key, ..., "buffer"],
"encoding": "base64", "data": ...}``). Whether the page then renders and scrubs is tests/ui/test_nbconvert_html.py.

The conversion itself is the session fixture ``nbconvert_html`` (tests/conftest.py), shared with that browser test.
"""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
STATE_RE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)
VIEW_RE = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.S)
ITEMSIZE = {"float32": 4, "float16": 2, "uint8": 1, "int32": 4}
# widget classes a notebook may build: if its code calls one, the HTML must show a model of that class
CLASSES = ("Explorer", "ChannelGrid")


def widget_state(text: str) -> dict:
    """The ``state`` dict (model id -> {model_module, model_name, state, buffers}) saved in nbconvert's HTML."""
    found = STATE_RE.findall(text)
    assert len(found) == 1, f"expected one widget-state script, found {len(found)}"
    saved = json.loads(found[0])  # every "/" is written "\/" (nbconvert's escape_html_script): still JSON
    assert saved.get("version_major") == 2, {k: v for k, v in saved.items() if k != "state"}
    return saved["state"]


def widget_views(text: str) -> list[str]:
    """Model ids of the widgets the cells display, in page order."""
    return [json.loads(v)["model_id"] for v in VIEW_RE.findall(text)]


def ours(state: dict) -> dict:
    """The lstm_widget models (anywidget models whose ``_anywidget_id`` names a class of this package)."""
    return {mid: m for mid, m in state.items() if m.get("model_module") == "anywidget"
            and str(m["state"].get("_anywidget_id", "")).startswith("lstm_widget.")}  # fmt: skip


def encoded_arrays(value, path=()):
    """(path, {dtype, shape, ...}) of every encoded array (js/PROTOCOL.md) in a saved trait value."""
    if isinstance(value, dict):
        if "dtype" in value and "shape" in value:
            yield path, value
        else:
            for k, v in value.items():
                yield from encoded_arrays(v, (*path, k))


def check_model(mid: str, model: dict) -> dict[tuple, bytes]:
    """Assert one saved lstm_widget model is complete; returns its buffers by path."""
    state = model["state"]
    name = state["_anywidget_id"]
    assert isinstance(state.get("_esm"), str) and len(state["_esm"]) > 1000, f"{name}: no front-end bundle in _esm"
    assert isinstance(state.get("_meta"), dict) and state["_meta"], f"{name}: _meta is missing or empty"
    buffers = {}
    for b in model.get("buffers", []):
        assert b.get("encoding") == "base64", (name, b.get("path"), b.get("encoding"))
        buffers[tuple(b["path"])] = base64.b64decode(b["data"])
    arrays = list(encoded_arrays({k: v for k, v in state.items() if not k.startswith("_model") and k != "_meta"}))
    assert arrays, f"{name}: no encoded arrays in the saved state"
    for path, enc in arrays:
        key = (*path, "buffer")
        assert key in buffers, f"{name} {mid}: no buffer saved for {'.'.join(map(str, path))}"
        want = ITEMSIZE[enc["dtype"]] * math.prod(enc["shape"])
        where = ".".join(map(str, path))
        assert len(buffers[key]) == want, f"{name}: {where} has {len(buffers[key])} bytes, not {want}"
    extra = set(buffers) - {(*p, "buffer") for p, _ in arrays}
    assert not extra, f"{name}: buffers that no array refers to: {extra}"
    return buffers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbconvert_html_keeps_the_widgets(path, nbconvert_html):
    text = nbconvert_html(path).read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")  # str or list of lines
    wanted = [cls for cls in CLASSES if re.search(rf"\b{cls}(\.from_\w+)?\(", source)]
    if not wanted and "application/vnd.jupyter.widget-state+json" not in text:
        pytest.skip(f"{path.name} shows no widget")
    state = widget_state(text)
    views = widget_views(text)
    missing = [mid for mid in views if mid not in state]
    assert not missing, f"widget views without a saved model: {missing}"
    mine = ours(state)
    shown = {mine[mid]["state"]["_anywidget_id"].rsplit(".", 1)[1] for mid in views if mid in mine}
    for cls in wanted:  # Explorer.from_dataset / from_training make a subclass (DatasetExplorer, TrainingExplorer)
        assert any(s.endswith(cls) for s in shown), f"{path.name} builds a {cls} but the HTML shows none ({shown})"
    for mid, model in mine.items():
        buffers = check_model(mid, model)
        state_ = model["state"]
        if state_["_anywidget_id"].endswith("Explorer"):
            meta, arrays = state_["_meta"], state_["_arrays"]
            steps = meta["offsets"][-1]
            assert steps == sum(meta["lengths"]) and meta["n_sequences"] == len(meta["lengths"]), meta["lengths"]
            assert arrays["inputs"]["shape"][0] == steps, (arrays["inputs"]["shape"], steps)
            # the quantity on screen travels with the page (the others may be loaded on demand in a live kernel)
            q = state_["quantity"]
            assert state_[f"_data_{q}"].get("shape", [None, None])[1] == steps, f"_data_{q} is not saved"
            if arrays["inputs"]["dtype"] == "float32":
                x = np.frombuffer(buffers[("_arrays", "inputs", "buffer")], "<f4")
                real = x[np.isfinite(x)]  # NaN only where the user gave no input (a forecaster's closed-loop steps)
                assert real.size > x.size // 4 and real.std() > 0, "the saved inputs are not real data"
