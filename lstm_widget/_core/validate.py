"""Input checks for the kernel core: every bad input gets one error that says what was wrong and what was expected.
Also the one conversion of a tensor to a numpy array (:func:`to_numpy`)."""

from __future__ import annotations

import numbers

import numpy as np


def _describe(x) -> str:
    return f"{type(x).__name__} of shape {tuple(x.shape)}" if hasattr(x, "shape") else type(x).__name__


def as_float_array(x, what: str) -> np.ndarray:
    """Return ``x`` (numpy array or torch tensor) as a numpy array, refusing dtypes that are not floating point."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor, without importing torch here
        check_tensor_device(x, what)
        if x.is_complex() or not x.is_floating_point():
            raise TypeError(f"{what} has dtype {x.dtype}; expected a floating-point tensor (float32 or float64)")
        x = to_numpy(x, np.float32)
    elif not isinstance(x, np.ndarray):
        raise TypeError(
            f"{what} is a {type(x).__name__}; expected a numpy array or torch tensor shaped (steps, features)"
        )
    if x.dtype.kind != "f":
        raise TypeError(
            f"{what} has dtype {x.dtype}; expected floating point (float32 or float64) — convert features with "
            "x.astype('float32'); integer token ids are taken by lw.record and lw.Stepper on a model with an "
            "nn.Embedding, not here yet"
        )
    return x


def to_numpy(t, dtype=None) -> np.ndarray:
    """``t`` (a torch tensor on any device, with or without grad, a numpy array, or anything ``np.asarray`` reads) as a
    numpy array of ``dtype``. ``dtype=None`` keeps the tensor's dtype, except the floating-point types numpy lacks
    (bfloat16, float16), which become float32. A CPU tensor of the asked dtype shares its memory with the result."""
    if hasattr(t, "detach") and hasattr(t, "cpu"):  # torch.Tensor, without importing torch here
        t = t.detach()
        if t.is_floating_point() and (
            (dtype is not None and np.dtype(dtype) == np.float32)
            or str(t.dtype) not in ("torch.float32", "torch.float64")
        ):
            t = t.float()  # cast on the device: half the bytes to copy for float64, and numpy has no bfloat16
        t = t.cpu().numpy()
    return np.asarray(t, dtype=dtype)


def is_int(value) -> bool:
    """Whether ``value`` is a whole number of an integer type (Python or numpy), not a bool."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def check_int(value, name: str, *, low=None, high=None, expected: str | None = None, error=ValueError) -> int:
    """``value`` as a Python int when it is an integer (Python or numpy; not a bool, not a float) with
    ``low <= value < high`` (``None``: no bound); else one ``error``: "``name`` must be ``expected``; got ``value``"
    (with the type when it is not an integer). ``expected`` defaults to "a whole number" with the range."""
    ok = is_int(value)
    if ok and (low is None or value >= low) and (high is None or value < high):
        return int(value)
    if expected is None:
        expected = "a whole number" + (
            ""
            if low is None and high is None
            else f" >= {low}"
            if high is None
            else f" <= {high - 1}"
            if low is None
            else f" in {low}..{high - 1}"
        )
    got = f"{value!r}" if ok else f"{value!r} ({type(value).__name__})"
    raise error(f"{name} must be {expected}; got {got}")


