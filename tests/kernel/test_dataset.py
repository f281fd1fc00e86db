"""Data sets out of core: record_dataset writes a chunked zarr store (bounded memory, progress, clear
errors), open_dataset reads it lazily, the same store comes out of a Dask LocalCluster, projections are fitted
incrementally over it, and Explorer.from_dataset shows it one window of sequences at a time."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
import weakref

import numpy as np
import pytest
import torch

pytest.importorskip("zarr", minversion="3")

import zarr
import zarr.storage

import lstm_widget as lw
from lstm_widget._core.recording.store import RecordedDataset
from lstm_widget._wire import decode_array
from lstm_widget.models import japanese_vowels_net

N_SEQ = 60
BATCH = 8
CHUNK = 64  # steps per chunk: small, so that sequences and Dask regions straddle chunk boundaries
ARRAYS = ("inputs", "h", "c", "i", "f", "g", "o", "logits", "probs", "offsets")


def _sequences(n=N_SEQ, features=12, seed=0):
    """Sequences of 3 to 39 steps driven by three latent random walks of decreasing scale (so that the hidden states
    have a few clear principal axes), plus a little noise."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((3, features)) * np.array([[2.0], [1.2], [0.6]])
    out = []
    for _ in range(n):
        steps = int(rng.integers(3, 40))
        z = np.cumsum(0.5 * rng.standard_normal((steps, 3)), axis=0)
        out.append((z @ mix + 0.1 * rng.standard_normal((steps, features))).astype(np.float32))
    return out


@pytest.fixture(scope="module")
def model():
    return japanese_vowels_net()


@pytest.fixture(scope="module")
def seqs():
    return _sequences()


