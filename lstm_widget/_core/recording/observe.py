"""Recording by observation: run the model's own forward once and record every recurrent module it calls.

Forward hooks on every ``nn.LSTM`` / ``nn.GRU`` (whole sequences, plain or packed, called once or several times) and
every ``nn.LSTMCell`` / ``nn.GRUCell`` (called in the model's own loop) keep what each call received — its input and
its initial or previous state — and what it returned. Each module is then recorded from exactly that: a whole
sequence's last layer takes h from the module's output (the layers below it run again in torch's kernel), the gates
come in one GEMM and c from the scan; cells per call, their calls concatenated over time. Where the batch is wide
enough, the fused pass stands in for an ``nn.LSTM``'s kernel while it is observed (stand_in.py): one pass that keeps
every gate as it goes, checked against torch's kernel at sampled steps. What is recorded must
satisfy the cell's equations against what the module returned (1e-5) or the recording is refused. Per-step outputs through a head are kept only when verified against what the
model itself returned; otherwise ``outputs`` is None and ``outputs_note`` says why.

The model runs in eval mode under no_grad; every submodule's mode is restored afterwards, also on error.
"""

from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from ..model.adapters import (
    _AUTO,
    _RECURRENT,
    RecurrentStack,
    _capture_input,
    _probe_width,
    _resolve,
    no_recurrent_error,
)
from ..model.adapters import _spec as _rows_spec
from ..model.cells import gru_gates, lstm_gates
from ..model.rows import _cell_rows, _rnn_rows
from ..model.run import _previous, initial_state, layer_outputs, row_quantities
from ..validate import check_model_device, check_model_finite, check_sequence, check_tensor_device, to_numpy
from . import recorder
from .recorder import Recording, Stage, resolve_task, task_outputs
from .stand_in import StandIn, check_transitions

_SEQUENCE = (nn.LSTM, nn.GRU)
_CELLS = (nn.LSTMCell, nn.GRUCell)
#: What a recomputed state may differ from what the module returned (absolute, and relative to its size).
TOLERANCE = 1e-5
_ACTIVATIONS = {
    None: lambda p: p,
    "softmax": lambda p: torch.softmax(p, dim=-1),
    "log_softmax": lambda p: torch.log_softmax(p, dim=-1),
    "sigmoid": torch.sigmoid,
}


class RecordingMismatch(RuntimeError):
    """What a recurrent module returned differs from what recomputing it from its inputs gives."""


def record(model, x, *, lstm=None, head=_AUTO, task="auto", forward=None, lengths=None, interventions=None, _spec=None):
    """Record what ``model`` does on ``x``: one sequence → a :class:`Recording`; several → a list of Recordings.

    A model that contains recurrent modules is recorded by running its own forward once (eval mode, no_grad; its
    mode restored afterwards) with hooks on every ``nn.LSTM``, ``nn.GRU``, ``nn.LSTMCell`` and ``nn.GRUCell`` it
    calls: each is recomputed from exactly what it received (input, initial / previous state), and what is recorded
    equals what it returned (checked to 1e-5; an error otherwise). Several modules are recorded in call order, their
    rows named after them (``encoder.layer0``, ``decoder.layer0``; a cell by its name alone: ``lstm1``); modules with
    different numbers of steps follow each other on one timeline (``rec.stages``). ``lstm=``: a module or its name,
    or a list of them — record only those.

    ``x``: one sequence (T, D) of floats — or, for a model with an ``nn.Embedding``, integer ids (T,) or (T, 1) — a
    list of sequences (any lengths), or a batch: (B, T, D) floats or (B, T) ids, padded, with ``lengths=`` (B,) when
    the sequences are shorter than T. Numpy arrays or torch tensors. Sequences of equal length run as one batch; the
    batch is passed in the layout of the model's first recurrent module ((T, B, ...) unless it is ``batch_first``;
    batch first for cells). ``forward(model, batch) -> output`` calls the model instead of ``model(batch)`` (a forward
    that takes a hidden state: ``forward=lambda m, b: m(b, m.init_hidden(b.shape[1]))``); a ``forward(model, batch,
    lengths)`` taking three arguments gets the (B,) lengths and runs the whole padded batch at once (a model that
    packs its batch: each sequence is recorded at its own length). An output that is a tuple ``(output, hidden)``
    counts by its first element (the other tensors it returns are tried after it: a model that returns several heads'
    outputs).

    ``outputs`` (T, k): the head's raw output at every step, kept only when verified — a head (``head=``, a module or
    its name; by default every ``nn.Linear`` that takes the last recurrent module's output, widened to the
    ``nn.Sequential`` it starts) applied to the recorded states reproduces what the model returned (1e-5), either at
    the last step (a classifier) or at every step (a model that predicts per step), directly or through a softmax,
    log-softmax or sigmoid. Else ``outputs`` is None and ``rec.outputs_note`` says why in one line. ``task``: "auto"
    (a squashed output or several outputs → classification, one raw output → regression), "classification" or
    "regression"; ``logits`` and ``probs`` exist for classification only.

    A bare ``nn.LSTM`` / ``nn.GRU`` / cell or a :class:`RecurrentStack` is recorded from its weights, as is any model
    under ``interventions`` (one :class:`Intervention` or a list: the sequence is re-run with the chosen units of h or
    c zeroed, scaled or clamped; see ``Intervention``), which needs the one-recurrent-module structure.
    """
    from_weights = dict(lstm=lstm, head=head, interventions=interventions, task=task, forward=forward)
    if _spec is not None or model is None:
        return _record_from_weights(model, x, lengths, _spec=_spec, **from_weights)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    check_model_device(model)
    check_model_finite(model)
    resolve_task(task, 0)
    if forward is not None and not callable(forward):
        raise TypeError(f"forward must be a callable (model, batch) -> output; got {type(forward).__name__}")
    described = isinstance(model, RecurrentStack) or (isinstance(model, _RECURRENT) and forward is None)
    if described or interventions is not None:
        return _record_from_weights(model, x, lengths, **from_weights)
    modules = _selected(model, lstm)
    embedding = _embedding(model)
    seqs, was_list = _sequences(x, lengths, embedding, model)
    if embedding is None:
        width = _expected_width(model, modules) if forward is None else None
        what = (lambda k: f"sequence {k}") if was_list else (lambda k: "the sequence")
        if was_list and not seqs:
            raise ValueError("got an empty list of sequences; expected at least one (steps, features) array")
        seqs = [check_sequence(s, width, what(k)) for k, s in enumerate(seqs)]
    heads = _head_candidates(model, modules, head)
    groups = [list(range(len(seqs)))] if _takes_lengths(forward) else _by_length(seqs)
    out: list = [None] * len(seqs)
    for idx in groups:
        for k, rec in zip(
            idx, _record_group(model, [seqs[k] for k in idx], modules, heads, task, forward), strict=True
        ):
            out[k] = rec
    return out if was_list else out[0]


