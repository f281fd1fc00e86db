"""from_onnx against ONNX Runtime itself: our recorded outputs equal onnxruntime's Y / Y_h / Y_c (and the head's
output) for models exported by torch.onnx.export and for LSTM / GRU nodes built by hand with onnx.helper in each
direction mode, with and without bias, with initial states; unsupported graphs get one clear error naming the node."""

import io
import re
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from torch import nn

import lstm_widget as lw

from onnx_models import B, D, H, T, _node_model

ATOL = 1e-5


def _run_ort(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def _export(module: nn.Module, x: torch.Tensor, outputs=("y",)) -> onnx.ModelProto:
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (x,),
            f,
            dynamo=False,
            input_names=["x"],
            output_names=list(outputs),
            dynamic_axes={"x": {0: "a", 1: "b"}},
        )
    return onnx.load_from_string(f.getvalue())


def _seqs(x_tbd: np.ndarray) -> list[np.ndarray]:
    """A time-major batch (T, B, D) as our list of (T, D) sequences."""
    return [x_tbd[:, b] for b in range(x_tbd.shape[1])]


# --- hand-built nodes ----------------------------------------------------------------------------------------------


def _check_against_ort(model, op, direction):
    x = np.random.default_rng(1).normal(size=(T, B, D)).astype(np.float32)
    ort_out = _run_ort(model, x)
    Y, Y_h = ort_out[0], ort_out[1]
    stack = lw.from_onnx(model)
    recs = lw.record(stack, _seqs(x))
    dirs = 2 if direction == "bidirectional" else 1
    for b, rec in enumerate(recs):
        assert rec.cell == op.lower()
        for d in range(dirs):
            reverse = direction == "reverse" or d == 1
            np.testing.assert_allclose(rec.h[d], Y[:, d, b], atol=ATOL)
            np.testing.assert_allclose(rec.h[d, 0 if reverse else -1], Y_h[d, b], atol=ATOL)
            if op == "LSTM":
                np.testing.assert_allclose(rec.c[d, 0 if reverse else -1], ort_out[2][d, b], atol=ATOL)
    # the module itself computes Y, directions side by side, batch-first
    got = stack(torch.from_numpy(x).transpose(0, 1)).numpy()
    np.testing.assert_allclose(got, Y.transpose(2, 0, 1, 3).reshape(B, T, dirs * H), atol=ATOL)
    return stack, recs, x


DIRECTIONS = ["forward", "reverse", "bidirectional"]


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(
    "bias, initial",
    [(True, False), (False, False), (True, True), (False, True)],
    ids=["bias", "no-bias", "bias-initial", "no-bias-initial"],
)
def test_hand_built_node_matches_onnxruntime(op, direction, bias, initial):
    model = _node_model(op, direction, bias, initial)
    stack, recs, _ = _check_against_ort(model, op, direction)
    names = {"forward": ("layer0",), "reverse": ("layer0_reverse",), "bidirectional": ("layer0", "layer0_reverse")}
    assert recs[0].layer_names == names[direction]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_gru_linear_before_reset_0_is_reproduced(direction):
    _check_against_ort(
        _node_model("GRU", direction, initial=True, extra_attrs={"linear_before_reset": 0}), "GRU", direction
    )
    _check_against_ort(_node_model("GRU", direction, extra_attrs={"linear_before_reset": 1}), "GRU", direction)


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_hard_sigmoid_gates_are_reproduced(op):
    acts = ["HardSigmoid", "Tanh", "Tanh"] if op == "LSTM" else ["HardSigmoid", "Tanh"]
    model = _node_model(
        op,
        "bidirectional",
        extra_attrs=dict(activations=acts * 2, activation_alpha=[0.3, 0.3], activation_beta=[0.4, 0.4]),
    )
    _, recs, _ = _check_against_ort(model, op, "bidirectional")
    gate = recs[0].f if op == "LSTM" else recs[0].z
    assert (gate == 0).any() or (gate == 1).any()  # the clipped ends are reached


def test_stepper_on_a_forward_node_starts_from_its_initial_states():
    model = _node_model("LSTM", "forward", initial=True)
    x = np.random.default_rng(2).normal(size=(T, B, D)).astype(np.float32)
    Y = _run_ort(model, x)[0]
    st = lw.Stepper(lw.from_onnx(model))
    for t in range(T):
        np.testing.assert_allclose(st.step(x[t, 0]).h[0], Y[t, 0, 0], atol=ATOL)
    with pytest.raises(ValueError, match="layer0_reverse reads the sequence from its last step"):
        lw.Stepper(lw.from_onnx(_node_model("GRU", "reverse")))


