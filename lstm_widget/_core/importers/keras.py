"""``from_keras``: a Keras 3 LSTM / GRU layer, a model built around one, or a ``.keras`` file → a
:class:`RecurrentStack` that ``record``, ``Stepper`` and ``Explorer`` accept and that computes what Keras computes.

What is read: a chain of LSTM / GRU layers (each may be wrapped in ``Bidirectional`` with ``merge_mode="concat"``), then
optionally Dense layers (``TimeDistributed(Dense)`` too, and ``Activation`` / ``Softmax`` / ``Dropout`` layers), on the
last recurrent layer's output at every step (``return_sequences=True``) or on its final output. Keras's own options
that torch lacks are reproduced exactly: ``recurrent_activation="hard_sigmoid"`` (Keras 3's clip(x/6 + 1/2, 0, 1)) and
GRU ``reset_after=False``. Anything else is refused with an error that names the layer: another layer kind, an
``activation`` other than tanh, a ``recurrent_activation`` other than sigmoid / hard_sigmoid, ``go_backwards`` outside
``Bidirectional``, ``stateful``, other merge modes, layers with several inputs or outputs.

keras is imported only when this function is called; the weights are read with ``keras.ops.convert_to_numpy``, so any
Keras backend works.

A ``.keras`` file is checked before Keras builds anything from it (building allocates every declared weight): its
``config.json`` and ``metadata.json`` must be at most :data:`CONFIG_BYTES_LIMIT` bytes, every layer must be one that
from_keras reads, and every weight shape the config declares (from each layer's ``units`` and built input shape) must be
held by the archive's ``model.weights.h5``, whose arrays must fit in its size — so a tampered or truncated archive is
refused at once, not after the memory of a model it does not hold.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import Counter

import numpy as np
import torch
from torch import nn

from ..model.gates import reorder_gates
from ..model.stack import LayerOptions, RecurrentStack
from ..validate import to_numpy

#: Keras 3's hard sigmoid: relu6(x + 3) / 6 = clip(x/6 + 1/2, 0, 1).
KERAS_HARD_SIGMOID = (1.0 / 6.0, 0.5)
_HEAD_ACTIVATIONS = {
    "linear": None,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softmax": lambda: nn.Softmax(dim=-1),
}
_SKIPPED = ("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "ActivityRegularization")
#: The most bytes a .keras archive's config.json (or metadata.json) may hold; real ones hold a few kB per layer.
CONFIG_BYTES_LIMIT = 4 << 20
_WEIGHTS_MEMBER = "model.weights.h5"
#: Keras layer classes whose weights a .keras archive is checked for before loading (all that from_keras reads).
_WITHOUT_WEIGHTS = ("InputLayer", "Activation", "Softmax", *_SKIPPED)


def _keras():
    try:
        import keras
    except ImportError:
        raise ImportError(
            "from_keras needs Keras 3: pip install keras (any backend; torch is used when KERAS_BACKEND=torch)"
        ) from None
    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(f"from_keras needs Keras 3; found keras {keras.__version__} (pip install -U keras)")
    return keras


def _describe_layer(layer) -> str:
    return f"layer {layer.name!r} ({type(layer).__name__})"


def _activation_name(fn) -> str:
    if isinstance(fn, str):
        return fn
    return getattr(fn, "__name__", type(fn).__name__)


def _chain(keras, model) -> list:
    """The model's layers from input to output, when they form one chain; else one error naming the layer."""
    if isinstance(model, keras.Sequential):
        out = []
        for layer in model.layers:
            out += _chain(keras, layer) if isinstance(layer, keras.Model) else [layer]
        return out
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} outputs; from_keras reads "
            "models with one input and one output (a chain: recurrent layers, then an optional Dense head)"
        )
    layers, tensor = [], model.outputs[0]
    while True:
        op, node_index, tensor_index = tensor._keras_history
        if isinstance(op, keras.layers.InputLayer):
            break
        if not isinstance(op, keras.layers.Layer):
            raise ValueError(
                f"model {model.name!r} applies the operation {type(op).__name__} ({op.name!r}); "
                "from_keras reads chains of layers only"
            )
        if tensor_index != 0:
            raise ValueError(
                f"model {model.name!r} uses output {tensor_index} of {_describe_layer(op)} (its states?); "
                "from_keras reads a chain that uses each layer's first output"
            )
        inputs = op._inbound_nodes[node_index].input_tensors
        if len(inputs) != 1:
            raise ValueError(
                f"{_describe_layer(op)} takes {len(inputs)} inputs; from_keras reads a chain of layers "
                "with one input each"
            )
        layers.append(op)
        tensor = inputs[0]
    out = []
    for layer in reversed(layers):
        out += _chain(keras, layer) if isinstance(layer, keras.Model) else [layer]
    return out


