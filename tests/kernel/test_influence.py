"""influence / influence_all: integrated gradients' completeness, gradient × input against torch's own autograd on the
model's forward and against finite differences, causality, GRU, bidirectional models, unit targets, clear errors."""

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw


class Net(nn.Module):
    """Normalisation, a recurrent layer, a head on the last step: the prediction at t is the head on h_t."""

    def __init__(self, cell=nn.LSTM, classes=3, **kw):
        super().__init__()
        self.register_buffer("mean", torch.linspace(-0.5, 0.5, 4))
        self.rnn = cell(4, 8, batch_first=True, **kw)
        self.fc = nn.Linear(8 * (2 if kw.get("bidirectional") else 1), classes)

    def forward(self, x):
        return self.fc(self.rnn(x - self.mean)[0][:, -1])


def _model(cell=nn.LSTM, seed=0, **kw):
    torch.manual_seed(seed)
    return Net(cell, **kw).eval()


X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("output", ["logit", "prob"])
def test_integrated_gradients_complete_within_one_percent(cell, output):
    model = _model(cell, num_layers=2)
    rec = lw.record(model, X)
    for t in (0, 4, 9):
        r = lw.influence(model, X, t=t, output=output)
        assert r.target == rec.predictions[t]  # default: the class predicted at t
        f = rec.logits[t, r.target] if output == "logit" else rec.probs[t, r.target]
        assert r.f_x == pytest.approx(f, abs=1e-5)
        assert abs(r.values.sum() - (r.f_x - r.f_baseline)) <= 0.01 * abs(r.f_x - r.f_baseline)
        assert r.completeness_error < 0.01
        np.testing.assert_array_equal(r.values[t + 1 :], 0.0)  # causality: nothing after t


def test_completeness_on_the_bundled_network_from_two_baselines():
    model = lw.models.japanese_vowels_net()
    X, _ = lw.datasets.japanese_vowels("test")
    for k in (0, 100, 200):
        x = X[k]
        for baseline in (None, "mean"):
            r = lw.influence(model, x, baseline=baseline)
            assert r.t == len(x) - 1 and r.completeness_error < 0.01, (k, baseline, r.completeness_error)


def test_adaptive_rule_beats_fixed_nodes_where_f_jumps():
    # sequence 0 of the test split: along the path from zeros the logit jumps by 7 within 2 % of the path
    model = lw.models.japanese_vowels_net()
    x = lw.datasets.japanese_vowels("test")[0][0]
    fixed = lw.influence(model, x, quadrature="gauss_legendre")
    adaptive = lw.influence(model, x)
    assert fixed.completeness_error > 0.02 and adaptive.completeness_error < 0.01
    assert lw.influence(model, x, quadrature="gauss_legendre", steps=1024).completeness_error < 1e-3


def test_gradient_x_input_equals_autograd_on_the_models_own_forward():
    model = _model(num_layers=2)
    x = torch.from_numpy(X).requires_grad_(True)
    logits = model(x[None])[0]
    c = int(logits.argmax())
    (g,) = torch.autograd.grad(logits[c], x)
    r = lw.influence(model, X, method="gradient_x_input")
    assert r.t == 9 and r.target == c and r.f_baseline is None and r.completeness_error is None
    np.testing.assert_allclose(r.values, (x * g).detach().numpy(), atol=1e-6)
    assert r.f_x == pytest.approx(float(logits[c].detach()), abs=1e-5)


