"""The wire, in one place: numpy arrays ↔ binary buffers (``arrays``) and the trait types that hold arrays and
serialise themselves (``traits``). js/PROTOCOL.md describes what travels."""

from .arrays import INDEX_DTYPE, WIRE_DTYPES, check_wire_dtype, decode_array, encode_array, split_message
from .traits import Array, ArrayTree, WireArray, to_wire

__all__ = [
    "INDEX_DTYPE",
    "WIRE_DTYPES",
    "Array",
    "ArrayTree",
    "WireArray",
    "check_wire_dtype",
    "decode_array",
    "encode_array",
    "split_message",
    "to_wire",
]
