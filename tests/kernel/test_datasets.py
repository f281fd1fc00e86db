import numpy as np
import pytest

from lstm_widget.datasets import (
    JAPANESE_VOWELS_CLASS_NAMES,
    JAPANESE_VOWELS_FEATURE_NAMES,
    PRIDE_AND_PREJUDICE_CITATION,
    PRIDE_AND_PREJUDICE_LICENSE,
    char_vocab,
    japanese_vowels,
    japanese_vowels_info,
    pride_and_prejudice,
)


@pytest.mark.parametrize("split, n", [("train", 270), ("test", 370)])
def test_counts_shapes_dtypes(split, n):
    X, y = japanese_vowels(split)
    assert isinstance(X, list) and len(X) == n
    assert y.shape == (n,) and y.dtype == np.int64
    for x in X:
        assert x.dtype == np.float32
        assert x.ndim == 2 and x.shape[1] == 12
        assert 7 <= x.shape[0] <= 29
        assert np.isfinite(x).all()
    assert y.min() == 0 and y.max() == 8


def test_lengths_span_7_to_29_over_both_splits():
    lengths = [len(x) for s in ("train", "test") for x in japanese_vowels(s)[0]]
    assert min(lengths) == 7 and max(lengths) == 29


def test_class_counts():
    _, ytr = japanese_vowels("train")
    assert np.bincount(ytr, minlength=9).tolist() == [30] * 9
    _, yte = japanese_vowels("test")
    # the UCI test split: 24 to 88 utterances per speaker
    assert np.bincount(yte, minlength=9).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]


def test_values_match_ts_file():
    X, y = japanese_vowels("train")
    assert X[0].shape == (20, 12)
    assert X[0][0, 0] == np.float32(1.860936)  # first value of the first case in JapaneseVowels_TRAIN.ts
    assert X[0][0, 1] == np.float32(-0.207383)  # first value of its second dimension
    assert y[0] == 0  # label "1" stored as 0
    Xte, yte = japanese_vowels("test")
    assert Xte[-1][-1, -1] == np.float32(0.224688)  # last value of JapaneseVowels_TEST.ts
    assert yte[-1] == 8  # label "9"


def test_returns_copies():
    X, _ = japanese_vowels("train")
    X[0][0, 0] = 123.0
    assert japanese_vowels("train")[0][0][0, 0] == np.float32(1.860936)


def test_bad_split_raises():
    with pytest.raises(ValueError, match="'validation'") as e:
        japanese_vowels("validation")
    assert "train" in str(e.value) and "test" in str(e.value)


def test_names_and_info():
    assert JAPANESE_VOWELS_CLASS_NAMES == [f"speaker {i}" for i in range(1, 10)]
    assert JAPANESE_VOWELS_FEATURE_NAMES == [f"LPC {i}" for i in range(1, 13)]
    info = japanese_vowels_info()
    assert info["class_names"] == JAPANESE_VOWELS_CLASS_NAMES
    assert info["feature_names"] == JAPANESE_VOWELS_FEATURE_NAMES
    assert "Kudo" in info["citation"] and info["license"] == "CC BY 4.0"


# --- Pride and Prejudice --------------------------------------------------------------------------------------------


def test_pride_and_prejudice_is_the_bundled_excerpt_with_its_line_structure():
    text = pride_and_prejudice()
    assert len(text) == 42644 and text.count("\n") == 894
    assert text.startswith("PRIDE AND PREJUDICE\n\nBy Jane Austen\n")
    assert "It is a truth universally acknowledged, that a single man in possession\n" in text
    assert text.endswith("that all was safe, her wit flowed long.\n")
    assert "Chapter 6" in text and "Chapter 7" not in text
    assert text.isascii() and text.count('"') == 346 and text.count("_") == 92
    assert max(len(line) for line in text.splitlines()) <= 80  # the e-text's wrapping
    assert "Austen" in PRIDE_AND_PREJUDICE_CITATION and "public domain" in PRIDE_AND_PREJUDICE_LICENSE


def test_char_vocab_maps_every_character_to_its_id_and_back():
    text = pride_and_prejudice()
    vocab, ids = char_vocab(text)
    assert len(vocab) == 67 and vocab == sorted(set(text)) and vocab[:3] == ["\n", " ", "!"]
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert "".join(vocab[i] for i in ids) == text
    small_vocab, small_ids = char_vocab("abca")
    assert small_vocab == ["a", "b", "c"] and small_ids.tolist() == [0, 1, 2, 0]
    with pytest.raises(ValueError, match="empty"):
        char_vocab("")
    with pytest.raises(TypeError, match="must be a str, got list"):
        char_vocab(["a", "b"])
