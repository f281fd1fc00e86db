"""Fixed points of a recurrent layer: a hand-built 2-unit LSTM whose fixed points and their stability are known in
closed form, the Jacobian against torch's autograd through torch's own nn.LSTM / nn.GRU, q at every point, seeds,
preprocessing, a layer above the first, slow points, and one clear error per bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw
from lstm_widget._core.analysis.fixed_points import step_jacobian
from lstm_widget._core.model.cells import lstm_gates, step
from lstm_widget._core.model.rows import _rnn_rows

from helpers import Classifier

SIG = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
B_I, B_O = 1.0, 2.0  # constant gates: i = σ(1), f = σ(0) = 1/2, o = σ(2)
I_GATE, F_GATE, O_GATE = SIG(B_I), 0.5, SIG(B_O)
K_GAIN = I_GATE / (1 - F_GATE)  # c at rest = k·g


def _weight_for(h_star: float) -> float:
    """The recurrent weight w that makes ±h_star fixed points of h = o·tanh(k·tanh(w·h)) (solved for w)."""
    return math.atanh(math.atanh(h_star / O_GATE) / K_GAIN) / h_star


H_STARS = (0.5, 0.3)
WEIGHTS = tuple(_weight_for(h) for h in H_STARS)


def decoupled_lstm(weights=WEIGHTS, g_bias=(0.0, 0.0)) -> nn.LSTM:
    """Two units that do not see each other: i, f, o constant (biases only), g_k = tanh(w_k·h_k + x_k + b_k).

    Per unit, c at rest is c = k·g with k = i / (1 − f), so the fixed points are the roots of
    h = o·tanh(k·tanh(w·h)): 0 and ±h* (the map is odd and concave for h > 0, so there is no other root). The
    Jacobian of one unit in (h, c) is [[a·i·w·(1 − g²), a·f], [i·w·(1 − g²), f]] with a = o·(1 − tanh² c): rank one,
    eigenvalues 0 and λ = a·i·w·(1 − g²) + f."""
    units = len(weights)
    lstm = nn.LSTM(units, units)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
        blocks = lambda t: t.view(4, units, *t.shape[1:])  # noqa: E731  gate blocks i, f, g, o
        blocks(lstm.weight_ih_l0)[2] = torch.eye(units)
        blocks(lstm.weight_hh_l0)[2] = torch.diag(torch.tensor(weights))
        blocks(lstm.bias_ih_l0)[0] = B_I
        blocks(lstm.bias_ih_l0)[2] = torch.tensor(g_bias)
        blocks(lstm.bias_ih_l0)[3] = B_O
    return lstm


def _unit_eigenvalue(w: float, h: float) -> float:
    g = math.tanh(w * h)
    c = K_GAIN * g
    a = O_GATE * (1 - math.tanh(c) ** 2)
    return a * I_GATE * w * (1 - g * g) + F_GATE


def known_points():
    """Every fixed point of :func:`decoupled_lstm` at x = 0: (h, c, sorted |λ|, stable)."""
    out = []
    for hs in itertools.product(*[(-h, 0.0, h) for h in H_STARS]):
        h = np.array(hs)
        c = K_GAIN * np.tanh(np.array(WEIGHTS) * h)
        lams = [_unit_eigenvalue(w, hk) for w, hk in zip(WEIGHTS, hs, strict=True)]
        out.append((h, c, sorted(np.abs(lams + [0.0, 0.0]), reverse=True), all(abs(v) < 1 for v in lams)))
    return out


def _match(fp, h):
    d = np.linalg.norm(fp.h - h, axis=1)
    return int(np.argmin(d)), float(d.min())


def test_decoupled_lstm_has_the_nine_known_fixed_points_with_their_stability():
    expected = known_points()
    assert sum(stable for *_, stable in expected) == 4  # the design: stable only where both units sit at ±h*
    fp = lw.fixed_points(decoupled_lstm(), np.zeros(2), n_inits=256, seed=0)
    assert len(fp) == 9
    assert fp.h.shape == (9, 2) and fp.c.shape == (9, 2) and fp.jacobian.shape == (9, 4, 4)
    for h, c, lams, stable in expected:
        k, dist = _match(fp, h)
        assert dist < 1e-5
        np.testing.assert_allclose(fp.c[k], c, atol=1e-5)
        np.testing.assert_allclose(np.abs(fp.eigenvalues[k]), lams, atol=1e-5)
        assert bool(fp.stable[k]) == stable
        assert fp.kind[k] == ("stable" if stable else "unstable")
    # the leading eigenvector is a unit eigenvector of the leading eigenvalue
    for k in range(len(fp)):
        v, lam = fp.leading[k], fp.eigenvalues[k, 0]
        np.testing.assert_allclose(fp.jacobian[k] @ v, lam * v, atol=1e-8)
        assert abs(np.linalg.norm(v) - 1) < 1e-12


def test_initial_states_from_recorded_sequences_find_the_same_points():
    rng = np.random.default_rng(1)
    seqs = [rng.normal(0, 2, (30, 2)).astype(np.float32) for _ in range(20)]
    lstm = decoupled_lstm()
    fp = lw.fixed_points(lstm, np.zeros(2), sequences=seqs, n_inits=200, seed=3)
    recs = lw.record(lstm, seqs)
    again = lw.fixed_points(lstm, np.zeros(2), sequences=recs, n_inits=200, seed=3)
    np.testing.assert_array_equal(fp.h, again.h)  # recordings made beforehand are the same pool
    for h, *_ in known_points():
        assert _match(fp, h)[1] < 1e-5


def _torch_step(module, x, s):
    """One step of torch's own nn.LSTM / nn.GRU from state ``s`` ([h, c] or h): the map F, independent of ours."""
    if isinstance(module, nn.GRU):
        out, h = module(x[None, None], s[None, None])
        return h[0, 0]
    P = module.proj_size or module.hidden_size
    _, (h, c) = module(x[None, None], (s[None, None, :P], s[None, None, P:]))
    return torch.cat([h[0, 0], c[0, 0]])


