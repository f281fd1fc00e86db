import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import JapaneseVowelsNet, japanese_vowels_net


@pytest.fixture(scope="module")
def model():
    return japanese_vowels_net()


def test_structure(model):
    assert isinstance(model, JapaneseVowelsNet)
    assert not model.training
    assert isinstance(model.lstm, nn.LSTM)
    assert (model.lstm.input_size, model.lstm.hidden_size, model.lstm.num_layers) == (12, 100, 1)
    assert model.lstm.batch_first and not model.lstm.bidirectional
    assert isinstance(model.head, nn.Linear)
    assert (model.head.in_features, model.head.out_features) == (100, 9)
    assert model.mean.shape == (12,) and model.std.shape == (12,)
    assert (model.std > 0).all()
    assert {n for n, _ in model.named_buffers()} == {"mean", "std"}
    for t in list(model.parameters()) + list(model.buffers()):
        assert t.dtype == torch.float32


def test_normalisation_is_training_statistics(model):
    allx = np.concatenate(japanese_vowels("train")[0])
    np.testing.assert_allclose(model.mean.numpy(), allx.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.std.numpy(), allx.std(0), rtol=1e-5, atol=1e-6)


def test_fresh_model_each_call(model):
    other = japanese_vowels_net()
    assert other is not model
    with torch.no_grad():
        other.head.bias.add_(1.0)
    assert not torch.equal(other.head.bias, model.head.bias)


@torch.no_grad()
def test_test_accuracy(model):
    X, y = japanese_vowels("test")
    pred = np.array([int(model(torch.from_numpy(x)[None]).argmax(1)) for x in X])
    acc = (pred == y).mean()
    assert acc >= 0.96, acc


@torch.no_grad()
def test_forward_matches_hand_computation(model):
    X, _ = japanese_vowels("test")
    x = torch.from_numpy(X[5])[None]
    z = (x - model.mean) / model.std
    out, (h, c) = model.lstm(z)
    expected = model.head(out[:, -1])
    torch.testing.assert_close(model(x), expected, rtol=0, atol=0)
    # the per-step prediction (head on every step's h) ends in the model output
    per_step = model.head(out[0])
    assert per_step.shape == (x.shape[1], 9)
    torch.testing.assert_close(per_step[-1], model(x)[0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(out[:, -1], h[-1])


@torch.no_grad()
def test_lstm_input_is_the_normalised_x(model):
    seen = []
    handle = model.lstm.register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
    try:
        x = torch.from_numpy(japanese_vowels("train")[0][0])[None]
        model(x)
    finally:
        handle.remove()
    assert len(seen) == 1
    torch.testing.assert_close(seen[0], (x - model.mean) / model.std)


@torch.no_grad()
def test_per_step_prediction_is_sensible(model):
    # on the training set the per-step prediction at the last step is the model's, and it mostly
    # settles on the right speaker well before the end
    X, y = japanese_vowels("train")
    late_correct = 0
    for x, label in zip(X, y, strict=True):
        out, _ = model.lstm((torch.from_numpy(x)[None] - model.mean) / model.std)
        per_step = model.head(out[0]).argmax(1)
        late_correct += int(per_step[-3] == label)
    assert late_correct / len(X) > 0.8


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_weights_with_wrong_missing_or_extra_keys_are_named(data, tmp_path_factory):
    """japanese_vowels_net(path) on a safetensors file whose keys or shapes differ from the model's: one ValueError that
    names every missing, extra and misshapen key."""
    from safetensors.torch import save_file

    state = {k: v.clone() for k, v in japanese_vowels_net().state_dict().items()}
    keys = sorted(state)
    dropped = data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=3))
    added = data.draw(st.lists(st.from_regex(r"extra\.[a-z]{1,6}", fullmatch=True), unique=True, max_size=2))
    reshaped = data.draw(
        st.lists(st.sampled_from([k for k in keys if k not in dropped] or keys), unique=True, max_size=2)
    )
    reshaped = [k for k in reshaped if k not in dropped]
    if not (dropped or added or reshaped):
        dropped = [keys[0]]
    for k in dropped:
        del state[k]
    for k in added:
        state[k] = torch.zeros(2)
    for k in reshaped:
        state[k] = torch.zeros(state[k].numel() + 1)
    path = tmp_path_factory.mktemp("w") / "weights.safetensors"
    save_file(state, str(path))
    with pytest.raises(ValueError) as err:
        japanese_vowels_net(path)
    text = str(err.value)
    assert "weights.safetensors" in text and "JapaneseVowelsNet" in text
    for label, names in (("missing", dropped), ("extra", added), ("wrong shape", reshaped)):
        if names:
            section = text.split(f"{label}: ")[1].split(";")[0]
            assert all(k in section for k in names), (label, names, text)
        else:
            assert f"{label}: " not in text
