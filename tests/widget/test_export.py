"""The standalone HTML export: what goes into the file (tests/ui/test_export_page.py opens it in Chromium)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import lstm_widget as lw
from lstm_widget._widget.export import standalone_html, state_json
from lstm_widget._wire import decode_array
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net

from helpers import export_state as _state

HOSTILE = "</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def ex():
    X, y = japanese_vowels("test")
    names = [HOSTILE] + [f"speaker {k}" for k in range(2, 10)]
    return lw.Explorer(japanese_vowels_net(), X[:6], y[:6], class_names=names, preload="h")


def _decode(entry) -> np.ndarray:
    import base64

    return decode_array({**entry, "buffer": base64.b64decode(entry["buffer"]["$b64"])})


def test_state_holds_every_quantity_of_the_chosen_sequences(ex, tmp_path):
    ex.sequence, ex.t = 4, 3
    size = ex.save_html(tmp_path / "a.html", sequences=[4, 1], quiet=True)
    assert size == (tmp_path / "a.html").stat().st_size
    st = _state(tmp_path / "a.html")
    assert ex.loaded_quantities == ["h"]  # the widget itself still holds only what the page asked for
    recs = [ex.recordings[4], ex.recordings[1]]
    assert st["_meta"]["lengths"] == [len(r) for r in recs]
    assert st["_meta"]["labels"] == [ex._meta["labels"][4], ex._meta["labels"][1]]
    assert st["sequence"] == 0 and st["t"] == 3 and st["playing"] is False
    for q in ("h", "c", "i", "f", "g", "o"):
        got = _decode(st[f"_data_{q}"])
        np.testing.assert_array_equal(got, np.concatenate([getattr(r, q) for r in recs], axis=1))
    np.testing.assert_array_equal(_decode(st["_arrays"]["probs"]), np.concatenate([r.probs for r in recs]))
    # the same trajectory map as in the notebook: the steps keep their coordinates
    full = decode_array(ex._arrays["traj"])
    offsets = ex._meta["offsets"]
    want = np.concatenate([full[offsets[4] : offsets[5]], full[offsets[1] : offsets[2]]])
    np.testing.assert_allclose(_decode(st["_arrays"]["traj"]), want, rtol=0, atol=1e-6)


def test_float16_about_halves_the_file(ex, tmp_path, capsys):
    a = ex.save_html(tmp_path / "a.html")
    b = ex.save_html(tmp_path / "b.html", wire_dtype="float16")
    out = capsys.readouterr().out
    assert "MiB" in out and "float16" in out
    assert b < 0.62 * a
    h16 = _decode(_state(tmp_path / "b.html")["_data_h"])
    np.testing.assert_allclose(h16, np.concatenate([r.h for r in ex.recordings], axis=1), atol=1e-3)


def test_no_markup_or_request_can_come_from_names(ex, tmp_path):
    ex.save_html(tmp_path / "a.html", title=HOSTILE, quiet=True)
    text = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "<img" not in text  # the names travel escaped in the JSON and in the title
    assert text.count("</script>") == 3  # state, bundle, mount: nothing closes an element early
    assert _state(tmp_path / "a.html")["_meta"]["class_names"][0] == HOSTILE
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), "the page references the network"
    assert "default-src 'none'" in text  # and the page forbids fetching anything


def test_state_json_escapes_what_could_end_the_element():
    text = state_json({"a": "</script><!-- & >", "b": b"\x00\xff"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & >", "b": {"$b64": "AP8="}}
    with pytest.raises(ValueError):
        state_json({"x": float("nan")})
    html = standalone_html({"t": 0}, title="T")
    assert html.startswith("<!DOCTYPE html>") and "lstmWidgetExport.renderPage" in html


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ([7], ValueError, r"7 is out of range; expected distinct indices 0\.\.5"),
        ([], ValueError, "it is empty"),
        ([1, 1], ValueError, "repeats"),
        (["a"], TypeError, "ints 0..5"),
        ([True], TypeError, "ints 0..5"),
        (slice(9, 12), ValueError, "empty"),
    ],
)
def test_bad_sequences_get_one_clear_error(ex, tmp_path, bad, error, match):
    with pytest.raises(error, match=match):
        ex.save_html(tmp_path / "a.html", sequences=bad)
    assert not (tmp_path / "a.html").exists()


def test_a_slice_and_an_int_select_sequences(ex, tmp_path):
    ex.save_html(tmp_path / "a.html", sequences=slice(0, 2), quiet=True)
    assert _state(tmp_path / "a.html")["_meta"]["n_sequences"] == 2
    ex.save_html(tmp_path / "b.html", sequences=5, quiet=True)
    assert _state(tmp_path / "b.html")["_meta"]["lengths"] == [len(ex.recordings[5])]


def test_cli_export(tmp_path, capsys):
    from lstm_widget._cli import main

    assert main(["export", "--out", str(tmp_path / "l.html"), "--limit", "3", "--float16", "--title", "Vowels"]) == 0
    out = capsys.readouterr().out
    assert "l.html" in out and "3 sequences" in out and "float16" in out
    st = _state(tmp_path / "l.html")
    assert st["_meta"]["n_sequences"] == 3 and st["_meta"]["class_names"][0] == "speaker 1"
    assert st["_data_h"]["dtype"] == "float16"


def test_cli_export_reads_npz_without_pickle(tmp_path, capsys):
    from lstm_widget._cli import main

    X, y = japanese_vowels("train")
    np.savez(tmp_path / "d.npz", x0=X[0], x1=X[1], y=y[:2])
    assert main(["export", "--out", str(tmp_path / "l.html"), "--data", str(tmp_path / "d.npz")]) == 0
    assert _state(tmp_path / "l.html")["_meta"]["lengths"] == [len(X[0]), len(X[1])]
    np.savez(tmp_path / "obj.npz", X=np.array([X[0], X[1][:5]], dtype=object))
    with pytest.raises(SystemExit, match="pickle"):
        main(["export", "--out", str(tmp_path / "m.html"), "--data", str(tmp_path / "obj.npz")])
