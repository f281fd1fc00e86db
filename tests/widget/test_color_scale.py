"""The heatmap's colour range, ``Explorer.color_scale``: its values (the same list as the page's), the default, the
refusal of anything else from Python or from the page, and the value saved with a standalone export."""

import json
import re
from pathlib import Path

import pytest
import traitlets

import lstm_widget as lw
from lstm_widget._widget.explorer import COLOR_SCALES

from helpers import FakeComm

JS_SCALES = Path(__file__).resolve().parents[2] / "js" / "src" / "colorscale.js"


def test_the_values_are_the_pages():
    text = JS_SCALES.read_text(encoding="utf-8")
    listed = re.search(r"export const COLOR_SCALES = \[([^\]]*)\]", text).group(1)
    assert tuple(json.loads(f"[{listed}]")) == COLOR_SCALES == ("auto", "sequence", "unit", "global")


def test_default_is_auto_and_every_value_is_taken(model, seqs):
    ex = lw.Explorer(model, seqs)
    assert ex.color_scale == "auto"
    for mode in COLOR_SCALES:
        ex.color_scale = mode
        assert ex.color_scale == mode and ex.get_state("color_scale")["color_scale"] == mode
    assert lw.Explorer(model, seqs, color_scale="unit").color_scale == "unit"


@pytest.mark.parametrize("value", ["per-unit", "", "Global"])
def test_other_values_are_refused_naming_the_allowed_ones(model, seqs, value):
    ex = lw.Explorer(model, seqs, color_scale="global")
    expected = re.escape("color_scale must be one of 'auto', 'sequence', 'unit', 'global'; got ") + re.escape(
        repr(value)
    )
    with pytest.raises(traitlets.TraitError, match=expected):
        ex.color_scale = value
    assert ex.color_scale == "global"
    with pytest.raises(traitlets.TraitError, match=expected):
        lw.Explorer(model, seqs, color_scale=value)


def test_a_bad_value_from_the_page_is_refused_and_the_page_told(model, seqs):
    ex = lw.Explorer(model, seqs)
    ex.comm = comm = FakeComm()
    ex._handle_msg({"content": {"data": {"method": "update", "state": {"color_scale": "unit"}}}, "buffers": []})
    assert ex.color_scale == "unit"
    # (ipywidgets logs the TraitError of a page's write; the value stays, and the page is sent it back)
    ex._handle_msg({"content": {"data": {"method": "update", "state": {"color_scale": "rows"}}}, "buffers": []})
    assert ex.color_scale == "unit"
    assert {"method": "update", "state": {"color_scale": "unit"}, "buffer_paths": []} in comm.sent


def test_the_export_opens_with_the_scale_shown(model, seqs, tmp_path):
    ex = lw.Explorer(model, seqs, color_scale="sequence")
    ex.save_html(tmp_path / "page.html", quiet=True)
    text = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert '"color_scale":"sequence"' in text
