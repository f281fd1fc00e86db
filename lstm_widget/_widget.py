"""The Explorer widget: traits that mirror js/PROTOCOL.md, and the methods a notebook user calls.

Recording happens in the kernel core; encoding happens in the wire module; this module only assembles the two.
"""

from __future__ import annotations

import pathlib
import time

import anywidget
import numpy as np
import traitlets as tl

from ._core import LSTM_QUANTITIES, Recording, Stepper, describe, record
from ._core.adapters import _AUTO
from ._core.projection import fit_projection, make_projection, project
from ._core.validate import check_sequence
from ._wire import check_wire_dtype, encode_array, split_message

_BUNDLE = pathlib.Path(__file__).parent / "static" / "widget.js"
#: With preload="auto", every quantity is sent up front while all of them together stay under this many float32
#: bytes; above it only the shown quantity is, and each other one when it is first chosen.
AUTO_PRELOAD_BYTES = 64 * 2**20


def _bundle():
    if not _BUNDLE.exists():
        raise RuntimeError(
            f"the front-end bundle {_BUNDLE} is missing: install the package with `pip install .` (which builds it), "
            "or build it with `npm install && npm run build` in js/"
        )
    return _BUNDLE


def _names(given, n: int, default: str, what: str) -> list[str]:
    if given is None:
        return [default.format(k) for k in range(n)]
    names = [str(s) for s in given]
    if len(names) != n:
        raise ValueError(f"{what} has {len(names)} entries; expected {n}")
    return names


def _check_preload(preload, quantity: str):
    if preload in ("auto", "all"):
        return "auto" if preload == "auto" else tuple(LSTM_QUANTITIES)
    names = [preload] if isinstance(preload, str) else list(preload)
    bad = [q for q in names if q not in LSTM_QUANTITIES]
    if bad:
        raise ValueError(f"preload {bad[0]!r} is not a quantity; expected 'auto', 'all' or names from {LSTM_QUANTITIES}")
    return tuple(dict.fromkeys(names + [quantity]))


