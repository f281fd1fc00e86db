"""Bad input gets one clear error that names what was wrong and what was expected."""

import inspect
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import lstm_widget as lw
from lstm_widget._core.validate import check_int, to_numpy

M = nn.LSTM(12, 8)


@pytest.mark.parametrize(
    "x, exc, message",
    [
        (np.zeros((5, 11), np.float32), ValueError, r"has 11 features per step .* the model expects 12"),
        (np.zeros(12, np.float32), ValueError, r"shape \(12,\) — a 1-D array.*expected one sequence shaped"),
        (np.zeros((2, 5, 12, 1), np.float32), ValueError, r"shape \(2, 5, 12, 1\) — a 4-D array.*expected one"),
        (np.zeros((0, 12), np.float32), ValueError, r"is empty \(0 steps"),
        (np.zeros((4, 12), np.int64), TypeError, r"dtype int64; expected floating point"),
        (np.zeros((4, 12), object), TypeError, r"dtype object; expected floating point"),
        (torch.zeros(4, 12, dtype=torch.long), TypeError, r"dtype torch.int64; expected a floating-point tensor"),
        ([[0.0] * 12] * 3, TypeError, r"sequence 0 is a list; expected a numpy array or torch tensor"),
        ("abc", TypeError, r"is a str; expected a numpy array or torch tensor"),
        ([], ValueError, r"empty list of sequences"),
    ],
    ids=["features", "1d", "4d", "empty", "int", "object", "long-tensor", "nested-list", "str", "empty-list"],
)
def test_bad_sequences_get_one_clear_error(x, exc, message):
    with pytest.raises(exc, match=message):
        lw.record(M, x)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_name_their_position(bad):
    x = np.zeros((6, 12), np.float32)
    x[4, 7] = bad
    with pytest.raises(ValueError, match=rf"contains {bad} at step 4, feature 7; expected finite"):
        lw.record(M, x)


def test_error_in_a_list_names_the_sequence():
    xs = [np.zeros((3, 12), np.float32), np.zeros((3, 10), np.float32)]
    with pytest.raises(ValueError, match=r"sequence 1 has 10 features"):
        lw.record(M, xs)


def test_model_without_recurrent_layer():
    with pytest.raises(TypeError, match=r"Sequential has no recurrent layer .* expected an nn.LSTM or nn.LSTMCell"):
        lw.record(nn.Sequential(nn.Linear(12, 3)), np.zeros((3, 12), np.float32))


def test_plain_rnn_is_named_as_not_yet_supported():
    model = nn.Sequential()
    model.add_module("rnn", nn.RNN(12, 4))
    with pytest.raises(TypeError, match=r"rnn \(RNN\)"):
        lw.record(model, np.zeros((3, 12), np.float32))


def test_not_a_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module; got str"):
        lw.record("lstm", np.zeros((3, 12), np.float32))


def test_unknown_submodule_name():
    model = nn.Sequential(nn.LSTM(12, 4))
    with pytest.raises(ValueError, match=r"no submodule named 'enc'"):
        lw.record(model, np.zeros((3, 12), np.float32), lstm="enc")


def test_wrapper_with_wrong_feature_count_is_clear():
    from helpers import Classifier

    with pytest.raises(ValueError, match=r"has 5 features per step .* the model expects 4"):
        lw.record(Classifier(), np.zeros((3, 5), np.float32))


def test_stepper_bad_step():
    st = lw.Stepper(M)
    with pytest.raises(ValueError, match=r"the input at step 0 has 3 features; the model expects 12"):
        st.step(np.zeros(3, np.float32))
    x = np.zeros(12, np.float32)
    x[2] = np.nan
    with pytest.raises(ValueError, match="contains nan"):
        st.step(x)
    assert st.t == 0 and np.all(st.state["h"] == 0)


# ---- non-finite weights ----------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(data=st.data(), bad=st.sampled_from([float("nan"), float("inf"), float("-inf")]))
def test_non_finite_weights_are_refused_naming_the_parameter(data, bad):
    """A NaN or infinite weight anywhere in the model (recurrent layer or head) is refused by record and Stepper with
    the parameter's name and where in it the value sits — before anything is recorded."""
    from lstm_widget.models import japanese_vowels_net

    model = japanese_vowels_net()
    params = dict(model.named_parameters())
    name = data.draw(st.sampled_from(sorted(params)))
    p = params[name]
    flat = data.draw(st.integers(0, p.numel() - 1))
    where = tuple(int(k) for k in np.unravel_index(flat, tuple(p.shape)))
    with torch.no_grad():
        p[where] = bad
    message = (
        rf"has {bad} in parameter '{re.escape(name)}' \(shape {re.escape(str(tuple(p.shape)))}\) at index "
        rf"{re.escape(str(where))}.*expected finite weights"
    )
    with pytest.raises(ValueError, match=message):
        lw.record(model, np.zeros((3, 12), np.float32))
    with pytest.raises(ValueError, match=message):
        lw.Stepper(model)
    with pytest.raises(ValueError, match=message):
        lw.Explorer(model, [np.zeros((3, 12), np.float32)])


