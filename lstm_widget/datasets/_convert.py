"""One-time converter: UEA/UCR ``JapaneseVowels_{TRAIN,TEST}.ts`` -> ``japanese_vowels.npz``.

Not run at install or import time. Usage::

    python -m lstm_widget.datasets._convert JapaneseVowels_TRAIN.ts JapaneseVowels_TEST.ts [OUT.npz]

Values are copied unchanged as float32; the per-split arrays are ``{split}_values`` (all frames
concatenated, (sum T_i, 12) float32), ``{split}_lengths`` (int32) and ``{split}_labels``
(uint8, the .ts labels 1..9 shifted to 0..8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_NPZ = Path(__file__).resolve().parent / "japanese_vowels.npz"


def _parse_ts(path: str | Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Parse a multivariate UEA .ts file: returns sequences (T_i, D) float32 and labels as str."""
    X, labels = [], []
    in_data = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@"):
                if line.lower().startswith("@data"):
                    in_data = True
                continue
            if not in_data:
                continue
            *dims, label = line.split(":")
            series = [np.array([float(v) for v in d.split(",")], dtype=np.float32) for d in dims]
            lengths = {len(s) for s in series}
            if len(lengths) != 1:
                raise ValueError(f"{path}: dimensions of unequal length in one case: {lengths}")
            X.append(np.stack(series, axis=1))
            labels.append(label.strip())
    return X, np.array(labels)


def convert_ts(train_ts: str | Path, test_ts: str | Path, out: str | Path = _NPZ) -> Path:
    """Write the compact ``.npz`` from the UEA ``JapaneseVowels_TRAIN.ts`` / ``_TEST.ts``."""
    arrays = {}
    for split, path in (("train", train_ts), ("test", test_ts)):
        X, labels = _parse_ts(path)
        y = labels.astype(np.int64) - 1
        if y.min() < 0 or y.max() > 8:
            raise ValueError(f"{path}: labels outside 1..9")
        arrays[f"{split}_values"] = np.concatenate(X).astype(np.float32)
        arrays[f"{split}_lengths"] = np.array([len(x) for x in X], dtype=np.int32)
        arrays[f"{split}_labels"] = y.astype(np.uint8)
    np.savez_compressed(out, **arrays)
    return Path(out)


if __name__ == "__main__":  # python -m lstm_widget.datasets._convert TRAIN.ts TEST.ts [OUT.npz]
    import sys

    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m lstm_widget.datasets._convert TRAIN.ts TEST.ts [OUT.npz]")
    print(convert_ts(*sys.argv[1:]))