@pytest.mark.parametrize("kind", ["lstm", "lstm_proj", "gru"])
def test_jacobian_and_q_agree_with_torch_autograd_through_torch_modules(kind):
    torch.manual_seed(4)
    module = {
        "lstm": lambda: nn.LSTM(3, 6),
        "lstm_proj": lambda: nn.LSTM(3, 6, proj_size=4),
        "gru": lambda: nn.GRU(3, 6),
    }[kind]()
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(2.5)  # strong recurrence: several fixed points
    x = np.array([0.3, -0.2, 0.1], np.float32)
    tol = 1e-8
    fp = lw.fixed_points(module, x, n_inits=128, seed=0, tol=tol)
    assert len(fp) >= 1
    m64 = module.double()
    x64 = torch.from_numpy(x).double()
    for k in range(len(fp)):
        s = torch.from_numpy(fp.states[k])
        jac = torch.autograd.functional.jacobian(lambda v: _torch_step(m64, x64, v), s)
        np.testing.assert_allclose(fp.jacobian[k], jac.numpy(), atol=1e-5)
        with torch.no_grad():
            r = _torch_step(m64, x64, s) - s
        q = 0.5 * float((r * r).sum())
        assert q <= tol and fp.q[k] <= tol
        assert abs(q - fp.q[k]) < 1e-12
        np.testing.assert_allclose(
            np.sort(np.abs(fp.eigenvalues[k])), np.sort(np.abs(np.linalg.eigvals(jac.numpy()))), atol=1e-8
        )
        assert bool(fp.stable[k]) == bool((np.abs(np.linalg.eigvals(jac.numpy())) < 1).all())


