"""Trajectories: the denoising autoencoder as a scikit-learn transformer, the projection of recorded states (PCA, the
autoencoder, any transformer), and the Explorer's trajectory traits (projection_layer / projection_quantity refits,
traj_view, groups, live steps placed on the fitted map)."""

import numpy as np
import pytest
import torch
import traitlets
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import make_s_curve
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

import lstm_widget as lw
from lstm_widget import DenoisingAutoencoder
from lstm_widget._core.projection.autoencoder import near_constant_rows
from lstm_widget._core.projection.fit import fit_projection, is_fitted, make_projection
from lstm_widget._wire import decode_array

from helpers import Classifier

FAST = dict(epochs=3, progress=False)


# ---- the autoencoder -------------------------------------------------------------------------------------------
#: Checks that do not apply, with the reason (every other check of the installed scikit-learn must pass).
NOT_APPLICABLE = {
    "check_array_api_input": "the autoencoder takes numpy arrays (torch runs inside); array API inputs (torch or "
    "cupy arrays given as X) are not supported",
}


@parametrize_with_checks([DenoisingAutoencoder(**FAST)], expected_failed_checks=lambda estimator: NOT_APPLICABLE)
def test_autoencoder_passes_the_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _curved_manifold(n, seed):
    """Points of an S-curve (a 2-D surface bent in 3-D), standardised and embedded in 20-D by a random rotation."""
    points, _ = make_s_curve(n, noise=0.0, random_state=seed)
    points = (points - points.mean(0)) / points.std(0)
    basis, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(20, 3)))
    return (points @ basis.T).astype(np.float32)


def test_autoencoder_reconstructs_a_curved_2d_manifold_better_than_2_component_pca():
    X, X_new = _curved_manifold(1500, 0), _curved_manifold(500, 1)
    pca = PCA(n_components=2).fit(X)
    ae = DenoisingAutoencoder(progress=False).fit(X)

    def mse(model, data):
        return float(np.mean((model.inverse_transform(model.transform(data)) - data) ** 2))

    # PCA keeps the plane of the two widest directions and loses the bend (≈ 0.046); the autoencoder follows it
    assert mse(pca, X) == pytest.approx(0.046, abs=0.005)
    assert mse(ae, X) < 0.02 and mse(ae, X) < 0.4 * mse(pca, X)
    assert mse(ae, X_new) < 0.4 * mse(pca, X_new)  # on points it was not trained on too
    assert ae.reconstruction_error_ == pytest.approx(mse(ae, X))
    assert ae.loss_curve_[-1] < 0.2 * ae.loss_curve_[0] and ae.n_iter_ == 40 == len(ae.loss_curve_)
    assert ae.batch_size_ == 64  # "auto": 1500 // 64 = 23, clipped to 64


def test_autoencoder_transform_is_deterministic_and_seeded_fits_are_identical():
    X = _curved_manifold(400, 2)
    a = DenoisingAutoencoder(**FAST, random_state=3).fit(X)
    Z = a.transform(X)
    assert Z.shape == (400, 2) and Z.dtype == np.float64
    np.testing.assert_array_equal(a.transform(X), Z)  # no noise at transform time
    # nor batching (up to the BLAS's float64 rounding, which may depend on the block sizes)
    np.testing.assert_allclose(np.concatenate([a.transform(X[:7]), a.transform(X[7:])]), Z, rtol=0, atol=1e-12)
    b = DenoisingAutoencoder(**FAST, random_state=3).fit(X)
    assert a.loss_curve_ == b.loss_curve_
    for (name, wa), wb in zip(a.encoder_.state_dict().items(), b.encoder_.state_dict().values(), strict=True):
        assert torch.equal(wa, wb), name
    np.testing.assert_array_equal(b.transform(X), Z)
    c = DenoisingAutoencoder(**FAST, random_state=4).fit(X)
    assert not np.allclose(c.transform(X), Z)
    # fitting does not disturb the caller's torch random stream
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    DenoisingAutoencoder(**FAST).fit(X)
    assert torch.equal(torch.rand(3), expected)


