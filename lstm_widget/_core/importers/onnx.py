"""``from_onnx``: an ONNX model whose recurrent part is ``LSTM`` / ``GRU`` nodes → a :class:`RecurrentStack` that
``record``, ``Stepper`` and ``Explorer`` accept and that computes what the ONNX graph computes.

The graph is read, not run: its input goes (through Transposes only) to a chain of LSTM / GRU nodes, each fed by the
one before (through the Transpose / Squeeze / Reshape glue that exporters emit), then optionally to a head on the last
node's output — MatMul (+ Add) or Gemm, with Relu / Tanh / Sigmoid between layers and a final Softmax or Sigmoid —
applied at every step, at the last step (``Gather`` of step -1) or to the final state (``Y_h``). Every other node on
that path is refused with an error that names it; nodes off the path (shape arithmetic that sizes zero initial states)
are ignored.

Per node: ``direction`` forward, reverse or bidirectional; bias B = Wb ‖ Rb or none; ``initial_h`` / ``initial_c``
absent, zeros, or constants (the same for every batch element); ONNX gate order (LSTM i, o, f, c; GRU z, r, h)
reordered through :mod:`.gates`; GRU ``linear_before_reset`` 1 (PyTorch's GRU) and 0 (reset before the product, run
exactly); gate activation Sigmoid or HardSigmoid (with its alpha, beta), cell activations Tanh. Refused: LSTM peepholes
(nonzero P), ``sequence_lens``, ``clip``, ``input_forget``, ``layout=1``, other activations, RNN nodes.

A ``direction="reverse"`` node has no torch module of its own: it becomes a one-direction layer with
``LayerOptions(reverse=True)`` — it reads the sequence from its last step to its first, and its outputs stay in the
input's time order (step t holds the state after reading steps T-1 … t), like the reverse half of a bidirectional
layer; a recording names it ``layer<k>_reverse``, and ``Stepper`` refuses it as it refuses bidirectional layers.

External data (weights kept in files beside the ``.onnx`` file) is resolved here, not by onnx: every location must
lie inside the model's folder once symbolic links are resolved, be a regular file, and hold the tensor's bytes at the
given offset and length; a model given as bytes or an ``onnx.ModelProto`` has no folder, so external data is refused
for it. Every refusal is a ValueError that names the tensor and the path.

onnx is imported only when this function is called.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..model.gates import reorder_gates
from ..model.stack import LayerOptions, RecurrentStack

_DEFAULT_ACTIVATIONS = {"LSTM": ("sigmoid", "tanh", "tanh"), "GRU": ("sigmoid", "tanh")}
_PASS_THROUGH = ("Identity", "Dropout")
#: Ops that only move or cut values: applied to a uniform fill (zeros sized at run time), they give the same fill.
_SHAPE_ONLY = (
    "Slice",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Identity",
    "Cast",
    "Expand",
    "Tile",
    "Transpose",
    "Gather",
    "Concat",
)
_HEAD_ACTIVATIONS = {"Relu": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("from_onnx needs the onnx package: pip install onnx") from None
    return onnx


@dataclass
class _Data:
    """A tensor on the path from the graph's input to its outputs."""

    layout: str  # "in" (before the first node), "TBF" / "BTF" (sequence), "Y", "Y_TBDH", "Y_BTDH", "YH", "YC",
    #              "YHCAT" / "YCCAT" (Y_h / Y_c of several nodes, concatenated), "LAST" / "FINAL" (B, F), or "head"
    stage: object  # "input", the index of the recurrent node it comes from, or "head"
    rows: list = field(default_factory=list)  # YHCAT: (node, direction) per row


