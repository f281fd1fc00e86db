"""Token models on the page: the vocabulary that labels every step (``Explorer(..., tokens=vocab)`` →
``_meta.vocab``) and, for a large vocabulary, the top-k next tokens computed here instead of sending every class's
probability (``_arrays.topk_ids``, ``topk_probs``, ``next_rank``, ``next_prob``; js/PROTOCOL.md, "Token models")."""

from __future__ import annotations

import numpy as np
import torch

from .._core.validate import is_int

#: The most ids a vocabulary may resolve (``_meta.vocab`` travels as JSON in every update and export).
VOCAB_MAX = 200_000
#: A token model whose head has more classes than this shows the top-k next tokens instead of every probability.
TOPK_ABOVE = 20
#: The default k of ``top_k``.
TOP_K = 10


def _checked_string(value, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where} is a {type(value).__name__}; a vocabulary maps each id to a str")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{where} = {value!r} holds a lone surrogate (half of a UTF-16 pair), which no page can show; decode "
            "the text with errors='replace' or fix the vocabulary"
        ) from None
    return value


#: Characters a label shows as a visible sign (js/src/tokens.js, ``visibleToken``; the text view keeps the raw string).
_VISIBLE = {"\n": "⏎", "\r": "↵", "\t": "⇥", " ": "␣"}


def token_label(vocab: list[str] | None, i: int) -> str:
    """The label the page gives token ``i`` (js/src/tokens.js ``tokenLabel``): its vocabulary string with newline ⏎,
    space ␣, tab ⇥, other C0 controls as their control pictures and DEL as ␡ ("∅" for the empty string), or "#i"
    without a vocabulary."""
    if vocab is None or i >= len(vocab):
        return f"#{i}"
    out = "".join(
        _VISIBLE.get(ch) or (chr(0x2400 + ord(ch)) if ord(ch) < 0x20 else "␡" if ord(ch) == 0x7F else ch)
        for ch in vocab[i]
    )
    return out or "∅"


def resolve_vocab(tokens, n_ids: int) -> list[str] | None:
    """The string of every id 0..n_ids-1 from ``tokens``: None (no vocabulary), a list / tuple / array of strings
    (at least ``n_ids`` of them; ids past ``n_ids`` are dropped) or a callable id → str (called once per id). One
    clear error for anything else, for a non-string entry, a lone surrogate, or more than ``VOCAB_MAX`` ids."""
    if tokens is None:
        return None
    if n_ids > VOCAB_MAX:
        raise ValueError(
            f"tokens= would label {n_ids} ids; the page takes at most {VOCAB_MAX} (lstm_widget._widget.tokens."
            "VOCAB_MAX): label the ids in Python instead (rec.inputs holds them)"
        )
    if callable(tokens) and not isinstance(tokens, (list, tuple, np.ndarray)):
        out = []
        for k in range(n_ids):
            try:
                value = tokens(k)
            except Exception as err:
                raise ValueError(f"tokens({k}) failed ({type(err).__name__}: {err}); tokens= must map every id "
                                 f"0..{n_ids - 1} to a str") from err  # fmt: skip
            out.append(_checked_string(value, f"tokens({k})"))
        return out
    if isinstance(tokens, (str, bytes, dict)) or not hasattr(tokens, "__len__"):
        raise TypeError(
            f"tokens must be a list of strings (id → string) or a callable id → string; got {type(tokens).__name__}"
        )
    items = list(np.asarray(tokens, dtype=object).reshape(-1)) if isinstance(tokens, np.ndarray) else list(tokens)
    if len(items) < n_ids:
        raise ValueError(f"tokens has {len(items)} entries; the model takes ids 0..{n_ids - 1} ({n_ids} of them)")
    return [_checked_string(v, f"tokens[{k}]") for k, v in enumerate(items[:n_ids])]


def check_top_k(k) -> int:
    if not is_int(k) or int(k) < 1:
        raise ValueError(f"top_k must be a whole number >= 1 (next tokens listed per step); got {k!r}")
    return int(k)


def shows_top_k(tokens: bool, n_classes: int) -> bool:
    """Whether the page lists the top-k next tokens instead of every class's probability."""
    return tokens and n_classes > TOPK_ABOVE


def top_k_arrays(probs: np.ndarray, ids: np.ndarray, k: int, next_token: bool) -> dict:
    """The top-k of one sequence's probabilities (T, C) as the page gets them: ``topk_ids`` int32 (T, k) and
    ``topk_probs`` (T, k), best first (``torch.topk``'s order); ``next_rank`` int32 (T,) — the rank (1 = most
    probable) the model gave at t to the sequence's own next id ``ids[t + 1]`` — and ``next_prob`` (T,) its
    probability; -1 and 0 where it is not known (the last step, a step without a next id, a step where the head did
    not run, or a head whose classes are not the token ids: ``next_token`` False). A step where the head did not run
    (its probabilities are not finite: another module's stage) has no top-k: ids -1, probabilities NaN."""
    p = torch.from_numpy(np.ascontiguousarray(probs, dtype=np.float32))
    values, index = torch.topk(p, min(k, p.shape[1]), dim=1)
    T = p.shape[0]
    ran = torch.isfinite(p).all(dim=1).numpy()
    index[torch.from_numpy(~ran)] = -1
    values[torch.from_numpy(~ran)] = float("nan")
    rank = np.full(T, -1, np.int32)
    prob = np.zeros(T, np.float32)
    if next_token and T > 1:
        nxt = np.asarray(ids[1:T], np.int64)
        known = np.flatnonzero((nxt >= 0) & (nxt < p.shape[1]) & ran[: T - 1])
        if known.size:
            rows = p[known]
            actual = rows[torch.arange(known.size), torch.from_numpy(nxt[known])]
            rank[known] = (1 + (rows > actual[:, None]).sum(dim=1)).numpy().astype(np.int32)
            prob[known] = actual.numpy()
    return {
        "topk_ids": index.numpy().astype(np.int32),
        "topk_probs": values.numpy(),
        "next_rank": rank,
        "next_prob": prob,
    }