# --- what the model takes ----------------------------------------------------------------------------------------


def _record_from_weights(model, x, lengths, **kw):
    """Bare recurrent modules, imported stacks, a prepared spec and interventions: the recurrence is run from the
    module's weights (``recorder.record``) on float sequences."""
    seqs, was_list = _float_sequences(x, lengths)
    return recorder.record(model, seqs if was_list else seqs[0], **kw)


def _embedding(model: nn.Module):
    """(name, module) of the model's first nn.Embedding, or None: a model with one takes token ids."""
    for name, m in model.named_modules():
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            return name or type(model).__name__, m
    return None


def _to_numpy(a, what: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        check_tensor_device(a, what)
        return to_numpy(a)
    if isinstance(a, np.ndarray):
        return a
    raise TypeError(f"{what} is a {type(a).__name__}; expected a numpy array or torch tensor")


def _kind_error(model_name: str, embedding, got_ints: bool, what: str, dtype) -> TypeError:
    if got_ints:
        return TypeError(
            f"{what} holds {'booleans' if np.dtype(dtype).kind == 'b' else 'integers'} ({dtype}); {model_name} expects float features per step (it has no "
            "nn.Embedding): pass float arrays shaped (steps, features), e.g. x.astype('float32')"
        )
    name, emb = embedding
    return TypeError(
        f"{what} holds floats ({dtype}); {model_name} expects token ids (its {name!r} is an "
        f"{type(emb).__name__} of {emb.num_embeddings} tokens): pass integer ids shaped (steps,) — a numpy int array "
        "or a torch.long tensor — a list of them, or a padded (batch, steps) array with lengths="
    )


def _sequences(x, lengths, embedding, model) -> tuple[list[np.ndarray], bool]:
    """The sequences in ``x`` (one, a list, or a padded batch with ``lengths``) as float32 (T, D) or int64 (T,)
    arrays, checked against what the model takes (ids when it has an embedding)."""
    name = type(model).__name__
    what = (
        "sequence 0" if isinstance(x, (list, tuple)) else "the batch of sequences" if _ndim(x) == 3 else "the sequence"
    )
    if embedding is None:
        ints = _first_dtype(x)
        if ints is not None and ints.kind in "iub":
            raise _kind_error(name, None, True, what, ints)
        return _float_sequences(x, lengths)
    ids = _first_dtype(x)
    if ids is not None and ids.kind not in "iu":
        raise _kind_error(name, embedding, False, what, ids)
    if isinstance(x, (list, tuple)):
        if lengths is not None:
            raise TypeError("lengths= goes with a padded batch (B, T); a list of sequences has its own lengths")
        if not x:
            raise ValueError("got an empty list of sequences; expected at least one array of token ids")
        return [
            _id_sequence(_to_numpy(s, f"sequence {k}"), f"sequence {k}", embedding, name) for k, s in enumerate(x)
        ], True
    a = _to_numpy(x, "x")
    if a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1 and lengths is None):
        if lengths is not None:
            raise TypeError("lengths= goes with a padded batch (B, T); x is one sequence")
        return [_id_sequence(a, "the sequence", embedding, name)], False
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim != 2:
        raise ValueError(f"x has shape {a.shape}; token ids come as (steps,), (steps, 1) or a batch (batch, steps)")
    return [_id_sequence(s, f"sequence {k}", embedding, name) for k, s in enumerate(_unpad(a, lengths))], True


def _ndim(x) -> int | None:
    return getattr(x, "ndim", None)


def _first_dtype(x):
    first = x[0] if isinstance(x, (list, tuple)) and x else x
    if isinstance(first, torch.Tensor):
        return np.dtype("float32") if first.is_floating_point() else _to_numpy(first[:0], "x").dtype
    return first.dtype if isinstance(first, np.ndarray) else None


