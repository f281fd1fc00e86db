"""lstm_widget.activations: any submodule's outputs (and inputs) by name through forward hooks — equal to running the
submodules by hand, recurrent layers equal to record's values, hooks always removed, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import lstm_widget as lw
from lstm_widget import activations, hook_names, record
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net


class SmallCNN(nn.Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.relu1 = nn.ReLU(inplace=inplace)
        self.pool = nn.MaxPool2d(2)
        self.block = nn.Sequential(nn.Conv2d(4, 3, 3), nn.Tanh())
        self.fc = nn.Linear(3 * 2 * 2, 5)

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        x = self.block(x)
        return self.fc(torch.relu(x).flatten(1))  # a functional relu: no module, the fc's input is its output


def _hooks_left(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.fixture
def cnn():
    torch.manual_seed(0)
    return SmallCNN().eval()


@pytest.fixture
def x():
    return torch.randn(3, 2, 8, 8, generator=torch.Generator().manual_seed(1))


def test_outputs_equal_running_the_submodules_by_hand(cnn, x):
    acts = activations(cnn, x, layers=["conv1", "relu1", "pool", "block.0", "block.1", "block", "fc", "fc:input"])
    with torch.no_grad():
        c1 = cnn.conv1(x)
        r1 = cnn.relu1(c1)
        p = cnn.pool(r1)
        b0 = cnn.block[0](p)
        b1 = cnn.block[1](b0)
        fc_in = torch.relu(b1).flatten(1)
        out = cnn.fc(fc_in)
    expected = {"conv1": c1, "relu1": r1, "pool": p, "block.0": b0, "block.1": b1, "block": b1, "fc": out,
                "fc:input": fc_in}  # fmt: skip
    assert list(acts) == list(expected)  # in the order asked for
    for name, value in expected.items():
        assert isinstance(acts[name], np.ndarray) and acts[name].dtype == np.float32, name
        np.testing.assert_allclose(acts[name], value.numpy(), rtol=1e-6, atol=1e-6, err_msg=name)
    # pre / post ReLU: the module's input is the conv output, its output the positive part
    pre_post = activations(cnn, x, layers=["relu1:input", "relu1"])
    np.testing.assert_array_equal(pre_post["relu1:input"], acts["conv1"])
    np.testing.assert_array_equal(pre_post["relu1"], np.maximum(acts["conv1"], 0))
    assert (acts["conv1"] < 0).any()


def test_inplace_relu_does_not_overwrite_what_the_conv_gave(x):
    torch.manual_seed(0)
    model = SmallCNN(inplace=True).eval()
    acts = activations(model, x, layers=["conv1", "relu1"])
    with torch.no_grad():
        c1 = model.conv1(x)
    np.testing.assert_allclose(acts["conv1"], c1.numpy(), rtol=1e-6, atol=1e-6)
    assert (acts["conv1"] < 0).any() and (acts["relu1"] >= 0).all()


def test_names_filter_default_and_numpy_input(cnn, x):
    got = activations(cnn, x.numpy().astype(np.float64), names_filter=lambda n: n.startswith("block."))
    assert list(got) == ["block.0", "block.1"]
    assert list(activations(cnn, x, names_filter="fc")) == ["fc"]
    assert list(activations(cnn, x, names_filter=["pool", "conv1"])) == ["pool", "conv1"]
    assert list(activations(cnn, x)) == ["conv1", "relu1", "pool", "block.0", "block.1", "fc"]  # every leaf
    assert hook_names(cnn) == ["conv1", "relu1", "pool", "block", "block.0", "block.1", "fc"]
    assert "conv1" in repr(activations(cnn, x, layers="conv1"))


def test_tuple_outputs_and_modules_called_twice():
    class Split(nn.Module):
        def forward(self, x):
            return x[:, :2], (x[:, 2:], x.sum(1))

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.split = Split()
            self.act = nn.Tanh()

        def forward(self, x):
            a, (b, s) = self.split(x)
            return self.act(a) + self.act(b) + s[:, None]

    x = torch.arange(8.0).reshape(2, 4)
    acts = activations(Twice(), x, layers=["split", "act", "act:input"])
    np.testing.assert_array_equal(acts["split.0"], x[:, :2].numpy())
    np.testing.assert_array_equal(acts["split.1.0"], x[:, 2:].numpy())
    np.testing.assert_array_equal(acts["split.1.1"], x.sum(1).numpy())
    np.testing.assert_allclose(acts["act[0]"], np.tanh(x[:, :2].numpy()), rtol=1e-6)
    np.testing.assert_allclose(acts["act[1]"], np.tanh(x[:, 2:].numpy()), rtol=1e-6)
    np.testing.assert_array_equal(acts["act[1]:input"], x[:, 2:].numpy())
    assert list(activations(Twice(), x, layers=["split.1.0"])) == ["split.1.0"]


def test_lstm_names_give_records_values():
    net = japanese_vowels_net()
    X, _ = japanese_vowels("test")
    same = [s for s in X if len(s) == len(X[0])][:3]
    acts = activations(net, np.stack(same), layers=["lstm", "head"])
    for b, seq in enumerate(same):
        rec = record(net, seq)  # the wrapper's normalisation runs in both
        for q in rec.quantities:
            np.testing.assert_allclose(acts[f"lstm.{q}"][b], rec[q], rtol=1e-5, atol=1e-6, err_msg=q)
            np.testing.assert_allclose(acts[f"lstm.layer0.{q}"][b], rec[f"layer0.{q}"], rtol=1e-5, atol=1e-6)
    assert acts["lstm.h"].shape == (3, 1, len(same[0]), 100)
    assert acts["lstm.layer0.c"].shape == (3, len(same[0]), 100)
    with torch.no_grad():
        np.testing.assert_allclose(acts["head"], net(torch.from_numpy(np.stack(same))).numpy(), rtol=1e-5, atol=1e-6)
    only = activations(net, same[0][None], layers=["lstm.c", "lstm.layer0.o"])
    assert list(only) == ["lstm.c", "lstm.layer0.o"]


def test_gru_stack_not_batch_first_and_unbatched():
    torch.manual_seed(0)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(3, 5)
            self.rnn = nn.GRU(5, 4, num_layers=2, bidirectional=True)  # (T, B, D)

        def forward(self, x):
            return self.rnn(self.proj(x))[0]

    model = Wrap().eval()
    x = torch.randn(6, 2, 3)  # T=6, B=2
    acts = activations(model, x, layers=["rnn", "proj"])
    z = acts["proj"]
    for b in range(2):
        rec = record(model.rnn, z[:, b])
        assert rec.layer_names == ("layer0", "layer0_reverse", "layer1", "layer1_reverse")
        for q in ("h", "r", "z", "n"):
            np.testing.assert_allclose(acts[f"rnn.{q}"][b], rec[q], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(acts["rnn.layer1_reverse.h"][b], rec["layer1_reverse.h"], rtol=1e-5, atol=1e-6)
        # and against torch's own output: the top layer's two directions side by side
        top = np.concatenate([acts["rnn.layer1.h"][b], acts["rnn.layer1_reverse.h"][b]], -1)
        np.testing.assert_allclose(top, model(x)[:, b].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert "rnn.c" not in acts
    one = activations(model, x[:, 0], layers=["rnn.h"])  # unbatched (T, D): no batch axis
    np.testing.assert_allclose(one["rnn.h"], acts["rnn.h"][0], rtol=1e-5, atol=1e-6)


def test_lstm_cell_in_a_loop_gives_one_entry_per_call():
    torch.manual_seed(0)

    class Loop(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(3, 4)

        def forward(self, x):
            h = c = torch.zeros(x.shape[0], 4)
            for t in range(x.shape[1]):
                h, c = self.cell(x[:, t], (h, c))
            return h

    model = Loop()
    x = torch.randn(2, 5, 3)
    acts = activations(model, x, layers=["cell"])
    assert list(acts) == [f"cell[{t}].{q}" for t in range(5) for q in ("h", "c")]
    with torch.no_grad():
        np.testing.assert_allclose(acts["cell[4].h"], model(x).numpy(), rtol=1e-6, atol=1e-7)


def test_hooks_removed_after_success_and_after_an_error(cnn, x):
    activations(cnn, x, layers=["conv1", "fc:input"])
    assert _hooks_left(cnn) == 0

    class Fails(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)
            self.act = nn.ReLU()

        def forward(self, x):
            self.act(self.conv(x))
            raise RuntimeError("boom after the hooked layers ran")

    model = Fails()
    with pytest.raises(ValueError, match="boom") as err:
        activations(model, x, layers=["conv", "act", "act:input"])
    assert isinstance(err.value.__cause__, RuntimeError)
    assert _hooks_left(model) == 0
    with pytest.raises(ValueError, match="input of shape"):  # wrong channel count: torch's own error, explained
        activations(cnn, torch.randn(1, 5, 8, 8), layers=["conv1"])
    assert _hooks_left(cnn) == 0


def test_unknown_names_and_empty_selections(cnn, x):
    with pytest.raises(ValueError, match=r"no submodule named 'conv2'.*did you mean 'conv1'"):
        activations(cnn, x, layers=["conv2"])
    with pytest.raises(ValueError, match="The model's submodules are: conv1, relu1, pool"):
        activations(cnn, x, layers=["nothing_like_it"])
    with pytest.raises(ValueError, match="did you mean"):
        activations(cnn, x, layers=["blok.0:input"])
    with pytest.raises(ValueError, match="selection is empty"):
        activations(cnn, x, layers=[])
    with pytest.raises(ValueError, match="matched none"):
        activations(cnn, x, names_filter=lambda n: n.startswith("lstm"))
    with pytest.raises(ValueError, match="model itself"):
        activations(cnn, x, layers=[""])
    with pytest.raises(TypeError, match="not both"):
        activations(cnn, x, layers=["fc"], names_filter="fc")
    with pytest.raises(TypeError, match="names_filter must be"):
        activations(cnn, x, names_filter=3)
    with pytest.raises(TypeError, match="must be str"):
        activations(cnn, x, layers=[1])
    with pytest.raises(ValueError, match="gave no output named 'fc.0'"):
        activations(cnn, x, layers=["fc.0"])


def test_bad_inputs_and_uncalled_layers(cnn, x):
    with pytest.raises(TypeError, match="x is a list"):
        activations(cnn, [[1.0, 2.0]], layers=["conv1"])
    with pytest.raises(TypeError, match=r"x\[1\] is a str"):
        activations(cnn, (x, "no"), layers=["conv1"])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        activations("model", x, layers=["conv1"])

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Identity()
            self.spare = nn.Linear(2, 2)

        def forward(self, x):
            return self.used(x)

    with pytest.raises(ValueError, match="never called 'spare'"):
        activations(Unused(), torch.zeros(1, 2), layers=["used", "spare"])
    assert list(activations(Unused(), torch.zeros(1, 2))) == ["used"]  # the default skips what did not run


def test_recurrent_layer_inputs_it_cannot_record():
    lstm_model = nn.Sequential()
    lstm_model.lstm = nn.LSTM(3, 4, batch_first=True)

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True)

        def forward(self, x):
            h0 = torch.ones(1, x.shape[0], 4)
            return self.lstm(x, (h0, torch.zeros_like(h0)))[0]

    with pytest.raises(ValueError, match="non-zero initial state"):
        activations(WithState(), torch.randn(2, 5, 3), layers=["lstm"])

    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True)

        def forward(self, x):
            packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor([5, 3]), batch_first=True)
            return self.lstm(packed)[0]

    with pytest.raises(TypeError, match="packed sequences"):
        activations(Packed(), torch.randn(2, 5, 3), layers=["lstm"])
    # the input of a recurrent layer is still available as such
    got = activations(Packed(), torch.randn(2, 5, 3), layers=["lstm:input.0"])
    assert list(got) == ["lstm:input.0"]


def test_top_level_names():
    assert lw.activations is activations
    assert isinstance(activations(nn.Sequential(nn.Identity()), torch.zeros(1, 2)), lw.Activations)


class _Shared(nn.Module):
    """One nn.ReLU applied ``n`` times and one LSTMCell stepped over the sequence: per-call names."""

    def __init__(self, n):
        super().__init__()
        self.n = n
        self.relu = nn.ReLU()
        self.cell = nn.LSTMCell(3, 4)

    def forward(self, x):
        y = x[:, 0]
        for k in range(self.n):
            y = self.relu(y - float(k))
        h = c = torch.zeros(x.shape[0], 4)
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h, c))
        return y, h


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), steps=st.integers(1, 5), data=st.data())
def test_per_call_names_can_be_asked_for(n, steps, data):
    """Every per-call key the result documents (relu[k], relu[k]:input, cell[t].h, cell[t].c) may be asked for in
    layers= and gives that call alone, the same value as in the full result, under the name asked for."""
    torch.manual_seed(0)
    model = _Shared(n)
    x = torch.randn(2, steps, 3)
    full = activations(model, x, layers=["relu", "relu:input", "cell", "cell:input"])
    k = data.draw(st.integers(0, n - 1))
    t = data.draw(st.integers(0, steps - 1))
    q = data.draw(st.sampled_from(["h", "c"]))
    asked = [f"relu[{k}]", f"relu[{k}]:input", f"cell[{t}].{q}", f"cell[{t}]:input.0"]
    got = activations(model, x, layers=asked)
    assert list(got) == asked

    def tag(name, j, calls):
        return name if calls == 1 else f"{name}[{j}]"

    np.testing.assert_array_equal(got[f"relu[{k}]"], full[tag("relu", k, n)])
    np.testing.assert_array_equal(got[f"relu[{k}]:input"], full[tag("relu", k, n) + ":input"])
    np.testing.assert_array_equal(got[f"cell[{t}].{q}"], full[tag("cell", t, steps) + f".{q}"])
    np.testing.assert_array_equal(got[f"cell[{t}]:input.0"], full[tag("cell", t, steps) + ":input.0"])
    np.testing.assert_array_equal(got[f"cell[{t}]:input.0"], x[:, t].numpy())  # the step, not a state
    with pytest.raises(
        ValueError,
        match=rf"'relu\[{n}\]' asks for call {n} of 'relu', which the forward pass "
        rf"called {n} times? \(calls 0..{n - 1}\)",
    ):
        activations(model, x, layers=[f"relu[{n}]"])
    with pytest.raises(ValueError, match=r"no submodule named 'nothing\[0\]'"):
        activations(model, x, layers=["nothing[0]"])
