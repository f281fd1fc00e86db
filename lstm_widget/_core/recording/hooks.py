"""Any layer of any torch model: what its submodules output (and receive) on one forward pass, by name.

``activations(model, x, layers=[...])`` runs ``model(x)`` once with forward hooks on the chosen submodules (named as
``model.named_modules()`` names them) and returns their outputs as named numpy arrays. Recurrent layers (``nn.LSTM``,
``nn.GRU``) are recorded with :func:`~lstm_widget.record` on exactly what they received, so they give h, c and the
gates at every step under the recording's own names. The hooks are always removed, also when the forward pass fails.

Names (the keys of the result; every one may also be asked for directly in ``layers``):

- ``"conv1"``: the output of submodule ``conv1``; a tuple / list output gives ``"name.0"``, ``"name.1"``, ... (nested:
  ``"name.1.0"``), a dict output ``"name.<key>"``; an ``nn.LSTMCell``'s ``(h, c)`` gives ``"cell.h"``, ``"cell.c"``.
- ``"fc1:input"``: what submodule ``fc1`` received (its first positional argument; a forward pre-hook). After a
  functional ``F.relu`` there is no module whose output is the post-ReLU value, but the next module's input is it.
- ``"lstm.h"``, ``"lstm.c"``, ``"lstm.i"``, ... for an ``nn.LSTM`` / ``nn.GRU`` submodule ``lstm``: the recorded
  quantity of every layer row, ``(B, L, T, units)`` — a :class:`~lstm_widget.Recording`'s ``rec["h"]`` with the batch
  in front — and ``"lstm.layer0.h"``, ``"lstm.layer0_reverse.h"``, ...: one layer row, ``(B, T, units)``, as
  ``rec["layer0.h"]``. An unbatched input ``(T, D)`` gives the same without the batch axis.
- A submodule called several times in one forward pass (a shared ``nn.ReLU``, a cell driven by a loop) gives one entry
  per call: ``"relu[0]"``, ``"relu[1]"``, ... (and ``"relu[1]:input"``, ``"cell[3].h"``, ...). Asking for one call
  by such a name returns that call alone, under the name asked for (also ``"relu[0]"`` for a module called once).
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn

from ..validate import check_model_device, check_tensor_device, to_numpy
from .recorder import record

__all__ = ["Activations", "activations", "call_order", "hook_names"]

INPUT = ":input"
_RECURRENT = (nn.LSTM, nn.GRU)


class Activations(dict):
    """A dict ``name -> numpy array`` (see :func:`activations`) whose repr lists names and shapes, not values."""

    def __repr__(self) -> str:
        if not self:
            return "Activations({})"
        width = max(len(k) for k in self)
        rows = [f"  {k:<{width}}  {tuple(v.shape)} {v.dtype}" for k, v in self.items()]
        return "Activations(\n" + "\n".join(rows) + "\n)"


def hook_names(model: nn.Module) -> list[str]:
    """The submodule names ``activations`` accepts for ``model`` (its ``named_modules()`` but the root), in order.
    Each also takes the suffix ``":input"``."""
    _check_model(model)
    return [n for n, _ in model.named_modules() if n]


def call_order(model: nn.Module, x) -> list[tuple[str, nn.Module, tuple]]:
    """``(name, module, output shape without the batch axis)`` of every leaf submodule call of one forward pass on
    ``x``, in the order of the calls (a tuple output: its first tensor's shape; a non-tensor output: ``()``)."""
    _check_model(model)
    args = _as_input(x, model)
    order: list = []
    handles = []

    def hook(name):
        def fn(module, _args, output):
            first = output
            while isinstance(first, (tuple, list)) and first:
                first = first[0]
            shape = tuple(first.shape[1:]) if isinstance(first, torch.Tensor) and first.dim() else ()
            order.append((name, module, shape))

        return fn

    try:
        for name, m in model.named_modules():
            if name and not any(True for _ in m.children()):
                handles.append(m.register_forward_hook(hook(name)))
        _run(model, args)
    finally:
        for h in handles:
            h.remove()
    return order


def _run(model: nn.Module, args: tuple, forward=None) -> None:
    try:
        with torch.no_grad():
            model(*args) if forward is None else forward(model, *args)
    except Exception as err:
        shapes = ", ".join(str(tuple(a.shape)) for a in args)
        raise ValueError(
            f"running {type(model).__name__} on an input of shape {shapes} failed ({type(err).__name__}: {err}); "
            "pass x as the model's forward expects it (with its batch axis)"
        ) from err


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    check_model_device(model)


def _close(name: str, names: list[str]) -> str:
    near = difflib.get_close_matches(name, names, n=4, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}? " if near else ". "
    shown = names if len(names) <= 30 else names[:30] + [f"... ({len(names) - 30} more)"]
    return f"{hint}The model's submodules are: {', '.join(shown)}"


_CALL = re.compile(r"^(?P<module>.+?)\[(?P<call>\d+)\](?P<rest>(\..*)?)$")


def _parse(request: str, modules: dict) -> tuple[str, bool, str, int | None]:
    """(submodule name, wants its input, the rest of the name, the call asked for) of one requested name: a submodule
    (``"conv1"``, rest ``""``), what it received (``"fc:input"``; a part of a tuple input: ``"lstm:input.0"``, rest
    ``".0"``), or a name inside a submodule's outputs (``"lstm.h"``, ``"split.0"``: the longest submodule name that
    starts it). Any of them may name one call of a submodule called several times (``"relu[1]"``,
    ``"relu[1]:input"``, ``"cell[3].h"``); the call is None otherwise."""
    base = request.partition(INPUT)[0]
    match = _CALL.match(base) if base not in modules else None
    if match and match["module"] in modules:
        if INPUT in request and match["rest"]:
            raise ValueError(
                f"{request!r}: a part of a call's output cannot be followed by {INPUT!r}; ask for "
                f"'{match['module']}[{match['call']}]{request[len(base) :]}'"
            )
        name, wants_input, rest, _ = _parse(match["module"] + match["rest"] + request[len(base) :], modules)
        return name, wants_input, rest, int(match["call"])
    if INPUT in request:
        base, _, rest = request.partition(INPUT)
        if rest and not rest.startswith("."):
            raise ValueError(
                f"{request!r}: after {INPUT!r} only a part of a tuple input may follow, as '{base}:input.0'"
            )
        wants_input = True
    else:
        base, rest, wants_input = request, "", False
    if base in modules:
        return base, wants_input, rest, None
    parts = base.split(".")
    for k in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in modules and not wants_input:
            return prefix, False, base[len(prefix) :], None
    if base == "":
        raise ValueError(
            "'' is the model itself, not one of its layers: its output is what model(x) returns"
            + _close(base, list(modules))
        )
    raise ValueError(f"the model has no submodule named {base!r}{_close(base, list(modules))}")


def _select(model: nn.Module, layers, names_filter) -> tuple[list[str], dict, dict]:
    """The requested names, and {submodule: wants output} / {submodule: wants input} in request order."""
    modules = {n: m for n, m in model.named_modules() if n}
    if layers is not None and names_filter is not None:
        raise TypeError("give layers= or names_filter=, not both")
    if names_filter is not None and not (callable(names_filter) or hasattr(names_filter, "__iter__")):
        raise TypeError(
            f"names_filter must be a str, a list of names or a callable name -> bool; got {type(names_filter).__name__}"
        )
    spec = layers if layers is not None else names_filter
    if callable(spec) and not isinstance(spec, str):
        requests = [n for n in modules if spec(n)]
        if not requests:
            raise ValueError(f"names_filter matched none of the model's {len(modules)} submodules: {list(modules)}")
    elif spec is None:  # everything that computes: the leaves (and the recurrent layers, which are leaves too)
        requests = [n for n, m in modules.items() if not any(True for _ in m.children())]
        if not requests:
            raise ValueError(f"{type(model).__name__} has no submodules to hook; activations needs a model with layers")
    else:
        if isinstance(spec, str):
            spec = [spec]
        elif not hasattr(spec, "__iter__"):
            raise TypeError(f"layers must be a str or a list of names; got {type(spec).__name__}")
        spec = list(spec)
        bad = [r for r in spec if not isinstance(r, str)]
        if bad:
            raise TypeError(f"layer names must be str; got {type(bad[0]).__name__} {bad[0]!r}")
        requests = list(dict.fromkeys(spec))
        if not requests:
            raise ValueError("the selection is empty: name at least one layer, e.g. layers=" + repr(list(modules)[:3]))
    outputs: dict[str, bool] = {}
    inputs: dict[str, bool] = {}
    for r in requests:
        name, wants_input, _rest, _call = _parse(r, modules)
        (inputs if wants_input else outputs)[name] = True
    return requests, outputs, inputs


def _as_input(x, model: nn.Module):
    """``x`` as the positional arguments of ``model``: a tensor, a numpy array (floats take the model's dtype and
    device) or a tuple of them."""
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32

    def one(a, where):
        if isinstance(a, torch.Tensor):
            check_tensor_device(a, where)
            return a.to(device) if a.device != device else a
        if isinstance(a, np.ndarray):
            if a.dtype == object:
                raise TypeError(f"{where} is a numpy array of objects; expected numbers")
            t = torch.from_numpy(np.ascontiguousarray(a))
            return t.to(device, dtype) if t.is_floating_point() else t.to(device)
        raise TypeError(
            f"{where} is a {type(a).__name__}; expected a torch.Tensor or numpy array (or a tuple of them for a model "
            "that takes several inputs)"
        )

    if isinstance(x, tuple):
        if not x:
            raise ValueError("x is an empty tuple; expected the model's input(s)")
        return tuple(one(a, f"x[{k}]") for k, a in enumerate(x))
    return (one(x, "x"),)


def _flatten(value, prefix: str, out: dict) -> None:
    """Tensors inside ``value`` (a tensor, tuple, list or dict, nested) → ``out[name]``; anything else is skipped."""
    if isinstance(value, torch.Tensor):
        # copied now: an in-place op later in the pass (a ReLU(inplace=True)) must not change what this layer gave
        out[prefix] = value.detach().clone()
    elif isinstance(value, (tuple, list)):
        for k, v in enumerate(value):
            _flatten(v, f"{prefix}.{k}", out)
    elif isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}", out)