def test_autoencoder_learned_attributes_and_inverse_transform():
    X = _curved_manifold(300, 3).astype(np.float64) * 5 + 2
    ae = DenoisingAutoencoder(n_components=3, hidden=(16, 8), **FAST).fit(X)
    assert ae.n_features_in_ == 20 and ae.mean_.shape == (20,) and ae.n_samples_dropped_ == 0
    assert ae.encoder_[0].in_features == 20 and ae.encoder_[-1].out_features == 3
    assert [m.out_features for m in ae.decoder_ if isinstance(m, torch.nn.Linear)] == [8, 16, 20]
    assert ae.inverse_transform(ae.transform(X)).shape == (300, 20)
    assert list(ae.get_feature_names_out()) == [
        "denoisingautoencoder0",
        "denoisingautoencoder1",
        "denoisingautoencoder2",
    ]
    with pytest.raises(ValueError, match=r"X has 2 features, but inverse_transform expects 3"):
        ae.inverse_transform(np.zeros((4, 2)))
    with pytest.raises(NotFittedError):
        DenoisingAutoencoder().transform(X)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_components=0), r"n_components must be a positive int; got 0"),
        (dict(epochs=2.5), r"epochs must be a positive int; got 2.5"),
        (dict(batch_size="big"), r"batch_size must be a positive int or 'auto'; got 'big'"),
        (dict(hidden=(8, -1)), r"hidden must be a tuple of positive ints"),
        (dict(noise=-0.1), r"noise must be a non-negative number; got -0.1"),
        (dict(lr=0), r"lr must be a positive number; got 0"),
        (dict(drop_constant=-1), r"drop_constant must be None or a non-negative number"),
        (dict(activation="gelu"), r"activation must be one of \['relu', 'tanh'\]; got 'gelu'"),
    ],
)
def test_autoencoder_refuses_bad_parameters_when_fitted(params, message):
    with pytest.raises(ValueError, match=message):
        DenoisingAutoencoder(**params, progress=False).fit(np.zeros((10, 3)))


def test_drop_constant_leaves_near_constant_states_out_of_training():
    t = np.linspace(0, 1, 50)[:, None]
    moving = np.hstack([np.sin(3 * t), np.cos(3 * t), t])
    X = np.vstack([np.repeat(moving[:1], 10, axis=0), moving, np.repeat(moving[-1:], 15, axis=0)])  # saturated ends
    mask = near_constant_rows(X, 0.1)  # each run of repeats keeps its first state
    assert mask.sum() == 10 + 15 and not mask[0] and mask[1:11].all() and not mask[11:-15].any()
    assert not near_constant_rows(X, None).any()
    ae = DenoisingAutoencoder(drop_constant=0.1, **FAST).fit(X)
    assert ae.n_samples_dropped_ == 25
    np.testing.assert_allclose(ae.mean_, X[~mask].mean(0))
    assert ae.transform(X).shape == (75, 2)  # dropped rows are still transformed


def test_autoencoder_shows_progress_while_training(capsys):
    DenoisingAutoencoder(epochs=2, progress=True).fit(np.random.default_rng(0).normal(size=(50, 4)))
    err = capsys.readouterr().err
    assert "DenoisingAutoencoder" in err and "2/2" in err


# ---- projections in the kernel core ---------------------------------------------------------------------------
class _NoFit:
    def transform(self, X):
        return X


class _Columns(TransformerMixin, BaseEstimator):
    """A transformer giving ``k`` columns (optionally NaN), to test what the projection refuses."""

    def __init__(self, k=2, nan=False):
        self.k, self.nan = k, nan

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        out = np.asarray(X, dtype=np.float64)[:, : self.k].copy()
        if self.nan:
            out[3, 0] = np.nan
        return out


class _FailingFit(_Columns):
    def fit(self, X, y=None):
        raise RuntimeError("cannot learn from these")


