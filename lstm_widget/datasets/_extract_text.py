"""One-time extractor: the text excerpt ``text/pride_and_prejudice.txt`` from Debian's ``r-cran-janeaustenr``.

Not run at install or import time. janeaustenr stores each novel as an R character vector (one element per line of
the Project Gutenberg e-text) in R's lazy-load database ``data/Rdata.rdb`` with its index ``data/Rdata.rdx``. This
reads those two files without R: the index is a gzip-compressed R serialisation (XDR) of a list whose ``variables``
map each name to ``(offset, length)`` in the ``.rdb``; each record there is a 4-byte length followed by zlib data,
again an XDR serialisation, here a character vector (STRSXP of CHARSXPs). Usage::

    apt-get download r-cran-janeaustenr && dpkg-deb -x r-cran-janeaustenr_1.0.0-1_all.deb deb
    python -m lstm_widget.datasets._extract_text deb/usr/lib/R/site-library/janeaustenr/data/Rdata [OUT.txt]

The excerpt is the novel's lines joined by ``"\\n"`` up to (not including) the line ``Chapter 7``, trailing blank
lines removed, ending with one newline: the title and chapters 1–6, characters unchanged.
"""

from __future__ import annotations

import gzip
import re
import struct
import sys
import zlib
from pathlib import Path

_OUT = Path(__file__).resolve().parent / "text" / "pride_and_prejudice.txt"
_INTSXP_PAIR = b"\x00\x00\x00\x0d\x00\x00\x00\x02"  # an integer vector of length 2: (offset, length)


def _strings(raw: bytes, pos: int, n: int) -> tuple[list[str | None], int]:
    """``n`` CHARSXPs of an XDR serialisation from ``pos``: their strings (None for NA) and the position after."""
    out: list[str | None] = []
    for _ in range(n):
        flags, length = struct.unpack(">ii", raw[pos : pos + 8])
        pos += 8
        if flags & 0xFF != 9:
            raise ValueError(f"expected a CHARSXP at byte {pos - 8}, found type {flags & 0xFF}")
        if length == -1:
            out.append(None)
            continue
        out.append(raw[pos : pos + length].decode("utf-8"))
        pos += length
    return out, pos


def read_character_vectors(root: str | Path) -> dict[str, list[str | None]]:
    """Every object of the lazy-load database ``root``.rdb / ``root``.rdx, each a character vector, by name."""
    index = gzip.decompress(Path(f"{root}.rdx").read_bytes())
    db = Path(f"{root}.rdb").read_bytes()
    pairs = [struct.unpack(">ii", index[m.end() : m.end() + 8]) for m in re.finditer(re.escape(_INTSXP_PAIR), index)]
    names_at = index.index(b"\x00\x00\x00\x05names") + 9  # the 'variables' list's names attribute: a STRSXP
    flags, n = struct.unpack(">ii", index[names_at : names_at + 8])
    if flags & 0xFF != 16 or n > len(pairs):
        raise ValueError(f"{root}.rdx: not the index of a lazy-load database of {len(pairs)} objects")
    names, _ = _strings(index, names_at + 8, n)
    out = {}
    for name, (offset, length) in zip(names, pairs[:n], strict=True):
        raw = zlib.decompress(db[offset + 4 : offset + length])
        if raw[:2] != b"X\n":
            raise ValueError(f"{root}.rdb: object {name!r} is not an XDR serialisation")
        pos = 2 + 12  # format version, writer's R version, minimal reader's R version
        (enc_len,) = struct.unpack(">i", raw[pos : pos + 4])
        pos += 4 + enc_len  # the native encoding's name (format version 3)
        flags, count = struct.unpack(">ii", raw[pos : pos + 8])
        if flags & 0xFF != 16:
            raise ValueError(f"{root}.rdb: object {name!r} is not a character vector (type {flags & 0xFF})")
        out[name], _ = _strings(raw, pos + 8, count)
    return out


def excerpt(lines: list[str | None], stop: str = "Chapter 7") -> str:
    """The lines before the line ``stop``, joined by newlines, trailing blank lines removed, with a final newline."""
    text = "\n".join("" if s is None else s for s in lines[: lines.index(stop)])
    return text.rstrip("\n") + "\n"


def main(argv: list[str]) -> None:
    if not 1 <= len(argv) <= 2:
        raise SystemExit("usage: python -m lstm_widget.datasets._extract_text .../janeaustenr/data/Rdata [OUT.txt]")
    out = Path(argv[1]) if len(argv) == 2 else _OUT
    text = excerpt(read_character_vectors(argv[0])["prideprejudice"])
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}: {len(text)} characters, {text.count(chr(10))} lines")


if __name__ == "__main__":
    main(sys.argv[1:])