def test_analytic_step_jacobian_matches_autograd_for_every_cell_variant():
    """The variants torch's modules lack (hard-sigmoid gates, the GRU that resets before its recurrent product)
    against autograd through the shared step function."""
    from dataclasses import replace

    torch.manual_seed(0)
    cases = []
    for cell, module in [("lstm", nn.LSTM(3, 5)), ("lstm", nn.LSTM(3, 5, proj_size=2)), ("gru", nn.GRU(3, 5))]:
        w = _rnn_rows(module.double())[0][0]
        cases += [(cell, w), (cell, replace(w, gate_activation=(0.2, 0.5)))]
        if cell == "gru":
            cases += [
                (cell, replace(w, reset_after=False)),
                (cell, replace(w, reset_after=False, gate_activation=(0.2, 0.5))),
            ]
    for cell, w in cases:
        _check_step_jacobian(cell, w)


def _check_step_jacobian(cell, w):
    P = w.w_hr.shape[0] if w.w_hr is not None else w.w_hh.shape[1]
    S = P + (w.w_hh.shape[0] // 4 if cell == "lstm" else 0)
    x, s = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, S, dtype=torch.float64)

    def split(v):
        return v[..., :P], None if cell == "gru" else v[..., P:]

    f, jac = step_jacobian(w, cell, x, *split(s))
    for k in range(4):

        def one(v, k=k):
            q = step(w, cell, x[k : k + 1], *(t if t is None else t[None] for t in split(v)))
            return q["h"][0] if cell == "gru" else torch.cat([q["h"][0], q["c"][0]])

        np.testing.assert_allclose(f[k].numpy(), one(s[k]).numpy(), atol=1e-12)
        expected = torch.autograd.functional.jacobian(one, s[k])
        np.testing.assert_allclose(jac[k].numpy(), expected.numpy(), atol=1e-10)