@pytest.mark.parametrize(
    "projection, error, message",
    [
        (
            "tsne",
            ValueError,
            r"projection 'tsne' is not known; expected 'pca', 'autoencoder' or a scikit-learn "
            r"transformer",
        ),
        (
            _NoFit(),
            TypeError,
            r"projection must be 'pca', 'autoencoder' or an object with fit\(\) and transform\(\) "
            r"\(a scikit-learn transformer\); got an object of type _NoFit, which has no fit\(\)",
        ),
        (42, TypeError, r"got an object of type int, which has no fit\(\) and no transform\(\)"),
        (_Columns(k=0), ValueError, r"projection _Columns gave 0 columns; expected at least 1"),
        (
            _Columns(nan=True),
            ValueError,
            r"projection _Columns gave NaN or inf coordinates for 1 of 30 states "
            r"\(the first at row 3\)",
        ),
        (
            PCA(2).fit(np.eye(5)),
            ValueError,
            r"projection PCA was fitted on 5 features, but the projected states "
            r"have 6 units",
        ),
        (_FailingFit(), ValueError, r"projection _FailingFit failed to fit on 30 states × 6 units: cannot learn"),
    ],
)
def test_fit_projection_refuses_what_cannot_project(projection, error, message):
    states = np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)
    with pytest.raises(error, match=message):
        fit_projection(projection, states)


def test_named_projections_and_fitted_detection():
    states = np.random.default_rng(0).normal(size=(400, 6)).astype(np.float32)
    pca = make_projection("pca", 400, 6)
    assert pca.n_components == 3 and pca.svd_solver == "covariance_eigh"  # many more states than units
    assert make_projection("pca", 30, 6).svd_solver == "full" and make_projection("pca", 30, 2).n_components == 2
    # 10 000 steps × 1024 units: the full SVD would take seconds before the first render; the randomized one does not
    assert make_projection("pca", 10_000, 1024).svd_solver == "randomized"
    assert make_projection("autoencoder").get_params() == DenoisingAutoencoder().get_params()
    assert not is_fitted(PCA(2)) and is_fitted(PCA(2).fit(states))
    proj, coords = fit_projection("pca", states)
    assert proj.name == "PCA" and proj.dims == 3 and coords.shape == (400, 3) and coords.dtype == np.float32
    assert proj.explained == pytest.approx(list(proj.transformer.explained_variance_ratio_))
    # a fitted transformer is used as is, an unfitted one is fitted in place on the states
    given = PCA(2).fit(states[:50])
    before = given.components_.copy()
    proj, coords = fit_projection(given, states)
    assert proj.transformer is given and proj.dims == 2
    np.testing.assert_array_equal(given.components_, before)
    np.testing.assert_allclose(coords, given.transform(states), atol=1e-6)
    unfitted = PCA(4)
    proj, coords = fit_projection(unfitted, states)
    assert proj.transformer is unfitted and is_fitted(unfitted) and proj.dims == 3 and len(proj.explained) == 3
    np.testing.assert_allclose(coords, PCA(4).fit(states).transform(states)[:, :3], atol=1e-5)
    # one column is drawn against a zero second column; too few states give the first units
    proj, coords = fit_projection(PCA(1), states)
    assert proj.dims == 2 and not coords[:, 1].any() and proj.explained[1] == 0.0
    proj, coords = fit_projection("pca", states[:1])
    assert proj.name == "first units" and proj.transformer is None
    np.testing.assert_array_equal(coords, states[:1, :2])


# ---- the Explorer's trajectory -------------------------------------------------------------------------------------
def _traj(ex):
    return decode_array(ex._arrays["traj"])


def _states(ex, layer, quantity):
    return np.concatenate([getattr(r, quantity)[layer] for r in ex.recordings])


def test_pca_trajectory_equals_scikit_learn_pca_fitted_by_hand(model, seqs):
    ex = lw.Explorer(model, seqs)
    h_all = _states(ex, 1, "h")  # default: the last layer's h
    by_hand = PCA(n_components=3).fit(h_all)
    np.testing.assert_allclose(_traj(ex), by_hand.transform(h_all), atol=1e-5)
    assert ex._meta["projection"] == {
        "name": "PCA",
        "dims": 3,
        "layer": 1,
        "quantity": "h",
        "explained": pytest.approx(list(by_hand.explained_variance_ratio_)),
    }
    assert ex.projection_layer == 1 and ex.projection_quantity == "h" and ex._meta["groups"] is None
    # more states than 10 × units: the one-pass covariance solver, same map as the exact SVD
    rng = np.random.default_rng(1)
    many = [rng.normal(size=(40, 4)).astype(np.float32) for _ in range(5)]
    big = lw.Explorer(model, many)
    assert big.projection.svd_solver == "covariance_eigh"
    h_all = _states(big, 1, "h").astype(np.float64)
    np.testing.assert_allclose(_traj(big), PCA(3, svd_solver="full").fit_transform(h_all), atol=1e-4)


