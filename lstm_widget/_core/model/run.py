"""Running one recurrent layer from its weights (rows of DirectionWeights): torch's kernel for the hidden states,
then every gate for all steps at once (one GEMM) and an LSTM's c by a blocked scan; the step-by-step path for
interventions and for the variants torch's kernels lack. Differentiable; recording runs it under no_grad."""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from .cells import _linear, gru_gates, lstm_gates, step
from .gates import split_gates


def _scan_cell(f: torch.Tensor, u: torch.Tensor, c0: torch.Tensor) -> torch.Tensor:
    """c_t = f_t * c_{t-1} + u_t along dim 1 (B, T, H), from c_{-1} = c0, as a blocked scan.

    The steps are cut into blocks of about sqrt(T): one pass runs the recurrence inside every block at once (from a
    zero state, keeping the running product of f), a second pass carries each block's end state into the next, and
    one vectorised update adds the carried-in state times the running product. O(T) work in about 2·sqrt(T)
    vectorised passes; only products of gates in (0, 1), so nothing overflows.
    """
    B, T, H = f.shape
    K = max(1, math.isqrt(T - 1) + 1) if T > 1 else 1
    nb = -(-T // K)
    pad = nb * K - T
    if pad:
        f = torch.cat([f, f.new_ones(B, pad, H)], dim=1)
        u = torch.cat([u, u.new_zeros(B, pad, H)], dim=1)
    f, u = f.reshape(B, nb, K, H), u.reshape(B, nb, K, H)
    local, prod = torch.empty_like(u), torch.empty_like(f)
    c, p = u.new_zeros(B, nb, H), f.new_ones(B, nb, H)
    for k in range(K):  # inside every block at once
        c = f[:, :, k] * c + u[:, :, k]
        p = p * f[:, :, k]
        local[:, :, k], prod[:, :, k] = c, p
    carry = torch.empty_like(c)
    state = c0
    for b in range(nb):  # block to block
        carry[:, b] = state
        state = local[:, b, -1] + prod[:, b, -1] * state
    return (local + prod * carry[:, :, None]).reshape(B, nb * K, H)[:, :T]


def head_outputs(head, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and probabilities of ``head`` applied at every step of ``out`` (..., features)."""
    logits = head(out)
    probs = torch.sigmoid(logits) if logits.shape[-1] == 1 else torch.softmax(logits, dim=-1)
    return logits, probs


def initial_state(w, cell: str, batch: int, like: torch.Tensor) -> tuple:
    """Direction ``w``'s initial (h0, c0) repeated over ``batch`` (zeros unless the model has its own); c0 None for
    a GRU."""
    P = w.w_hr.shape[0] if w.w_hr is not None else w.w_hh.shape[1]
    h0 = like.new_zeros(batch, P) if w.h0 is None else w.h0.to(like).expand(batch, P).contiguous()
    if cell == "gru":
        return h0, None
    H = w.w_hh.shape[1] if w.w_hr is None else w.w_hr.shape[1]
    c0 = like.new_zeros(batch, H) if w.c0 is None else w.c0.to(like).expand(batch, H).contiguous()
    return h0, c0


def _direction_outputs(w, cell: str, x: torch.Tensor) -> torch.Tensor:
    """The hidden states (B, T, P) of one direction on ``x`` (B, T, D), in ``x``'s time order."""
    if w.reverse:
        x = x.flip(1)
    h, c = initial_state(w, cell, x.shape[0], x)
    if w.torch_native:
        has_bias = w.b_ih is not None
        if cell == "lstm":
            out = torch.lstm(x, (h[None], c[None]), w.flat, has_bias, 1, 0.0, False, False, True)[0]
        else:
            out = torch.gru(x, h[None], w.flat, has_bias, 1, 0.0, False, False, True)[0]
    else:  # a variant torch's kernels lack: one step at a time, vectorised over the batch
        outs = []
        for t in range(x.shape[1]):
            q = step(w, cell, x[:, t], h, c)
            h, c = q["h"], q.get("c")
            outs.append(h)
        out = torch.stack(outs, dim=1)
    return out.flip(1) if w.reverse else out


def layer_outputs(rows, cell: str, inp: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """One layer (its directions ``rows``) on ``inp`` (B, T, D): the output sequence (B, T, dirs·P), directions side
    by side, and each direction's hidden states (B, T, P)."""
    if (
        len(rows) == 2
        and all(w.torch_native and w.h0 is None and w.c0 is None for w in rows)
        and rows[1].reverse
        and not rows[0].reverse
    ):  # the common bidirectional layer: one kernel call for both directions
        B, P = inp.shape[0], rows[0].w_hh.shape[1]
        flat = [t for w in rows for t in w.flat]
        has_bias = rows[0].b_ih is not None
        if cell == "lstm":
            H = rows[0].w_hh.shape[0] // 4
            h0, c0 = inp.new_zeros(2, B, P), inp.new_zeros(2, B, H)
            out = torch.lstm(inp, (h0, c0), flat, has_bias, 1, 0.0, False, True, True)[0]
        else:
            out = torch.gru(inp, inp.new_zeros(2, B, P), flat, has_bias, 1, 0.0, False, True, True)[0]
        return out, [out[..., :P], out[..., P:]]
    hs = [_direction_outputs(w, cell, inp) for w in rows]
    return (hs[0] if len(hs) == 1 else torch.cat(hs, dim=-1)), hs


def _previous(h: torch.Tensor, h0: torch.Tensor, reverse: bool) -> torch.Tensor:
    """The hidden state each step starts from: the step before (the step after, reading backwards), h0 at the start."""
    if reverse:
        return torch.cat([h[:, 1:], h0[:, None]], dim=1)
    return torch.cat([h0[:, None], h[:, :-1]], dim=1)


def _lstm_sequence_gates(w, inp: torch.Tensor, h: torch.Tensor, h0: torch.Tensor) -> dict:
    """i, f, g, o (B, T, H) of one LSTM direction at every step, from its input ``inp`` (B, T, D) and hidden states
    ``h`` (B, T, P): x_t·W_ihᵀ + b for all steps in one GEMM, then h_{t-1}·W_hhᵀ added in place by a second GEMM
    over the flattened (B·T) rows shifted by one — no concatenated copy of [x_t, h_{t-1}]. The rows where the shift
    crosses from one sequence into the next (each sequence's first step in processing order) are recomputed from
    h0. Without autograd the gate nonlinearities run in place, and the gates are views of one (B, T, 4H) block."""
    B, T = inp.shape[:2]
    if torch.is_grad_enabled() or T < 2:
        return lstm_gates(w, inp, _previous(h, h0, w.reverse))
    bias = None if w.b_ih is None else w.b_ih + w.b_hh
    pre = _linear(inp, w.w_ih, bias)  # (B, T, 4H), contiguous
    flat, hs = pre.view(B * T, -1), h.reshape(B * T, -1)
    first = T - 1 if w.reverse else 0  # the step each sequence starts from h0
    if w.reverse:  # row b·T + t reads h[b, t + 1]
        flat[:-1].addmm_(hs[1:], w.w_hh.T)
    else:  # row b·T + t reads h[b, t - 1]
        flat[1:].addmm_(hs[:-1], w.w_hh.T)
    start = inp[:, first] @ w.w_ih.T + h0 @ w.w_hh.T
    pre[:, first] = start if bias is None else start + bias
    blocks = split_gates(pre, axis=-1)
    if w.gate_activation is None:
        for name in ("i", "f", "o"):
            blocks[name].sigmoid_()
    else:
        alpha, beta = w.gate_activation
        for name in ("i", "f", "o"):
            blocks[name].mul_(alpha).add_(beta).clamp_(0.0, 1.0)
    blocks["g"].tanh_()
    return blocks


def row_quantities(w, cell: str, inp: torch.Tensor, h: torch.Tensor) -> dict:
    """Every quantity of one direction, all steps at once, from its layer's input ``inp`` (B, T, D) and its hidden
    states ``h`` (B, T, P): the gates from [x_t, h_{t-1}] in one GEMM, an LSTM's c by the blocked scan. Differentiable
    (``record`` runs it under no_grad; attribution does not)."""
    h0, c0 = initial_state(w, cell, inp.shape[0], inp)
    if cell == "gru":
        return dict(h=h, **gru_gates(w, inp, _previous(h, h0, w.reverse)))
    values = dict(h=h, **_lstm_sequence_gates(w, inp, h, h0))
    i, f, g = values["i"], values["f"], values["g"]
    if w.reverse:  # the reverse direction runs from the last step to the first
        values["c"] = _scan_cell(f.flip(1), (i * g).flip(1), c0).flip(1)
    else:
        values["c"] = _scan_cell(f, i * g, c0)
    return values


def _edited_row(w, cell: str, inp: torch.Tensor, edits) -> dict:
    """Every quantity of one direction under interventions (``edits``: see ``interventions.RowEdits``).

    The steps read before the first intervened one take the vectorised path (torch's kernel, then the gates and the
    scan); from that step on the direction runs one step at a time (vectorised over the batch), each step applying the
    edits active at it, so that later steps see the changed state. A reverse direction is run on the flipped sequence
    as a forward one, its edits mapped to the flipped steps."""
    T = inp.shape[1]
    fwd = replace(w, reverse=False) if w.reverse else w
    x = inp.flip(1) if w.reverse else inp
    when = (lambda k: T - 1 - k) if w.reverse else (lambda k: k)  # processing order -> time step
    steps = edits.steps(T)
    k0 = min(T - 1 - t for t in steps) if w.reverse else min(steps)
    parts = []
    if k0 > 0:
        pre = row_quantities(fwd, cell, x[:, :k0], _direction_outputs(fwd, cell, x[:, :k0]))
        h, c = pre["h"][:, -1], (pre["c"][:, -1] if cell == "lstm" else None)
        parts.append(pre)
    else:
        h, c = initial_state(w, cell, x.shape[0], x)
    loop = []
    for k in range(k0, T):
        q = step(fwd, cell, x[:, k], h, c, edit=edits.at(when(k)))
        h, c = q["h"], q.get("c")
        loop.append(q)
    parts.append({name: torch.stack([q[name] for q in loop], dim=1) for name in loop[0]})
    values = {name: torch.cat([p[name] for p in parts], dim=1) for name in parts[0]}
    return {name: v.flip(1) for name, v in values.items()} if w.reverse else values