def _id_sequence(a: np.ndarray, what: str, embedding, model_name: str) -> np.ndarray:
    if a.dtype.kind not in "iu":
        raise _kind_error(model_name, embedding, False, what, a.dtype)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{what} has shape {a.shape}; expected token ids shaped (steps,) or (steps, 1)")
    if a.shape[0] == 0:
        raise ValueError(f"{what} is empty (0 steps); expected at least one token")
    n = embedding[1].num_embeddings
    bad = (a < 0) | (a >= n)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(
            f"{what} holds the id {int(a[k])} at step {k}; the model's {embedding[0]!r} takes ids 0..{n - 1}"
        )
    return np.ascontiguousarray(a, dtype=np.int64)


def _unpad(a: np.ndarray, lengths) -> list[np.ndarray]:
    """The rows of a padded batch (B, T, ...) cut to ``lengths`` (all T when None)."""
    B, T = a.shape[:2]
    if lengths is None:
        return [a[b] for b in range(B)]
    n = _to_numpy(lengths, "lengths") if not isinstance(lengths, (list, tuple)) else np.asarray(lengths)
    if n.ndim != 1 or n.shape[0] != B or n.dtype.kind not in "iu":
        raise ValueError(f"lengths must be {B} integers, one per sequence of the batch; got {n.tolist()!r}")
    if (n < 1).any() or (n > T).any():
        raise ValueError(f"lengths must lie in 1..{T} (the batch's steps); got {n.tolist()}")
    return [a[b, : int(n[b])] for b in range(B)]


def _float_sequences(x, lengths) -> tuple[list, bool]:
    """Float sequences from one (T, D) sequence, a list of them, or a (B, T, D) batch with ``lengths=``."""
    if isinstance(x, (list, tuple)):
        if lengths is not None:
            raise TypeError("lengths= goes with a padded batch (B, T, D); a list of sequences has its own lengths")
        return list(x), True
    if hasattr(x, "ndim") and x.ndim == 3:
        a = _to_numpy(x, "x")
        if a.dtype.kind != "f":
            raise TypeError(f"the batch of sequences has dtype {a.dtype}; expected floating point (float32 or float64)")
        return _unpad(a, lengths), True
    if lengths is not None:
        raise TypeError("lengths= goes with a padded batch (B, T, D); x is one sequence")
    return [x], False


def _by_length(seqs) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for k, s in enumerate(seqs):
        groups.setdefault(s.shape[0], []).append(k)
    return list(groups.values())


def _takes_lengths(forward) -> bool:
    """Whether ``forward`` takes (model, batch, lengths): three positional parameters without defaults."""
    if forward is None:
        return False
    try:
        params = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return len(required) >= 3


# --- which modules, which head -----------------------------------------------------------------------------------


def _selected(model: nn.Module, lstm) -> dict:
    """{module: name} of the recurrent modules to record: every one, or those named by ``lstm=``."""
    found = {m: n for n, m in model.named_modules() if isinstance(m, _RECURRENT)}
    if not found:
        raise no_recurrent_error(model)
    if lstm is None:
        return found
    chosen = {}
    for ref in lstm if isinstance(lstm, (list, tuple)) else [lstm]:
        name, sub = _resolve(model, ref, "lstm")
        if not isinstance(sub, _RECURRENT):
            raise TypeError(
                f"{name!r} is a {type(sub).__name__}; expected an nn.LSTM, nn.GRU, nn.LSTMCell or nn.GRUCell"
            )
        chosen[sub] = name
    return chosen


def _head_candidates(model: nn.Module, modules: dict, head) -> list | None:
    """[(name, module)] to try as the head; None for head=None. By default every nn.Linear outside the recurrent
    modules, the nn.Sequential it starts before the Linear itself."""
    if head is None:
        return None
    if head is not _AUTO:
        return [_resolve(model, head, "head")]
    named = dict(model.named_modules())
    inside = [n + "." for m, n in modules.items() if n]
    out = []
    for name, m in named.items():
        if not isinstance(m, nn.Linear) or any(name.startswith(p) for p in inside):
            continue
        wide = name
        while "." in wide:
            parent, child = wide.rsplit(".", 1)
            if isinstance(named[parent], nn.Sequential) and child == next(iter(named[parent]._modules)):
                wide = parent
            else:
                break
        if wide != name:
            out.append((wide, named[wide]))
        out.append((name, m))
    return out


def _expected_width(model: nn.Module, modules: dict) -> int | None:
    """Features per step the model takes, when its first recurrent module is an nn.LSTM / nn.GRU whose input keeps
    the width of the model's (probed on one zero step); None when that cannot be told."""
    first = next(iter(modules))
    if len(modules) != 1 or not isinstance(first, _SEQUENCE):
        return None
    return _probe_width(_capture_input(model, first), first.input_size)


def _layout(model: nn.Module) -> bool:
    """Whether the model takes its batch time first: its first recurrent module is an nn.LSTM / nn.GRU that is not
    batch_first."""
    for _, m in model.named_modules():
        if isinstance(m, _SEQUENCE):
            return not m.batch_first
        if isinstance(m, _CELLS):
            return False
    return False


# --- running the model with hooks --------------------------------------------------------------------------------


def _detached(v):
    if isinstance(v, torch.Tensor):
        return v.detach().clone()
    if isinstance(v, PackedSequence):
        return v._replace(data=v.data.detach().clone())
    if isinstance(v, (tuple, list)):
        return type(v)(_detached(a) for a in v)
    return v


