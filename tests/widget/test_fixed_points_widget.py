"""The trajectory's fixed points, kernel side: ``ex.fixed_points = fp`` places the points through the very projection
that places the paths (``_fixed_points``), says why when the map projects something else, follows a refit, refuses
points of another model in one error, and the page's request (``fixed_points_request``) computes
``lstm_widget.fixed_points`` for a sequence's mean input."""

import json

import numpy as np
import pytest
import torch
import traitlets
from sklearn.decomposition import PCA
from torch import nn

import lstm_widget as lw
from lstm_widget._widget.fixedpoints import PAGE_N_INITS, PAGE_SLOW_TOL, SEGMENT, state_spread
from lstm_widget._wire import decode_array


@pytest.fixture()
def ex(model, seqs):
    return lw.Explorer(model, seqs)


@pytest.fixture()
def fp(model, seqs, ex):
    """Fixed points of the top layer (the row the trajectory projects by default) for two constant inputs."""
    inputs = np.stack([seqs[0].mean(0), seqs[1].mean(0)])
    return lw.fixed_points(model, inputs, layer=1, sequences=ex.recordings, n_inits=32, slow_tol=1e-3)


def values(entry):
    return entry.values if hasattr(entry, "values") else decode_array(entry)


def test_points_and_segments_are_the_projection_of_h(ex, fp):
    ex.fixed_points = fp
    payload = ex._fixed_points
    dims = payload["dims"]
    assert payload["layer"] == 1 and payload["layer_name"] == "layer1" and payload["n"] == len(fp) > 0
    np.testing.assert_allclose(values(payload["points"]), ex.projection.transform(fp.h)[:, :dims], atol=1e-6)
    eps = SEGMENT * state_spread(ex._loaded, 1)
    assert payload["segment"] == pytest.approx(eps)
    v = np.real(fp.leading[:, : fp.h.shape[1]])
    share = np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(values(payload["h_share"]), share, rtol=1e-5, atol=1e-7)
    v = np.where(share[:, None] > 1e-9, v / np.maximum(share, 1e-300)[:, None], 0)  # the direction in h, unit length
    ends = values(payload["ends"])
    np.testing.assert_allclose(ends[:, 0], ex.projection.transform(fp.h - eps * v)[:, :dims], atol=1e-6)
    np.testing.assert_allclose(ends[:, 1], ex.projection.transform(fp.h + eps * v)[:, :dims], atol=1e-6)
    assert payload["kinds"] == list(fp.kind)
    np.testing.assert_allclose(values(payload["q"]), fp.q, rtol=1e-6)
    np.testing.assert_allclose(values(payload["radius"]), np.abs(fp.eigenvalues[:, 0]), rtol=1e-6)
    assert list(values(payload["input_index"])) == list(fp.input_index)
    assert payload["counts"] == {k: int((fp.kind == k).sum()) for k in ("stable", "unstable", "slow")}
    assert payload["request"] == {} and payload["projection"] == ex._meta["projection"]


def test_none_clears_the_points(ex, fp):
    ex.fixed_points = fp
    ex.fixed_points = None
    assert ex._fixed_points == {} and ex.fixed_points is None


def test_another_quantity_or_row_on_the_map_says_why_and_a_refit_places_them_again(model, ex, fp):
    ex.fixed_points = fp
    ex.projection_quantity = "c"
    payload = ex._fixed_points
    assert payload["error"] == (
        "fixed points not drawn: they are states h of layer1, the map projects c of layer1 (project h of layer1 to "
        "see them)"
    )
    assert "points" not in payload and payload["projection"]["quantity"] == "c"
    ex.projection_quantity = "h"
    np.testing.assert_allclose(values(ex._fixed_points["points"]), ex.projection.transform(fp.h)[:, :3], atol=1e-6)
    ex.set_projection(PCA(2))  # another transformer: placed again, in its 2 dimensions
    assert ex._fixed_points["dims"] == 2
    np.testing.assert_allclose(values(ex._fixed_points["points"]), ex.projection.transform(fp.h), atol=1e-6)
    fp0 = lw.fixed_points(model, np.zeros(4), layer=0, n_inits=8)
    ex.fixed_points = fp0
    assert "projects h of layer1" in ex._fixed_points["error"]
    ex.projection_layer = 0
    assert "error" not in ex._fixed_points
    np.testing.assert_allclose(values(ex._fixed_points["points"]), ex.projection.transform(fp0.h), atol=1e-6)


