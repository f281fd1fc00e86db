"""record() against torch's own nn.LSTM outputs, and the LSTM identities between the recorded quantities."""

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw

from helpers import RNN_CASES, Classifier, run_torch

ATOL = 1e-5


CASES = [*RNN_CASES, dict(num_layers=2, proj_size=3), dict(num_layers=2, proj_size=3, bidirectional=True)]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_record_matches_nn_lstm(kw):
    torch.manual_seed(1)
    m = nn.LSTM(5, 7, **kw).eval()
    x = torch.randn(11, 5)
    rec = lw.record(m, x)
    out, hn, cn = run_torch(m, x)
    dirs = 2 if m.bidirectional else 1
    L = m.num_layers * dirs
    P = m.proj_size or m.hidden_size
    assert rec.h.shape == (L, 11, P) and rec.c.shape == (L, 11, 7) and rec.i.shape == (L, 11, 7)
    assert rec.layer_names[:dirs] == (("layer0", "layer0_reverse") if dirs == 2 else ("layer0",))
    # the output sequence is the last layer's h, directions side by side
    last = np.concatenate([rec.h[L - dirs + d] for d in range(dirs)], axis=-1)
    np.testing.assert_allclose(last, out, atol=ATOL)
    # final states: the forward direction ends at T-1, the reverse direction at step 0
    for row in range(L):
        t_end = 0 if row % dirs else -1
        np.testing.assert_allclose(rec.h[row, t_end], hn[row], atol=ATOL)
        np.testing.assert_allclose(rec.c[row, t_end], cn[row], atol=ATOL)


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_gate_identities_hold(kw):
    torch.manual_seed(2)
    m = nn.LSTM(4, 6, **kw).eval()
    rec = lw.record(m, torch.randn(13, 4))
    dirs = 2 if m.bidirectional else 1
    for row in range(rec.h.shape[0]):
        i, f, g, o, c = (getattr(rec, q)[row] for q in "ifgoc")
        c_prev = np.zeros_like(c)
        if row % dirs:  # reverse direction: the previous state is the next step's
            c_prev[:-1] = c[1:]
        else:
            c_prev[1:] = c[:-1]
        np.testing.assert_allclose(c, f * c_prev + i * g, atol=ATOL)
        h = o * np.tanh(c)
        if m.proj_size:
            sfx = f"_l{row // dirs}" + ("_reverse" if row % dirs else "")
            h = h @ getattr(m, "weight_hr" + sfx).detach().numpy().T
        np.testing.assert_allclose(rec.h[row], h, atol=ATOL)
        assert (i >= 0).all() and (i <= 1).all() and (np.abs(g) <= 1).all()


def test_record_lstmcell_matches_its_own_loop():
    torch.manual_seed(3)
    cell = nn.LSTMCell(3, 5)
    x = torch.randn(8, 3)
    rec = lw.record(cell, x)
    h = c = torch.zeros(1, 5)
    with torch.no_grad():
        for t in range(8):
            h, c = cell(x[t : t + 1], (h, c))
            np.testing.assert_allclose(rec.h[0, t], h[0].numpy(), atol=ATOL)
            np.testing.assert_allclose(rec.c[0, t], c[0].numpy(), atol=ATOL)


@pytest.mark.parametrize("batch_first", [True, False])
def test_per_step_probs_equal_running_the_model_on_every_prefix(batch_first):
    torch.manual_seed(4)
    model = Classifier(batch_first=batch_first).eval()
    x = torch.randn(9, 4)
    rec = lw.record(model, x)
    assert rec.probs.shape == (9, 3) and rec.logits.shape == (9, 3)
    with torch.no_grad():
        for t in range(9):
            prefix = x[None, : t + 1] if batch_first else x[: t + 1, None]
            logits = model(prefix)[0]
            np.testing.assert_allclose(rec.logits[t], logits.numpy(), atol=ATOL)
            np.testing.assert_allclose(rec.probs[t], torch.softmax(logits, -1).numpy(), atol=ATOL)
    np.testing.assert_array_equal(rec.predictions, rec.probs.argmax(1))