def _plain(module: nn.Module, value, prefix: str) -> dict:
    out: dict = {}
    if isinstance(module, nn.LSTMCell) and isinstance(value, tuple) and len(value) == 2:
        value = {"h": value[0], "c": value[1]}
    _flatten(value, prefix, out)
    return out


def _recurrent(module: nn.Module, args: tuple, name: str) -> dict:
    """An nn.LSTM / nn.GRU's call recorded with ``record`` on exactly the input it received: {".h": ..., ".layer0.h":
    ..., ...}."""
    kind = type(module).__name__
    z = args[0] if args else None
    if not isinstance(z, torch.Tensor):
        raise TypeError(
            f"{name!r} ({kind}) received a {type(z).__name__} (packed sequences?); activations records a recurrent "
            "layer that receives a plain tensor — pad the batch, or record the layer itself with lstm_widget.record"
        )
    hx = args[1] if len(args) > 1 else None
    states = [] if hx is None else (list(hx) if isinstance(hx, (tuple, list)) else [hx])
    if any(isinstance(s, torch.Tensor) and bool((s != 0).any()) for s in states):
        raise ValueError(
            f"{name!r} ({kind}) was called with a non-zero initial state; activations records recurrent layers "
            "that start from zeros (hx=None) only"
        )
    batched = z.dim() == 3
    if batched:
        seqs = list(z.float().cpu().numpy()) if module.batch_first else list(z.transpose(0, 1).float().cpu().numpy())
    else:
        seqs = [z.float().cpu().numpy()]
    recs = record(module, seqs)
    first = recs[0]
    out: dict = {}
    for q in first.quantities:
        out[f".{q}"] = np.stack([r[q] for r in recs])
    for layer in first.layer_names:
        for q in first.quantities:
            out[f".{layer}.{q}"] = np.stack([r[f"{layer}.{q}"] for r in recs])
    if not batched:
        out = {k: v[0] for k, v in out.items()}
    return out


