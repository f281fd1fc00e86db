"""The wire: arrays become little-endian bytes with dtype and shape, and come back as the same numbers; the array
traits hold arrays with the dtype they travel in and serialise them themselves."""

import numpy as np
import pytest
import traitlets as tl
from ipywidgets.widgets.widget import _remove_buffers

from lstm_widget._wire import Array, ArrayTree, WireArray, decode_array, encode_array, split_message, to_wire


def test_float32_round_trip_is_exact_and_little_endian():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7
    e = encode_array(a, "float32")
    assert e["dtype"] == "float32" and e["shape"] == [2, 3, 4]
    assert isinstance(e["buffer"], memoryview) and e["buffer"].nbytes == 24 * 4
    assert (
        bytes(e["buffer"][:4]) == np.float32(0).tobytes()
        and bytes(e["buffer"][4:8]) == np.float32(1 / 7).astype("<f4").tobytes()
    )
    np.testing.assert_array_equal(decode_array(e), a.astype(np.float32))


def test_non_contiguous_input_is_sent_in_c_order():
    a = np.arange(12, dtype=np.float32).reshape(3, 4).T
    np.testing.assert_array_equal(decode_array(encode_array(a, "float32")), a)


def test_float16_halves_the_bytes():
    a = np.linspace(-3, 3, 100, dtype=np.float32)
    e = encode_array(a, "float16")
    assert e["buffer"].nbytes == 200
    np.testing.assert_allclose(decode_array(e), a, atol=2e-3)


def test_uint8_quarters_the_bytes_with_scale_and_offset():
    a = np.linspace(-2, 6, 1000, dtype=np.float32)
    e = encode_array(a, "uint8")
    assert e["buffer"].nbytes == 1000 and e["offset"] == -2.0
    np.testing.assert_allclose(decode_array(e), a, atol=8 / 255 / 2 + 1e-6)


def test_uint8_carries_nan_as_its_own_byte_and_the_numbers_around_it():
    # a decoder's rows hold NaN while the encoder runs: they must stay NaN, and the numbers must stay numbers
    a = np.array([[np.nan, -1.0, 0.5], [2.0, np.nan, 3.0]], np.float32)
    e = encode_array(a, "uint8")
    assert e["nan"] == 255 and e["offset"] == -1.0
    got = decode_array(e)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(a))
    np.testing.assert_allclose(got[~np.isnan(a)], a[~np.isnan(a)], atol=4 / 254 / 2 + 1e-6)
    assert np.isnan(decode_array(encode_array(np.full(3, np.nan, np.float32), "uint8"))).all()
    assert "nan" not in encode_array(np.zeros(3, np.float32), "uint8")  # without NaN: 256 levels, as before


def test_constant_uint8_array_does_not_divide_by_zero():
    e = encode_array(np.full(5, 3.5, np.float32), "uint8")
    np.testing.assert_array_equal(decode_array(e), np.full(5, 3.5, np.float32))


def test_integers_travel_as_int32_when_asked_and_as_floats_otherwise():
    e = encode_array(np.array([1, 2, 3], dtype=np.int64), "int32")
    assert e["dtype"] == "int32" and e["buffer"].nbytes == 12
    got = decode_array(e)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [1, 2, 3])
    f = encode_array(np.array([1, 2, 3], dtype=np.int64), "float32")  # what is asked for is what is sent
    assert f["dtype"] == "float32" and decode_array(f).dtype == np.float32


def test_int32_carries_only_integers_that_fit():
    with pytest.raises(TypeError, match=r"int32 carries integer indices; got an array of float32"):
        encode_array(np.zeros(3, np.float32), "int32")
    with pytest.raises(ValueError, match=r"do not fit in int32"):
        encode_array(np.array([2**40]), "int32")


def test_unknown_wire_dtype():
    with pytest.raises(ValueError, match=r"wire dtype 'float64' is not supported; expected one of"):
        encode_array(np.zeros(3), "float64")
    with pytest.raises(ValueError, match=r"wire dtype 'float64' is not supported"):
        WireArray(np.zeros(3), "float64")


def test_message_fields_and_buffers_are_in_the_same_order():
    descs, bufs = split_message({"a": np.zeros((2, 3)), "b": np.ones(4)}, "float32")
    assert [d["name"] for d in descs] == ["a", "b"] and [d["shape"] for d in descs] == [[2, 3], [4]]
    assert [b.nbytes for b in bufs] == [24, 16] and "buffer" not in descs[0]


class _Holder(tl.HasTraits):
    one = Array()
    tree = ArrayTree()


def test_array_traits_hold_wire_arrays_and_serialise_them_once():
    h = _Holder()
    assert h.one is None and h.tree == {}
    assert Array().metadata["to_json"](None, h) == {}  # "not loaded": {} on the wire
    a = WireArray(np.arange(6, dtype=np.float64).reshape(2, 3), "float16")
    h.one = a
    h.tree = {"x": a, "nested": [{"units": WireArray(np.array([3, 1]), "int32")}], "name": "n"}
    state = {"tree": ArrayTree().metadata["to_json"](h.tree, h)}
    assert state["tree"]["x"] is a.encode()  # encoded once, kept with the array
    assert state["tree"]["nested"][0]["units"]["dtype"] == "int32" and state["tree"]["name"] == "n"
    _, paths, buffers = _remove_buffers(state)
    assert sorted(map(tuple, paths)) == [("tree", "nested", 0, "units", "buffer"), ("tree", "x", "buffer")]
    assert "buffer" in a.encode(), "separating the buffers leaves the kept encoding whole"
    np.testing.assert_array_equal(decode_array(a), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert to_wire({"k": [a]})["k"][0]["shape"] == [2, 3]


def test_array_traits_refuse_bare_arrays_and_other_values():
    h = _Holder()
    with pytest.raises(tl.TraitError, match=r"tree\['inputs'\] is a bare numpy array; wrap it as WireArray"):
        h.tree = {"inputs": np.zeros(3)}
    with pytest.raises(tl.TraitError):
        h.one = np.zeros(3)
    with pytest.raises(tl.TraitError):
        h.tree = [1, 2]
    assert h.one is None and h.tree == {}
