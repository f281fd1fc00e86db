"""Writing a file so that a failure leaves nothing half-done: every file the package writes (an HTML export, a
store's manifest, what the command line writes) goes through :func:`write_atomic` — the bytes are made first, written
to a temporary file in the same folder, flushed to disk and renamed over the target (``os.replace``, atomic on one
file system). A reader sees the old file or the new one, never a part; an error leaves the old file byte for byte."""

from __future__ import annotations

import os
import pathlib
import uuid
from collections.abc import Callable


def write_atomic(path, data: bytes | str | Callable, *, follow_symlinks: bool = True) -> int:
    """Write ``data`` to ``path`` atomically and return the size written in bytes.

    ``data``: bytes; a str (encoded as UTF-8 before anything is touched, so text that cannot be encoded fails with
    the old file intact); or a callable that writes to the binary file object it is given. ``follow_symlinks``: a
    symbolic link at ``path`` has its target replaced (the link stays); False replaces the link itself. The new file
    keeps the old one's permission bits, or gets the usual ones (0o666 less the umask) when there was none."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = pathlib.Path(os.fspath(path))
    if follow_symlinks and path.is_symlink():
        path = pathlib.Path(os.path.realpath(path))
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        old_mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        old_mode = None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if old_mode is not None:
                os.chmod(tmp, old_mode)
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
            size = f.tell()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return size