def test_projection_layer_and_quantity_refit_on_the_chosen_states(model, seqs):
    ex = lw.Explorer(model, seqs, projection_layer=0, projection_quantity="c")
    np.testing.assert_allclose(_traj(ex), PCA(3).fit_transform(_states(ex, 0, "c")), atol=1e-5)
    sent = []
    ex.observe(lambda ch: sent.append(ch["name"]), names=["_arrays", "_meta"])
    ex.projection_quantity = "f"
    np.testing.assert_allclose(_traj(ex), PCA(3).fit_transform(_states(ex, 0, "f")), atol=1e-5)
    assert ex._meta["projection"]["layer"] == 0 and ex._meta["projection"]["quantity"] == "f"
    assert sorted(sent) == ["_arrays", "_meta"]
    ex.projection_layer = 1
    np.testing.assert_allclose(_traj(ex), PCA(3).fit_transform(_states(ex, 1, "f")), atol=1e-5)
    assert (ex._meta["projection"]["layer"], ex._meta["projection"]["quantity"]) == (1, "f")
    ex.projection_layer = 1  # no change: no refit, nothing sent
    assert len(sent) == 4


def test_the_page_asking_for_another_layer_and_quantity_refits_once(model, seqs, monkeypatch):
    import lstm_widget._widget.trajectory as trajectory_module

    ex = lw.Explorer(model, seqs)
    fits = []
    real = trajectory_module.fit_projection
    monkeypatch.setattr(trajectory_module, "fit_projection", lambda *a, **k: fits.append(1) or real(*a, **k))
    ex.set_state({"projection_layer": 0, "projection_quantity": "g"})  # as a message from the page does
    assert len(fits) == 1 and ex._meta["projection"]["layer"] == 0 and ex._meta["projection"]["quantity"] == "g"
    np.testing.assert_allclose(_traj(ex), PCA(3).fit_transform(_states(ex, 0, "g")), atol=1e-5)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("projection_layer", 2, r"projection_layer 2 is out of range; expected 0..1 \(layer0, layer1\)"),
        ("projection_quantity", "z", r"projection_quantity 'z' is not recorded; expected one of h, c, i, f, g, o"),
    ],
)
def test_bad_projection_choices_are_refused_and_nothing_changes(model, seqs, name, value, message):
    ex = lw.Explorer(model, seqs)
    meta, traj, before = dict(ex._meta), _traj(ex), getattr(ex, name)
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(ex, name, value)
    assert getattr(ex, name) == before and ex._meta == meta
    np.testing.assert_array_equal(_traj(ex), traj)
    with pytest.raises(ValueError, match=message):
        lw.Explorer(model, seqs, **{name: value})


def test_a_refit_that_fails_changes_nothing_and_answers_the_page(model, seqs, monkeypatch):
    import lstm_widget._widget.trajectory as trajectory_module

    ex = lw.Explorer(model, seqs)
    meta, traj = dict(ex._meta), _traj(ex)
    monkeypatch.setattr(trajectory_module, "fit_projection", lambda *a, **k: 1 / 0)
    with pytest.raises(
        traitlets.TraitError,
        match=r"projection_quantity 'c': the projection could not be refitted "
        r"\(division by zero\); nothing was changed",
    ):
        ex.projection_quantity = "c"
    assert ex.projection_quantity == "h" and ex._meta == meta
    np.testing.assert_array_equal(_traj(ex), traj)
    # asked by the page: the page is sent back the value still in force (it stops waiting for a projection)
    sent = []
    monkeypatch.setattr(ex, "_send", lambda msg, buffers=None: sent.append(msg))
    with pytest.raises(traitlets.TraitError):
        ex.set_state({"projection_layer": 0})
    assert ex.projection_layer == 1 and ex._meta == meta
    assert {"method": "update", "state": {"projection_layer": 1}, "buffer_paths": []} in sent


