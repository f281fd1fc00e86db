"""The Explorer's "Why" section, kernel side: the traits hold exactly what influence_all, rank_units, record(...,
interventions=...) and match_pattern return for the same inputs; intervene / compare / clear_intervention; page
requests through the synced traits; bad input → one clear error and nothing half-updated."""

import numpy as np
import pytest
import torch
import traitlets

import lstm_widget as lw
from lstm_widget._wire import decode_array

TRAITS = ("comparison", "_comparison", "pattern_query", "_patterns", "_influence", "_ranking", "influence_method")


@pytest.fixture(scope="module")
def seqs():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(n, 4)).astype(np.float32) for n in (6, 9, 5, 7, 8, 6)]


LABELS = [0, 1, 2, 0, 1, 2]


@pytest.fixture()
def ex(model, seqs):
    return lw.Explorer(model, seqs, labels=LABELS, class_names=["a", "b", "c"])


def snapshot(ex):
    return {name: getattr(ex, name) for name in TRAITS}


def same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] is b[k] or a[k] == b[k], k


# ---- influence -------------------------------------------------------------------------------------------------------


def test_closed_section_computes_nothing(ex):
    assert ex._influence == {} and ex._ranking == {} and ex._comparison == {} and ex._patterns == {}
    assert ex.influence_map is None and ex.intervened is None and ex.patterns is None


@pytest.mark.parametrize("method", ["gradient_x_input", "integrated_gradients"])
def test_influence_trait_holds_influence_all_of_the_shown_sequence(model, seqs, ex, method):
    ex.sequence = 1
    ex.influence_method = method
    ex.why_open = True  # opening the section is the request
    got = ex._influence
    assert got["sequence"] == 1 and got["method"] == method and got["output"] == "logit"
    ref = lw.influence_all(model, seqs[1], method=method)
    values = decode_array(got["values"])
    assert got["values"].dtype == "float32" and got["targets"].dtype == "int32" and values.shape == (9, 9, 4)
    np.testing.assert_array_equal(values, ref.values.astype(np.float32))
    np.testing.assert_array_equal(decode_array(got["f_x"]), ref.f_x.astype(np.float32))
    np.testing.assert_array_equal(decode_array(got["targets"]), ref.targets)
    if method == "integrated_gradients":
        np.testing.assert_array_equal(decode_array(got["f_baseline"]), ref.f_baseline.astype(np.float32))
        np.testing.assert_allclose(decode_array(got["completeness"]), ref.completeness_error, rtol=1e-5, atol=1e-7)
    else:
        assert "f_baseline" not in got and "completeness" not in got
    np.testing.assert_array_equal(ex.influence_map.values, ref.values)
    # the per-lag summary the page draws is InfluenceMap.per_lag
    t = 6
    per_step = values[t].astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(per_step[t::-1], ref.at(t).per_lag, rtol=1e-5, atol=1e-6)