def test_head_and_lstm_can_be_named_explicitly():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.LSTM(3, 4)
            self.b = nn.LSTM(3, 4)
            self.out = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))

        def forward(self, x):
            return self.out(self.b(x)[0][-1])

    torch.manual_seed(5)
    model = Two().eval()
    x = torch.randn(5, 3)
    # the model's forward calls only b: observing it records b, with or without lstm=
    observed = lw.record(model, x)
    assert observed.layer_names == ("layer0",)
    rec = lw.record(model, x, lstm="b", head="out")
    np.testing.assert_array_equal(observed.h, rec.h)
    with torch.no_grad():
        expected = model(x[:, None])[0]
    np.testing.assert_allclose(rec.logits[-1], expected.numpy(), atol=ATOL)
    # the automatic head widens a Linear to the Sequential it starts
    rec_auto = lw.record(model, x, lstm=model.b)
    np.testing.assert_allclose(rec_auto.logits[-1], expected.numpy(), atol=ATOL)
    assert lw.record(model, x, lstm="b", head=None).probs is None


def test_ragged_list_gives_one_recording_per_sequence_equal_to_single_records():
    torch.manual_seed(6)
    m = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    xs = [np.random.default_rng(k).normal(size=(n, 3)).astype(np.float32) for k, n in enumerate([4, 9, 4, 1, 7])]
    recs = lw.record(m, xs)
    assert [len(r) for r in recs] == [4, 9, 4, 1, 7]
    for x, r in zip(xs, recs, strict=True):
        single = lw.record(m, x)
        np.testing.assert_allclose(r.h, single.h, atol=ATOL)
        np.testing.assert_allclose(r.c, single.c, atol=ATOL)
        np.testing.assert_array_equal(r.inputs, x)


def test_named_quantities_and_frames():
    torch.manual_seed(7)
    rec = lw.record(nn.LSTM(2, 3, num_layers=2), torch.randn(6, 2))
    assert "layer1.f" in rec.names
    np.testing.assert_array_equal(rec["layer1.f"], rec.f[1])
    fr = rec.frame(-1)
    np.testing.assert_array_equal(fr.c, rec.c[:, 5])
    with pytest.raises(KeyError, match="layer7.h"):
        rec["layer7.h"]
    with pytest.raises(IndexError, match="out of range"):
        rec.frame(6)


def test_float64_model_and_input():
    torch.manual_seed(8)
    m = nn.LSTM(3, 4).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    rec = lw.record(m, x)
    out, _, _ = run_torch(m, x)
    np.testing.assert_allclose(rec.h[0], out, atol=1e-6)


@pytest.mark.parametrize("T", [1, 2, 3, 17, 1000, 1501])
def test_long_sequences_match_nn_lstm_final_state(T):
    """The blocked scan for c, at lengths that are and are not multiples of its block size."""
    torch.manual_seed(9)
    m = nn.LSTM(3, 8).eval()
    x = torch.randn(T, 3)
    rec = lw.record(m, x)
    out, hn, cn = run_torch(m, x)
    np.testing.assert_allclose(rec.c[0, -1], cn[0], atol=ATOL)
    np.testing.assert_allclose(rec.h[0], out, atol=ATOL)
    np.testing.assert_allclose(rec.h[0], rec.o[0] * np.tanh(rec.c[0]), atol=ATOL)