class _Reader:
    def __init__(self, onnx, graph):
        self.onnx, self.graph = onnx, graph
        from onnx import numpy_helper

        self.to_array = numpy_helper.to_array
        self.const = {t.name: self.to_array(t) for t in graph.initializer}
        self.fill = {}  # tensor → value broadcast to a runtime shape (Expand, ConstantOfShape)
        self.data = {}
        self.nodes = []  # recurrent nodes: dict(module, options, initial, dirs, width)
        self.head, self.head_tip, self.head_base, self.head_rank = [], None, None, None
        self.final_op = self.final_name = None  # a final Softmax: record applies it itself

    # --- helpers -----------------------------------------------------------------------------------------------------
    def what(self, node) -> str:
        return f"ONNX node {node.name or node.output[0]!r} ({node.op_type})"

    def attrs(self, node) -> dict:
        out = {}
        for a in node.attribute:
            v = self.onnx.helper.get_attribute_value(a)
            if isinstance(v, bytes):
                v = v.decode()
            elif isinstance(v, list):
                v = [x.decode() if isinstance(x, bytes) else x for x in v]
            out[a.name] = v
        return out

    def constant(self, node, name: str, what: str) -> np.ndarray:
        if name not in self.const:
            raise ValueError(
                f"{self.what(node)} takes its {what} from {name!r}, which is not a constant (an "
                "initializer or a Constant node); from_onnx reads fixed weights and shapes only"
            )
        return self.const[name]

    def refuse(self, node, why: str):
        raise ValueError(
            f"{self.what(node)} {why}; from_onnx reads graphs of the form input → [Transpose] → LSTM / GRU nodes → "
            "[head: MatMul + Add or Gemm, with Relu / Tanh / Sigmoid between, a final Softmax or Sigmoid]"
        )

    # --- the walk ----------------------------------------------------------------------------------------------------
    def read(self):
        g = self.graph
        inputs = [i.name for i in g.input if i.name not in self.const]
        if len(inputs) != 1:
            raise ValueError(
                f"the ONNX graph has {len(inputs)} inputs {inputs} besides its initializers; from_onnx "
                "reads graphs with one input, the sequence (initial states must be initializers)"
            )
        self.data[inputs[0]] = _Data("in", "input")
        if not any(n.op_type in ("LSTM", "GRU") for n in g.node):
            ops = sorted({n.op_type for n in g.node})
            raise ValueError(f"the ONNX graph has no LSTM or GRU node (its ops: {ops}); from_onnx expected one")
        for node in g.node:
            self.visit(node)
        if self.head and self.head_base[1] != len(self.nodes) - 1:
            raise ValueError(
                f"the head starts from the output of recurrent node {self.head_base[1]}, not from the "
                f"last one ({len(self.nodes) - 1}); from_onnx reads a head on the last node"
            )

    def visit(self, node):
        op, ins = node.op_type, list(node.input)
        if op == "Constant":
            self.const[node.output[0]] = self.constant_value(node)
            return
        on_path = [i for i in ins if i in self.data]
        if not on_path:
            self.visit_off_path(node, ins)
            return
        if op in ("Shape", "Size"):
            return  # shape arithmetic: sizes zero states, never reaches the recurrent nodes' weights
        if op in ("LSTM", "GRU"):
            self.recurrent(node, ins)
        elif op == "RNN":
            self.refuse(node, "is a plain RNN node, which lstm_widget does not record")
        elif self.final_name in ins:
            self.refuse(node, "takes the output of the head's final Softmax / Sigmoid")
        elif op in ("Add", "Concat") or on_path == [ins[0]]:
            self.glue(node, ins)
        else:
            self.refuse(node, "combines tensors of the data path in a way from_onnx does not read")

    def constant_value(self, node) -> np.ndarray:
        a = {x.name: x for x in node.attribute}
        if "value" in a:
            return self.to_array(a["value"].t)
        for key, dtype in (
            ("value_float", np.float32),
            ("value_floats", np.float32),
            ("value_int", np.int64),
            ("value_ints", np.int64),
        ):
            if key in a:
                return np.asarray(self.onnx.helper.get_attribute_value(a[key]), dtype=dtype)
        self.refuse(node, f"holds a constant of a kind from_onnx does not read ({sorted(a)})")

    def visit_off_path(self, node, ins):
        op, out = node.op_type, node.output[0]
        if op in ("Identity", "Cast") and ins and ins[0] in self.const:
            self.const[out] = self.const[ins[0]].astype(np.float32) if op == "Cast" else self.const[ins[0]]
        elif op == "Expand" and ins[0] in self.const:
            self.fill[out] = self.const[ins[0]]
        elif op == "ConstantOfShape":
            a = {x.name: x for x in node.attribute}
            self.fill[out] = self.to_array(a["value"].t) if "value" in a else np.zeros(1, np.float32)
        elif op in _SHAPE_ONLY and ins[0] in self.fill:
            v = np.asarray(self.fill[ins[0]])
            if v.size and np.all(v == v.flat[0]):  # slicing / reshaping a uniform fill keeps it uniform
                self.fill[out] = v.reshape(-1)[:1]
        # anything else off the path is shape arithmetic: ignored unless something on the path needs its value

    # --- recurrent nodes ---------------------------------------------------------------------------------------------
    def recurrent(self, node, ins):
        k = len(self.nodes)
        x = self.data[ins[0]] if ins and ins[0] in self.data else None
        expected = "input" if k == 0 else k - 1
        if x is None or x.stage != expected or x.layout not in ("in", "TBF"):
            src = "the graph's input" if k == 0 else f"the output sequence of recurrent node {k - 1}"
            self.refuse(node, f"does not take {src} as its X (sequence, time-major)")
        a = self.attrs(node)
        cell = "lstm" if node.op_type == "LSTM" else "gru"
        for name in ("clip", "input_forget"):
            if a.get(name):
                self.refuse(node, f"has {name}={a[name]}, which lstm_widget does not reproduce")
        if a.get("layout", 0) != 0:
            self.refuse(node, f"has layout={a['layout']} (batch-major); from_onnx reads layout=0 (time-major)")
        direction = a.get("direction", "forward")
        if direction not in ("forward", "reverse", "bidirectional"):
            self.refuse(node, f"has direction={direction!r}; expected forward, reverse or bidirectional")
        dirs = 2 if direction == "bidirectional" else 1
        W = self.constant(node, ins[1], "W")
        R = self.constant(node, ins[2], "R")
        B = self.constant(node, ins[3], "B") if len(ins) > 3 and ins[3] else None
        gates = 4 if cell == "lstm" else 3
        H = int(a.get("hidden_size", R.shape[-1]))
        D = W.shape[-1]
        if (
            W.shape != (dirs, gates * H, D)
            or R.shape != (dirs, gates * H, H)
            or (B is not None and B.shape != (dirs, 2 * gates * H))
        ):
            self.refuse(
                node,
                f"has W {W.shape}, R {R.shape}, B {None if B is None else B.shape}; expected "
                f"({dirs}, {gates * H}, D), ({dirs}, {gates * H}, {H}), ({dirs}, {2 * gates * H}) for "
                f"direction={direction}, hidden_size={H}",
            )
        if len(ins) > 4 and ins[4]:
            self.refuse(node, "has sequence_lens; from_onnx reads nodes without it (every sequence runs to its end)")
        if cell == "lstm" and len(ins) > 7 and ins[7]:
            P = self.constant(node, ins[7], "P (peepholes)")
            if np.any(P != 0):
                self.refuse(node, "has peephole weights P, which lstm_widget does not reproduce")
        gate_activation = self.activations(node, a, dirs)
        reset_after = bool(a.get("linear_before_reset", 0)) if cell == "gru" else True
        if k and D != self.nodes[-1]["width"]:
            self.refuse(node, f"takes {D} features; recurrent node {k - 1} outputs {self.nodes[-1]['width']}")
        # weights, in PyTorch's layout and gate order
        cls = nn.LSTM if cell == "lstm" else nn.GRU
        module = cls(D, H, bias=B is not None, batch_first=True, bidirectional=dirs == 2)
        with torch.no_grad():
            for d in range(dirs):
                sfx = "_l0" + ("_reverse" if d else "")
                values = {"weight_ih": W[d], "weight_hh": R[d]}
                if B is not None:
                    values["bias_ih"], values["bias_hh"] = B[d][: gates * H], B[d][gates * H :]
                for name, v in values.items():
                    v = reorder_gates(np.asarray(v, np.float32), "onnx", cell=cell)
                    getattr(module, name + sfx).copy_(torch.from_numpy(np.array(v, np.float32)))
        initial = (
            self.initial_state(node, ins, 5, "initial_h", dirs, H),
            self.initial_state(node, ins, 6, "initial_c", dirs, H) if cell == "lstm" else None,
        )
        options = LayerOptions(reverse=direction == "reverse", gate_activation=gate_activation, reset_after=reset_after)
        self.nodes.append(
            dict(
                module=module.eval(),
                options=options,
                initial=initial,
                dirs=dirs,
                H=H,
                width=dirs * H,
                reverse=direction == "reverse",
            )
        )
        outs = list(node.output) + [""] * 3
        for name, layout in zip(outs[:3], ("Y", "YH", "YC"), strict=True):
            if name:
                self.data[name] = _Data(layout, k, rows=[(k, d) for d in range(dirs)])

    def activations(self, node, a, dirs):
        defaults = _DEFAULT_ACTIVATIONS[node.op_type]
        names = [s.lower() for s in a.get("activations", list(defaults) * dirs)]
        if len(names) != len(defaults) * dirs:
            self.refuse(node, f"lists {len(names)} activations; expected {len(defaults) * dirs}")
        alphas, betas = list(a.get("activation_alpha", [])), list(a.get("activation_beta", []))
        per_dir = []
        for d in range(dirs):
            f, *rest = names[d * len(defaults) : (d + 1) * len(defaults)]
            if any(r != "tanh" for r in rest):
                self.refuse(
                    node,
                    f"has activations {a.get('activations')}; lstm_widget reproduces Tanh for the "
                    "candidate and output, Sigmoid or HardSigmoid for the gates",
                )
            if f == "sigmoid":
                per_dir.append(None)
            elif f == "hardsigmoid":  # alpha / beta are consumed in order by the activations that take them
                alpha = alphas.pop(0) if alphas else 0.2
                beta = betas.pop(0) if betas else 0.5
                per_dir.append((float(alpha), float(beta)))
            else:
                self.refuse(node, f"has the gate activation {f!r}; lstm_widget reproduces Sigmoid and HardSigmoid")
        if dirs == 2 and per_dir[0] != per_dir[1]:
            self.refuse(node, "uses different gate activations in its two directions")
        return per_dir[0]

    def initial_state(self, node, ins, index, what, dirs, H):
        name = ins[index] if len(ins) > index else ""
        if not name:
            return None
        if name in self.data:
            self.refuse(node, f"computes its {what} from the data; from_onnx reads constant initial states")
        if name in self.const:
            v = np.asarray(self.const[name], np.float32)
            if v.ndim != 3 or v.shape[0] != dirs or v.shape[2] != H:
                self.refuse(node, f"has {what} shaped {v.shape}; expected ({dirs}, batch, {H})")
            if np.any(v != v[:, :1]):
                self.refuse(
                    node,
                    f"has an {what} that differs between batch elements; from_onnx reads one initial "
                    "state shared by every sequence",
                )
            v = v[:, 0]
        elif name in self.fill:
            try:
                v = np.broadcast_to(np.asarray(self.fill[name], np.float32), (dirs, 1, H))[:, 0]
            except ValueError:
                self.refuse(
                    node,
                    f"expands {what} from a value shaped {np.shape(self.fill[name])}, which does not "
                    f"broadcast to ({dirs}, batch, {H})",
                )
        else:
            self.refuse(node, f"takes its {what} from {name!r}, which from_onnx cannot read as a constant")
        return None if not np.any(v) else torch.from_numpy(np.array(v, np.float32))

    # --- glue between nodes, and the head ----------------------------------------------------------------------------
    def glue(self, node, ins):
        op, out = node.op_type, node.output[0]
        src = self.data.get(ins[0])
        a = self.attrs(node)
        if src is not None and src.stage == "head" and ins[0] != self.head_tip:
            self.refuse(node, "branches off the head")
        if src is not None and src.stage == "input" and op not in _PASS_THROUGH + ("Transpose",):
            self.refuse(
                node,
                "transforms the graph's input before the first LSTM / GRU node (preprocessing is not "
                "read; apply it to the data before recording)",
            )
        if op in _PASS_THROUGH:
            self.data[out] = src
            if src.stage == "head":
                self.head_tip = out
            return
        if op == "Transpose":
            perm = list(a.get("perm", []))
            table = {
                ("in", (1, 0, 2)): "in",
                ("TBF", (1, 0, 2)): "BTF",
                ("BTF", (1, 0, 2)): "TBF",
                ("Y", (0, 2, 1, 3)): "Y_TBDH",
                ("Y", (2, 0, 1, 3)): "Y_BTDH",
                ("head", (1, 0, 2)): "head",
            }
            layout = table.get((src.layout, tuple(perm)))
            if layout is None:
                self.refuse(node, f"transposes a {src.layout} tensor with perm={perm}")
            self.data[out] = _Data(layout, src.stage, src.rows)
            if src.stage == "head":
                self.head_tip = out
        elif op == "Squeeze":
            axes = a.get("axes")
            if axes is None:
                axes = self.constant(node, ins[1], "axes").tolist() if len(ins) > 1 and ins[1] else None
            axes = [int(x) for x in np.atleast_1d(axes)] if axes is not None else None
            dirs = self.nodes[src.stage]["dirs"] if isinstance(src.stage, int) else None
            table = {("Y", (1,)): "TBF", ("Y_TBDH", (2,)): "TBF", ("Y_BTDH", (2,)): "BTF", ("YH", (0,)): "FINAL"}
            layout = table.get((src.layout, tuple(axes or ())))
            if layout is None or dirs != 1:
                self.refuse(node, f"squeezes axes {axes} of a {src.layout} tensor ({dirs} directions)")
            self.data[out] = _Data(layout, src.stage)
        elif op == "Reshape":
            shape = [int(v) for v in self.constant(node, ins[1], "shape")]
            width = self.nodes[src.stage]["width"] if isinstance(src.stage, int) else None
            if (
                src.layout not in ("Y_TBDH", "Y_BTDH")
                or len(shape) != 3
                or shape[2] not in (-1, width)
                or (shape[2] == -1 and -1 in shape[:2])
            ):
                self.refuse(
                    node,
                    f"reshapes a {src.layout} tensor to {shape}; from_onnx reads the reshape that puts "
                    "the directions side by side ([0, 0, -1])",
                )
            self.data[out] = _Data("TBF" if src.layout == "Y_TBDH" else "BTF", src.stage)
        elif op == "Concat":
            srcs = [self.data.get(i) for i in ins]
            kinds = {None if s is None else s.layout.replace("CAT", "") for s in srcs}
            if a.get("axis") != 0 or len(kinds) != 1 or kinds.pop() not in ("YH", "YC"):
                self.refuse(node, "concatenates tensors other than the final states (Y_h, or Y_c) along axis 0")
            rows = [r for s in srcs for r in s.rows]
            self.data[out] = _Data(srcs[0].layout.replace("CAT", "") + "CAT", "states", rows)
        elif op == "Gather":
            index = self.constant(node, ins[1], "indices")
            axis = int(a.get("axis", 0))
            if index.ndim != 0:
                self.refuse(node, f"gathers indices {index.tolist()}; from_onnx reads one step (-1) or one state")
            index = int(index)
            if src.layout in ("TBF", "BTF") and axis == (0 if src.layout == "TBF" else 1):
                if index != -1:
                    self.refuse(node, f"selects step {index}; from_onnx reads heads on every step or on the last (-1)")
                self.data[out] = _Data("LAST", src.stage)
            elif src.layout in ("YH", "YHCAT") and axis == 0:
                node_k, d = src.rows[index]
                if self.nodes[node_k]["dirs"] != 1:
                    self.refuse(
                        node,
                        "selects one direction's final state of a bidirectional node; from_onnx reads "
                        "the final state of a one-direction node",
                    )
                self.data[out] = _Data("FINAL", node_k)
            else:
                self.refuse(node, f"gathers along axis {axis} of a {src.layout} tensor")
        elif op in ("MatMul", "Gemm"):
            self.linear(node, ins, src, a)
        elif op == "Add":
            self.add_bias(node, ins)
        elif op in _HEAD_ACTIVATIONS or op == "Softmax":
            if src.stage != "head":
                self.refuse(node, "applies an activation outside the head")
            if op == "Softmax":
                axis = int(a.get("axis", -1))
                if axis not in (-1, self.head_rank - 1):
                    self.refuse(node, f"takes the softmax along axis {axis}; expected the last axis (classes)")
                self.final_op, self.final_name = op, out
            else:
                self.head.append(("act", op, node))
            self.data[out] = _Data("head", "head")
            self.head_tip = out
        else:
            self.refuse(node, f"on a {src.layout if src else 'data'} tensor is not supported")

    def linear(self, node, ins, src, a):
        if src is None:
            self.refuse(node, "multiplies a constant by the data; expected data × weights")
        if src.stage == "head":
            pass  # a further layer of the head (its input is the head's tip, checked in glue)
        elif src.layout in ("TBF", "BTF", "LAST", "FINAL") and isinstance(src.stage, int):
            if self.head:
                self.refuse(node, "starts a second head")
            mode = {"TBF": "sequence", "BTF": "sequence", "LAST": "last_step", "FINAL": "final_state"}[src.layout]
            self.head_base = (mode, src.stage)
            self.head_rank = 3 if mode == "sequence" else 2
        else:
            self.refuse(
                node,
                f"multiplies a {src.layout} tensor; expected the last node's output sequence, its last "
                "step or its final state",
            )
        w = np.asarray(self.constant(node, ins[1], "weights"), np.float32)
        if node.op_type == "MatMul":
            if w.ndim != 2:
                self.refuse(node, f"has weights shaped {w.shape}; expected (features, outputs)")
            weight, bias = w.T, None
        else:
            if a.get("transA", 0):
                self.refuse(node, "has transA=1; expected the data as A")
            if self.head_rank != 2:
                self.refuse(node, "applies Gemm to a sequence; expected a 2-D input")
            wt = w if a.get("transB", 0) else w.T  # (outputs, features)
            weight = float(a.get("alpha", 1.0)) * wt
            bias = None
            if len(ins) > 2 and ins[2]:
                c = np.asarray(self.constant(node, ins[2], "C"), np.float32)
                bias = float(a.get("beta", 1.0)) * np.broadcast_to(c.reshape(-1), (weight.shape[0],))
        linear = nn.Linear(weight.shape[1], weight.shape[0], bias=True)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(weight, np.float32)))
            linear.bias.zero_()
            if bias is not None:
                linear.bias.copy_(torch.from_numpy(np.array(bias, np.float32)))
        self.head.append(("linear", linear, node))
        self.data[node.output[0]] = _Data("head", "head")
        self.head_tip = node.output[0]

    def add_bias(self, node, ins):
        data_in = [i for i in ins if i in self.data]
        const_in = [i for i in ins if i not in self.data]
        if (
            len(data_in) != 1
            or data_in[0] != self.head_tip
            or not self.head
            or self.head[-1][0] != "linear"
            or self.head[-1][2].op_type != "MatMul"
            or self.head[-1][2].output[0] != self.head_tip
        ):
            self.refuse(node, "adds to something other than the output of a head's MatMul")
        b = np.asarray(self.constant(node, const_in[0], "bias"), np.float32)
        linear = self.head[-1][1]
        C = linear.out_features
        if b.size != C and b.size != 1:
            self.refuse(node, f"adds a bias shaped {b.shape} to {C} outputs")
        with torch.no_grad():
            linear.bias.add_(torch.from_numpy(np.broadcast_to(b.reshape(-1), (C,)).copy()))
        self.data[node.output[0]] = _Data("head", "head")
        self.head_tip = node.output[0]

    # --- the module --------------------------------------------------------------------------------------------------
    def build(self, source: str) -> RecurrentStack:
        modules = []
        for kind, m, _node in self.head:
            modules.append(_HEAD_ACTIVATIONS[m]() if kind == "act" else m)
        output_activation = None
        if self.final_op == "Softmax":
            output_activation = "softmax"
        elif modules and isinstance(modules[-1], nn.Sigmoid) and self.head[-1][2].output[0] == self.head_tip:
            out_features = next(m.out_features for m in reversed(modules) if isinstance(m, nn.Linear))
            if out_features == 1:  # record applies the sigmoid itself to one output
                modules.pop()
                output_activation = "sigmoid"
        head = None if not modules else modules[0] if len(modules) == 1 else nn.Sequential(*modules)
        return RecurrentStack(
            [n["module"] for n in self.nodes],
            options=[n["options"] for n in self.nodes],
            initial_states=[n["initial"] for n in self.nodes],
            head=head,
            output=self.head_base[0] if self.head_base else "sequence",
            output_activation=output_activation,
            source=source,
            framework="onnx",
        ).eval()