def test_points_of_another_model_or_row_are_refused_in_one_error(ex, fp):
    before = ex._fixed_points
    torch.manual_seed(1)
    other = lw.fixed_points(nn.LSTM(4, 5), np.zeros(4), n_inits=8)
    with pytest.raises(traitlets.TraitError, match=r"another model: lstm states h of 5 units; .* lstm of 8 units"):
        ex.fixed_points = other
    deep = lw.fixed_points(nn.LSTM(4, 8, num_layers=3), np.zeros(4), layer=2, n_inits=8)
    with pytest.raises(traitlets.TraitError, match=r"'layer2', a layer row this explorer does not show"):
        ex.fixed_points = deep
    with pytest.raises(traitlets.TraitError, match="must be what lstm_widget.fixed_points returns"):
        ex.fixed_points = fp.h
    assert ex.fixed_points is None and ex._fixed_points is before


def test_the_page_request_computes_the_mean_input_fixed_points(model, seqs, ex):
    ex.fixed_points_request = {"sequence": 1}
    ref = lw.fixed_points(
        model,
        seqs[1].astype(np.float64).mean(0),
        layer=1,
        sequences=ex.recordings,
        n_inits=PAGE_N_INITS,
        slow_tol=PAGE_SLOW_TOL,
    )
    assert isinstance(ex.fixed_points, lw.FixedPoints) and len(ex.fixed_points) == len(ref) > 0
    np.testing.assert_allclose(ex.fixed_points.h, ref.h, atol=1e-9)
    payload = ex._fixed_points
    assert payload["request"] == {"sequence": 1} and payload["about"] == "the mean input of sequence 1"
    np.testing.assert_allclose(values(payload["points"]), ex.projection.transform(ref.h)[:, :3], atol=1e-6)
    # another row than the projected one: computed for it, and the page is told why it is not drawn
    ex.fixed_points_request = {"sequence": 0, "layer": 0}
    assert ex.fixed_points.layer == 0 and ex._fixed_points["request"] == {"sequence": 0, "layer": 0}
    assert ex._fixed_points["error"].startswith("fixed points not drawn")
    # points set from Python replace the page's: its request is cleared
    ex.fixed_points = ref
    assert ex.fixed_points_request == {} and ex._fixed_points["request"] == {}


def test_bad_requests_change_nothing(ex):
    for bad, match in [
        ({"sequence": 9}, r"loaded sequence's index \(0..2\)"),
        ({"sequence": 0, "layer": 5}, "layer row 0..1"),
        ({"seq": 0}, "unknown key 'seq'"),
    ]:
        with pytest.raises(traitlets.TraitError, match=match):
            ex.fixed_points_request = bad
        assert ex.fixed_points_request == {} and ex._fixed_points == {}


def test_an_explorer_without_the_model_refuses_in_one_line(model, seqs):
    ex = lw.Explorer.from_recordings(lw.record(model, seqs))
    ex.fixed_points_request = {"sequence": 0}
    assert ex._fixed_points == {
        "request": {"sequence": 0},
        "error": "fixed points need the model: this explorer was made from recordings, without one",
    }
    assert ex.fixed_points is None


def test_the_export_carries_the_points_as_drawn(ex, fp, tmp_path):
    ex.fixed_points = fp
    path = tmp_path / "fp.html"
    ex.save_html(path, quiet=True)
    text = path.read_text()
    state = json.loads(text.split('type="application/vnd.lstm-widget+json">')[1].split("</script>")[0])
    saved = state["_fixed_points"]
    assert saved["kinds"] == list(fp.kind) and saved["request"] == {} and saved["n"] == len(fp)


def test_a_token_model_s_request_says_why_in_one_line():
    from zoo import TokenClassifier

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    ex = lw.Explorer(TokenClassifier(vocab=11).eval(), [rng.integers(0, 11, n) for n in (7, 4)])
    ex.fixed_points_request = {"sequence": 1}
    assert ex._fixed_points["request"] == {"sequence": 1}
    assert ex._fixed_points["error"].startswith("fixed points need a constant input in the model's input space")
    assert "token ids" in ex._fixed_points["error"] and ex.fixed_points is None


def test_the_state_spread_leaves_out_the_steps_a_module_did_not_run():
    from zoo import EncoderDecoder

    torch.manual_seed(5)
    x = np.random.default_rng(5).normal(size=(6, 3)).astype(np.float32)
    ex = lw.Explorer(EncoderDecoder(steps=4).eval(), [x])
    for row, steps in [(0, slice(0, 6)), (1, slice(6, 10))]:
        h = ex.recordings[0].h[row].astype(np.float64)
        assert np.isnan(h).any()
        ran = h[steps]
        expected = np.sqrt(((ran - ran.mean(0)) ** 2).sum(1).mean())
        assert expected > 0 and state_spread(ex._loaded, row) == pytest.approx(expected, rel=1e-9)
