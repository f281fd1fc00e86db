"""Data sets out of core: record_dataset writes a chunked zarr store (bounded memory, progress, clear
errors), open_dataset reads it lazily, the same store comes out of a Dask LocalCluster, projections are fitted
incrementally over it, and Explorer.from_dataset shows it one window of sequences at a time."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import re
import shutil
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("zarr", minversion="3")

import zarr
import zarr.storage

import lstm_widget as lw
from lstm_widget._core.recording.store import MANIFEST, RecordedDataset
from lstm_widget._wire import decode_array
from lstm_widget.models import japanese_vowels_net

from zoo import Regressor

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
        expected = [r for k in range(0, N_SEQ, BATCH) for r in lw.record(model, seqs[k : k + BATCH])]
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
    ds = lw.record_dataset(
        net, xs, tmp_path / "bi.zarr", quantities=["c", "h"], batch_size=4, chunk_steps=16, progress=False, threads=1
    )
    assert ds.layer_names == ("layer0", "layer0_reverse", "layer1", "layer1_reverse")
    assert ds.quantities == ("h", "c") and ds.classes is None and "logits" not in ds.arrays
    with _threads(1):
        expected = [r for k in range(0, 9, 4) for r in lw.record(net, xs[k : k + 4])]
    for got, want in zip(ds, expected, strict=True):
        assert _same(got.h, want.h) and _same(got.c, want.c)
        assert got.i is None and got.probs is None
    assert ds.states("c", "layer1_reverse").shape == (sum(len(x) for x in xs), 7)


def test_a_regression_store_keeps_its_raw_outputs_and_task_and_its_explorer_shows_them(tmp_path):
    torch.manual_seed(3)
    net = Regressor().eval()
    xs = _sequences(7, features=3, seed=4)
    ds = lw.record_dataset(net, xs, tmp_path / "reg.zarr", batch_size=3, chunk_steps=16, progress=False, threads=1)
    assert ds.task == "regression" and ds.n_outputs == 1 and ds.classes is None
    assert "outputs" in ds.arrays and "probs" not in ds.arrays and "1 outputs" in repr(ds)
    reopened = lw.open_dataset(tmp_path / "reg.zarr")
    for x, got in zip(xs, reopened, strict=True):
        with torch.no_grad():
            want = net(torch.from_numpy(x)[None])[0].numpy()
        assert got.task == "regression" and got.probs is None
        np.testing.assert_allclose(got.outputs, want, atol=1e-6)
    ex = lw.Explorer.from_dataset(reopened, window=3)
    assert ex._meta["task"] == "regression" and ex._meta["n_outputs"] == 1 and "probs" not in ex._arrays
    np.testing.assert_allclose(
        decode_array(ex._arrays["outputs"]), np.concatenate([r.outputs for r in reopened[:3]]), atol=1e-6
    )


def test_task_regression_stores_a_two_output_head_as_a_regression(tmp_path):
    torch.manual_seed(4)
    net = Regressor().eval()
    net.out = torch.nn.Linear(24, 2)  # two real values per step: "auto" would call them classes
    xs = _sequences(5, features=3, seed=6)
    kw = dict(batch_size=2, chunk_steps=8, progress=False, threads=1)
    assert lw.record_dataset(net, xs, tmp_path / "auto.zarr", **kw).task == "classification"
    ds = lw.record_dataset(net, xs, tmp_path / "reg2.zarr", task="regression", **kw)
    assert ds.task == "regression" and ds.n_outputs == 2 and ds.classes is None
    assert ds.group.attrs["task"] == "regression" and ds.group.attrs["outputs"] == 2
    assert "outputs" in ds.arrays and "probs" not in ds.arrays and "logits" not in ds.arrays
    for x, got in zip(xs, ds, strict=True):
        with torch.no_grad():
            want = net(torch.from_numpy(x)[None])[0].numpy()
        assert got.task == "regression" and got.probs is None
        np.testing.assert_allclose(got.outputs, want, atol=1e-6)
    ex = lw.Explorer.from_dataset(ds, window=3)
    assert ex._meta["task"] == "regression" and ex._meta["n_outputs"] == 2 and "probs" not in ex._arrays
    np.testing.assert_allclose(
        decode_array(ex._arrays["outputs"]), np.concatenate([r.outputs for r in ds[:3]]), atol=1e-6
    )
    with pytest.raises(ValueError, match="task must be one of"):
        lw.record_dataset(net, xs, tmp_path / "bad.zarr", task="regresion", **kw)
    assert not (tmp_path / "bad.zarr").exists()


def test_a_gru_store_and_its_explorer(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.GRU(4, 6, batch_first=True)
    xs = _sequences(10, features=4, seed=3)
    ds = lw.record_dataset(net, xs, tmp_path / "gru.zarr", batch_size=3, chunk_steps=8, progress=False, threads=1)
    assert ds.cell == "gru" and ds.quantities == ("h", "r", "z", "n")
    with _threads(1):
        want = [r for k in range(0, 10, 3) for r in lw.record(net, xs[k : k + 3])]
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
    ds = lw.record_dataset(
        model,
        gen(),
        tmp_path / "gen.zarr",
        batch_size=BATCH,
        chunk_steps=CHUNK,
        threads=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    gc.collect()
    assert made == 80 and len(ds) == 80
    assert most <= BATCH + 1, f"{most} sequences were held at once; expected at most a batch ({BATCH}) + the first"
    # progress: after every batch, total unknown for a generator
    assert calls[-1] == (80, None) and [d for d, _ in calls] == sorted({d for d, _ in calls})
    assert len(calls) == -(-80 // BATCH)


def test_progress_bar_on_stderr(model, seqs, tmp_path, capsys):
    before = torch.get_num_threads()
    lw.record_dataset(
        model, seqs[:20], tmp_path / "p.zarr", batch_size=BATCH, chunk_steps=CHUNK, threads=before % 2 + 1
    )
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
    assert (
        len(lw.record_dataset(model, seqs[:4], tmp_path / "there.zarr", progress=False, overwrite=True, threads=1)) == 4
    )
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
    assert read and all(
        first <= int(key.split("/c/")[1].split("/")[1 if key.split("/")[0] in "hcifgo" else 0]) <= last for key in read
    ), read
    n_chunks_total = -(-ds.n_steps // CHUNK)
    assert len(read) <= 9 * (last - first + 1) < 9 * n_chunks_total
    assert _same(rec.h, store[k].h) and _same(rec.probs, store[k].probs)


# ---- the same store from a Dask cluster -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_local_cluster_writes_the_same_store(model, seqs, store, client, tmp_path):
    ds = lw.record_dataset(
        model,
        (x for x in seqs),
        tmp_path / "dask.zarr",
        batch_size=BATCH,
        chunk_steps=CHUNK,
        progress=False,
        threads=1,
        client=client,
        task_size=2 * BATCH,
    )
    assert len(client.scheduler_info()["workers"]) == 2
    for name in ARRAYS:
        a, b = store.group[name], ds.group[name]
        assert a.shape == b.shape and a.chunks == b.chunks and a.dtype == b.dtype, name
        assert a[...].tobytes() == b[...].tobytes(), name
    assert dict(ds.attrs) == dict(store.attrs)


def test_dask_writes_the_same_regression_store(client, tmp_path):
    import cloudpickle

    import zoo

    cloudpickle.register_pickle_by_value(zoo)  # the workers import no test module: the model travels by value
    torch.manual_seed(3)
    net = Regressor().eval()
    xs = _sequences(9, features=3, seed=5)
    kw = dict(batch_size=2, chunk_steps=16, progress=False, threads=1)
    local = lw.record_dataset(net, xs, tmp_path / "local.zarr", **kw)
    ds = lw.record_dataset(net, xs, tmp_path / "dask.zarr", client=client, task_size=4, **kw)
    assert ds.task == "regression" and dict(ds.attrs) == dict(local.attrs)
    assert ds.group["outputs"][...].tobytes() == local.group["outputs"][...].tobytes()


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


# ---- damage is noticed -------------------------------------------------------------------------------------------------
def _copy(store, root, name="copy.zarr"):
    dest = root / name
    shutil.copytree(store.group.store.root, dest)
    return dest


def _chunk_keys(path):
    manifest = json.loads((path / MANIFEST).read_text())["sizes"]
    return sorted(k for k in manifest if "/c/" in k), manifest


def test_the_manifest_lists_every_file_with_its_size(store):
    root = Path(store.group.store.root)
    keys, sizes = _chunk_keys(root)
    on_disk = {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}
    assert sizes == {k: v for k, v in on_disk.items() if k != MANIFEST}
    assert "h/c/0/1/0" in keys and "offsets/c/0" in keys and "zarr.json" in sizes
    codecs = [c.to_dict()["name"] for c in store.group["h"].compressors]
    assert codecs == ["crc32c"] and sizes["h/c/0/1/0"] == 4 * CHUNK * 100 + 4  # raw float32 + the checksum
    assert store.attrs["version"] == 2 and not [p for p in root.iterdir() if p.name.startswith(".")]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), how=st.sampled_from(["deleted", "truncated", "grown"]))
def test_a_missing_or_truncated_chunk_is_named_on_opening_and_on_reading(store, tmp_path_factory, data, how):
    """Deleting, truncating or padding any chunk file of a store is reported by open_dataset (naming the store and the
    chunk); the same damage done after opening makes every read of a region that covers the chunk raise, while the
    rest of the store still reads."""
    root = tmp_path_factory.mktemp("damaged")
    path = _copy(store, root)
    keys, sizes = _chunk_keys(path)
    key = data.draw(st.sampled_from(keys))
    opened = lw.open_dataset(path) if not key.startswith("offsets/") else None
    chunk = path / key
    if how == "deleted":
        chunk.unlink()
        said = rf"{re.escape(key)} is missing \({sizes[key]} bytes written\)"
    else:
        cut = data.draw(st.integers(0, sizes[key] - 1)) if how == "truncated" else sizes[key] + 7
        chunk.write_bytes(chunk.read_bytes()[:cut] if how == "truncated" else chunk.read_bytes() + b"\0" * 7)
        said = rf"{re.escape(key)} has {cut} bytes, {sizes[key]} were written"
    with pytest.raises(ValueError, match=rf"the store {re.escape(str(path))} is damaged \(on opening\): .*{said}"):
        lw.open_dataset(path)
    if opened is None:
        return
    name = key.split("/")[0]
    coords = [int(c) for c in key.split("/c/")[1].split("/")]
    t = coords[0] if name in ("inputs", "logits", "probs") else coords[1]
    first = int(np.searchsorted(opened.offsets, t * CHUNK, side="right") - 1)
    with pytest.raises(ValueError, match=rf"damaged \(reading sequences {first}\.\.{first}\): .*{said}"):
        opened[first]
    last = int(np.searchsorted(opened.offsets, min((t + 1) * CHUNK, opened.n_steps) - 1, side="right") - 1)
    safe = [k for k in range(len(opened)) if opened.offsets[k + 1] <= t * CHUNK or opened.offsets[k] >= (t + 1) * CHUNK]
    assert _same(opened[safe[0]].h, store[safe[0]].h) and first <= last
    if name not in ("inputs", "logits", "probs"):
        with pytest.raises(ValueError, match=re.escape(key)):
            opened.states(name, coords[0], t * CHUNK, t * CHUNK + 1)
        other = (coords[0] + 1) % len(opened.layer_names)
        if other != coords[0]:
            opened.states(name, other, t * CHUNK, t * CHUNK + 1)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_chunk_whose_bytes_changed_raises_when_read(store, tmp_path_factory, data):
    """A chunk altered in place (same size, one byte flipped) passes the size check on opening, but reading any region
    that covers it raises, naming the store and the chunk (every chunk carries a CRC-32C that zarr checks)."""
    path = _copy(store, tmp_path_factory.mktemp("flipped"))
    keys, sizes = _chunk_keys(path)
    key = data.draw(st.sampled_from([k for k in keys if k.split("/")[0] in ("inputs", "h", "c", "probs")]))
    raw = bytearray((path / key).read_bytes())
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    (path / key).write_bytes(bytes(raw))
    ds = lw.open_dataset(path)
    name, coords = key.split("/")[0], [int(c) for c in key.split("/c/")[1].split("/")]
    t = coords[0] if name in ("inputs", "probs") else coords[1]
    k = int(np.searchsorted(ds.offsets, t * CHUNK, side="right") - 1)
    with pytest.raises(
        ValueError,
        match=rf"the store {re.escape(str(path))} is damaged \(reading sequences "
        rf"{k}\.\.{k}\): {re.escape(key)} does not match its checksum",
    ):
        ds[k]
    if name in ("h", "c"):
        with pytest.raises(ValueError, match=re.escape(key)):
            ds.states(name, 0, t * CHUNK, t * CHUNK + 1)


def test_stores_without_a_manifest(store, tmp_path):
    """A store from before manifests (version 1) opens with a warning saying damage cannot be detected; a newer one
    whose manifest is missing was not finished and is refused."""
    old = _copy(store, tmp_path, "old.zarr")
    (old / MANIFEST).unlink()
    with pytest.raises(
        ValueError,
        match=rf"the store {re.escape(str(old))} has no {MANIFEST}: record_dataset did "
        "not finish writing it",
    ):
        lw.open_dataset(old)
    zarr.open_group(old, mode="r+").attrs["version"] = 1
    with pytest.warns(
        UserWarning,
        match=r"written by an older lstm_widget, without a manifest: a missing or "
        r"truncated chunk in it cannot be detected.*record it again",
    ):
        ds = lw.open_dataset(old)
    assert _same(ds[7].c, store[7].c)
    (old / "h" / "c" / "0" / "0" / "0").unlink()
    assert not ds[0].h.any()  # what the manifest is there to prevent
    broken = _copy(store, tmp_path, "broken.zarr")
    (broken / MANIFEST).write_text("{not json")
    with pytest.raises(ValueError, match=rf"damaged: its {MANIFEST} is damaged"):
        lw.open_dataset(broken)


# ---- overwrite replaces only our own stores, and only once the new one is complete -----------------------------------
def _tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_overwrite_never_removes_a_folder_that_is_not_our_store(model, seqs, tmp_path):
    thesis = tmp_path / "thesis"
    (thesis / "sub").mkdir(parents=True)
    (thesis / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group", "attributes": {}}')
    (thesis / "thesis.tex").write_text("\\documentclass{article}")
    (thesis / "sub" / "results.csv").write_text("a,b\n1,2\n")
    foreign = tmp_path / "foreign.zarr"
    zarr.open_group(foreign, mode="w").create_array("x", shape=(3,), dtype="float32")[:] = 1
    for folder, what in (
        (thesis, "a zarr store not written by record_dataset"),
        (foreign, "a zarr store not written by record_dataset"),
    ):
        before = _tree(folder)
        with pytest.raises(
            FileExistsError,
            match=rf"{re.escape(str(folder))} is {what}; choose a new path — it is "
            r"never overwritten, even with overwrite=True",
        ):
            lw.record_dataset(model, seqs[:3], folder, progress=False, overwrite=True)
        assert _tree(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.zarr", "thesis"]  # no temporary left behind
    (tmp_path / "link.zarr").symlink_to(foreign, target_is_directory=True)
    with pytest.raises(FileExistsError, match="is a symbolic link"):
        lw.record_dataset(model, seqs[:3], tmp_path / "link.zarr", progress=False, overwrite=True)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad_at=st.integers(0, 11), batch=st.integers(1, 5), how=st.sampled_from(["bad sequence", "interrupt"]))
def test_a_failed_re_record_keeps_the_old_store(model, seqs, tmp_path_factory, bad_at, batch, how):
    """However far a re-record with overwrite=True gets before it fails (a bad sequence, an interrupt), the old store
    is left byte for byte as it was, and nothing else is left in its folder."""
    root = tmp_path_factory.mktemp("rerecord")
    path = root / "kept.zarr"
    lw.record_dataset(model, seqs[:5], path, batch_size=2, chunk_steps=16, progress=False, threads=1)
    before = _tree(path)

    def sequences():
        for k, x in enumerate(seqs[:12]):
            if k == bad_at:
                if how == "interrupt":
                    raise KeyboardInterrupt
                x = np.zeros((4, 11), np.float32)
            yield x

    with pytest.raises(KeyboardInterrupt if how == "interrupt" else ValueError):
        lw.record_dataset(
            model, sequences(), path, batch_size=batch, chunk_steps=16, progress=False, overwrite=True, threads=1
        )
    assert _tree(path) == before and [p.name for p in root.iterdir()] == ["kept.zarr"]
    assert len(lw.open_dataset(path)) == 5
    replaced = lw.record_dataset(
        model, seqs[:12], path, batch_size=batch, chunk_steps=16, progress=False, overwrite=True, threads=1
    )
    assert len(replaced) == 12 and [p.name for p in root.iterdir()] == ["kept.zarr"]


def test_the_manifest_goes_through_a_temporary_file(model, seqs, tmp_path, monkeypatch):
    """A failure while the manifest is moved into place leaves no store, no manifest and no temporary file."""
    real = os.replace

    def failing(src, dst):
        if str(dst).endswith(MANIFEST):
            assert Path(src).parent == Path(dst).parent and Path(src).name.startswith(f".{MANIFEST}")
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        lw.record_dataset(model, seqs[:3], tmp_path / "m.zarr", progress=False, threads=1)
    assert list(tmp_path.iterdir()) == []


# ---- the data-set explorer: a window that cannot be read changes nothing ------------------------------------------
def test_a_window_that_cannot_be_read_changes_nothing(store, tmp_path):
    """A damaged chunk in the next window: window_start, the recordings, names, labels and _meta stay those of the
    window shown, the error names the store and the chunk, and the explorer still moves to a sound window — whose
    window_start reaches the page in the same message as its data."""
    path = _copy(store, tmp_path)
    w = lw.Explorer.from_dataset(path, labels=[k % 9 for k in range(N_SEQ)], window=16)
    t = int(store.offsets[16]) // CHUNK + 1  # a chunk of h that only the second window's sequences cover
    assert (t + 1) * CHUNK <= store.offsets[32]
    key = f"h/c/0/{t}/0"
    (path / key).unlink()
    w.sequence, w.t = 2, 1
    before = (w.window_start, w.sequence, w.t, w.recordings, w._meta, w._loaded.sequence_names, w._loaded.labels)
    sent = []
    w._send = lambda msg, buffers=None: sent.append(msg)
    with pytest.raises(Exception, match=rf"window_start 16: .*the store {re.escape(str(path))} is damaged.*{key}"):
        w.window_start = 16
    after = (w.window_start, w.sequence, w.t, w.recordings, w._meta, w._loaded.sequence_names, w._loaded.labels)
    assert after == before and not sent and w._window_hold is None and not w._holding_sync
    w.window_start = 48  # a sound window: everything in one update
    assert (w.window_start, w.sequence, w.t) == (48, 0, 0) and w._meta["dataset"]["start"] == 48
    assert len(sent) == 1 and {"window_start", "_meta", "sequence", "_arrays"} <= set(sent[0]["state"])
    assert w._loaded.sequence_names == [f"sequence {k}" for k in range(48, N_SEQ)]
    # the same from the page (its write is validated under hold_trait_notifications): refused and answered with the
    # value in force, then a sound window loads
    sent.clear()
    with pytest.raises(Exception, match=rf"window_start 16: .*{key}"):
        w.set_state({"window_start": 16})
    assert w.window_start == 48 and w._meta["dataset"]["start"] == 48
    assert sent[-1]["state"] == {"window_start": 48}  # after ipywidgets' echo of the write: the value in force
    w.set_state({"window_start": 32})
    assert w.window_start == 32 and w._meta["dataset"]["start"] == 32 and len(w.recordings) == 16
    assert w._loaded.sequence_names[0] == "sequence 32"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.integers(0, N_SEQ - 1), bad=st.sampled_from([9, 50, -1, 1.5, "x", True, float("nan")]))
def test_a_bad_label_anywhere_in_the_store_is_refused_before_a_widget_exists(store, at, bad):
    import ipywidgets
    from ipywidgets.widgets.widget import _instances

    labels = [k % 9 for k in range(N_SEQ)]
    labels[at] = bad
    before = len(_instances)
    with pytest.raises(ValueError, match=r"label|labels"):
        lw.Explorer.from_dataset(store, labels=labels, window=8)
    assert len(_instances) == before and ipywidgets.Widget is not None
