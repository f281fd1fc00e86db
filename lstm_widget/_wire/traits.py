"""Array trait types: traits that hold numpy arrays and serialise themselves to the wire (js/PROTOCOL.md).

A widget never encodes an array by hand. It puts a :class:`WireArray` — the values and the dtype they travel in —
into a trait of type :class:`Array` (one array, or none) or :class:`ArrayTree` (a JSON dict whose leaves may be
arrays, e.g. ``_arrays`` or a payload like ``_influence``). The trait checks what it is given and encodes each array
when the state is sent (once per array: the encoding is kept with it), so the page, a saved notebook and the HTML
export all receive the same bytes.
"""

from __future__ import annotations

import numpy as np
import traitlets as tl

from .arrays import check_array_dtype, encode_array


class WireArray:
    """A numpy array and the wire dtype it travels in (a float dtype of ``WIRE_DTYPES``, or ``"int32"`` for integer
    indices). Immutable: the encoding is computed once, when first sent."""

    __slots__ = ("values", "dtype", "_entry")

    def __init__(self, values, dtype: str):
        values = np.asarray(values)
        check_array_dtype(values, dtype)
        self.values, self.dtype, self._entry = values, dtype, None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    def encode(self) -> dict:
        """The encoded array (``{"buffer", "dtype", "shape"}`` …) as it travels."""
        if self._entry is None:
            self._entry = encode_array(self.values, self.dtype)
        return self._entry

    @property
    def nbytes(self) -> int:
        return self.encode()["buffer"].nbytes

    def __repr__(self) -> str:
        return f"<WireArray {self.shape} {self.dtype} at {id(self):#x}>"


def to_wire(value):
    """``value`` with every :class:`WireArray` in it (nested in dicts and lists) replaced by its encoding."""
    if isinstance(value, WireArray):
        return value.encode()
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def _to_json(value, widget):
    return to_wire(value)


def _array_to_json(value, widget):
    return {} if value is None else value.encode()


def _bare_array(value, path: str) -> str | None:
    """The path of the first numpy array in ``value`` not wrapped in a :class:`WireArray`, or None."""
    if isinstance(value, np.ndarray):
        return path
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for k, v in items:
        found = _bare_array(v, f"{path}[{k!r}]")
        if found:
            return found
    return None


class Array(tl.TraitType):
    """One array on the wire, or None (sent as ``{}``: "not loaded")."""

    default_value = None
    info_text = "a WireArray or None"

    def __init__(self, **kwargs):
        super().__init__(default_value=None, allow_none=True, **kwargs)
        self.tag(sync=True, to_json=_array_to_json)

    def validate(self, obj, value):
        if value is None or isinstance(value, WireArray):
            return value
        self.error(obj, value)


class ArrayTree(tl.TraitType):
    """A JSON dict whose leaves may be arrays (:class:`WireArray`); ``{}`` by default. A bare numpy array is refused:
    the dtype it travels in must be said."""

    info_text = "a dict of JSON values and WireArrays"

    def __init__(self, **kwargs):
        super().__init__(default_value={}, **kwargs)
        self.tag(sync=True, to_json=_to_json)

    def make_dynamic_default(self):
        return {}

    def validate(self, obj, value):
        if not isinstance(value, dict):
            self.error(obj, value)
        bare = _bare_array(value, self.name)
        if bare:
            raise tl.TraitError(
                f"{bare} is a bare numpy array; wrap it as WireArray(values, dtype) to say the dtype it travels in"
            )
        return value