def _tensors(graph):
    """Every TensorProto in ``graph``: initializers, sparse initializers' values and indices, and tensors held by node
    attributes (Constant values, ...), subgraphs included."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _tensors(attr.g)
            for sub in attr.graphs:
                yield from _tensors(sub)


def _external(onnx, tensor) -> dict | None:
    """The external-data entries (location, offset, length, ...) of a tensor stored outside the model, else None."""
    if tensor.data_location != onnx.TensorProto.EXTERNAL:
        return None
    return {entry.key: entry.value for entry in tensor.external_data}


def _expected_bytes(onnx, tensor) -> int | None:
    """Bytes the tensor's values take (dims × item size), or None for a dtype of no fixed size (strings)."""
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except Exception:  # an unknown data type: left to the reader, which names it
        return None
    if tensor.data_type == onnx.TensorProto.STRING or itemsize == 0:
        return None
    return int(np.prod([int(d) for d in tensor.dims], dtype=np.int64)) * itemsize


def _load_external_data(onnx, model, folder: str | None, what: str) -> None:
    """Read every external tensor of ``model`` into the model itself, from files inside ``folder`` (symbolic links
    resolved); refused when ``folder`` is None (a model given in memory) or a location leaves it, is missing, is not
    a regular file, or does not hold the tensor's bytes."""
    base = None if folder is None else os.path.realpath(folder)
    for tensor in _tensors(model.graph):
        entries = _external(onnx, tensor)
        if entries is None:
            continue
        name, location = tensor.name or "(unnamed)", entries.get("location", "")
        if base is None:
            raise ValueError(
                f"from_onnx got {what}, whose tensor {name!r} keeps its values in the external file "
                f"{location!r}; a model given in memory has no folder to read it from — pass the path of "
                "the .onnx file (with its data files beside it)"
            )
        if not location or "\x00" in location:
            raise ValueError(
                f"tensor {name!r} of {what} is stored externally but names no usable location ({location!r})"
            )
        target = os.path.realpath(os.path.join(base, location))
        if os.path.isabs(location) or os.path.commonpath([base, target]) != base:
            raise ValueError(
                f"tensor {name!r} of {what} keeps its values in {location!r}, which resolves to "
                f"{target!r}, outside the model's folder {base!r}; external data is read only from "
                "files inside the folder of the .onnx file"
            )
        if not os.path.isfile(target):
            raise ValueError(
                f"tensor {name!r} of {what} keeps its values in {target!r}, which "
                f"{'is not a regular file' if os.path.exists(target) else 'does not exist'}; copy the "
                "model's data files beside the .onnx file"
            )
        size = os.path.getsize(target)
        try:
            offset = int(entries.get("offset", 0))
            length = int(entries["length"]) if "length" in entries else size - offset
        except ValueError:
            raise ValueError(
                f"tensor {name!r} of {what} has a non-integer offset or length for {target!r} "
                f"({entries.get('offset')!r}, {entries.get('length')!r})"
            ) from None
        if offset < 0 or length < 0 or offset + length > size:
            raise ValueError(
                f"tensor {name!r} of {what} reads bytes {offset}..{offset + length} of {target!r}, "
                f"which holds {size} bytes (a truncated or damaged data file)"
            )
        expected = _expected_bytes(onnx, tensor)
        if expected is not None and expected != length:
            raise ValueError(
                f"tensor {name!r} of {what} has shape {list(tensor.dims)} ({expected} bytes) but its "
                f"external data in {target!r} is {length} bytes"
            )
        with open(target, "rb") as f:
            f.seek(offset)
            data = f.read(length)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
        tensor.raw_data = data