def test_gradient_x_input_against_finite_differences_at_an_inner_step():
    model = _model(nn.GRU).double()
    x = X.astype(np.float64)
    t, c = 5, 1
    r = lw.influence(model, x, t=t, target=c, method="gradient_x_input")

    def f(z):  # the prediction at t is the model on the prefix up to t
        with torch.no_grad():
            return float(model(torch.from_numpy(z[None, : t + 1]))[0, c])

    eps = 1e-6
    num = np.zeros_like(x)
    for s in range(len(x)):
        for d in range(x.shape[1]):
            up, down = x.copy(), x.copy()
            up[s, d] += eps
            down[s, d] -= eps
            num[s, d] = (f(up) - f(down)) / (2 * eps)
    np.testing.assert_allclose(r.values, x * num, atol=1e-7)
    np.testing.assert_array_equal(r.values[t + 1 :], 0.0)


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_x_input"])
def test_influence_all_equals_one_call_per_step(method):
    model = _model(num_layers=2)
    m = lw.influence_all(model, X, method=method, steps=32)
    assert m.values.shape == (10, 10, 4) and len(m) == 10
    np.testing.assert_array_equal(m.targets, lw.record(model, X).predictions)
    for t in (0, 3, 9):
        one = lw.influence(model, X, t=t, method=method, steps=32)
        np.testing.assert_allclose(m.values[t], one.values, atol=1e-4 * max(1.0, np.abs(one.values).max()))
        assert m.at(t).t == t and m.at(t).target == one.target
        np.testing.assert_allclose(m.per_lag[t, : t + 1], one.per_lag, atol=1e-4)
    assert np.all(np.triu(m.per_step, k=1) == 0)  # nothing after each t
    np.testing.assert_array_equal(m.per_lag[2, 3:], 0.0)
    if method == "integrated_gradients":
        assert m.completeness_error.max() < 0.01


def test_per_lag_reads_backwards_from_t():
    r = lw.influence(_model(), X, t=6, method="gradient_x_input")
    assert r.per_lag.shape == (7,)
    np.testing.assert_allclose(r.per_lag, r.values[6::-1].sum(axis=1))
    np.testing.assert_allclose(r.per_lag_abs, np.abs(r.values[6::-1]).sum(axis=1))
    assert r.future == 0.0 and r.causal


def test_bidirectional_model_sees_the_future():
    model = _model(bidirectional=True)
    r = lw.influence(model, X, t=3)
    assert not r.causal
    assert np.abs(r.values[4:]).sum() > 0 and r.future != 0.0  # step 3 has read steps 4..9 backwards
    assert r.completeness_error < 0.01
    # the prediction at 3 is the head on both directions' h at step 3, as record has it
    x = torch.from_numpy(X).requires_grad_(True)
    h3 = model.rnn(x[None] - model.mean)[0][0, 3]  # (16,): forward and reverse side by side
    (ref,) = torch.autograd.grad(model.fc(h3)[0], x)
    g = lw.influence(model, X, t=3, method="gradient_x_input", target=0)
    np.testing.assert_allclose(g.values, (x * ref).detach().numpy(), atol=1e-6)


def test_unit_targets_h_c_and_gates():
    model = _model(num_layers=2)
    rec = lw.record(model, X)
    for q in ("h", "c", "f"):
        r = lw.influence(model, X, t=7, unit=2, quantity=q, layer=0)
        assert r.f_x == pytest.approx(getattr(rec, q)[0, 7, 2], abs=1e-5)
        assert r.completeness_error < 0.01 and r.layer == "layer0" and r.quantity == q and r.unit == 2
        np.testing.assert_array_equal(r.values[8:], 0.0)
    # the gradient of a layer-1 unit against autograd on the module itself
    x = torch.from_numpy(X).requires_grad_(True)
    h = model.rnn(x[None] - model.mean)[0][0, 7, 5]
    (g,) = torch.autograd.grad(h, x)
    r = lw.influence(model, X, t=7, unit=5, layer="layer1", method="gradient_x_input")
    np.testing.assert_allclose(r.values, (x * g).detach().numpy(), atol=1e-6)


def test_bare_lstm_without_head_explains_units_and_baselines_are_honoured():
    m = nn.LSTM(4, 5)
    r = lw.influence(m, X, unit=1, baseline=0.5)
    np.testing.assert_array_equal(r.baseline, np.full_like(X, 0.5))
    assert r.completeness_error < 0.01
    step_baseline = lw.influence(m, X, unit=1, baseline=X.mean(0))
    np.testing.assert_allclose(step_baseline.baseline, np.broadcast_to(X.mean(0), X.shape))
    at_x = lw.influence(m, X, unit=1, baseline=X)  # from x to x: nothing to attribute
    assert np.abs(at_x.values).max() == 0.0 and at_x.f_x == at_x.f_baseline