def observe(model: nn.Module, modules: dict, call):
    """Run ``call()`` (the model's forward) in eval mode under no_grad with hooks on ``modules``; return (its output,
    [(module, input, hx, output, fused)] in call order; ``fused``: what the fused pass recorded where it stood in for
    the module's kernel (stand_in.py), else None). Hooks removed and every submodule's mode restored, also on error."""
    calls = []
    stand_in = StandIn(modules)

    def hook(module, args, kwargs, output):
        inp = args[0] if args else kwargs.get("input")
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        fused = stand_in.take(module)  # what the fused pass recorded, when it stood in for the module's kernel
        calls.append((module, _detached(inp), _detached(hx), output if fused else _detached(output), fused))

    modes = [(m, m.training) for m in model.modules()]
    handles = [m.register_forward_hook(hook, with_kwargs=True) for m in modules]
    model.eval()
    try:
        with torch.no_grad(), stand_in:
            out = call()
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    return out, calls


def _run(model, batch, lengths, modules, forward):
    name = type(model).__name__
    if forward is None:
        call = lambda: model(batch)  # noqa: E731
    elif lengths is not None:
        call = lambda: forward(model, batch, lengths)  # noqa: E731
    else:
        call = lambda: forward(model, batch)  # noqa: E731
    try:
        out, calls = observe(model, modules, call)
    except RecordingMismatch:
        raise
    except Exception as err:
        how = "forward(model, batch)" if forward is not None else f"{name}(batch)"
        raise ValueError(
            f"running {how} on a batch of shape {tuple(batch.shape)} ({batch.dtype}, "
            f"{'time first' if _layout(model) else 'batch first'}) failed ({type(err).__name__}: {err}); pass "
            "forward=lambda model, batch: ... to call the model as it expects (e.g. with its hidden state)"
        ) from err
    if not calls:
        names = ", ".join(repr(n) for n in modules.values())
        raise ValueError(f"{name}'s forward never called {names}; nothing to record")
    return out, calls


# --- recomputing each module from what it received ---------------------------------------------------------------


def _check(module_name: str, what: str, got: torch.Tensor, expected: torch.Tensor) -> None:
    expected = expected.to(got.dtype)
    diff = torch.sub(got, expected).abs_()
    if not bool(diff.le_(expected.abs().mul_(TOLERANCE).add_(TOLERANCE)).all()):
        diff = (got - expected).abs()
        raise RecordingMismatch(
            f"recomputing {module_name!r} from what it received gives {what} that differ from what it returned by "
            f"{float(diff.max()):.3g} (more than {TOLERANCE:g}); it cannot be recorded truthfully (a subclass with "
            "its own forward?)"
        )


def _states(hx, cell: str, unbatched: bool):
    """(h0, c0) of an nn.LSTM / nn.GRU call as (layers·dirs, B, units) tensors, or None each."""
    if hx is None:
        return None, None
    h0, c0 = (hx[0], hx[1]) if cell == "lstm" else (hx, None)
    if unbatched:
        h0, c0 = h0[:, None], (None if c0 is None else c0[:, None])
    return h0, c0


def _observed_rows(name: str, m: nn.Module, spec, z: torch.Tensor, got: torch.Tensor) -> dict:
    """Every quantity (B, L, T, units) of an nn.LSTM / nn.GRU call on ``z`` (B, T, D) that returned ``got``
    (B, T, dirs·P), reusing what the module computed: the last layer's hidden states are its output, so only the
    layers below it run again (torch's kernel, one call per layer: their states are not returned). Every row's gates
    come from its input and its previous hidden states in one GEMM, an LSTM's c from the scan; the last layer's
    states are then checked at every step against the cell's equations (h = o·tanh(c), projected if the module
    projects; a GRU's h = (1 − z)·n + z·h_prev), so what is recorded is what the module computed."""
    cell, dirs = spec.cell, len(spec.layers[0])
    per_q = {q: [] for q in spec.quantities}
    inp = z
    for k, layer in enumerate(spec.layers):
        if k < len(spec.layers) - 1:
            out, hs = layer_outputs(layer, cell, inp)
        else:
            P = got.shape[-1] // dirs
            out, hs = got, [got[..., d * P : (d + 1) * P] for d in range(dirs)]
        for w, h in zip(layer, hs, strict=True):
            values = row_quantities(w, cell, inp, h)
            if k == len(spec.layers) - 1:
                _check(name, "outputs", _cell_output(w, cell, values, inp), h)
            for q in spec.quantities:
                per_q[q].append(values[q])
        inp = out
    return {q: v[0][:, None] if len(v) == 1 else torch.stack(v, dim=1) for q, v in per_q.items()}  # one row: a view


def _cell_output(w, cell: str, values: dict, inp: torch.Tensor) -> torch.Tensor:
    """The hidden states (B, T, P) the cell's equations give from the recorded gates (and c): what the module must
    have returned."""
    if cell == "lstm":
        h = torch.tanh(values["c"]).mul_(values["o"])
        return h @ w.w_hr.T if w.w_hr is not None else h
    h0, _ = initial_state(w, cell, inp.shape[0], inp)
    h_prev = _previous(values["h"], h0, w.reverse)
    return (1 - values["z"]) * values["n"] + values["z"] * h_prev


