"""rank_units and match_pattern against small hand-made activations with a known answer, and on real recordings."""

import numpy as np
import pytest
import torch
from scipy.stats import ttest_ind
from torch import nn

import lstm_widget as lw

A = np.array([[0, 1, -3, 0.5], [0, 2, 0, 0.5], [0, 3, 0, 0.5]])  # 3 steps, 4 units


@pytest.mark.parametrize(
    "by, units, scores",
    [
        ("abs", [1, 2, 3, 0], [2, 1, 0.5, 0]),
        ("mean", [1, 3, 0, 2], [2, 0.5, 0, -1]),
        ("max", [1, 3, 0, 2], [3, 0.5, 0, 0]),  # a tie goes to the lower unit index
        ("absmax", [1, 2, 3, 0], [3, 3, 0.5, 0]),
    ],
)
def test_rank_over_a_sequence(by, units, scores):
    r = lw.rank_units(A, by=by, k=None)
    np.testing.assert_array_equal(r.units, units)
    np.testing.assert_allclose(r.scores, scores)
    assert r.all_scores.shape == (4,) and r.classes is None


def test_rank_at_one_step_and_top_k_over_several_sequences():
    r = lw.rank_units(A, t=0, k=2)
    np.testing.assert_array_equal(r.units, [2, 1])  # |a_0| = 0, 1, 3, 0.5
    np.testing.assert_allclose(r.scores, [3, 1])
    B = np.array([[5.0, 0, 0, 0], [0, 0, 0, -8.0]])  # 2 steps: its last step has unit 3 at -8
    last = lw.rank_units([A, B], t=-1, by="abs", k=1)  # the last steps: [0, 3, 0, .5] and [0, 0, 0, -8]
    np.testing.assert_array_equal(last.units, [3])
    np.testing.assert_allclose(last.scores, [4.25])
    pooled = lw.rank_units([A, B], by="absmax", k=1)
    np.testing.assert_array_equal(pooled.units, [3])
    assert pooled.rows() == [{"rank": 0, "unit": 3, "score": 8.0}]


def _class_data():
    means = {0: [1, 0, 0], 1: [5, 0, 1], 2: [0, 2, 0], 3: [0, 4, 1]}
    seqs = [np.tile(np.array(m, float), (2 + k, 1)) for k, m in means.items()]  # constant in time
    return seqs, ["a", "a", "b", "b"]


def test_rank_per_class_welch_t_and_difference_of_means():
    seqs, labels = _class_data()
    r = lw.rank_units(seqs, labels=labels, k=None)  # by="t" with labels
    assert r.by == "t"
    np.testing.assert_array_equal(r.classes, ["a", "b"])
    # class a against the rest: diffs [3, -3, 0], standard errors sqrt(8/2 + 0/2) = 2, sqrt(0 + 2/2) = 1, … → t 1.5, -3, 0
    means = np.array([s.mean(0) for s in seqs])
    welch = [
        ttest_ind(means[:2], means[2:], equal_var=False).statistic,
        ttest_ind(means[2:], means[:2], equal_var=False).statistic,
    ]
    np.testing.assert_allclose(np.nan_to_num(welch), [[1.5, -3, 0], [-1.5, 3, 0]])  # scipy's Welch t (0/0 for unit 2)
    np.testing.assert_allclose(r.all_scores, np.nan_to_num(welch))
    np.testing.assert_array_equal(r.units, [[0, 2, 1], [1, 2, 0]])
    units, scores = r.for_class("b")
    np.testing.assert_array_equal(units, [1, 2, 0])
    d = lw.rank_units(seqs, labels=np.array([0, 0, 1, 1]), by="diff", k=1)
    np.testing.assert_array_equal(d.units, [[0], [1]])
    np.testing.assert_allclose(d.scores, [[3], [3]])
    assert d.rows()[1] == {"class": 1, "rank": 0, "unit": 1, "score": 3.0}