def check_text(value: str, what: str) -> str:
    """``value`` (a str) when it can be written as UTF-8 — what the page, a saved notebook and an export need; a
    ValueError naming ``what`` and where the lone surrogate sits when it cannot."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ValueError(
            f"{what} {shown!r} holds a lone surrogate ({value[err.start]!r} at position {err.start}) that cannot be "
            "written as UTF-8; expected text without lone surrogates (decode bytes with errors='replace')"
        ) from None
    return value


def check_tensor_device(x, what: str) -> None:
    """Refuse a tensor on the meta device (a shape without values); tensors on any other device are copied to the
    CPU by the callers."""
    device = getattr(x, "device", None)
    if getattr(device, "type", None) == "meta":
        raise ValueError(
            f"{what} is a tensor on the meta device (shape {tuple(x.shape)}, no values); expected a tensor with data "
            "(any device: it is copied to the CPU)"
        )


def check_model_device(model, what: str = "model") -> None:
    """Refuse a module whose parameters or buffers are on the meta device (built without weights)."""
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if getattr(tensor.device, "type", None) == "meta":
            raise ValueError(
                f"{what} has {name!r} on the meta device (no values); expected a model with weights — "
                "call model.to_empty(device='cpu') and load its state dict first"
            )


def check_model_finite(model, what: str = "model") -> None:
    """Refuse a module with a NaN or infinite value in a parameter, naming the first such parameter and where in it
    the value sits. One sum per parameter: a NaN or Inf anywhere makes the sum non-finite, so a finite sum clears the
    parameter (several times faster than an elementwise ``isfinite``); only a non-finite sum — a bad value, or finite
    values whose sum overflows — is looked at element by element."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if not (p.is_floating_point() or p.is_complex()) or p.device.type == "meta" or p.numel() == 0:
                continue
            if bool(torch.isfinite(p.sum())):
                continue
            bad = ~torch.isfinite(p)
            if not bool(bad.any()):
                continue  # finite values whose sum overflowed
            where = tuple(int(k) for k in bad.nonzero()[0].tolist())
            raise ValueError(
                f"{what} has {p[where].item()} in parameter {name!r} (shape {tuple(p.shape)}) at index {where}, and "
                f"{int(bad.sum())} non-finite values in all; expected finite weights — the model diverged in training "
                "or was loaded from damaged weights"
            )


def _check_finite(x: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        idx = tuple(int(k) for k in np.argwhere(bad)[0])
        value = x[idx]
        where = f"step {idx[0]}, feature {idx[1]}" if len(idx) == 2 else f"index {idx}"
        raise ValueError(f"{what} contains {value} at {where}; expected finite numbers (no NaN or Inf)")


def check_sequence(x, n_features: int | None, what: str = "the sequence") -> np.ndarray:
    """Validate one sequence shaped (T, D) and return it as a C-contiguous float32 array."""
    x = as_float_array(x, what)
    if x.ndim != 2:
        hint = {
            0: "a single number",
            1: "a 1-D array: for one step use x[None, :], for a one-feature series use x[:, None]",
            3: "a 3-D array (a batch?): this takes one sequence, e.g. x[0] for the first one",
        }.get(x.ndim, f"a {x.ndim}-D array")
        raise ValueError(f"{what} has shape {tuple(x.shape)} — {hint}; expected one sequence shaped (steps, features)")
    if x.shape[0] == 0:
        raise ValueError(f"{what} is empty (0 steps, shape {tuple(x.shape)}); expected at least one step")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(
            f"{what} has {x.shape[1]} features per step (shape {tuple(x.shape)}); the model expects {n_features}"
        )
    _check_finite(x, what)
    return np.ascontiguousarray(x, dtype=np.float32)


def check_step(x, n_features: int | None, what: str = "the step") -> np.ndarray:
    """Validate one time step shaped (D,) and return it as float32."""
    x = as_float_array(x, what)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 1:
        raise ValueError(f"{what} has shape {tuple(x.shape)}; expected one step shaped (features,)")
    if n_features is not None and x.shape[0] != n_features:
        raise ValueError(f"{what} has {x.shape[0]} features; the model expects {n_features}")
    _check_finite(x[None], what)
    return np.ascontiguousarray(x, dtype=np.float32)


def check_sequences(xs, n_features: int | None) -> tuple[list[np.ndarray], bool]:
    """Accept one sequence or a list/tuple of sequences; return (list of float32 arrays, was_a_list)."""
    if isinstance(xs, (list, tuple)):
        if len(xs) == 0:
            raise ValueError("got an empty list of sequences; expected at least one (steps, features) array")
        return [check_sequence(x, n_features, f"sequence {k}") for k, x in enumerate(xs)], True
    return [check_sequence(xs, n_features)], False


def resolve_layer(names, layer, what: str = "layer") -> int:
    """The row index of ``layer`` among a recording's ``names`` (layer0, layer0_reverse, layer1, ...): a name, or an
    index (negative counts from the end)."""
    names = tuple(names)
    if isinstance(layer, str) and layer in names:
        return names.index(layer)
    if is_int(layer) and -len(names) <= layer < len(names):
        return int(layer) % len(names)
    raise ValueError(
        f"{what} must be a row index (0..{len(names) - 1}; negative counts from the end) or a name from "
        f"{list(names)}; got {layer!r}"
    )