def test_seeded_runs_are_identical():
    torch.manual_seed(2)
    lstm = nn.LSTM(2, 8)
    with torch.no_grad():
        lstm.weight_hh_l0.mul_(3)
    x = np.array([[0.5, -0.5], [0.0, 1.0]], np.float32)
    a = lw.fixed_points(lstm, x, n_inits=64, seed=7, noise=0.1, slow_tol=1e-3)
    b = lw.fixed_points(lstm, x, n_inits=64, seed=7, noise=0.1, slow_tol=1e-3)
    for name in ("h", "c", "q", "jacobian", "eigenvalues", "leading", "stable", "kind", "input_index"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_several_inputs_return_one_set_with_an_input_index():
    lstm = decoupled_lstm()
    # input 1 tilts both units' g by 5: each unit keeps a single fixed point
    fp = lw.fixed_points(lstm, np.array([[0.0, 0.0], [5.0, 5.0]], np.float32), n_inits=128)
    assert set(np.unique(fp.input_index)) == {0, 1}
    assert len(fp.for_input(0)) == 9
    shifted = fp.for_input(1)
    assert len(shifted) == 1 and bool(shifted.stable[0])  # a strong input leaves one attractor
    np.testing.assert_array_equal(fp.inputs, [[0.0, 0.0], [5.0, 5.0]])
    assert list(fp.input_index) == sorted(fp.input_index)
    with pytest.raises(ValueError, match="input index 0..1"):
        fp.for_input(2)


def test_the_model_preprocessing_is_applied_as_record_applies_it():
    class Shifted(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor([0.7, -0.2]))
            self.lstm = decoupled_lstm()

        def forward(self, x):
            return self.lstm(x - self.mean)[0]

    bare = lw.fixed_points(decoupled_lstm(), np.zeros(2), n_inits=128)
    wrapped = lw.fixed_points(Shifted(), np.array([0.7, -0.2], np.float32), n_inits=128)
    np.testing.assert_allclose(wrapped.h, bare.h, atol=1e-6)
    np.testing.assert_allclose(wrapped.c, bare.c, atol=1e-6)


def test_a_layer_above_reads_the_settled_layer_below():
    torch.manual_seed(5)
    model = Classifier(layers=2)  # normalisation, a 2-layer LSTM, a head
    with torch.no_grad():
        model.encoder.weight_hh_l1.mul_(4)
    x = np.array([0.2, -0.1, 0.4, 0.3], np.float32)
    fp = lw.fixed_points(model, x, layer=1, n_inits=64)
    assert fp.layer == 1 and fp.layer_name == "layer1" and len(fp) >= 1
    lstm = model.encoder.double()
    z = torch.from_numpy(x).double() - model.mean.double()
    h0 = torch.zeros(1, 1, 8, dtype=torch.float64)
    with torch.no_grad():  # layer 0 held on the constant input for a long time
        _, (h, c) = nn.LSTM.forward(_layer0(lstm), z.expand(2000, 1, 4).contiguous(), (h0, h0))
        for k in range(len(fp)):
            hs = torch.stack([h[0, 0], torch.from_numpy(fp.h[k])])[:, None]
            cs = torch.stack([c[0, 0], torch.from_numpy(fp.c[k])])[:, None]
            _, (h1, c1) = lstm(z[None, None], (hs, cs))
            np.testing.assert_allclose(h1[1, 0].numpy(), fp.h[k], atol=1e-7)  # both layers at rest
            np.testing.assert_allclose(c1[1, 0].numpy(), fp.c[k], atol=1e-7)
            np.testing.assert_allclose(h1[0, 0].numpy(), h[0, 0].numpy(), atol=1e-7)


def _layer0(lstm: nn.LSTM) -> nn.LSTM:
    one = nn.LSTM(lstm.input_size, lstm.hidden_size).double()
    one.load_state_dict({k: v for k, v in lstm.state_dict().items() if k.endswith("_l0")})
    return one


def test_slow_points_are_kept_with_slow_tol_and_marked():
    # unit 1 tilted by its bias: one fixed point and the ghost of the pair that annihilated (a slow point)
    lstm = decoupled_lstm(weights=(2.0, 2.0), g_bias=(0.6, 0.6))
    plain = lw.fixed_points(lstm, np.zeros(2), n_inits=256)
    assert (plain.kind != "slow").all() and (plain.q <= plain.tol).all()
    fp = lw.fixed_points(lstm, np.zeros(2), n_inits=256, slow_tol=1e-3)
    slow = fp[fp.kind == "slow"]
    assert len(slow) >= 1 and len(fp) > len(plain)
    assert ((slow.q > fp.tol) & (slow.q <= 1e-3)).all()
    # the ghost near h = -0.609 in both units: q there is a minimum of q over the states whose c is at rest
    k = _match(slow, np.array([-0.609, -0.609]))[0]
    assert _match(slow, np.array([-0.609, -0.609]))[1] < 1e-2
    w = _rnn_rows(lstm.double())[0][0]
    x = torch.zeros(1, 2, dtype=torch.float64)

    def q_at(h):  # q at (h, c at rest for h)
        hh = torch.tensor(h)[None]
        gates = lstm_gates(w, x, hh)
        c = gates["i"] * gates["g"] / (1 - gates["f"])
        out = step(w, "lstm", x, hh, c)
        return 0.5 * float(((out["h"] - hh) ** 2).sum() + ((out["c"] - c) ** 2).sum())

    centre = q_at(slow.h[k])
    assert abs(centre - slow.q[k]) < 1e-10
    for d in ([1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3]):
        assert q_at(slow.h[k] + np.array(d)) >= centre


def test_gru_fixed_points_have_no_c():
    torch.manual_seed(1)
    gru = nn.GRU(2, 5)
    fp = lw.fixed_points(gru, np.zeros(2), n_inits=32)
    assert fp.c is None and fp.h.shape[1] == 5 and fp.jacobian.shape[1:] == (5, 5)
    assert "gru" in repr(fp)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(inputs=np.zeros(3)), ValueError, "has 3 features per input"),
        (dict(inputs=np.zeros((2, 1, 2))), ValueError, "expected one constant input"),
        (dict(inputs=np.array([0.0, np.nan])), ValueError, "NaN or Inf"),
        (dict(inputs=[0.0, 0.0]), TypeError, "numpy array or torch tensor"),
        (dict(inputs=np.zeros(2, np.int64)), TypeError, "floating point"),
        (dict(layer=1), ValueError, "layer must be a layer index 0..0"),
        (dict(direction=1), ValueError, "direction must be 0 "),
        (dict(n_inits=0), ValueError, "n_inits must be a positive integer"),
        (dict(tol=-1.0), ValueError, "tol must be a positive finite number"),
        (dict(slow_tol=1e-9), ValueError, "slow_tol must be above tol"),
        (dict(noise=-0.1), ValueError, "noise must be a number ≥ 0"),
        (dict(seed=1.5), ValueError, "seed must be an integer"),
        (dict(max_iter=0), ValueError, "max_iter must be a positive integer"),
        (dict(dedup_tol=0.0), ValueError, "dedup_tol must be a positive"),
        (dict(sequences=[np.zeros((4, 3), np.float32)]), ValueError, "3 features per step"),
    ],
)
def test_bad_inputs_give_one_clear_error(kwargs, error, match):
    kwargs = {"inputs": np.zeros(2, np.float32), **kwargs}
    with pytest.raises(error, match=match):
        lw.fixed_points(decoupled_lstm(), kwargs.pop("inputs"), **kwargs)


