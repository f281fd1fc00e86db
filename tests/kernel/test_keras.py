"""from_keras against Keras 3 itself (torch backend): our recorded h sequence equals the Keras layer's own output, and
the module computes what the Keras model computes; unsupported layers and activations get one clear error."""

import json
import os
import zipfile

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported anywhere in this process

import keras
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from keras import layers

import lstm_widget as lw

ATOL = 1e-5
T, D, B = 9, 4, 3
# Keras's own numpy-2 deprecation noise, not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def _randomize(model, seed=0, scale=0.5):
    """Random weights and biases (Keras initialises biases to zero; we want them to matter)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers if hasattr(model, "layers") else [model]:
        layer.set_weights([rng.normal(scale=scale, size=w.shape).astype(np.float32) for w in layer.get_weights()])


def _x(seed=1, scale=1.0):
    return (np.random.default_rng(seed).normal(size=(B, T, D)) * scale).astype(np.float32)


def _keras_out(fn, x):
    return keras.ops.convert_to_numpy(fn(x))


def _sequential(*stack, head=None):
    model = keras.Sequential([keras.Input((T, D)), *stack, *([head] if head is not None else [])])
    _randomize(model)
    return model


def _layer_output(model, k, x):
    """What layer k of the model outputs, by Keras itself."""
    return _keras_out(keras.Model(model.inputs[0], model.layers[k].output), x)


def _h_sequence(rec, rows=None):
    """The last recurrent layer's output from a recording: its direction rows side by side, (T, dirs*units)."""
    names = rec.layer_names
    last = names[-1].split("_")[0]
    rows = rows if rows is not None else [k for k, n in enumerate(names) if n.split("_")[0] == last]
    return np.concatenate([rec.h[r] for r in rows], axis=-1)


RNN_CASES = {
    "lstm": lambda: layers.LSTM(5, return_sequences=True),
    "lstm-no-bias": lambda: layers.LSTM(5, return_sequences=True, use_bias=False),
    "lstm-hard-sigmoid": lambda: layers.LSTM(5, return_sequences=True, recurrent_activation="hard_sigmoid"),
    "gru": lambda: layers.GRU(5, return_sequences=True),
    "gru-reset-before": lambda: layers.GRU(5, return_sequences=True, reset_after=False),
    "gru-no-bias": lambda: layers.GRU(5, return_sequences=True, use_bias=False),
    "gru-no-bias-reset-before": lambda: layers.GRU(5, return_sequences=True, use_bias=False, reset_after=False),
    "gru-hard-sigmoid": lambda: layers.GRU(5, return_sequences=True, recurrent_activation="hard_sigmoid"),
    "bi-lstm": lambda: layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
    "bi-gru-reset-before": lambda: layers.Bidirectional(layers.GRU(5, return_sequences=True, reset_after=False)),
}


@pytest.mark.parametrize("case", list(RNN_CASES))
def test_h_sequence_equals_the_keras_layer_output(case):
    model = _sequential(RNN_CASES[case]())
    scale = 3.0 if "hard" in case else 1.0  # reach the clipped ends of the hard sigmoid
    _randomize(model, scale=scale)
    x = _x(scale=scale)
    expected = _keras_out(model, x)  # (B, T, dirs*5)
    stack = lw.from_keras(model)
    recs = lw.record(stack, list(x))
    for b in range(B):
        np.testing.assert_allclose(_h_sequence(recs[b]), expected[b], atol=ATOL)
    np.testing.assert_allclose(stack(torch.from_numpy(x)).numpy(), expected, atol=ATOL)
    # the bare layer converts the same way
    bare = lw.from_keras(model.layers[0])
    np.testing.assert_allclose(_h_sequence(lw.record(bare, x[0])), expected[0], atol=ATOL)
    if "hard" in case:  # the test reaches both clipped ends, so the hard sigmoid is exercised, not skirted
        gate = recs[0].f if "lstm" in case else recs[0].z
        assert (gate == 0).any() and (gate == 1).any()


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_return_sequences_false_with_a_softmax_head(cell, bidirectional):
    rnn = getattr(layers, cell)(6)
    model = _sequential(layers.Bidirectional(rnn) if bidirectional else rnn, head=layers.Dense(3, activation="softmax"))
    x = _x(2)
    final = _layer_output(model, 0, x)  # (B, dirs*6): Keras's "last output"
    expected = _keras_out(model, x)
    stack = lw.from_keras(model)
    assert stack.output == "final_state" and stack.output_activation == "softmax"
    np.testing.assert_allclose(stack(torch.from_numpy(x)).numpy(), expected, atol=ATOL)
    recs = lw.record(stack, list(x))
    for b, rec in enumerate(recs):
        # forward direction: its last step; the backward direction reads from the end, so its final state is at step 0
        got = rec.h[0, -1] if not bidirectional else np.concatenate([rec.h[0, -1], rec.h[1, 0]])
        np.testing.assert_allclose(got, final[b], atol=ATOL)
        if not bidirectional:  # the per-step head at the last step is the model's prediction
            np.testing.assert_allclose(rec.probs[-1], expected[b], atol=ATOL)