def test_why_payloads_travel_in_the_wire_dtype_and_indices_as_int32(model, seqs):
    ex = lw.Explorer(model, seqs, labels=LABELS, class_names=["a", "b", "c"], wire_dtype="float16", why_open=True)
    got, rank = ex._influence, ex._ranking
    assert [got[k].dtype for k in ("values", "f_x", "targets")] == ["float16", "float16", "int32"]
    assert rank["scores"].dtype == "float16" and rank["units"].dtype == "int32"
    np.testing.assert_allclose(decode_array(got["values"]), ex.influence_map.values, rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(decode_array(got["targets"]), ex.influence_map.targets)
    ex.compare(1)
    assert ex._comparison["inputs"].dtype == ex._comparison["data"]["h"].dtype == "float16"


def test_influence_follows_sequence_and_method_and_caches(model, seqs, ex):
    ex.why_open = True
    ex.sequence = 2
    assert ex._influence["sequence"] == 2
    np.testing.assert_array_equal(
        decode_array(ex._influence["values"]), lw.influence_all(model, seqs[2], method="gradient_x_input").values
    )
    first = ex._influence
    ex.sequence = 0
    ex.sequence = 2
    assert ex._influence is first  # from the cache: no recomputation, the same payload
    ex.influence_method = "integrated_gradients"
    assert ex._influence["method"] == "integrated_gradients" and ex._influence["sequence"] == 2


def test_influence_method_is_validated(ex):
    ex.why_open = True
    before = snapshot(ex)
    with pytest.raises(traitlets.TraitError, match="influence_method must be one of"):
        ex.influence_method = "saliency"
    same_state(before, snapshot(ex))


def test_influence_says_why_it_cannot_be_computed(model, seqs):
    recs = lw.record(model, seqs)
    ex = lw.Explorer.from_recordings(recs, labels=LABELS, why_open=True)
    assert ex._influence == {"sequence": 0, "method": "gradient_x_input", "error": ex._influence["error"]}
    assert "needs the model" in ex._influence["error"]
    headless = lw.Explorer(torch.nn.LSTM(4, 5, batch_first=True), seqs[:2], why_open=True)
    assert "no head" in headless._influence["error"]


# ---- ranking ---------------------------------------------------------------------------------------------------------


def test_ranking_trait_is_rank_units_per_class(model, seqs, ex):
    ex.why_open = True
    got = ex._ranking
    assert got["layer"] == 0 and got["quantity"] == "h"
    ref = lw.rank_units(ex.recordings, "h", 0, labels=LABELS, k=10)  # 2 sequences per class: Welch's t
    assert got["by"] == ref.by == "t" and got["classes"] == [0, 1, 2]
    np.testing.assert_array_equal(decode_array(got["units"]), ref.units)
    np.testing.assert_array_equal(decode_array(got["scores"]), ref.scores.astype(np.float32))
    ex.layer, ex.quantity = 1, "c"  # follows the heatmap's layer and quantity
    ref = lw.rank_units(ex.recordings, "c", 1, labels=LABELS, k=10)
    assert ex._ranking["layer"] == 1 and ex._ranking["quantity"] == "c"
    np.testing.assert_array_equal(decode_array(ex._ranking["units"]), ref.units)


def test_ranking_falls_back_to_diff_and_skips_unlabelled(model, seqs):
    labels = [0, 1, 1, None, 1, None]
    ex = lw.Explorer(model, seqs, labels=labels, why_open=True)
    recs = [r for r, v in zip(ex.recordings, labels, strict=True) if v is not None]
    ref = lw.rank_units(recs, "h", 0, labels=[0, 1, 1, 1], by="diff", k=10)
    assert ex._ranking["by"] == "diff"
    np.testing.assert_array_equal(decode_array(ex._ranking["units"]), ref.units)
    one_class = lw.Explorer(model, seqs[:2], labels=[0, 0], why_open=True)
    assert "at least 2 classes" in one_class._ranking["error"]


# ---- interventions and comparisons -----------------------------------------------------------------------------------


def test_intervene_shows_what_record_gives(model, seqs, ex):
    ex.sequence = 3
    iv = lw.Intervention("c", layer="layer1", units=[1, 4], start=2, op="clamp", value=0.5)
    rec = ex.intervene(iv)
    ref = lw.record(model, seqs[3], interventions=[iv])
    got = ex._comparison
    assert got["kind"] == "intervention" and got["sequence"] == 3 and got["length"] == 7
    assert (
        ex.comparison
        == got["request"]
        == {
            "kind": "intervention",
            "sequence": 3,
            "interventions": [
                {
                    "quantity": "c",
                    "layer": "layer1",
                    "units": [1, 4],
                    "start": 2,
                    "stop": None,
                    "op": "clamp",
                    "value": 0.5,
                }
            ],
        }
    )
    np.testing.assert_array_equal(decode_array(got["probs"]), ref.probs)
    for q in ref.quantities:
        np.testing.assert_array_equal(decode_array(got["data"][q]), getattr(ref, q))
        np.testing.assert_array_equal(getattr(rec, q), getattr(ref, q))
    layer, quantity = ex._trajectory.key  # placed with the fitted projection, no refit
    np.testing.assert_allclose(
        decode_array(got["traj"]), ex._trajectory.fitted.transform(getattr(ref, quantity)[layer]), rtol=1e-5, atol=1e-6
    )
    assert "clamp at 0.5 layer1.c[1,4] from t=2" in got["description"]
    assert ex.intervened is rec
    assert ex.why_open  # shown in the page's Why section


def test_intervene_accepts_dicts_lists_set_state_and_another_sequence(model, seqs, ex):
    ivs = [
        {"quantity": "h", "layer": 0, "units": [2], "start": 1, "stop": 3, "op": "scale", "value": 2.0},
        lw.Intervention("layer1.h", units=None, start=4, op="zero"),
    ]
    rec = ex.intervene(ivs, sequence=1)
    ref = lw.record(
        model,
        seqs[1],
        interventions=[lw.Intervention("h", 0, [2], 1, 3, "scale", 2.0), lw.Intervention("h", 1, None, 4)],
    )
    np.testing.assert_array_equal(rec.probs, ref.probs)
    assert ex._comparison["sequence"] == 1 and ex.comparison["interventions"][0]["layer"] == "layer0"
    assert ex.comparison["interventions"][1] == {
        "quantity": "h",
        "layer": "layer1",
        "units": None,
        "start": 4,
        "stop": None,
        "op": "zero",
        "value": None,
    }
    h = np.full((2, 8), 0.25, dtype=np.float32)
    rec = ex.intervene([lw.Intervention.set_state(3, h=h, c=np.zeros((2, 8), np.float32))])
    ref = lw.record(model, seqs[ex.sequence], interventions=[lw.Intervention.set_state(3, h=h, c=np.zeros((2, 8)))])
    np.testing.assert_array_equal(rec.h, ref.h)


def test_compare_with_another_sequence_and_an_edited_copy(model, seqs, ex):
    ex.sequence = 0
    rec = ex.compare(4)
    assert rec is ex.recordings[4]
    assert ex.comparison == {"kind": "compare", "sequence": 0, "other": 4}
    got = ex._comparison
    assert got["kind"] == "compare" and got["length"] == 8 and got["names"] == ["sequence 0", "sequence 4"]
    np.testing.assert_array_equal(decode_array(got["data"]["h"]), ex.recordings[4].h)
    edited = seqs[0].copy()
    edited[3:] += 1.0
    rec = ex.compare(edited, name="shifted")
    ref = lw.record(model, edited)
    np.testing.assert_array_equal(decode_array(ex._comparison["probs"]), ref.probs)
    np.testing.assert_array_equal(decode_array(ex._comparison["inputs"]), edited)
    assert ex.comparison == {"kind": "compare", "sequence": 0, "other": None, "name": "shifted"}
    assert ex._comparison["names"] == ["sequence 0", "shifted"]
    ex.comparison = dict(ex.comparison)  # the page writing the same request back changes nothing
    assert ex.intervened is rec
    ex.clear_intervention()
    assert ex.comparison == {} and ex._comparison == {} and ex.intervened is None


def test_page_requests_through_the_comparison_trait(model, seqs, ex):
    request = {
        "kind": "intervention",
        "sequence": 2,
        "interventions": [
            {"quantity": "h", "layer": 1, "units": [0], "start": 1, "stop": None, "op": "zero", "value": None}
        ],
    }
    ex.comparison = request
    ref = lw.record(model, seqs[2], interventions=[lw.Intervention("h", 1, [0], 1)])
    np.testing.assert_array_equal(decode_array(ex._comparison["probs"]), ref.probs)
    # the page's request is normalised (the layer by name) and written back, so the page knows it is shown
    assert ex.comparison["interventions"][0]["layer"] == "layer1" and ex.comparison == ex._comparison["request"]
    ex.comparison = {"kind": "compare", "sequence": 2, "other": 5}
    assert ex._comparison["kind"] == "compare" and ex._comparison["length"] == 6
    ex.comparison = {}
    assert ex._comparison == {}


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda: lw.Intervention("h", 0, [99], 0), "units has unit 99"),
        (lambda: lw.Intervention("h", 5, [1], 0), "layer"),
        (lambda: lw.Intervention("h", 0, [1], 40), "starts at step 40"),
        (lambda: {"quantity": "h", "units": [1], "opp": "zero"}, "unknown key 'opp'"),
        (lambda: {"quantity": "h", "op": "scale"}, "needs a value"),
        (lambda: 3, "must be an Intervention"),
        (lambda: [lw.Intervention("h", 0, [1], 0), "zero"], "expected an Intervention"),
        (lambda: [], "non-empty list"),
    ],
)
def test_bad_intervention_one_error_nothing_changed(ex, bad, match):
    ex.why_open = True
    ex.intervene(lw.Intervention("h", 0, [1], 0))
    before = snapshot(ex)
    shown = ex.intervened
    with pytest.raises((ValueError, TypeError), match=match):
        ex.intervene(bad())
    same_state(before, snapshot(ex))
    assert ex.intervened is shown


