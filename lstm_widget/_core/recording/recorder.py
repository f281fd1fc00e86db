"""Vectorised recording of whole sequences: every gate, cell and hidden state of every layer at every step.

The recurrence itself runs in torch's LSTM / GRU kernel (one call per layer); the gates are then recomputed for all
steps at once from the layer's input and the previous hidden states (one matrix product), and an LSTM's cell states
come from an associative scan of c_t = f_t * c_{t-1} + i_t * g_t (log2(T) vectorised passes) — no Python loop over
time steps. The variants torch's kernels lack (a hard-sigmoid gate, the GRU that resets before its recurrent product)
run their recurrence one step at a time, vectorised over the batch, and then take the same vectorised path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..model.adapters import _AUTO, RecurrentSpec, describe
from ..model.cells import gate_fn
from ..model.gates import QUANTITIES, split_gates
from ..model.run import _direction_outputs, _edited_row, head_outputs, initial_state, layer_outputs, row_quantities
from ..validate import check_sequences, to_numpy

_CELL_NAMES = {"lstm": "LSTM", "gru": "GRU"}


def _cell_kind(quantities: dict, what: str) -> str:
    """The cell kind whose quantities were given, or one error that says what each kind needs."""
    for cell, names in QUANTITIES.items():
        if set(quantities) == set(names):
            return cell
    expected = "; ".join(f"{_CELL_NAMES[c]}: {', '.join(n)}" for c, n in QUANTITIES.items())
    raise TypeError(f"{what} got quantities {sorted(quantities)}; expected exactly those of one cell kind ({expected})")


_FROM_LOGITS = object()


@dataclass(frozen=True)
class Stage:
    """Where one recurrent module ran on a recording's timeline: ``module`` (its name in the model; "" for the model
    itself or a recording made from a description), its rows in ``layer_names`` (``layers``) and the steps
    ``[start, stop)``. Modules with as many steps as the one before share its stage's steps (stacked layers, cells
    looped together); a module with another number of steps (a decoder after its encoder) starts a new stage where
    the previous one stops, and its rows hold NaN outside its own steps."""

    module: str
    layers: tuple
    start: int
    stop: int


class _Activations:
    """The fields a Frame (one step) and a Recording (a whole sequence) share: ``inputs``, the quantities of the cell
    kind (``cell`` "lstm": h, c, i, f, g, o; "gru": h, r, z, n — listed in ``quantities``), ``outputs`` (the head's raw
    output), ``logits`` and ``probs`` (classification only), ``task``, ``outputs_note``, ``stages`` and
    ``layer_names``. Read-only."""

    def __init__(
        self,
        *,
        inputs,
        layer_names,
        logits=None,
        probs=None,
        outputs=_FROM_LOGITS,
        outputs_note=None,
        task=None,
        stages=None,
        module_inputs=None,
        **quantities,
    ):
        cell = _cell_kind(quantities, type(self).__name__)
        if outputs is _FROM_LOGITS:  # a recording from a description: the head's raw output is its logits
            outputs = logits
        if task is None and outputs is not None:
            task = "classification" if probs is not None else "regression"
        d = self.__dict__
        d.update(inputs=inputs, logits=logits, probs=probs, layer_names=tuple(layer_names), cell=cell)
        d.update(outputs=outputs, outputs_note=outputs_note, task=task, module_inputs=module_inputs or {})
        d.update({q: quantities[q] for q in QUANTITIES[cell]})
        if stages is None and np.ndim(quantities["h"]) == 3:  # a recording of one module over the whole timeline
            stages = (Stage("", tuple(layer_names), 0, quantities["h"].shape[1]),)
        elif stages is None and np.ndim(inputs) >= 1 and np.ndim(quantities["h"]) != 2:  # a store without h
            stages = (Stage("", tuple(layer_names), 0, len(inputs)),)
        d["stages"] = tuple(stages or ())

    @property
    def quantities(self) -> tuple:
        """The recorded quantities of this cell kind, in display order: ("h", "c", "i", "f", "g", "o") for an LSTM,
        ("h", "r", "z", "n") for a GRU."""
        return QUANTITIES[self.cell]

    def __getattr__(self, name: str):  # only reached when normal lookup fails
        if not name.startswith("_") and "cell" in self.__dict__:
            for cell, names in QUANTITIES.items():
                if name in names and cell != self.cell:
                    kind = _CELL_NAMES[self.cell]
                    raise AttributeError(
                        f"a {kind} {type(self).__name__.lower()} has no {name!r} ({_CELL_NAMES[cell]} only); its "
                        f"quantities are {', '.join(self.quantities)}"
                    )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name, value):
        raise AttributeError(f"a {type(self).__name__} is read-only; cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"a {type(self).__name__} is read-only; cannot delete {name!r}")


class Frame(_Activations):
    """One time step: the quantities (``h``, ``c``, ``i``, ``f``, ``g``, ``o`` for an LSTM; ``h``, ``r``, ``z``, ``n``
    for a GRU) shaped (L, units); ``outputs`` (k,): the head's raw output at this step (a regression's predicted
    values, a classifier's logits), or None when not shown; ``probs``/``logits`` (C,) for classification, else None;
    ``prediction`` the most probable class (None for a regression or without a head)."""

    @property
    def prediction(self) -> int | None:
        """Index of the most probable class at this step (None without a head)."""
        return None if self.probs is None else int(np.argmax(self.probs))

    def __repr__(self) -> str:
        return f"Frame({self.cell}, {len(self.layer_names)} layers, quantities {' '.join(self.quantities)})"


class Recording(_Activations):
    """Everything one sequence did inside the network.

    ``inputs`` (T, D); the quantities — ``rec.quantities``: ``h``, ``c``, ``i``, ``f``, ``g``, ``o`` for an LSTM,
    ``h``, ``r``, ``z``, ``n`` for a GRU (which has no ``c``) — shaped (L, T, units) with L = layers × directions in the
    order of ``layer_names`` (layer0, layer0_reverse, layer1, ...; with several recurrent modules each name starts
    with its module's: ``encoder.layer0``, ``decoder.layer0``; a cell is named by its module alone: ``lstm1``).
    ``outputs`` (T, k): the head's raw output at every step, shown only when verified against what the model returned
    (else None, and ``outputs_note`` says why in one line; when shown it says how they were verified); ``task``
    "classification" or "regression" (None without outputs); ``logits`` (= ``outputs``) and ``probs`` (T, C) for
    classification only. ``stages``: where each recurrent module ran on the timeline (see :class:`Stage`); steps
    where a module did not run hold NaN in its rows. ``module_inputs``: {module name: (T, D) what it received at
    every step} for a recording made by observing the model's forward ({} otherwise).
    Quantities also answer to stable names: ``rec["layer0.h"]`` is (T, units), ``rec["h"]`` is (L, T, units).
    """

    def __len__(self) -> int:  # the timeline's steps: more than the inputs' after a decoder or closed-loop steps
        for q in self.quantities:
            value = getattr(self, q)
            if value is not None:
                return value.shape[1]
        return self.inputs.shape[0]

    def __repr__(self) -> str:
        head = "" if self.probs is None else f", {self.probs.shape[1]} classes"
        return (
            f"Recording({self.cell}, {len(self)} steps, layers {list(self.layer_names)}, "
            f"quantities {' '.join(self.quantities)}{head})"
        )

    @property
    def names(self) -> list[str]:
        """Every recorded quantity's stable name."""
        out = ["inputs"] + [f"{layer}.{q}" for layer in self.layer_names for q in self.quantities]
        out += ["outputs"] if self.outputs is not None else []
        return out + (["logits", "probs"] if self.probs is not None else [])

    def __getitem__(self, name: str) -> np.ndarray:
        if name in ("inputs", "outputs", "logits", "probs") + self.quantities:
            value = getattr(self, name)
            if value is None:
                why = self.outputs_note or "the model has no head, so nothing was predicted"
                raise KeyError(f"{name!r}: {why}")
            return value
        layer, _, q = name.rpartition(".")
        if layer in self.layer_names and q in self.quantities:
            return getattr(self, q)[self.layer_names.index(layer)]
        raise KeyError(f"no recorded quantity named {name!r}; names are like {self.names[:8]} ...")

    @property
    def predictions(self) -> np.ndarray | None:
        """Most probable class at every step (T,), or None without a head."""
        return None if self.probs is None else self.probs.argmax(axis=1)

    def frame(self, t: int) -> Frame:
        """The step ``t`` as a :class:`Frame` (negative t counts from the end)."""
        T = len(self)
        if not -T <= t < T:
            raise IndexError(f"step {t} is out of range for a recording of {T} steps (0..{T - 1})")
        q = {name: getattr(self, name)[:, t] for name in self.quantities}
        t = t % T
        return Frame(
            inputs=self.inputs[t]
            if t < len(self.inputs)
            else None,  # a decoder's or closed-loop step: see module_inputs
            outputs=None if self.outputs is None else self.outputs[t],
            task=self.task,
            logits=None if self.logits is None else self.logits[t],
            probs=None if self.probs is None else self.probs[t],
            layer_names=self.layer_names,
            **q,
        )


#: The fused path (see :func:`_fused_lstm`) pays a fixed cost per step (about ten small torch calls, ~30 µs) that
#: torch's own kernel does not; it wins once a step has enough values to compute: batch × 4 × units gate values.
#: Below this, torch's kernel + one GEMM for the gates + the blocked scan for c is faster (benchmarks/bench_record.py).
FUSED_MIN_GATE_VALUES = 8192
#: Buffers at least this large are mapped with transparent huge pages where the system offers them (madvise):
#: first-touching 400 MB of 4 KiB pages costs ~80 ms, of 2 MiB pages ~35 ms.
_HUGE_PAGE_MIN_BYTES = 32 << 20


def _empty(shape: tuple, dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised CPU tensor; large ones backed by an anonymous mapping advised to use huge pages (freed when
    the last array viewing it goes)."""
    n = math.prod(shape)
    nbytes = n * torch.empty((), dtype=dtype).element_size()
    if nbytes >= _HUGE_PAGE_MIN_BYTES and _HUGE_PAGES:
        import mmap

        try:
            buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            buf.madvise(mmap.MADV_HUGEPAGE)
        except (OSError, ValueError, AttributeError):
            pass
        else:
            np_dtype = torch.empty((), dtype=dtype).numpy().dtype
            return torch.from_numpy(np.frombuffer(buf, dtype=np_dtype, count=n).reshape(shape))
    return torch.empty(shape, dtype=dtype)


def _huge_pages_advisable() -> bool:
    import mmap

    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return False
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


_HUGE_PAGES = _huge_pages_advisable()


def _fusable(spec: RecurrentSpec, x: torch.Tensor, edits) -> bool:
    """Whether :func:`_fused_lstm` records this batch: an LSTM on the CPU, no interventions, no autograd, the same
    sizes in every row, and enough values per step to outweigh the per-step overhead."""
    if spec.cell != "lstm" or edits or x.device.type != "cpu" or torch.is_grad_enabled():
        return False
    H, P = spec.hidden_size, spec.output_size
    rows = [w for layer in spec.layers for w in layer]
    if any(w.w_hh.shape != (4 * H, P) or (w.w_hr is not None and w.w_hr.shape != (P, H)) for w in rows):
        return False
    return x.shape[0] * 4 * H >= FUSED_MIN_GATE_VALUES


def _fused_row(w, x: torch.Tensor, gates: torch.Tensor, cs: torch.Tensor, hs: torch.Tensor, H: int) -> None:
    """One direction of one LSTM layer on ``x`` (T, B, D) — time first — writing straight into its rows of the
    recording buffers: ``gates`` (T, B, 4H) i, f, g, o in PyTorch's column order, ``cs`` (T, B, H) and ``hs``
    (T, B, P). Time first and one buffer per kind, so that every step's block of each is contiguous: the step's GEMM
    reads h and writes the gates as dense matrices, and the activations run on dense blocks (strided blocks cost
    about 10 % more in the GEMM and twice as much in tanh at B 64 × H 256).

    The input's share of every step's gate pre-activations is one GEMM for all steps (bias added by the same call);
    then one step at a time: the recurrent GEMM added in place, the activations in place, c and h written in place — no
    concatenation, transposition or copy afterwards. With sigmoid gates, tanh(a) = 2σ(2a) − 1 turns the four
    activations into one sigmoid over the step's gates (the g rows of the weights are doubled beforehand, which is
    exact) and a multiply-add on g."""
    T, B, D = x.shape
    sig = w.gate_activation is None
    w_ih, w_hh = w.w_ih, w.w_hh
    bias = None if w.b_ih is None else w.b_ih + w.b_hh
    if sig:
        scale = w_ih.new_ones(4 * H, 1)
        split_gates(scale)["g"].fill_(2.0)
        w_ih, w_hh = w_ih * scale, w_hh * scale
        bias = None if bias is None else bias * scale[:, 0]
    flat, xs = gates.view(T * B, 4 * H), x.reshape(T * B, D)
    if bias is None:
        torch.mm(xs, w_ih.T, out=flat)
    else:
        torch.addmm(bias, xs, w_ih.T, out=flat)
    h, c = initial_state(w, "lstm", B, x)
    w_hh_t = w_hh.T.contiguous()
    w_hr_t = None if w.w_hr is None else w.w_hr.T.contiguous()
    blocks = split_gates(gates, axis=-1)  # views: the columns hold the gates in PyTorch's order
    i_s, f_s, g_s, o_s = (blocks[k].unbind(0) for k in "ifgo")
    g_all, c_s, h_s = gates.unbind(0), cs.unbind(0), hs.unbind(0)
    act = None if sig else gate_fn(w.gate_activation)
    cell = torch.empty(B, H, dtype=x.dtype) if w_hr_t is not None else None  # o·tanh(c) before the projection
    for t in range(T - 1, -1, -1) if w.reverse else range(T):
        gt = g_all[t]
        gt.addmm_(h, w_hh_t)
        if sig:
            gt.sigmoid_()
            g_s[t].mul_(2.0).sub_(1.0)
        else:
            for gate in (i_s[t], f_s[t], o_s[t]):
                gate.copy_(act(gate))
            g_s[t].tanh_()
        ct = c_s[t]
        torch.mul(i_s[t], g_s[t], out=ct)
        ct.addcmul_(f_s[t], c)
        ht = h_s[t]
        squashed = ht if w_hr_t is None else cell
        if sig:  # o·tanh(c) = o·(2σ(2c) − 1): a sigmoid costs a third of a tanh here
            torch.mul(ct, 2.0, out=squashed).sigmoid_().mul_(2.0).sub_(1.0).mul_(o_s[t])
        else:
            torch.tanh(ct, out=squashed).mul_(o_s[t])
        if w_hr_t is not None:
            ht.addmm_(cell, w_hr_t, beta=0)
        h, c = ht, ct


def _fused_lstm(spec: RecurrentSpec, z: torch.Tensor) -> dict:
    """Every quantity of an LSTM on ``z`` (B, T, D) (already preprocessed) as views (B, L, T, units) into three
    buffers — gates (L, T, B, 4H), c (L, T, B, H), h (L, T, B, P) — that each row fills in a single pass over the
    steps (:func:`_fused_row`)."""
    B, T, _ = z.shape
    H, P = spec.hidden_size, spec.output_size
    L = sum(len(layer) for layer in spec.layers)
    gates, cs, hs = (_empty((L, T, B, n), z.dtype) for n in (4 * H, H, P))
    inp, row = z.transpose(0, 1).contiguous(), 0  # time first (T, B, D); the layers above read h in place
    for layer in spec.layers:
        for w in layer:
            _fused_row(w, inp, gates[row], cs[row], hs[row], H)
            row += 1
        inp = hs[row - 1] if len(layer) == 1 else torch.cat([hs[r] for r in range(row - len(layer), row)], dim=-1)
    result = dict(split_gates(gates.permute(2, 0, 1, 3), axis=-1), c=cs.permute(2, 0, 1, 3), h=hs.permute(2, 0, 1, 3))
    if spec.head is not None:
        result["logits"], result["probs"] = head_outputs(spec.head, inp.transpose(0, 1))
    return result


def record_tensors(spec: RecurrentSpec, x: torch.Tensor, edits: dict | None = None) -> dict:
    """Every quantity of a batch of equal-length sequences ``x`` (B, T, D) as tensors (B, L, T, units), with
    ``logits`` / ``probs`` (B, T, C) when the model has a head. ``edits``: {row: RowEdits} — interventions, per row of
    ``spec.layer_names``; a layer none of whose rows is intervened on runs on the fast path. Not under no_grad."""
    z = spec.preprocess(x) if spec.preprocess is not None else x
    if _fusable(spec, z, edits):
        return _fused_lstm(spec, z)
    per_q = {q: [] for q in spec.quantities}
    inp = z
    row = 0
    for layer in spec.layers:
        mine = [edits.get(row + d) for d in range(len(layer))] if edits else [None] * len(layer)
        row += len(layer)
        if any(e is not None for e in mine):
            rows = [
                _edited_row(w, spec.cell, inp, e)
                if e is not None
                else row_quantities(w, spec.cell, inp, _direction_outputs(w, spec.cell, inp))
                for w, e in zip(layer, mine, strict=True)
            ]
            out = rows[0]["h"] if len(rows) == 1 else torch.cat([r["h"] for r in rows], dim=-1)
        else:
            out, hs = layer_outputs(layer, spec.cell, inp)
            rows = [row_quantities(w, spec.cell, inp, h) for w, h in zip(layer, hs, strict=True)]
        for values in rows:
            for q in spec.quantities:
                per_q[q].append(values[q])
        inp = out
    result = {q: torch.stack(v, dim=1) for q, v in per_q.items()}  # (B, L, T, units)
    if spec.head is not None:
        result["logits"], result["probs"] = head_outputs(spec.head, inp)
    return result


@torch.no_grad()
def record_batch(spec: RecurrentSpec, x: torch.Tensor, edits: dict | None = None) -> dict:
    """Record a batch of equal-length sequences ``x`` (B, T, D) float32. Returns arrays shaped (B, L, T, units)."""
    return {name: to_numpy(v, np.float32) for name, v in record_tensors(spec, x, edits).items()}


TASKS = ("auto", "classification", "regression")


def values_per_step(spec: RecurrentSpec, n_features: int | None = None) -> int:
    """How many numbers a :class:`Recording` of ``spec`` holds per step: every quantity of every layer row, the
    inputs (``n_features`` per step, default the model's) and the head's logits and probabilities when the head is
    a layer whose output size is known. Times 4 bytes and the number of steps, it is what recording will take — known
    before anything runs."""
    features = n_features if n_features is not None else (spec.raw_features or spec.input_size)
    head = getattr(spec.head, "out_features", 0)
    head = head if isinstance(head, int) else 0
    return len(spec.layer_names) * sum(spec.units.values()) + int(features) + 2 * head


def resolve_task(task, outputs: int, activation: str | None = None) -> str:
    """The task of a head with ``outputs`` outputs: ``task`` when given; "auto": classification when the model's own
    output squashes the head's (``activation`` "softmax", "log_softmax" or "sigmoid"), else one output → regression,
    several → classification."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}")
    if task != "auto":
        return task
    if activation in ("softmax", "log_softmax", "sigmoid"):
        return "classification"
    return "regression" if outputs == 1 else "classification"


def task_outputs(task: str, outputs: np.ndarray | None, probs: np.ndarray | None = None) -> dict:
    """``outputs``, ``logits``, ``probs`` and ``task`` of a Recording from the head's raw output (..., k): logits and
    probabilities (softmax; a sigmoid for one output) for classification only."""
    if outputs is None:
        return dict(outputs=None, logits=None, probs=None, task=None)
    if task == "regression":
        return dict(outputs=outputs, logits=None, probs=None, task=task)
    if probs is None:
        t = torch.from_numpy(np.ascontiguousarray(outputs))
        probs = (torch.sigmoid(t) if t.shape[-1] == 1 else torch.softmax(t, dim=-1)).numpy()
    return dict(outputs=outputs, logits=outputs, probs=probs, task=task)


def record(
    model,
    x,
    *,
    lstm=None,
    head=_AUTO,
    interventions=None,
    task="auto",
    forward=None,
    _spec: RecurrentSpec | None = None,
):
    """Record ``model`` from its description (:func:`describe`): what :func:`lstm_widget.record` does for a bare
    recurrent module, a :class:`RecurrentStack`, a described model (``_spec``) and under interventions. One sequence
    (T, D) → a :class:`Recording`; a list of sequences (any lengths) → a list of Recordings.

    ``model`` is an ``nn.LSTM`` or ``nn.GRU`` (any layers, either ``batch_first``, bidirectional, with or without bias;
    an LSTM's projection too), an ``nn.LSTMCell`` or ``nn.GRUCell``, a module containing one recurrent layer and
    optionally a head (a Linear on the recurrent layer's output, found automatically, or named with ``lstm=`` /
    ``head=``), or a :class:`RecurrentStack` from ``from_keras`` / ``from_onnx``.

    ``interventions``: one :class:`Intervention` or a list of them (``Intervention.set_state(...)`` gives a tuple,
    which may be an entry of the list): the sequence is re-run with the chosen units of h or c zeroed, scaled or
    clamped over a range of steps; the recording shows the changed values at those steps, and every later step, every
    layer above and the predictions follow from them. Steps before the first intervened one, and layers with no
    intervention, take the vectorised path; an intervened layer runs one step at a time from its first intervened step
    (vectorised over sequences of equal length). In a list of sequences, one too short to reach an intervention's
    ``start`` runs without it; a single sequence that is too short is an error.
    """
    spec = _spec or describe(model, lstm=lstm, head=head, forward=forward)
    resolve_task(task, 0)  # checked before anything runs
    seqs, was_list = check_sequences(x, spec.raw_features)
    if interventions is not None:
        from .interventions import resolve_interventions

        items = resolve_interventions(interventions, spec)
    by_length: dict[int, list[int]] = {}
    for k, s in enumerate(seqs):
        by_length.setdefault(s.shape[0], []).append(k)
    out: list[Recording | None] = [None] * len(seqs)
    for idx in by_length.values():
        batch = torch.from_numpy(np.stack([seqs[k] for k in idx])).to(spec.device, spec.dtype)
        edits = None
        if interventions is not None:
            what = f"sequence {idx[0]}" if was_list else "the sequence"
            edits = items.for_length(batch.shape[1], strict=not was_list, what=what)
        res = record_batch(spec, batch, edits)
        kind = None if "logits" not in res else resolve_task(task, res["logits"].shape[-1], spec.output_activation)
        for b, k in enumerate(idx):
            out[k] = Recording(
                inputs=seqs[k],
                layer_names=spec.layer_names,
                **task_outputs(
                    kind, res["logits"][b] if "logits" in res else None, res["probs"][b] if "probs" in res else None
                ),
                **{q: res[q][b] for q in spec.quantities},
            )
    return out if was_list else out[0]
