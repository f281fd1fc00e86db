"""write_atomic: a file is replaced whole or not at all — a failure at any point (text that cannot be encoded, a writer
that raises part way, a rename that fails) leaves the old file byte for byte and no temporary file beside it."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_widget._core.files import write_atomic

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Boom(Exception):
    pass


@SETTINGS
@given(old=st.binary(max_size=2000), new=st.binary(max_size=4000), fail_at=st.integers(0, 4))
def test_a_writer_that_fails_part_way_leaves_the_old_file(tmp_path, old, new, fail_at):
    path = tmp_path / "keep.html"
    path.write_bytes(old)

    def writer(f):
        for k in range(4):
            if k == fail_at:
                raise Boom("failed while writing")
            f.write(new[k * len(new) // 4 : (k + 1) * len(new) // 4])

    if fail_at == 4:  # no failure: the new bytes, whole
        assert write_atomic(path, writer) == len(new)
        assert path.read_bytes() == new
    else:
        with pytest.raises(Boom):
            write_atomic(path, writer)
        assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.html"]


@SETTINGS
@given(text=st.text(max_size=50), at=st.integers(0, 50), surrogate=st.integers(0xD800, 0xDFFF))
def test_text_that_cannot_be_encoded_fails_before_anything_is_written(tmp_path, text, at, surrogate):
    path = tmp_path / "keep.html"
    path.write_bytes(b"old bytes")
    bad = text[:at] + chr(surrogate) + text[at:]
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, bad)
    assert path.read_bytes() == b"old bytes" and [p.name for p in tmp_path.iterdir()] == ["keep.html"]
    assert write_atomic(path, text) == len(text.encode("utf-8")) and path.read_bytes() == text.encode("utf-8")


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "keep.html"
    path.write_bytes(b"old")

    def failing(src, dst):
        assert os.path.dirname(src) == os.path.dirname(dst)  # the temporary sits in the same folder
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["keep.html"]


def test_permissions_are_kept_and_a_link_keeps_pointing_at_its_target(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.html"
    write_atomic(fresh, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    link = tmp_path / "link.html"
    link.symlink_to(path)
    write_atomic(link, b"through the link")
    assert link.is_symlink() and path.read_bytes() == b"through the link"
    write_atomic(link, b"the link replaced", follow_symlinks=False)
    assert not link.is_symlink() and path.read_bytes() == b"through the link"


def test_a_missing_folder_is_an_error_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "a.html", b"x")
    assert list(tmp_path.iterdir()) == []