def test_binary_head_probability_is_a_sigmoid():
    model = _model(classes=1)
    r = lw.influence(model, X, output="prob")
    rec = lw.record(model, X, task="classification")  # one raw output: "auto" would call it a regression
    assert r.target == 0 and r.f_x == pytest.approx(float(rec.probs[-1, 0]), abs=1e-6)
    assert r.completeness_error < 0.01


def test_the_model_is_left_as_it_was():
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lw.influence(model, X)
    lw.influence_all(model, X, method="gradient_x_input")
    assert not model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(method="saliency"), ValueError, r"method must be one of \['integrated_gradients', 'gradient_x_input'\]"),
        (dict(t=10), ValueError, r"t must be a step index in 0..9 .*got 10"),
        (dict(target=3), ValueError, r"target must be a class index in 0..2 \(the head has 3 outputs\); got 3"),
        (dict(target=1, unit=2), ValueError, "give one of them"),
        (dict(unit=8), ValueError, r"unit must be a unit index in 0..7 \(layer0.h has 8\); got 8"),
        (dict(unit=0, quantity="r"), ValueError, r"quantity must be one of \['h', 'c', 'i', 'f', 'g', 'o'\]"),
        (dict(unit=0, layer=1), ValueError, r"layer must be a row index \(0..0"),
        (dict(steps=0), ValueError, "steps must be a whole number >= 1"),
        (dict(quadrature="simpson"), ValueError, r"quadrature must be one of \['adaptive', 'gauss_legendre'\]"),
        (dict(output="log"), ValueError, r"output must be one of \['logit', 'prob'\]"),
        (dict(baseline=np.zeros((3, 4))), ValueError, r"baseline has shape \(3, 4\); expected one shaped like x"),
        (dict(baseline="random"), ValueError, "baseline must be None/'zeros', 'mean'"),
    ],
)
def test_bad_arguments_get_one_clear_error(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        lw.influence(_model(), X, **kwargs)


def test_no_head_and_bad_input_are_clear():
    with pytest.raises(ValueError, match="the model has no head, so there is no prediction to explain"):
        lw.influence(nn.LSTM(4, 5), X)
    with pytest.raises(ValueError, match=r"x has 3 features per step .* the model expects 4"):
        lw.influence(_model(), X[:, :3])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_eval_mode_model_equals_cpu():
    model = _model(num_layers=2)
    cpu = lw.influence(model, X, t=6)
    cpu_all = lw.influence_all(model, X, method="gradient_x_input")
    model.cuda()
    assert not model.training
    gpu = lw.influence(model, X, t=6)
    np.testing.assert_allclose(gpu.values, cpu.values, atol=1e-4)
    assert gpu.completeness_error < 0.01
    gpu_all = lw.influence_all(model, X, method="gradient_x_input")
    np.testing.assert_allclose(gpu_all.values, cpu_all.values, atol=1e-4)


def test_imported_stack_with_reverse_layer_and_hard_sigmoid():
    from lstm_widget._core.model import LayerOptions, RecurrentStack

    torch.manual_seed(3)
    layers = [nn.LSTM(4, 5, batch_first=True), nn.LSTM(5, 5, batch_first=True)]
    opts = [LayerOptions(gate_activation=(0.2, 0.5)), LayerOptions(reverse=True)]
    stack = RecurrentStack(layers, options=opts, head=nn.Linear(5, 2))
    r = lw.influence(stack, X, t=4)
    assert not r.causal and r.completeness_error < 0.01
    first = lw.influence(stack, X, t=4, unit=0, layer="layer0", method="gradient_x_input")
    assert first.causal
    np.testing.assert_array_equal(first.values[5:], 0.0)


def test_forward_row_of_a_bidirectional_layer_is_causal_its_reverse_row_is_not():
    model = _model(bidirectional=True)
    fwd = lw.influence(model, X, t=4, unit=1, layer="layer0", method="gradient_x_input")
    rev = lw.influence(model, X, t=4, unit=1, layer="layer0_reverse", method="gradient_x_input")
    assert fwd.causal and not rev.causal
    np.testing.assert_array_equal(fwd.values[5:], 0.0)
    np.testing.assert_array_equal(rev.values[:4], 0.0)  # the reverse row at 4 has read steps 9..4 only


def test_influence_on_a_regressor_names_its_output_not_a_class():
    torch.manual_seed(0)
    reg = nn.Sequential()
    reg.add_module("lstm", nn.LSTM(3, 6, batch_first=True))
    reg.add_module("out", nn.Linear(6, 1))
    reg.forward = lambda x: reg.out(reg.lstm(x)[0])
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    inf = lw.influence(reg, x, 4, method="gradient_x_input")
    assert inf.regression and repr(inf).startswith("Influence(gradient_x_input, output 0 at step 4, f_x=")
    with torch.no_grad():
        assert inf.f_x == pytest.approx(reg(torch.from_numpy(x)[None])[0, 4, 0].item(), abs=1e-5)  # the raw value
    assert lw.influence_all(reg, x, method="gradient_x_input").at(4).regression
    # a classifier is still explained by the logit of a class
    clf = nn.Sequential()
    clf.add_module("lstm", nn.LSTM(3, 6, batch_first=True))
    clf.add_module("out", nn.Linear(6, 4))
    clf.forward = lambda x: clf.out(clf.lstm(x)[0])
    assert " logit of class " in repr(lw.influence(clf, x, 4, method="gradient_x_input", target=2))
    assert not lw.influence(reg, x, 4, method="gradient_x_input", output="prob").regression


def _seq_model(outputs: int):
    torch.manual_seed(1)
    m = nn.Sequential()
    m.add_module("lstm", nn.LSTM(3, 8, batch_first=True))
    m.add_module("out", nn.Linear(8, outputs))
    m.forward = lambda x: m.out(m.lstm(x)[0])
    return m


def test_task_regression_explains_a_raw_output_of_a_multi_output_head():
    reg = _seq_model(2)
    x = np.random.default_rng(2).normal(size=(7, 3)).astype(np.float32)
    with torch.no_grad():
        raw = reg(torch.from_numpy(x)[None])[0].numpy()
    # task "auto" (direct calls as before): two outputs are classes, the argmax's logit is explained
    auto = lw.influence_all(reg, x, method="gradient_x_input")
    assert not auto.regression
    np.testing.assert_array_equal(auto.targets, raw.argmax(axis=1))
    # task "regression": output 0 by default, output j when asked; never a class
    inf = lw.influence_all(reg, x, method="gradient_x_input", task="regression")
    assert inf.regression
    np.testing.assert_array_equal(inf.targets, np.zeros(7))
    np.testing.assert_allclose(inf.f_x, raw[:, 0], atol=1e-5)
    one = lw.influence(reg, x, 4, method="gradient_x_input", task="regression", target=1)
    assert repr(one).startswith("Influence(gradient_x_input, output 1 at step 4, f_x=")
    assert one.f_x == pytest.approx(float(raw[4, 1]), abs=1e-5)
    with pytest.raises(ValueError, match=r"target must be an output index in 0..1 \(the head has 2 outputs\); got 2"):
        lw.influence(reg, x, 4, task="regression", target=2)
    with pytest.raises(ValueError, match="a regression's outputs are explained as they are"):
        lw.influence(reg, x, 4, task="regression", output="prob")
    with pytest.raises(ValueError, match=r"task must be one of \['auto', 'classification', 'regression'\]"):
        lw.influence(reg, x, 4, task="binary")


def test_task_classification_keeps_a_one_logit_head_a_class():
    clf = _seq_model(1)  # a binary classifier whose sigmoid is outside forward
    x = np.random.default_rng(3).normal(size=(5, 3)).astype(np.float32)
    assert lw.influence(clf, x, 2, method="gradient_x_input").regression  # "auto": one output is a regression's
    inf = lw.influence(clf, x, 2, method="gradient_x_input", task="classification")
    assert not inf.regression and " logit of class 0 at step 2" in repr(inf)