def test_rank_recordings_reads_the_named_quantity_and_layer():
    torch.manual_seed(0)
    m = nn.LSTM(3, 5, num_layers=2)
    recs = lw.record(m, [torch.randn(n, 3) for n in (4, 7)])
    r = lw.rank_units(recs, "c", layer="layer0", by="max")
    ref = lw.rank_units([rec.c[0] for rec in recs], by="max")
    np.testing.assert_array_equal(r.units, ref.units)
    assert r.layer == "layer0" and r.quantity == "c"
    assert lw.rank_units(recs[0]).layer == "layer1"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(by="t"), r"by must be one of \['abs', 'mean', 'max', 'absmax'\] without labels \(\['t', 'diff'\] need"),
        (dict(labels=[0, 0, 1, 1], by="abs"), r"by must be one of \['t', 'diff'\] with labels"),
        (dict(labels=[0, 1]), r"labels must hold one label per sequence \(4\); got shape \(2,\)"),
        (dict(labels=[0, 0, 0, 0]), "at least 2 classes"),
        (dict(labels=[0, 1, 1, 1]), "by='t' needs at least 2 sequences in each class"),
        (dict(k=0), "k must be a whole number >= 1 or None"),
        (dict(t=2), "t=2 is out of range for sequence 0, which has 2 steps"),
    ],
)
def test_rank_errors(kwargs, message):
    seqs, _ = _class_data()
    with pytest.raises(ValueError, match=message):
        lw.rank_units(seqs, **kwargs)


def test_rank_input_errors():
    with pytest.raises(TypeError, match="recordings must be a Recording, a list of Recordings, or arrays"):
        lw.rank_units([])
    with pytest.raises(ValueError, match="recordings\\[1\\] has 3 units; recordings\\[0\\] has 4"):
        lw.rank_units([A, np.zeros((2, 3))])
    rec = lw.record(nn.GRU(2, 3), torch.randn(4, 2))
    with pytest.raises(ValueError, match=r"quantity must be one of \['h', 'r', 'z', 'n'\]; got 'c'"):
        lw.rank_units(rec, "c")


def _on(T, U, spans):
    """Activations (T, U): 1 where a unit is on (spans: {unit: [(start, stop), ...]}), 0 elsewhere."""
    a = np.zeros((T, U))
    for u, ranges in spans.items():
        for s, e in ranges:
            a[s:e, u] = 1.0
    return a


PATTERN = [
    # the selection: steps [2, 5) of sequence 0 → units 0 and 1 (unit 2 is already on at step 1, unit 3 not throughout)
    # sequence 0 also has units 0 and 1 switching on at [6, 8), running to its end
    _on(8, 4, {0: [(2, 5), (6, 8)], 1: [(2, 5), (6, 8)], 2: [(1, 6)], 3: [(3, 5)]}),
    # exactly the same units for exactly as long: a perfect match; unit 0 also on alone at [1, 3)
    _on(10, 4, {0: [(1, 3), (6, 9)], 1: [(6, 9)]}),
    # units 0, 1 and 2 switch on together at [0, 2): jaccard 2/3, length 2/3
    _on(6, 4, {0: [(0, 2)], 1: [(0, 2)], 2: [(0, 2)]}),
]


def test_pattern_selection_and_ranked_matches():
    p = lw.match_pattern(PATTERN, 0, 2, 5, 0.5)
    np.testing.assert_array_equal(p.units, [0, 1])
    assert [(m.sequence, m.start, m.stop) for m in p] == [(1, 6, 9), (0, 6, 8), (2, 0, 2)]
    np.testing.assert_allclose(p.scores, [1.0, 2 / 3, 4 / 9])
    np.testing.assert_allclose([m.jaccard for m in p], [1.0, 1.0, 2 / 3])
    np.testing.assert_allclose([m.length_match for m in p], [1.0, 2 / 3, 2 / 3])
    np.testing.assert_array_equal(p.sequences, [1, 0, 2])
    assert p.rows()[0] == dict(sequence=1, start=6, stop=9, score=1.0, jaccard=1.0, length_match=1.0)
    assert len(lw.match_pattern(PATTERN, 0, 2, 5, 0.5, k=2)) == 2