def test_stacked_layers_of_one_size_record_together_and_match_each_keras_layer():
    model = _sequential(
        layers.LSTM(5, return_sequences=True),
        layers.LSTM(5, return_sequences=True),
        head=layers.Dense(2),
    )
    x = _x(3)
    stack = lw.from_keras(model)
    rec = lw.record(stack, x[0])
    assert rec.layer_names == ("layer0", "layer1") and rec.logits.shape == (T, 2)
    for k in range(2):
        np.testing.assert_allclose(rec.h[k], _layer_output(model, k, x)[0], atol=ATOL)
    np.testing.assert_allclose(rec.logits, _keras_out(model, x)[0], atol=ATOL)
    st = lw.Stepper(stack)  # and the stepper agrees
    np.testing.assert_allclose(np.stack([st.step(x[0, t]).logits for t in range(T)]), rec.logits, atol=ATOL)


def test_stacked_bidirectional_gru_layers():
    model = _sequential(
        layers.Bidirectional(layers.GRU(4, return_sequences=True)),
        layers.Bidirectional(layers.GRU(4, return_sequences=True)),
    )
    x = _x(4)
    rec = lw.record(lw.from_keras(model), x[1])
    assert rec.layer_names == ("layer0", "layer0_reverse", "layer1", "layer1_reverse")
    for k in range(2):
        np.testing.assert_allclose(_h_sequence(rec, [2 * k, 2 * k + 1]), _layer_output(model, k, x)[1], atol=ATOL)


def test_stacked_layers_of_different_sizes_are_recorded_one_at_a_time():
    model = _sequential(
        layers.LSTM(6, return_sequences=True),
        layers.GRU(3, return_sequences=True),
        head=layers.Dense(2, activation="softmax"),
    )
    x = _x(5)
    stack = lw.from_keras(model)
    differ = r"differ in kind or size \(layers.0: LSTM 6 units, layers.1: GRU 3 units\).*lstm='layers.1'"
    with pytest.raises(ValueError, match=differ):
        lw.record(stack, x[0])
    first = lw.record(stack, x[0], lstm="layers.0")
    assert first.cell == "lstm" and first.probs is None  # the head follows layers.1, not layers.0
    np.testing.assert_allclose(first.h[0], _layer_output(model, 0, x)[0], atol=ATOL)
    second = lw.record(stack, x[0], lstm=stack.layers[1])  # layers.0 runs as preprocessing
    assert second.cell == "gru"
    np.testing.assert_allclose(second.h[0], _layer_output(model, 1, x)[0], atol=ATOL)
    np.testing.assert_allclose(second.probs, _keras_out(model, x)[0], atol=ATOL)


