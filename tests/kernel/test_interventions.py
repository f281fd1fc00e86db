"""Interventions in record and Stepper: against a plain step-by-step loop written here (torch arithmetic on the
module's own weights, no lstm_widget code) that applies the same change; and their clear errors."""

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw
from lstm_widget import Intervention

ATOL = 1e-5


class Net(nn.Module):
    def __init__(self, cell=nn.LSTM, layers=2, hidden=6, **kw):
        super().__init__()
        self.rnn = cell(4, hidden, num_layers=layers, batch_first=True, **kw)
        self.fc = nn.Linear(self.rnn.proj_size or hidden if cell is nn.LSTM else hidden, 3)

    def forward(self, x):
        return self.fc(self.rnn(x)[0][:, -1])


def _ref_lstm(m: nn.LSTM, x: torch.Tensor, change) -> dict:
    """Every quantity of a one-direction nn.LSTM, one step at a time; ``change(layer, t, name, value)`` may replace the
    new c (before h is computed from it) and then the new h."""
    out = {q: [] for q in "hcifgo"}
    inp = x
    for li in range(m.num_layers):
        W, U = getattr(m, f"weight_ih_l{li}"), getattr(m, f"weight_hh_l{li}")
        b = getattr(m, f"bias_ih_l{li}") + getattr(m, f"bias_hh_l{li}")
        R = getattr(m, f"weight_hr_l{li}", None)
        H = U.shape[0] // 4
        h, c = torch.zeros(U.shape[1]), torch.zeros(H)
        rows = {q: [] for q in "hcifgo"}
        for t in range(x.shape[0]):
            a = W @ inp[t] + U @ h + b
            i, f, g, o = (
                torch.sigmoid(a[:H]),
                torch.sigmoid(a[H : 2 * H]),
                torch.tanh(a[2 * H : 3 * H]),
                torch.sigmoid(a[3 * H :]),
            )
            c = change(li, t, "c", f * c + i * g)
            h = o * torch.tanh(c)
            h = change(li, t, "h", h if R is None else R @ h)
            for q, v in zip("hcifgo", (h, c, i, f, g, o), strict=True):
                rows[q].append(v)
        for q in rows:
            out[q].append(torch.stack(rows[q]))
        inp = torch.stack(rows["h"])
    return {q: torch.stack(v).detach().numpy() for q, v in out.items()}


def _ref_gru(m: nn.GRU, x: torch.Tensor, change) -> dict:
    out = {q: [] for q in "hrzn"}
    inp = x
    for li in range(m.num_layers):
        W, U = getattr(m, f"weight_ih_l{li}"), getattr(m, f"weight_hh_l{li}")
        bi, bh = getattr(m, f"bias_ih_l{li}"), getattr(m, f"bias_hh_l{li}")
        H = U.shape[1]
        h = torch.zeros(H)
        rows = {q: [] for q in "hrzn"}
        for t in range(x.shape[0]):
            gi, gh = W @ inp[t] + bi, U @ h + bh
            r = torch.sigmoid(gi[:H] + gh[:H])
            z = torch.sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
            n = torch.tanh(gi[2 * H :] + r * gh[2 * H :])
            h = change(li, t, "h", (1 - z) * n + z * h)
            for q, v in zip("hrzn", (h, r, z, n), strict=True):
                rows[q].append(v)
        for q in rows:
            out[q].append(torch.stack(rows[q]))
        inp = torch.stack(rows["h"])
    return {q: torch.stack(v).detach().numpy() for q, v in out.items()}


def _unchanged(layer, t, name, v):
    return v


def _check(rec, ref, head=None):
    for q, v in ref.items():
        np.testing.assert_allclose(getattr(rec, q), v, atol=ATOL, err_msg=q)
    if head is not None:
        with torch.no_grad():
            logits = head(torch.from_numpy(ref["h"][-1])).numpy()
        np.testing.assert_allclose(rec.logits, logits, atol=ATOL)


def test_reference_loop_without_change_is_record():
    torch.manual_seed(0)
    model = Net().eval()
    x = torch.randn(9, 4)
    with torch.no_grad():
        _check(lw.record(model, x), _ref_lstm(model.rnn, x, _unchanged), model.fc)


