"""Recordings of whole data sets, out of core: :func:`record_dataset` writes every sequence's recording to a chunked
zarr store, in batches, with memory bounded by the batch (not by the number of sequences); :func:`open_dataset` reads
it back lazily, one sequence's region at a time. With a ``distributed.Client`` the same store is written by a Dask
cluster: blocks of sequences are recorded on the workers, each writing the chunks of its own region of the store.

Store layout (zarr format 3, like the widget's wire: ragged sequences concatenated along time)::

    offsets   (N + 1,)            int64    sequence k covers steps offsets[k] : offsets[k + 1]
    inputs    (steps, D)          float32  what the model was given
    h, c, ... (L, steps, units)   float32  each recorded quantity, rows in the order of ``layer_names``
    logits    (steps, C)          float32  the head at every step (only when the model has a classifier head)
    probs     (steps, C)          float32
    outputs   (steps, k)          float32  the head's raw output at every step (only for a regression head)
    attrs: format, version, cell, layer_names, quantities, units, features, classes, task ("classification",
           "regression" or None), outputs (k for a regression, else None), model (a description), chunk_steps,
           batch_size, n_sequences, n_steps, complete

Every array is chunked along time only (``chunk_steps`` steps per chunk; one layer row per chunk of a quantity), so a
sequence's recording reads the few chunks that cover its steps.

Beside zarr's files the store holds ``lstm_widget.manifest.json``: every key the store was written with and its size
in bytes, written last (to a temporary file in the store's folder, then renamed into place) once the store is
complete. :func:`open_dataset` compares it with the store (a listing, no chunk read) and names a missing or truncated
chunk; every read checks the chunks it covers again, so a chunk damaged after opening raises instead of reading as
zeros, and every chunk ends in a CRC-32C of its bytes (zarr's ``crc32c`` codec, after the chosen compressors) that zarr
checks when it reads it, so a chunk changed in place raises too. A store is written beside its final place under a temporary name and renamed into place once complete, so a
failed ``record_dataset(..., overwrite=True)`` leaves the old store as it was.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import shutil
import uuid
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..files import write_atomic
from ..model.adapters import _AUTO, RecurrentSpec, describe
from ..model.gates import QUANTITIES
from ..validate import check_int, check_sequence
from .recorder import Recording, record, resolve_task

FORMAT = "lstm_widget.recordings"
#: 2: stores carry a manifest (:data:`MANIFEST`); version 1 stores (without one) are opened with a warning.
VERSION = 2
#: The file, beside zarr's, that lists every key of a complete store with its size in bytes.
MANIFEST = "lstm_widget.manifest.json"
#: Bytes aimed at per chunk when ``chunk_steps`` is not given (one layer row of the widest quantity).
_CHUNK_BYTES = 4 << 20


_EXTRA_HINT = "pip install 'lstm_widget[datasets]'  (or: pip install 'zarr>=3' 'dask[distributed]')"


def _require(module: str, what: str):
    """Import ``module`` (zarr, distributed) or raise one ImportError that names the pip extra to install."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{what} needs the optional package {module!r}, which is not installed; install the "
            f"'datasets' extra: {_EXTRA_HINT}"
        ) from err
    if module == "zarr":
        major = str(getattr(mod, "__version__", "0")).split(".")[0]
        if not major.isdigit() or int(major) < 3:
            raise ImportError(
                f"{what} needs zarr 3 or newer (zarr format 3 stores); found zarr "
                f"{getattr(mod, '__version__', '?')}; upgrade: {_EXTRA_HINT}"
            )
    return mod


# ----------------------------------------------------------------------------------------------------------------------
# the sequences: a list, anything with __len__/__getitem__, or any iterable


class _Sequences:
    """The user's sequences, validated one at a time as they are read: ``len`` when known, iteration in order."""

    def __init__(self, sequences, n_features: int | None):
        if isinstance(sequences, (str, bytes)) or sequences is None:
            raise TypeError(
                f"sequences must be a list, an iterable or an indexable collection of (steps, features) "
                f"arrays; got {type(sequences).__name__}"
            )
        if hasattr(sequences, "ndim") and sequences.ndim == 2:
            raise ValueError(
                f"sequences is one 2-D array of shape {tuple(sequences.shape)}; record_dataset takes many "
                "sequences — pass [x] for a single one, or a 3-D array (sequences, steps, features)"
            )
        self._seqs = sequences
        self.n_features = n_features
        self.total: int | None = None
        if hasattr(sequences, "__len__") and hasattr(sequences, "__getitem__"):
            self.total = len(sequences)
            self._iter = (sequences[k] for k in range(self.total))
        elif isinstance(sequences, Iterable):
            self._iter = iter(sequences)
        else:
            raise TypeError(
                f"sequences must be a list, an iterable or an indexable collection of (steps, features) "
                f"arrays; got {type(sequences).__name__}"
            )
        self.count = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for x in self._iter:
            x = check_sequence(x, self.n_features, f"sequence {self.count}")
            if self.n_features is None:  # the first sequence sets the width the others must have
                self.n_features = x.shape[1]
            self.count += 1
            yield x


# ----------------------------------------------------------------------------------------------------------------------
# recording a batch, and streaming batches into the arrays' chunks


#: The per-step arrays of the head: a classifier's logits and probabilities, a regression's raw outputs.
_HEAD_ARRAYS = {"classification": ("logits", "probs"), "regression": ("outputs",)}


def _time_axis(name: str) -> int:
    return 0 if name in ("inputs", "logits", "probs", "outputs") else 1


def _region(name: str, a: int, b: int) -> tuple:
    return (slice(a, b),) if _time_axis(name) == 0 else (slice(None), slice(a, b))


