"""gate_saturation against a direct count on a small hand-made case, and on recordings of real models."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw


def _lstm_recording(T, gates: dict, layers=("layer0",)):
    L, U = len(layers), 2
    q = {k: np.full((L, T, U), 0.5, np.float32) for k in ("h", "c", "i", "f", "g", "o")}
    q.update(gates)
    return lw.Recording(inputs=np.zeros((T, 1), np.float32), layer_names=layers, **q)


def test_hand_made_case_equals_a_direct_count():
    # one layer, 2 units; 4 + 6 steps in two sequences
    f1 = np.array([[[0.05, 0.95], [0.5, 0.95], [0.05, 0.91], [0.1, 0.9]]], np.float32)  # (1, 4, 2)
    f2 = np.array([[[0.0, 1.0], [0.99, 0.09], [0.2, 0.3], [0.01, 0.5], [0.95, 0.5], [0.5, 0.5]]], np.float32)
    i1 = np.full((1, 4, 2), 0.95, np.float32)
    i2 = np.full((1, 6, 2), 0.05, np.float32)
    recs = [_lstm_recording(4, {"f": f1, "i": i1}), _lstm_recording(6, {"f": f2, "i": i2})]
    sat = lw.gate_saturation(recs)
    assert sat.gates == ("i", "f", "o") and sat.steps == 10 and sat.sequences == 2
    # unit 0 of f: below 0.1 at 0.05, 0.05, 0.0, 0.01 (0.1 itself is not below) → 4/10; above 0.9 at 0.99, 0.95 → 2/10
    # unit 1 of f: below at 0.09 → 1/10; above at 0.95, 0.95, 0.91, 1.0 (0.9 itself is not above) → 4/10
    np.testing.assert_allclose(sat.left["f"], [[0.4, 0.1]])
    np.testing.assert_allclose(sat.right["f"], [[0.2, 0.4]])
    np.testing.assert_allclose(sat.left["i"], [[0.6, 0.6]])
    np.testing.assert_allclose(sat.right["i"], [[0.4, 0.4]])
    np.testing.assert_allclose(sat.left["o"], [[0.0, 0.0]])
    # the same numbers by a direct count over the pooled steps
    f = np.concatenate([f1, f2], axis=1)
    np.testing.assert_allclose(sat.left["f"], (f < 0.1).mean(axis=1))
    np.testing.assert_allclose(sat.right["f"], (f > 0.9).mean(axis=1))
    np.testing.assert_allclose(sat["layer0.f"], [[0.4, 0.2], [0.1, 0.4]])
    # other thresholds
    wide = lw.gate_saturation(recs, low=0.25, high=0.75)
    np.testing.assert_allclose(wide.left["f"], (f < 0.25).mean(axis=1))
    # one recording alone
    np.testing.assert_allclose(lw.gate_saturation(recs[0]).right["f"], [[0.0, 0.75]])


def test_table_and_dict_forms():
    recs = [_lstm_recording(3, {}, layers=("layer0", "layer1"))]
    sat = lw.gate_saturation(recs, layer="layer1")
    assert sat.layer_names == ("layer1",) and sat.left["f"].shape == (1, 2)
    rows = sat.rows()
    assert len(rows) == 3 * 1 * 2
    assert rows[0] == {"layer": "layer1", "gate": "i", "unit": 0, "left": 0.0, "right": 0.0}
    d = json.loads(json.dumps(sat.to_dict()))
    assert d["gates"] == ["i", "f", "o"] and d["left"]["f"] == [[0.0, 0.0]] and d["steps"] == 3
    assert lw.gate_saturation(recs, layer=-1).layer_names == ("layer1",)


def test_on_real_lstm_and_gru_recordings():
    torch.manual_seed(0)
    xs = [torch.randn(n, 3) * 4 for n in (5, 9, 7)]
    lstm = lw.record(nn.LSTM(3, 6, num_layers=2, bidirectional=True), xs)
    sat = lw.gate_saturation(lstm)
    assert sat.left["i"].shape == (4, 6) and sat.steps == 21
    pooled = np.concatenate([r.o for r in lstm], axis=1)
    np.testing.assert_allclose(sat.right["o"], (pooled > 0.9).mean(axis=1))
    gru = lw.record(nn.GRU(3, 5), xs)
    gsat = lw.gate_saturation(gru, layer=0)
    assert gsat.gates == ("r", "z") and gsat.cell == "gru"
    pooled = np.concatenate([r.z for r in gru], axis=1)
    np.testing.assert_allclose(gsat.left["z"], (pooled < 0.1).mean(axis=1))


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(recordings=[]), TypeError, r"non-empty list of Recordings .* got an empty list"),
        (dict(recordings="x"), TypeError, r"got a str"),
        (dict(recordings=[np.zeros(3)]), TypeError, r"recordings\[0\] is a ndarray; expected a Recording"),
        (dict(low=0.9, high=0.1), ValueError, r"low must be below high; got low=0.9, high=0.1"),
        (dict(high=1.5), ValueError, r"high must be a number in \[0, 1\]; got 1.5"),
        (
            dict(layer="layer9"),
            ValueError,
            r"layer must be None, a row index \(0..0\) or a name from \['layer0'\]; got 'layer9'",
        ),
    ],
    ids=["empty", "str", "not-recording", "low-high", "high-range", "layer"],
)
def test_bad_arguments_get_one_clear_error(kwargs, exc, message):
    kwargs.setdefault("recordings", [_lstm_recording(3, {})])
    with pytest.raises(exc, match=message):
        lw.gate_saturation(**kwargs)


def test_recordings_of_different_models_are_refused():
    a = lw.record(nn.LSTM(2, 3), torch.randn(4, 2))
    b = lw.record(nn.GRU(2, 3), torch.randn(4, 2))
    with pytest.raises(ValueError, match=r"recordings\[1\] comes from another model \(gru"):
        lw.gate_saturation([a, b])
