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
    if path.stem == "dynamics":  # the hand-built LSTM's closed-form points were all found (its asserts ran)
        assert "all 9 closed-form fixed points found to 1e-5, with the right stability" in outputs
        assert outputs.count("stable, ") >= 9  # one line per speaker's attractor
    if path.stem == "char_lstm":  # a unit of the trained char-LSTM tracks a feature of the text beyond chance
        r = float(outputs.split(": r = ")[1].split()[0])
        assert abs(r) > 0.25
    if path.stem == "forecasting":  # both cells, the 60 given and 60 closed-loop steps on one timeline
        assert "('lstm1', 'lstm2') 120 regression (120, 1)" in outputs
