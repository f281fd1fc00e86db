"""Bundled data sets.

Japanese Vowels (Kudo, Toyama & Shimbo, 1999; UCI Machine Learning Repository, CC BY 4.0):
nine male speakers uttering the Japanese vowel pair /ae/, each utterance described by 12 LPC
cepstrum coefficients per frame, 7 to 29 frames per utterance. 270 training utterances (30 per
speaker) and 370 test utterances.

Example::

    from lstm_widget.datasets import japanese_vowels
    X, y = japanese_vowels("train")   # 270 arrays (T_i, 12) float32; y int64 speakers 0..8
    X[0].shape                        # (20, 12)

Handwritten digits (scikit-learn's copy of the UCI test set; 8×8 images upsampled to 32×32 for the CNN example)::

    from lstm_widget.datasets import digits
    X, y = digits("test")              # (360, 1, 32, 32) float32 in [0, 1]; y int64 digits 0..9

Public-domain text for character-level language models (the opening chapters of *Pride and Prejudice*)::

    from lstm_widget.datasets import char_vocab, pride_and_prejudice
    text = pride_and_prejudice()       # str, 42,644 characters with their line breaks
    vocab, ids = char_vocab(text)      # 67 characters; ids int64 (42644,)

The Japanese Vowels data ship as one compact ``japanese_vowels.npz`` next to this file (see ``CITATION.md``).
It was converted once from the UEA/UCR archive ``.ts`` copy with
``python -m lstm_widget.datasets._convert JapaneseVowels_TRAIN.ts JapaneseVowels_TEST.ts``;
values are unchanged, labels 1..9 are stored as 0..8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .digits import DIGITS_CLASS_NAMES, digits
from .text import PRIDE_AND_PREJUDICE_CITATION, PRIDE_AND_PREJUDICE_LICENSE, char_vocab, pride_and_prejudice

__all__ = [
    "digits",
    "DIGITS_CLASS_NAMES",
    "japanese_vowels",
    "japanese_vowels_info",
    "JAPANESE_VOWELS_CLASS_NAMES",
    "JAPANESE_VOWELS_FEATURE_NAMES",
    "JAPANESE_VOWELS_CITATION",
    "JAPANESE_VOWELS_LICENSE",
    "pride_and_prejudice",
    "char_vocab",
    "PRIDE_AND_PREJUDICE_CITATION",
    "PRIDE_AND_PREJUDICE_LICENSE",
]

_HERE = Path(__file__).resolve().parent
_NPZ = _HERE / "japanese_vowels.npz"
_SPLITS = ("train", "test")

JAPANESE_VOWELS_CLASS_NAMES: list[str] = [f"speaker {i}" for i in range(1, 10)]
JAPANESE_VOWELS_FEATURE_NAMES: list[str] = [f"LPC {i}" for i in range(1, 13)]
JAPANESE_VOWELS_CITATION = (
    "M. Kudo, J. Toyama and M. Shimbo (1999). Multidimensional curve classification using "
    "passing-through regions. Pattern Recognition Letters 20(11-13):1103-1111. "
    "Data: UCI Machine Learning Repository, 'Japanese Vowels' (doi:10.24432/C5NS47)."
)
JAPANESE_VOWELS_LICENSE = "CC BY 4.0"

_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _load_split(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values (N_total, 12) float32, lengths (n,) int32, labels (n,) uint8), cached."""
    if split not in _cache:
        with np.load(_NPZ) as z:
            for s in _SPLITS:
                _cache[s] = (z[f"{s}_values"], z[f"{s}_lengths"], z[f"{s}_labels"])
    return _cache[split]


def japanese_vowels(split: str = "train") -> tuple[list[np.ndarray], np.ndarray]:
    """Load the Japanese Vowels speaker-identification data set.

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"``: 270 sequences, 30 per speaker. ``"test"``: 370 sequences.

    Returns
    -------
    X : list of float32 arrays, each of shape ``(T_i, 12)`` with ``7 <= T_i <= 29``
        (time steps by LPC cepstrum coefficients; see ``JAPANESE_VOWELS_FEATURE_NAMES``).
        The arrays are fresh copies; modifying them does not affect later calls.
    y : int64 array of shape ``(n,)``
        The speaker, 0..8 (see ``JAPANESE_VOWELS_CLASS_NAMES``).
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {list(_SPLITS)}, got {split!r}")
    values, lengths, labels = _load_split(split)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    X = [values[offsets[i] : offsets[i + 1]].copy() for i in range(len(lengths))]
    return X, labels.astype(np.int64)


def japanese_vowels_info() -> dict:
    """Names, sizes, citation and licence of the Japanese Vowels data set."""
    return {
        "name": "Japanese Vowels",
        "task": "speaker identification (9 classes) from utterances of /ae/",
        "class_names": list(JAPANESE_VOWELS_CLASS_NAMES),
        "feature_names": list(JAPANESE_VOWELS_FEATURE_NAMES),
        "n_train": 270,
        "n_test": 370,
        "min_length": 7,
        "max_length": 29,
        "citation": JAPANESE_VOWELS_CITATION,
        "license": JAPANESE_VOWELS_LICENSE,
        "source": "UEA/UCR time-series classification archive copy of the UCI data "
        "(values unchanged; labels 1..9 stored as 0..8)",
    }