def _sequence_call(name: str, m: nn.Module, inp, hx, output, fused=None) -> list[dict]:
    """One call of an nn.LSTM / nn.GRU recorded from what it received and returned (:func:`_observed_rows`): per
    batch element {quantity: (L, T_b, units)} with the received input ``"x"`` (T_b, D) and the last layer's output
    ``"out"`` (T_b, F); the final states checked against what it returned. ``fused``: what the fused pass recorded
    when it made the call (stand_in.py), checked against torch's kernel at sampled steps instead."""
    cell = "lstm" if isinstance(m, nn.LSTM) else "gru"
    out, hn = output
    if fused is not None:
        layers, z, res = fused
        check_transitions(name, layers, z, res, _check)
        got = out[None] if z.shape[0] == 1 and out.dim() == 2 else (out if m.batch_first else out.transpose(0, 1))
        return [dict({q: v[b] for q, v in res.items()}, x=z[b], out=got[b]) for b in range(z.shape[0])]
    unbatched = False
    if isinstance(inp, PackedSequence):
        z, n = pad_packed_sequence(inp, batch_first=True)
        got, _ = pad_packed_sequence(out, batch_first=True)
        lengths = n.tolist()
    else:
        unbatched = inp.dim() == 2
        z = inp[None] if unbatched else (inp if m.batch_first else inp.transpose(0, 1))
        got = out[None] if unbatched else (out if m.batch_first else out.transpose(0, 1))
        lengths = [z.shape[1]] * z.shape[0]
    h0, c0 = _states(hx, cell, unbatched)
    hn, cn = _states(hn, cell, unbatched)
    rows = _rnn_rows(m)
    dirs = len(rows[0])
    result: list = [None] * z.shape[0]
    whole = len(set(lengths)) == 1
    for T, idx in _length_groups(lengths).items():
        sel = torch.tensor(idx, device=z.device)
        pick = (lambda t: t) if whole else (lambda t, sel=sel: t.index_select(0, sel))
        layers = tuple(
            tuple(
                replace(
                    w,
                    h0=None if h0 is None else pick(h0[k * dirs + d]),
                    c0=None if c0 is None else pick(c0[k * dirs + d]),
                )
                for d, w in enumerate(row)
            )
            for k, row in enumerate(rows)
        )
        spec = _rows_spec(layers, cell, source=type(m).__name__)
        zb = pick(z)[:, :T]
        gb = pick(got)[:, :T]
        res = _observed_rows(name, m, spec, zb, gb)  # (B', L, T, units)
        L = res["h"].shape[1]
        for r in range(L):
            step = 0 if rows[r // dirs][r % dirs].reverse else T - 1
            _check(name, "final h", res["h"][:, r, step], pick(hn[r]))
            if cell == "lstm":
                _check(name, "final c", res["c"][:, r, step], pick(cn[r]))
        for j, b in enumerate(idx):
            values = {q: v[j] for q, v in res.items()}
            values["x"] = zb[j]
            values["out"] = gb[j]
            result[b] = values
    return result


def _length_groups(lengths) -> dict:
    groups: dict[int, list[int]] = {}
    for b, n in enumerate(lengths):
        groups.setdefault(int(n), []).append(b)
    return groups


def _cell_calls(name: str, m: nn.Module, calls) -> list[dict]:
    """Every call of an nn.LSTMCell / nn.GRUCell, concatenated over time and recomputed from each call's input and
    previous state: per batch element {quantity: (1, T, units), "x": (T, D), "out": (T, H)}, checked."""
    cell = "lstm" if isinstance(m, nn.LSTMCell) else "gru"
    xs, hs, cs, h_out, c_out = [], [], [], [], []
    for inp, hx, output, _ in calls:  # a cell's calls are never fused
        unbatched = inp.dim() == 1
        x = inp[None] if unbatched else inp
        zeros = x.new_zeros(x.shape[0], m.hidden_size)
        if cell == "lstm":
            h, c = (zeros, zeros) if hx is None else hx
            ho, co = output
        else:
            h, c, ho, co = (zeros if hx is None else hx), None, output, None
        fix = (lambda t: t[None]) if unbatched else (lambda t: t)
        xs.append(x)
        hs.append(fix(h))
        h_out.append(fix(ho))
        if cell == "lstm":
            cs.append(fix(c))
            c_out.append(fix(co))
    if len({x.shape[0] for x in xs}) > 1:
        raise ValueError(f"{name!r} was called with batches of different sizes; record needs one batch size per call")
    X, Hp = torch.stack(xs, 1), torch.stack(hs, 1)
    ((w,),) = _cell_rows(m)
    if cell == "lstm":
        q = lstm_gates(w, X, Hp)
        q["c"] = q["f"] * torch.stack(cs, 1) + q["i"] * q["g"]
        q["h"] = q["o"] * torch.tanh(q["c"])
        _check(name, "c", q["c"], torch.stack(c_out, 1))
    else:
        q = gru_gates(w, X, Hp)
        q["h"] = (1 - q["z"]) * q["n"] + q["z"] * Hp
    _check(name, "h", q["h"], torch.stack(h_out, 1))
    return [dict({k: v[b][None] for k, v in q.items()}, x=X[b], out=q["h"][b]) for b in range(X.shape[0])]


def _module_results(calls, modules: dict, B: int) -> list[tuple]:
    """[(name, module, per batch element values)] in order of first call, each module's calls concatenated over
    time."""
    order: dict = {}
    for m, inp, hx, out, fused in calls:
        order.setdefault(m, []).append((inp, hx, out, fused))
    results = []
    for m, its in order.items():
        name = modules[m]
        if isinstance(m, _CELLS):
            per = _cell_calls(name, m, its)
        else:
            parts = [_sequence_call(name, m, *c) for c in its]
            per = (
                parts[0]  # one call: its values as they are, no copy
                if len(parts) == 1
                else [
                    {k: torch.cat([p[b][k] for p in parts], dim=-2) for k in parts[0][b]} for b in range(len(parts[0]))
                ]
            )
        if len(per) != B:
            raise ValueError(
                f"{name!r} received a batch of {len(per)}, but the model was given {B} sequences; record needs a model "
                "that keeps its batch (one sequence per batch row)"
            )
        results.append((name, m, per))
    return results


# --- heads -------------------------------------------------------------------------------------------------------


def _views(Y: torch.Tensor, lengths: list[int]) -> list[tuple[str, object]]:
    """Ways to read the model's output ``Y`` per batch element: ("last", b -> (k,)) or ("steps", b -> (T_b, k))."""
    B, T = len(lengths), max(lengths)
    v = []
    if Y.dim() == 1 and B == 1:
        v.append(("last", lambda b: Y))
    if Y.dim() == 2 and Y.shape[0] == B:
        v.append(("last", lambda b: Y[b]))
    if Y.dim() == 2 and tuple(Y.shape) == (B, T):
        v.append(("steps", lambda b: Y[b, : lengths[b], None]))
    if Y.dim() == 2 and tuple(Y.shape) == (T, B):
        v.append(("steps", lambda b: Y[: lengths[b], b, None]))
    if Y.dim() == 3 and tuple(Y.shape[:2]) == (B, T):
        v.append(("steps", lambda b: Y[b, : lengths[b]]))
    if Y.dim() == 3 and tuple(Y.shape[:2]) == (T, B):
        v.append(("steps", lambda b: Y[: lengths[b], b]))
    if Y.dim() == 2 and Y.shape[0] == T * B and B > 1 and len(set(lengths)) == 1:
        v.append(("steps", lambda b: Y.reshape(T, B, -1)[:, b]))
        v.append(("steps", lambda b: Y.reshape(B, T, -1)[b]))
    if Y.dim() == 2 and Y.shape[0] == T and B == 1:
        v.append(("steps", lambda b: Y))
    return v


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(((a - b.to(a.dtype)).abs() <= TOLERANCE * (1 + b.abs())).all())


def _verified_outputs(heads, Y, last_name: str, states: list) -> tuple:
    """(per element raw head outputs (T_b, k), activation, note) when a head on the last module's states reproduces
    ``Y``; else (None, None, the reason)."""
    where = last_name or "the recurrent module"
    if heads is None:
        return None, None, "per-step outputs not shown: head=None"
    Ys = _returned(Y)
    if not Ys:
        return None, None, f"per-step outputs not shown: the model returned a {type(Y).__name__}, not a float tensor"
    F = states[0].shape[-1]
    usable = [(n, h) for n, h in heads if not isinstance(h, nn.Linear) or h.in_features == F]
    if not usable:
        return (
            None,
            None,
            f"per-step outputs not shown: no nn.Linear takes {where}'s {F} features (name one with head=)",
        )
    lengths = [s.shape[0] for s in states]
    views = [v for y in Ys for v in _views(y, lengths)]
    for hname, h in usable:
        try:
            with torch.no_grad():
                P = [h(s) for s in states]
        except Exception:  # not a head for these states
            continue
        for kind, view in views:
            for act, fn in _ACTIVATIONS.items():
                if all(_close(fn(p[-1] if kind == "last" else p), view(b)) for b, p in enumerate(P)):
                    through = f" through {act}" if act else ""
                    if kind == "last":
                        note = (
                            f"outputs: {hname!r} on {where}'s state at every step; at the last step it reproduces "
                            f"the model's output{through}"
                        )
                    else:
                        note = (
                            f"outputs: {hname!r} on {where}'s state at every step; they are what the model "
                            f"returned at every step{through}"
                        )
                    return P, act, note
    names = ", ".join(repr(n) for n, _ in usable)
    return (
        None,
        None,
        (
            f"per-step outputs not shown: {names} on {where}'s states does not reproduce the model's "
            f"output (shape {tuple(Ys[0].shape)})"
        ),
    )


def _returned(Y) -> list:
    """The float tensors the model returned: the first element of a tuple output first (``(output, hidden)``: the
    output), then the others in order (a model returning several heads' outputs)."""
    if isinstance(Y, PackedSequence):
        return []
    if isinstance(Y, torch.Tensor):
        return [Y] if Y.is_floating_point() else []
    if isinstance(Y, (tuple, list)):
        return [t for part in Y for t in _returned(part)]
    if isinstance(Y, dict):
        return [t for part in Y.values() for t in _returned(part)]
    return []


# --- one batch → Recordings --------------------------------------------------------------------------------------


def _batch(model, seqs):
    """The model's input batch from sequences of one length (or padded): (B, T, D) floats or (B, T) ids, in the
    model's layout, and the (B,) lengths."""
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    T = max(s.shape[0] for s in seqs)
    lengths = torch.tensor([s.shape[0] for s in seqs])
    if seqs[0].dtype.kind in "iu":
        batch = torch.zeros(len(seqs), T, dtype=torch.long)
    else:
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        batch = torch.zeros(len(seqs), T, seqs[0].shape[1], dtype=dtype)
    for b, s in enumerate(seqs):
        batch[b, : s.shape[0]] = torch.from_numpy(s)
    batch = batch.to(device)
    return (batch.transpose(0, 1) if _layout(model) else batch), lengths


@torch.no_grad()
def _record_group(model, seqs, modules, heads, task, forward) -> list[Recording]:
    """One forward of the model on ``seqs`` (one batch) observed: a Recording per sequence, the modules laid out on
    one timeline in stages, per-step outputs where a head is verified."""
    batch, lengths = _batch(model, seqs)
    Y, calls = _run(model, batch, lengths if _takes_lengths(forward) else None, modules, forward)
    results = _module_results(calls, modules, len(seqs))
    cells = {"lstm" if isinstance(m, (nn.LSTM, nn.LSTMCell)) else "gru" for _, m, _ in results}
    sizes = {(getattr(m, "proj_size", 0) or m.hidden_size, m.hidden_size) for _, m, _ in results}
    if len(cells) > 1 or len(sizes) > 1:
        found = ", ".join(f"{n} ({type(m).__name__}, {m.hidden_size} units)" for n, m, _ in results)
        raise ValueError(
            f"the recurrent modules differ in kind or size ({found}); one recording holds modules of one kind and "
            "size: choose with lstm='<name>' (or a list of names)"
        )
    cell = cells.pop()
    last_name, last_module, last = results[-1]
    P, act, note = _verified_outputs(
        heads, Y, last_name if len(results) > 1 or last_module is not model else "", [v["out"] for v in last]
    )
    kind = None if P is None else resolve_task(task, P[0].shape[-1], act)
    several = len(results) > 1
    recs = []
    for b, seq in enumerate(seqs):
        names, stages, inputs, start, stop, prev = [], [], {}, 0, 0, None
        for name, m, per in results:
            v = per[b]
            steps = v["h"].shape[1]
            if prev is not None and steps != prev:
                start = stop
            stop, prev = start + steps, steps
            rows = _row_names(m, v["h"].shape[0])
            if several:
                rows = [name] if isinstance(m, _CELLS) else [f"{name}.{r}" for r in rows]
            stages.append(Stage(name, tuple(rows), start, stop))
            names += rows
            inputs[name] = (start, v["x"])
        T = max(s.stop for s in stages)
        quantities = {}
        for q in ("h", "c", "i", "f", "g", "o") if cell == "lstm" else ("h", "r", "z", "n"):
            parts = []
            for (_, _, per), st in zip(results, stages, strict=True):
                v = per[b][q].to(torch.float32).cpu().numpy()
                if len(results) == 1 and st.stop - st.start == T:  # one module over the whole timeline: no copy
                    parts.append(v)
                    continue
                full = np.full((v.shape[0], T, v.shape[2]), np.nan, np.float32)
                full[:, st.start : st.stop] = v
                parts.append(full)
            quantities[q] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        module_inputs = {}
        for name, (s0, x) in inputs.items():
            full = np.full((T, x.shape[-1]), np.nan, np.float32)
            full[s0 : s0 + x.shape[0]] = x.to(torch.float32).cpu().numpy()
            module_inputs[name] = full
        outputs = None
        if P is not None:
            p = P[b].to(torch.float32).cpu().numpy()
            outputs = np.full((T, p.shape[-1]), np.nan, np.float32)
            outputs[stages[-1].start : stages[-1].stop] = p
        recs.append(
            Recording(
                inputs=seq,
                layer_names=names,
                stages=stages,
                module_inputs=module_inputs,
                outputs_note=note,
                **task_outputs(kind, outputs),
                **quantities,
            )
        )
    return recs


def _row_names(m: nn.Module, rows: int) -> list[str]:
    if isinstance(m, _CELLS):
        return ["layer0"]
    dirs = 2 if m.bidirectional else 1
    return [f"layer{r // dirs}" + ("_reverse" if r % dirs else "") for r in range(rows)]


# --- whether a Stepper can step a model exactly -------------------------------------------------------------------


def _same_module(spec, m: nn.Module) -> bool:
    w = spec.layers[0][0].w_ih
    own = m.weight_ih_l0 if isinstance(m, _SEQUENCE) else m.weight_ih
    return w.data_ptr() == own.data_ptr() and w.shape == own.shape


def _zero(state) -> bool:
    if state is None:
        return True
    parts = state if isinstance(state, (tuple, list)) else (state,)
    return all(not bool(p.any()) for p in parts)


def stepping_refusal(model, spec, forward=None, steps: int = 4) -> str | None:
    """Why a :class:`Stepper` cannot step ``model`` (described by ``spec``) exactly, one step at a time, or None
    when it can. Probed on one random sequence of ``steps`` steps: the forward must call the described recurrent
    module and no other, from a zero state, on an input whose every step depends on that step only (checked against
    the model's own preprocessing of each step alone), and the head, if any, must reproduce what the model returns."""
    if not isinstance(model, nn.Module) or isinstance(model, (RecurrentStack, *_RECURRENT)):
        return None
    name = type(model).__name__
    emb = _embedding(model)
    modules = {m: n for n, m in model.named_modules() if isinstance(m, _RECURRENT)}
    g = torch.Generator().manual_seed(0)
    if emb is not None:  # token ids
        x = torch.randint(0, emb[1].num_embeddings, (1, steps), generator=g).to(spec.device)
    else:
        x = torch.randn(1, steps, spec.raw_features or spec.input_size, generator=g).to(spec.device, spec.dtype)
    batch = x.transpose(0, 1) if _layout(model) else x
    try:
        Y, calls = observe(
            model, modules, (lambda: model(batch)) if forward is None else (lambda: forward(model, batch))
        )
    except Exception as err:  # the model's own code failed
        how = "" if forward is not None else " (pass forward=lambda model, batch: ... to call it as it expects)"
        if spec.raw_features is None and emb is None:  # the probe could only guess the width: say so
            how += (
                f"; the probe had {batch.shape[-1]} features per step, the width its recurrent module receives, since "
                f"the features {name} itself takes cannot be told from it (a preprocessing layer or another "
                "recurrent module in front of it)"
            )
        return f"its forward fails on a batch of shape {tuple(batch.shape)} ({type(err).__name__}: {err}){how}"
    if spec.raw_features is None and emb is None:
        return f"the features per step {name} takes cannot be told from it (its preprocessing changes the width)"
    called = list(dict.fromkeys(m for m, *_ in calls))
    if len(called) != 1 or not _same_module(spec, called[0]):
        names = ", ".join(modules[m] for m in called) or "none"
        return f"its forward runs the recurrent modules {names}; a Stepper steps one recurrent module alone"
    m = called[0]
    its = [(inp, hx, out) for _, inp, hx, out, _ in calls]
    if isinstance(m, _SEQUENCE):
        if len(its) != 1:
            return f"its forward calls {modules[m]!r} {len(its)} times; a Stepper steps one pass over the sequence"
        inp, hx, out = its[0]
        if isinstance(inp, PackedSequence):
            return f"its forward packs the batch for {modules[m]!r}; record(model, x, forward=...) records it"
        if not _zero(hx):
            return f"its forward starts {modules[m]!r} from its own state; a Stepper starts from zeros"
        z = inp if m.batch_first or inp.dim() == 2 else inp.transpose(0, 1)
        with torch.no_grad():
            alone = torch.cat([spec.preprocess(x[:, t : t + 1]) for t in range(steps)], dim=1)
        if alone.shape != z.shape or not _close(alone, z):
            return (
                f"what {modules[m]!r} receives at a step depends on other steps (its input is not computed step "
                "by step), so it cannot be fed one step at a time"
            )
        states = out[0] if m.batch_first or out[0].dim() == 2 else out[0].transpose(0, 1)
    elif emb is not None:
        return f"{modules[m]!r} is a cell driven by {name}'s own loop over token ids; record(model, ids) records it"
    else:
        if len(its) != steps or not _zero(its[0][1]):
            return f"its forward calls {modules[m]!r} {len(its)} times for {steps} steps, or from its own state"
        for t, (inp, hx, _) in enumerate(its):
            prev = its[t - 1][2] if t else None
            if inp.shape[-1] != x.shape[-1] or not _close(inp.reshape(x[:, t].shape), x[:, t]):
                return f"{modules[m]!r} does not receive the model's input at each step"
            if t and not all(_close(a, b) for a, b in zip(_as_tuple(hx), _as_tuple(prev), strict=True)):
                return f"{modules[m]!r} does not continue from its previous state at every call"
        states = torch.stack([_as_tuple(o)[0].reshape(1, -1) for _, _, o in its], dim=1)
    if spec.head is not None:
        P, _, note = _verified_outputs([("head", spec.head)], Y, modules[m], [states[0]])
        if P is None:
            return note.replace("per-step outputs not shown: ", "") + "; pass head=None to step it without outputs"
    return None


def token_embedding(model):
    """(name, nn.Embedding) of a model that takes token ids, else None."""
    if not isinstance(model, nn.Module) or isinstance(model, (RecurrentStack, *_RECURRENT)):
        return None
    return _embedding(model)


def check_token_sequence(x, model, what: str) -> np.ndarray:
    """One sequence of token ids for ``model`` (which takes ids): (T,) or (T, 1) ints as an int64 (T,) array, each id
    in the model's embedding's range; one clear error otherwise."""
    embedding = token_embedding(model)
    a = x if isinstance(x, (np.ndarray, torch.Tensor)) else np.asarray(x)
    return _id_sequence(_to_numpy(a, what), what, embedding, type(model).__name__)


def check_token(x_t, embedding, what: str) -> np.ndarray:
    """One token id (a Python or numpy int, or an integer array / tensor holding one) as a 0-d int64 array."""
    a = x_t if isinstance(x_t, (np.ndarray, torch.Tensor)) else np.asarray(x_t)
    a = _to_numpy(a, what)
    name, emb = embedding
    if a.dtype.kind not in "iu" or a.size != 1:
        raise TypeError(
            f"{what} is {'an array of ' + str(a.size) + ' values' if a.size != 1 else 'a ' + str(a.dtype)}; the model "
            f"expects one token id per step (its {name!r} is an nn.Embedding of {emb.num_embeddings} tokens)"
        )
    a = a.reshape(()).astype(np.int64)
    if not 0 <= int(a) < emb.num_embeddings:
        raise ValueError(f"{what} is the id {int(a)}; the model's {name!r} takes ids 0..{emb.num_embeddings - 1}")
    return a


def _as_tuple(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)
