"""Bundled pretrained models.

Example::

    from lstm_widget.models import japanese_vowels_net
    model = japanese_vowels_net()          # JapaneseVowelsNet, eval mode, float32
    logits = model(torch.from_numpy(x)[None])   # x: (T, 12) float32 -> logits (1, 9)

The weights ship as safetensors (never pickled); they were produced by
``python -m lstm_widget.models.train_japanese_vowels`` (seeded, deterministic, CPU).
"""

from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_file

from lstm_widget.models.japanese_vowels import JapaneseVowelsNet

__all__ = ["JapaneseVowelsNet", "japanese_vowels_net", "JAPANESE_VOWELS_WEIGHTS"]

JAPANESE_VOWELS_WEIGHTS = Path(__file__).resolve().parent / "japanese_vowels.safetensors"


def japanese_vowels_net(path: str | Path | None = None) -> JapaneseVowelsNet:
    """The pretrained Japanese Vowels speaker classifier (LSTM 100 -> 9 speakers), in eval mode, float32.

    A new model is built on every call, so callers may modify it freely. ``path`` loads another safetensors
    file written by ``train_japanese_vowels`` instead of the bundled one.

    Input: float tensor ``(B, T, 12)`` of raw LPC cepstrum coefficients (as returned by
    ``lstm_widget.datasets.japanese_vowels``; the model normalises them itself). Output: logits ``(B, 9)``.
    Test accuracy of the bundled weights: 360/370 = 0.9730.
    """
    model = JapaneseVowelsNet()
    state = load_file(str(path if path is not None else JAPANESE_VOWELS_WEIGHTS), device="cpu")
    model.load_state_dict(state, strict=True)
    return model.float().eval()
