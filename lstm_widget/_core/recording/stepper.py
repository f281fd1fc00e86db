"""A stateful stepper: feed one time step at a time, read every activation, read or overwrite the state
(MATLAB's ``predictAndUpdateState`` / ``net.State``)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from ..model.adapters import _AUTO, describe
from ..model.cells import step
from ..model.run import head_outputs, initial_state
from ..validate import as_float_array, check_step, to_numpy
from .observe import check_token, stepping_refusal, token_embedding
from .recorder import Frame, resolve_task, task_outputs

#: Weights per step under which a CPU model is stepped on one torch thread (:func:`stepping_threads`): one step of a
#: small model is too little work to share between threads, and a shared step stalls whenever another process (the
#: browser drawing the frames) holds the other cores.
ONE_THREAD_BELOW = 1 << 20


@contextmanager
def stepping_threads(spec):
    """While stepping ``spec`` one step at a time: one torch thread for a small CPU model, torch's setting restored
    afterwards; nothing changed for a big model or one on another device."""
    weights = sum(w.w_ih.numel() + w.w_hh.numel() for row in spec.layers for w in row)
    old = torch.get_num_threads()
    if spec.device.type != "cpu" or weights >= ONE_THREAD_BELOW or old == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


class Stepper:
    """Step ``model`` one time step at a time.

    ``step(x_t)`` returns a :class:`Frame`; ``reset()`` returns to the initial state (zeros, unless the model brings
    its own, as an imported ONNX model can); ``state`` is ``{"h": (L, units_h), "c": (L, units_c)}`` for an LSTM and
    ``{"h": (L, units)}`` for a GRU, as numpy arrays, readable and writable. Stepping a sequence gives what ``record``
    gives.

    ``interventions`` (see :class:`Intervention`; also settable later through the ``interventions`` attribute) apply
    at every step the stepper takes, by its step counter ``t``: stepping a sequence under them gives what
    ``record(model, x, interventions=...)`` gives.

    A model containing the recurrent module is probed at construction (``forward(model, batch)`` calls it instead of
    ``model(batch)``): a model the stepper cannot step exactly — one whose forward fails on a batch, runs several
    recurrent modules, starts from its own state, preprocesses across steps, or whose head does not reproduce its
    output — is refused with the reason (a ValueError). A model with an ``nn.Embedding`` is stepped one token id at a
    time (``step(id)``; the frame's ``inputs`` is the id). ``task`` as for ``record``: a regression's
    frames have ``outputs`` and no ``probs``.
    """

    def __init__(self, model, *, lstm=None, head=_AUTO, interventions=None, forward=None, task="auto"):
        resolve_task(task, 0)
        spec = describe(model, lstm=lstm, head=head, forward=forward)
        why = stepping_refusal(model, spec, forward)
        if why is not None:
            raise ValueError(f"Stepper cannot step {type(model).__name__} exactly: {why}")
        self._init(spec, interventions)
        self._task = task
        self._tokens = token_embedding(model)  # (name, nn.Embedding) when the model takes ids

    @classmethod
    def from_spec(cls, spec, interventions=None) -> "Stepper":
        """A stepper for an already described model (see :func:`lstm_widget.describe`)."""
        stepper = cls.__new__(cls)
        stepper._init(spec, interventions)
        return stepper

    def _init(self, spec, interventions=None) -> None:
        kind = spec.cell.upper()
        if spec.num_directions != 1:
            raise ValueError(
                f"a bidirectional {kind} cannot be stepped one step at a time: its reverse direction reads the "
                "sequence from the end; use record(model, x) for the whole sequence"
            )
        backwards = [name for name, (w,) in zip(spec.layer_names, spec.layers, strict=True) if w.reverse]
        if backwards:
            raise ValueError(
                f"{backwards[0]} reads the sequence from its last step to its first, so it cannot be stepped one step "
                "at a time; use record(model, x) for the whole sequence"
            )
        self._spec = spec
        self._keys = ("h", "c") if spec.cell == "lstm" else ("h",)
        self.interventions = interventions
        self.t = 0
        self.reset()

    @property
    def interventions(self) -> tuple:
        """The interventions applied at every step (a tuple; set a list, one Intervention or None)."""
        return self._interventions

    @interventions.setter
    def interventions(self, value) -> None:
        if value is None or (isinstance(value, (list, tuple)) and not value):
            self._interventions, self._edits = (), {}
            return
        from .interventions import _flatten, resolve_interventions

        edits = resolve_interventions(value, self._spec).for_length(None) or {}  # checked before anything changes
        self._interventions, self._edits = tuple(iv for _, iv in _flatten(value)), edits

    @property
    def spec(self):
        return self._spec

    def reset(self) -> None:
        """Return the states to their initial values (zeros unless the model has its own) and the step counter to 0."""
        s = self._spec
        like = torch.zeros((), dtype=s.dtype, device=s.device)
        states = [initial_state(w, s.cell, 1, like) for (w,) in s.layers]
        self._state = {key: torch.cat([st[k] for st in states]) for k, key in enumerate(self._keys)}
        self.t = 0

    @property
    def state(self) -> dict:
        """``{"h": (L, units), "c": (L, units)}`` (no ``"c"`` for a GRU): a copy of the current state."""
        return {key: to_numpy(v, np.float32).copy() for key, v in self._state.items()}

    @state.setter
    def state(self, value) -> None:
        if not isinstance(value, dict) or set(value) != set(self._keys):
            got = sorted(value) if isinstance(value, dict) else type(value).__name__
            keys = "keys 'h' and 'c'" if len(self._keys) == 2 else f"key 'h' (a {self._spec.cell.upper()} has no c)"
            raise TypeError(f"state must be a dict with {keys}; got {got}")
        new = {}
        for key, cur in self._state.items():
            arr = as_float_array(value[key], f"state[{key!r}]")
            if arr.shape != tuple(cur.shape):
                raise ValueError(f"state[{key!r}] has shape {arr.shape}; expected {tuple(cur.shape)} (layers, units)")
            if not np.isfinite(arr).all():
                raise ValueError(f"state[{key!r}] contains NaN or Inf; expected finite numbers")
            new[key] = torch.as_tensor(arr, dtype=cur.dtype, device=cur.device).clone()
        self._state = new  # every part checked before any changes

    @torch.no_grad()
    def step(self, x_t) -> Frame:
        """Advance one step with input ``x_t`` (features,) and return everything the network did at that step."""
        s = self._spec
        tokens = getattr(self, "_tokens", None)
        if tokens is not None:  # one token id, embedded by the model's own forward
            raw = check_token(x_t, tokens, f"the input at step {self.t}")
            inp = s.preprocess(torch.from_numpy(raw).to(s.device).reshape(1, 1))[0, 0]
        else:
            raw = check_step(x_t, s.raw_features, f"the input at step {self.t}")
            inp = torch.from_numpy(raw).to(s.device, s.dtype)
            if s.preprocess is not None:
                inp = s.preprocess(inp[None, None])[0, 0]
        rows = {q: [] for q in s.quantities}
        h, c = self._state["h"], self._state.get("c")
        for k, (w,) in enumerate(s.layers):
            edits = self._edits.get(k)
            edit = edits.at(self.t) if edits is not None else None
            q = step(w, s.cell, inp, h[k], None if c is None else c[k], edit=edit)
            for name in s.quantities:
                rows[name].append(q[name])
            inp = q["h"]
        self._state = {key: torch.stack(rows[key]) for key in self._keys}
        self.t += 1
        head = {}
        if s.head is not None:
            lg, pr = head_outputs(s.head, inp[None])
            task = resolve_task(getattr(self, "_task", "auto"), lg.shape[-1], s.output_activation)
            head = task_outputs(task, to_numpy(lg[0], np.float32), to_numpy(pr[0], np.float32))
        return Frame(
            inputs=raw,
            **head,
            layer_names=s.layer_names,
            **{q: to_numpy(torch.stack(v), np.float32) for q, v in rows.items()},
        )