def _check_rnn_options(keras, layer, owner) -> str:
    """Refuse what cannot be reproduced; return the cell kind."""
    what = _describe_layer(owner)
    act = _activation_name(layer.cell.activation)
    if act != "tanh":
        raise ValueError(
            f"{what} has activation={act!r}; from_keras reproduces activation='tanh' only (the cell "
            "candidate and output squashing of PyTorch's LSTM / GRU)"
        )
    rec = _activation_name(layer.cell.recurrent_activation)
    if rec not in ("sigmoid", "hard_sigmoid"):
        raise ValueError(
            f"{what} has recurrent_activation={rec!r}; from_keras reproduces 'sigmoid' and 'hard_sigmoid' only"
        )
    if layer.stateful:
        raise ValueError(
            f"{what} is stateful=True; from_keras reads layers that start every sequence from zeros (stateful=False)"
        )
    return "lstm" if isinstance(layer, keras.layers.LSTM) else "gru"


def _direction_weights(keras, layer, cell: str) -> dict:
    """One Keras LSTM / GRU layer's weights in PyTorch layout (gate order i, f, g, o / r, z, n)."""
    c = layer.cell
    kernel, recurrent = (to_numpy(keras.ops.convert_to_numpy(v), np.float32) for v in (c.kernel, c.recurrent_kernel))
    out = {
        "weight_ih": reorder_gates(kernel.T, "keras", cell=cell),
        "weight_hh": reorder_gates(recurrent.T, "keras", cell=cell),
    }
    if c.use_bias:
        bias = to_numpy(keras.ops.convert_to_numpy(c.bias), np.float32)
        if cell == "gru" and c.reset_after:  # (2, 3U): input bias, recurrent bias
            b_ih, b_hh = bias[0], bias[1]
        else:  # one bias, added with the input product
            b_ih, b_hh = bias, np.zeros_like(bias)
        out["bias_ih"] = reorder_gates(b_ih, "keras", cell=cell)
        out["bias_hh"] = reorder_gates(b_hh, "keras", cell=cell)
    return out


def _convert_rnn(keras, layer) -> tuple[nn.Module, LayerOptions, bool]:
    """A Keras LSTM / GRU / Bidirectional layer → (nn.LSTM or nn.GRU, its options, return_sequences)."""
    if isinstance(layer, keras.layers.Bidirectional):
        if layer.merge_mode != "concat":
            raise ValueError(
                f"{_describe_layer(layer)} has merge_mode={layer.merge_mode!r}; from_keras reads "
                "merge_mode='concat' only (the layout of a bidirectional torch layer)"
            )
        directions = [layer.forward_layer, layer.backward_layer]
        for d, sub in enumerate(directions):
            if not isinstance(sub, (keras.layers.LSTM, keras.layers.GRU)):
                raise ValueError(f"{_describe_layer(layer)} wraps a {type(sub).__name__}; expected an LSTM or GRU")
            if sub.go_backwards != bool(d):
                raise ValueError(
                    f"{_describe_layer(layer)} has a {'backward' if d else 'forward'} layer with "
                    f"go_backwards={sub.go_backwards}; expected the standard pair"
                )
        if type(directions[0]) is not type(directions[1]) or directions[0].units != directions[1].units:
            raise ValueError(f"{_describe_layer(layer)} pairs different layers; expected two of one kind and size")
        return_sequences = layer.return_sequences
    elif isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        if layer.go_backwards:
            raise ValueError(
                f"{_describe_layer(layer)} has go_backwards=True: it returns its outputs in reversed time "
                "order, which from_keras does not reproduce; use it inside Bidirectional, or reverse the "
                "input instead"
            )
        directions = [layer]
        return_sequences = layer.return_sequences
    else:
        raise ValueError(f"{_describe_layer(layer)} is not an LSTM or GRU layer")
    cells = {_check_rnn_options(keras, sub, layer) for sub in directions}
    cell = cells.pop()
    first = directions[0]
    if cells or any(
        _activation_name(d.cell.recurrent_activation) != _activation_name(first.cell.recurrent_activation)
        or d.cell.use_bias != first.cell.use_bias
        for d in directions
    ):
        raise ValueError(f"{_describe_layer(layer)} pairs layers with different options; expected two alike")
    reset_after = bool(getattr(first.cell, "reset_after", True))
    if cell == "gru" and any(bool(d.cell.reset_after) != reset_after for d in directions):
        raise ValueError(f"{_describe_layer(layer)} pairs GRU layers with different reset_after")
    kernel_rows = first.cell.kernel.shape[0]
    cls = nn.LSTM if cell == "lstm" else nn.GRU
    module = cls(
        kernel_rows, first.units, bias=first.cell.use_bias, batch_first=True, bidirectional=len(directions) == 2
    )
    with torch.no_grad():
        for d, sub in enumerate(directions):
            sfx = "_l0" + ("_reverse" if d else "")
            for name, value in _direction_weights(keras, sub, cell).items():
                getattr(module, name + sfx).copy_(torch.from_numpy(value))
    hard = _activation_name(first.cell.recurrent_activation) == "hard_sigmoid"
    options = LayerOptions(gate_activation=KERAS_HARD_SIGMOID if hard else None, reset_after=reset_after)
    return module.eval(), options, return_sequences