def test_zero_scale_clamp_on_h_and_c_equal_the_reference_loop():
    torch.manual_seed(1)
    model = Net().eval()
    x = torch.randn(12, 4)
    ivs = [
        Intervention("h", layer=0, units=[1, 4], start=3, op="zero"),  # from step 3 to the end
        Intervention("layer1.c", units=2, start=5, stop=8, op="clamp", value=0.7),  # a recording's stable name
        Intervention("c", layer=0, units=[0, 5], start=6, stop=9, op="scale", value=[2.0, -0.5]),
        Intervention("h", layer=-1, units=None, start=10, stop=11, op="scale", value=0.5),
    ]

    def change(li, t, name, v):
        v = v.clone()
        if li == 0 and name == "c" and 6 <= t < 9:
            v[[0, 5]] = v[[0, 5]] * torch.tensor([2.0, -0.5])
        if li == 0 and name == "h" and t >= 3:
            v[[1, 4]] = 0.0
        if li == 1 and name == "c" and 5 <= t < 8:
            v[2] = 0.7
        if li == 1 and name == "h" and t == 10:
            v = v * 0.5
        return v

    with torch.no_grad():
        ref = _ref_lstm(model.rnn, x, change)
    rec = lw.record(model, x, interventions=ivs)
    _check(rec, ref, model.fc)
    plain = lw.record(model, x)
    # the change feeds forward: steps before 3 untouched, later gates and the layer above differ
    np.testing.assert_allclose(rec.h[:, :3], plain.h[:, :3], atol=ATOL)
    assert np.abs(rec.f[0, 4:] - plain.f[0, 4:]).max() > 1e-3
    assert np.abs(rec.h[1, 3:] - plain.h[1, 3:]).max() > 1e-3
    np.testing.assert_allclose(rec.h[0, 3:, [1, 4]], 0.0)
    np.testing.assert_allclose(rec.c[1, 5:8, 2], 0.7, atol=1e-6)
    # h = o·tanh(c) still holds where c was changed
    np.testing.assert_allclose(rec.h[1, 5:8, 2], rec.o[1, 5:8, 2] * np.tanh(0.7), atol=ATOL)


def test_projection_lstm_c_clamp_equals_the_reference_loop():
    torch.manual_seed(2)
    model = Net(proj_size=3).eval()
    x = torch.randn(8, 4)
    iv = Intervention("c", layer=0, units=[1], start=2, op="clamp", value=-1.5)

    def change(li, t, name, v):
        if li == 0 and name == "c" and t >= 2:
            v = v.clone()
            v[1] = -1.5
        return v

    with torch.no_grad():
        _check(lw.record(model, x, interventions=iv), _ref_lstm(model.rnn, x, change), model.fc)


def test_gru_intervention_equals_the_reference_loop():
    torch.manual_seed(3)
    model = Net(cell=nn.GRU).eval()
    x = torch.randn(10, 4)
    iv = Intervention("h", layer=1, units=[0, 2, 3], start=4, stop=7, op="scale", value=3.0)

    def change(li, t, name, v):
        if li == 1 and 4 <= t < 7:
            v = v.clone()
            v[[0, 2, 3]] *= 3.0
        return v

    with torch.no_grad():
        _check(lw.record(model, x, interventions=[iv]), _ref_gru(model.rnn, x, change), model.fc)


def test_reverse_direction_runs_backwards_from_its_intervention():
    torch.manual_seed(4)
    m = nn.LSTM(3, 5, bidirectional=True).eval()
    x = torch.randn(9, 3)
    rec = lw.record(m, x, interventions=Intervention("h", layer="layer0_reverse", units=[2], start=3, stop=6))
    plain = lw.record(m, x)
    # the reverse direction reads 8, 7, ..., 0: steps 6..8 come before the change, 0..5 see it
    np.testing.assert_allclose(rec.h[1, 6:], plain.h[1, 6:], atol=ATOL)
    np.testing.assert_allclose(rec.h[1, 3:6, 2], 0.0)
    assert np.abs(rec.h[1, :3] - plain.h[1, :3]).max() > 1e-4
    np.testing.assert_allclose(rec.h[0], plain.h[0], atol=ATOL)  # the forward direction is not touched
    # the reference: a one-direction LSTM with the reverse weights on the flipped sequence
    fwd = nn.LSTM(3, 5)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(fwd, name + "_l0").copy_(getattr(m, name + "_l0_reverse"))

        def change(li, t, name, v):  # t counts along the flipped sequence: original steps 5, 4, 3 are 3, 4, 5
            if name == "h" and 3 <= 8 - t < 6:
                v = v.clone()
                v[2] = 0.0
            return v

        ref = _ref_lstm(fwd, x.flip(0), change)
    for q in "hcifgo":
        np.testing.assert_allclose(getattr(rec, q)[1], ref[q][0][::-1], atol=ATOL, err_msg=q)


def test_zero_over_no_units_equals_no_intervention():
    torch.manual_seed(5)
    model = Net().eval()
    x = torch.randn(11, 4)
    a = lw.record(model, x)
    b = lw.record(
        model,
        x,
        interventions=[
            Intervention("h", layer=0, units=[], start=2, op="zero"),
            Intervention("c", layer=1, units=[], start=0, op="scale", value=9.0),
        ],
    )
    for q in a.quantities + ("logits", "probs"):
        np.testing.assert_allclose(getattr(b, q), getattr(a, q), atol=ATOL, err_msg=q)


