"""The whole recorded data set on the trajectory's map: DatasetExplorer._dataset_traj places every step of every
sequence of the store with the projection that places the window's traj, is placed again when the projection
changes (in the same message as _meta), refuses a store too big to send with a note, and a failing read changes
nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets as tl

pytest.importorskip("zarr", minversion="3")

from sklearn.decomposition import PCA, IncrementalPCA

import lstm_widget as lw
from lstm_widget._widget import recorded
from lstm_widget._wire import decode_array

from helpers import export_state

N_SEQ = 30
FEATURES = 5
CHUNK = 16  # steps per chunk: small, so that sequences straddle chunk boundaries and the pass reads many chunks
# every sequence labelled but a few (-1 in classes)
LABELS = [None if k % 7 == 3 else k % 4 for k in range(N_SEQ)]


def _sequences(n=N_SEQ, seed=0):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((3, FEATURES)) * np.array([[2.0], [1.2], [0.6]])
    out = []
    for _ in range(n):
        z = np.cumsum(0.5 * rng.standard_normal((int(rng.integers(3, 25)), 3)), axis=0)
        out.append((z @ mix + 0.1 * rng.standard_normal((len(z), FEATURES))).astype(np.float32))
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    torch.manual_seed(0)
    net = torch.nn.LSTM(FEATURES, 7, num_layers=2, batch_first=True)
    path = tmp_path_factory.mktemp("ds") / "two.zarr"
    return lw.record_dataset(net, _sequences(), path, batch_size=8, chunk_steps=CHUNK, progress=False, threads=1)


def _explorer(store, **kw):
    return lw.Explorer.from_dataset(store, labels=LABELS, window=8, **kw)


def _pca_by_hand(pca, states: np.ndarray) -> np.ndarray:
    """A (non-whitening) PCA's transform computed here from what it learned: (x − mean) · componentsᵀ, in float64."""
    x = np.asarray(states, dtype=np.float64)
    return (x - pca.mean_) @ pca.components_.T


def _check_points(w, store, layer: int, quantity: str) -> np.ndarray:
    dt = w._dataset_traj
    assert (dt["layer"], dt["quantity"], dt["note"]) == (layer, quantity, None)
    assert (w._meta["projection"]["layer"], w._meta["projection"]["quantity"]) == (layer, quantity)
    points = decode_array(dt["points"])
    assert dt["points"].dtype == "float32" and points.shape == (store.n_steps, w._meta["projection"]["dims"])
    # every step of the store, in store order, read independently of the explorer
    states = np.asarray(store.arrays[quantity][layer])
    assert states.shape[0] == store.n_steps
    np.testing.assert_allclose(points, w.projection.transform(states), rtol=1e-6, atol=1e-6)
    assert isinstance(w.projection, (PCA, IncrementalPCA)) and not w.projection.whiten
    want = _pca_by_hand(w.projection, states)[:, : points.shape[1]]
    np.testing.assert_allclose(points, want, rtol=1e-6, atol=1e-6)
    offsets = decode_array(dt["offsets"])
    assert dt["offsets"].dtype == "int32" and offsets.tolist() == [0, *np.cumsum(store.lengths).tolist()]
    assert decode_array(dt["classes"]).tolist() == [-1 if v is None else v for v in LABELS]
    # the window's paths lie on these points
    a, b = offsets[w.window_start], offsets[w.window_start + len(w.recordings)]
    np.testing.assert_allclose(decode_array(w._arrays["traj"]), points[a:b], rtol=0, atol=1e-6)
    return points


def test_every_step_of_the_store_is_placed_by_the_windows_projection(store):
    w = _explorer(store, start=8)
    assert store.layer_names == ("layer0", "layer1") and w.projection_layer == 1
    assert isinstance(w.projection, IncrementalPCA)
    assert w.projection.n_samples_seen_ == store.n_steps  # fitted over the store, then placed in one more pass
    _check_points(w, store, 1, "h")
    sent = []
    w._send = lambda msg, buffers=None: sent.append(msg)
    before = w._dataset_traj
    w.window_start = 24  # another window: the same map, so the whole set is not sent again
    assert w._dataset_traj is before and all("_dataset_traj" not in m["state"] for m in sent)
    _check_points(w, store, 1, "h")