def _convert_dense(keras, layer, in_features: int) -> list[nn.Module]:
    """A Dense layer's kernel and bias → [nn.Linear] (its activation is placed by the caller)."""
    kernel = to_numpy(keras.ops.convert_to_numpy(layer.kernel), np.float32)
    if kernel.shape[0] != in_features:
        raise ValueError(
            f"{_describe_layer(layer)} takes {kernel.shape[0]} features; the layer before it gives {in_features}"
        )
    linear = nn.Linear(kernel.shape[0], kernel.shape[1], bias=layer.use_bias)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
        if layer.use_bias:
            linear.bias.copy_(torch.from_numpy(to_numpy(keras.ops.convert_to_numpy(layer.bias), np.float32)))
    return [linear]


def _shape_list(shape) -> list | None:
    """A build_config input shape as a list of ints / None, or None when it is not one shape."""
    if isinstance(shape, dict) and "shape" in shape:  # a serialised KerasTensor
        shape = shape["shape"]
    if isinstance(shape, (list, tuple)) and shape and all(d is None or isinstance(d, int) for d in shape):
        return list(shape)
    return None


def _positive(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} is {value!r}; expected a positive integer")
    return value


def _rnn_shapes(cfg: dict, features, what: str) -> list[tuple]:
    """The weight shapes a Keras LSTM / GRU config declares: kernel (D, k·U), recurrent kernel (U, k·U), bias."""
    conf = cfg.get("config") or {}
    units = _positive(conf.get("units"), f"{what}: units")
    gates = 4 if cfg["class_name"] == "LSTM" else 3
    shapes = [(units, gates * units)]
    if isinstance(features, int):
        shapes.append((features, gates * units))
    if conf.get("use_bias", True):
        two = cfg["class_name"] == "GRU" and conf.get("reset_after", True)
        shapes.append((2, gates * units) if two else (gates * units,))
    return shapes


