"""GRU through describe, record and Stepper: against nn.GRU's own outputs, and the GRU identities between the recorded
quantities. Also the GRU variants torch's kernel lacks (reset before the product, hard-sigmoid gates, reverse-only,
initial states) through a RecurrentStack, against a plain step-by-step loop written here."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw
from lstm_widget._core.model import (
    GRU_GATE_ORDER,
    LayerOptions,
    RecurrentStack,
    reorder_gates,
    split_gates,
    stack_gates,
)

from helpers import RNN_CASES, run_torch

ATOL = 1e-5

CASES = [*RNN_CASES, dict(num_layers=2, bias=False, bidirectional=True)]
IDS = [",".join(f"{k}={v}" for k, v in kw.items()) for kw in CASES]


def _recorded(seed: int, kw: dict, inputs: int, hidden: int, steps: int):
    """An nn.GRU(inputs, hidden, **kw) seeded by ``seed``, a random sequence x (steps, inputs) and record(m, x)."""
    torch.manual_seed(seed)
    m = nn.GRU(inputs, hidden, **kw).eval()
    x = torch.randn(steps, inputs)
    return m, x, lw.record(m, x)


@pytest.mark.parametrize("kw", CASES, ids=IDS)
def test_record_matches_nn_gru(kw):
    m, x, rec = _recorded(1, kw, inputs=5, hidden=7, steps=11)
    out, hn = run_torch(m, x)
    dirs = 2 if m.bidirectional else 1
    L = m.num_layers * dirs
    assert rec.cell == "gru" and rec.quantities == ("h", "r", "z", "n")
    for q in rec.quantities:
        assert getattr(rec, q).shape == (L, 11, 7)
    assert rec.layer_names[:dirs] == (("layer0", "layer0_reverse") if dirs == 2 else ("layer0",))
    last = np.concatenate([rec.h[L - dirs + d] for d in range(dirs)], axis=-1)
    np.testing.assert_allclose(last, out, atol=ATOL)
    for row in range(L):
        np.testing.assert_allclose(rec.h[row, 0 if row % dirs else -1], hn[row], atol=ATOL)


@pytest.mark.parametrize("kw", CASES, ids=IDS)
def test_gru_identities_hold(kw):
    """h_t = (1 - z_t)·n_t + z_t·h_{t-1}, and n_t = tanh(W_in x_t + b_in + r_t·(W_hn h_{t-1} + b_hn))."""
    m, x, rec = _recorded(2, kw, inputs=4, hidden=6, steps=13)
    dirs = 2 if m.bidirectional else 1
    for row in range(rec.h.shape[0]):
        li, d = divmod(row, dirs)
        h, r, z, n = (getattr(rec, q)[row] for q in "hrzn")
        h_prev = np.zeros_like(h)
        if d:
            h_prev[:-1] = h[1:]
        else:
            h_prev[1:] = h[:-1]
        np.testing.assert_allclose(h, (1 - z) * n + z * h_prev, atol=ATOL)
        # n from the weights, by the PyTorch equation, with the layer's input
        inp = x.numpy() if li == 0 else np.concatenate([rec.h[(li - 1) * dirs + k] for k in range(dirs)], axis=-1)
        sfx = f"_l{li}" + ("_reverse" if d else "")
        w_ih, w_hh = (getattr(m, name + sfx).detach().numpy() for name in ("weight_ih", "weight_hh"))
        b_ih, b_hh = (getattr(m, name + sfx).detach().numpy() if m.bias else 0.0 for name in ("bias_ih", "bias_hh"))
        gi, gh = inp @ w_ih.T + b_ih, h_prev @ w_hh.T + b_hh
        gi_n, gh_n = split_gates(gi, axis=-1, cell="gru")["n"], split_gates(gh, axis=-1, cell="gru")["n"]
        np.testing.assert_allclose(n, np.tanh(gi_n + r * gh_n), atol=ATOL)
        assert (r >= 0).all() and (r <= 1).all() and (z >= 0).all() and (z <= 1).all() and (np.abs(n) <= 1).all()


def test_record_grucell_matches_its_own_loop():
    torch.manual_seed(3)
    cell = nn.GRUCell(3, 5)
    x = torch.randn(8, 3)
    rec = lw.record(cell, x)
    h = torch.zeros(1, 5)
    with torch.no_grad():
        for t in range(8):
            h = cell(x[t : t + 1], h)
            np.testing.assert_allclose(rec.h[0, t], h[0].numpy(), atol=ATOL)


class GRUClassifier(nn.Module):
    def __init__(self, cell=False):
        super().__init__()
        self.register_buffer("mean", torch.linspace(-1, 1, 4))
        self.rnn = nn.GRUCell(4, 8) if cell else nn.GRU(4, 8, num_layers=2, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # (B, T, 4)
        if isinstance(self.rnn, nn.GRUCell):
            h = torch.zeros(x.shape[0], 8)
            for t in range(x.shape[1]):
                h = self.rnn(x[:, t], h)
            return self.fc(h)
        out, _ = self.rnn(x - self.mean)
        return self.fc(out[:, -1])


@pytest.mark.parametrize("cell", [False, True], ids=["gru", "grucell"])
def test_wrapper_with_head_is_found_and_matches_every_prefix(cell):
    torch.manual_seed(4)
    model = GRUClassifier(cell).eval()
    x = torch.randn(9, 4)
    rec = lw.record(model, x)
    assert rec.probs.shape == (9, 3) and rec.cell == "gru"
    with torch.no_grad():
        for t in range(9):
            np.testing.assert_allclose(rec.logits[t], model(x[None, : t + 1])[0].numpy(), atol=ATOL)


@pytest.mark.parametrize(
    "model",
    [nn.GRU(4, 6), nn.GRU(4, 6, num_layers=3), nn.GRU(4, 6, bias=False), nn.GRUCell(4, 6), GRUClassifier()],
    ids=["gru", "gru-3-layers", "no-bias", "cell", "wrapper"],
)
def test_stepper_equals_record_at_every_step(model):
    torch.manual_seed(0)
    x = torch.randn(10, 4)
    rec = lw.record(model, x)
    st = lw.Stepper(model)
    assert set(st.state) == {"h"}
    for t in range(10):
        fr = st.step(x[t])
        assert fr.quantities == ("h", "r", "z", "n")
        for q in fr.quantities:
            np.testing.assert_allclose(getattr(fr, q), getattr(rec, q)[:, t], atol=ATOL, err_msg=f"{q} at {t}")
        if rec.probs is not None:
            np.testing.assert_allclose(fr.probs, rec.probs[t], atol=ATOL)


def test_gru_stepper_state_read_write():
    torch.manual_seed(5)
    m = nn.GRU(3, 5, num_layers=2)
    x = torch.randn(6, 3)
    st = lw.Stepper(m)
    st.step(x[0])
    assert st.state["h"].shape == (2, 5)
    with pytest.raises(TypeError, match=r"state must be a dict with key 'h' \(a GRU has no c\); got \['c', 'h'\]"):
        st.state = {"h": np.zeros((2, 5), np.float32), "c": np.zeros((2, 5), np.float32)}
    st.state = {"h": np.ones((2, 5), np.float32)}
    fr = st.step(x[1])
    with torch.no_grad():
        out, _ = m(x[1:2, None], torch.ones(2, 1, 5))
    np.testing.assert_allclose(fr.h[-1], out[0, 0].numpy(), atol=ATOL)
    with pytest.raises(ValueError, match="a bidirectional GRU cannot be stepped"):
        lw.Stepper(nn.GRU(3, 4, bidirectional=True))


def test_quantities_by_name_and_clear_errors_for_lstm_only_names():
    torch.manual_seed(6)
    rec = lw.record(nn.GRU(2, 3, num_layers=2), torch.randn(6, 2))
    assert "layer1.z" in rec.names and "layer0.c" not in rec.names
    np.testing.assert_array_equal(rec["layer1.r"], rec.r[1])
    np.testing.assert_array_equal(rec["n"], rec.n)
    no_c = r"a GRU recording has no 'c' \(LSTM only\); its quantities are h, r, z, n"
    with pytest.raises(AttributeError, match=no_c):
        _ = rec.c
    with pytest.raises(KeyError, match="layer0.c"):
        rec["layer0.c"]
    fr = rec.frame(2)
    np.testing.assert_array_equal(fr.z, rec.z[:, 2])
    with pytest.raises(AttributeError, match=r"a GRU frame has no 'i'"):
        _ = fr.i
    with pytest.raises(AttributeError, match="read-only"):
        rec.h = None
    # and an LSTM recording has no GRU gates
    lrec = lw.record(nn.LSTM(2, 3), torch.randn(4, 2))
    assert lrec.quantities == ("h", "c", "i", "f", "g", "o") and lrec.cell == "lstm"
    with pytest.raises(AttributeError, match=r"an? LSTM recording has no 'z' \(GRU only\)"):
        _ = lrec.z
    # recordings survive pickling (they are plain data)
    again = pickle.loads(pickle.dumps(rec))
    np.testing.assert_array_equal(again.h, rec.h)
    assert again.quantities == rec.quantities


def test_recording_refuses_mixed_quantities():
    expected = r"expected exactly those of one cell kind \(LSTM: h, c, i, f, g, o; GRU: h, r, z, n\)"
    with pytest.raises(TypeError, match=expected):
        lw.Recording(inputs=np.zeros((2, 1)), layer_names=("layer0",), h=np.zeros((1, 2, 1)), c=np.zeros((1, 2, 1)))


def test_gru_gate_order_table():
    assert GRU_GATE_ORDER == {"pytorch": ("r", "z", "n"), "keras": ("z", "r", "h"), "onnx": ("z", "r", "h")}
    stacked = np.arange(6)[:, None] * np.ones((1, 2))  # blocks of 2 rows
    blocks = split_gates(stacked, "keras", cell="gru")  # z, r, h → ours
    np.testing.assert_array_equal(blocks["z"][:, 0], [0, 1])
    np.testing.assert_array_equal(blocks["r"][:, 0], [2, 3])
    np.testing.assert_array_equal(blocks["n"][:, 0], [4, 5])
    torch_order = reorder_gates(stacked, "keras", "pytorch", cell="gru")
    np.testing.assert_array_equal(torch_order[:, 0], [2, 3, 0, 1, 4, 5])
    np.testing.assert_array_equal(stack_gates(split_gates(torch_order, cell="gru"), "onnx", cell="gru"), stacked)
    with pytest.raises(ValueError, match="cannot split 7 rows into 3 GRU gate blocks"):
        split_gates(np.zeros((7, 2)), cell="gru")


# --- the variants torch's own kernel lacks, through a RecurrentStack, against a loop written here -----------------


def _reference_gru(m: nn.GRU, x: np.ndarray, *, reset_after=True, hard=None, reverse=False, h0=None) -> np.ndarray:
    """A plain numpy GRU loop (one direction) — the textbook equations, nothing shared with the package."""
    w_ih, w_hh = m.weight_ih_l0.detach().numpy(), m.weight_hh_l0.detach().numpy()
    b_ih = m.bias_ih_l0.detach().numpy() if m.bias else np.zeros(w_ih.shape[0])
    b_hh = m.bias_hh_l0.detach().numpy() if m.bias else np.zeros(w_hh.shape[0])
    H = w_hh.shape[1]
    act = (lambda v: 1 / (1 + np.exp(-v))) if hard is None else (lambda v: np.clip(hard[0] * v + hard[1], 0, 1))
    h = np.zeros(H) if h0 is None else h0
    order = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    out = np.zeros((len(x), H))
    for t in order:
        gi, gh = w_ih @ x[t] + b_ih, w_hh @ h + b_hh
        r = act(gi[:H] + gh[:H])
        z = act(gi[H : 2 * H] + gh[H : 2 * H])
        if reset_after:
            n = np.tanh(gi[2 * H :] + r * gh[2 * H :])
        else:
            n = np.tanh(gi[2 * H :] + w_hh[2 * H :] @ (r * h) + b_hh[2 * H :])
        h = (1 - z) * n + z * h
        out[t] = h
    return out


@pytest.mark.parametrize(
    "opts",
    [
        dict(reset_after=False),
        dict(hard=(1 / 6, 0.5)),
        dict(reverse=True),
        dict(reset_after=False, hard=(0.2, 0.5), reverse=True),
    ],
    ids=["reset-before", "hard-sigmoid", "reverse", "all-three"],
)
def test_stack_variants_match_a_reference_loop_and_the_stepper(opts):
    torch.manual_seed(7)
    m = nn.GRU(3, 4, batch_first=True)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(3)  # larger weights: the hard sigmoid reaches its clipped ends
    h0 = np.linspace(-0.5, 0.5, 4)
    options = LayerOptions(
        reverse=opts.get("reverse", False), gate_activation=opts.get("hard"), reset_after=opts.get("reset_after", True)
    )
    stack = RecurrentStack([m], options=[options], initial_states=[(torch.tensor(h0[None]), None)])
    x = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float32)
    rec = lw.record(stack, x)
    expected = _reference_gru(m, x.astype(np.float64), h0=h0, **opts)
    np.testing.assert_allclose(rec.h[0], expected, atol=ATOL)
    np.testing.assert_allclose(stack(torch.from_numpy(x)[None])[0].numpy(), expected, atol=ATOL)
    assert rec.layer_names == (("layer0_reverse",) if opts.get("reverse") else ("layer0",))
    if opts.get("reverse"):
        h_prev = np.concatenate([rec.h[0, 1:], h0[None]])
    else:
        h_prev = np.concatenate([h0[None], rec.h[0, :-1]])
    np.testing.assert_allclose(rec.h[0], (1 - rec.z[0]) * rec.n[0] + rec.z[0] * h_prev, atol=ATOL)
    if opts.get("reverse"):
        with pytest.raises(ValueError, match="layer0_reverse reads the sequence from its last step"):
            lw.Stepper(stack)
    else:
        st = lw.Stepper(stack)
        np.testing.assert_allclose(st.state["h"][0], h0, atol=1e-7)
        got = np.stack([st.step(x[t]).h[0] for t in range(len(x))])
        np.testing.assert_allclose(got, rec.h[0], atol=ATOL)