def _parse(onnx, load, what: str):
    """An ONNX ModelProto parsed by ``load`` (protobuf only: nothing is unpickled or run), or one ValueError."""
    try:
        model = load()
    except Exception as err:
        raise ValueError(
            f"from_onnx got {what}, which is not an ONNX model ({type(err).__name__}: {err}); "
            "expected a .onnx file as torch.onnx.export or onnx.save writes it"
        ) from err
    if not model.graph.node:
        raise ValueError(
            f"from_onnx got {what}, which holds no ONNX graph nodes; expected a .onnx file as "
            "torch.onnx.export or onnx.save writes it"
        )
    return model


def from_onnx(path_or_model) -> RecurrentStack:
    """A torch module equivalent to an ONNX model whose recurrent part is LSTM / GRU nodes: a path to a ``.onnx``
    file, its bytes, or an ``onnx.ModelProto``.

    External data is read only for a path, from files inside the model's folder (see the module docs); a model given
    in memory with external tensors is refused. The result is a :class:`RecurrentStack` (batch-first, whatever the
    graph's layout): ``record(stack, x)`` records it; ``stack(x)`` computes the graph's head output (or, without a head, its output sequence, directions side by
    side). Nodes of one kind and size record together (layer0, layer1, ...); see the module docs for what is read.
    """
    onnx = _onnx()
    if isinstance(path_or_model, (str, os.PathLike)):
        path = os.fspath(path_or_model)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"from_onnx got the path {path!r}, which is not a file; expected a .onnx file")
        what = f"the file {path!r}"
        model = _parse(onnx, lambda: onnx.load(path, load_external_data=False), what)
        _load_external_data(onnx, model, os.path.dirname(os.path.abspath(path)), what)
        source = f"{os.path.basename(path)} (ONNX)"
    elif isinstance(path_or_model, (bytes, bytearray)):
        what = f"{len(path_or_model)} bytes"
        model = _parse(onnx, lambda: onnx.load_from_string(bytes(path_or_model)), what)
        _load_external_data(onnx, model, None, what)
        source = "ONNX model"
    elif isinstance(path_or_model, onnx.ModelProto):
        model, source = path_or_model, f"{path_or_model.graph.name or 'ONNX model'} (ONNX)"
        _load_external_data(onnx, model, None, "an onnx.ModelProto")
    else:
        raise TypeError(
            f"from_onnx takes a path to a .onnx file, its bytes or an onnx.ModelProto; got "
            f"{type(path_or_model).__name__}"
        )
    reader = _Reader(onnx, model.graph)
    reader.read()
    return reader.build(source)
