"""The wire, in one place: numpy arrays ↔ binary buffers for traits and custom messages (see js/PROTOCOL.md).

Arrays travel as raw little-endian bytes with their dtype and shape beside them — never as JSON lists of numbers.
float32 is exact; float16 halves the bytes; uint8 quarters them with a per-array scale and offset.
"""

from __future__ import annotations

import numpy as np

WIRE_DTYPES = ("float32", "float16", "uint8")


def check_wire_dtype(dtype: str) -> str:
    if dtype not in WIRE_DTYPES:
        raise ValueError(f"wire dtype {dtype!r} is not supported; expected one of {WIRE_DTYPES}")
    return dtype


def encode_array(a, dtype: str = "float32") -> dict:
    """Encode ``a`` as ``{"buffer", "dtype", "shape"}`` (+ ``scale``/``offset`` for uint8)."""
    a = np.asarray(a)
    shape = [int(n) for n in a.shape]
    if a.dtype.kind in "iub" and dtype == "float32" and a.dtype != np.float32:
        out = np.ascontiguousarray(a, dtype="<i4")
        return {"buffer": memoryview(out.reshape(-1)).cast("B"), "dtype": "int32", "shape": shape}
    check_wire_dtype(dtype)
    entry: dict = {"dtype": dtype, "shape": shape}
    if dtype == "uint8":
        lo = float(a.min()) if a.size else 0.0
        hi = float(a.max()) if a.size else 0.0
        scale = (hi - lo) / 255.0 or 1.0
        out = np.clip(np.rint((a - lo) / scale), 0, 255).astype(np.uint8)
        entry.update(scale=scale, offset=lo)
    else:
        out = np.ascontiguousarray(a, dtype="<f4" if dtype == "float32" else "<f2")
    entry["buffer"] = memoryview(np.ascontiguousarray(out).reshape(-1)).cast("B")
    return entry


def decode_array(entry: dict) -> np.ndarray:
    """Inverse of :func:`encode_array` (used by tests and exports): always returns float32 (or int32)."""
    kind = entry["dtype"]
    raw = bytes(entry["buffer"])
    np_dtype = {"float32": "<f4", "float16": "<f2", "uint8": "u1", "int32": "<i4"}[kind]
    a = np.frombuffer(raw, dtype=np_dtype).reshape(entry["shape"])
    if kind == "uint8":
        return (entry["offset"] + entry["scale"] * a.astype(np.float32)).astype(np.float32)
    return a.astype(np.int32 if kind == "int32" else np.float32)


def split_message(fields: dict, dtype: str = "float32") -> tuple[list[dict], list[memoryview]]:
    """Encode named arrays for a custom message: (field descriptions, buffers in the same order)."""
    descs, buffers = [], []
    for name, arr in fields.items():
        entry = encode_array(arr, dtype)
        buffers.append(entry.pop("buffer"))
        descs.append({"name": name, **entry})
    return descs, buffers
