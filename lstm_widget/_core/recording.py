"""Vectorised recording of whole sequences: every gate, cell and hidden state of every layer at every step.

The recurrence itself runs in torch's LSTM kernel (one call per layer); the gates are then recomputed for all steps at
once from the layer's input and the previous hidden states (one matrix product), and the cell states come from an
associative scan of c_t = f_t * c_{t-1} + i_t * g_t (log2(T) vectorised passes) — no Python loop over time steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np
import torch

from .adapters import _AUTO, RecurrentSpec, describe
from .gates import LSTM_QUANTITIES, split_gates
from .validate import check_sequences


@dataclass(frozen=True, eq=False)
class _Activations:
    """The fields a Frame (one step) and a Recording (a whole sequence) share."""

    inputs: np.ndarray
    h: np.ndarray
    c: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    logits: np.ndarray | None
    probs: np.ndarray | None
    layer_names: tuple


@dataclass(frozen=True, eq=False)
class Frame(_Activations):
    """One time step: ``h``, ``c``, ``i``, ``f``, ``g``, ``o`` shaped (L, units); ``probs``/``logits`` (C,) or None."""

    @property
    def prediction(self) -> int | None:
        """Index of the most probable class at this step (None without a head)."""
        return None if self.probs is None else int(np.argmax(self.probs))


@dataclass(frozen=True, eq=False)
class Recording(_Activations):
    """Everything one sequence did inside the network.

    ``inputs`` (T, D); ``h``, ``c``, ``i``, ``f``, ``g``, ``o`` shaped (L, T, units) with L = layers × directions in the
    order of ``layer_names`` (layer0, layer0_reverse, layer1, ...); ``logits`` and ``probs`` (T, C): the head applied
    to the last layer's output at every step, or None when the model has no head.
    Quantities also answer to stable names: ``rec["layer0.h"]`` is (T, units), ``rec["h"]`` is (L, T, units).
    """

    def __len__(self) -> int:
        return self.inputs.shape[0]

    @property
    def names(self) -> list[str]:
        """Every recorded quantity's stable name."""
        out = ["inputs"] + [f"{layer}.{q}" for layer in self.layer_names for q in LSTM_QUANTITIES]
        return out + (["logits", "probs"] if self.probs is not None else [])

    def __getitem__(self, name: str) -> np.ndarray:
        if name in ("inputs", "logits", "probs") + LSTM_QUANTITIES:
            value = getattr(self, name)
            if value is None:
                raise KeyError(f"{name!r}: the model has no head, so nothing was predicted")
            return value
        layer, _, q = name.rpartition(".")
        if layer in self.layer_names and q in LSTM_QUANTITIES:
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
        q = {name: getattr(self, name)[:, t] for name in LSTM_QUANTITIES}
        return Frame(
            inputs=self.inputs[t],
            logits=None if self.logits is None else self.logits[t],
            probs=None if self.probs is None else self.probs[t],
            layer_names=self.layer_names,
            **q,
        )


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


@torch.no_grad()
def record_batch(spec: RecurrentSpec, x: torch.Tensor) -> dict:
    """Record a batch of equal-length sequences ``x`` (B, T, D) float32. Returns arrays shaped (B, L, T, units)."""
    z = spec.preprocess(x) if spec.preprocess is not None else x
    B, T, _ = z.shape
    H, P, dirs = spec.hidden_size, spec.output_size, spec.num_directions
    per_q = {q: [] for q in LSTM_QUANTITIES}
    inp = z
    for layer in spec.layers:
        flat = [w for d in layer for w in d.flat]
        h0 = torch.zeros(dirs, B, P, dtype=z.dtype)
        c0 = torch.zeros(dirs, B, H, dtype=z.dtype)
        has_bias = layer[0].b_ih is not None
        out, _, _ = torch.lstm(inp, (h0, c0), flat, has_bias, 1, 0.0, False, dirs == 2, True)
        for d, w in enumerate(layer):
            h = out[..., d * P:(d + 1) * P]
            zeros = torch.zeros(B, 1, P, dtype=z.dtype)
            h_prev = torch.cat([zeros, h[:, :-1]], 1) if d == 0 else torch.cat([h[:, 1:], zeros], 1)
            # all steps' gate pre-activations in one GEMM: [x_t, h_{t-1}] @ [W_ih, W_hh]^T + b
            both = torch.cat([inp, h_prev], dim=-1).reshape(B * T, -1)
            weights = torch.cat([w.w_ih, w.w_hh], dim=1).T
            pre = (torch.addmm(w.b_ih + w.b_hh, both, weights) if has_bias else both @ weights).reshape(B, T, -1)
            blocks = split_gates(pre, axis=-1)  # PyTorch order; each (B, T, H)
            i, f, o = (torch.sigmoid(blocks[k]) for k in ("i", "f", "o"))
            g = torch.tanh(blocks["g"])
            if d == 0:
                c = _scan_cell(f, i * g, c0[d])
            else:  # the reverse direction runs from the last step to the first
                c = _scan_cell(f.flip(1), (i * g).flip(1), c0[d]).flip(1)
            for q, v in zip(LSTM_QUANTITIES, (h, c, i, f, g, o)):
                per_q[q].append(v)
        inp = out
    result = {q: _numpy(torch.stack(v, dim=1)) for q, v in per_q.items()}  # (B, L, T, units)
    if spec.head is not None:
        logits, probs = head_outputs(spec.head, inp)
        result["logits"], result["probs"] = _numpy(logits), _numpy(probs)
    return result


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()


def record(model, x, *, lstm=None, head=_AUTO, _spec: RecurrentSpec | None = None):
    """Record what ``model`` does on ``x``: one sequence (T, D) → a :class:`Recording`; a list of sequences (any
    lengths) → a list of Recordings.

    ``model`` is an ``nn.LSTM`` (any layers, either ``batch_first``, bidirectional, with or without bias or
    projection), an ``nn.LSTMCell``, or a module containing one recurrent layer and optionally a head (a Linear on the
    LSTM's output, found automatically, or named with ``lstm=`` / ``head=``).
    """
    spec = _spec or describe(model, lstm=lstm, head=head)
    seqs, was_list = check_sequences(x, spec.raw_features)
    by_length: dict[int, list[int]] = {}
    for k, s in enumerate(seqs):
        by_length.setdefault(s.shape[0], []).append(k)
    out: list[Recording | None] = [None] * len(seqs)
    for idx in by_length.values():
        batch = torch.from_numpy(np.stack([seqs[k] for k in idx])).to(spec.device, spec.dtype)
        res = record_batch(spec, batch)
        for b, k in enumerate(idx):
            out[k] = Recording(
                inputs=seqs[k],
                layer_names=spec.layer_names,
                logits=res["logits"][b] if "logits" in res else None,
                probs=res["probs"][b] if "probs" in res else None,
                **{q: res[q][b] for q in LSTM_QUANTITIES},
            )
    return out if was_list else out[0]
