"""Bundled public-domain text for character-level language models: the opening chapters of Jane Austen's *Pride and
Prejudice* (1813), as plain text with its line breaks, and the character vocabulary that turns it into token ids.

The excerpt is ``text/pride_and_prejudice.txt`` next to this file: the title and chapters 1–6 (42,644 characters,
894 lines wrapped at about 70 characters, 67 distinct characters, ASCII only), with dialogue in double quotes and
italics marked by underscores. It was taken from the Debian package ``r-cran-janeaustenr`` 1.0.0-1 (Julia Silge's
janeaustenr, MIT licence; the novel itself is in the public domain); see ``CITATION.md`` for how it was extracted.

Example::

    from lstm_widget.datasets import char_vocab, pride_and_prejudice
    text = pride_and_prejudice()          # str, 42,644 characters
    vocab, ids = char_vocab(text)         # 67 characters (sorted), ids int64 of shape (42644,)
    "".join(vocab[i] for i in ids[:19])   # 'PRIDE AND PREJUDICE'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "pride_and_prejudice",
    "char_vocab",
    "PRIDE_AND_PREJUDICE_CITATION",
    "PRIDE_AND_PREJUDICE_LICENSE",
]

_TXT = Path(__file__).resolve().parent / "text" / "pride_and_prejudice.txt"

PRIDE_AND_PREJUDICE_CITATION = (
    "Jane Austen (1813). Pride and Prejudice, chapters 1-6. The Project Gutenberg e-text as packaged in "
    "janeaustenr 1.0.0 (J. Silge, 2022; Debian package r-cran-janeaustenr 1.0.0-1)."
)
PRIDE_AND_PREJUDICE_LICENSE = "public domain (text); janeaustenr packaging: MIT"


def pride_and_prejudice() -> str:
    """The title and chapters 1–6 of *Pride and Prejudice* as one string: 42,644 characters, lines separated by
    ``"\\n"`` as in the printed e-text (a blank line between paragraphs), ending with a newline."""
    return _TXT.read_text(encoding="utf-8")


def char_vocab(text: str) -> tuple[list[str], np.ndarray]:
    """The characters of ``text``, sorted, and ``text`` as ids into that list.

    Returns
    -------
    vocab : list of str
        Every distinct character of ``text`` once, in code-point order (``vocab[i]`` is the character of id ``i``).
    ids : int64 array of shape ``(len(text),)``
        ``vocab[ids[k]] == text[k]`` for every position ``k``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text:
        raise ValueError("text is empty: there is no character to make a vocabulary of")
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    return vocab, np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))