@pytest.fixture(scope="module")
def store(model, seqs, tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "single.zarr"
    return lw.record_dataset(model, seqs, path, batch_size=BATCH, chunk_steps=CHUNK, progress=False, threads=1)


@contextlib.contextmanager
def _threads(n):
    """torch's thread count set to ``n`` for the block (the store's last bits depend on it)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _same(a, b):
    return a is None and b is None or (a is not None and b is not None and np.array_equal(a, b))


# ---- contents --------------------------------------------------------------------------------------------------------
def test_store_holds_what_record_gives(model, seqs, store):
    ds = store
    assert isinstance(ds, RecordedDataset) and len(ds) == N_SEQ
    lengths = [len(x) for x in seqs]
    np.testing.assert_array_equal(ds.lengths, lengths)
    np.testing.assert_array_equal(ds.offsets, np.concatenate([[0], np.cumsum(lengths)]))
    a = ds.attrs
    assert a["format"] == "lstm_widget.recordings" and a["complete"] is True
    assert (a["n_sequences"], a["n_steps"], a["features"], a["classes"]) == (N_SEQ, sum(lengths), 12, 9)
    assert a["layer_names"] == ["layer0"] and a["quantities"] == ["h", "c", "i", "f", "g", "o"]
    assert a["units"] == {q: 100 for q in "hcifgo"} and a["chunk_steps"] == CHUNK and a["batch_size"] == BATCH
    assert a["threads"] == 1 and a["model"]["class"] == "JapaneseVowelsNet"
    # bit for bit what record gives on the same batches, and what it gives for each sequence alone up to rounding
    with _threads(1):
        expected = [r for k in range(0, N_SEQ, BATCH) for r in lw.record(model, seqs[k:k + BATCH])]
        alone = [lw.record(model, x) for x in seqs[:5]]
    for k, (got, want) in enumerate(zip(ds, expected, strict=True)):
        for name in ("inputs", "h", "c", "i", "f", "g", "o", "logits", "probs"):
            assert _same(getattr(got, name), getattr(want, name)), (k, name)
        assert got.layer_names == ("layer0",)
    for got, want in zip(ds[:5], alone, strict=True):
        for name in ("h", "c", "i", "f", "g", "o", "probs"):
            np.testing.assert_allclose(getattr(got, name), getattr(want, name), atol=1e-5)
    # negative index, a slice with a step, states of a range of steps
    assert _same(ds[-1].h, expected[-1].h) and _same(ds[1:6:2][1].c, expected[3].c)
    np.testing.assert_array_equal(ds.states("h", 0, 10, 20), np.concatenate([r.h[0] for r in expected])[10:20])


def test_layers_and_quantities_without_a_head(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=True)
    xs = _sequences(9, features=5, seed=1)
    ds = lw.record_dataset(net, xs, tmp_path / "bi.zarr", quantities=["c", "h"], batch_size=4, chunk_steps=16,
                           progress=False, threads=1)
    assert ds.layer_names == ("layer0", "layer0_reverse", "layer1", "layer1_reverse")
    assert ds.quantities == ("h", "c") and ds.classes is None and "logits" not in ds.arrays
    with _threads(1):
        expected = [r for k in range(0, 9, 4) for r in lw.record(net, xs[k:k + 4])]
    for got, want in zip(ds, expected, strict=True):
        assert _same(got.h, want.h) and _same(got.c, want.c)
        assert got.i is None and got.probs is None
    assert ds.states("c", "layer1_reverse").shape == (sum(len(x) for x in xs), 7)


def test_a_gru_store_and_its_explorer(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.GRU(4, 6, batch_first=True)
    xs = _sequences(10, features=4, seed=3)
    ds = lw.record_dataset(net, xs, tmp_path / "gru.zarr", batch_size=3, chunk_steps=8, progress=False, threads=1)
    assert ds.cell == "gru" and ds.quantities == ("h", "r", "z", "n")
    with _threads(1):
        want = [r for k in range(0, 10, 3) for r in lw.record(net, xs[k:k + 3])]
    assert all(_same(getattr(a, q), getattr(b, q)) for a, b in zip(ds, want, strict=True) for q in ("h", "r", "z", "n"))
    w = lw.Explorer.from_dataset(ds, window=4, start=8)
    assert w._meta["quantities"] == ["h", "r", "z", "n"] and w._meta["n_sequences"] == 2
    np.testing.assert_array_equal(decode_array(w._data_h), np.concatenate([r.h for r in want[8:]], axis=1))


# ---- bounded memory, progress --------------------------------------------------------------------------------------
def test_a_generator_is_read_batch_by_batch(model, tmp_path):
    """However many sequences there are, at most one batch of them is held at once (plus the first, kept to size the
    store): a counting generator sees the earlier ones freed before it yields more."""
    alive: list[weakref.ref] = []
    most = 0
    made = 0

    def gen():
        nonlocal most, made
        rng = np.random.default_rng(2)
        for _ in range(80):
            x = rng.standard_normal((int(rng.integers(3, 40)), 12)).astype(np.float32)
            most = max(most, sum(r() is not None for r in alive))
            alive.append(weakref.ref(x))
            made += 1
            yield x
            del x

    calls = []
    ds = lw.record_dataset(model, gen(), tmp_path / "gen.zarr", batch_size=BATCH, chunk_steps=CHUNK,
                           threads=1, progress=lambda done, total: calls.append((done, total)))
    gc.collect()
    assert made == 80 and len(ds) == 80
    assert most <= BATCH + 1, f"{most} sequences were held at once; expected at most a batch ({BATCH}) + the first"
    # progress: after every batch, total unknown for a generator
    assert calls[-1] == (80, None) and [d for d, _ in calls] == sorted({d for d, _ in calls})
    assert len(calls) == -(-80 // BATCH)


def test_progress_bar_on_stderr(model, seqs, tmp_path, capsys):
    before = torch.get_num_threads()
    lw.record_dataset(model, seqs[:20], tmp_path / "p.zarr", batch_size=BATCH, chunk_steps=CHUNK,
                      threads=before % 2 + 1)
    assert torch.get_num_threads() == before  # the recording's thread count does not stay behind
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]  # tqdm's final redraw
    assert last.startswith("record_dataset: 100%") and "20/20" in last


# ---- errors ----------------------------------------------------------------------------------------------------------
def test_bad_inputs_give_one_clear_error(model, seqs, tmp_path):
    bad = list(seqs[:10]) + [np.zeros((5, 11), np.float32)]
    with pytest.raises(ValueError, match=r"sequence 10 has 11 features.*expects 12"):
        lw.record_dataset(model, bad, tmp_path / "bad.zarr", batch_size=4, progress=False)
    assert not (tmp_path / "bad.zarr").exists()  # a failed recording leaves no half store
    with pytest.raises(ValueError, match="no sequences to record"):
        lw.record_dataset(model, [], tmp_path / "empty.zarr", progress=False)
    with pytest.raises(ValueError, match="no sequences to record"):
        lw.record_dataset(model, iter(()), tmp_path / "empty.zarr", progress=False)
    lw.record_dataset(model, seqs[:3], tmp_path / "there.zarr", progress=False, threads=1)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        lw.record_dataset(model, seqs[:3], tmp_path / "there.zarr", progress=False)
    assert len(lw.record_dataset(model, seqs[:4], tmp_path / "there.zarr", progress=False, overwrite=True,
                                 threads=1)) == 4
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a zarr store"):
        lw.record_dataset(model, seqs[:3], tmp_path / "other", progress=False, overwrite=True)
    assert (tmp_path / "other" / "notes.txt").exists()
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        lw.record_dataset(model, seqs[:3], tmp_path / "b.zarr", batch_size=0, progress=False)
    with pytest.raises(ValueError, match="quantities"):
        lw.record_dataset(model, seqs[:3], tmp_path / "q.zarr", quantities=["r"], progress=False)
    with pytest.raises(FileNotFoundError, match="no store"):
        lw.open_dataset(tmp_path / "missing.zarr")


def test_without_zarr_the_error_names_the_extra(model, seqs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "zarr", None)
    with pytest.raises(ImportError, match=r"lstm_widget\[datasets\]"):
        lw.record_dataset(model, seqs[:2], tmp_path / "z.zarr", progress=False)
    with pytest.raises(ImportError, match=r"lstm_widget\[datasets\]"):
        lw.open_dataset(tmp_path)
    assert not (tmp_path / "z.zarr").exists()


# ---- lazy reading ----------------------------------------------------------------------------------------------------
class _CountingStore(zarr.storage.LocalStore):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys: list[str] = []

    async def get(self, key, *args, **kwargs):
        self.keys.append(key)
        return await super().get(key, *args, **kwargs)


def test_open_dataset_reads_one_sequence_lazily(store):
    counting = _CountingStore(store.group.store.root, read_only=True)
    ds = lw.open_dataset(counting)
    chunks = [k for k in counting.keys if "/c/" in k]
    assert all(k.startswith("offsets/") for k in chunks)  # opening reads the offsets only
    counting.keys.clear()
    k = 30
    rec = ds[k]
    a, b = ds.offsets[k], ds.offsets[k + 1]
    first, last = a // CHUNK, (b - 1) // CHUNK
    read = {key for key in counting.keys if "/c/" in key}
    assert read and all(first <= int(key.split("/c/")[1].split("/")[1 if key.split("/")[0] in "hcifgo" else 0])
                        <= last for key in read), read
    n_chunks_total = -(-ds.n_steps // CHUNK)
    assert len(read) <= 9 * (last - first + 1) < 9 * n_chunks_total
    assert _same(rec.h, store[k].h) and _same(rec.probs, store[k].probs)


# ---- the same store from a Dask cluster -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_local_cluster_writes_the_same_store(model, seqs, store, client, tmp_path):
    ds = lw.record_dataset(model, (x for x in seqs), tmp_path / "dask.zarr", batch_size=BATCH, chunk_steps=CHUNK,
                           progress=False, threads=1, client=client, task_size=2 * BATCH)
    assert len(client.scheduler_info()["workers"]) == 2
    for name in ARRAYS:
        a, b = store.group[name], ds.group[name]
        assert a.shape == b.shape and a.chunks == b.chunks and a.dtype == b.dtype, name
        assert a[...].tobytes() == b[...].tobytes(), name
    assert dict(ds.attrs) == dict(store.attrs)


# ---- incremental projection ------------------------------------------------------------------------------------------
def test_incremental_pca_over_the_store_matches_a_full_pca(store):
    from sklearn.decomposition import PCA

    proj = lw.fit_projection_incremental(store, layer=0, quantity="h", steps=CHUNK)
    states = store.states("h", 0)
    full = PCA(n_components=3).fit(states)
    ipca = proj.transformer
    assert type(ipca).__name__ == "IncrementalPCA" and ipca.n_samples_seen_ == store.n_steps
    np.testing.assert_allclose(ipca.mean_, full.mean_, atol=1e-5)
    np.testing.assert_allclose(ipca.explained_variance_, full.explained_variance_, rtol=0.05)
    # the same axes up to sign: |cos| between matching components near 1 (the third is less separated from the
    # fourth, so the incremental truncation tilts it a little more)
    cos = np.abs(np.sum(ipca.components_ * full.components_, axis=1))
    assert np.all(cos[:2] > 0.99) and cos[2] > 0.9, cos
    coords, want = proj.transform(states)[:, :2], full.transform(states)[:, :2]
    np.testing.assert_allclose(np.abs(coords), np.abs(want), atol=0.05 * np.abs(want).max())


# ---- the explorer over a store ---------------------------------------------------------------------------------------
def test_explorer_shows_one_window_of_the_store(store):
    labels = [k % 9 for k in range(N_SEQ)]
    w = lw.Explorer.from_dataset(store, labels=labels, window=16, start=16)
    assert type(w).__name__ == "DatasetExplorer" and (w.window_start, w.window_size) == (16, 16)

    def check(start, stop):
        meta = w._meta
        assert meta["n_sequences"] == stop - start and len(w.recordings) == stop - start
        assert meta["dataset"] == {"n_sequences": N_SEQ, "start": start, "size": 16}
        assert meta["lengths"] == store.lengths[start:stop].tolist()
        assert meta["labels"] == labels[start:stop]
        assert meta["sequence_names"] == [f"sequence {k}" for k in range(start, stop)]
        a, b = store.offsets[start], store.offsets[stop]
        np.testing.assert_array_equal(decode_array(w._arrays["inputs"]), store.arrays["inputs"][a:b])
        np.testing.assert_array_equal(decode_array(w._arrays["probs"]), store.arrays["probs"][a:b])
        np.testing.assert_array_equal(decode_array(w._data_h), store.arrays["h"][:, a:b])
        traj = decode_array(w._arrays["traj"])
        assert traj.shape == (b - a, 3)
        np.testing.assert_allclose(traj, w._trajectory.fitted.transform(store.states("h", 0, a, b)), atol=1e-5)

    check(16, 32)
    # the projection was fitted over every step of the store, not the window
    assert w.projection.n_samples_seen_ == store.n_steps
    w.sequence, w.t = 3, 2
    w.window_start = 48  # the last window holds fewer
    check(48, N_SEQ)
    assert (w.sequence, w.t) == (0, 0)
    w.show_sequence(5)
    assert (w.window_start, w.sequence, w.dataset_index) == (0, 5, 5)
    check(0, 16)
    assert _same(w.recording.c, store[5].c)
    with pytest.raises(Exception, match="window_start 60 is out of range"):
        w.window_start = N_SEQ
    w.projection_quantity = "c"  # refitted over the store too
    assert w._meta["projection"]["quantity"] == "c" and w.projection.n_samples_seen_ == store.n_steps
    with pytest.raises(ValueError, match="labels has 3 entries"):
        lw.Explorer.from_dataset(store, labels=[0, 1, 2])
    with pytest.raises(ValueError, match="cannot be fitted over a data set out of core"):
        lw.Explorer.from_dataset(store, projection="autoencoder")
    by_path = lw.Explorer.from_dataset(str(store.group.store.root), window=4, start=N_SEQ - 1)  # a path works too
    assert by_path._meta["n_sequences"] == 1 and by_path.dataset_index == N_SEQ - 1
    with pytest.raises(RuntimeError, match="cannot step new"):
        w.stream(np.zeros((3, 12), np.float32))