def _record_arrays(spec: RecurrentSpec, model, seqs: list[np.ndarray], names: tuple, task: str) -> dict:
    """The recordings of ``seqs`` (``record``'s ``task``) concatenated along time, per stored array: inputs (n, D),
    quantities (L, n, U), logits / probs (n, C) for a classifier head, outputs (n, k) for a regression head."""
    recs = record(model, seqs, task=task, _spec=spec)
    out = {"inputs": np.concatenate(seqs, axis=0)}
    for q in names:
        out[q] = np.concatenate([getattr(r, q) for r in recs], axis=1)
    for name in _HEAD_ARRAYS.get(recs[0].task, ()):
        out[name] = np.concatenate([getattr(r, name) for r in recs], axis=0)
    return out


class _Stream:
    """Appends steps to the time-chunked arrays from step ``start`` on and writes every chunk once it is whole, so
    that no chunk is written twice. The steps before the first chunk boundary at or after ``start`` (a chunk shared
    with the region before) and those after the last boundary reached (shared with the region after, or the store's
    last chunk) are the edges: written by :meth:`finish` when ``own_edges``, returned otherwise (a Dask worker hands
    them to the client, the only process that writes shared chunks)."""

    #: writes in flight at most (each holds its block): recording goes on while the last blocks are written
    IN_FLIGHT = 2

    def __init__(self, arrays: dict, start: int, chunk_steps: int, own_edges: bool, grow=None):
        from concurrent.futures import ThreadPoolExecutor

        self.arrays, self.cs, self.own_edges, self.grow = arrays, chunk_steps, own_edges, grow
        self.start = self.done = self.pos = start
        self.pending: dict[str, list[np.ndarray]] = {name: [] for name in arrays}
        self.edges: list[tuple[int, dict]] = []
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="record_dataset-write")
        self.writes: list = []

    def append(self, data: dict) -> None:
        n = data["inputs"].shape[0]
        for name, value in data.items():
            self.pending[name].append(value)
        self.pos += n
        boundary = self.pos // self.cs * self.cs
        if boundary <= self.done:
            return
        block = self._take(boundary - self.done)
        first = -(-self.done // self.cs) * self.cs  # the first chunk boundary at or after where the block starts
        if first > self.done:  # the head edge: the rest of a chunk that began before ``start``
            k = first - self.done
            self._edge(self.done, {name: _cut(name, v, 0, k) for name, v in block.items()})
            block = {name: _cut(name, v, k, None) for name, v in block.items()}
            self.done = first
        if boundary > self.done:
            self._write(self.done, boundary, block)
            self.done = boundary

    def finish(self) -> list[tuple[int, dict]]:
        """Write (or hand over) what is left and wait for every write; returns the edges not written here."""
        try:
            if self.pos > self.done:
                self._edge(self.done, self._take(self.pos - self.done))
                self.done = self.pos
            for w in self.writes:
                w.result()
        finally:
            self.close()
        return self.edges

    def close(self) -> None:
        self.writer.shutdown(wait=True, cancel_futures=True)

    def _take(self, n: int) -> dict:
        """The first ``n`` pending steps, removed from the pending lists."""
        out = {}
        for name, parts in self.pending.items():
            whole = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=_time_axis(name))
            out[name] = _cut(name, whole, 0, n)
            rest = _cut(name, whole, n, None)
            self.pending[name] = [rest] if rest.shape[_time_axis(name)] else []
        return out

    def _edge(self, a: int, block: dict) -> None:
        if self.own_edges:
            self._write(a, a + block["inputs"].shape[0], block)
        else:
            self.edges.append((a, block))

    def _write(self, a: int, b: int, block: dict) -> None:
        """Write steps a..b on the writer thread (zarr's own I/O) while the caller records on; waits first when
        IN_FLIGHT writes are still going, so that memory stays bounded."""
        if self.grow is not None:
            self.grow(b)
        while len(self.writes) >= self.IN_FLIGHT:
            self.writes.pop(0).result()

        def write():
            for name, value in block.items():
                self.arrays[name][_region(name, a, b)] = value

        self.writes.append(self.writer.submit(write))


def _cut(name: str, v: np.ndarray, a: int, b: int | None) -> np.ndarray:
    return v[a:b] if _time_axis(name) == 0 else v[:, a:b]


def _open_arrays(path, names: tuple) -> dict:
    import zarr

    group = zarr.open_group(store=path, mode="r+")
    keys = ("inputs",) + names + _HEAD_ARRAYS.get(group.attrs.get("task"), ())
    return {k: group[k] for k in keys}


class _Shipped:
    """The model on its way to the workers, pickled whole (cloudpickle: a class defined in a notebook travels too).
    Dask's own serialiser walks an ``nn.Module``'s attributes and fails on the weak references ``nn.LSTM`` keeps."""

    def __init__(self, model):
        self.model = model

    def __reduce__(self):
        import cloudpickle

        return (_unship, (cloudpickle.dumps(self.model),))


def _unship(payload: bytes) -> _Shipped:
    import pickle

    return _Shipped(pickle.loads(payload))  # safe to unpickle: the user's own model, sent by their own client


