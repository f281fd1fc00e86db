"""Adapters: turn a user's model into one description of its recurrent layer (weights per layer and direction, head,
input preprocessing), so that recording and stepping never look at the user's classes again.

Two cell kinds: LSTM (``nn.LSTM``, ``nn.LSTMCell``) and GRU (``nn.GRU``, ``nn.GRUCell``); a :class:`RecurrentStack`
(what ``from_keras`` / ``from_onnx`` return) adds what torch's modules lack: reverse-only layers, initial states, a hard
sigmoid gate activation and the GRU variant that resets before the recurrent product."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..validate import check_model_device, check_model_finite
from .gates import QUANTITIES
from .rows import _cell_rows, _rnn_rows
from .stack import RecurrentStack

_LSTMS = (nn.LSTM, nn.LSTMCell)
_GRUS = (nn.GRU, nn.GRUCell)
_RECURRENT = _LSTMS + _GRUS
_OTHER_RNN = (nn.RNN, nn.RNNCell)
_EXPECTED = "an nn.LSTM or nn.LSTMCell (or nn.GRU / nn.GRUCell)"


@dataclass(frozen=True)
class RecurrentSpec:
    """One description of a model's recurrent part, whatever the user handed us."""

    input_size: int
    hidden_size: int
    proj_size: int  # 0 when the layer has no projection
    num_layers: int
    num_directions: int
    layers: tuple  # layers[l][d] -> DirectionWeights
    head: nn.Module | None = None
    preprocess: object = None  # callable: float32 tensor (B, T, D) -> LSTM input (B, T, input_size), or None
    raw_features: int | None = None  # features per step the user passes (None: not known before running)
    source: str = "nn.LSTM"
    quantities: tuple = field(default=("h", "c", "i", "f", "g", "o"))
    cell: str = "lstm"  # "lstm" or "gru"
    framework: str = "pytorch"  # where the weights came from ("pytorch", "keras", "onnx"): names of the weight views
    output_activation: str | None = None  # what the model applies to its head's output ("softmax", "sigmoid"), if known

    @property
    def output_size(self) -> int:
        """Size of h per direction (the projection size when there is one)."""
        return self.proj_size or self.hidden_size

    @property
    def device(self) -> torch.device:
        return self.layers[0][0].w_ih.device

    @property
    def dtype(self) -> torch.dtype:
        return self.layers[0][0].w_ih.dtype

    @property
    def layer_names(self) -> tuple:
        """One name per (layer, direction) row of a recording, PyTorch style: layer0, layer0_reverse, layer1, ..."""
        return tuple(f"layer{k}" + ("_reverse" if w.reverse else "") for k, row in enumerate(self.layers) for w in row)

    @property
    def units(self) -> dict:
        return {q: (self.output_size if q == "h" else self.hidden_size) for q in self.quantities}


def _spec(layers: tuple, cell: str, **kw) -> RecurrentSpec:
    w = layers[0][0]
    hidden = w.w_hh.shape[0] // (4 if cell == "lstm" else 3)
    return RecurrentSpec(
        input_size=w.w_ih.shape[1],
        hidden_size=hidden,
        proj_size=0 if w.w_hr is None else w.w_hr.shape[0],
        num_layers=len(layers),
        num_directions=len(layers[0]),
        layers=layers,
        quantities=QUANTITIES[cell],
        cell=cell,
        **kw,
    )


def _module_spec(m: nn.Module, **kw) -> RecurrentSpec:
    cell = "lstm" if isinstance(m, _LSTMS) else "gru"
    rows = _rnn_rows(m) if isinstance(m, (nn.LSTM, nn.GRU)) else _cell_rows(m)
    return _spec(rows, cell, **kw)


def _resolve(model: nn.Module, ref, what: str) -> tuple[str, nn.Module]:
    """Find a submodule given as a module or as an attribute/dotted name."""
    if isinstance(ref, nn.Module):
        for name, sub in model.named_modules():
            if sub is ref:
                return name, sub
        raise ValueError(f"the {what} module passed is not a submodule of the model")
    if isinstance(ref, str):
        try:
            return ref, model.get_submodule(ref)
        except AttributeError:
            names = [n for n, _ in model.named_modules() if n]
            raise ValueError(f"the model has no submodule named {ref!r} (for {what}=); it has: {names}") from None
    raise TypeError(f"{what}= must be a submodule or its name (str); got {type(ref).__name__}")


