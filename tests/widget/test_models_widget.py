"""The Explorer on the recurrent models people have (tests/zoo.py): it records through the model's own forward, and
what the page is sent is what the model computed — token ids and their embeddings, a regression's raw outputs, every
recurrent module on one timeline — or, where something cannot be derived exactly, the reason in one line."""

import numpy as np
import pytest
import torch

import lstm_widget as lw
from lstm_widget._wire import decode_array

from zoo import EncoderDecoder, Regressor, SineForecaster, TokenClassifier, WordLM, lm_forward

ATOL = 1e-5


class Outbox:
    """Collects the custom messages an explorer sends (stream's begin / append / end)."""

    def __init__(self, ex):
        self.messages = []
        ex.send = lambda content, buffers=None: self.messages.append((content, buffers))


def test_a_token_model_is_shown_with_its_ids_and_the_embedding_its_lstm_received():
    torch.manual_seed(0)
    model = TokenClassifier(vocab=11).eval()
    rng = np.random.default_rng(0)
    ids = [rng.integers(0, 11, n) for n in (7, 4)]
    ex = lw.Explorer(model, ids)
    meta, arrays = ex._meta, ex._arrays
    assert meta["tokens"] and meta["task"] == "classification" and meta["n_classes"] == 11
    assert meta["feature_names"][:2] == ["e0", "e1"]
    np.testing.assert_array_equal(decode_array(arrays["token_ids"]), np.concatenate(ids))
    with torch.no_grad():
        emb = torch.cat([model.emb(torch.from_numpy(s)) for s in ids]).numpy()
        logits = torch.cat([model(torch.from_numpy(s)[None])[0] for s in ids])
    np.testing.assert_allclose(decode_array(arrays["inputs"]), emb, atol=ATOL)
    np.testing.assert_allclose(decode_array(arrays["probs"]), torch.softmax(logits, -1).numpy(), atol=ATOL)
    # floats given to a model that takes ids: one error that says what it takes
    with pytest.raises(TypeError, match="token ids"):
        lw.Explorer(model, [rng.normal(size=(5, 1)).astype(np.float32)])


def test_streaming_ids_into_a_token_model_appends_ids_embeddings_and_the_model_s_own_probabilities():
    torch.manual_seed(1)
    model = TokenClassifier(vocab=9).eval()
    ex = lw.Explorer(model, [np.arange(5) % 9])
    box = Outbox(ex)
    ids = np.array([3, 1, 4, 1, 5, 8])
    rec = ex.stream(ids, name="streamed")
    appended = [m for m, _ in box.messages if m["type"] == "append"]
    names = {f["name"] for m in appended for f in m["fields"]}
    assert {"token_ids", "inputs", "probs", "h"} <= names
    np.testing.assert_array_equal(rec.inputs, ids)
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(ids)[None])[0], -1).numpy()
    np.testing.assert_allclose(rec.probs, probs, atol=ATOL)
    np.testing.assert_array_equal(decode_array(ex._arrays["token_ids"])[-6:], ids)
    with pytest.raises(ValueError, match="ids 0..8"):
        ex.stream(np.array([2, 9]))


def test_a_word_language_model_called_with_its_hidden_state():
    torch.manual_seed(2)
    model = WordLM().eval()
    ids = np.array([1, 5, 2, 9, 16, 0, 3])
    ex = lw.Explorer(model, [ids], forward=lm_forward)
    with torch.no_grad():
        logp, _ = model(torch.from_numpy(ids)[:, None], model.init_hidden(1))
    np.testing.assert_allclose(decode_array(ex._arrays["probs"]), logp.exp().numpy(), atol=ATOL)
    assert ex._meta["layer_names"] == ["layer0", "layer1"] and ex._meta["model_note"] is None
    rec = ex.stream(ids[:3])  # stepped one id at a time, as record records it
    np.testing.assert_allclose(rec.h, ex.recordings[0].h[:, :3], atol=ATOL)