def test_pattern_options():
    with_sel = lw.match_pattern(PATTERN, 0, 2, 5, 0.5, include_selection=True)
    assert [(m.sequence, m.start, m.stop) for m in with_sel][:2] == [(0, 2, 5), (1, 6, 9)]
    # half the units suffice: unit 0 alone at [1, 3) of sequence 1 joins (jaccard 1/2, length 2/3)
    half = lw.match_pattern(PATTERN, 0, 2, 5, 0.5, min_overlap=0.5)
    assert (1, 1, 3) in [(m.sequence, m.start, m.stop) for m in half]
    assert half[[(m.sequence, m.start) for m in half].index((1, 1))].score == pytest.approx(1 / 3)
    # no condition around the range: unit 2, on since step 1, now belongs to the selection
    np.testing.assert_array_equal(lw.match_pattern(PATTERN, 0, 2, 5, 0.5, margin=0).units, [0, 1, 2])
    # a range where nothing switches on: no units, no matches
    empty = lw.match_pattern(PATTERN, 1, 3, 5, 0.5)
    assert empty.units.size == 0 and len(empty) == 0


def test_pattern_on_recordings():
    torch.manual_seed(1)
    m = nn.LSTM(2, 6)
    x = torch.randn(12, 2)
    recs = lw.record(m, [x, x, -x])  # the same sequence twice: the selection reappears in sequence 1, exactly
    h = recs[0].h[0]
    u = int(np.argmax(h.max(axis=0)))  # the unit with the highest peak, and the steps around its peak above a level
    t = int(np.argmax(h[:, u]))
    level = float(max(h[t - 1, u] if t else -1.0, h[t + 1, u] if t + 1 < 12 else -1.0))
    p = lw.match_pattern(recs, 0, t, t + 1, level)
    assert u in p.units and p.layer == "layer0" and p.quantity == "h"
    assert (p[0].sequence, p[0].start, p[0].stop, p[0].score) == (1, t, t + 1, 1.0)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((3, 0, 2, 0.5), {}, r"sequence must be a whole number in 0..2; got 3"),
        ((0, 4, 4, 0.5), {}, r"stop must be a whole number in 5..8; got 4"),
        ((0, 2, 9, 0.5), {}, r"stop must be a whole number in 3..8; got 9"),
        ((0, -1, 2, 0.5), {}, r"start must be a whole number in 0..7; got -1"),
        ((0, 2, 5, float("nan")), {}, "threshold must be a finite number"),
        ((0, 2, 5, 0.5), dict(min_overlap=0), r"min_overlap must be a fraction in \(0, 1\]"),
        ((0, 2, 5, 0.5), dict(margin=-1), "margin must be a whole number >= 0"),
        ((0, 2, 5, 0.5), dict(k=0), "k must be a whole number >= 1"),
    ],
)
def test_pattern_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        lw.match_pattern(PATTERN, *args, **kwargs)


def test_rows_that_ran_on_part_of_the_steps_are_averaged_there_and_absent_sequences_left_out():
    nan = np.nan
    seqs = [
        np.array([[nan, nan], [1.0, 2.0], [3.0, 4.0]]),  # mean (2, 3) over the 2 steps the module ran
        np.array([[nan, nan], [0.0, 0.0]]),
        np.array([[5.0, 1.0], [nan, nan]]),
        np.array([[nan, nan]]),  # the row never ran: left out
    ]
    r = lw.rank_units(seqs, labels=[0, 1, 0, 1], by="diff", k=None)
    np.testing.assert_allclose(r.all_scores, [[3.5, 2.0], [-3.5, -2.0]])  # (2,3),(5,1) against (0,0)
    pooled = lw.rank_units(seqs, by="mean", k=None)
    np.testing.assert_allclose(pooled.all_scores, [9 / 4, 7 / 4])