def _declared_weights(cfg, where: str, out: list) -> None:
    """Append (layer description, [weight shapes]) for every layer in a serialised Keras model or layer ``cfg``;
    refuse a built-in layer that from_keras does not read (before Keras builds it)."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("class_name"), str):
        raise ValueError(f"{where} holds a layer entry that is not a serialised Keras layer")
    kind, conf = cfg["class_name"], cfg.get("config") or {}
    if not isinstance(conf, dict):
        raise ValueError(f"{where} holds a {kind} entry whose config is not an object")
    what = f"layer {conf.get('name', '?')!r} ({kind})"
    layers = conf.get("layers")
    if isinstance(layers, list):  # Sequential, Functional: a model of layers
        for layer in layers:
            _declared_weights(layer, where, out)
        return
    built = _shape_list((cfg.get("build_config") or {}).get("input_shape"))
    features = built[-1] if built else None
    builtin = str(cfg.get("module", "")).startswith("keras") and not cfg.get("registered_name")
    if kind in ("LSTM", "GRU"):
        out.append((what, _rnn_shapes(cfg, features, what)))
    elif kind == "Bidirectional":
        pair = [conf.get("layer"), conf.get("backward_layer") or conf.get("layer")]
        shapes = []
        for sub in pair:
            if not isinstance(sub, dict) or sub.get("class_name") not in ("LSTM", "GRU"):
                raise ValueError(
                    f"{where}: {what} wraps something other than an LSTM or GRU layer; from_keras reads "
                    "Bidirectional LSTM / GRU layers"
                )
            shapes += _rnn_shapes(sub, features, what)
        out.append((what, shapes))
    elif kind in ("Dense", "TimeDistributed"):
        dense = conf.get("layer") if kind == "TimeDistributed" else cfg
        if not isinstance(dense, dict) or dense.get("class_name") != "Dense":
            raise ValueError(f"{where}: {what} is not supported; from_keras reads TimeDistributed(Dense) only")
        dconf = dense.get("config") or {}
        units = _positive(dconf.get("units"), f"{what}: units")
        shapes = [(features, units)] if isinstance(features, int) else []
        if dconf.get("use_bias", True):
            shapes.append((units,))
        out.append((what, shapes))
    elif builtin and kind not in _WITHOUT_WEIGHTS:
        raise ValueError(
            f"{where}: {what} is not supported; from_keras reads LSTM / GRU layers (Bidirectional with "
            "merge_mode='concat' too), then optionally Dense layers (with Activation, Softmax, Dropout) on "
            "the last recurrent output"
        )


def _check_archive(path: str) -> None:
    """Refuse a .keras archive whose config is oversized, names a layer from_keras does not read, or declares
    weights that its model.weights.h5 does not hold — reading only the zip's directory, the config and the weight
    file's array headers (nothing is built)."""
    import h5py

    name = os.path.basename(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"from_keras could not read {path!r} as a Keras model (a .keras file is a zip archive: "
            f"{err}); expected a .keras file saved by model.save()"
        ) from None
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        for member in ("config.json", "metadata.json"):
            info = members.get(member)
            if info is not None and info.file_size > CONFIG_BYTES_LIMIT:
                raise ValueError(
                    f"{name}: its {member} is {info.file_size} bytes, over the {CONFIG_BYTES_LIMIT}-byte "
                    "limit for a model's description (real ones hold a few kB per layer); refused "
                    "before reading it"
                )
        if "config.json" not in members:
            raise ValueError(f"{name} holds no config.json; expected a .keras file saved by model.save()")
        try:
            config = json.loads(archive.read("config.json"))
        except (ValueError, RecursionError) as err:
            raise ValueError(f"{name}: its config.json is not valid JSON ({err})") from None
        declared: list = []
        _declared_weights(config, name, declared)
        needed = [shape for _what, shapes in declared for shape in shapes]
        if not needed:
            return
        info = members.get(_WEIGHTS_MEMBER)
        if info is None:
            raise ValueError(
                f"{name} declares {len(needed)} weight arrays but holds no {_WEIGHTS_MEMBER}; expected "
                "a .keras file saved by model.save()"
            )
        held: list[tuple] = []
        nbytes = 0
        try:
            with archive.open(_WEIGHTS_MEMBER) as raw, h5py.File(raw, "r") as weights:

                def visit(_key, obj):
                    nonlocal nbytes
                    if isinstance(obj, h5py.Dataset):
                        held.append(tuple(int(d) for d in obj.shape))
                        nbytes += int(np.prod(obj.shape, dtype=np.int64)) * obj.dtype.itemsize

                weights.visititems(visit)
        except (OSError, ValueError, RuntimeError, zipfile.BadZipFile) as err:
            raise ValueError(f"{name}: its {_WEIGHTS_MEMBER} is not a readable HDF5 file ({err})") from None
        if nbytes > info.file_size:
            raise ValueError(
                f"{name}: its {_WEIGHTS_MEMBER} declares {nbytes} bytes of arrays in a file of "
                f"{info.file_size} bytes (a damaged or tampered archive); refused before loading"
            )
        left = Counter(held)
        for what, shapes in declared:
            missing = Counter(shapes) - left
            if missing:
                want = ", ".join(str(s) for s in shapes)
                have = ", ".join(str(s) for s in sorted(set(held))) or "none"
                raise ValueError(
                    f"{name}: {what} declares weights of shapes {want}, but {_WEIGHTS_MEMBER} holds no "
                    f"{', '.join(str(s) for s in missing)} (its arrays: {have}); the config does not "
                    "match the weights — refused before building the model"
                )
            left -= Counter(shapes)