def no_recurrent_error(model: nn.Module) -> TypeError:
    """The error for a model with no LSTM / GRU in it, naming the recurrent modules it has that are not supported."""
    others = [
        f"{n or 'the model itself'} ({type(m).__name__})" for n, m in model.named_modules() if isinstance(m, _OTHER_RNN)
    ]
    extra = f"; it has {', '.join(others)}, which are not supported yet" if others else ""
    return TypeError(
        f"{type(model).__name__} has no recurrent layer lstm_widget can record{extra}; "
        f"expected {_EXPECTED}, or a module containing one"
    )


def _find_recurrent(model: nn.Module) -> tuple[str, nn.Module]:
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, _RECURRENT)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise no_recurrent_error(model)
    names = [n for n, _ in found]
    raise ValueError(f"the model has several recurrent layers {names}; name the one to record with lstm='<name>'")


def _find_head(model: nn.Module, lstm_name: str, out_size: int) -> nn.Module | None:
    """The common shape: one Linear that takes the recurrent layer's output. Widen to its nn.Sequential when it starts
    one."""
    parents = dict(model.named_modules())
    candidates = [
        n
        for n, m in model.named_modules()
        if isinstance(m, nn.Linear) and m.in_features == out_size and not n.startswith(lstm_name + ".")
    ]
    if not candidates:
        return None
    if len(candidates) > 1:
        raise ValueError(
            f"the model has several Linear layers that could be the head on the recurrent output {candidates}; "
            "name it with head='<name>' (or head=None for no head)"
        )
    name = candidates[0]
    while "." in name:
        parent_name, child = name.rsplit(".", 1)
        parent = parents[parent_name]
        if isinstance(parent, nn.Sequential) and child == next(iter(parent._modules)):
            name = parent_name
        else:
            break
    return parents[name]


class _Captured(Exception):
    def __init__(self, value):
        self.value = value


def _capture_input(model: nn.Module, lstm: nn.Module, forward=None):
    """A preprocess function: run the model's forward (or ``forward(model, batch)``) only up to its LSTM / GRU and
    return what that layer receives."""

    batch_first = getattr(lstm, "batch_first", False)
    kind = type(lstm).__name__

    def hook(_module, args):
        raise _Captured(args[0])

    def preprocess(x: torch.Tensor) -> torch.Tensor:  # x: (B, T, D) float32
        handle = lstm.register_forward_pre_hook(hook)
        modes = [(m, m.training) for m in model.modules()]
        model.eval()  # what a recording shows: no dropout, running statistics
        try:
            batch = x if batch_first else x.transpose(0, 1)
            model(batch) if forward is None else forward(model, batch)
        except _Captured as got:
            z = got.value
        except Exception as err:  # the model's own code failed on this input
            raise ValueError(
                f"running {type(model).__name__}.forward on an input of shape {tuple(x.shape)} failed before it "
                f"reached its {kind} ({type(err).__name__}: {err}); expected sequences shaped (steps, features) that "
                "the model accepts"
            ) from None
        else:
            raise ValueError(
                f"{type(model).__name__}.forward returned without calling its {kind}; pass the {kind} itself, "
                f"or a model whose forward feeds its input to the {kind}"
            )
        finally:
            handle.remove()
            for m, mode in modes:
                m.training = mode
        if not isinstance(z, torch.Tensor):
            raise TypeError(
                f"{type(model).__name__} feeds its {kind} a {type(z).__name__} (packed sequences?); record needs a "
                f"model whose forward passes a plain tensor — pass the {kind} and head explicitly instead"
            )
        return z if batch_first else z.transpose(0, 1)

    return preprocess


def _probe_width(preprocess, width: int) -> int | None:
    """Features per step a wrapper takes, when its preprocessing keeps the width (the common case); else None."""
    try:
        with torch.no_grad():
            z = preprocess(torch.zeros(1, 1, width))
    except (ValueError, TypeError):
        return None
    return width if z.shape[-1] == width else None


_AUTO = object()