def test_two_hand_built_nodes_forward_then_reverse():
    rng = np.random.default_rng(3)
    first = _node_model("GRU", "forward", rng=rng)
    second = _node_model("GRU", "reverse", rng=rng, initial=True, d_in=H)
    g1, g2 = first.graph, second.graph
    for t in g2.initializer:
        t.name = "n2_" + t.name
    n2 = g2.node[0]
    n2.input[:] = ["Y1sq"] + ["n2_" + i if i else "" for i in n2.input[1:]]
    n2.output[:] = ["Y2", "Y2_h"]
    n2.name = "rnn2"
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    squeeze = helper.make_node("Squeeze", ["Y", "axes"], ["Y1sq"], name="squeeze")
    graph = helper.make_graph(
        [g1.node[0], squeeze, n2],
        "two",
        list(g1.input),
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("Y", "Y2", "Y2_h")],
        initializer=list(g1.initializer) + list(g2.initializer) + [axes],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(4).normal(size=(T, B, D)).astype(np.float32)
    Y1, Y2, Y2_h = _run_ort(model, x)
    recs = lw.record(lw.from_onnx(model), _seqs(x))
    assert recs[0].layer_names == ("layer0", "layer1_reverse")
    for b, rec in enumerate(recs):
        np.testing.assert_allclose(rec.h[0], Y1[:, 0, b], atol=ATOL)
        np.testing.assert_allclose(rec.h[1], Y2[:, 0, b], atol=ATOL)
        np.testing.assert_allclose(rec.h[1, 0], Y2_h[0, b], atol=ATOL)


# --- models exported by torch.onnx.export ---------------------------------------------------------------------------


class Tagger(nn.Module):
    """A per-step classifier: LSTM / GRU, a Linear on every step, softmax."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.fc = nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), 3)

    def forward(self, x):
        return torch.softmax(self.fc(self.rnn(x)[0]), dim=-1)


class LastStep(nn.Module):
    """A sequence classifier: the head on the last step (out[:, -1]) or on the last layer's final state (h_n[-1])."""

    def __init__(self, rnn, use_hn):
        super().__init__()
        self.rnn, self.use_hn = rnn, use_hn
        self.fc = nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional and not use_hn else 1), 4)

    def forward(self, x):
        out, state = self.rnn(x)
        hn = state[0] if isinstance(state, tuple) else state
        return self.fc(hn[-1] if self.use_hn else out[:, -1])


@pytest.mark.parametrize(
    "rnn",
    [
        lambda: nn.LSTM(D, H, num_layers=2, batch_first=True),
        lambda: nn.LSTM(D, H, bidirectional=True, batch_first=True),
        lambda: nn.GRU(D, H, num_layers=2, bidirectional=True, batch_first=True),
        lambda: nn.GRU(D, H, bias=False, batch_first=True),
    ],
    ids=["lstm-2", "lstm-bi", "gru-2-bi", "gru-no-bias"],
)
def test_exported_per_step_tagger(rnn):
    torch.manual_seed(0)
    model = Tagger(rnn())
    x = torch.randn(B, T, D)
    onnx_model = _export(model, x)
    (expected,) = _run_ort(onnx_model, x.numpy())
    stack = lw.from_onnx(onnx_model)
    assert stack.output == "sequence" and stack.output_activation == "softmax"
    np.testing.assert_allclose(stack(x).numpy(), expected, atol=ATOL)
    recs = lw.record(stack, list(x.numpy()))
    direct = lw.record(model, list(x.numpy()))  # and the torch model recorded directly agrees
    for b, rec in enumerate(recs):
        np.testing.assert_allclose(rec.probs, expected[b], atol=ATOL)
        np.testing.assert_allclose(rec.h, direct[b].h, atol=ATOL)
        assert rec.layer_names == direct[b].layer_names