def from_keras(obj) -> RecurrentStack:
    """A torch module equivalent to a Keras 3 LSTM / GRU layer (or ``Bidirectional`` of one), a ``Sequential`` or
    functional model built around one, or a ``.keras`` file holding such a model.

    The result is a :class:`RecurrentStack` (batch-first): ``record(stack, x)`` records it, ``stack(x)`` computes
    what the Keras model returns. Stacked layers of one kind and size record together (layer0, layer1, ...); layers
    of different sizes are recorded one at a time, chosen with ``record(stack, x, lstm="layers.1")``.
    """
    keras = _keras()
    source = None
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"from_keras got the path {path!r}, which is not a file; expected a .keras file")
        if not path.endswith((".keras", ".h5")):
            raise ValueError(f"from_keras got the path {path!r}; expected a .keras file (or a legacy .h5 model)")
        if path.endswith(".keras"):
            _check_archive(path)
        try:  # safe_mode: a Lambda layer's pickled Python code is refused, never run
            obj = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as err:
            raise ValueError(
                f"from_keras could not read {path!r} as a Keras model ({type(err).__name__}: {err}); "
                "expected a .keras file saved by model.save() (Lambda layers are refused)"
            ) from err
        source = f"{os.path.basename(path)} (Keras)"
    if isinstance(obj, keras.Model):
        chain = _chain(keras, obj)
    elif isinstance(obj, keras.layers.Layer):
        chain = [obj]
    else:
        raise TypeError(
            f"from_keras takes a Keras LSTM / GRU layer, a Keras model or a path to a .keras file; got "
            f"{type(obj).__name__}"
        )
    source = source or f"{type(obj).__name__} {obj.name!r} (Keras)"
    rnn_types = (keras.layers.LSTM, keras.layers.GRU, keras.layers.Bidirectional)
    if not any(isinstance(layer, rnn_types) for layer in chain):
        found = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in chain) or "none"
        raise ValueError(
            f"{source} has no LSTM or GRU layer (its layers: {found}); from_keras expected an LSTM or GRU "
            "layer, or a model containing one"
        )
    layers, options, head, return_sequences = [], [], [], True
    pending, width = None, None  # the activation of the last Dense, not yet placed
    for layer in chain:
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.InputLayer) or kind in _SKIPPED:
            continue  # identity at inference
        if isinstance(layer, rnn_types):
            if head:
                raise ValueError(
                    f"{_describe_layer(layer)} comes after the Dense head; from_keras reads recurrent "
                    "layers first, then the head"
                )
            if not return_sequences:
                raise ValueError(
                    f"{_describe_layer(layer)} follows a recurrent layer with return_sequences=False; "
                    "stacked recurrent layers need return_sequences=True on all but the last"
                )
            module, opts, return_sequences = _convert_rnn(keras, layer)
            if width is not None and module.input_size != width:
                raise ValueError(
                    f"{_describe_layer(layer)} takes {module.input_size} features; the layer before it gives {width}"
                )
            layers.append(module)
            options.append(opts)
            width = module.hidden_size * (2 if module.bidirectional else 1)
            continue
        if not layers:
            raise ValueError(
                f"{_describe_layer(layer)} comes before the first recurrent layer; from_keras reads "
                "models whose input goes straight to an LSTM or GRU (no preprocessing layers)"
            )
        if isinstance(layer, keras.layers.TimeDistributed) and isinstance(layer.layer, keras.layers.Dense):
            layer = layer.layer
        if isinstance(layer, keras.layers.Dense):
            if pending is not None and _HEAD_ACTIVATIONS[pending] is not None:
                head.append(_HEAD_ACTIVATIONS[pending]())
            head += _convert_dense(keras, layer, width)
            width = head[-1].out_features
            pending = _activation_name(layer.activation)
        elif isinstance(layer, (keras.layers.Activation, keras.layers.Softmax)) and head:
            if pending != "linear":
                raise ValueError(
                    f"{_describe_layer(layer)} follows the activation {pending!r} of the Dense layer "
                    "before it; from_keras reads one activation per Dense layer"
                )
            pending = "softmax" if isinstance(layer, keras.layers.Softmax) else _activation_name(layer.activation)
        else:
            raise ValueError(
                f"{_describe_layer(layer)} is not supported; from_keras reads LSTM / GRU layers "
                "(Bidirectional with merge_mode='concat' too), then optionally Dense layers (with "
                "Activation, Softmax, Dropout) on the last recurrent output"
            )
        if pending not in _HEAD_ACTIVATIONS:
            raise ValueError(
                f"{_describe_layer(layer)} has activation {pending!r}; from_keras reads a head with "
                f"activations {sorted(_HEAD_ACTIVATIONS)}"
            )
    # the last activation stays outside the head when record applies it itself (softmax, or a sigmoid on one unit),
    # so that a recording's logits are the values before it
    output_activation = None
    if pending == "softmax" and width > 1:
        output_activation = "softmax"
    elif pending == "sigmoid" and width == 1:
        output_activation = "sigmoid"
    elif pending is not None and _HEAD_ACTIVATIONS[pending] is not None:
        head.append(_HEAD_ACTIVATIONS[pending]())
    head_module = None if not head else (head[0] if len(head) == 1 else nn.Sequential(*head))
    return RecurrentStack(
        layers,
        options=options,
        head=head_module,
        output="sequence" if return_sequences else "final_state",
        output_activation=output_activation,
        source=source,
        framework="keras",
    ).eval()