@pytest.mark.parametrize("kw", CASES)
def test_fused_path_equals_the_vectorised_one(kw, monkeypatch):
    """The fused CPU path (one pass per row into a time-first buffer) records what the reference path (torch's kernel,
    the gates in one GEMM, the blocked scan for c) records, for every layer layout; a model holding the LSTM and a
    head is observed, the fused pass standing in for the module's kernel, and records the same states."""
    from lstm_widget._core.recording import recorder as recording

    torch.manual_seed(1)
    m = nn.LSTM(5, 8, **kw).eval()
    head = nn.Sequential()  # a module holding the LSTM and a Linear head
    head.lstm, head.fc = m, nn.Linear((m.proj_size or 8) * (2 if m.bidirectional else 1), 3)
    head.forward = lambda x: head.fc(head.lstm(x)[0])
    xs = [torch.randn(7, 5).numpy() for _ in range(3)]  # equal lengths: one batch of 3
    calls, fused_lstm = [], recording._fused_lstm
    monkeypatch.setattr(recording, "_fused_lstm", lambda *a: calls.append(1) or fused_lstm(*a))
    monkeypatch.setattr(recording, "FUSED_MIN_GATE_VALUES", 1)
    fused = lw.record(m, xs)
    assert calls, "the fused path did not run"
    calls.clear()
    observed = lw.record(head, xs)
    assert calls, "the fused pass did not stand in for the observed module's kernel"
    assert observed[0].probs is not None
    calls.clear()
    monkeypatch.setattr(recording, "FUSED_MIN_GATE_VALUES", 1 << 60)
    plain = lw.record(m, xs)  # the reference path, itself tested against nn.LSTM above
    assert not calls
    for a, b, o in zip(fused, plain, observed, strict=True):
        for q in ("h", "c", "i", "f", "g", "o"):
            np.testing.assert_allclose(getattr(a, q), getattr(b, q), atol=ATOL, err_msg=f"{kw} {q}")
            np.testing.assert_allclose(getattr(o, q), getattr(b, q), atol=ATOL, err_msg=f"{kw} observed {q}")


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_fused_stand_in_matches_torch_and_is_checked(kw, monkeypatch):
    """Where the fused pass stands in for an observed nn.LSTM, the model goes on from its output: the recording and
    the model's output equal torch's kernel (states and head at every step); the module's own forward is back
    afterwards; a pass that went wrong at one step is caught by the check against torch's kernel and refused."""
    from lstm_widget._core.recording import recorder as recording
    from lstm_widget._core.recording.observe import RecordingMismatch

    torch.manual_seed(2)
    m = nn.LSTM(5, 8, **{**kw, "batch_first": True}).eval()
    dirs = 2 if m.bidirectional else 1
    model = nn.Sequential()
    model.lstm, model.fc = m, nn.Linear((m.proj_size or 8) * dirs, 3)
    model.forward = lambda x: model.fc(model.lstm(x)[0][:, -1])
    x = torch.randn(4, 40, 5)
    monkeypatch.setattr(recording, "FUSED_MIN_GATE_VALUES", 1)
    recs = lw.record(model, list(x.numpy()))
    assert "forward" not in m.__dict__, "the module's own forward is restored"
    with torch.no_grad():
        out, (hn, cn) = m(x)
        expected = model.fc(out[:, -1]).numpy()
    for b, rec in enumerate(recs):
        np.testing.assert_allclose(np.concatenate(list(rec.h[-dirs:]), axis=-1), out[b].numpy(), atol=ATOL)
        for r in range(len(rec.h)):
            last = 0 if r % dirs else -1  # a reverse row ends at the first step
            np.testing.assert_allclose(rec.h[r, last], hn[r, b].numpy(), atol=ATOL)
            np.testing.assert_allclose(rec.c[r, last], cn[r, b].numpy(), atol=ATOL)
        np.testing.assert_allclose(rec.outputs[-1], expected[b], atol=ATOL)

    fused_lstm = recording._fused_lstm

    def wrong_at_one_step(spec, z):
        values = fused_lstm(spec, z)
        values["h"][:, 0, z.shape[1] - 1] += 0.01  # the last step of the first row: a sampled step
        return values

    monkeypatch.setattr(recording, "_fused_lstm", wrong_at_one_step)
    with pytest.raises(RecordingMismatch, match="sampled steps"):
        lw.record(model, list(x.numpy()))
    assert "forward" not in m.__dict__, "the module's own forward is restored after a refusal"


def test_a_subclass_of_nn_lstm_is_not_stood_in_for(monkeypatch):
    """A subclass of nn.LSTM may compute something else: its own forward runs (no fused pass)."""
    from lstm_widget._core.recording import recorder as recording

    class Mine(nn.LSTM):
        pass

    calls, fused_lstm = [], recording._fused_lstm
    monkeypatch.setattr(recording, "_fused_lstm", lambda *a: calls.append(1) or fused_lstm(*a))
    monkeypatch.setattr(recording, "FUSED_MIN_GATE_VALUES", 1)
    model = nn.Sequential()
    model.lstm, model.fc = Mine(3, 6, batch_first=True), nn.Linear(6, 2)
    model.forward = lambda x: model.fc(model.lstm(x)[0])
    xs = [torch.randn(9, 3).numpy() for _ in range(2)]
    recs = lw.record(model, xs)
    assert not calls
    assert recs[0].h.shape == (1, 9, 6)
