"""The standalone HTML export: what goes into the file (tests/ui/test_export_page.py opens it in Chromium)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lstm_widget as lw
from lstm_widget._widget.export import export_bundle, standalone_html, state_json
from lstm_widget._widget.payload import neighbours_within
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
    page = len(export_bundle())  # the front end every export carries, whatever the dtype
    assert b - page < 0.62 * (a - page)
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


# ---- what is exported by default: the current sequence and its neighbours within lw.EXPORT_BUDGET ---------------------
@pytest.fixture(scope="module")
def ex20():
    X, y = japanese_vowels("test")
    return lw.Explorer(japanese_vowels_net(), X[:20], y[:20], sequence_names=[f"utterance {k}" for k in range(20)])


def _exported_names(path) -> list[str]:
    return _state(path)["_meta"]["sequence_names"]


def test_default_export_is_the_current_sequence_and_neighbours_within_the_budget(ex20, tmp_path, capsys, monkeypatch):
    assert lw.EXPORT_BUDGET == 4 * 2**20
    ex20.sequence, ex20.t = 9, 4
    one = ex20.save_html(tmp_path / "one.html", sequences=9, quiet=True)
    all_ = ex20.save_html(tmp_path / "all.html", sequences="all", quiet=True)
    per_sequence = (all_ - one) / 19
    budget = int(one + 5.5 * per_sequence)  # room for about five neighbours
    monkeypatch.setattr(lw, "EXPORT_BUDGET", budget)
    capsys.readouterr()
    size = ex20.save_html(tmp_path / "a.html")
    out = capsys.readouterr().out
    names = _exported_names(tmp_path / "a.html")
    index = [int(n.split()[-1]) for n in names]
    assert 9 in index and index == list(range(index[0], index[-1] + 1)), index
    assert 3 <= len(index) <= 7 and abs((9 - index[0]) - (index[-1] - 9)) <= 1, "neighbours on both sides"
    assert size == (tmp_path / "a.html").stat().st_size <= budget
    st = _state(tmp_path / "a.html")
    assert st["sequence"] == index.index(9) and st["t"] == 4, "it opens on the current sequence and step"
    assert out.startswith(f"saved {tmp_path / 'a.html'}: sequences {index[0]}–{index[-1]} of 20 (")
    assert f"{size / 2**20:.2f} MiB, float32" in out and 'sequences="all"' in out


def test_the_current_sequence_is_exported_even_alone_over_the_budget(ex20, tmp_path, capsys, monkeypatch):
    ex20.sequence, ex20.t = 0, 0
    monkeypatch.setattr(lw, "EXPORT_BUDGET", 1)
    ex20.save_html(tmp_path / "a.html")
    assert _exported_names(tmp_path / "a.html") == ["utterance 0"]
    assert "sequence 0 of 20" in capsys.readouterr().out


def test_all_exports_every_sequence_whatever_the_budget(ex20, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(lw, "EXPORT_BUDGET", 1)
    ex20.sequence = 3
    ex20.save_html(tmp_path / "a.html", sequences="all")
    assert _exported_names(tmp_path / "a.html") == [f"utterance {k}" for k in range(20)]
    assert "all 20 sequences" in capsys.readouterr().out
    ex20.save_html(tmp_path / "b.html", sequences=[0, 1, 2, 7, 9, 10])
    assert "sequences 0–2, 7, 9, 10 of 20" in capsys.readouterr().out
    with pytest.raises(TypeError, match='"all"'):
        ex20.save_html(tmp_path / "c.html", sequences="every")


def test_default_export_of_a_small_explorer_holds_every_sequence(ex, tmp_path, capsys):
    ex.save_html(tmp_path / "a.html")
    assert _state(tmp_path / "a.html")["_meta"]["n_sequences"] == 6
    assert "all 6 sequences" in capsys.readouterr().out


def test_cli_export_keeps_every_sequence_it_read(tmp_path, capsys, monkeypatch):
    from lstm_widget._cli import main

    monkeypatch.setattr(lw, "EXPORT_BUDGET", 1)
    assert main(["export", "--out", str(tmp_path / "l.html"), "--limit", "4"]) == 0
    assert _state(tmp_path / "l.html")["_meta"]["n_sequences"] == 4


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 50), min_size=1, max_size=30),
    data=st.data(),
    budget=st.integers(0, 400),
)
def test_neighbours_within_are_consecutive_around_the_current_one_and_as_many_as_fit(sizes, data, budget):
    current = data.draw(st.integers(0, len(sizes) - 1))
    index = neighbours_within(current, sizes, budget)
    assert current in index and index == list(range(index[0], index[-1] + 1))
    total = sum(sizes[k] for k in index)
    assert total <= budget or index == [current]
    for k in (index[0] - 1, index[-1] + 1):  # neither side could take one more
        assert not (0 <= k < len(sizes) and total + sizes[k] <= budget)


def test_a_uint8_token_export_counts_its_int32_ids_at_four_bytes(tmp_path, monkeypatch):
    import torch

    from zoo import TokenClassifier

    torch.manual_seed(0)
    model = TokenClassifier(vocab=30).eval()  # > 20 classes: the top-k ids and ranks travel as int32
    rng = np.random.default_rng(0)
    ex = lw.Explorer(model, [rng.integers(0, 30, 400) for _ in range(30)], top_k=20, wire_dtype="uint8")
    assert ex._meta["top_k"] == 20
    ex.sequence = 15
    one = ex.save_html(tmp_path / "one.html", sequences=15, quiet=True)
    two = ex.save_html(tmp_path / "two.html", sequences=[15, 16], quiet=True)
    budget = int(one + 10.5 * (two - one))  # room for about ten neighbours (int32 ids counted at 1 byte: 17)
    monkeypatch.setattr(lw, "EXPORT_BUDGET", budget)
    size = ex.save_html(tmp_path / "a.html", quiet=True)
    n = len(_exported_names(tmp_path / "a.html"))
    assert size <= budget and 8 <= n <= 11, (size, budget, n)
