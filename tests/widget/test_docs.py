"""Every ```python block of README.md and docs/*.md runs: the blocks of one file in order, in one namespace, in a
temporary working directory (files they write land there). A failing block is named by its file, its line in the file
and its first line of code. ```bash blocks are shown, not run."""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the block's first line of code, code) of every ```python block of ``text``, in order."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _FENCE.finditer(text)]


def test_python_blocks_are_found():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = x + 1\n")]


@pytest.fixture
def one_thread():
    """The guides' models and arrays are tiny: one thread does their work, while a shared thread pool stalls whenever
    other processes hold the cores (about 4× slower on a busy 2-core machine). torch's setting is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_blocks(text: str, name: str) -> None:
    """Run the ```python blocks of ``text`` in order in one namespace; a failing block raises an AssertionError that
    names ``name``, the block's line and its first line of code, with the traceback (line numbers of the file)."""
    namespace: dict = {"__name__": "__docs__"}
    for line, code in python_blocks(text):
        first = next((s.strip() for s in code.splitlines() if s.strip()), "")
        try:
            exec(compile("\n" * (line - 1) + code, name, "exec"), namespace)  # padded: tracebacks show file lines
        except Exception:
            raise AssertionError(
                f"{name}, the block at line {line} ({first!r}) failed:\n{traceback.format_exc()}"
            ) from None


def test_a_failing_block_is_named():
    text = "# Guide\n\n```python\nx = 1\n```\n\ntext\n\n```python\n\ny = x + 1\nz = y / 0\n```\n"
    with pytest.raises(AssertionError) as caught:
        run_blocks(text, "docs/guide.md")
    message = str(caught.value)
    assert message.startswith("docs/guide.md, the block at line 10 ('y = x + 1') failed:")
    assert 'File "docs/guide.md", line 12' in message and "ZeroDivisionError" in message


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_doc_blocks_run(path: Path, tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)
    try:
        run_blocks(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    except AssertionError as err:
        pytest.fail(str(err), pytrace=False)
