"""Bundled pretrained models.

Example::

    from lstm_widget.models import japanese_vowels_net
    model = japanese_vowels_net()          # JapaneseVowelsNet, eval mode, float32
    logits = model(torch.from_numpy(x)[None])   # x: (T, 12) float32 -> logits (1, 9)

    from lstm_widget.models import digits_cnn
    cnn = digits_cnn()                     # DigitsCNN: conv1 relu1 pool1 conv2 relu2 pool2 conv3 relu3 gap flatten fc
    logits = cnn(torch.from_numpy(images)) # images (B, 1, 32, 32) in [0, 1] (lstm_widget.datasets.digits) -> (B, 10)

The weights ship as safetensors (never pickled); they were produced by
``python -m lstm_widget.models.train_japanese_vowels`` and ``python -m lstm_widget.models.train_digits_cnn``
(seeded, deterministic, CPU).
"""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_file

from lstm_widget.models.digits_cnn import DigitsCNN
from lstm_widget.models.japanese_vowels import JapaneseVowelsNet

__all__ = [
    "DigitsCNN",
    "JapaneseVowelsNet",
    "digits_cnn",
    "japanese_vowels_net",
    "DIGITS_CNN_WEIGHTS",
    "JAPANESE_VOWELS_WEIGHTS",
]

JAPANESE_VOWELS_WEIGHTS = Path(__file__).resolve().parent / "japanese_vowels.safetensors"
DIGITS_CNN_WEIGHTS = Path(__file__).resolve().parent / "digits_cnn.safetensors"


def _load_weights(path) -> dict:
    """A safetensors file's tensors (safetensors only: never a pickle), or one ValueError naming the path."""
    try:
        return load_file(str(path), device="cpu")
    except FileNotFoundError:
        raise
    except Exception as err:
        raise ValueError(
            f"path {str(path)!r} is not a safetensors file ({type(err).__name__}: {err}); expected "
            "weights written by safetensors.torch.save_file (pickled .pt files are refused)"
        ) from None


def _load_state(model, state: dict, path) -> None:
    """Load ``state`` into ``model`` after checking that it holds exactly the model's weights: one ValueError naming
    the missing, extra and misshapen keys (torch's own RuntimeError only after a partial copy)."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    shapes = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or extra or shapes:
        problems = [
            f"{label}: {', '.join(items)}"
            for label, items in (("missing", missing), ("extra", extra), ("wrong shape", shapes))
            if items
        ]
        where = "the bundled weights" if path is None else f"the weights in {str(path)!r}"
        raise ValueError(
            f"{where} do not fit {type(model).__name__} — {'; '.join(problems)}; expected the keys "
            f"{list(expected)} as its training script writes them"
        )
    model.load_state_dict(state, strict=True)


def japanese_vowels_net(path: str | Path | None = None) -> JapaneseVowelsNet:
    """The pretrained Japanese Vowels speaker classifier (LSTM 100 -> 9 speakers), in eval mode, float32.

    A new model is built on every call, so callers may modify it freely. ``path`` loads another safetensors
    file written by ``train_japanese_vowels`` instead of the bundled one; a file whose keys or shapes differ from the
    model's raises one ValueError naming the missing, extra and misshapen keys.

    Input: float tensor ``(B, T, 12)`` of raw LPC cepstrum coefficients (as returned by
    ``lstm_widget.datasets.japanese_vowels``; the model normalises them itself). Output: logits ``(B, 9)``.
    Test accuracy of the bundled weights: 360/370 = 0.9730.
    """
    model = JapaneseVowelsNet()
    _load_state(model, _load_weights(path if path is not None else JAPANESE_VOWELS_WEIGHTS), path)
    return model.float().eval()


def digits_cnn(path: str | Path | None = None) -> DigitsCNN:
    """The pretrained handwritten-digits CNN (3 conv layers of 32, 48 and 64 channels, each with its own ReLU module;
    see :class:`DigitsCNN`), in eval mode, float32; a new model on every call. ``path`` loads another safetensors
    file written by ``train_digits_cnn`` instead of the bundled one.

    Input: ``(B, 1, 32, 32)`` float images in [0, 1], as ``lstm_widget.datasets.digits`` returns them. Output: logits
    ``(B, 10)``. Test accuracy of the bundled weights: 356/360 = 0.9889.
    """
    model = DigitsCNN()
    _load_state(model, _load_weights(path if path is not None else DIGITS_CNN_WEIGHTS), path)
    return model.float().eval()