def activations(
    model: nn.Module,
    x,
    layers: str | Iterable[str] | None = None,
    *,
    names_filter: str | Iterable[str] | Callable[[str], bool] | None = None,
    forward: Callable | None = None,
) -> Activations:
    """Run ``model(x)`` once and return what the chosen submodules output (or received), as named numpy arrays.

    ``layers``: submodule names as ``model.named_modules()`` gives them (``"conv1"``, ``"features.3"``), each
    optionally with the suffix ``":input"`` for what that submodule received, or a name inside a layer's outputs
    (``"lstm.h"``, ``"lstm.layer0.c"``). ``names_filter`` (instead of ``layers``, as TransformerLens's): a name, a list
    of names, or a callable ``name -> bool`` applied to every submodule name (outputs only; ask for inputs by name).
    With neither, every leaf submodule's output is returned.

    ``x``: the model's input — a tensor, or a numpy array (floating-point arrays take the model's dtype and device) —
    or a tuple of them for a model with several inputs. It is passed as is (keep its batch axis). The pass runs under
    ``torch.no_grad()`` in the model's current mode (call ``model.eval()`` first for inference behaviour).
    ``forward(model, x) -> output`` calls the model instead of ``model(x)`` (a forward that also takes its hidden
    state: ``forward=lambda m, x: m(x, m.init_hidden(x.shape[1]))``).

    Returns an :class:`Activations` dict: submodule outputs (tuple outputs as ``"name.0"``, ...), inputs as
    ``"name:input"``, and for an ``nn.LSTM`` / ``nn.GRU`` the recording of every gate and state
    (``"lstm.h"`` (B, L, T, units), ``"lstm.layer0.h"`` (B, T, units), ... — see the module docstring), in the order
    requested. Raises ValueError for an unknown name (with close matches), an empty selection, a requested layer that
    the forward pass never called, or a forward pass that fails on ``x``; TypeError for an ``x`` that is not an array.
    """
    _check_model(model)
    if forward is not None and not callable(forward):
        raise TypeError(f"forward must be a callable (model, x) -> output; got {type(forward).__name__}")
    requests, want_out, want_in = _select(model, layers, names_filter)
    args = _as_input(x, model)
    explicit = layers is not None or (names_filter is not None and not callable(names_filter))

    calls: dict[str, list] = {}  # module name -> one entry per call: {"out": ..., "in": ..., "args": ...}
    handles = []

    def slot(name: str) -> dict:
        per = calls.setdefault(name, [])
        if not per or "done" in per[-1]:
            per.append({})
        return per[-1]

    def pre_hook(name: str, module: nn.Module):
        def hook(_module, hargs):
            entry = slot(name)
            if name in want_in:
                entry["in"] = {}  # positional parts as ".0", ".1.0", ...: (h, c) names only for a cell's output
                _flatten(hargs[0] if len(hargs) == 1 else tuple(hargs), "", entry["in"])
            if isinstance(module, _RECURRENT) and name in want_out:
                entry["args"] = tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in hargs)

        return hook

    def post_hook(name: str, module: nn.Module):
        def hook(_module, _hargs, output):
            entry = slot(name)
            if name in want_out and not isinstance(module, _RECURRENT):
                entry["out"] = _plain(module, output, "")
            entry["done"] = True

        return hook

    modules = dict(model.named_modules())
    hooked = list(dict.fromkeys([*want_out, *want_in]))
    try:
        for name in hooked:
            module = modules[name]
            handles.append(module.register_forward_pre_hook(pre_hook(name, module)))
            handles.append(module.register_forward_hook(post_hook(name, module)))
        _run(model, args, forward)
    finally:
        for h in handles:
            h.remove()

    missing = [n for n in hooked if n not in calls]
    if missing and (explicit or len(missing) == len(hooked)):
        raise ValueError(
            f"the forward pass never called {', '.join(repr(n) for n in missing)}, so there is nothing to return "
            "for it; the selected layers it called: " + (", ".join(calls) or "none")
        )

    # (module, is input, rest of the name after the module, key, value) for everything captured
    items = []
    for name in hooked:
        per = calls.get(name, [])
        for k, entry in enumerate(per):
            tag = name if len(per) == 1 else f"{name}[{k}]"
            if name in want_out:
                got = _recurrent(modules[name], entry["args"], name) if "args" in entry else entry.get("out", {})
                items += [(name, k, False, rest, tag + rest, v) for rest, v in got.items()]
            if name in want_in:
                items += [(name, k, True, rest, tag + INPUT + rest, v) for rest, v in entry.get("in", {}).items()]

    result = Activations()
    if not explicit:
        for _name, _k, is_input, _rest, key, value in items:
            if not is_input:
                result[key] = to_numpy(value)
        return result
    for r in requests:
        name, is_input, sub, call = _parse(r, modules)
        n_calls = len(calls.get(name, []))
        if call is not None and call >= n_calls:
            raise ValueError(
                f"{r!r} asks for call {call} of {name!r}, which the forward pass called {n_calls} "
                f"time{'s' if n_calls != 1 else ''} (calls 0..{n_calls - 1})"
            )
        found = [
            (key if call is None else f"{name}[{call}]" + (INPUT if inp else "") + rest, value)
            for n, k, inp, rest, key, value in items
            if n == name
            and inp == is_input
            and (rest == sub or rest.startswith(sub + "."))
            and (call is None or k == call)
        ]
        if not found:
            given = [key for n, _k, inp, _r, key, _v in items if n == name and inp == is_input]
            raise ValueError(f"{name!r} gave no output named {r!r}; it gave: {', '.join(given) or 'nothing'}")
        for key, value in found:
            if key not in result:
                result[key] = to_numpy(value)
    return result
