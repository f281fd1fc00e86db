"""Every notebook under notebooks/ executes top to bottom; the assertions inside them run as part of the tests."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    if path.stem == "japanese_vowels":
        assert "predicted speaker per step:" in outputs
        accuracy = float(outputs.split("test accuracy of the bundled network: ")[1].split()[0])
        assert accuracy >= 0.96
    if path.stem == "training":
        accuracy = float(outputs.split("final test accuracy: ")[1].split()[0])
        assert accuracy > 0.8