def test_functional_model_with_a_head_on_every_step_and_a_keras_file(tmp_path):
    inp = keras.Input((None, D))
    h = layers.GRU(5, return_sequences=True, reset_after=False, name="encoder")(inp)
    h = layers.Dropout(0.5)(h)
    out = layers.TimeDistributed(layers.Dense(4, activation="softmax"))(h)
    model = keras.Model(inp, out)
    _randomize(model)
    x = _x(6)
    expected = _keras_out(model, x)
    path = tmp_path / "model.keras"
    model.save(path)
    encoder = _keras_out(keras.Model(inp, model.get_layer("encoder").output), x)
    for source in (model, path, str(path)):
        stack = lw.from_keras(source)
        recs = lw.record(stack, list(x))
        for b in range(B):
            np.testing.assert_allclose(recs[b].probs, expected[b], atol=ATOL)
            np.testing.assert_allclose(recs[b].h[0], encoder[b], atol=ATOL)
    assert "model.keras" in stack.source


def test_hidden_dense_layers_in_the_head():
    model = _sequential(layers.LSTM(5), head=None)
    model.add(layers.Dense(7, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    _randomize(model)
    x = _x(7)
    stack = lw.from_keras(model)
    assert stack.output_activation == "sigmoid"
    np.testing.assert_allclose(stack(torch.from_numpy(x)).numpy(), _keras_out(model, x), atol=ATOL)
    rec = lw.record(stack, x[0])
    np.testing.assert_allclose(rec.probs[-1], _keras_out(model, x)[0], atol=ATOL)


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: [layers.Conv1D(4, 3, padding="same"), layers.LSTM(5)],
            r"layer 'conv1d\w*' \(Conv1D\) comes before the first recurrent layer",
        ),
        (
            lambda: [layers.LSTM(5, return_sequences=True), layers.LayerNormalization()],
            r"layer 'layer_normalization\w*' \(LayerNormalization\) is not supported",
        ),
        (
            lambda: [layers.LSTM(5, activation="relu")],
            r"layer 'lstm\w*' \(LSTM\) has activation='relu'; from_keras reproduces activation='tanh' only",
        ),
        (
            lambda: [layers.GRU(5, recurrent_activation="relu")],
            r"layer 'gru\w*' \(GRU\) has recurrent_activation='relu'; from_keras reproduces 'sigmoid' and 'hard_sigmoid'",
        ),
        (lambda: [layers.LSTM(5, go_backwards=True)], r"\(LSTM\) has go_backwards=True"),
        (
            lambda: [layers.Bidirectional(layers.LSTM(5), merge_mode="sum")],
            r"\(Bidirectional\) has merge_mode='sum'; from_keras reads merge_mode='concat' only",
        ),
        (lambda: [layers.LSTM(5), layers.Dense(3, activation="elu")], r"\(Dense\) has activation 'elu'"),
        (lambda: [layers.SimpleRNN(5)], r"has no LSTM or GRU layer \(its layers: simple_rnn\w* \(SimpleRNN\)\)"),
        (lambda: [layers.LSTM(5), layers.RepeatVector(3), layers.LSTM(2)], r"\(RepeatVector\) is not supported"),
    ],
    ids=[
        "conv-first",
        "layernorm",
        "relu-activation",
        "relu-recurrent",
        "go-backwards",
        "merge-sum",
        "elu-head",
        "simple-rnn",
        "repeat-vector",
    ],
)
def test_unsupported_layers_and_activations_get_one_clear_error(build, message):
    model = keras.Sequential([keras.Input((T, D)), *build()])
    with pytest.raises(ValueError, match=message):
        lw.from_keras(model)


def test_bad_arguments():
    with pytest.raises(
        TypeError, match="from_keras takes a Keras LSTM / GRU layer, a Keras model or a path to a .keras file; got int"
    ):
        lw.from_keras(3)
    with pytest.raises(FileNotFoundError, match="not a file"):
        lw.from_keras("/nonexistent/model.keras")
    with pytest.raises(ValueError, match=r"has no LSTM or GRU layer"):
        lw.from_keras(keras.Sequential([keras.Input((T, D)), layers.Dense(2)]))
    two_outputs = keras.Input((T, D))
    seq, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(two_outputs)
    with pytest.raises(ValueError, match=r"uses output 1 of layer 'lstm\w*' \(LSTM\) \(its states\?\)"):
        lw.from_keras(keras.Model(two_outputs, h))