def describe(model, lstm=None, head=_AUTO, forward=None) -> RecurrentSpec:
    """Return the :class:`RecurrentSpec` of ``model``: an ``nn.LSTM``, ``nn.LSTMCell``, ``nn.GRU`` or ``nn.GRUCell``, a
    module containing one, or a :class:`RecurrentStack` (from ``from_keras`` / ``from_onnx``).

    ``lstm=`` and ``head=`` name the recurrent layer and the head (a submodule or its name) when automatic discovery
    is not wanted or not possible; ``head=None`` records without a head. ``forward(model, batch)``: how to call a
    wrapper's forward (instead of ``model(batch)``) when its input is captured.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    check_model_device(model)
    check_model_finite(model)
    if isinstance(model, RecurrentStack):
        return _stack_spec(model, lstm, head)
    if isinstance(model, _RECURRENT) and lstm is None:
        if head not in (_AUTO, None):
            raise ValueError(f"head= needs a model that contains the {type(model).__name__}; a bare one has no head")
        name, rnn, wrapper = "", model, False
    else:
        name, rnn = _resolve(model, lstm, "lstm") if lstm is not None else _find_recurrent(model)
        if not isinstance(rnn, _RECURRENT):
            raise TypeError(f"{name!r} is a {type(rnn).__name__}; expected {_EXPECTED}")
        wrapper = rnn is not model
    out_size = getattr(rnn, "proj_size", 0) or rnn.hidden_size
    if getattr(rnn, "bidirectional", False):
        out_size *= 2
    if head is _AUTO:
        head_mod = _find_head(model, name, out_size) if wrapper else None
    elif head is None:
        head_mod = None
    else:
        head_mod = _resolve(model, head, "head")[1]
    # A wrapper's forward may transform the input before the LSTM (normalisation, ...): capture what the LSTM sees.
    # A cell is driven by the user's own loop, so its wrapper's input is taken as the cell's input.
    pre = _capture_input(model, rnn, forward) if wrapper and isinstance(rnn, (nn.LSTM, nn.GRU)) else None
    kw = dict(
        head=head_mod,
        preprocess=pre,
        raw_features=rnn.input_size if pre is None else _probe_width(pre, rnn.input_size),
        source=type(model).__name__ if wrapper else type(rnn).__name__,
    )
    return _module_spec(rnn, **kw)


def _stack_spec(stack: RecurrentStack, lstm, head) -> RecurrentSpec:
    """A RecurrentStack's layers as one spec when they are alike; else the one layer named by ``lstm=``, the layers
    before it running as preprocessing."""
    rows = [stack.layer_rows(k) for k in range(len(stack.layers))]
    last = len(rows) - 1
    if lstm is None:
        shapes = {_row_shape(r, stack.cells[k]) for k, r in enumerate(rows)}
        if len(shapes) > 1:
            sizes = ", ".join(f"layers.{k}: {_row_shape(r, stack.cells[k])}" for k, r in enumerate(rows))
            raise ValueError(
                f"the recurrent layers of {stack.source} differ in kind or size ({sizes}); one recording holds layers "
                f"of one kind and size: choose one with lstm='layers.{last}' (the layers before it then run as "
                "preprocessing)"
            )
        k, layers, pre = 0, tuple(row for r in rows for row in r), None
    else:
        name, sub = _resolve(stack, lstm, "lstm")
        matches = [k for k, m in enumerate(stack.layers) if m is sub]
        if not matches:
            raise TypeError(
                f"{name!r} is a {type(sub).__name__}; expected one of the stack's recurrent layers "
                f"{[f'layers.{k}' for k in range(len(rows))]}"
            )
        k = matches[0]
        layers = rows[k]
        pre = (lambda x, k=k: stack.run_layers(x, stop=k)) if k else None
    if head is _AUTO:
        head_mod = stack.head if lstm is None or k == last else None
    elif head is None:
        head_mod = None
    else:
        head_mod = _resolve(stack, head, "head")[1]
    cell = stack.cells[k]
    return _spec(
        layers,
        cell,
        head=head_mod,
        preprocess=pre,
        raw_features=stack.input_size,
        source=stack.source,
        framework=getattr(stack, "framework", "pytorch"),
        output_activation=stack.output_activation if head_mod is stack.head else None,
    )


def _row_shape(layer_rows: tuple, cell: str) -> str:
    w = layer_rows[0][0]
    units = w.w_hh.shape[0] // (4 if cell == "lstm" else 3)
    dirs = " bidirectional" if len(layer_rows[0]) == 2 else ""
    return f"{cell.upper()} {units} units{dirs}"
