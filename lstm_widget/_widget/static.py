"""The front-end bundles built from js/ into ``lstm_widget/static/`` (one file per entry), found in one place."""

from __future__ import annotations

import pathlib

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"


def bundle(name: str) -> pathlib.Path:
    """The path of the built bundle ``name`` (``widget.js``, ``channels.js``, ``export.js``); a RuntimeError that
    says how to build it when it is missing."""
    path = STATIC / name
    if not path.exists():
        raise RuntimeError(
            f"the front-end bundle {path} is missing: install the package with `pip install .` (which builds it), "
            "or build it with `npm install && npm run build` in js/"
        )
    return path