def test_bad_requests_and_compare_inputs(model, seqs, ex):
    ex.compare(1)
    before = snapshot(ex)
    with pytest.raises(traitlets.TraitError, match="nothing was changed"):
        ex.comparison = {"kind": "intervention", "sequence": 0, "interventions": [{"quantity": "q"}]}
    with pytest.raises(traitlets.TraitError, match="kind"):
        ex.comparison = {"kind": "swap", "sequence": 0}
    with pytest.raises(traitlets.TraitError, match="out of range|index of a loaded sequence"):
        ex.comparison = {"kind": "compare", "sequence": 0, "other": 17}
    with pytest.raises(ValueError, match="features"):
        ex.compare(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="index of a loaded sequence"):
        ex.compare(9)
    with pytest.raises(ValueError, match="index of a loaded sequence"):
        ex.intervene(lw.Intervention("h", 0, [1], 0), sequence=-1)
    same_state(before, snapshot(ex))
    recs_only = lw.Explorer.from_recordings(lw.record(model, seqs), labels=LABELS)
    with pytest.raises(RuntimeError, match="without one"):
        recs_only.intervene(lw.Intervention("h", 0, [1], 0))
    recs_only.compare(2)  # comparing two loaded sequences needs no model
    assert recs_only._comparison["length"] == 5


