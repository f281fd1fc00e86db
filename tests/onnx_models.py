"""ONNX models built by hand with onnx.helper, shared by tests/kernel/test_onnx.py and tests/widget/test_gates_widget.py
(tests/ is on sys.path through its conftest.py)."""

import numpy as np
from onnx import TensorProto, helper, numpy_helper

T, B, D, H = 7, 3, 4, 5


def _node_model(
    op,
    direction="forward",
    bias=True,
    initial=False,
    rng=None,
    extra_attrs=None,
    hidden=H,
    d_in=D,
    peephole=None,
    seq_lens=False,
):
    """One LSTM / GRU node: X (T, B, D) → Y, Y_h (, Y_c), weights and states as initializers."""
    rng = rng or np.random.default_rng(0)
    dirs = 2 if direction == "bidirectional" else 1
    G = 4 if op == "LSTM" else 3
    inits = [
        numpy_helper.from_array(rng.normal(scale=0.6, size=(dirs, G * hidden, d_in)).astype(np.float32), "W"),
        numpy_helper.from_array(rng.normal(scale=0.6, size=(dirs, G * hidden, hidden)).astype(np.float32), "R"),
    ]
    names = ["X", "W", "R"]
    if bias:
        b = rng.normal(scale=0.5, size=(dirs, 2 * G * hidden)).astype(np.float32)
        inits.append(numpy_helper.from_array(b, "B"))
    names.append("B" if bias else "")
    names.append("seq_lens" if seq_lens else "")
    if seq_lens:
        inits.append(numpy_helper.from_array(np.full(B, T, np.int32), "seq_lens"))
    if initial:
        h0 = np.broadcast_to(rng.normal(size=(dirs, 1, hidden)), (dirs, B, hidden)).astype(np.float32)
        inits.append(numpy_helper.from_array(h0, "h0"))
        names.append("h0")
        if op == "LSTM":
            c0 = np.broadcast_to(rng.normal(size=(dirs, 1, hidden)), (dirs, B, hidden)).astype(np.float32)
            inits.append(numpy_helper.from_array(c0, "c0"))
            names.append("c0")
    if peephole is not None:
        names += [""] * (7 - len(names)) + ["P"]
        inits.append(numpy_helper.from_array(np.full((dirs, 3 * hidden), peephole, np.float32), "P"))
    outputs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    attrs = dict(hidden_size=hidden, direction=direction, **(extra_attrs or {}))
    node = helper.make_node(op, names, outputs, name="rnn", **attrs)
    graph = helper.make_graph(
        [node],
        "hand",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "B", d_in])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