def _record_block(
    shipped: _Shipped,
    seqs: list,
    start: int,
    path: str,
    names: tuple,
    chunk_steps: int,
    batch_size: int,
    lstm,
    head,
    threads: int,
    task: str,
) -> tuple[int, list]:
    """A Dask task: record ``seqs`` (consecutive sequences whose steps begin at ``start`` in the store) in batches of
    ``batch_size`` and write the chunks wholly inside their region; returns (sequences, the edge pieces). Records with
    ``threads`` torch threads, the client's count, so that every number is the one a single process gives (left set:
    concurrent tasks on one worker all set the same count)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    model = shipped.model
    spec = describe(model, lstm=lstm, head=_AUTO if head == "auto" else head)
    arrays = _open_arrays(path, names)
    stream = _Stream(arrays, start, chunk_steps, own_edges=False)
    try:
        for k in range(0, len(seqs), batch_size):
            stream.append(_record_arrays(spec, model, seqs[k : k + batch_size], names, task))
    except BaseException:
        stream.close()
        raise
    return len(seqs), stream.finish()


# ----------------------------------------------------------------------------------------------------------------------
# progress


class _CallbackProgress:
    def __init__(self, fn, total):
        self.fn, self.total, self.n = fn, total, 0

    def update(self, k: int) -> None:
        self.n += k
        self.fn(self.n, self.total)

    def close(self) -> None:
        pass


def _progress(progress, total: int | None):
    """Nothing (``progress`` False or None), a callback ``progress(done, total)``, or a tqdm bar (a notebook widget in
    Jupyter, one line on stderr elsewhere); each has ``update(k)`` and ``close()``."""
    if callable(progress) and progress is not True:
        return _CallbackProgress(progress, total)
    return tqdm(total=total, desc="record_dataset", unit="seq", disable=progress is False or progress is None)


# ----------------------------------------------------------------------------------------------------------------------
# the store


def _is_url(path) -> bool:
    return isinstance(path, str) and "://" in path


def _written_here(p: Path) -> bool:
    """Whether the folder ``p`` is a store that record_dataset wrote: its zarr.json carries this package's format in
    the group's attributes (a folder that merely holds a zarr.json is not one)."""
    try:
        meta = json.loads((p / "zarr.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and isinstance(meta.get("attributes"), dict)
        and meta["attributes"].get("format") == FORMAT
    )


def _check_path(path, overwrite: bool) -> tuple[str, bool]:
    """The store location as a string, and whether an existing store there is to be replaced — after refusing what
    cannot be one: an existing store without ``overwrite``, a file, a directory that is not a store written by
    record_dataset (never removed, whatever it holds), a missing parent directory."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a directory path (str or pathlib.Path) for the zarr store; got {type(path).__name__}"
        )
    if _is_url(path):
        _check_url(path, overwrite)
        return path, False
    if str(path) == "":
        raise ValueError("path is empty; expected a directory path for the zarr store, e.g. 'recordings.zarr'")
    p = Path(path)
    if p.is_symlink():
        raise FileExistsError(
            f"{p} is a symbolic link; record_dataset writes a store only at a plain path (give the link's target)"
        )
    if p.exists() and not p.is_dir():
        raise FileExistsError(f"{p} exists and is a file; expected a directory path for the zarr store")
    existing = p.is_dir() and any(p.iterdir())
    if existing:
        if not _written_here(p):
            what = (
                "a zarr store not written by record_dataset"
                if (p / "zarr.json").exists() or (p / ".zgroup").exists()
                else "a directory with other contents (not a zarr store)"
            )
            raise FileExistsError(
                f"{p} is {what}; choose a new path — it is never overwritten, even with overwrite=True"
            )
        if not overwrite:
            raise FileExistsError(f"a zarr store already exists at {p}; pass overwrite=True to replace it")
    parent = p.resolve().parent
    if not parent.is_dir():
        raise FileNotFoundError(f"the directory {parent} (where the store {p.name} would go) does not exist")
    return str(p), existing


def _check_url(url: str, overwrite: bool) -> None:
    """Refuse to write over a store at ``url`` that record_dataset did not write, or over one it did without
    ``overwrite`` (zarr then replaces it in place: an object store has no rename)."""
    import zarr

    try:
        attrs = dict(zarr.open_group(store=url, mode="r").attrs)
    except Exception:  # nothing there (or nothing readable as a zarr group): a new store
        return
    if attrs.get("format") != FORMAT:
        raise FileExistsError(
            f"{url} holds a zarr store not written by record_dataset; choose a new path — it is "
            "never overwritten, even with overwrite=True"
        )
    if not overwrite:
        raise FileExistsError(f"a zarr store already exists at {url}; pass overwrite=True to replace it")


def _beside(path: str, what: str) -> str:
    """A new, unused name in the folder of ``path`` (hidden), for the store being written or the one it replaces."""
    p = Path(path)
    return str(p.parent / f".{p.name}.{what}-{uuid.uuid4().hex[:12]}")


def _swap_into_place(written: str, path: str, replace: bool) -> None:
    """Move the complete store ``written`` to ``path``; an existing store there is moved aside first and removed
    only once the new one is in place (put back if the move fails)."""
    if not replace:
        if os.path.isdir(path):  # an empty folder the user made for the store
            os.rmdir(path)
        os.rename(written, path)
        return
    old = _beside(path, "replaced")
    os.rename(path, old)
    try:
        os.rename(written, path)
    except BaseException:
        os.rename(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _module_name(model, ref):
    """A module given as ``lstm=`` / ``head=`` by its name in ``model`` (so that it survives being sent to a worker
    apart from the model); names and other values as they are."""
    import torch

    if isinstance(ref, torch.nn.Module) and isinstance(model, torch.nn.Module):
        for name, m in model.named_modules():
            if m is ref:
                return name
    return ref


def _default_chunk_steps(spec: RecurrentSpec, names: tuple, features: int, classes: int) -> int:
    widest = max([spec.units[q] for q in names] + [features, classes, 1])
    steps = _CHUNK_BYTES // (4 * widest)
    return int(min(1 << 16, max(256, 1 << int(math.log2(max(steps, 1))))))


def _model_description(model, spec: RecurrentSpec) -> dict:
    text = repr(model)
    return {
        "source": spec.source,
        "framework": spec.framework,
        "cell": spec.cell,
        "class": type(model).__name__,
        "input_size": spec.input_size,
        "hidden_size": spec.hidden_size,
        "proj_size": spec.proj_size,
        "num_layers": spec.num_layers,
        "num_directions": spec.num_directions,
        "has_head": spec.head is not None,
        "repr": text if len(text) <= 4000 else text[:4000] + " ...",
    }


def _create_store(path, spec, model, names, features, head, chunk_steps, batch_size, compressors):
    """The store's group and arrays, empty; ``head`` is (task, classes or outputs per step) — (None, 0) without a
    head."""
    import zarr

    task, width = head

    root = zarr.open_group(store=path, mode="w")
    L = len(spec.layer_names)
    kw = dict(dtype="float32", compressors=_with_checksum(compressors))
    arrays = {"inputs": root.create_array("inputs", shape=(0, features), chunks=(chunk_steps, features), **kw)}
    for q in names:
        U = spec.units[q]
        arrays[q] = root.create_array(q, shape=(L, 0, U), chunks=(1, chunk_steps, U), **kw)
    for name in _HEAD_ARRAYS.get(task, ()):
        arrays[name] = root.create_array(name, shape=(0, width), chunks=(chunk_steps, width), **kw)
    units = {q: spec.units[q] for q in names}
    root.attrs.update(
        _store_attrs(
            spec.cell, spec.layer_names, units, features, head, _model_description(model, spec), chunk_steps, batch_size
        )
    )
    return root, arrays


def _store_attrs(cell, layer_names, units: dict, features, head, model: dict, chunk_steps, batch_size) -> dict:
    """The group attributes of a store being written (``complete`` false until :func:`_finish_store`): what
    :func:`open_dataset` reads back. ``head`` is (task, classes or outputs per step) — (None, 0) without a head."""
    task, width = head
    return {
        "format": FORMAT,
        "version": VERSION,
        "cell": cell,
        "layer_names": list(layer_names),
        "quantities": list(units),
        "units": {q: int(n) for q, n in units.items()},
        "features": int(features),
        "classes": int(width) if task == "classification" else None,
        "task": task,
        "outputs": int(width) if task == "regression" else None,
        "model": model,
        "chunk_steps": int(chunk_steps),
        "batch_size": int(batch_size),
        "complete": False,
    }


def _with_checksum(compressors) -> list:
    """zarr's ``compressors`` (None: raw, "auto": zstd, a codec, or a list of codecs) followed by a CRC-32C of every
    chunk's bytes, which zarr checks on every read (4 bytes a chunk; hardware CRC, a few per cent of the I/O time)."""
    from zarr.codecs import Crc32cCodec, ZstdCodec

    if compressors is None:
        chain = []
    elif isinstance(compressors, str) and compressors == "auto":
        chain = [ZstdCodec()]
    elif isinstance(compressors, (list, tuple)):
        chain = list(compressors)
    else:
        chain = [compressors]
    return [*chain, Crc32cCodec()]


def _grow(arrays: dict, steps: int) -> None:
    for name, arr in arrays.items():
        axis = _time_axis(name)
        if arr.shape[axis] < steps:
            shape = list(arr.shape)
            shape[axis] = steps
            arr.resize(tuple(shape))


def _finish_store(root, offsets: np.ndarray) -> None:
    """Write the offsets, mark the store complete, and write its manifest last."""
    root.create_array("offsets", data=offsets, chunks=(min(len(offsets), 1 << 16),), compressors=_with_checksum("auto"))
    root.attrs.update({"n_sequences": int(len(offsets) - 1), "n_steps": int(offsets[-1]), "complete": True})
    _write_manifest(root.store)


def _sync(coroutine):
    """Run one of a zarr store's coroutines from this thread (zarr's own event loop)."""
    from zarr.core.sync import sync

    return sync(coroutine)


def _local_root(store) -> Path | None:
    """The folder of a zarr LocalStore, or None for any other store (fsspec URLs, memory, ...)."""
    import zarr.storage

    return Path(store.root) if isinstance(store, zarr.storage.LocalStore) else None


def _store_sizes(store) -> dict[str, int]:
    """Every key of ``store`` but the manifest, with its size in bytes (a listing: no value is read)."""
    root = _local_root(store)
    if root is not None:
        out = {}
        for folder, _dirs, files in os.walk(root):
            for name in files:
                full = os.path.join(folder, name)
                key = os.path.relpath(full, root).replace(os.sep, "/")
                if key != MANIFEST:
                    out[key] = os.path.getsize(full)
        return out

    async def listing():
        keys = [k async for k in store.list() if k != MANIFEST]
        return {k: int(await store.getsize(k)) for k in keys}

    return _sync(listing())


def _write_manifest(store) -> None:
    """The manifest of a complete store: its keys and sizes. In a local folder it goes to a temporary file beside it
    and is renamed into place, so a reader finds the whole manifest or none."""
    text = json.dumps(
        {"format": FORMAT + ".manifest", "version": 1, "sizes": _store_sizes(store)},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    root = _local_root(store)
    if root is not None:
        write_atomic(root / MANIFEST, text, follow_symlinks=False)
        return
    from zarr.core.buffer import default_buffer_prototype

    _sync(store.set(MANIFEST, default_buffer_prototype().buffer.from_bytes(text)))


def _read_manifest(store) -> dict | None:
    """The manifest's {key: size}, None when the store has none; ValueError for one that cannot be read."""
    root = _local_root(store)
    if root is not None:
        try:
            raw = (root / MANIFEST).read_bytes()
        except FileNotFoundError:
            return None
    else:
        from zarr.core.buffer import default_buffer_prototype

        value = _sync(store.get(MANIFEST, prototype=default_buffer_prototype()))
        if value is None:
            return None
        raw = value.to_bytes()
    try:
        manifest = json.loads(raw)
        sizes = manifest["sizes"]
        if not all(isinstance(k, str) and isinstance(v, int) for k, v in sizes.items()):
            raise ValueError("a size that is not an integer")
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"its {MANIFEST} is damaged ({type(err).__name__}: {err})") from None
    return sizes


def _damage(store, sizes: dict[str, int], keys=None) -> list[str]:
    """What is wrong with ``keys`` of the store (default: every key in the manifest) against the manifest: one line per
    missing or truncated file. A chunk absent from the manifest was never written (zarr skips chunks that hold only
    the fill value) and reads as that value, as it should."""
    keys = sizes if keys is None else [k for k in keys if k in sizes]
    root = _local_root(store)
    if root is not None:
        actual = {}
        for k in keys:
            try:
                actual[k] = os.stat(root / k).st_size
            except FileNotFoundError:
                actual[k] = None
    else:

        async def getsizes():
            out = {}
            for k in keys:
                try:
                    out[k] = int(await store.getsize(k))
                except FileNotFoundError:
                    out[k] = None
            return out

        actual = _sync(getsizes())
    bad = []
    for k in keys:
        if actual[k] is None:
            bad.append(f"{k} is missing ({sizes[k]} bytes written)")
        elif actual[k] != sizes[k]:
            bad.append(f"{k} has {actual[k]} bytes, {sizes[k]} were written")
    return bad


def _check_quantities(quantities, spec: RecurrentSpec) -> tuple:
    if quantities is None:
        return tuple(spec.quantities)
    if isinstance(quantities, str):
        quantities = [quantities]
    quantities = list(quantities)
    bad = [q for q in quantities if q not in spec.quantities]
    if bad or not quantities:
        raise ValueError(
            f"quantities {bad or quantities!r} are not recorded for this model; choose from "
            f"{list(spec.quantities)} (or None for all)"
        )
    return tuple(q for q in spec.quantities if q in quantities)  # display order, no duplicates


def _positive_int(value, what: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    return check_int(value, what, low=1, expected="a positive integer" + (" or None" if allow_none else ""))


def record_dataset(
    model,
    sequences,
    path,
    *,
    quantities=None,
    batch_size: int = 256,
    chunk_steps: int | None = None,
    progress=True,
    client=None,
    overwrite: bool = False,
    task_size: int | None = None,
    compressors=None,
    threads: int | None = None,
    lstm=None,
    head=_AUTO,
    task="auto",
):
    """Record ``model`` on every sequence of ``sequences`` into a chunked zarr store at ``path`` and return it opened
    (:func:`open_dataset`).

    ``sequences``: a list of (steps, features) arrays (any lengths), a 3-D array, an object with ``__len__`` and
    ``__getitem__``, or any iterable or generator — read once, in order. Sequences are recorded ``batch_size`` at a time
    and written as whole chunks of ``chunk_steps`` steps as they fill, so memory stays bounded by a batch (plus a chunk
    per array), however many sequences there are: the store grows while the sequences are read. ``quantities``: a
    subset of the model's (e.g. ``["h", "c"]``; default all). ``progress``: a progress bar (tqdm: a
    widget in Jupyter, a line on stderr elsewhere), False for none, or a callable ``(done, total)`` (total None when unknown).
    ``threads``: torch's thread count while recording (default: the current one, ``torch.get_num_threads()``) — the
    last bits of the gates depend on it (how the matrix products are split), so it is stored in the attrs and every
    Dask worker records with the same count. The store is written beside ``path`` under a hidden temporary name and
    renamed to ``path`` once complete (with its manifest), so a failed recording leaves nothing behind.
    ``overwrite=True`` replaces an existing store at ``path`` that record_dataset wrote (its attributes carry this
    package's format), and only once the new one is complete: a failed re-record keeps the old store; any other
    directory (one holding a foreign zarr.json too) is never removed. On an fsspec URL the store is written in place.
    ``compressors``:
    zarr's ``compressors`` argument — None (the default) stores the chunks raw: float32 activations shrink by only
    5–10 % under zstd, for a large share of the writing time; "auto" gives zarr's default (zstd), or name any zarr
    codec. ``lstm`` / ``head`` / ``task``: as in :func:`record` (``task="regression"`` stores a head's raw outputs
    per step, however many; the store's ``task`` and ``outputs`` attributes say so).

    ``client``: a ``distributed.Client``. The sequences are then read on the client in blocks of ``task_size``
    sequences (default 4 × ``batch_size``), each block's region of the store is fixed from its lengths before it is
    sent, and the workers record the blocks (the model is scattered to them once) and write the chunks inside their
    regions; the chunks shared by two regions are written by the client. The batches are the same as in one process,
    so the store is the same. ``path`` must then be reachable from every worker (a shared file system or an fsspec
    URL such as ``s3://...``). Give ``threads`` to match the workers' cores (e.g. ``threads=1`` on single-threaded
    workers); the store is then the one a single process with the same ``threads`` writes.

    Needs the optional packages zarr (3 or newer) and, for ``client``, dask.distributed: ``pip install
    'lstm_widget[datasets]'``."""
    _require("zarr", "record_dataset")
    if client is not None:
        _require("distributed", "record_dataset(client=...)")
    resolve_task(task, 0)  # checked before anything runs
    spec = describe(model, lstm=lstm, head=head)
    names = _check_quantities(quantities, spec)
    batch_size = _positive_int(batch_size, "batch_size")
    chunk_steps = _positive_int(chunk_steps, "chunk_steps", allow_none=True)
    task_size = _positive_int(task_size, "task_size", allow_none=True) or 4 * batch_size
    import torch

    threads = _positive_int(threads, "threads", allow_none=True) or torch.get_num_threads()
    source = _Sequences(sequences, spec.raw_features)
    final_path, replace = _check_path(path, overwrite)
    # written beside its place under a temporary name, moved into place once complete (an object store: in place)
    store_path = final_path if _is_url(final_path) else _beside(final_path, "recording")
    seqs = iter(source)
    try:
        first = next(seqs)
    except StopIteration:
        raise ValueError(
            "no sequences to record (an empty list or iterable); expected at least one (steps, features) array"
        ) from None
    stream_of_seqs = itertools.chain([first], seqs)
    probe = record(model, [first[:1]], task=task, _spec=spec)[0]
    task = probe.task or "auto"  # every block is recorded as the probe was (no head: nothing to resolve)
    classes = 0 if probe.probs is None else probe.probs.shape[1]
    n_outputs = probe.outputs.shape[1] if probe.task == "regression" else 0
    features = first.shape[1]
    chunk_steps = chunk_steps or _default_chunk_steps(spec, names, features, classes + n_outputs)
    kept = (probe.task, classes or n_outputs)  # the head's per-step arrays: task, width
    root, arrays = _create_store(store_path, spec, model, names, features, kept, chunk_steps, batch_size, compressors)
    root.attrs["threads"] = int(threads)
    bar = _progress(progress, source.total)
    threads_before = torch.get_num_threads()
    try:
        if threads != threads_before:
            torch.set_num_threads(threads)
        if client is None:
            lengths = _record_local(spec, model, stream_of_seqs, arrays, names, chunk_steps, batch_size, bar, task)
        else:
            lengths = _record_dask(
                client,
                model,
                stream_of_seqs,
                arrays,
                store_path,
                names,
                chunk_steps,
                batch_size,
                task_size,
                bar,
                _module_name(model, lstm),
                "auto" if head is _AUTO else _module_name(model, head),
                threads,
                task,
            )
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        _finish_store(root, offsets)
        if store_path != final_path:
            _swap_into_place(store_path, final_path, replace)
    except BaseException:
        bar.close()
        if not _is_url(store_path):
            shutil.rmtree(store_path, ignore_errors=True)
        raise
    finally:
        if torch.get_num_threads() != threads_before:
            torch.set_num_threads(threads_before)
    bar.close()
    return open_dataset(final_path)


def storable_reason(rec: Recording) -> str | None:
    """Why ``rec`` cannot be written in this store's format (None when it can): the format holds float inputs
    (T, D), every quantity of the cell kind over one timeline, and a classifier's logits / probs."""
    if np.ndim(rec.inputs) != 2 or not np.issubdtype(np.asarray(rec.inputs).dtype, np.floating):
        return "its inputs are not (steps, features) floats (token ids are not stored)"
    if any(getattr(rec, q) is None for q in rec.quantities):
        return "it lacks some quantities"
    if len(rec.stages) > 1 or len(rec.inputs) != len(rec):
        return "it has several recurrent stages (an encoder and a decoder) on one timeline"
    if rec.outputs is not None and rec.task != "classification":
        return "its head is a regression (per-step outputs are not stored)"
    return None


def write_recordings(recs: list[Recording], path, *, model: dict | None = None, extra_attrs: dict | None = None):
    """Write ready-made recordings (one model's, e.g. a training snapshot's probe sequences) as a complete store in
    :func:`record_dataset`'s format at ``path`` (a new local folder): written beside it under a temporary name, its
    manifest last, then renamed into place — what :func:`open_dataset` reads back. ``model``: the description kept in
    the attrs (default: from the recordings); ``extra_attrs`` are added to the group's attributes. Each recording must
    be storable (:func:`storable_reason`). Returns ``path``."""
    _require("zarr", "write_recordings")
    import zarr

    if not recs:
        raise ValueError("no recordings to write")
    for k, rec in enumerate(recs):
        why = storable_reason(rec)
        if why:
            raise ValueError(f"recording {k} cannot be written to a store: {why}")
    first = recs[0]
    names = tuple(first.quantities)
    final_path, replace = _check_path(path, False)
    store_path = _beside(final_path, "recording")
    features = int(first.inputs.shape[1])
    classes = 0 if first.probs is None else int(first.probs.shape[1])
    lengths = [len(r) for r in recs]
    steps = int(sum(lengths))
    chunk_steps = int(min(1 << 16, max(1, steps)))
    try:
        root = zarr.open_group(store=store_path, mode="w")
        kw = dict(dtype="float32", compressors=_with_checksum(None))
        data = {"inputs": np.concatenate([r.inputs for r in recs], axis=0)}
        data.update({q: np.concatenate([getattr(r, q) for r in recs], axis=1) for q in names})
        if classes:
            data["logits"] = np.concatenate([r.logits for r in recs], axis=0)
            data["probs"] = np.concatenate([r.probs for r in recs], axis=0)
        for name, value in data.items():
            chunks = (chunk_steps, value.shape[1]) if _time_axis(name) == 0 else (1, chunk_steps, value.shape[2])
            root.create_array(name, shape=value.shape, chunks=chunks, **kw)[...] = value.astype(np.float32, copy=False)
        described = model or {"source": "recordings", "cell": first.cell, "has_head": bool(classes)}
        units = {q: getattr(first, q).shape[2] for q in names}
        head = ("classification", classes) if classes else (None, 0)
        attrs = _store_attrs(first.cell, first.layer_names, units, features, head, described, chunk_steps, len(recs))
        root.attrs.update({**attrs, **(extra_attrs or {})})
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        _finish_store(root, offsets)
        _swap_into_place(store_path, final_path, replace)
    except BaseException:
        shutil.rmtree(store_path, ignore_errors=True)
        raise
    return final_path


def _batches(seqs: Iterator, size: int) -> Iterator[list]:
    batch = []
    for x in seqs:
        batch.append(x)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _record_local(spec, model, seqs, arrays, names, chunk_steps, batch_size, bar, task) -> list[int]:
    lengths: list[int] = []
    stream = _Stream(arrays, 0, chunk_steps, own_edges=True, grow=lambda steps: _grow(arrays, steps))
    try:
        for batch in _batches(seqs, batch_size):
            n = len(batch)
            lengths.extend(x.shape[0] for x in batch)
            data = _record_arrays(spec, model, batch, names, task)
            del batch  # freed before the next batch is read: one batch of sequences held at a time
            stream.append(data)
            del data
            bar.update(n)
    except BaseException:
        stream.close()
        raise
    stream.finish()
    return lengths


def _record_dask(
    client, model, seqs, arrays, path, names, chunk_steps, batch_size, task_size, bar, lstm, head, threads, task
) -> list[int]:
    from distributed import as_completed

    if _is_url(path) is False and not os.path.isabs(path):
        path = os.path.abspath(path)  # the workers may run elsewhere in the file system
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    in_flight_max = 2 * workers
    model_future = client.scatter(_Shipped(model), broadcast=True, hash=False)
    lengths: list[int] = []
    pending = as_completed()
    in_flight = 0

    def settle(future):
        n, edges = future.result()
        for a, block in edges:
            for name, value in block.items():
                arrays[name][_region(name, a, a + block["inputs"].shape[0])] = value
        bar.update(n)

    # a task covers whole batches, so the batches (and so every number) are those of a single-process run
    task_size = max(batch_size, task_size // batch_size * batch_size)
    end = 0
    for block in _batches(seqs, task_size):
        start = end
        lengths.extend(x.shape[0] for x in block)
        end = start + sum(x.shape[0] for x in block)
        _grow(arrays, end)  # the region exists before a worker writes to it
        pending.add(
            client.submit(
                _record_block,
                model_future,
                block,
                start,
                path,
                names,
                chunk_steps,
                batch_size,
                lstm,
                head,
                threads,
                task,
                pure=False,
            )
        )
        in_flight += 1
        while in_flight >= in_flight_max:
            settle(next(pending))
            in_flight -= 1
    for future in pending:
        settle(future)
    return lengths


# ----------------------------------------------------------------------------------------------------------------------
# reading


class RecordedDataset:
    """A store written by :func:`record_dataset`, opened lazily: ``len(ds)`` sequences, ``ds[k]`` the
    :class:`Recording` of sequence k (negative k counts from the end; a slice gives a list), read from the chunks that
    cover its steps only. ``ds.offsets`` (N + 1,) gives where each sequence lies in the concatenated arrays;
    ``ds.states(quantity, layer, start, stop)`` any range of steps of one layer row; ``ds.arrays`` the zarr arrays.
    Quantities that were not recorded are None in the Recordings."""

    def __init__(self, group, manifest: dict | None = None, name: str | None = None):
        self.group = group
        self._manifest = manifest  # {key: size}: every read checks the chunks it covers against it
        self._name = name or _store_name(group.store)
        attrs = dict(group.attrs)
        self.attrs = attrs
        self.cell: str = attrs["cell"]
        self.layer_names: tuple = tuple(attrs["layer_names"])
        self.quantities: tuple = tuple(attrs["quantities"])
        self.units: dict = dict(attrs["units"])
        self.features: int = attrs["features"]
        self.classes: int | None = attrs["classes"]
        # stores written before regression heads were kept say nothing of the task: a classifier's or none
        self.task: str | None = attrs.get("task", "classification" if self.classes else None)
        self.n_outputs: int | None = attrs.get("outputs")
        self.model: dict = dict(attrs["model"])
        self.chunk_steps: int = attrs["chunk_steps"]
        names = ("inputs", "offsets") + self.quantities + _HEAD_ARRAYS.get(self.task, ())
        self.arrays = {name: group[name] for name in names}
        self.offsets: np.ndarray = self.arrays["offsets"][:]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Steps of every sequence (N,)."""
        return np.diff(self.offsets)

    @property
    def n_steps(self) -> int:
        return int(self.offsets[-1])

    def __repr__(self) -> str:
        head = f", {self.classes} classes" if self.classes else f", {self.n_outputs} outputs" if self.n_outputs else ""
        return (
            f"RecordedDataset({len(self)} sequences, {self.n_steps} steps, {self.cell}, layers "
            f"{list(self.layer_names)}, quantities {' '.join(self.quantities)}{head})"
        )

    def __iter__(self) -> Iterator[Recording]:
        for k in range(len(self)):
            yield self[k]

    def __getitem__(self, k):
        if isinstance(k, slice):
            start, stop, step = k.indices(len(self))
            if step == 1:
                return self.recordings(start, stop)
            return [self[j] for j in range(start, stop, step)]
        check_int(k, "the index of a recorded data set", expected="a sequence number (int) or a slice", error=TypeError)
        n = len(self)
        if not -n <= k < n:
            raise IndexError(f"sequence {k} is out of range for a data set of {n} sequences (0..{n - 1})")
        k = int(k) % n
        return self.recordings(k, k + 1)[0]

    def recordings(self, start: int = 0, stop: int | None = None) -> list[Recording]:
        """The Recordings of sequences ``start:stop`` (consecutive), read with one contiguous read per array (not one
        per sequence) — what an explorer's window of sequences needs."""
        n = len(self)
        stop = n if stop is None else stop
        start, stop = (
            check_int(
                v,
                name,
                low=0,
                high=n + 1,
                error=IndexError,
                expected=f"a sequence boundary in 0..{n} (the data set has {n} sequences)",
            )
            for name, v in (("start", start), ("stop", stop))
        )
        if stop <= start:
            return []
        a, b = int(self.offsets[start]), int(self.offsets[stop])
        cuts = (self.offsets[start : stop + 1] - a).tolist()
        names = [name for name in self.arrays if name != "offsets"]
        what = f"sequences {start}..{stop - 1}"
        self._check_steps(names, None, a, b, what)
        with self._checksums(names, None, a, b, what):
            block = {name: self.arrays[name][_region(name, a, b)] for name in names}
        out = []
        for j in range(stop - start):
            lo, hi = cuts[j], cuts[j + 1]
            out.append(
                Recording(
                    inputs=block["inputs"][lo:hi],
                    layer_names=self.layer_names,
                    logits=block["logits"][lo:hi] if self.classes else None,
                    probs=block["probs"][lo:hi] if self.classes else None,
                    **({"outputs": block["outputs"][lo:hi]} if self.task == "regression" else {}),
                    task=self.task,
                    **{q: (block[q][:, lo:hi] if q in self.quantities else None) for q in QUANTITIES[self.cell]},
                )
            )
        return out

    def row(self, layer) -> int:
        """The row of ``layer`` (an index or a name of ``layer_names``)."""
        if isinstance(layer, str):
            if layer not in self.layer_names:
                raise KeyError(f"no layer named {layer!r}; layers are {list(self.layer_names)}")
            return self.layer_names.index(layer)
        L = len(self.layer_names)
        return (
            check_int(
                layer,
                "layer",
                low=-L,
                high=L,
                error=IndexError,
                expected=f"a row index in {-L}..{L - 1} or a name from {list(self.layer_names)}",
            )
            % L
        )

    def states(self, quantity: str = "h", layer=0, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Steps ``start:stop`` of the concatenated sequences (all of them by default) of one quantity at one layer
        row, (steps, units) — for fitting and projecting over the whole data set in pieces."""
        if quantity not in self.quantities:
            raise KeyError(f"{quantity!r} was not recorded; the store has {list(self.quantities)}")
        row = self.row(layer)
        a, b, _ = slice(start, stop).indices(self.n_steps)
        what = f"steps {a}..{b - 1}"
        self._check_steps([quantity], row, a, b, what)
        with self._checksums([quantity], row, a, b, what):
            return self.arrays[quantity][row, start:stop]

    def _chunks(self, names, row, a: int, b: int) -> Iterator[tuple[str, tuple, str]]:
        """(array name, chunk coordinates, store key) of every chunk that holds steps a..b of the arrays ``names``
        (layer ``row`` of a quantity; every row when None)."""
        for name in names:
            arr = self.arrays[name]
            axis = _time_axis(name)
            cs = arr.chunks[axis]
            rows = [()] if axis == 0 else [(r,) for r in (range(arr.shape[0]) if row is None else [row])]
            for r in rows:
                for t in range(a // cs, -(-b // cs)):
                    coords = r + (t,) + (0,) * (arr.ndim - len(r) - 1)
                    chunk = arr.metadata.encode_chunk_key(coords)
                    yield name, coords, f"{arr.path}/{chunk}" if arr.path else chunk

    def _check_steps(self, names, row, a: int, b: int, what: str) -> None:
        """Raise when a chunk that holds steps a..b of the arrays ``names`` is missing or truncated against the
        manifest — before zarr would read a missing chunk as zeros."""
        if self._manifest is None or b <= a:
            return
        bad = _damage(self.group.store, self._manifest, [key for _n, _c, key in self._chunks(names, row, a, b)])
        if bad:
            raise ValueError(_damaged(self._name, bad, f"reading {what}"))

    @contextlib.contextmanager
    def _checksums(self, names, row, a: int, b: int, what: str):
        """Turn zarr's checksum error (a chunk whose bytes changed since they were written) into one that names the
        store and the chunk, found by reading the region's chunks one at a time."""
        try:
            yield
        except ValueError as err:
            if "checksum" not in str(err):
                raise
            bad = []
            for name, coords, key in self._chunks(names, row, a, b):
                arr = self.arrays[name]
                try:
                    arr[tuple(slice(c * n, (c + 1) * n) for c, n in zip(coords, arr.chunks, strict=True))]
                except ValueError:
                    bad.append(f"{key} does not match its checksum")
            raise ValueError(_damaged(self._name, bad or [str(err)], f"reading {what}")) from None

    def blocks(self, quantity: str = "h", layer=0, steps: int | None = None) -> Iterator[np.ndarray]:
        """The states of one quantity at one layer row, (steps, units), in consecutive blocks of ``steps`` steps
        (default: one chunk), each block read once."""
        steps = steps or self.chunk_steps
        for a in range(0, self.n_steps, steps):
            yield self.states(quantity, layer, a, min(a + steps, self.n_steps))


def _store_name(store) -> str:
    root = _local_root(store)
    return str(root) if root is not None else str(store)


def _damaged(name: str, bad: list[str], when: str) -> str:
    shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
    return (
        f"the store {name} is damaged ({when}): {shown} — a chunk was deleted, truncated, changed or not copied; "
        "record it again with record_dataset(..., overwrite=True), or copy the whole store again"
    )


def open_dataset(path) -> RecordedDataset:
    """Open a store written by :func:`record_dataset` (a path, an fsspec URL or a zarr store object) without reading
    the recordings: they are read per sequence (``ds[k]``) or per range of steps (``ds.states``).

    The store's manifest (every key it was written with and its size) is compared with the store first — a listing,
    no chunk is read — and a missing or truncated chunk raises a ValueError that names the store and the chunk; every
    later read checks the chunks it covers again, so a chunk lost after opening raises instead of reading as zeros.
    A store written before manifests existed (store version 1) is opened with a warning that damage cannot be
    detected in it (record it again to get a manifest); a newer store without its manifest was not finished and is
    refused."""
    zarr = _require("zarr", "open_dataset")

    if isinstance(path, (str, os.PathLike)) and not _is_url(path) and not Path(path).exists():
        raise FileNotFoundError(f"no store at {path}")
    try:
        group = zarr.open_group(store=path, mode="r")
    except Exception as err:  # zarr's own error, chained
        raise ValueError(f"{path} is not a zarr store written by record_dataset ({err})") from err
    attrs = dict(group.attrs)
    if attrs.get("format") != FORMAT:
        raise ValueError(f"{path} is a zarr store but not one written by record_dataset (no format {FORMAT!r})")
    if attrs.get("version", 0) > VERSION:
        raise ValueError(
            f"{path} was written by a newer lstm_widget (store version {attrs['version']}; this one reads {VERSION})"
        )
    if not attrs.get("complete"):
        raise ValueError(f"{path} is incomplete: record_dataset did not finish writing it; record it again")
    name = str(path) if isinstance(path, (str, os.PathLike)) else _store_name(group.store)
    try:
        manifest = _read_manifest(group.store)
    except ValueError as err:
        raise ValueError(f"the store {name} is damaged: {err}; record it again") from None
    if manifest is None:
        if attrs.get("version", 0) >= 2:
            raise ValueError(
                f"the store {name} has no {MANIFEST}: record_dataset did not finish writing it (or it "
                "was deleted); record it again"
            )
        warnings.warn(
            f"the store {name} was written by an older lstm_widget, without a manifest: a missing or "
            "truncated chunk in it cannot be detected and would read as zeros; record it again with "
            "record_dataset(..., overwrite=True) to get one",
            UserWarning,
            stacklevel=2,
        )
    else:
        bad = _damage(group.store, manifest)
        if bad:
            raise ValueError(_damaged(name, bad, "on opening"))
    return RecordedDataset(group, manifest, name)
