"""The Explorer widget: traits that mirror js/PROTOCOL.md, and the methods a notebook user calls.

Recording happens in the kernel core; encoding happens in the wire module; this module only assembles the two.
"""

from __future__ import annotations

import asyncio
import pathlib
import threading
import time

import anywidget
import numpy as np
import traitlets as tl

from ._core.model import LSTM_QUANTITIES, describe, gate_weights
from ._core.model.adapters import _AUTO
from ._core.model.gates import GATES
from ._core.recording import Recording, Stepper, record
from ._core.recording.stepper import stepping_threads
from ._core.projection.fit import Projection, check_projection, fit_projection, unfitted_copy
from ._core.validate import check_sequence
from ._export import write_html
from ._why import WhyMixin
from ._wire import check_wire_dtype, encode_array, split_message

_BUNDLE = pathlib.Path(__file__).parent / "static" / "widget.js"
#: With preload="auto", every quantity is sent up front while all of them together stay under this many float32
#: bytes; above it only the shown quantity is, and each other one when it is first chosen.
AUTO_PRELOAD_BYTES = 64 * 2**20
#: The most bytes one update may send to the page (or one export may embed): above it the explorer refuses with a
#: ValueError that says what to change, rather than freezing the browser tab. Raise it at your own risk.
PAGE_BYTES_LIMIT = 512 * 2**20


def default_projection_row(layer_names) -> int:
    """The layer row the trajectory projects by default: the last layer's forward direction."""
    reverse = any(name.endswith("_reverse") for name in layer_names)
    return len(layer_names) - (2 if reverse else 1)


def _check_page_bytes(n_values: int, dtype: str, what: str) -> None:
    """Refuse to send ``n_values`` numbers of wire ``dtype`` to the page when they exceed ``PAGE_BYTES_LIMIT``."""
    itemsize = np.dtype(dtype).itemsize  # a wire dtype (checked before): float32, float16 or uint8
    size = n_values * itemsize
    if size > PAGE_BYTES_LIMIT:
        smaller = [d for d in ("float16", "uint8") if np.dtype(d).itemsize < itemsize]
        hint = f"wire_dtype={smaller[0]!r} ({'halves' if smaller[0] == 'float16' else 'quarters'} it), " if smaller \
            else ""
        raise ValueError(
            f"{what} would be {size / 2**20:.1f} MiB of {dtype} data; the page takes at most "
            f"{PAGE_BYTES_LIMIT / 2**20:.1f} MiB at a time (lstm_widget._widget.PAGE_BYTES_LIMIT) — use {hint}"
            "preload='h' (one quantity at a time), fewer or shorter sequences, or analyse the recordings in Python "
            "(lw.record, lw.record_dataset)"
        )


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