def test_set_state_overwrites_the_whole_state_and_matches_the_stepper():
    torch.manual_seed(6)
    model = Net().eval()
    x = torch.randn(10, 4)
    h = np.random.default_rng(0).normal(size=(2, 6)).astype(np.float32)
    c = np.random.default_rng(1).normal(size=(2, 6)).astype(np.float32)
    rec = lw.record(model, x, interventions=[Intervention.set_state(4, h=h, c=c)])
    np.testing.assert_allclose(rec.h[:, 4], h, atol=1e-6)
    np.testing.assert_allclose(rec.c[:, 4], c, atol=1e-6)
    st = lw.Stepper(model)
    for t in range(5):
        st.step(x[t])
    st.state = {"h": h, "c": c}
    frames = [st.step(x[t]) for t in range(5, 10)]
    np.testing.assert_allclose(np.stack([f.h for f in frames], 1), rec.h[:, 5:], atol=ATOL)
    np.testing.assert_allclose(np.stack([f.probs for f in frames]), rec.probs[5:], atol=ATOL)
    # one layer's h only
    one = lw.record(model, x, interventions=Intervention.set_state(2, h=h[1], layer="layer1"))
    np.testing.assert_allclose(one.h[1, 2], h[1], atol=1e-6)
    np.testing.assert_allclose(one.h[0], lw.record(model, x).h[0], atol=ATOL)


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
def test_stepper_under_interventions_equals_record(cell):
    torch.manual_seed(7)
    model = Net(cell=cell).eval()
    x = torch.randn(9, 4)
    ivs = [
        Intervention("h", layer=0, units=[0, 3], start=2, stop=6, op="clamp", value=[0.5, -0.5]),
        Intervention("h", layer=1, units=1, start=5, op="scale", value=-2.0),
    ]
    rec = lw.record(model, x, interventions=ivs)
    st = lw.Stepper(model, interventions=ivs)
    frames = [st.step(x[t]) for t in range(9)]
    for q in rec.quantities:
        np.testing.assert_allclose(np.stack([getattr(f, q) for f in frames], 1), getattr(rec, q), atol=ATOL)
    np.testing.assert_allclose(np.stack([f.probs for f in frames]), rec.probs, atol=ATOL)
    assert len(st.interventions) == 2
    st.interventions = None
    st.reset()
    np.testing.assert_allclose(np.stack([st.step(x[t]).h for t in range(9)], 1), lw.record(model, x).h, atol=ATOL)


