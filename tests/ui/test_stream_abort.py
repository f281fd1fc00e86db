"""A stream that fails mid-way, in a real JupyterLab + Chromium (js/PROTOCOL.md, "Streams"): while it runs the picker
marks the new sequence "streaming…" and the page writes no ``sequence`` / ``t`` into it (even when keys move the
cursor there); when a forward hook raises after a few steps the cell raises, the picker goes back to the sequences
Python has, and the page and Python agree on ``sequence`` and ``t`` — and keep agreeing when the page moves next.

Selectors: ROOT ".lstm-widget"; PICKER ".lw-picker" (data-streaming) with "select option" (class lw-provisional while
streaming); views carry data-t.
"""

from __future__ import annotations

import pytest

from lab import (
    VIEW_TS_JS,
    NotebookError,
    code_done,
    next_frames,
    py_json,
    run_code,
    start_code,
    wait_code,
    wait_py,
    wait_until,
    widget_notebook,
)

ROOT = ".lstm-widget"
NAME = "stream_abort"
N = 4  # sequences loaded
FAIL_AFTER = 15  # steps the hook lets through before it raises
FPS = 5  # ~3 s before the failure: the page is sampled while the stream runs

SETUP = f"""\
import json
import numpy as np
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net

net = japanese_vowels_net()
X, y = japanese_vowels("test")
ex = lw.Explorer(net, X[:{N}], labels=y[:{N}], sequence_names=[f"utterance {{k}}" for k in range({N})])
ex.sequence, ex.t = 1, 3
changes = []  # every sequence / t the kernel takes (from the page or Python) while the stream runs
ex.observe(lambda change: changes.append([change["name"], change["new"]]), names=["sequence", "t"])

def failing_hook(after):
    # a forward hook on the head that raises once `after` steps were appended to the page (the stepper's probe of
    # the model, before the stream begins, passes); returns the function that removes it
    appended = [0]
    def counting_send(content, buffers=None):
        appended[0] += content.get("type") == "append"
        return type(ex).send(ex, content, buffers)
    ex.send = counting_send
    def hook(module, args, out):
        if appended[0] >= after:
            raise RuntimeError(f"the hook failed after {{after}} steps")
    handle = net.head.register_forward_hook(hook)
    def remove():
        handle.remove()
        del ex.send
    return remove
"""

PICKER_JS = """(root) => {
  const picker = root.querySelector('.lw-picker');
  const options = [...picker.querySelectorAll('select option')];
  return {
    streaming: picker.dataset.streaming,
    value: picker.querySelector('select').value,
    options: options.map((o) => o.textContent),
    provisional: options.filter((o) => o.classList.contains('lw-provisional')).map((o) => o.value),
  };
}"""


@pytest.fixture(scope="module")
def sx(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, NAME, [SETUP, "ex"])
    yield page, root
    new_page.close(page)


def _views_at(root, t: int) -> bool:
    ts = root.evaluate(VIEW_TS_JS)
    return bool(ts) and all(v == str(t) for v in ts.values())


def test_a_failed_stream_leaves_page_and_kernel_on_pythons_state(sx):
    page, root = sx
    wait_until(lambda: _views_at(root, 3), timeout=60, message="the page opens on t = 3")
    run_code(page, f"changes.clear()\nremove_hook = failing_hook({FAIL_AFTER})")
    cell = start_code(page, f"ex.stream(np.tile(X[0], (3, 1)), name='doomed', fps={FPS})")
    shown, pressed = [], False
    while not code_done(page, cell):
        shown.append(root.evaluate(PICKER_JS))
        if not pressed and shown[-1]["streaming"] == "true":
            # keys while the stream runs move the page's cursor inside the provisional sequence
            root.focus()
            page.keyboard.press("ArrowLeft")
            page.keyboard.press("Home")
            pressed = True
        page.wait_for_timeout(150)
    with pytest.raises(NotebookError, match=f"the hook failed after {FAIL_AFTER} steps"):
        wait_code(page, cell, timeout=120_000)
    run_code(page, "remove_hook()")

    during = [s for s in shown if s["streaming"] == "true"]
    assert during, f"the page never showed the stream: {shown}"
    for s in during:
        assert s["provisional"] == [str(N)] and s["value"] == str(N), s
        assert s["options"][N].startswith("doomed") and s["options"][N].endswith("streaming…"), s

    # Afterwards: the picker holds Python's sequences again, the cursor is where Python has it, on both sides.
    wait_until(
        lambda: root.evaluate(PICKER_JS)["streaming"] == "false",
        timeout=30,
        message=lambda: f"the picker still streaming: {root.evaluate(PICKER_JS)}",
    )
    after = root.evaluate(PICKER_JS)
    assert [o.split(" · ")[0] for o in after["options"]] == [f"utterance {k}" for k in range(N)], after
    assert after["provisional"] == [], after
    assert after["value"] == "1", after
    wait_until(lambda: _views_at(root, 3), timeout=30, message=lambda: f"views at t = 3: {root.evaluate(VIEW_TS_JS)}")
    next_frames(page, 5)
    assert py_json(page, "[ex.sequence, ex.t, len(ex.recordings), ex._meta['n_sequences']]") == [1, 3, N, N]
    assert py_json(page, "changes") == [], "the page wrote sequence / t pointing into the provisional sequence"

    # and they keep agreeing: the page's next move reaches Python
    root.focus()
    page.keyboard.press("ArrowRight")
    wait_py(page, "[ex.sequence, ex.t]", [1, 4])
    assert _views_at(root, 4)