def test_user_transformers_fitted_or_not_and_set_projection(model, seqs):
    probe = lw.Explorer(model, seqs)
    h_all = _states(probe, 1, "h")
    mine = PCA(2).fit(h_all[:6])  # fitted by the user on a few states: used as is
    before = mine.components_.copy()
    ex = lw.Explorer(model, seqs, projection=mine)
    assert ex.projection is mine and ex._meta["projection"]["dims"] == 2
    np.testing.assert_allclose(_traj(ex), mine.transform(h_all), atol=1e-6)
    # another layer: an unfitted copy is fitted there; the user's object keeps what it learned
    ex.projection_layer = 0
    assert ex.projection is not mine and isinstance(ex.projection, PCA)
    np.testing.assert_array_equal(mine.components_, before)
    np.testing.assert_allclose(_traj(ex), PCA(2).fit_transform(_states(ex, 0, "h")), atol=1e-5)
    ex.projection_layer = 1  # back to where it was given: the user's fitted map again
    assert ex.projection is mine
    # set_projection swaps the transformer (and optionally what is projected), fitting it once
    ae = DenoisingAutoencoder(**FAST)
    ex.set_projection(ae, layer=0, quantity="c")
    assert ex.projection is ae and is_fitted(ae) and (ex.projection_layer, ex.projection_quantity) == (0, "c")
    assert ex._meta["projection"] == {
        "name": "DenoisingAutoencoder",
        "dims": 2,
        "layer": 0,
        "quantity": "c",
        "explained": None,
    }
    np.testing.assert_allclose(_traj(ex), ae.transform(_states(ex, 0, "c")), atol=1e-5)
    meta = dict(ex._meta)
    with pytest.raises(ValueError, match=r"projection 'umap' is not known"):
        ex.set_projection("umap")
    with pytest.raises(ValueError, match=r"projection_layer 5 is out of range"):
        ex.set_projection("pca", layer=5)
    with pytest.raises(ValueError, match=r"projection _FailingFit failed to fit"):
        ex.set_projection(_FailingFit())
    assert ex._meta == meta and ex.projection is ae
    ex.set_projection("pca")
    assert ex._meta["projection"]["name"] == "PCA" and ex._meta["projection"]["quantity"] == "c"


def test_named_autoencoder_projection(model, seqs):
    ex = lw.Explorer(model, seqs, projection="autoencoder")
    assert isinstance(ex.projection, DenoisingAutoencoder) and ex._meta["projection"]["dims"] == 2
    np.testing.assert_allclose(_traj(ex), ex.projection.transform(_states(ex, 1, "h")), atol=1e-5)


@pytest.mark.parametrize(
    "view, message",
    [
        ({"size": 3}, r"traj_view has an unknown key 'size'; expected some of dims, color, log1p"),
        ({"dims": 4}, r"traj_view\['dims'\] must be 2 or 3; got 4"),
        ({"dims": True}, r"traj_view\['dims'\] must be 2 or 3; got True"),
        ({"color": "red"}, r"traj_view\['color'\] must be 'time', 'class', 'group', 'target' or 'output'; got 'red'"),
        ({"color": "group"}, r"traj_view\['color'\] 'group' needs per-sequence groups"),
        ({"log1p": 1}, r"traj_view\['log1p'\] must be a bool; got 1"),
        ({"labels": "yes"}, r"traj_view\['labels'\] must be a bool"),
        ({"last_only": None}, r"traj_view\['last_only'\] must be a bool"),
        ({"overlay": [0]}, r"traj_view\['overlay'\] must be \[\] or \[class_a, class_b\] .* in 0..2; got \[0\]"),
        ({"overlay": [1, 1]}, r"traj_view\['overlay'\] must be"),
        ({"overlay": [0, 3]}, r"traj_view\['overlay'\] must be .* in 0..2; got \[0, 3\]"),
        ({"yaw": float("nan")}, r"traj_view\['yaw'\] must be a finite number \(radians\); got nan"),
        ({"pitch": "up"}, r"traj_view\['pitch'\] must be a finite number"),
    ],
)
def test_bad_traj_view_is_refused_naming_the_key(model, seqs, view, message):
    ex = lw.Explorer(model, seqs, labels=[0, 1, 2], traj_view={"dims": 3})
    with pytest.raises(traitlets.TraitError, match=message):
        ex.traj_view = view
    assert ex.traj_view == {"dims": 3}
    with pytest.raises(ValueError, match=message):
        lw.Explorer(model, seqs, labels=[0, 1, 2], traj_view=view)