def test_a_new_projection_places_the_store_again_with_meta_in_one_message(store):
    w = _explorer(store)
    sent = []
    w._send = lambda msg, buffers=None: sent.append(msg)
    h = _check_points(w, store, 1, "h")
    w.projection_quantity = "c"
    c = _check_points(w, store, 1, "c")
    assert not np.allclose(h, c)
    together = [m for m in sent if "_dataset_traj" in m["state"]]
    assert len(together) == 1 and {"_meta", "_arrays"} <= set(together[0]["state"])
    sent.clear()
    w.set_state({"projection_layer": 0})  # the page's write: refitted for layer 0 over the store
    _check_points(w, store, 0, "c")
    assert w.projection.n_samples_seen_ == store.n_steps
    assert len([m for m in sent if "_dataset_traj" in m["state"] and "_meta" in m["state"]]) == 1
    # a transformer swapped in from Python: used as it is, and the store placed with it
    given = PCA(2).fit(np.asarray(store.arrays["g"][1]))
    w.set_projection(given, layer=1, quantity="g")
    assert w.projection is given
    points = _check_points(w, store, 1, "g")
    assert points.shape[1] == 2
    np.testing.assert_allclose(points, given.transform(np.asarray(store.arrays["g"][1])), rtol=1e-6, atol=1e-6)


def test_a_store_over_the_cap_is_not_read_and_says_why(store, monkeypatch):
    size = store.n_steps * 3 * 4 + (N_SEQ + 1) * 4 + N_SEQ * 4  # points, offsets, classes
    monkeypatch.setattr(recorded, "DATASET_TRAJ_BYTES", size - 1)
    placing = []
    real = type(store).blocks
    monkeypatch.setattr(type(store), "blocks", lambda *a, **k: placing.append(a) or real(*a, **k))
    w = _explorer(store)
    dt = w._dataset_traj
    assert not placing  # refused before anything was read for it
    assert set(dt) == {"layer", "quantity", "note"} and (dt["layer"], dt["quantity"]) == (1, "h")
    assert f"{size / 2**20:.1f} MiB" in dt["note"] and f"{(size - 1) / 2**20:.1f} MiB cap" in dt["note"]
    assert f"{store.n_steps:,} steps" in dt["note"] and "DATASET_TRAJ_BYTES" in dt["note"]
    # the window is shown all the same; at the cap itself the points are sent
    assert decode_array(w._arrays["traj"]).shape == (int(store.offsets[8]), 3)
    monkeypatch.setattr(recorded, "DATASET_TRAJ_BYTES", size)
    w.projection_quantity = "c"
    assert placing and w._dataset_traj["note"] is None and "points" in w._dataset_traj
    _check_points(w, store, 1, "c")


def test_a_failing_read_leaves_every_trait_as_it_was(store, monkeypatch):
    w = _explorer(store)

    def broken(quantity="h", layer=0, steps=None):
        yield store.states(quantity, layer, 0, CHUNK)
        raise OSError("the disk went away")

    names = ("_dataset_traj", "_meta", "_arrays", "projection_layer", "projection_quantity")
    before = {k: getattr(w, k) for k in names}
    fitted = w.projection
    sent = []
    w._send = lambda msg, buffers=None: sent.append(msg)
    monkeypatch.setattr(w._pager.dataset, "blocks", broken)
    with pytest.raises(tl.TraitError, match="projection_quantity 'c'.*the disk went away.*nothing was changed"):
        w.projection_quantity = "c"
    with pytest.raises(OSError, match="the disk went away"):
        w.set_projection(PCA(2).fit(np.asarray(store.arrays["h"][0])), layer=0)
    assert {k: getattr(w, k) for k in names} == before and w.projection is fitted
    assert all(set(m["state"]) <= {"projection_quantity"} for m in sent)  # at most the old value, to the page
    monkeypatch.undo()
    w.projection_quantity = "c"  # the store reads again: placed for c
    _check_points(w, store, 1, "c")


def test_an_export_does_not_carry_the_whole_data_set(store, tmp_path):
    w = _explorer(store)
    assert "points" in w._dataset_traj
    w.save_html(tmp_path / "w.html", sequences="all", quiet=True)
    state = export_state(tmp_path / "w.html")
    assert "_dataset_traj" not in state and state["_meta"]["n_sequences"] == 8


def test_an_explorer_of_sequences_has_no_data_set_trajectory():
    net = torch.nn.LSTM(FEATURES, 7, batch_first=True)
    ex = lw.Explorer(net, _sequences(3))
    assert "_dataset_traj" not in ex.trait_names()
