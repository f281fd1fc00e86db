"""The Explorer in Jupyter Notebook 7 (``jupyter notebook``, built on JupyterLab's components), started with the same
isolation as the session's JupyterLab (``server.start_server(..., app="notebook")``) and driven by the same ``lab.py``
helpers through ``window.jupyterapp``: a small notebook on four Japanese Vowels utterances runs, the widget paints
its heatmap, keys on the root move every ``.lw-*`` view's ``data-t``, and ``ex.t = k`` in Python moves the page."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import nbformat
import pytest

from lab import (
    ARTIFACTS_DIR,
    Widget,
    largest_canvas,
    open_notebook,
    run_all_cells,
    run_code,
    wait_for_widget,
    wait_painted,
    wait_until,
    write_notebook,
)
from server import JupyterServer, start_server, stop_server

pytest.importorskip("notebook", minversion="7", reason="no Jupyter Notebook 7 (pip install 'notebook>=7')")

SETUP = """\
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models import japanese_vowels_net

X, y = japanese_vowels("test")
idx = [0, 90, 180, 270]
ex = lw.Explorer(japanese_vowels_net(), [X[i] for i in idx], y[idx])
ex"""


@dataclass
class Nb7(Widget):
    server: JupyterServer  # its log is attached to failures (conftest.py)
    length: int  # steps of the sequence shown


@pytest.fixture(scope="module")
def nb7(tmp_path_factory, new_page):
    pytest.importorskip("lstm_widget")
    base = tmp_path_factory.mktemp("notebook7")
    server = start_server(base, ARTIFACTS_DIR / "notebook7-server.log", app="notebook")
    page = None
    try:
        page = new_page("notebook7")
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(SETUP)]
        name = write_notebook(server, nb, "explorer_nb7.ipynb")
        open_notebook(page, server, name)
        # Notebook 7, not JupyterLab: the page is the notebook app's, with the notebook as its only document
        assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
        run_all_cells(page)
        root = wait_for_widget(page)
        length = int(run_code(page, "print(len(ex.recordings[ex.sequence].inputs))"))
        yield Nb7(page, root, server, length)
    finally:
        if page is not None:
            new_page.close(page)
        stop_server(server)
        shutil.rmtree(base, ignore_errors=True)


def test_renders(nb7):
    views = nb7.views()
    assert {"lw-timeline", "lw-heatmap", "lw-trajectory", "lw-inputs", "lw-probs"} <= set(views), views
    assert set(views.values()) == {"0"}, views
    heatmap = largest_canvas(nb7.root.locator(".lw-heatmap"))
    heatmap.scroll_into_view_if_needed()

    wait_painted(heatmap)


def test_keys_scrub_every_view(nb7):
    run_code(nb7.page, "ex.t = 0")
    nb7.wait_views_at(0)
    nb7.root.focus()
    last = nb7.length - 1
    for key, want in [("End", last), ("ArrowLeft", last - 1), ("Home", 0), ("ArrowRight", 1)]:
        nb7.root.press(key)
        nb7.wait_views_at(want)
    # the page -> kernel direction too
    wait_until(lambda: run_code(nb7.page, "print(ex.t)") == "1", timeout=30, interval=0.3, message="Python sees t = 1")


def test_python_moves_the_page(nb7):
    for t in (3, nb7.length - 2, 0):
        run_code(nb7.page, f"ex.t = {t}")
        nb7.wait_views_at(t)