@pytest.mark.parametrize("use_hn", [False, True], ids=["out[:, -1]", "h_n[-1]"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_exported_sequence_classifier(kind, use_hn):
    torch.manual_seed(1)
    model = LastStep(getattr(nn, kind)(D, H, num_layers=2, batch_first=True), use_hn)
    x = torch.randn(B, T, D)
    onnx_model = _export(model, x)
    (expected,) = _run_ort(onnx_model, x.numpy())
    stack = lw.from_onnx(onnx_model)
    assert stack.output == ("final_state" if use_hn else "last_step")
    np.testing.assert_allclose(stack(x).numpy(), expected, atol=ATOL)
    for b, rec in enumerate(lw.record(stack, list(x.numpy()))):
        np.testing.assert_allclose(rec.logits[-1], expected[b], atol=ATOL)


def test_exported_mlp_head_with_a_sigmoid_output():
    class Detector(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(D, H, batch_first=True)
            self.head = nn.Sequential(nn.Linear(H, 6), nn.Tanh(), nn.Linear(6, 1))

        def forward(self, x):
            return torch.sigmoid(self.head(self.rnn(x)[0]))

    torch.manual_seed(3)
    model = Detector()
    x = torch.randn(B, T, D)
    onnx_model = _export(model, x)
    (expected,) = _run_ort(onnx_model, x.numpy())
    stack = lw.from_onnx(onnx_model)
    assert stack.output_activation == "sigmoid" and isinstance(stack.head, nn.Sequential)
    np.testing.assert_allclose(stack(x).numpy(), expected, atol=ATOL)
    for b, rec in enumerate(lw.record(stack, list(x.numpy()))):
        np.testing.assert_allclose(rec.probs, expected[b], atol=ATOL)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_exported_bare_layer_outputs_y_and_final_states(kind, tmp_path):
    torch.manual_seed(2)
    rnn = getattr(nn, kind)(D, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, D)
    outputs = ("y", "hn", "cn") if kind == "LSTM" else ("y", "hn")
    onnx_model = _export(rnn, x, outputs)
    path = tmp_path / "rnn.onnx"
    onnx.save(onnx_model, path)
    ort_out = _run_ort(onnx_model, x.numpy())
    for source in (onnx_model, path, path.read_bytes()):
        recs = lw.record(lw.from_onnx(source), _seqs(x.numpy()))
        for b, rec in enumerate(recs):
            np.testing.assert_allclose(np.concatenate([rec.h[2], rec.h[3]], -1), ort_out[0][:, b], atol=ATOL)
            for row in range(4):
                t_end = 0 if row % 2 else -1
                np.testing.assert_allclose(rec.h[row, t_end], ort_out[1][row, b], atol=ATOL)
                if kind == "LSTM":
                    np.testing.assert_allclose(rec.c[row, t_end], ort_out[2][row, b], atol=ATOL)


# --- refused graphs -------------------------------------------------------------------------------------------------


def test_unsupported_graphs_get_one_clear_error_naming_the_node():
    with pytest.raises(ValueError, match=r"ONNX node 'rnn' \(LSTM\) has peephole weights P"):
        lw.from_onnx(_node_model("LSTM", peephole=0.5))
    lw.from_onnx(_node_model("LSTM", peephole=0.0))  # all-zero peepholes are no peepholes
    with pytest.raises(ValueError, match=r"ONNX node 'rnn' \(GRU\) has sequence_lens"):
        lw.from_onnx(_node_model("GRU", seq_lens=True))
    with pytest.raises(ValueError, match=r"ONNX node 'rnn' \(LSTM\) has clip=3.0"):
        lw.from_onnx(_node_model("LSTM", extra_attrs=dict(clip=3.0)))
    with pytest.raises(ValueError, match=r"ONNX node 'rnn' \(GRU\) has the gate activation 'relu'"):
        lw.from_onnx(_node_model("GRU", extra_attrs=dict(activations=["Relu", "Tanh"])))
    with pytest.raises(ValueError, match=r"ONNX node 'rnn' \(LSTM\) has activations \['Sigmoid', 'Relu', 'Tanh'\]"):
        lw.from_onnx(_node_model("LSTM", extra_attrs=dict(activations=["Sigmoid", "Relu", "Tanh"])))

    class Normalised(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(D, H)

        def forward(self, x):
            return self.rnn(x - 1.0)[0]

    with pytest.raises(ValueError, match=r"ONNX node '/Sub' \(Sub\) .* from_onnx reads graphs of the form input"):
        lw.from_onnx(_export(Normalised(), torch.randn(T, B, D)))
    rnn_node = _node_model("GRU")
    rnn_node.graph.node[0].op_type = "RNN"
    with pytest.raises(ValueError, match=r"has no LSTM or GRU node \(its ops: \['RNN'\]\)"):
        lw.from_onnx(rnn_node)
    no_rnn = helper.make_model(
        helper.make_graph(
            [helper.make_node("Relu", ["X"], ["Y"])],
            "g",
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])],
        )
    )
    with pytest.raises(ValueError, match=r"has no LSTM or GRU node \(its ops: \['Relu'\]\)"):
        lw.from_onnx(no_rnn)
    with pytest.raises(
        TypeError, match="from_onnx takes a path to a .onnx file, its bytes or an onnx.ModelProto; got int"
    ):
        lw.from_onnx(3)
    with pytest.raises(FileNotFoundError, match="not a file"):
        lw.from_onnx("/nonexistent.onnx")


# ---- external data: read only from inside the model's folder ---------------------------------------------------------
def _with_external_data(model, folder, location="weights.bin"):
    """``model`` saved as folder/model.onnx with every initializer in the file ``location`` beside it; the path."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    onnx.save_model(
        copy, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=location, size_threshold=0
    )
    return path


def _relocate(path, location):
    """Point every external tensor of the model at ``path`` to ``location``; the name of the first one."""
    m = onnx.load(str(path), load_external_data=False)
    for t in m.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save_model(m, str(path))
    return m.graph.initializer[0].name


def test_external_data_beside_the_model_is_read(tmp_path):
    model = _node_model("LSTM", "bidirectional", initial=True)
    path = _with_external_data(model, tmp_path / "m")
    assert (tmp_path / "m" / "weights.bin").stat().st_size > 0
    x = np.random.default_rng(4).normal(size=(T, D)).astype(np.float32)
    want, got = lw.record(lw.from_onnx(model), x), lw.record(lw.from_onnx(path), x)
    for q in ("h", "c", "i", "f", "g", "o"):
        np.testing.assert_array_equal(getattr(got, q), getattr(want, q))


ESCAPES = ["symlinked file", "symlinked folder", "parent", "absolute", "nested parent"]


@settings(max_examples=15, deadline=None)
@given(escape=st.sampled_from(ESCAPES), name=st.from_regex(r"[a-z]{1,8}\.bin", fullmatch=True))
def test_external_data_outside_the_models_folder_is_refused(tmp_path_factory, escape, name):
    """Whatever way a location leaves the model's folder (a symbolic link to a file or folder outside, '..', an
    absolute path), from_onnx refuses it with a ValueError naming the tensor and the resolved path — though the file
    outside holds exactly the right bytes."""
    root = tmp_path_factory.mktemp("onnx")
    path = _with_external_data(_node_model("GRU", "forward"), root / "model", location=name)
    outside = root / "elsewhere"
    outside.mkdir()
    (root / "model" / name).rename(outside / name)
    location = {
        "symlinked file": name,
        "symlinked folder": f"data/{name}",
        "parent": f"../elsewhere/{name}",
        "absolute": str(outside / name),
        "nested parent": f"sub/../../elsewhere/{name}",
    }[escape]
    if escape == "symlinked file":
        (root / "model" / name).symlink_to(outside / name)
    elif escape == "symlinked folder":
        (root / "model" / "data").symlink_to(outside, target_is_directory=True)
    tensor = _relocate(path, location)
    with pytest.raises(
        ValueError,
        match=rf"tensor '{tensor}' of the file .* keeps its values in "
        rf"'{re.escape(location)}', which resolves to "
        rf"'{re.escape(str((outside / name).resolve()))}', outside the model's folder",
    ):
        lw.from_onnx(path)


def test_missing_truncated_or_in_memory_external_data_is_refused(tmp_path):
    model = _node_model("LSTM", "forward")
    path = _with_external_data(model, tmp_path / "m")
    data = tmp_path / "m" / "weights.bin"
    whole = data.read_bytes()
    data.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        ValueError,
        match=r"tensor '\w+' of the file .* reads bytes \d+\.\.\d+ of .*weights\.bin'?, "
        r"which holds \d+ bytes \(a truncated or damaged data file\)",
    ):
        lw.from_onnx(path)
    data.unlink()
    with pytest.raises(
        ValueError,
        match=r"tensor 'W' of the file .* keeps its values in .*weights\.bin', which does "
        "not exist",
    ):
        lw.from_onnx(path)
    data.mkdir()
    with pytest.raises(ValueError, match=r"weights\.bin', which is not a regular file"):
        lw.from_onnx(path)
    external = onnx.load(str(path), load_external_data=False)
    for given_as, what in ((external, "an onnx.ModelProto"), (external.SerializeToString(), r"\d+ bytes")):
        with pytest.raises(
            ValueError,
            match=rf"from_onnx got {what}, whose tensor 'W' keeps its values in the "
            r"external file 'weights\.bin'; a model given in memory has no folder",
        ):
            lw.from_onnx(given_as)
    assert external.graph.initializer[0].data_location == TensorProto.EXTERNAL  # the caller's proto is left alone
