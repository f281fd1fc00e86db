"""The fused pass standing in for an ``nn.LSTM``'s kernel while ``record`` observes a model.

Recording by observation otherwise runs torch's kernel (inside the model's forward) and then recomputes every gate
from what the module received — one GEMM with as many multiply-adds as the forward's own recurrence — and c by a
scan: about twice a forward. While the model runs under observation, an ``nn.LSTM`` (the class itself, not a
subclass with its own forward) called on a plain tensor with a batch wide enough for the fused pass
(:data:`recorder.FUSED_MIN_GATE_VALUES`) is run by that pass instead (:func:`recorder._fused_lstm`): one pass over
the steps that keeps every gate, c and h as it computes them. The model receives the pass's output and final states
in the module's own layout, and goes on from them; the module's forward is restored afterwards, also on error.

What the pass computed is checked against torch's own kernel: at up to :data:`CHECK_STEPS` steps spread over the
sequence, every layer row's transition — from the recorded state before the step, on the step's recorded input — is
run through torch's kernel for one step (all those steps and batch elements in one call per row), and must give the
recorded h and c to ``TOLERANCE``; otherwise the recording is refused.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import torch
from torch import nn

from ..model.adapters import _spec as _rows_spec
from ..model.rows import _rnn_rows
from ..model.run import initial_state
from . import recorder

#: Steps per layer row whose transition is checked against torch's kernel (spread evenly, first and last included).
CHECK_STEPS = 32


def can_stand_in(m: nn.Module) -> bool:
    """Whether the fused pass may stand in for module ``m``: an ``nn.LSTM`` itself (a subclass may compute something
    else), without a forward of its own set on the instance, on the CPU in float32 or float64."""
    w = getattr(m, "weight_ih_l0", None)
    return (
        type(m) is nn.LSTM
        and "forward" not in m.__dict__
        and w is not None
        and w.device.type == "cpu"
        and w.dtype in (torch.float32, torch.float64)
    )


class StandIn:
    """While entered, every module of ``modules`` that :func:`can_stand_in` is run by the fused pass when a call
    allows it (else by its own forward); :meth:`take` hands the hook what the pass recorded for the call just
    made."""

    def __init__(self, modules):
        self.modules = [m for m in modules if can_stand_in(m)]
        self._last: dict = {}

    def __enter__(self):
        for m in self.modules:
            m.forward = partial(self._forward, m)
        return self

    def __exit__(self, *exc):
        for m in self.modules:
            if "forward" in m.__dict__:
                del m.forward
        self._last.clear()
        return False

    def take(self, m: nn.Module):
        """(layers, input (B, T, D), quantities (B, L, T, units)) of ``m``'s call just made by the pass, or None."""
        return self._last.pop(m, None)

    def _forward(self, m: nn.LSTM, input, hx=None):
        self._last.pop(m, None)
        plan = _plan(m, input, hx)
        if plan is None:
            return nn.LSTM.forward(m, input, hx)
        z, layers, spec, unbatched = plan
        values = recorder._fused_lstm(spec, z)  # (B, L, T, units) views of its buffers
        self._last[m] = (layers, z, values)
        dirs = len(layers[0])
        top = range(len(layers) * dirs - dirs, len(layers) * dirs)
        out = torch.cat([values["h"][:, r] for r in top], dim=-1) if dirs > 1 else values["h"][:, top[0]]
        last = [0 if w.reverse else z.shape[1] - 1 for layer in layers for w in layer]
        h_n = torch.stack([values["h"][:, r, t] for r, t in enumerate(last)])  # (L·dirs, B, P)
        c_n = torch.stack([values["c"][:, r, t] for r, t in enumerate(last)])
        if unbatched:
            return out[0].contiguous(), (h_n[:, 0], c_n[:, 0])
        out = out.contiguous() if m.batch_first else out.transpose(0, 1).contiguous()
        return out, (h_n, c_n)


def _plan(m: nn.LSTM, input, hx):
    """(input as (B, T, D), rows with the call's initial states, their spec, whether unbatched) when the fused pass can make this
    call, else None (torch's kernel makes it, and raises its own errors for a bad call)."""
    w = m.weight_ih_l0
    if torch.is_grad_enabled() or m.training or not isinstance(input, torch.Tensor) or input.dtype != w.dtype:
        return None
    if input.device != w.device or input.dim() not in (2, 3) or input.shape[-1] != m.input_size:
        return None
    unbatched = input.dim() == 2
    z = input[None] if unbatched else (input if m.batch_first else input.transpose(0, 1))
    B, T = z.shape[:2]
    if T == 0:
        return None
    dirs = 2 if m.bidirectional else 1
    P = m.proj_size or m.hidden_size
    rows_n = m.num_layers * dirs
    states = (None, None)
    if hx is not None:
        if not (isinstance(hx, (tuple, list)) and len(hx) == 2 and all(isinstance(s, torch.Tensor) for s in hx)):
            return None
        h0, c0 = (s[:, None] if unbatched else s for s in hx)
        if h0.shape != (rows_n, B, P) or c0.shape != (rows_n, B, m.hidden_size) or h0.dtype != w.dtype:
            return None
        states = (h0, c0)
    layers = tuple(
        tuple(
            replace(
                row,
                h0=None if states[0] is None else states[0][k * dirs + d],
                c0=None if states[1] is None else states[1][k * dirs + d],
            )
            for d, row in enumerate(layer)
        )
        for k, layer in enumerate(_rnn_rows(m))
    )
    spec = _rows_spec(layers, "lstm", source="LSTM")
    if not recorder._fusable(spec, z, None):
        return None
    return z, layers, spec, unbatched


def check_transitions(name: str, layers, z: torch.Tensor, values: dict, check) -> None:
    """Run every layer row's transition at up to CHECK_STEPS steps through torch's kernel, one step each from the
    recorded state before it, and compare with the recorded h and c (``check(name, what, got, expected)``)."""
    B, T = z.shape[:2]
    steps = torch.linspace(0, T - 1, min(T, CHECK_STEPS)).round().long().unique()
    S = len(steps)
    dirs = len(layers[0])
    inp, r = z, 0
    for layer in layers:
        for w in layer:
            h, c = values["h"][:, r], values["c"][:, r]  # (B, T, P), (B, T, H)
            h0, c0 = initial_state(w, "lstm", B, z)
            before = steps + 1 if w.reverse else steps - 1  # the step each transition starts from
            edge = (before < 0) | (before >= T)
            at = before.clamp(0, T - 1)
            h_prev = torch.where(edge[None, :, None], h0[:, None], h[:, at])  # (B, S, P)
            c_prev = torch.where(edge[None, :, None], c0[:, None], c[:, at])
            x = inp[:, steps].reshape(B * S, 1, -1)
            _, h_t, c_t = torch.lstm(
                x,
                (h_prev.reshape(1, B * S, -1), c_prev.reshape(1, B * S, -1)),
                w.flat,
                w.b_ih is not None,
                1,
                0.0,
                False,
                False,
                True,
            )
            what = f"states of layer row {r} at {S} sampled steps (through torch's kernel)"
            check(name, what, h[:, steps].reshape(B * S, -1), h_t[0])
            check(name, what, c[:, steps].reshape(B * S, -1), c_t[0])
            r += 1
        inp = torch.cat([values["h"][:, k] for k in range(r - dirs, r)], dim=-1) if dirs > 1 else values["h"][:, r - 1]