class Explorer(anywidget.AnyWidget):
    """A live, linked view inside a recurrent network: timeline, heatmap, traces, trajectory, inputs, predictions
    and gates, all following one cursor.

    ``Explorer(model, sequences, labels=None, class_names=None, feature_names=None)`` records every sequence with
    :func:`lstm_widget.record` and shows them; ``t``, ``sequence``, ``layer``, ``quantity``, ``selected_units``,
    ``playing`` and ``speed`` are synced both ways with the page.
    """

    _esm = _bundle()
    _meta = tl.Dict().tag(sync=True)
    _arrays = tl.Dict().tag(sync=True)  # inputs, probs, traj
    # one trait per quantity, so that loading one on demand sends only its bytes ({} until loaded)
    _data_h = tl.Dict().tag(sync=True)
    _data_c = tl.Dict().tag(sync=True)
    _data_i = tl.Dict().tag(sync=True)
    _data_f = tl.Dict().tag(sync=True)
    _data_g = tl.Dict().tag(sync=True)
    _data_o = tl.Dict().tag(sync=True)

    t = tl.Int(0, help="the step the cursor shows").tag(sync=True)
    sequence = tl.Int(0, help="index of the sequence shown").tag(sync=True)
    layer = tl.Int(0, help="row of layer_names shown by the heatmap").tag(sync=True)
    quantity = tl.Unicode("h", help="h, c, i, f, g or o").tag(sync=True)
    selected_units = tl.List(tl.Int(), help="units picked for traces and gates").tag(sync=True)
    playing = tl.Bool(False).tag(sync=True)
    speed = tl.Float(8.0, help="steps per second while playing").tag(sync=True)

    def __init__(
        self,
        model,
        sequences,
        labels=None,
        class_names=None,
        feature_names=None,
        sequence_names=None,
        *,
        lstm=None,
        head=_AUTO,
        projection="pca",
        wire_dtype: str = "float32",
        preload="auto",
        **kwargs,
    ):
        spec = describe(model, lstm=lstm, head=head)
        recs = record(model, sequences, _spec=spec)
        self._setup(recs if isinstance(recs, list) else [recs], spec, labels, class_names, feature_names,
                    sequence_names, projection, wire_dtype, preload, kwargs)

    @classmethod
    def from_recordings(cls, recordings, labels=None, class_names=None, feature_names=None, sequence_names=None, *,
                        projection="pca", wire_dtype: str = "float32", preload="auto", **kwargs) -> "Explorer":
        """Show recordings made earlier with :func:`lstm_widget.record`, without the model (no live streaming)."""
        recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
        if not recs or not all(isinstance(r, Recording) for r in recs):
            raise TypeError("from_recordings expects a Recording or a non-empty list of Recordings from lstm_widget.record")
        names = {r.layer_names for r in recs}
        if len(names) != 1 or len({r.h.shape[2] for r in recs}) != 1 or len({r.inputs.shape[1] for r in recs}) != 1:
            raise ValueError("the recordings come from different models (layers, units or features differ)")
        self = cls.__new__(cls)
        self._setup(recs, None, labels, class_names, feature_names, sequence_names, projection, wire_dtype, preload,
                    kwargs)
        return self

    def _setup(self, recs, spec, labels, class_names, feature_names, sequence_names, projection, wire_dtype, preload,
               kwargs):
        # Everything is checked and computed before the widget exists: a bad argument leaves nothing half-built.
        self._spec = spec
        self._wire_dtype = check_wire_dtype(wire_dtype)
        self._first_quantity = kwargs.get("quantity", "h")
        self._preload = _check_preload(preload, self._first_quantity)
        first = recs[0]
        self._layer_names = tuple(first.layer_names)
        self._units = {q: int(getattr(first, q).shape[2]) for q in LSTM_QUANTITIES}
        n = len(recs)
        if labels is not None:
            labels = [None if v is None else int(v) for v in np.asarray(labels, dtype=object).reshape(-1)]
            if len(labels) != n:
                raise ValueError(f"labels has {len(labels)} entries; expected one per sequence ({n})")
        n_classes = 0 if first.probs is None else first.probs.shape[1]
        if class_names is not None or n_classes:
            n_names = n_classes or (max(v for v in labels if v is not None) + 1 if labels else 0)
            class_names = _names(class_names, n_names, "class {}", "class_names")
        if labels is not None and class_names is not None:
            bad = [v for v in labels if v is not None and not 0 <= v < len(class_names)]
            if bad:
                raise ValueError(f"label {bad[0]} is out of range; expected 0..{len(class_names) - 1} (class_names)")
        self._feature_names = _names(feature_names, first.inputs.shape[1], "x{}", "feature_names")
        self._sequence_names = _names(sequence_names, n, "sequence {}", "sequence_names")
        self._labels = labels if labels is not None else [None] * n
        self._class_names = class_names
        self._projection = make_projection(projection)
        self._recordings: list[Recording] = []
        meta, arrays = self._assemble(recs, refit=True)
        super().__init__(_meta=meta, **arrays, **kwargs)
        self._recordings = recs

    # ---- data assembly ----------------------------------------------------------------------------------------
    @property
    def _projection_row(self) -> int:
        """The layer row the trajectory projects: the last layer's forward direction."""
        reverse = sum(name.endswith("_reverse") for name in self._layer_names)
        return len(self._layer_names) - (2 if reverse else 1)

    def _assemble(self, recs: list[Recording], refit: bool = False) -> tuple[dict, dict]:
        """Meta and the data traits for ``recs``: ``_arrays`` (inputs, probs, traj) and one ``_data_<q>`` per
        quantity — encoded when it is to be loaded now, else left empty ({}) until the page asks for it."""
        row = self._projection_row
        h_all = np.concatenate([r.h[row] for r in recs], axis=0)
        if refit:
            self._projection = fit_projection(self._projection, h_all)
        lengths = [len(r) for r in recs]
        has_head = recs[0].probs is not None
        small = {"inputs": np.concatenate([r.inputs for r in recs], axis=0)}
        if has_head:
            small["probs"] = np.concatenate([r.probs for r in recs], axis=0)
        small["traj"] = project(self._projection, h_all)
        dtype = self._wire_dtype
        if self._preload == "auto":
            values = sum(getattr(r, q).size for r in recs for q in LSTM_QUANTITIES)
            wanted = set(LSTM_QUANTITIES) if values * 4 <= AUTO_PRELOAD_BYTES else {self._first_quantity}
        else:
            wanted = set(self._preload)
        wanted |= {q for q in LSTM_QUANTITIES if getattr(self, f"_data_{q}", None)}  # what the page already has
        traits, limits = {"_arrays": {k: encode_array(v, dtype) for k, v in small.items()}}, {}
        for q in LSTM_QUANTITIES:
            lo = min(float(getattr(r, q).min()) for r in recs)
            hi = max(float(getattr(r, q).max()) for r in recs)
            limits[q] = [lo, hi]
            traits[f"_data_{q}"] = self._encode_quantity(recs, q) if q in wanted else {}
        meta = {
            "n_sequences": len(recs),
            "lengths": lengths,
            "offsets": [0] + np.cumsum(lengths).tolist(),
            "labels": self._labels,
            "class_names": self._class_names,
            "feature_names": self._feature_names,
            "sequence_names": self._sequence_names,
            "layer_names": list(self._layer_names),
            "quantities": list(LSTM_QUANTITIES),
            "units": self._units,
            "has_head": has_head,
            "n_classes": int(small["probs"].shape[1]) if has_head else 0,
            "limits": limits,
            "projection": {
                "name": type(self._projection).__name__ if self._projection is not None else "first units",
                "dims": 2,
                "layer": row,
                "quantity": "h",
            },
        }
        return meta, traits

    def _encode_quantity(self, recs: list[Recording], q: str) -> dict:
        return encode_array(np.concatenate([getattr(r, q) for r in recs], axis=1), self._wire_dtype)

    @tl.observe("quantity")
    def _load_quantity(self, change):
        """Choosing a quantity that is not on the page yet (from Python or from the page) sends it, once."""
        q = change["new"]
        if self._recordings and not getattr(self, f"_data_{q}"):
            setattr(self, f"_data_{q}", self._encode_quantity(self._recordings, q))

    @property
    def loaded_quantities(self) -> list[str]:
        """The quantities whose data is on the page (and in a saved notebook or export)."""
        return [q for q in LSTM_QUANTITIES if getattr(self, f"_data_{q}")]

    # ---- validation of synced traits -----------------------------------------------------------------------
    @tl.validate("sequence")
    def _check_sequence(self, proposal):
        s, n = proposal["value"], len(self._recordings) or self._meta.get("n_sequences", 0)
        if not 0 <= s < n:
            raise tl.TraitError(f"sequence {s} is out of range; expected 0..{n - 1}")
        return s

    @tl.validate("t")
    def _check_t(self, proposal):
        t = proposal["value"]
        lengths = self._meta.get("lengths") or [1]
        T = lengths[min(self.sequence, len(lengths) - 1)]
        if not 0 <= t < T:
            raise tl.TraitError(f"t={t} is out of range for sequence {self.sequence}, which has {T} steps (0..{T - 1})")
        return t

    @tl.observe("sequence")
    def _clamp_t(self, change):
        T = self._meta["lengths"][change["new"]]
        if self.t >= T:
            self.t = T - 1

    @tl.validate("layer")
    def _check_layer(self, proposal):
        layer, names = proposal["value"], self._layer_names
        if not 0 <= layer < len(names):
            raise tl.TraitError(f"layer {layer} is out of range; expected 0..{len(names) - 1} ({', '.join(names)})")
        return layer

    @tl.validate("quantity")
    def _check_quantity(self, proposal):
        q = proposal["value"]
        if q not in LSTM_QUANTITIES:
            raise tl.TraitError(f"quantity {q!r} is not recorded; expected one of {', '.join(LSTM_QUANTITIES)}")
        return q

    @tl.validate("selected_units")
    def _check_units(self, proposal):
        units = list(proposal["value"])
        n = max(self._units.values())
        bad = [u for u in units if not 0 <= u < n]
        if bad:
            raise tl.TraitError(f"unit {bad[0]} is out of range; expected 0..{n - 1}")
        return list(dict.fromkeys(units))

    @tl.validate("speed")
    def _check_speed(self, proposal):
        v = proposal["value"]
        if not (np.isfinite(v) and v > 0):
            raise tl.TraitError(f"speed {v} must be a positive number of steps per second")
        return v

    # ---- what users call ------------------------------------------------------------------------------------
    @property
    def recordings(self) -> list[Recording]:
        """Every loaded sequence's :class:`~lstm_widget.Recording`, in picker order."""
        return list(self._recordings)

    @property
    def recording(self) -> Recording:
        """The recording of the sequence shown."""
        return self._recordings[self.sequence]

    @property
    def frame(self):
        """The :class:`~lstm_widget.Frame` at the cursor."""
        return self.recording.frame(self.t)

    def step(self, n: int = 1) -> int:
        """Move the cursor ``n`` steps (clamped to the sequence) and return the new step."""
        self.t = int(np.clip(self.t + int(n), 0, len(self.recording) - 1))
        return self.t

    def play(self, fps: float | None = None) -> None:
        """Play the current sequence in the page (client side) at ``fps`` steps per second."""
        if fps is not None:
            self.speed = fps
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    def stream(self, x, *, name: str | None = None, label: int | None = None, fps: float | None = None,
               batch_ms: float = 16.0) -> Recording:
        """Step a new sequence ``x`` (T, D) through the kernel one step at a time, appending every frame to the page
        as it is computed (binary custom messages, about one per ``batch_ms``); afterwards the traits hold the new
        sequence too, so a saved notebook shows it. ``fps`` slows the stepping down to watch it. Returns the
        recording."""
        if self._spec is None:
            raise RuntimeError("this Explorer was made from recordings, without a model: it cannot step new sequences")
        x = check_sequence(x, self._spec.raw_features, "the streamed sequence")
        if label is not None and self._class_names is not None and not 0 <= int(label) < len(self._class_names):
            raise ValueError(f"label {label} is out of range; expected 0..{len(self._class_names) - 1}")
        if fps is not None and not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps {fps} must be a positive number of steps per second")
        stepper = Stepper.from_spec(self._spec)
        s = len(self._recordings)
        name = str(name) if name is not None else f"sequence {s}"
        self.send({"type": "begin", "sequence": s, "name": name, "label": None if label is None else int(label)})
        frames, pending, last_send = [], [], time.perf_counter()
        for t in range(x.shape[0]):
            started = time.perf_counter()
            frames.append(stepper.step(x[t]))
            pending.append(frames[-1])
            now = time.perf_counter()
            if (now - last_send) * 1000 >= batch_ms or t == x.shape[0] - 1:
                self._send_frames(s, t + 1 - len(pending), pending)
                pending, last_send = [], now
            if fps is not None:
                time.sleep(max(0.0, 1.0 / fps - (time.perf_counter() - started)))
        rec = _recording_from_frames(frames, self._layer_names)
        recs = self._recordings + [rec]
        self._labels = self._labels + [None if label is None else int(label)]
        self._sequence_names = self._sequence_names + [name]
        meta, traits = self._assemble(recs)
        with self.hold_sync():
            self._recordings = recs
            self._meta = meta
            for name, value in traits.items():
                setattr(self, name, value)
            self.sequence = s
            self.t = len(rec) - 1
        return rec

    def _send_frames(self, s: int, start: int, frames) -> None:
        """Append ``frames`` to sequence ``s`` in the page: the quantities it has loaded, inputs, probs, trajectory."""
        chunk = _recording_from_frames(frames, self._layer_names)
        fields = {"inputs": chunk.inputs, **{q: getattr(chunk, q) for q in self.loaded_quantities}}
        if chunk.probs is not None:
            fields["probs"] = chunk.probs
        fields["traj"] = project(self._projection, chunk.h[self._projection_row])
        descs, buffers = split_message(fields, self._wire_dtype)
        self.send({"type": "append", "sequence": s, "start": start, "fields": descs}, buffers)


def _recording_from_frames(frames, layer_names) -> Recording:
    probs = None if frames[0].probs is None else np.stack([f.probs for f in frames])
    logits = None if frames[0].logits is None else np.stack([f.logits for f in frames])
    return Recording(
        inputs=np.stack([f.inputs for f in frames]),
        logits=logits,
        probs=probs,
        layer_names=tuple(layer_names),
        **{q: np.stack([getattr(f, q) for f in frames], axis=1) for q in LSTM_QUANTITIES},
    )