def test_a_regressor_sends_its_raw_outputs_and_no_probabilities():
    torch.manual_seed(3)
    model = Regressor().eval()
    x = np.random.default_rng(3).normal(size=(12, 3)).astype(np.float32)
    ex = lw.Explorer(model, [x, x[:5]])
    meta, arrays = ex._meta, ex._arrays
    assert meta["task"] == "regression" and not meta["has_head"] and meta["n_classes"] == 0 and meta["n_outputs"] == 1
    assert "probs" not in arrays
    with torch.no_grad():
        y = model(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_allclose(decode_array(arrays["outputs"])[:12], y, atol=ATOL)
    assert "what the model returned" in meta["outputs_note"]
    rec = ex.stream(x[:4])
    np.testing.assert_allclose(rec.outputs, y[:4], atol=ATOL)


def test_a_two_cell_forecaster_shows_both_cells_with_its_own_closed_loop_outputs_and_says_why_it_cannot_stream():
    torch.manual_seed(4)
    model = SineForecaster().eval()
    x = np.sin(np.linspace(0, 3, 10, dtype=np.float32))[:, None]
    ex = lw.Explorer(model, [x], forward=lambda m, b: m(b[..., 0], future=3))
    meta = ex._meta
    assert meta["layer_names"] == ["lstm1", "lstm2"] and meta["lengths"] == [13] and meta["task"] == "regression"
    with torch.no_grad():
        y = model(torch.from_numpy(x)[None, :, 0], future=3)[0].numpy()
    np.testing.assert_allclose(decode_array(ex._arrays["outputs"])[:, 0], y, atol=ATOL)
    inputs = decode_array(ex._arrays["inputs"])
    np.testing.assert_array_equal(inputs[:10], x)
    assert np.isnan(inputs[10:]).all()  # closed-loop steps: no input of the user's
    assert "lstm1" in meta["model_note"] and not meta["has_weights"]
    with pytest.raises(RuntimeError, match="cannot step new sequences: .*lstm1"):
        ex.stream(x)


def test_an_encoder_decoder_shares_one_timeline_in_two_stages():
    torch.manual_seed(5)
    model = EncoderDecoder(steps=4).eval()
    x = np.random.default_rng(5).normal(size=(6, 3)).astype(np.float32)
    ex = lw.Explorer(model, [x])
    meta = ex._meta
    assert meta["layer_names"] == ["encoder.layer0", "decoder.layer0"]
    assert meta["stages"] == [[["encoder", 0, 6], ["decoder", 6, 10]]] and meta["lengths"] == [10]
    h = decode_array(ex._data_h)
    assert np.isnan(h[0, 6:]).all() and np.isnan(h[1, :6]).all() and np.isfinite(h[0, :6]).all()
    for q, (lo, hi) in meta["limits"].items():
        assert np.isfinite([lo, hi]).all(), q
    # the trajectory (the decoder's h by default) is placed where the decoder ran, NaN where it did not
    traj = decode_array(ex._arrays["traj"])
    assert np.isnan(traj[:6]).all() and np.isfinite(traj[6:]).all()


def test_a_regressor_with_targets_sends_them_per_step_and_streamed_sequences_have_none():
    torch.manual_seed(6)
    model = Regressor().eval()
    rng = np.random.default_rng(6)
    xs = [rng.normal(size=(9, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)]
    ys = [np.sin(np.arange(9, dtype=np.float32)), np.full((4, 1), np.nan)]
    ys[1][2] = 0.25
    ex = lw.Explorer(model, xs, targets=ys, traj_view={"color": "target"})
    targets = decode_array(ex._arrays["targets"])
    assert targets.shape == (13, 1) and ex.traj_view["color"] == "target"
    np.testing.assert_allclose(targets[:9, 0], ys[0], atol=1e-6)
    assert np.isnan(targets[[9, 10, 12], 0]).all() and targets[11, 0] == np.float32(0.25)
    ex.stream(xs[0][:3])
    grown = decode_array(ex._arrays["targets"])
    assert grown.shape == (16, 1) and np.isnan(grown[13:]).all()
    np.testing.assert_allclose(grown[:9, 0], ys[0], atol=1e-6)
    ex.traj_view = {"color": "output"}  # a regression may be coloured by its prediction
    # an export of the second sequence alone carries its own targets
    loaded = ex._loaded
    _, traits = loaded.assemble(ex._trajectory.fitted, ex._trajectory.key, recs=[loaded.recordings[1]], index=[1])
    np.testing.assert_array_equal(decode_array(traits["_arrays"]["targets"]), ys[1])


def test_targets_are_checked_against_the_timeline_with_one_clear_error():
    torch.manual_seed(7)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    reg = Regressor().eval()
    with pytest.raises(ValueError, match=r"targets\[0\] has shape \(5,\); expected \(6,\) or \(6, k\)"):
        lw.Explorer(reg, [x], targets=[np.zeros(5)])
    with pytest.raises(ValueError, match="targets has 2 entries; expected one per sequence"):
        lw.Explorer(reg, [x], targets=[np.zeros(6), np.zeros(6)])
    with pytest.raises(ValueError, match=r"targets\[0\] has 2 columns; the model gives 1 outputs"):
        lw.Explorer(reg, [x], targets=[np.zeros((6, 2))])
    with pytest.raises(TypeError, match="one \\(T,\\) or \\(T, k\\) array per sequence"):
        lw.Explorer(reg, [x], targets=np.zeros(6))
    with pytest.raises(ValueError, match="infinite"):
        lw.Explorer(reg, [x], targets=[np.full(6, np.inf)])
    # the forecaster's timeline is its inputs plus the closed-loop steps: targets cover all 13, NaN where none
    model = SineForecaster().eval()
    s = np.sin(np.linspace(0, 3, 10, dtype=np.float32))[:, None]
    fwd = lambda m, b: m(b[..., 0], future=3)  # noqa: E731 - the forward as users write it
    with pytest.raises(ValueError, match=r"13 steps, 10 of them input steps and 3 after them"):
        lw.Explorer(model, [s], forward=fwd, targets=[s[:, 0]])
    ex = lw.Explorer(model, [s], forward=fwd, targets=[np.r_[s[1:, 0], np.full(4, np.nan)]])
    assert decode_array(ex._arrays["targets"]).shape == (13, 1)
    # a classifier's targets are its labels; traj colours by target / output need targets / a regression
    torch.manual_seed(8)
    clf = TokenClassifier(vocab=5).eval()
    with pytest.raises(ValueError, match="labels="):
        lw.Explorer(clf, [np.arange(4) % 5], targets=[np.zeros(4)])
    with pytest.raises(ValueError, match="'target' needs per-step targets"):
        lw.Explorer(reg, [x], traj_view={"color": "target"})
    with pytest.raises(ValueError, match="'output' colours by a regression"):
        lw.Explorer(clf, [np.arange(4) % 5], traj_view={"color": "output"})
    with pytest.raises(ValueError, match="not taken by from_dataset"):
        lw.Explorer.from_dataset("nowhere.zarr", targets=[np.zeros(6)])