def test_recordings_of_another_model_are_refused():
    other = lw.record(nn.GRU(2, 2), np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="recording of another model"):
        lw.fixed_points(decoupled_lstm(), np.zeros(2), sequences=[other])


def test_a_model_that_is_not_a_module_is_refused():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        lw.fixed_points("lstm", np.zeros(2))


def test_a_layer_below_that_does_not_settle_is_refused():
    class Oscillating(nn.Module):  # layer 0 flips sign every step (strong negative self-recurrence through g)
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 1, num_layers=2)
            with torch.no_grad():
                for p in self.lstm.parameters():
                    p.zero_()
                self.lstm.weight_hh_l0.view(4, 1, 1)[2] = -30.0
                self.lstm.bias_ih_l0.copy_(torch.tensor([5.0, -5.0, 0.5, 5.0]))

        def forward(self, x):
            return self.lstm(x)[0]

    h = lw.record(Oscillating(), np.zeros((8, 1), np.float32)).h[0, -2:, 0]
    assert h[0] * h[1] < 0 and abs(h[0] + h[1]) < 1e-4  # a 2-cycle
    with pytest.raises(ValueError, match="layer 0 does not settle to a stable fixed point for input 0"):
        lw.fixed_points(Oscillating(), np.zeros(1), layer=1)


def test_preprocessing_that_is_not_constant_in_time_is_refused():
    class Cumulative(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 2, batch_first=True)

        def forward(self, x):
            return self.lstm(x.cumsum(1))[0]

    with pytest.raises(ValueError, match="does not give a constant output for a constant input"):
        lw.fixed_points(Cumulative(), np.ones(1))


def test_the_reverse_half_of_a_bidirectional_layer():
    torch.manual_seed(3)
    bi = nn.LSTM(2, 4, bidirectional=True)
    fp = lw.fixed_points(bi, np.zeros(2), direction=1, n_inits=32)
    assert fp.layer_name == "layer0_reverse" and fp.direction == 1 and len(fp) >= 1
    rev = nn.LSTM(2, 4).double()
    rev.load_state_dict({k.replace("_reverse", ""): v for k, v in bi.state_dict().items() if "reverse" in k})
    x = torch.zeros(2, dtype=torch.float64)
    for k in range(len(fp)):
        s = torch.from_numpy(fp.states[k])
        with torch.no_grad():
            np.testing.assert_allclose(_torch_step(rev, x, s).numpy(), fp.states[k], atol=1e-8)