def test_comparison_given_to_the_constructor_and_its_trajectory_follows_a_refit(model, seqs):
    ex = lw.Explorer(model, seqs, comparison={"kind": "compare", "sequence": 1, "other": 2})
    assert ex._comparison["sequence"] == 1 and ex._comparison["length"] == 5
    old = ex._comparison["traj"]
    ex.projection_layer = 0  # refit: the compared path is placed on the new map
    np.testing.assert_allclose(
        decode_array(ex._comparison["traj"]),
        ex._trajectory.fitted.transform(ex.recordings[2].h[0]),
        rtol=1e-5,
        atol=1e-6,
    )
    assert ex._comparison["traj"] is not old


# ---- pattern search --------------------------------------------------------------------------------------------------


def test_pattern_query_holds_match_pattern(model, seqs, ex):
    query = {"sequence": 1, "start": 2, "stop": 4, "threshold": 0.05, "layer": 1, "quantity": "h", "margin": 1}
    ex.pattern_query = query  # as the page writes it after a brush
    ref = lw.match_pattern(ex.recordings, 1, 2, 4, 0.05, "h", 1, margin=1, k=20)
    got = ex._patterns
    assert got["query"] == query and got["units"] == ref.units.tolist()
    assert got["matches"] == ref.rows()
    assert ex.patterns.units.tolist() == ref.units.tolist()
    result = ex.find_pattern(0, 3, 0.0, sequence=0, layer=0, quantity="c", margin=0)
    ref = lw.match_pattern(ex.recordings, 0, 0, 3, 0.0, "c", 0, margin=0, k=20)
    assert result.rows() == ref.rows() and ex._patterns["matches"] == ref.rows()
    assert ex.pattern_query["quantity"] == "c"
    ex.pattern_query = {}
    assert ex._patterns == {} and ex.patterns is None


def test_bad_pattern_query_changes_nothing(ex):
    ex.find_pattern(1, 3, 0.1)
    before = snapshot(ex)
    for bad, match in [
        ({"start": 3, "stop": 3, "threshold": 0.1}, "stop"),
        ({"start": 0, "stop": 2, "threshold": "high"}, "threshold"),
        ({"start": 0, "stop": 2, "threshold": 0.1, "sequence": 40}, "sequence"),
        ({"start": 0, "stop": 2}, "threshold"),
        ({"start": 0, "stop": 2, "threshold": 0.1, "colour": 1}, "unknown key"),
    ]:
        with pytest.raises(traitlets.TraitError, match=match):
            ex.pattern_query = bad
    with pytest.raises(ValueError, match="stop"):
        ex.find_pattern(2, 1, 0.1)
    same_state(before, snapshot(ex))