def test_traj_view_and_groups(model, seqs):
    view = {
        "dims": 3,
        "color": "group",
        "log1p": True,
        "labels": True,
        "last_only": False,
        "overlay": (0, 2),
        "yaw": 0.5,
        "pitch": -1,
    }
    ex = lw.Explorer(model, seqs, labels=[0, 1, 2], groups=np.array([1, 2, 1]), group_name="hands", traj_view=view)
    assert ex.traj_view == {**view, "overlay": [0, 2]}
    assert ex._meta["groups"] == {"name": "hands", "values": ["1", "2", "1"]}
    ex.traj_view = {}
    assert ex.traj_view == {}
    # the page writes back the whole object it holds: "group" without groups is kept (it draws it as "class")
    plain = lw.Explorer(model, seqs)
    plain.set_state({"traj_view": {**view, "color": "group", "overlay": []}})
    assert plain.traj_view["color"] == "group"
    with pytest.raises(ValueError, match=r"groups has 2 entries; expected one per sequence \(3\)"):
        lw.Explorer(model, seqs, groups=["a", "b"])
    with pytest.raises(TypeError, match=r"groups must be a sequence with one value per sequence \(3\); got str"):
        lw.Explorer(model, seqs, groups="abc")


def _sent_traj(sent):
    """The ``traj`` rows of every append message, in order."""
    rows = []
    for content, buffers in sent:
        if content["type"] != "append":
            continue
        names = [f["name"] for f in content["fields"]]
        field = content["fields"][names.index("traj")]
        rows.append(np.frombuffer(bytes(buffers[names.index("traj")]), "<f4").reshape(field["shape"]))
    return np.concatenate(rows)


@pytest.mark.parametrize("projection", ["pca", "autoencoder"])
def test_live_steps_are_projected_like_the_same_steps_recorded_offline(model, seqs, monkeypatch, projection):
    ex = lw.Explorer(
        model,
        seqs,
        labels=[0, 1, 2],
        groups=["a", "b", "a"],
        projection=projection,
        projection_layer=0,
        projection_quantity="c",
    )
    before, fitted = _traj(ex), ex.projection
    sent = []
    monkeypatch.setattr(ex, "send", lambda content, buffers=None: sent.append((content, buffers)))
    x = np.random.default_rng(1).normal(size=(30, 4)).astype(np.float32)
    ex.stream(x, label=1, group="b", batch_ms=0.0)
    live = _sent_traj(sent)
    assert live.shape == (30, ex._meta["projection"]["dims"])
    # the same steps recorded offline and placed on the same (fitted, not refitted) map
    offline = lw.Explorer(model, seqs + [x], projection=fitted, projection_layer=0, projection_quantity="c")
    np.testing.assert_allclose(live, _traj(offline)[16:], atol=1e-5)
    np.testing.assert_allclose(live, fitted.transform(lw.record(model, x).c[0]), atol=1e-5)
    # afterwards the trait holds the old steps unchanged (no refit) and the new ones as sent
    assert ex.projection is fitted
    np.testing.assert_array_equal(_traj(ex)[:16], before)
    np.testing.assert_allclose(_traj(ex)[16:], live, atol=1e-6)
    assert ex._meta["groups"]["values"] == ["a", "b", "a", "b"]
    ex.stream(x[:3], batch_ms=0.0)
    assert ex._meta["groups"]["values"][-1] is None  # no group given: none (the page draws it neutral)


def test_trajectory_property_is_what_the_projection_gives_every_loaded_step():
    torch.manual_seed(0)
    model = Classifier().eval()
    xs = [torch.randn(n, 4).numpy() for n in (5, 7, 3)]
    ex = lw.Explorer(model, xs)
    states = np.concatenate([r.h[ex.projection_layer] for r in ex.recordings])
    assert ex.trajectory.shape == (15, 3)
    np.testing.assert_allclose(ex.trajectory, ex.projection.transform(states), atol=1e-5)
    with pytest.raises(ValueError):
        ex.trajectory[0, 0] = 1.0  # a read-only copy: the page's data cannot be changed through it