def test_finite_weights_check_is_one_sum_per_parameter(monkeypatch):
    """On a sound model the check costs one sum per parameter (elements are looked at only when a sum is not finite);
    finite weights whose sum overflows float32 are accepted."""
    from lstm_widget._core.validate import check_model_finite

    calls = []
    real = torch.isfinite
    monkeypatch.setattr(torch, "isfinite", lambda t: calls.append(tuple(t.shape)) or real(t))
    net = nn.LSTM(4, 6, num_layers=2)
    check_model_finite(net)
    assert calls == [()] * len(list(net.parameters()))
    with torch.no_grad():
        net.weight_hh_l0.fill_(3e38)  # finite, but the sum overflows
    check_model_finite(net)


# ---- the shared int check and tensor conversion ------------------------------------------------------------------------
@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_check_int_takes_python_and_numpy_integers(value):
    got = check_int(value, "k", low=0, high=4)
    assert got == 3 and type(got) is int


@pytest.mark.parametrize(
    "value, kwargs, exc, message",
    [
        (True, {}, ValueError, r"^k must be a whole number; got True \(bool\)$"),
        (np.bool_(True), {}, ValueError, r"^k must be a whole number; got .*True_? \(bool_?\)$"),
        (2.0, dict(low=1), ValueError, r"^k must be a whole number >= 1; got 2.0 \(float\)$"),
        ("3", dict(high=5), ValueError, r"^k must be a whole number <= 4; got '3' \(str\)$"),
        (4, dict(low=0, high=4), ValueError, r"^k must be a whole number in 0..3; got 4$"),
        (-1, dict(low=0), ValueError, r"^k must be a whole number >= 0; got -1$"),
        (
            9,
            dict(low=0, high=3, expected="a row index", error=IndexError),
            IndexError,
            r"^k must be a row index; got 9$",
        ),
    ],
)
def test_check_int_refuses_with_one_error(value, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        check_int(value, "k", **kwargs)


def test_to_numpy_detaches_and_keeps_or_casts_the_dtype():
    x = torch.arange(6, dtype=torch.float64).reshape(2, 3).requires_grad_(True)
    kept = to_numpy(x)
    assert kept.dtype == np.float64 and kept.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert to_numpy(x, np.float32).dtype == np.float32
    half = to_numpy(torch.tensor([1.5, -2.0], dtype=torch.bfloat16))  # numpy has no bfloat16
    assert half.dtype == np.float32 and half.tolist() == [1.5, -2.0]
    ints = to_numpy(torch.tensor([1, 2]))
    assert ints.dtype == np.int64 and ints.tolist() == [1, 2]
    a = np.ones(3, np.float32)
    assert to_numpy(a) is a  # already numpy: no copy
    cpu = torch.zeros(3)
    to_numpy(cpu)[0] = 7.0  # a CPU float32 tensor shares its memory
    assert cpu[0] == 7.0


def test_influence_options_are_keyword_parameters():
    params = inspect.signature(lw.influence).parameters
    assert list(params)[:3] == ["model", "x", "t"]
    assert params["steps"].kind is inspect.Parameter.KEYWORD_ONLY and params["steps"].default == 128
    assert list(inspect.signature(lw.influence_all).parameters)[2:] == list(params)[3:]
    with pytest.raises(TypeError, match=r"^influence\(\) got an unexpected keyword argument 'stpes'$"):
        lw.influence(M, np.zeros((3, 12), np.float32), stpes=8)
    with pytest.raises(ValueError, match="method must be one of"):
        lw.influence_all(M, np.zeros((3, 12), np.float32), method="saliency")


def test_a_batch_where_one_sequence_is_expected_says_so():
    message = r"shape \(2, 5, 12\) — a 3-D array \(a batch\?\): this takes one sequence, e\.g\. x\[0\]"
    with pytest.raises(ValueError, match=message):
        lw.influence(M, np.zeros((2, 5, 12), np.float32), t=4)
    assert len(lw.record(M, np.zeros((2, 5, 12), np.float32))) == 2  # record takes a batch


def test_influence_on_a_token_model_takes_ids_and_refuses_floats_by_name():
    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.lstm, self.fc = nn.Embedding(10, 4), nn.LSTM(4, 6, batch_first=True), nn.Linear(6, 10)

        def forward(self, ids):
            return self.fc(self.lstm(self.emb(ids))[0])

    ids = np.array([1, 2, 3])
    assert lw.influence(CharLM(), ids, t=2).values.shape == (3, 4)  # over the embedding of each token
    assert lw.influence_all(CharLM(), ids, method="gradient_x_input").per_step.shape == (3, 3)
    with pytest.raises(TypeError, match=r"CharLM expects token ids \(its 'emb' is an Embedding of 10 tokens\)"):
        lw.influence(CharLM(), np.zeros((3, 4), np.float32), t=2)
