"""The wire: arrays become little-endian bytes with dtype and shape, and come back as the same numbers."""

import numpy as np
import pytest

from lstm_widget._wire import decode_array, encode_array, split_message


def test_float32_round_trip_is_exact_and_little_endian():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7
    e = encode_array(a)
    assert e["dtype"] == "float32" and e["shape"] == [2, 3, 4]
    assert isinstance(e["buffer"], memoryview) and e["buffer"].nbytes == 24 * 4
    assert bytes(e["buffer"][:4]) == np.float32(0).tobytes() and bytes(e["buffer"][4:8]) == np.float32(1 / 7).astype("<f4").tobytes()
    np.testing.assert_array_equal(decode_array(e), a.astype(np.float32))


def test_non_contiguous_input_is_sent_in_c_order():
    a = np.arange(12, dtype=np.float32).reshape(3, 4).T
    np.testing.assert_array_equal(decode_array(encode_array(a)), a)


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


def test_constant_uint8_array_does_not_divide_by_zero():
    e = encode_array(np.full(5, 3.5, np.float32), "uint8")
    np.testing.assert_array_equal(decode_array(e), np.full(5, 3.5, np.float32))


def test_integers_travel_as_int32():
    e = encode_array(np.array([1, 2, 3], dtype=np.int64))
    assert e["dtype"] == "int32"
    np.testing.assert_array_equal(decode_array(e), [1, 2, 3])


def test_unknown_wire_dtype():
    with pytest.raises(ValueError, match=r"wire dtype 'float64' is not supported; expected one of"):
        encode_array(np.zeros(3), "float64")


def test_message_fields_and_buffers_are_in_the_same_order():
    descs, bufs = split_message({"a": np.zeros((2, 3)), "b": np.ones(4)})
    assert [d["name"] for d in descs] == ["a", "b"] and [d["shape"] for d in descs] == [[2, 3], [4]]
    assert [b.nbytes for b in bufs] == [24, 16] and "buffer" not in descs[0]
