"""A recurrent module's weights as rows of :class:`DirectionWeights` (per layer, per direction, PyTorch layout):
what recording, stepping and the stacks brought in from other frameworks all run on."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class DirectionWeights:
    """Parameters of one layer in one direction, PyTorch layout (gate blocks i, f, g, o for an LSTM, r, z, n for a
    GRU), and how that direction runs."""

    w_ih: torch.Tensor  # (4H or 3H, D_in)
    w_hh: torch.Tensor  # (4H or 3H, H_out)
    b_ih: torch.Tensor | None  # (4H or 3H,)
    b_hh: torch.Tensor | None  # (4H or 3H,)
    w_hr: torch.Tensor | None  # (P, H) LSTM projection, or None
    reverse: bool = False  # reads the sequence from its last step to its first
    h0: torch.Tensor | None = None  # (H_out,) initial hidden state; None: zeros
    c0: torch.Tensor | None = None  # (H,) initial LSTM cell state; None: zeros
    gate_activation: tuple | None = None  # None: sigmoid; (alpha, beta): hard sigmoid clip(alpha·x + beta, 0, 1)
    # GRU: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)) (PyTorch); False: n = tanh(W_in x + b_in + W_hn (r·h) + b_hn)
    reset_after: bool = True

    @property
    def flat(self) -> list[torch.Tensor]:
        """The weight list torch's LSTM / GRU kernel takes for this direction."""
        ws = [self.w_ih, self.w_hh]
        if self.b_ih is not None:
            ws += [self.b_ih, self.b_hh]
        if self.w_hr is not None:
            ws.append(self.w_hr)
        return ws

    @property
    def torch_native(self) -> bool:
        """Whether torch's own LSTM / GRU kernel computes this direction (sigmoid gates, PyTorch's GRU variant)."""
        return self.gate_activation is None and self.reset_after


def _rnn_rows(m: nn.Module, options=None, initial=None) -> tuple:
    """rows[l][d] → DirectionWeights of an nn.LSTM / nn.GRU (``options`` and ``initial`` from a RecurrentStack)."""
    dirs = 2 if m.bidirectional else 1
    extra = {} if options is None else dict(gate_activation=options.gate_activation, reset_after=options.reset_after)
    layers = []
    for li in range(m.num_layers):
        row = []
        for d in range(dirs):
            sfx = f"_l{li}" + ("_reverse" if d else "")
            get = lambda name, sfx=sfx: getattr(m, name + sfx, None)  # noqa: E731
            h0, c0 = (None, None) if initial is None else (None if s is None else s[d] for s in initial)
            row.append(
                DirectionWeights(
                    w_ih=get("weight_ih").detach(),
                    w_hh=get("weight_hh").detach(),
                    b_ih=None if not m.bias else get("bias_ih").detach(),
                    b_hh=None if not m.bias else get("bias_hh").detach(),
                    w_hr=get("weight_hr").detach() if getattr(m, "proj_size", 0) else None,
                    reverse=bool(d) or (options is not None and options.reverse),
                    h0=h0,
                    c0=c0,
                    **extra,
                )
            )
        layers.append(tuple(row))
    return tuple(layers)


def _cell_rows(m: nn.Module) -> tuple:
    w = DirectionWeights(
        w_ih=m.weight_ih.detach(),
        w_hh=m.weight_hh.detach(),
        b_ih=m.bias_ih.detach() if m.bias else None,
        b_hh=m.bias_hh.detach() if m.bias else None,
        w_hr=None,
    )
    return ((w,),)
