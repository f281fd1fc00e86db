"""The arithmetic of one LSTM or GRU step, and of all steps' gates at once, shared by ``record``, ``Stepper`` and
:class:`RecurrentStack` — written once so that the three agree.

PyTorch's equations, with two variants torch's kernels lack (see :class:`DirectionWeights`): a hard sigmoid for the
gates, and the GRU that applies its reset gate before the recurrent product.

LSTM: i, f, o = σ(W x + U h + b) blocks; g = tanh(...); c' = f·c + i·g; h' = o·tanh(c') (then W_hr h' if projected).
GRU:  r, z = σ(W_i x + b_i + W_h h + b_h) blocks; n = tanh(W_in x + b_in + r·(W_hn h + b_hn)); h' = (1 − z)·n + z·h.
"""

from __future__ import annotations

import torch

from .gates import split_gates


def gate_fn(gate_activation):
    """The gate squashing function: the logistic sigmoid, or a hard sigmoid clip(alpha·x + beta, 0, 1)."""
    if gate_activation is None:
        return torch.sigmoid
    alpha, beta = gate_activation
    return lambda x: torch.clamp(x * alpha + beta, 0.0, 1.0)


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """x @ w.T + b over any leading dimensions, as one GEMM."""
    flat = x.reshape(-1, x.shape[-1])
    out = torch.addmm(b, flat, w.T) if b is not None else flat @ w.T
    return out.reshape(*x.shape[:-1], w.shape[0])


def lstm_gates(w, x: torch.Tensor, h_prev: torch.Tensor) -> dict:
    """i, f, g, o for inputs ``x`` (..., D) and previous hidden states ``h_prev`` (..., P): one GEMM for all."""
    both = torch.cat([x, h_prev], dim=-1)
    weights = torch.cat([w.w_ih, w.w_hh], dim=1)
    bias = None if w.b_ih is None else w.b_ih + w.b_hh
    blocks = split_gates(_linear(both, weights, bias), axis=-1)
    act = gate_fn(w.gate_activation)
    return {"i": act(blocks["i"]), "f": act(blocks["f"]), "g": torch.tanh(blocks["g"]), "o": act(blocks["o"])}


def gru_gates(w, x: torch.Tensor, h_prev: torch.Tensor) -> dict:
    """r, z, n for inputs ``x`` (..., D) and previous hidden states ``h_prev`` (..., H)."""
    gi = split_gates(_linear(x, w.w_ih, w.b_ih), axis=-1, cell="gru")
    act = gate_fn(w.gate_activation)
    if w.reset_after:  # PyTorch's GRU: the reset gate scales the recurrent product
        gh = split_gates(_linear(h_prev, w.w_hh, w.b_hh), axis=-1, cell="gru")
        r, z = act(gi["r"] + gh["r"]), act(gi["z"] + gh["z"])
        n = torch.tanh(gi["n"] + r * gh["n"])
    else:  # the reset gate scales the previous state before the product: one product per block
        u = split_gates(w.w_hh, cell="gru")
        bh = split_gates(w.b_hh, cell="gru") if w.b_hh is not None else dict.fromkeys(u)
        r = act(gi["r"] + _linear(h_prev, u["r"], bh["r"]))
        z = act(gi["z"] + _linear(h_prev, u["z"], bh["z"]))
        n = torch.tanh(gi["n"] + _linear(r * h_prev, u["n"], bh["n"]))
    return {"r": r, "z": z, "n": n}


def step(w, cell: str, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None, edit=None) -> dict:
    """One step of one direction from state (h, c): every quantity at the new step, h and c included.

    ``edit(name, value) -> value`` (an intervention) may replace the new ``"c"`` — before h is computed from it, so
    that h = o·tanh(c) still holds — and then the new ``"h"``; what it returns is what the step records and passes on.
    """
    if cell == "gru":
        q = gru_gates(w, x, h)
        q["h"] = (1 - q["z"]) * q["n"] + q["z"] * h
        if edit is not None:
            q["h"] = edit("h", q["h"])
        return q
    q = lstm_gates(w, x, h)
    q["c"] = q["f"] * c + q["i"] * q["g"]
    if edit is not None:
        q["c"] = edit("c", q["c"])
    h = q["o"] * torch.tanh(q["c"])
    q["h"] = h @ w.w_hr.T if w.w_hr is not None else h
    if edit is not None:
        q["h"] = edit("h", q["h"])
    return q