# ---- tampered .keras archives: refused before Keras builds anything --------------------------------------------------
@pytest.fixture(scope="module")
def saved_keras(tmp_path_factory):
    """A small real .keras file: Bidirectional LSTM(5) then Dense(3, softmax); and its members, by name."""
    model = _sequential(layers.Bidirectional(layers.LSTM(5)), head=layers.Dense(3, activation="softmax"))
    path = tmp_path_factory.mktemp("keras") / "small.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        return path, {info.filename: z.read(info.filename) for info in z.infolist()}


def _rezip(path, members, **replaced):
    """A copy of the archive's members with some replaced (keyword: member name with '.' as '_'), deflated."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, replaced.get(name.replace(".", "_"), data))
    return path


@pytest.fixture
def no_loading(monkeypatch):
    """Keras's loader fails the test if it is reached: the refusal must come before any building."""

    def fail(*_a, **_k):
        raise AssertionError("keras.saving.load_model was called on a tampered archive")

    monkeypatch.setattr(keras.saving, "load_model", fail)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(units=st.integers(1, 6000), where=st.sampled_from(["lstm", "dense"]))
def test_a_config_that_declares_other_weights_is_refused_before_building(
    saved_keras, tmp_path, no_loading, units, where
):
    path, members = saved_keras
    config = json.loads(members["config.json"])
    layer = config["config"]["layers"][1]["config"]["layer"] if where == "lstm" else config["config"]["layers"][2]
    real = 5 if where == "lstm" else 3
    assume(units != real)
    layer["config"]["units"] = units
    bad = _rezip(tmp_path / f"tampered_{where}.keras", members, config_json=json.dumps(config))
    kind = r"\(Bidirectional\)" if where == "lstm" else r"\(Dense\)"
    with pytest.raises(
        ValueError,
        match=rf"tampered_{where}\.keras: layer '\w+' {kind} declares weights of shapes "
        r".*but model\.weights\.h5 holds no .*refused before building",
    ):
        lw.from_keras(bad)


def test_an_oversized_config_or_missing_weights_are_refused_before_reading(saved_keras, tmp_path, no_loading):
    path, members = saved_keras
    padded = members["config.json"] + b" " * (5 << 20)  # deflates to a few kB
    bad = _rezip(tmp_path / "padded.keras", members, config_json=padded)
    assert bad.stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"padded\.keras: its config\.json is \d+ bytes, over the 4194304-byte limit"):
        lw.from_keras(bad)
    without = {k: v for k, v in members.items() if k != "model.weights.h5"}
    with pytest.raises(ValueError, match=r"declares \d+ weight arrays but holds no model\.weights\.h5"):
        lw.from_keras(_rezip(tmp_path / "empty.keras", without))
    with pytest.raises(ValueError, match=r"model\.weights\.h5 is not a readable HDF5 file"):
        lw.from_keras(_rezip(tmp_path / "cut.keras", members, model_weights_h5=members["model.weights.h5"][:2000]))
    embedding = json.loads(members["config.json"])
    embedding["config"]["layers"].insert(
        1,
        {
            "module": "keras.layers",
            "class_name": "Embedding",
            "config": {"name": "emb", "input_dim": 10**9, "output_dim": 6000},
        },
    )
    with pytest.raises(ValueError, match=r"layer 'emb' \(Embedding\) is not supported"):
        lw.from_keras(_rezip(tmp_path / "emb.keras", members, config_json=json.dumps(embedding)))
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(
        ValueError, match=r"could not read .*junk\.keras.* as a Keras model \(a \.keras file is a zip archive"
    ):
        lw.from_keras(tmp_path / "junk.keras")


def test_the_untampered_archive_still_loads(saved_keras, tmp_path):
    path, members = saved_keras
    stack = lw.from_keras(_rezip(tmp_path / "copy.keras", members))
    assert stack.layers[0].bidirectional and stack.layers[0].hidden_size == 5
