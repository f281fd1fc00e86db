"""bqplot companion figures: their lines hold the recording's values and their cursor follows the explorer."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_widget as lw
from lstm_widget.datasets import JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES, japanese_vowels
from lstm_widget.models import japanese_vowels_net


@pytest.fixture(scope="module")
def ex():
    X, y = japanese_vowels("test")
    return lw.Explorer(
        japanese_vowels_net(),
        X[:4],
        y[:4],
        class_names=JAPANESE_VOWELS_CLASS_NAMES,
        feature_names=JAPANESE_VOWELS_FEATURE_NAMES,
    )


def marks(fig):
    lines, cursor = fig.marks
    return lines, cursor


def test_inputs_follow_sequence_and_t(ex):
    ex.sequence, ex.t = 0, 0
    fig = lw.plots.inputs(ex)
    lines, cursor = marks(fig)
    np.testing.assert_array_equal(np.asarray(lines.y), ex.recordings[0].inputs.T)
    assert list(lines.labels) == JAPANESE_VOWELS_FEATURE_NAMES
    assert list(cursor.x) == [0, 0]
    ex.t = 5
    assert list(cursor.x) == [5, 5]
    ex.sequence = 2
    np.testing.assert_array_equal(np.asarray(lines.y), ex.recordings[2].inputs.T)
    np.testing.assert_array_equal(np.asarray(lines.x), np.arange(len(ex.recordings[2])))
    lo, hi = cursor.y
    assert lo == pytest.approx(ex.recordings[2].inputs.min()) and hi == pytest.approx(ex.recordings[2].inputs.max())


def test_probabilities_and_units(ex):
    ex.sequence, ex.t, ex.selected_units = 1, 3, [7, 2]
    p_lines, p_cursor = marks(lw.plots.probabilities(ex))
    np.testing.assert_allclose(np.asarray(p_lines.y), ex.recordings[1].probs.T)
    assert list(p_lines.labels) == JAPANESE_VOWELS_CLASS_NAMES and list(p_cursor.x) == [3, 3]
    u_lines, _ = marks(lw.plots.units(ex))
    np.testing.assert_allclose(np.asarray(u_lines.y), ex.recordings[1].h[0][:, [7, 2]].T)
    assert list(u_lines.labels) == ["unit 7", "unit 2"]
    ex.selected_units = [9]
    np.testing.assert_allclose(np.atleast_2d(u_lines.y), ex.recordings[1].h[0][:, [9]].T)  # one line: 1-D in bqplot
    f_lines, _ = marks(lw.plots.units(ex, units=[1, 4], quantity="f"))
    np.testing.assert_allclose(np.asarray(f_lines.y), ex.recordings[1].f[0][:, [1, 4]].T)
    ex.selected_units = [3]
    np.testing.assert_allclose(np.asarray(f_lines.y), ex.recordings[1].f[0][:, [1, 4]].T)  # fixed units stay


def test_a_recording_gives_a_static_figure():
    X, _ = japanese_vowels("test")
    rec = lw.record(japanese_vowels_net(), X[0])
    lines, cursor = marks(lw.plots.units(rec, units=3, t=4, quantity="c"))
    np.testing.assert_allclose(np.atleast_2d(lines.y), rec.c[0][:, [3]].T)
    assert list(cursor.x) == [4, 4]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda ex: lw.plots.inputs("x"), TypeError, "expected an lstm_widget.Explorer or a Recording; got str"),
        (lambda ex: lw.plots.inputs(ex, t=3), ValueError, "t is only for a Recording"),
        (lambda ex: lw.plots.units(ex, quantity="q"), ValueError, "quantity 'q' is not recorded"),
        (lambda ex: lw.plots.units(ex, units=[100]), ValueError, r"units \[100\] are out of range; expected 0..99"),
        (lambda ex: lw.plots.units(ex, layer=2), ValueError, "layer 2 is out of range"),
        (lambda ex: lw.plots.inputs(ex.recordings[0], t=99), ValueError, "t=99 is out of range"),
        (
            lambda ex: lw.plots.probabilities(ex.recordings[0], class_names=["a"]),
            ValueError,
            "class_names has 1 entries; expected 9",
        ),
    ],
)
def test_bad_arguments(ex, call, error, match):
    with pytest.raises(error, match=match):
        call(ex)