# ---- standalone HTML export ------------------------------------------------------------------------------------------


def test_export_carries_the_why_section_renumbered(ex, tmp_path):
    from helpers import export_state as _state

    ex.sequence = 3
    ex.why_open = True
    ex.intervene(lw.Intervention("h", 0, [1], 2))
    ex.find_pattern(1, 3, 0.0, margin=0)
    matches = ex._patterns["matches"]
    ex.save_html(tmp_path / "a.html", sequences=[3, 0, 1], quiet=True)
    state = _state(tmp_path / "a.html")
    assert state["why_open"] is True and state["influence_method"] == "gradient_x_input"
    assert state["_influence"]["sequence"] == 0 and "values" in state["_influence"]
    assert state["_comparison"]["sequence"] == 0 and state["comparison"]["sequence"] == 0
    assert state["comparison"]["interventions"] == ex.comparison["interventions"]
    where = {3: 0, 0: 1, 1: 2}
    assert state["pattern_query"]["sequence"] == 0
    assert state["_patterns"]["matches"] == [
        {**m, "sequence": where[m["sequence"]]} for m in matches if m["sequence"] in where
    ]
    ex.save_html(tmp_path / "b.html", sequences=[0, 1], quiet=True)  # the shown sequence left out: none of it
    state = _state(tmp_path / "b.html")
    assert state["_influence"] == {} and state["_comparison"] == {} and state["comparison"] == {}
    assert state["_patterns"] == {} and state["_ranking"]["quantity"] == "h"


def test_influence_of_a_regression_explains_its_output_not_an_argmax_class():
    torch.manual_seed(1)
    reg = torch.nn.Sequential()
    reg.add_module("lstm", torch.nn.LSTM(3, 8, batch_first=True))
    reg.add_module("out", torch.nn.Linear(8, 2))
    reg.forward = lambda x: reg.out(reg.lstm(x)[0])
    x = np.random.default_rng(4).normal(size=(6, 3)).astype(np.float32)
    ex = lw.Explorer(reg, [x], task="regression")
    ex.why_open = True
    got = ex._influence
    assert "error" not in got and got["output"] == "output"
    with torch.no_grad():
        raw = reg(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_array_equal(decode_array(got["targets"]), np.zeros(6))
    np.testing.assert_allclose(decode_array(got["f_x"]), raw[:, 0], atol=1e-5)
    assert ex.influence_map.regression and repr(ex.influence_map.at(3)).startswith(
        f"Influence({ex.influence_method}, output 0 at step 3"
    )


def test_ranking_of_an_encoder_decoder_averages_each_row_where_its_module_ran():
    from zoo import EncoderDecoder

    torch.manual_seed(5)
    model = EncoderDecoder(steps=4).eval()
    rng = np.random.default_rng(5)
    xs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (6, 5, 7, 6, 4, 5)]
    labels = [0, 1, 0, 1, 0, 1]
    ex = lw.Explorer(model, xs, labels=labels, why_open=True)
    ex.layer = 1  # the decoder: NaN over the encoder's steps
    got = ex._ranking
    assert "error" not in got and got["layer"] == 1 and got["by"] == "t"
    scores = decode_array(got["scores"])
    assert np.isfinite(scores).all()
    # by hand: each sequence's mean over the decoder's 4 steps (the last 4), then Welch's t of class c against the rest
    means = np.stack([r.h[1][-4:].astype(np.float64).mean(axis=0) for r in ex.recordings])
    assert np.isfinite(means).all()
    lab = np.asarray(labels)
    for row, c in enumerate(got["classes"]):
        a, b = means[lab == c], means[lab != c]
        t = (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
        units = decode_array(got["units"])[row]
        np.testing.assert_allclose(scores[row], t[units], rtol=1e-5)
        np.testing.assert_array_equal(units, np.argsort(-t, kind="stable")[:10])
    # the encoder's row: its own steps only
    ex.layer = 0
    assert np.isfinite(decode_array(ex._ranking["scores"])).all()
