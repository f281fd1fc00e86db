"""Numpy arrays ↔ binary buffers: the encoding every array on the wire uses (see js/PROTOCOL.md, "Encoded array").

Arrays travel as raw little-endian bytes with their dtype and shape beside them — never as JSON lists of numbers.
float32 is exact; float16 halves the bytes; uint8 quarters them with a per-array scale and offset; int32 carries
integer indices (units, classes, ranks) exactly. The dtype is always said by the caller: nothing is guessed from the
array.
"""

from __future__ import annotations

import numpy as np

#: The dtypes float data may travel in (``wire_dtype``).
WIRE_DTYPES = ("float32", "float16", "uint8")
#: The dtype integer indices travel in.
INDEX_DTYPE = "int32"
#: The byte a uint8 array carries NaN in (said by the entry's ``nan`` key, present only when there is a NaN).
NAN_BYTE = 255
_NUMPY = {"float32": "<f4", "float16": "<f2", "uint8": "u1", "int32": "<i4"}


def check_wire_dtype(dtype: str) -> str:
    """``dtype`` when it is one of :data:`WIRE_DTYPES`, else a ValueError that lists them."""
    if dtype not in WIRE_DTYPES:
        raise ValueError(f"wire dtype {dtype!r} is not supported; expected one of {WIRE_DTYPES}")
    return dtype


def check_array_dtype(values: np.ndarray, dtype: str) -> None:
    """Refuse a wire ``dtype`` that cannot carry ``values``: int32 only for integers that fit, float dtypes for
    numbers."""
    if dtype == INDEX_DTYPE:
        if values.dtype.kind not in "iub":
            raise TypeError(f"int32 carries integer indices; got an array of {values.dtype}")
        if values.size and (values.min() < np.iinfo(np.int32).min or values.max() > np.iinfo(np.int32).max):
            raise ValueError("the integers do not fit in int32")
        return
    check_wire_dtype(dtype)
    if values.dtype.kind not in "fiub":
        raise TypeError(f"{dtype} carries numbers; got an array of {values.dtype}")


def encode_array(a, dtype: str) -> dict:
    """Encode ``a`` as ``{"buffer", "dtype", "shape"}`` (+ ``scale``/``offset`` for uint8) in wire ``dtype``
    (one of :data:`WIRE_DTYPES`, or ``"int32"`` for integer indices)."""
    a = np.asarray(a)
    check_array_dtype(a, dtype)
    entry: dict = {"dtype": dtype, "shape": [int(n) for n in a.shape]}
    if dtype == "uint8":
        # NaN (a step where a module did not run) travels as the byte ``nan`` (255); the numbers get 0..254 then
        missing = np.isnan(a) if a.dtype.kind == "f" else None
        has_nan = missing is not None and bool(missing.any())
        levels = 254.0 if has_nan else 255.0
        lo = float(np.nanmin(a)) if a.size and not (has_nan and missing.all()) else 0.0
        hi = float(np.nanmax(a)) if a.size and not (has_nan and missing.all()) else 0.0
        scale = (hi - lo) / levels or 1.0
        out = np.clip(np.rint((np.nan_to_num(a, nan=lo) - lo) / scale), 0, levels).astype(np.uint8)
        if has_nan:
            out[missing] = NAN_BYTE
            entry["nan"] = NAN_BYTE
        entry.update(scale=scale, offset=lo)
    else:
        out = np.ascontiguousarray(a, dtype=_NUMPY[dtype])
    entry["buffer"] = memoryview(np.ascontiguousarray(out).reshape(-1)).cast("B")
    return entry


def decode_array(entry) -> np.ndarray:
    """What the page decodes (used by tests and exports): float32, or int32 for indices. ``entry`` is an encoded
    array, or a ``WireArray`` as an array trait holds it (decoded as it is sent)."""
    if hasattr(entry, "encode") and not isinstance(entry, dict):
        entry = entry.encode()
    kind = entry["dtype"]
    a = np.frombuffer(bytes(entry["buffer"]), dtype=_NUMPY[kind]).reshape(entry["shape"])
    if kind == "uint8":
        out = (entry["offset"] + entry["scale"] * a.astype(np.float32)).astype(np.float32)
        if entry.get("nan") is not None:
            out[a == entry["nan"]] = np.nan
        return out
    return a.astype(np.int32 if kind == INDEX_DTYPE else np.float32)


def split_message(fields: dict, dtype: str) -> tuple[list[dict], list[memoryview]]:
    """Encode named arrays for a custom message (live appends): (field descriptions, buffers in the same order)."""
    descs, buffers = [], []
    for name, arr in fields.items():
        entry = encode_array(arr, dtype)
        buffers.append(entry.pop("buffer"))
        descs.append({"name": name, **entry})
    return descs, buffers
