"""scikit-learn's handwritten digits (the UCI "Optical Recognition of Handwritten Digits" test set, shipped inside
scikit-learn: 1797 images of 8×8 pixels, values 0..16, classes 0..9), as images for a small CNN.

``digits(split)`` scales the values to [0, 1] and upsamples every image bilinearly to ``size``×``size`` (32 by
default), so that a convolution's channels can be looked at as pictures. The split is fixed: 20 % of every class for
``"test"`` (360 images), the rest for ``"train"`` (1437), drawn with seed 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["digits", "DIGITS_CLASS_NAMES", "DIGITS_SPLITS"]

DIGITS_CLASS_NAMES: list[str] = [str(k) for k in range(10)]
DIGITS_SPLITS = ("train", "test", "all")
_cache: dict = {}


def _raw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) float32 in [0, 1], labels int64, is_test bool), cached."""
    if "raw" not in _cache:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        d = load_digits()
        images = (d.images / 16.0).astype(np.float32)
        labels = d.target.astype(np.int64)
        _, test_idx = train_test_split(np.arange(len(labels)), test_size=0.2, stratify=labels, random_state=0)
        is_test = np.zeros(len(labels), bool)
        is_test[test_idx] = True
        _cache["raw"] = (images, labels, is_test)
    return _cache["raw"]


def digits(split: str = "train", size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 1, size, size)`` float32 in [0, 1] and labels ``(N,)`` int64 (0..9) of ``split``: "train" (1437),
    "test" (360) or "all" (1797, in scikit-learn's order). ``size=8`` gives the original pixels."""
    if split not in DIGITS_SPLITS:
        raise ValueError(f"split must be one of {DIGITS_SPLITS}; got {split!r}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int (pixels per side); got {size!r}")
    images, labels, is_test = _raw()
    keep = slice(None) if split == "all" else (is_test if split == "test" else ~is_test)
    x = images[keep][:, None]
    if size != 8:
        import torch
        import torch.nn.functional as F

        x = F.interpolate(torch.from_numpy(x), size=(size, size), mode="bilinear", align_corners=False).numpy()
        x = np.clip(x, 0.0, 1.0)
    return np.ascontiguousarray(x, dtype=np.float32), labels[keep].copy()
