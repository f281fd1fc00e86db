"""A stateful stepper: feed one time step at a time, read every activation, read or overwrite the state
(MATLAB's ``predictAndUpdateState`` / ``net.State``)."""

from __future__ import annotations

import numpy as np
import torch

from .adapters import _AUTO, describe
from .gates import LSTM_QUANTITIES, split_gates
from .recording import Frame, _numpy, head_outputs
from .validate import as_float_array, check_step


class Stepper:
    """Step ``model`` one time step at a time.

    ``step(x_t)`` returns a :class:`Frame`; ``reset()`` zeroes the state; ``state`` is ``{"h": (L, units_h),
    "c": (L, units_c)}`` as numpy arrays, readable and writable. Stepping a sequence gives what ``record`` gives.
    """

    def __init__(self, model, *, lstm=None, head=_AUTO):
        self._init(describe(model, lstm=lstm, head=head))

    @classmethod
    def from_spec(cls, spec) -> "Stepper":
        """A stepper for an already described model (see :func:`lstm_widget.describe`)."""
        stepper = cls.__new__(cls)
        stepper._init(spec)
        return stepper

    def _init(self, spec) -> None:
        if spec.num_directions != 1:
            raise ValueError(
                "a bidirectional LSTM cannot be stepped one step at a time: its reverse direction reads the sequence "
                "from the end; use record(model, x) for the whole sequence"
            )
        self._spec = spec
        self.t = 0
        self.reset()

    @property
    def spec(self):
        return self._spec

    def reset(self) -> None:
        """Zero the hidden and cell states and the step counter."""
        s = self._spec
        self._h = torch.zeros(s.num_layers, s.output_size, dtype=s.dtype, device=s.device)
        self._c = torch.zeros(s.num_layers, s.hidden_size, dtype=s.dtype, device=s.device)
        self.t = 0

    @property
    def state(self) -> dict:
        """``{"h": (L, units), "c": (L, units)}``: a copy of the current state."""
        return {"h": _numpy(self._h).copy(), "c": _numpy(self._c).copy()}

    @state.setter
    def state(self, value) -> None:
        if not isinstance(value, dict) or set(value) != {"h", "c"}:
            got = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise TypeError(f"state must be a dict with keys 'h' and 'c'; got {got}")
        new = {}
        for key, cur in (("h", self._h), ("c", self._c)):
            arr = as_float_array(value[key], f"state[{key!r}]")
            if arr.shape != tuple(cur.shape):
                raise ValueError(f"state[{key!r}] has shape {arr.shape}; expected {tuple(cur.shape)} (layers, units)")
            if not np.isfinite(arr).all():
                raise ValueError(f"state[{key!r}] contains NaN or Inf; expected finite numbers")
            new[key] = torch.as_tensor(arr, dtype=cur.dtype, device=cur.device).clone()
        self._h, self._c = new["h"], new["c"]  # both checked before either changes

    @torch.no_grad()
    def step(self, x_t) -> Frame:
        """Advance one step with input ``x_t`` (features,) and return everything the network did at that step."""
        s = self._spec
        raw = check_step(x_t, s.raw_features, f"the input at step {self.t}")
        inp = torch.from_numpy(raw).to(s.device, s.dtype)
        if s.preprocess is not None:
            inp = s.preprocess(inp[None, None])[0, 0]
        hs, cs, rows = [], [], {q: [] for q in LSTM_QUANTITIES}
        for l, (w,) in enumerate(s.layers):
            pre = w.w_ih @ inp + w.w_hh @ self._h[l]
            if w.b_ih is not None:
                pre = pre + w.b_ih + w.b_hh
            blocks = split_gates(pre)
            i, f, o = (torch.sigmoid(blocks[k]) for k in ("i", "f", "o"))
            g = torch.tanh(blocks["g"])
            c = f * self._c[l] + i * g
            h = o * torch.tanh(c)
            if w.w_hr is not None:
                h = w.w_hr @ h
            for q, v in zip(LSTM_QUANTITIES, (h, c, i, f, g, o)):
                rows[q].append(v)
            hs.append(h)
            cs.append(c)
            inp = h
        self._h, self._c = torch.stack(hs), torch.stack(cs)
        self.t += 1
        logits = probs = None
        if s.head is not None:
            lg, pr = head_outputs(s.head, inp[None])
            logits, probs = _numpy(lg[0]), _numpy(pr[0])
        return Frame(
            inputs=raw,
            logits=logits,
            probs=probs,
            layer_names=s.layer_names,
            **{q: _numpy(torch.stack(v)) for q, v in rows.items()},
        )