def _check_label(value, what: str):
    """One class label: None or an integer (int, numpy integer, or a float with an integral value)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)) \
            or not np.isfinite(value) or float(value) != int(value):
        raise ValueError(f"{what} has {value!r} ({type(value).__name__}); expected class indices (ints) or None")
    return int(value)


def _check_preload(preload, quantity: str, quantities: tuple = LSTM_QUANTITIES):
    if preload in ("auto", "all"):
        return "auto" if preload == "auto" else tuple(quantities)
    names = [preload] if isinstance(preload, str) else list(preload)
    bad = [q for q in names if q not in quantities]
    if bad:
        raise ValueError(f"preload {bad[0]!r} is not a quantity; expected 'auto', 'all' or names from {quantities}")
    return tuple(dict.fromkeys(names + [quantity]))


def _check_groups(groups, group_name, n: int):
    """(group_name, [str per sequence]) for ``_meta.groups``, or None when no groups were given."""
    if groups is None:
        return None
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise TypeError(f"groups must be a sequence with one value per sequence ({n}); got {type(groups).__name__}")
    values = [str(v) for v in np.asarray(groups, dtype=object).reshape(-1)]
    if len(values) != n:
        raise ValueError(f"groups has {len(values)} entries; expected one per sequence ({n})")
    if not isinstance(group_name, str):
        raise TypeError(f"group_name must be a str; got {type(group_name).__name__}")
    return group_name, values


def _stacked(recs, layer: int, quantity: str) -> np.ndarray:
    """``quantity`` at layer row ``layer`` of every step of ``recs``, stacked: (sum T, units)."""
    return np.concatenate([getattr(r, quantity)[layer] for r in recs], axis=0)


def _revision(seen) -> int:
    """The revision a page write says it had seen (``[revision, write number]``); a write without one (another
    front end) is taken as current."""
    if isinstance(seen, (list, tuple)) and seen and isinstance(seen[0], int):
        return seen[0]
    return 1 << 62


#: ``traj_view`` keys (js/PROTOCOL.md) → what each accepts, as said in errors.
TRAJ_VIEW_KEYS = {
    "dims": "2 or 3",
    "color": "'time', 'class' or 'group'",
    "log1p": "a bool",
    "labels": "a bool",
    "last_only": "a bool",
    "overlay": "[] or [class_a, class_b] (two different class indices)",
    "yaw": "a finite number (radians)",
    "pitch": "a finite number (radians)",
}


class Explorer(WhyMixin, anywidget.AnyWidget):
    """A live, linked view inside a recurrent network: timeline, heatmap, traces, trajectory, inputs, predictions
    and gates, all following one cursor.

    ``Explorer(model, sequences, labels=None, class_names=None, feature_names=None)`` records every sequence with
    :func:`lstm_widget.record` and shows them; ``t``, ``sequence``, ``layer``, ``quantity``, ``selected_units``,
    ``playing`` and ``speed`` are synced both ways with the page.

    The trajectory view shows ``projection_quantity`` (default "h") at layer row ``projection_layer`` (default: the
    last layer's forward direction) of every step, mapped to 2-D/3-D by ``projection``: "pca" (3 components when
    there are ≥ 3 units), "autoencoder" (a :class:`~lstm_widget.DenoisingAutoencoder` with a 2-unit bottleneck; pass
    ``DenoisingAutoencoder(n_components=3)`` for 3-D) or any scikit-learn transformer — fitted (used as is) or
    unfitted (fitted on the states of all loaded sequences). Changing ``projection_layer`` or
    ``projection_quantity`` (here or in the page) refits it; :meth:`set_projection` swaps the transformer; live steps
    and streamed sequences are placed with its ``transform``. ``groups`` (one value per sequence, named
    ``group_name``) lets the page colour paths by group; ``traj_view`` says how the page draws the trajectory (keys
    in ``TRAJ_VIEW_KEYS``, js/PROTOCOL.md).

    An LSTM shows h, c, i, f, g, o; a GRU h, r, z, n (``_meta.quantities``). ``gate_details`` opens the page's
    "Gates & weights" section (closed by default, so the first page stays light): the chosen ``layer``'s W, U and b
    split per gate under the names of the framework the model came from (:attr:`weights`,
    :func:`lstm_widget.gate_weights`) next to each gate's activation over time, and the gate saturation scatter; it is
    sent only while the section is open.
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
    _data_r = tl.Dict().tag(sync=True)  # a GRU's gates (an LSTM leaves them {}, a GRU leaves c, i, f, g, o {})
    _data_z = tl.Dict().tag(sync=True)
    _data_n = tl.Dict().tag(sync=True)
    # the chosen layer row's weights split per gate, sent while the page's "Gates & weights" section is open
    _weights = tl.Dict().tag(sync=True)

    t = tl.Int(0, help="the step the cursor shows").tag(sync=True)
    sequence = tl.Int(0, help="index of the sequence shown").tag(sync=True)
    layer = tl.Int(0, help="row of layer_names shown by the heatmap").tag(sync=True)
    quantity = tl.Unicode("h", help="h, c, i, f, g or o for an LSTM; h, r, z or n for a GRU").tag(sync=True)
    selected_units = tl.List(tl.Int(), help="units picked for traces and gates").tag(sync=True)
    playing = tl.Bool(False).tag(sync=True)
    speed = tl.Float(8.0, help="steps per second while playing").tag(sync=True)
    # the trajectory: what is projected (a change refits the projection) and how the page draws it
    projection_layer = tl.Int(0, help="layer row whose states the trajectory projects").tag(sync=True)
    projection_quantity = tl.Unicode("h", help="the quantity the trajectory projects").tag(sync=True)
    traj_view = tl.Dict(help="how the page draws the trajectory; see TRAJ_VIEW_KEYS").tag(sync=True)
    # the "Gates & weights" section (per-gate weights next to the gate activations, gate saturation): opening it is
    # the request for the chosen layer's weights and for the gate quantities not loaded yet
    gate_details = tl.Bool(False, help="whether the page's Gates & weights section is open").tag(sync=True)

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
        projection_layer: int | None = None,
        projection_quantity: str = "h",
        groups=None,
        group_name: str = "group",
        wire_dtype: str = "float32",
        preload="auto",
        **kwargs,
    ):
        spec = describe(model, lstm=lstm, head=head)
        recs = record(model, sequences, _spec=spec)
        self._setup(recs if isinstance(recs, list) else [recs], spec, labels, class_names, feature_names,
                    sequence_names, projection, wire_dtype, preload, kwargs, projection_layer=projection_layer,
                    projection_quantity=projection_quantity, groups=groups, group_name=group_name)

    @classmethod
    def from_recordings(cls, recordings, labels=None, class_names=None, feature_names=None, sequence_names=None, *,
                        projection="pca", projection_layer: int | None = None, projection_quantity: str = "h",
                        groups=None, group_name: str = "group", wire_dtype: str = "float32", preload="auto",
                        **kwargs) -> "Explorer":
        """Show recordings made earlier with :func:`lstm_widget.record`, without the model (no live streaming)."""
        recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
        if not recs or not all(isinstance(r, Recording) for r in recs):
            raise TypeError("from_recordings expects a Recording or a non-empty list of Recordings from lstm_widget.record")
        names = {r.layer_names for r in recs}
        if len(names) != 1 or len({r.h.shape[2] for r in recs}) != 1 or len({r.inputs.shape[1] for r in recs}) != 1 \
                or len({r.cell for r in recs}) != 1:
            raise ValueError("the recordings come from different models (layers, units or features differ)")
        self = cls.__new__(cls)
        self._setup(recs, None, labels, class_names, feature_names, sequence_names, projection, wire_dtype, preload,
                    kwargs, projection_layer=projection_layer, projection_quantity=projection_quantity, groups=groups,
                    group_name=group_name)
        return self

    # ---- a recorded data set, out of core (lstm_widget/_dataset_widget.py) ----------------------------------------
    @classmethod
    def from_dataset(cls, dataset, labels=None, class_names=None, feature_names=None, sequence_names=None, *,
                     window: int = 32, start: int = 0, **kwargs) -> "Explorer":
        """Explore a store written by :func:`lstm_widget.record_dataset` (a path or :func:`lstm_widget.open_dataset`)
        lazily: only ``window`` consecutive sequences (from ``start``) are read and sent to the page; set
        ``window_start`` to show another window. ``labels``, ``sequence_names`` and ``groups`` have one entry per
        sequence of the store. The trajectory is fitted over every step of the store with ``partial_fit``
        (``projection``: "pca" → IncrementalPCA, a transformer with ``partial_fit``, or a fitted one). Other keywords
        as in :class:`Explorer`; returns a ``DatasetExplorer``."""
        from ._dataset_widget import DatasetExplorer

        return DatasetExplorer.from_dataset(dataset, labels, class_names, feature_names, sequence_names,
                                            window=window, start=start, **kwargs)

    def _setup(self, recs, spec, labels, class_names, feature_names, sequence_names, projection, wire_dtype, preload,
               kwargs, *, projection_layer=None, projection_quantity="h", groups=None, group_name="group"):
        # Everything is checked and computed before the widget exists: a bad argument leaves nothing half-built.
        self._spec = spec
        self._wire_dtype = check_wire_dtype(wire_dtype)
        self._first_quantity = kwargs.get("quantity", "h")
        first = recs[0]
        self._quantities = tuple(first.quantities)  # the cell kind's: h c i f g o (LSTM) or h r z n (GRU)
        self._cell = first.cell
        self._preload = _check_preload(preload, self._first_quantity, self._quantities)
        self._layer_names = tuple(first.layer_names)
        self._units = {q: int(getattr(first, q).shape[2]) for q in self._quantities}
        n = len(recs)
        if labels is not None:
            labels = [_check_label(v, "labels") for v in np.asarray(labels, dtype=object).reshape(-1)]
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
        self._groups = _check_groups(groups, group_name, n)
        # the trajectory: the projection is fitted on every loaded step of (projection_layer, projection_quantity)
        layer = self._projection_row if projection_layer is None else projection_layer
        self._check_projected(layer, projection_quantity, ValueError)
        self._projection_given = check_projection(projection)
        self._projection_given_for = (layer, projection_quantity)
        self._projection_pending = None
        self._projection, traj = self._fit_projection(recs, layer, projection_quantity)
        self._projection_key = (layer, projection_quantity)
        if "traj_view" in kwargs:
            kwargs["traj_view"] = self._check_traj_view_value(kwargs["traj_view"], ValueError)
        self._recordings: list[Recording] = []
        self._revisions = {}
        self._revisions_lock = threading.RLock()  # ipykernel may handle page messages while a cell runs
        meta, arrays = self._assemble(recs, traj=traj)
        super().__init__(_meta=meta, **arrays, projection_layer=layer, projection_quantity=projection_quantity,
                         **kwargs)
        self._recordings = recs
        if self.gate_details:
            self._open_gate_details()
        self._why_init()  # what why_open / comparison / pattern_query given here ask for (_why.py)

    # ---- data assembly ----------------------------------------------------------------------------------------
    @property
    def _projection_row(self) -> int:
        return default_projection_row(self._layer_names)

    def _assemble(self, recs: list[Recording], traj: np.ndarray | None = None, *, index: list[int] | None = None,
                  wire_dtype: str | None = None, load=None) -> tuple[dict, dict]:
        """Meta and the data traits for ``recs``: ``_arrays`` (inputs, probs, traj) and one ``_data_<q>`` per
        quantity — encoded when it is to be loaded now, else left empty ({}) until the page asks for it. ``traj`` is
        the projection of every step when it was just computed; otherwise the fitted projection places them (no
        refit). ``index`` (the loaded sequences ``recs`` are, for an export of some of them), ``wire_dtype`` and
        ``load`` (the quantities to encode) override what the widget itself uses."""
        layer, quantity = self._projection_key
        pick = (lambda values: list(values)) if index is None else (lambda values: [values[i] for i in index])
        if traj is None:
            traj = self._projection.transform(_stacked(recs, layer, quantity))
        lengths = [len(r) for r in recs]
        has_head = recs[0].probs is not None
        small = {"inputs": np.concatenate([r.inputs for r in recs], axis=0)}
        if has_head:
            small["probs"] = np.concatenate([r.probs for r in recs], axis=0)
        small["traj"] = traj
        dtype = wire_dtype or self._wire_dtype
        if load is not None:
            wanted = set(load)
        elif self._preload == "auto":
            values = sum(getattr(r, q).size for r in recs for q in self._quantities)
            wanted = set(self._quantities) if values * 4 <= AUTO_PRELOAD_BYTES else {self._first_quantity}
        else:
            wanted = set(self._preload)
        if load is None:
            wanted |= {q for q in self._quantities if getattr(self, f"_data_{q}", None)}  # what the page already has
        _check_page_bytes(sum(v.size for v in small.values())
                          + sum(getattr(r, q).size for r in recs for q in self._quantities if q in wanted), dtype,
                          "showing these sequences" if load is None else "this export")
        traits, limits = {"_arrays": {k: encode_array(v, dtype) for k, v in small.items()}}, {}
        for q in self._quantities:
            lo = min(float(getattr(r, q).min()) for r in recs)
            hi = max(float(getattr(r, q).max()) for r in recs)
            limits[q] = [lo, hi]
            traits[f"_data_{q}"] = self._encode_quantity(recs, q, dtype) if q in wanted else {}
        meta = {
            "n_sequences": len(recs),
            "lengths": lengths,
            "offsets": [0] + np.cumsum(lengths).tolist(),
            "labels": pick(self._labels),
            "class_names": self._class_names,
            "feature_names": self._feature_names,
            "sequence_names": pick(self._sequence_names),
            "layer_names": list(self._layer_names),
            "quantities": list(self._quantities),
            "cell": self._cell,
            "units": self._units,
            "has_weights": self._spec is not None,
            "framework": None if self._spec is None else getattr(self._spec, "framework", "pytorch"),
            "has_head": has_head,
            "n_classes": int(small["probs"].shape[1]) if has_head else 0,
            "limits": limits,
            "projection": self._projection.meta(layer, quantity),
            "groups": None if self._groups is None else {"name": self._groups[0], "values": pick(self._groups[1])},
        }
        return meta, traits

    def _encode_quantity(self, recs: list[Recording], q: str, dtype: str | None = None) -> dict:
        return encode_array(np.concatenate([getattr(r, q) for r in recs], axis=1), dtype or self._wire_dtype)

    @tl.observe("quantity")
    def _load_quantity(self, change):
        """Choosing a quantity that is not on the page yet (from Python or from the page) sends it, once."""
        q = change["new"]
        if self._recordings and not getattr(self, f"_data_{q}"):
            setattr(self, f"_data_{q}", self._encode_quantity(self._recordings, q))

    # ---- the "Gates & weights" section: per-gate weights and the gates, sent when the page opens it -------------
    def _weights_entry(self, row: int, dtype: str | None = None) -> dict:
        """``_weights.rows[row]`` (js/PROTOCOL.md): layer row ``row``'s W, U and biases split per gate, in the names
        and gate order of the framework the model came from."""
        gw = gate_weights(self._spec, self._layer_names[row])
        dtype = dtype or self._wire_dtype
        entry = {
            "row": row,
            "layer_name": gw.layer_name,
            "direction": gw.direction,
            "cell": gw.cell,
            "framework": gw.framework,
            "gates": list(gw.gates),
            "ours": list(gw.ours),
            "names": dict(gw.names),
            "biases": [name for name, _ in gw.biases],
            "W": encode_array(np.stack([gw.W[g] for g in gw.gates]), dtype),  # (G, units, inputs)
            "U": encode_array(np.stack([gw.U[g] for g in gw.gates]), dtype),  # (G, units, outputs)
        }
        if gw.biases:  # (biases, G, units)
            entry["b"] = encode_array(np.stack([[v[g] for g in gw.gates] for _, v in gw.biases]), dtype)
        return entry

    def _open_gate_details(self) -> None:
        """The section is open: send the chosen layer's weights (when not already there) and every gate quantity
        the page lacks (the weight view shows them over time, the saturation scatter counts them)."""
        if not self._recordings:
            return
        with self.hold_sync():
            if self._spec is not None and str(self.layer) not in self._weights.get("rows", {}):
                self._weights = {"rows": {str(self.layer): self._weights_entry(self.layer)}}
            for q in GATES[self._cell]:
                if not getattr(self, f"_data_{q}"):
                    setattr(self, f"_data_{q}", self._encode_quantity(self._recordings, q))

    @tl.observe("gate_details", "layer")
    def _gate_details_request(self, change):
        if self.gate_details:
            self._open_gate_details()

    @property
    def weights(self):
        """The :class:`~lstm_widget.GateWeights` of the layer row the page shows (``layer``), in the names of the
        framework the model came from; None for an explorer made from recordings."""
        return None if self._spec is None else gate_weights(self._spec, self._layer_names[self.layer])

    @property
    def loaded_quantities(self) -> list[str]:
        """The quantities whose data is on the page (and in a saved notebook or export)."""
        return [q for q in self._quantities if getattr(self, f"_data_{q}")]

    # ---- a burst of t changes from Python reaches the page coalesced -----------------------------------------
    #: ``t`` set from Python is sent to the page at most once per this many milliseconds while a cell keeps setting
    #: it (a loop); the value it ends on is sent when the kernel is free again (the cell has ended). A single change
    #: is sent at once, as is every change inside ``hold_sync``.
    T_SEND_MS = 20.0
    _t_sent_at = -1e9
    _t_flush = None

    def _should_send_property(self, key, value):
        send = super()._should_send_property(key, value)
        # A change made here (not one the page just sent, which super() declines to send back) is a new revision.
        if key in _PAGE_KEYS and (send or (self._holding_sync and key in self._states_to_send)):
            with self._revisions_lock:
                for k in (key, "t") if key == "sequence" else (key,):
                    self._revisions[k] = self._revisions.get(k, 0) + 1
        if key != "t" or not send:
            return send
        now = time.perf_counter()
        if (now - self._t_sent_at) * 1000 >= self.T_SEND_MS or not self._defer_t():
            self._t_sent_at = now
            return True
        return False

    # ---- the last writer wins, in the kernel's order -----------------------------------------------------
    # Each change of a _PAGE_KEYS trait made in the kernel bumps that key's revision, and the revisions travel with
    # the value (``_rev`` in the same update message). A page write of a key carries the revision of it the page
    # had seen (``_seen_<key>`` = [revision, write number]); a write of a key the kernel has changed since (the
    # page had not seen that yet: it was playing, or its message was queued or buffered) is refused and the
    # kernel's value is sent back. So ``ex.pause(); ex.t = 4`` while the page plays ends at 4 on both sides,
    # however late the page's last writes arrive.
    def get_state(self, key=None, drop_defaults=False):
        state = super().get_state(key, drop_defaults)
        if key is None or ({key} if isinstance(key, str) else set(key)) & _PAGE_KEYS:
            state["_rev"] = dict(self._revisions)
        return state

    def set_state(self, sync_data):
        seen = {k.removeprefix("_seen_"): sync_data.pop(k) for k in [k for k in sync_data if k.startswith("_seen_")]}
        with self._revisions_lock:
            stale = [k for k in sync_data if k in _PAGE_KEYS and _revision(seen.get(k)) < self._revisions.get(k, 0)]
            for k in stale:
                del sync_data[k]
            super().set_state(sync_data)
        if stale and self.comm is not None:
            self.send_state(stale)

    def _defer_t(self) -> bool:
        """Send ``t`` later, once the event loop runs again; False (send now) when there is no running loop."""
        if self._t_flush is not None:
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False

        def flush():
            self._t_flush = None
            self._t_sent_at = time.perf_counter()
            if self.comm is not None:
                self.send_state("t")

        self._t_flush = loop.call_later(self.T_SEND_MS / 1000, flush)
        return True

    # ---- validation of synced traits -----------------------------------------------------------------------
    @tl.validate("sequence")
    def _check_sequence(self, proposal):
        s, n = proposal["value"], len(self._recordings) or self._meta.get("n_sequences", 0)
        if isinstance(s, bool) or not 0 <= s < n:
            raise tl.TraitError(f"sequence {s} is out of range; expected 0..{n - 1}")
        return s

    @tl.validate("t")
    def _check_t(self, proposal):
        t = proposal["value"]
        lengths = self._meta.get("lengths") or [1]
        T = lengths[min(self.sequence, len(lengths) - 1)]
        if isinstance(t, bool) or not 0 <= t < T:
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
        quantities = getattr(self, "_quantities", LSTM_QUANTITIES)
        if q not in quantities:
            raise tl.TraitError(f"quantity {q!r} is not recorded; expected one of {', '.join(quantities)}")
        if getattr(self, "_recordings", None) and not getattr(self, f"_data_{q}"):
            try:  # it will be sent now: refuse (nothing changed) when it is too big for the page
                _check_page_bytes(sum(getattr(r, q).size for r in self._recordings), self._wire_dtype,
                                  f"quantity {q!r}")
            except ValueError as err:
                raise tl.TraitError(str(err)) from None
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

    # ---- the trajectory: what is projected, by what, and how it is drawn --------------------------------------
    def _check_projected(self, layer, quantity, error=tl.TraitError) -> None:
        """Refuse a layer row or quantity that cannot be projected (``error`` names the argument)."""
        names = self._layer_names
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(names):
            raise error(f"projection_layer {layer!r} is out of range; expected 0..{len(names) - 1} "
                        f"({', '.join(names)})")
        if quantity not in self._quantities:
            raise error(f"projection_quantity {quantity!r} is not recorded; expected one of "
                        f"{', '.join(self._quantities)}")

    def _fit_projection(self, recs, layer: int, quantity: str, given=None) -> tuple[Projection, np.ndarray]:
        """Fit the projection on ``quantity`` at ``layer`` over every step of ``recs``: (projection, coordinates).

        The transformer the user gave (``given``, else the current one) is used for the layer and quantity it was
        given for — as is when fitted, fitted in place when not; for any other layer or quantity an unfitted copy of
        it is fitted, so the user's object keeps what it learned."""
        given = self._projection_given if given is None else given
        states = _stacked(recs, layer, quantity)
        if isinstance(given, str) or (layer, quantity) == self._projection_given_for:
            return fit_projection(given, states)
        return fit_projection(unfitted_copy(given), states, refit=True)

    def _refit_request(self, name: str, layer, quantity):
        """Validate a new ``projection_layer`` / ``projection_quantity`` and refit for it, keeping the result until
        the trait is set (the observer then sends it). A failure changes nothing: TraitError, and a page that asked
        is sent the old value back so that it stops waiting."""
        key = (layer, quantity)
        if key == self._projection_key or not self._recordings:
            self._projection_pending = None
            return
        if self._projection_pending is not None and self._projection_pending[0] == key:
            return  # both traits changed at once: fitted already
        try:
            self._check_projected(layer, quantity)
            projection, traj = self._fit_projection(self._recordings, layer, quantity)
        except Exception as err:
            if name in getattr(self, "_property_lock", {}):  # the page asked: give it back the value still in force
                old = self._projection_key[0 if name == "projection_layer" else 1]
                self._send({"method": "update", "state": {name: old}, "buffer_paths": []})
            if isinstance(err, tl.TraitError):
                raise
            raise tl.TraitError(f"{name} {layer if name == 'projection_layer' else quantity!r}: the projection could "
                                f"not be refitted ({err}); nothing was changed") from err
        self._projection_pending = (key, projection, traj)

    @tl.validate("projection_layer")
    def _check_projection_layer(self, proposal):
        layer = proposal["value"]
        self._refit_request("projection_layer", layer, self.projection_quantity)
        return layer

    @tl.validate("projection_quantity")
    def _check_projection_quantity(self, proposal):
        quantity = proposal["value"]
        self._refit_request("projection_quantity", self.projection_layer, quantity)
        return quantity

    @tl.observe("projection_layer", "projection_quantity")
    def _send_projection(self, change):
        """Send the refitted trajectory (``_arrays.traj``) and ``_meta.projection`` together."""
        pending, self._projection_pending = self._projection_pending, None
        if pending is None or pending[0] != (self.projection_layer, self.projection_quantity):
            return
        key, projection, traj = pending
        self._apply_projection(key, projection, traj)

    def _apply_projection(self, key, projection: Projection, traj: np.ndarray) -> None:
        self._projection, self._projection_key = projection, key
        with self.hold_sync():
            self._arrays = {**self._arrays, "traj": encode_array(traj, self._wire_dtype)}
            self._meta = {**self._meta, "projection": projection.meta(*key)}

    def _overlay_classes(self) -> int:
        if self._class_names is not None:
            return len(self._class_names)
        known = [v for v in self._labels if v is not None]
        return max(known) + 1 if known else 0

    def _check_traj_view_value(self, view, error=tl.TraitError) -> dict:
        """``traj_view`` checked key by key (js/PROTOCOL.md); ``error`` names the key and what it accepts."""
        if not isinstance(view, dict):
            raise error(f"traj_view must be a dict with some of the keys {', '.join(TRAJ_VIEW_KEYS)}; "
                        f"got {type(view).__name__}")
        for key, value in view.items():
            if key not in TRAJ_VIEW_KEYS:
                raise error(f"traj_view has an unknown key {key!r}; expected some of {', '.join(TRAJ_VIEW_KEYS)}")
            if key == "dims":
                ok = value in (2, 3) and not isinstance(value, bool) and isinstance(value, (int, np.integer))
            elif key == "color":
                ok = value in ("time", "class", "group")
                # say it to Python users; a page writes back whatever it holds (and draws it as "class")
                from_page = "traj_view" in getattr(self, "_property_lock", {})
                if value == "group" and self._groups is None and not from_page:
                    raise error("traj_view['color'] 'group' needs per-sequence groups; pass "
                                "Explorer(..., groups=[one value per sequence])")
            elif key in ("log1p", "labels", "last_only"):
                ok = isinstance(value, (bool, np.bool_))
            elif key == "overlay":
                n = self._overlay_classes()
                ok = isinstance(value, (list, tuple)) and (
                    len(value) == 0
                    or (len(value) == 2 and value[0] != value[1]
                        and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < n
                                for c in value))
                )
                if not ok:
                    raise error(f"traj_view['overlay'] must be {TRAJ_VIEW_KEYS['overlay']} in 0..{n - 1}; "
                                f"got {value!r}")
            else:  # yaw, pitch
                ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
                    and bool(np.isfinite(value))
            if not ok:
                raise error(f"traj_view[{key!r}] must be {TRAJ_VIEW_KEYS[key]}; got {value!r}")
        return {k: (list(v) if k == "overlay" else v) for k, v in view.items()}

    @tl.validate("traj_view")
    def _check_traj_view(self, proposal):
        return self._check_traj_view_value(proposal["value"])

    @property
    def projection(self):
        """The fitted transformer that places the trajectory's points (``None`` while there was too little to fit
        and the first units are shown). Live steps and streamed sequences go through its ``transform``."""
        return self._projection.transformer

    def set_projection(self, projection, layer: int | None = None, quantity: str | None = None) -> None:
        """Project the trajectory with another transformer — "pca", "autoencoder", or a scikit-learn transformer
        (fitted: used as is; unfitted: fitted here on every loaded step) — optionally of another layer row and
        quantity (default: the current ``projection_layer`` / ``projection_quantity``). Everything is fitted before
        anything changes: an error leaves the explorer as it was."""
        layer = self.projection_layer if layer is None else layer
        quantity = self.projection_quantity if quantity is None else quantity
        self._check_projected(layer, quantity, ValueError)
        check_projection(projection)
        given_for = self._projection_given_for
        try:
            self._projection_given_for = (layer, quantity)
            fitted, traj = self._fit_projection(self._recordings, layer, quantity, given=projection)
        finally:
            self._projection_given_for = given_for
        self._projection_given, self._projection_given_for = projection, (layer, quantity)
        self._projection_pending = None
        with self.hold_sync(), self.hold_trait_notifications():  # both traits set before they are validated
            self._apply_projection((layer, quantity), fitted, traj)
            self.projection_layer, self.projection_quantity = layer, quantity  # already fitted: no refit

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

    def save_html(self, path, sequences=None, *, wire_dtype: str | None = None, title: str = "LSTM explorer",
                  quiet: bool = False) -> int:
        """Write a standalone HTML page that plays this explorer back with no kernel and no network (for course
        notes: it opens from ``file://``). Every view and every quantity of the chosen ``sequences`` (indices of the
        loaded ones; default all) is in the file, placed on the same trajectory map; the page opens on the current
        sequence, step, layer, quantity, units and trajectory options. ``wire_dtype="float16"`` about halves the
        size. Returns the size in bytes (and prints it unless ``quiet``)."""
        if not isinstance(path, (str, pathlib.PurePath)):
            raise TypeError(f"save_html path must be a str or pathlib.Path (the .html file to write); got "
                            f"{type(path).__name__}")
        index = self._export_index(sequences)
        dtype = self._wire_dtype if wire_dtype is None else check_wire_dtype(wire_dtype)
        recs = [self._recordings[i] for i in index]
        meta, traits = self._assemble(recs, index=index, wire_dtype=dtype, load=self._quantities)
        if self._spec is not None:  # every layer's weights: the page has no kernel to ask for another layer's
            rows = range(len(self._layer_names))
            traits["_weights"] = {"rows": {str(k): self._weights_entry(k, dtype) for k in rows}}
        shown = index.index(self.sequence) if self.sequence in index else 0
        state = {
            "_meta": meta, **traits,
            "t": min(self.t, meta["lengths"][shown] - 1), "sequence": shown, "layer": self.layer,
            "quantity": self.quantity, "selected_units": list(self.selected_units), "playing": False,
            "speed": self.speed, "projection_layer": self.projection_layer,
            "projection_quantity": self.projection_quantity, "traj_view": dict(self.traj_view),
            "gate_details": self.gate_details,
        }  # fmt: skip
        state.update(self._why_export_state(index))  # the Why section as shown, for these sequences (_why.py)
        note = f"{len(recs)} sequence{'s' if len(recs) != 1 else ''} recorded with lstm_widget; plays back offline."
        size = write_html(path, state, title=str(title), note=note)
        if not quiet:
            print(f"wrote {path}: {size / 2**20:.2f} MiB ({len(recs)} sequences, {dtype})")
        return size

    def _export_index(self, sequences) -> list[int]:
        n = len(self._recordings)
        if sequences is None:
            return list(range(n))
        if isinstance(sequences, slice):
            index = list(range(n))[sequences]
        else:
            items = [sequences] if np.isscalar(sequences) else list(np.asarray(sequences, dtype=object).reshape(-1))
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in items):
                raise TypeError(f"sequences must be indices of the loaded sequences (ints 0..{n - 1}) or a slice; "
                                f"got {sequences!r}")
            index = [int(v) for v in items]
        bad = [v for v in index if not 0 <= v < n]
        if bad or not index or len(set(index)) != len(index):
            what = f"{bad[0]} is out of range" if bad else "it is empty" if not index else "it repeats an index"
            raise ValueError(f"sequences {sequences!r}: {what}; expected distinct indices 0..{n - 1}")
        return index

    def stream(self, x, *, name: str | None = None, label: int | None = None, group=None, fps: float | None = None,
               batch_ms: float = 16.0) -> Recording:
        """Step a new sequence ``x`` (T, D) through the kernel one step at a time, appending every frame to the page
        as it is computed (binary custom messages, about one per ``batch_ms``); afterwards the traits hold the new
        sequence too, so a saved notebook shows it. ``fps`` slows the stepping down to watch it. ``group`` is the new
        sequence's value of ``groups`` (default: none, drawn in a neutral colour). Its trajectory is placed on the map
        the projection was fitted on (its ``transform``; no refit). A small CPU model (fewer than
        ``ONE_THREAD_BELOW`` recurrent weights, lstm_widget/_core/recording/stepper.py) is stepped on one torch thread, torch's
        setting restored afterwards. Returns the recording."""
        if self._spec is None:
            raise RuntimeError("this Explorer was made from recordings, without a model: it cannot step new sequences")
        x = check_sequence(x, self._spec.raw_features, "the streamed sequence")
        label = _check_label(label, "label")
        if label is not None and self._class_names is not None and not 0 <= label < len(self._class_names):
            raise ValueError(f"label {label} is out of range; expected 0..{len(self._class_names) - 1}")
        if fps is not None and not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps {fps} must be a positive number of steps per second")
        first = self._recordings[0]  # refuse up front (nothing sent) what the traits could not hold afterwards
        per_step = first.inputs.shape[1] + (0 if first.probs is None else first.probs.shape[1]) \
            + int(self._arrays["traj"]["shape"][1]) + sum(getattr(first, q)[:, 0].size for q in self.loaded_quantities)
        _check_page_bytes(per_step * (sum(len(r) for r in self._recordings) + x.shape[0]), self._wire_dtype,
                          "showing these sequences")
        stepper = Stepper.from_spec(self._spec)
        s = len(self._recordings)
        name = str(name) if name is not None else f"sequence {s}"
        self.send({"type": "begin", "sequence": s, "name": name, "label": None if label is None else int(label)})
        frames, pending, last_send = [], [], time.perf_counter()
        with stepping_threads(self._spec):
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
        if self._groups is not None:
            self._groups = (self._groups[0], self._groups[1] + [None if group is None else str(group)])
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
        layer, quantity = self._projection_key
        fields["traj"] = self._projection.transform(getattr(chunk, quantity)[layer])  # the fitted map: no refit
        descs, buffers = split_message(fields, self._wire_dtype)
        self.send({"type": "append", "sequence": s, "start": start, "fields": descs}, buffers)


#: The traits both the page and Python write (js/src/store.js SYNCED_KEYS): the public synced ones the Explorer
#: declares. The last writer wins, in the kernel's order (Explorer.set_state).
_PAGE_KEYS = frozenset(name for name in Explorer.class_trait_names(sync=True)
                       if not name.startswith("_") and name not in anywidget.AnyWidget.class_trait_names())


def _recording_from_frames(frames, layer_names) -> Recording:
    probs = None if frames[0].probs is None else np.stack([f.probs for f in frames])
    logits = None if frames[0].logits is None else np.stack([f.logits for f in frames])
    return Recording(
        inputs=np.stack([f.inputs for f in frames]),
        logits=logits,
        probs=probs,
        layer_names=tuple(layer_names),
        **{q: np.stack([getattr(f, q) for f in frames], axis=1) for q in frames[0].quantities},
    )