def test_ragged_list_applies_where_a_sequence_reaches_the_intervention():
    torch.manual_seed(8)
    model = Net().eval()
    xs = [torch.randn(n, 4) for n in (3, 9, 6, 9)]
    iv = Intervention("h", layer=0, units=[2], start=5, op="zero")
    recs = lw.record(model, xs, interventions=[iv])
    np.testing.assert_allclose(recs[0].h, lw.record(model, xs[0]).h, atol=ATOL)  # 3 steps: never reaches step 5
    for x, r in zip(xs[1:], recs[1:], strict=True):
        np.testing.assert_allclose(r.h, lw.record(model, x, interventions=[iv]).h, atol=ATOL)
        np.testing.assert_allclose(r.h[0, 5:, 2], 0.0)
    with pytest.raises(ValueError, match=r"interventions\[0\] starts at step 5, but the sequence has 3 steps"):
        lw.record(model, xs[0], interventions=[iv])


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(quantity="x"), ValueError, r"quantity must be one of \['h', 'c'\].*got 'x'"),
        (dict(quantity="i"), ValueError, r"quantity must be one of .*got 'i'"),
        (dict(start=-1), ValueError, "start must be a step index >= 0; got -1"),
        (dict(start=4, stop=4), ValueError, r"stop must be None \(to the end\) or a step index > start \(4\); got 4"),
        (dict(op="add", value=1.0), ValueError, r"op must be one of \['zero', 'scale', 'clamp'\]; got 'add'"),
        (dict(op="zero", value=1.0), ValueError, "op='zero' takes no value"),
        (dict(op="scale"), ValueError, "op='scale' needs a value"),
        (dict(op="clamp", value=float("nan")), ValueError, "value must be finite"),
        (dict(units=[1.5]), TypeError, "units must be an int, a list of ints or None"),
        (dict(units=[-1]), ValueError, "units must be unit indices >= 0; got -1"),
        (dict(units=[0, 1], op="clamp", value=[1.0, 2.0, 3.0]), ValueError, "value has 3 entries but units names 2"),
        (dict(layer=1.0), TypeError, "layer must be a row index"),
        (dict(quantity="layer0.h", layer=1), ValueError, "quantity 'layer0.h' names layer 'layer0', but layer=1"),
        (dict(quantity="layer0.f"), ValueError, r"quantity must be one of \['h', 'c'\].*got 'f'"),
    ],
)
def test_bad_interventions_are_refused_when_made(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        Intervention(**kwargs)


def test_interventions_that_do_not_fit_the_model_are_refused():
    model = Net().eval()
    x = torch.randn(6, 4)
    cases = [
        (Intervention(layer=2), r"interventions\[0\].layer must be a row index \(0..1.*\['layer0', 'layer1'\]; got 2"),
        (Intervention(layer="layer7"), r"got 'layer7'"),
        (Intervention(units=[3, 6]), r"interventions\[0\].units has unit 6, out of range for layer1.h with 6 units"),
        (Intervention(units=None, op="clamp", value=np.zeros(4)), r"value has 4 entries, but layer1.h has 6 units"),
        (Intervention(start=6), r"starts at step 6, but the sequence has 6 steps \(0..5\); expected start < 6"),
    ]
    for iv, message in cases:
        with pytest.raises(ValueError, match=message):
            lw.record(model, x, interventions=[iv])
    with pytest.raises(ValueError, match=r"a GRU has no cell state c; expected 'h'"):
        lw.record(Net(cell=nn.GRU), x, interventions=Intervention("c"))
    with pytest.raises(TypeError, match=r"interventions\[1\] is a dict; expected an Intervention"):
        lw.record(model, x, interventions=[Intervention(), {"quantity": "h"}])
    with pytest.raises(ValueError, match="set_state was given a state of 3 rows; this model's state has 2"):
        lw.record(model, x, interventions=Intervention.set_state(1, h=np.zeros((3, 6))))
    with pytest.raises(ValueError, match=r"h has shape \(6,\); expected \(layers, units\) with layer=None"):
        Intervention.set_state(1, h=np.zeros(6))
    with pytest.raises(ValueError, match=r"units has unit 9"):
        lw.Stepper(model, interventions=[Intervention(units=9)])


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_stack_variants_with_initial_states_take_the_same_change(reverse):
    """Hard-sigmoid LSTM with its own initial state (a Keras / ONNX import): a no-op intervention changes nothing, and a
    zeroed unit equals the layer re-run by hand from the changed step (steps before it untouched)."""
    from lstm_widget._core.model import LayerOptions, RecurrentStack

    torch.manual_seed(9)
    m = nn.LSTM(3, 4, batch_first=True)
    h0, c0 = torch.linspace(-0.5, 0.5, 4)[None], torch.linspace(0.3, -0.3, 4)[None]
    stack = RecurrentStack(
        [m], options=[LayerOptions(reverse=reverse, gate_activation=(0.2, 0.5))], initial_states=[(h0, c0)]
    )
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    plain = lw.record(stack, x)
    noop = lw.record(stack, x, interventions=Intervention("c", units=[], start=4))
    for q in plain.quantities:
        np.testing.assert_allclose(getattr(noop, q), getattr(plain, q), atol=ATOL, err_msg=q)
    rec = lw.record(stack, x, interventions=Intervention("h", units=[1], start=4, stop=6))
    before = slice(6, None) if reverse else slice(0, 4)  # the steps read before the first changed one
    np.testing.assert_allclose(rec.h[0, before], plain.h[0, before], atol=ATOL)
    np.testing.assert_allclose(rec.h[0, 4:6, 1], 0.0)
    if not reverse:  # the stepper agrees, from the model's own initial state
        st = lw.Stepper(stack, interventions=[Intervention("h", units=[1], start=4, stop=6)])
        np.testing.assert_allclose(np.stack([st.step(x[t]).h[0] for t in range(10)]), rec.h[0], atol=ATOL)
    # the layer re-run by hand in numpy: hard-sigmoid gates, from (h0, c0), in reading order, h[1] zeroed at 4 and 5
    W, U = m.weight_ih_l0.detach().numpy(), m.weight_hh_l0.detach().numpy()
    b = (m.bias_ih_l0 + m.bias_hh_l0).detach().numpy()
    hard = lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0)  # noqa: E731
    h, c = h0[0].numpy(), c0[0].numpy()
    want = {"h": np.zeros((10, 4)), "c": np.zeros((10, 4))}
    for t in range(9, -1, -1) if reverse else range(10):
        a = W @ x[t] + U @ h + b
        c = hard(a[4:8]) * c + hard(a[:4]) * np.tanh(a[8:12])
        h = hard(a[12:]) * np.tanh(c)
        if 4 <= t < 6:
            h[1] = 0.0
        want["h"][t], want["c"][t] = h, c
    for q in ("h", "c"):
        np.testing.assert_allclose(getattr(rec, q)[0], want[q], atol=1e-5, err_msg=q)
