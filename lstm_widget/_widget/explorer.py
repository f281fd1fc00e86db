"""The Explorer widget: its traits (js/PROTOCOL.md) and the methods a notebook user calls.

Everything else is a collaborator the explorer holds, each in a module of its own: :class:`~.payload.Loaded` (the
sequences shown, what was said about them, and the data traits built from them), :class:`~.trajectory.Trajectory`
(the projection), :class:`~.why.WhyController` (the "Why" section's payloads), fixedpoints.py (the fixed points
drawn on the trajectory map), :class:`~.recorded.StorePager` (a recorded data set read one window at a time) and
:class:`~.sync.PageSync` (the base class: revisions and throttling). The observers that turn a trait change into work
are all here, grouped by section.
"""

from __future__ import annotations

import pathlib
import threading
import time

import numpy as np
import torch
import traitlets as tl

import lstm_widget

from .._core.analysis.attribution import METHODS
from .._core.model import LSTM_QUANTITIES, gate_weights
from .._core.model.adapters import _AUTO
from .._core.model.gates import GATES
from .._core.projection.fit import check_projection
from .._core.recording import Recording, record
from .._core.recording.observe import check_token_sequence, token_embedding
from .._core.recording.stepper import stepping_threads
from .._core.validate import check_sequence, check_text, is_int, to_numpy
from .._wire import Array, ArrayTree, check_wire_dtype, split_message, to_wire
from .export import EXPORT_PAGE_BYTES, export_bundle, wire_arrays, write_html
from .fixedpoints import check_fixed_points, check_request, fixed_points_payload, page_fixed_points
from .options import ViewOptions, check_label, check_traj_view
from .payload import (
    Loaded,
    check_page_bytes,
    check_sizes_before_recording,
    default_projection_row,
    describe_index,
    export_index,
    neighbours_within,
    recording_from_frames,
    shown_inputs,
    token_ids,
)
from .recorded import DEFAULT_WINDOW, StorePager, int_in
from .source import ModelSource, described
from .static import bundle
from .sync import PageSync
from .training import TrainingEpochs
from .trajectory import Trajectory
from .why import WhyController, why_export_state

#: The fastest play-back the page is asked for, in steps per second (the page offers 0.5 … 1024).
MAX_SPEED = 1024.0

#: The values of ``Explorer.color_scale`` (js/src/colorscale.js COLOR_SCALES): how the heatmap's diverging map of a
#: signed quantity is scaled. "sequence": to the shown sequence's max |value|; "unit": each unit (row) to its own max
#: |value| over the sequence; "global": to the max |value| over every loaded sequence (``_meta.limits``); "auto"
#: (the default): "sequence" for the cell state c, which no squashing bounds (one long sequence's large values would
#: wash every other out), and "global" for h and the candidates, which tanh keeps within ±1 (one range keeps
#: sequences comparable). Gates squashed to [0, 1] are always drawn on 0..1.
COLOR_SCALES = ("auto", "sequence", "unit", "global")


class Explorer(PageSync):
    """A live, linked view inside a recurrent network: timeline, heatmap, traces, trajectory, inputs, predictions
    and gates, all following one cursor.

    ``Explorer(model, sequences, labels=None, class_names=None, feature_names=None)`` records every sequence with
    :func:`lstm_widget.record` and shows them; ``t``, ``sequence``, ``layer``, ``quantity``, ``selected_units``,
    ``playing`` and ``speed`` are synced both ways with the page.

    Options (keywords; the same for :meth:`from_recordings` and :meth:`from_dataset`): ``labels`` (a class index or
    None per sequence), ``class_names``, ``feature_names``, ``sequence_names``, ``projection``,
    ``projection_layer``, ``projection_quantity``, ``groups``, ``group_name``, ``wire_dtype`` ("float32",
    "float16" or "uint8": how arrays travel to the page), ``preload`` ("auto", "all", or the quantities to send
    up front), ``tokens`` (a token model's vocabulary: a list id → string, or a callable id → string; it labels every
    step, and the page adds a text view), ``top_k`` (default 10: the next tokens listed per step when a token
    model's head has more than 20 classes) and ``targets`` (not for :meth:`from_dataset`: per-step real targets of a
    regression, a list with one (T,) or (T, k) array per sequence, T the steps of its timeline, NaN where a step has
    none; the page draws them beside the predicted values with the error at t, and can colour the trajectory by
    them); any other keyword is the first value of a trait (``t``, ``quantity``, ``traj_view``, ``why_open``…).
    The sequences are recorded by :func:`lstm_widget.record` through the model's own forward: ``lstm``, ``head``,
    ``task``, ``forward`` and ``lengths`` mean what they mean there (token ids for a model with an ``nn.Embedding``;
    every recurrent module the forward calls, on one timeline; a regression's raw outputs). Streaming, influence,
    interventions and the per-gate weights are computed from the model's weights, so they need a model that runs
    one recurrent module and can be stepped exactly (see :class:`~lstm_widget.Stepper`); for any other the page says
    why in one line (``_meta.model_note``).

    The trajectory view shows ``projection_quantity`` (default "h") at layer row ``projection_layer`` (default: the
    last layer's forward direction) of every step, mapped to 2-D/3-D by ``projection``: "pca" (3 components when
    there are ≥ 3 units), "autoencoder" (a :class:`~lstm_widget.DenoisingAutoencoder` with a 2-unit bottleneck; pass
    ``DenoisingAutoencoder(n_components=3)`` for 3-D) or any scikit-learn transformer — fitted (used as is) or
    unfitted (fitted on the states of all loaded sequences). Changing ``projection_layer`` or
    ``projection_quantity`` (here or in the page) refits it; :meth:`set_projection` swaps the transformer; live steps
    and streamed sequences are placed with its ``transform``. ``groups`` (one value per sequence, named
    ``group_name``) lets the page colour paths by group; ``traj_view`` says how the page draws the trajectory (keys
    in ``TRAJ_VIEW_KEYS``, js/PROTOCOL.md). ``fixed_points`` (a :class:`~lstm_widget.FixedPoints` of a layer row, or
    None) is drawn on the trajectory map through the same projection; the page's "fixed points" button asks for those
    of the current sequence's mean input (``fixed_points_request``).

    An LSTM shows h, c, i, f, g, o; a GRU h, r, z, n (``_meta.quantities``). ``gate_details`` opens the page's
    "Gates & weights" section (closed by default, so the first page stays light): the chosen ``layer``'s W, U and b
    split per gate under the names of the framework the model came from (:attr:`weights`,
    :func:`lstm_widget.gate_weights`) next to each gate's activation over time, and the gate saturation scatter; it is
    sent only while the section is open.

    The "Why" section (``why_open``): the influence of past inputs on the prediction (``influence_method``), the
    units that separate the classes, an intervention or another input shown beside the original (:meth:`intervene`,
    :meth:`compare`, ``comparison``) and the places where a pattern of units switches on (:meth:`find_pattern`,
    ``pattern_query``).
    """

    _esm = bundle("widget.js")
    _source = None  # the model (ModelSource) of an explorer made from one; None from recordings or a store
    _meta = tl.Dict().tag(sync=True)
    _arrays = ArrayTree()  # inputs, probs, traj
    # one trait per quantity, so that loading one on demand sends only its bytes (None, sent as {}, until loaded)
    _data_h = Array()
    _data_c = Array()
    _data_i = Array()
    _data_f = Array()
    _data_g = Array()
    _data_o = Array()
    _data_r = Array()  # a GRU's gates (an LSTM leaves them None, a GRU leaves c, i, f, g, o None)
    _data_z = Array()
    _data_n = Array()
    # the chosen layer row's weights split per gate, sent while the page's "Gates & weights" section is open
    _weights = ArrayTree()

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
    # the "Why" section: every request is a synced trait whose change is the request (see the Why observers below)
    why_open = tl.Bool(
        False, help="whether the page's Why section is open (opening it is the request for _influence and _ranking)"
    ).tag(sync=True)
    influence_method = tl.Unicode("gradient_x_input", help="'gradient_x_input' or 'integrated_gradients'").tag(
        sync=True
    )
    comparison = tl.Dict(
        help="what is shown beside the original: {} or an intervention / a comparison "
        "(js/PROTOCOL.md); set by intervene(), compare() and the page"
    ).tag(sync=True)
    pattern_query = tl.Dict(
        help="{} or {sequence, start, stop, threshold, layer, quantity, margin}: the pattern search to run"
    ).tag(sync=True)
    # the heatmap's colour range (the page's "scale" select writes it too)
    color_scale = tl.Unicode(
        "auto",
        help="the heatmap's colour range: 'auto' (per sequence for c, global otherwise), 'sequence', 'unit' or 'global'",
    ).tag(sync=True)
    _influence = ArrayTree()
    _ranking = ArrayTree()
    _comparison = ArrayTree()
    _patterns = ArrayTree()
    # the trajectory's fixed points (fixedpoints.py): set from Python, or asked for from the page by a request
    fixed_points = tl.Any(None, help="a FixedPoints (lstm_widget.fixed_points) drawn on the trajectory map, or None")
    fixed_points_request = tl.Dict(
        help="{} or {sequence, layer}: the page asks for the fixed points of a sequence's mean input"
    ).tag(sync=True)
    _fixed_points = ArrayTree()
    _fp_pending = None  # (request, FixedPoints | reason, sequence): computed by the request's validator
    _fp_incoming = None  # (request, about) of points a request found, handed to the fixed_points observer
    _fp_source = None  # (request, about) of the points being shown, when a request found them
    _fp_fitted = None  # the fitted projection the points were placed with

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
        task="auto",
        forward=None,
        lengths=None,
        **options,
    ):
        opts, traits = ViewOptions.split(
            options, labels=labels, class_names=class_names, feature_names=feature_names, sequence_names=sequence_names
        )
        # the sizes are checked from the sequences' shapes before anything runs (a model of several recurrent
        # modules has no one description: record's own checks apply)
        description = described(model, lstm=lstm, head=head, forward=forward)
        if description[0] is not None:
            check_sizes_before_recording(description[0], sequences, opts.wire_dtype)
        recs = record(model, sequences, lstm=lstm, head=head, task=task, forward=forward, lengths=lengths)
        recs = recs if isinstance(recs, list) else [recs]
        source = ModelSource(model, description, recs[0].layer_names, lstm=lstm, head=head, forward=forward, task=task)
        self._source = source
        embedding = token_embedding(model)
        n_ids = None if embedding is None else embedding[1].num_embeddings
        self._start(Loaded(recs, source.spec, opts, traits.get("quantity", "h"), source.note, n_ids), opts, traits)

    @classmethod
    def from_recordings(
        cls, recordings, labels=None, class_names=None, feature_names=None, sequence_names=None, **options
    ) -> Explorer:
        """Show recordings made earlier with :func:`lstm_widget.record`, without the model (no live streaming).
        Options as in :class:`Explorer`."""
        recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
        if not recs or not all(isinstance(r, Recording) for r in recs):
            raise TypeError(
                "from_recordings expects a Recording or a non-empty list of Recordings from lstm_widget.record"
            )
        names = {r.layer_names for r in recs}
        if (
            len(names) != 1
            or len({r.h.shape[2] for r in recs}) != 1
            or len({shown_inputs(r).shape[1:] for r in recs}) != 1
            or len({r.cell for r in recs}) != 1
        ):
            raise ValueError("the recordings come from different models (layers, units or features differ)")
        opts, traits = ViewOptions.split(
            options, labels=labels, class_names=class_names, feature_names=feature_names, sequence_names=sequence_names
        )
        self = cls.__new__(cls)
        self._start(Loaded(recs, None, opts, traits.get("quantity", "h")), opts, traits)
        return self

    @classmethod
    def from_dataset(
        cls,
        dataset,
        labels=None,
        class_names=None,
        feature_names=None,
        sequence_names=None,
        *,
        window: int = DEFAULT_WINDOW,
        start: int = 0,
        **options,
    ) -> DatasetExplorer:
        """Explore a store written by :func:`lstm_widget.record_dataset` (a path or :func:`lstm_widget.open_dataset`)
        lazily: only ``window`` consecutive sequences (from ``start``) are read and sent to the page; set
        ``window_start`` to show another window. ``labels``, ``sequence_names`` and ``groups`` have one entry per
        sequence of the store. The trajectory is fitted over every step of the store with ``partial_fit``
        (``projection``: "pca" → IncrementalPCA, a transformer with ``partial_fit``, or a fitted one), and every step
        of the store is placed on that map and sent too, for the page to draw the whole data set behind the window
        (``_dataset_traj``, js/PROTOCOL.md). Other keywords as in :class:`Explorer`; returns a ``DatasetExplorer``."""
        if options.get("targets") is not None:
            raise ValueError(
                "targets= is not taken by from_dataset (a store's sequences are read a window at a time); show them "
                "with Explorer.from_recordings(ds[a:b], targets=[...]) or Explorer(model, sequences, targets=[...])"
            )
        pager = StorePager.open(dataset, window, start, labels, sequence_names, options.get("groups"))
        opts, traits = ViewOptions.split(options, class_names=class_names, feature_names=feature_names)
        if opts.class_names is None and "probs" not in pager.dataset.arrays and pager.class_count():
            # no predictions: the classes are those the labels of the whole store name, not only the first window's
            opts.class_names = [f"class {k}" for k in range(pager.class_count())]
        # the trajectory: fitted on every step of the store before anything is read for the page
        layer = pager.check_projected(opts.projection_layer, opts.projection_quantity)
        fitted = pager.fit_over_store(opts.projection, layer, opts.projection_quantity)
        recs, opts.labels, opts.sequence_names, opts.groups = pager.window(start, as_given=True)
        opts.projection, opts.projection_layer = fitted, layer
        loaded = Loaded(recs, None, opts, traits.get("quantity", "h"))
        pager.check_labels(loaded.class_names)  # every label of the store, not just the window's
        self = DatasetExplorer.__new__(DatasetExplorer)
        self._start(loaded, opts, {**traits, "window_start": start, "window_size": pager.size}, pager=pager)
        return self

    @classmethod
    def from_training(
        cls,
        training,
        labels=None,
        class_names=None,
        feature_names=None,
        sequence_names=None,
        *,
        epoch=None,
        projection_fit: str = "last",
        **options,
    ) -> TrainingExplorer:
        """Watch a network learn: the probe sequences of a :class:`~lstm_widget.TrainingRecorder` at every recorded
        epoch, with an epoch axis beside time — ``epoch`` (synced; one of ``training.epochs``, default the last), a
        slider with play and the ``[`` / ``]`` keys in the page, and the metrics given to ``snapshot`` drawn with the
        epoch cursor. Every view shows the chosen epoch; the trajectory uses one projection for all epochs, fitted on
        the last snapshot (``projection_fit="last"``, the default) or on all of them (``"all"``). ``labels`` default
        to the recorder's. Other keywords as in :class:`Explorer`. The explorer is made from recordings (no model):
        the weights view, influence and interventions need the model of one epoch — use ``Explorer(model, probes)``
        for those. Returns a ``TrainingExplorer``."""
        epochs = TrainingEpochs(training, projection_fit)
        epoch = epochs.check(epochs.epochs[-1] if epoch is None else epoch)
        if labels is None and training.labels is not None:
            labels = training.labels
        opts, traits = ViewOptions.split(
            options, labels=labels, class_names=class_names, feature_names=feature_names, sequence_names=sequence_names
        )
        self = TrainingExplorer.__new__(TrainingExplorer)
        self._epochs, self._shown_epoch = epochs, epoch
        loaded = Loaded(epochs.recordings(epoch), None, opts, traits.get("quantity", "h"))
        # the projection: fitted on the last (or every) epoch before the explorer is built, then used as is
        self._loaded = loaded
        layer = default_projection_row(loaded.layer_names) if opts.projection_layer is None else opts.projection_layer
        self._check_projected(layer, opts.projection_quantity, ValueError)
        fitted = epochs.fitted(opts.projection, layer, opts.projection_quantity)
        opts.projection, opts.projection_layer = "pca" if fitted is None else fitted, layer
        self._start(loaded, opts, {**traits, "epoch": epoch})
        self._trajectory.fit_store = epochs.fit  # a refit (another layer, set_projection) spans the epochs too
        return self

    def _start(self, loaded: Loaded, opts: ViewOptions, traits: dict, pager: StorePager | None = None) -> None:
        """Build the explorer. Everything is checked and computed before the widget exists: a bad argument leaves
        nothing half-built."""
        self._loaded, self._pager, self._ready = loaded, pager, False
        self._stream_lock = threading.Lock()
        layer = default_projection_row(loaded.layer_names) if opts.projection_layer is None else opts.projection_layer
        quantity = opts.projection_quantity
        self._check_projected(layer, quantity, ValueError)
        self._trajectory = Trajectory(opts.projection, (layer, quantity), None if pager is None else pager.fit)
        fitted, traj = self._trajectory.fit(loaded.recordings, layer, quantity)
        self._trajectory.use((layer, quantity), fitted)
        if "traj_view" in traits:
            traits["traj_view"] = self._check_traj_view_value(traits["traj_view"], ValueError)
        self._why = WhyController(loaded, self._trajectory)
        meta, arrays = self._assemble(traj=traj, window_start=traits.get("window_start"))
        arrays.update(self._projection_followers(fitted, (layer, quantity)))
        super().__init__(_meta=meta, **arrays, projection_layer=layer, projection_quantity=quantity, **traits)
        self._ready = True
        if self.gate_details:
            self._open_gate_details()
        self._why_init()
        if self.fixed_points is not None:
            self._place_fixed_points()

    def _assemble(self, content=None, traj=None, window_start=None) -> tuple[dict, dict]:
        """``_meta`` and the data traits for ``content`` (default: what is loaded; see ``Loaded.assemble``), with the
        quantities the page already has."""
        meta, traits = self._loaded.assemble(
            self._trajectory.fitted,
            self._trajectory.key,
            traj,
            content=content,
            have=self.loaded_quantities if self._ready else (),
        )
        if self._pager is not None:
            meta["dataset"] = self._pager.meta(self.window_start if window_start is None else window_start)
        return meta, traits

    # ---- what users call ------------------------------------------------------------------------------------
    @property
    def recordings(self) -> list[Recording]:
        """Every loaded sequence's :class:`~lstm_widget.Recording`, in picker order."""
        return list(self._loaded.recordings)

    @property
    def recording(self) -> Recording:
        """The recording of the sequence shown."""
        return self._loaded.recordings[self.sequence]

    @property
    def frame(self):
        """The :class:`~lstm_widget.Frame` at the cursor."""
        return self.recording.frame(self.t)

    @property
    def loaded_quantities(self) -> list[str]:
        """The quantities whose data is on the page (and in a saved notebook or export)."""
        return [q for q in self._loaded.quantities if getattr(self, f"_data_{q}") is not None]

    @property
    def weights(self):
        """The :class:`~lstm_widget.GateWeights` of the layer row the page shows (``layer``), in the names of the
        framework the model came from; None for an explorer made from recordings."""
        spec = self._loaded.spec
        return None if spec is None else gate_weights(spec, self._loaded.layer_names[self.layer])

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

    def save_html(
        self, path, sequences=None, *, wire_dtype: str | None = None, title: str = "LSTM explorer", quiet: bool = False
    ) -> int:
        """Write a standalone HTML page that plays this explorer back with no kernel and no network (for course
        notes: it opens from ``file://``). Every view and every quantity of the exported sequences is in the file,
        placed on the same trajectory map; the page opens on the current sequence, step, layer, quantity, units and
        trajectory options.

        ``sequences``: None (default) exports the current sequence and as many of its neighbours as keep the file
        within ``lstm_widget.EXPORT_BUDGET`` bytes (4 MiB; the current one alone when it is bigger); ``"all"`` every
        loaded sequence; or indices of the loaded ones (a list, an int or a slice). ``wire_dtype="float16"`` about
        halves the size, so twice as many neighbours fit. Returns the size in bytes, and prints what was exported and
        its size unless ``quiet`` ("saved lesson.html: sequences 3–12 of 370, 3.91 MiB, float32")."""
        if not isinstance(path, (str, pathlib.PurePath)):
            raise TypeError(
                f"save_html path must be a str or pathlib.Path (the .html file to write); got {type(path).__name__}"
            )
        title = check_text(str(title), "title")  # before anything is built or written
        loaded = self._loaded
        n = len(loaded.recordings)
        dtype = loaded.wire_dtype if wire_dtype is None else check_wire_dtype(wire_dtype)
        weights = None
        if loaded.spec is not None:  # every layer's weights: the page has no kernel to ask for another layer's
            weights = {"rows": {str(k): loaded.weights_entry(k, dtype) for k in range(len(loaded.layer_names))}}
        why = ("why_open", "influence_method", "_ranking", "_influence", "_comparison", "pattern_query", "_patterns")
        shown_why = {k: getattr(self, k) for k in why}
        if sequences is None:
            index = self._export_neighbours(dtype, weights, shown_why)
        else:
            index = export_index(sequences, n)
        recs = [loaded.recordings[i] for i in index]
        meta, traits = loaded.assemble(
            self._trajectory.fitted,
            self._trajectory.key,
            recs=recs,
            index=index,
            wire_dtype=dtype,
            load=loaded.quantities,
        )
        if weights is not None:
            traits["_weights"] = weights
        shown = index.index(self.sequence) if self.sequence in index else 0
        state = {
            "_meta": meta, **traits,
            "t": min(self.t, meta["lengths"][shown] - 1), "sequence": shown, "layer": self.layer,
            "quantity": self.quantity, "selected_units": list(self.selected_units), "playing": False,
            "speed": self.speed, "projection_layer": self.projection_layer,
            "projection_quantity": self.projection_quantity, "traj_view": dict(self.traj_view),
            "gate_details": self.gate_details, "color_scale": self.color_scale,
        }  # fmt: skip
        state.update(why_export_state(shown_why, index, self.sequence))
        if self._fixed_points:  # the points as drawn (their map is the export's); no kernel there to ask for others
            state["_fixed_points"] = {**self._fixed_points, "request": {}}
        state, more = self._export_hook(state, index, dtype)
        note = f"{len(recs)} sequence{'s' if len(recs) != 1 else ''} recorded with lstm_widget; plays back offline."
        size = write_html(path, to_wire(state), title=title, note=note + more)
        if not quiet:
            what = describe_index(index, n)
            if sequences is None and len(index) < n:
                budget = lstm_widget.EXPORT_BUDGET / 2**20
                copies = self._export_copies()
                over = f", divided over {copies} epochs" if copies > 1 else ""
                what += (
                    f' (the current one and its neighbours within {budget:g} MiB{over}; sequences="all" for every one)'
                )
            print(f"saved {path}: {what}, {size / 2**20:.2f} MiB, {dtype}")
        return size

    def _export_hook(self, state: dict, index: list[int], dtype: str) -> tuple[dict, str]:
        """What a subclass adds to an export's state (the training explorer: every epoch's data), and to its note."""
        return state, ""

    def _export_copies(self) -> int:
        """How many times an export writes each sequence's data (the training explorer: once per exported epoch)."""
        return 1

    def _export_neighbours(self, dtype: str, weights, shown_why: dict) -> list[int]:
        """The sequences :meth:`save_html` exports by default: the current one and the neighbours that keep the
        file within ``lstm_widget.EXPORT_BUDGET`` bytes, from an estimate of what each adds (its values in the wire
        dtype, as base64, times :meth:`_export_copies`) beside what every export holds (the front end, the weights,
        the Why section)."""
        loaded = self._loaded
        per_step = loaded.bytes_per_step(loaded.quantities, self._arrays["traj"].shape[1], dtype)
        names = loaded.sequence_names
        sizes = [(len(r) * per_step) * 4 // 3 + 64 + 2 * len(str(names[k])) for k, r in enumerate(loaded.recordings)]
        arrays = [a for tree in (weights or {}, shown_why) for a in wire_arrays(tree)]
        fixed = len(export_bundle()) + sum(a.nbytes for a in arrays) * 4 // 3 + EXPORT_PAGE_BYTES
        copies = self._export_copies()
        return neighbours_within(self.sequence, sizes, max(0, lstm_widget.EXPORT_BUDGET - fixed) // copies)

    def stream(
        self,
        x,
        *,
        name: str | None = None,
        label: int | None = None,
        group=None,
        fps: float | None = None,
        batch_ms: float = 16.0,
    ) -> Recording:
        """Step a new sequence ``x`` (T, D) — token ids (T,) for a token model — through the kernel one step at a time, appending every frame to the page
        as it is computed (binary custom messages, about one per ``batch_ms``); afterwards the traits hold the new
        sequence too, so a saved notebook shows it. ``fps`` slows the stepping down to watch it. ``group`` is the new
        sequence's value of ``groups`` (default: none, drawn in a neutral colour). Its trajectory is placed on the map
        the projection was fitted on (its ``transform``; no refit). A small CPU model (fewer than
        ``ONE_THREAD_BELOW`` recurrent weights, see :class:`~lstm_widget.Stepper`) is stepped on one torch thread,
        torch's setting restored afterwards. Returns the recording.

        A stream is a transaction: the page shows the new sequence as provisional ("streaming…") until it ends; when
        anything fails on the way (a hook raises, the kernel is interrupted) the page drops it and goes back to the
        sequence and step Python holds, nothing in the explorer changes, and the error is raised. Streams from two
        threads into one explorer run one after the other."""
        with self._stream_lock:  # a second thread's stream waits for this one to end (its messages never interleave)
            return self._stream_locked(x, name, label, group, fps, batch_ms)

    def _stream_locked(self, x, name, label, group, fps, batch_ms) -> Recording:
        """:meth:`stream`, run while holding the stream lock: a transaction (js/PROTOCOL.md, "Streams"). The page
        is sent ``begin``, then ``append`` s while stepping; the traits are committed and ``end`` is sent once every
        step is recorded and placed. Any exception before the commit (a hook that raises, KeyboardInterrupt, a
        projection that cannot place the new states) sends ``abort`` with the sequence and step Python holds, leaves
        every trait as it was and is raised again."""
        loaded = self._loaded
        if self._pager is not None:
            raise RuntimeError(
                "an explorer over a recorded data set shows the store's sequences; it cannot step new "
                "ones (use Explorer(model, sequences) for that)"
            )
        if loaded.spec is None:
            raise RuntimeError(
                f"this Explorer cannot step new sequences: {loaded.spec_note}"
                if loaded.spec_note
                else "this Explorer was made from recordings, without a model: it cannot step new sequences"
            )
        stepper = self._source.stepper()
        if loaded.tokens:
            x = check_token_sequence(x, self._source.model, "the streamed sequence")
        else:
            x = check_sequence(x, loaded.spec.raw_features, "the streamed sequence")
        label = check_label(label, "label")
        if label is not None and loaded.class_names is not None and not 0 <= label < len(loaded.class_names):
            raise ValueError(f"label {label} is out of range; expected 0..{len(loaded.class_names) - 1}")
        if group is not None:
            check_text(str(group), "group")
        if fps is not None and not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps {fps} must be a positive number of steps per second")
        # refuse up front (nothing sent) what the traits could not hold afterwards
        floats, ints = loaded.values_per_step(self.loaded_quantities, self._arrays["traj"].shape[1])
        steps = sum(len(r) for r in loaded.recordings) + x.shape[0]
        check_page_bytes(floats * steps, loaded.wire_dtype, "showing these sequences", int32_values=ints * steps)
        s = len(loaded.recordings)
        name = check_text(str(name), "name") if name is not None else f"sequence {s}"
        self.send({"type": "begin", "sequence": s, "name": name, "label": None if label is None else int(label)})
        try:
            embed = self._embedding_of(stepper) if loaded.tokens else None
            # the top-k's rank of the actual next token at a chunk's last step is known with the next chunk: each
            # chunk after the first starts with the step before it again (sent again, its rank now known)
            again = 1 if loaded.shows_top_k else 0
            frames, pending, last_send = [], [], time.perf_counter()
            with stepping_threads(loaded.spec):
                for t in range(x.shape[0]):
                    started = time.perf_counter()
                    frames.append(stepper.step(x[t]))
                    pending.append(frames[-1])
                    now = time.perf_counter()
                    if (now - last_send) * 1000 >= batch_ms or t == x.shape[0] - 1:
                        self._send_frames(s, t + 1 - len(pending), pending, embed)
                        pending, last_send = frames[len(frames) - again :], now
                    if fps is not None:
                        time.sleep(max(0.0, 1.0 / fps - (time.perf_counter() - started)))
            rec = recording_from_frames(frames, loaded.layer_names, embed)
            grown = loaded.appended(rec, None if label is None else int(label), name, group)
            meta, traits = self._assemble(grown)
        except BaseException as err:  # KeyboardInterrupt too: the page drops the sequence, then the error goes on
            self._send_abort(s, err)
            raise
        with self.hold_sync():
            loaded.replace(*grown)
            self._meta = meta
            for trait, value in traits.items():
                setattr(self, trait, value)
            self.sequence = s
            self.t = len(rec) - 1
        self.send({"type": "end", "sequence": s})  # after the traits: the page commits what Python now holds
        return rec

    def _send_abort(self, s: int, err: BaseException) -> None:
        """Tell the page that the stream of sequence ``s`` failed: it removes the sequence and shows the sequence and
        step Python holds. A comm that cannot send any more (the kernel going away) is not an error of its own."""
        reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        try:
            self.send(
                {"type": "abort", "sequence": s, "reason": reason, "state": {"sequence": self.sequence, "t": self.t}}
            )
        except Exception:  # the original error is the one to raise
            pass

    @staticmethod
    def _embedding_of(stepper):
        """For a token model: ids (n,) → what its recurrent module receives for each (n, D), the inputs view's rows."""
        spec = stepper.spec

        def embed(ids):
            batch = torch.as_tensor(np.asarray(ids, np.int64), device=spec.device).reshape(1, -1)
            with torch.no_grad():
                return to_numpy(spec.preprocess(batch)[0], np.float32)

        return embed

    def _send_frames(self, s: int, start: int, frames, embed=None) -> None:
        """Append ``frames`` to sequence ``s`` in the page: the quantities it has loaded, inputs, probs or outputs,
        token ids, trajectory."""
        loaded = self._loaded
        chunk = recording_from_frames(frames, loaded.layer_names, embed)
        fields = {"inputs": shown_inputs(chunk), **{q: getattr(chunk, q) for q in self.loaded_quantities}}
        ints = {}  # ids and ranks travel as int32 whatever the wire dtype
        if embed is not None:
            ints["token_ids"] = token_ids(chunk)
        if chunk.probs is not None and loaded.shows_top_k:
            ranked = loaded.top_k_fields([chunk])
            fields["topk_probs"], fields["next_prob"] = ranked.pop("topk_probs"), ranked.pop("next_prob")
            ints.update(ranked)
        elif chunk.probs is not None:
            fields["probs"] = chunk.probs
        if loaded.task == "regression":
            fields["outputs"] = chunk.outputs
        fields["traj"] = self._trajectory.place(chunk)  # the fitted map: no refit
        descs, buffers = split_message(fields, loaded.wire_dtype)
        if ints:
            int_descs, int_buffers = split_message(ints, "int32")
            descs, buffers = [*descs, *int_descs], [*buffers, *int_buffers]
        self.send({"type": "append", "sequence": s, "start": start, "fields": descs}, buffers)

    # ---- the cursor and the heatmap: validation, and a quantity sent when first chosen --------------------------
    @tl.validate("sequence")
    def _check_sequence(self, proposal):
        s, n = proposal["value"], len(self._loaded.recordings)
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
        layer, names = proposal["value"], self._loaded.layer_names
        if not 0 <= layer < len(names):
            raise tl.TraitError(f"layer {layer} is out of range; expected 0..{len(names) - 1} ({', '.join(names)})")
        return layer

    @tl.validate("quantity")
    def _check_quantity(self, proposal):
        q = proposal["value"]
        loaded = getattr(self, "_loaded", None)
        quantities = LSTM_QUANTITIES if loaded is None else loaded.quantities
        if q not in quantities:
            raise tl.TraitError(f"quantity {q!r} is not recorded; expected one of {', '.join(quantities)}")
        if self._ready and getattr(self, f"_data_{q}") is None:
            try:  # it will be sent now: refuse (nothing changed) when it is too big for the page
                check_page_bytes(
                    sum(getattr(r, q).size for r in loaded.recordings), loaded.wire_dtype, f"quantity {q!r}"
                )
            except ValueError as err:
                raise tl.TraitError(str(err)) from None
        return q

    @tl.observe("quantity")
    def _load_quantity(self, change):
        """Choosing a quantity that is not on the page yet (from Python or from the page) sends it, once."""
        q = change["new"]
        if self._ready and getattr(self, f"_data_{q}") is None:
            setattr(self, f"_data_{q}", self._loaded.quantity_array(q))

    @tl.validate("selected_units")
    def _check_units(self, proposal):
        units = list(proposal["value"])
        n = max(self._loaded.units.values())
        flags = [u for u in units if isinstance(u, (bool, np.bool_))]
        if flags:
            raise tl.TraitError(f"selected_units holds {flags[0]!r}, a bool; expected unit indices (ints 0..{n - 1})")
        bad = [u for u in units if not 0 <= u < n]
        if bad:
            raise tl.TraitError(f"unit {bad[0]} is out of range; expected 0..{n - 1}")
        return list(dict.fromkeys(units))

    _color_scale_taken = "auto"  # the last value taken (a page's write is validated after it was set: see below)

    @tl.validate("color_scale")
    def _check_color_scale(self, proposal):
        mode = proposal["value"]
        if mode not in COLOR_SCALES:
            # a page's write is validated once set (ipywidgets holds the notifications): the page is sent the value
            # taken before it
            self._refuse_page("color_scale", self._color_scale_taken)
            raise tl.TraitError(f"color_scale must be one of {', '.join(map(repr, COLOR_SCALES))}; got {mode!r}")
        return mode

    @tl.observe("color_scale")
    def _take_color_scale(self, change):
        self._color_scale_taken = change["new"]

    @tl.validate("speed")
    def _check_speed(self, proposal):
        v = proposal["value"]
        if not (np.isfinite(v) and 0 < v <= MAX_SPEED):
            raise tl.TraitError(f"speed {v} must be a positive number of steps per second, at most {MAX_SPEED:g}")
        return v

    # ---- the "Gates & weights" section: per-gate weights and the gates, sent when the page opens it -------------
    def _open_gate_details(self) -> None:
        """The section is open: send the chosen layer's weights (when not already there) and every gate quantity
        the page lacks (the weight view shows them over time, the saturation scatter counts them)."""
        loaded = self._loaded
        with self.hold_sync():
            if loaded.spec is not None and str(self.layer) not in self._weights.get("rows", {}):
                self._weights = {"rows": {str(self.layer): loaded.weights_entry(self.layer)}}
            for q in GATES[loaded.cell]:
                if getattr(self, f"_data_{q}") is None:
                    setattr(self, f"_data_{q}", loaded.quantity_array(q))

    @tl.observe("gate_details", "layer")
    def _gate_details_request(self, change):
        if self.gate_details and self._ready:
            self._open_gate_details()

    # ---- the trajectory: what is projected, by what, and how it is drawn --------------------------------------
    @property
    def projection(self):
        """The fitted transformer that places the trajectory's points (``None`` while there was too little to fit
        and the first units are shown). Live steps and streamed sequences go through its ``transform``."""
        return self._trajectory.fitted.transformer

    @property
    def trajectory(self) -> np.ndarray:
        """The trajectory's coordinates as the page draws them: one row per step of every loaded sequence, in order
        (sequence 0's steps, then sequence 1's, …), one column per component (a read-only copy)."""
        coords = np.array(self._arrays["traj"].values, dtype=np.float32)
        coords.setflags(write=False)
        return coords

    def set_projection(self, projection, layer: int | None = None, quantity: str | None = None) -> None:
        """Project the trajectory with another transformer — "pca", "autoencoder", or a scikit-learn transformer
        (fitted: used as is; unfitted: fitted here on every loaded step) — optionally of another layer row and
        quantity (default: the current ``projection_layer`` / ``projection_quantity``). Everything is fitted before
        anything changes: an error leaves the explorer as it was."""
        layer = self.projection_layer if layer is None else layer
        quantity = self.projection_quantity if quantity is None else quantity
        self._check_projected(layer, quantity, ValueError)
        check_projection(projection)
        trajectory = self._trajectory
        fitted, traj = trajectory.fit(
            self._loaded.recordings, layer, quantity, given=projection, given_for=(layer, quantity)
        )
        followers = self._projection_followers(fitted, (layer, quantity))
        trajectory.given, trajectory.given_for = projection, (layer, quantity)
        trajectory.pending = None
        with self.hold_sync(), self.hold_trait_notifications():  # both traits set before they are validated
            self._apply_projection((layer, quantity), fitted, traj, followers)
            self.projection_layer, self.projection_quantity = layer, quantity  # already fitted: no refit

    def _check_projected(self, layer, quantity, error=tl.TraitError) -> None:
        """Refuse a layer row or quantity that cannot be projected (``error`` names the argument)."""
        names = self._loaded.layer_names
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(names):
            raise error(
                f"projection_layer {layer!r} is out of range; expected 0..{len(names) - 1} ({', '.join(names)})"
            )
        if quantity not in self._loaded.quantities:
            raise error(
                f"projection_quantity {quantity!r} is not recorded; expected one of "
                f"{', '.join(self._loaded.quantities)}"
            )

    def _refit_request(self, name: str, layer, quantity):
        """Validate a new ``projection_layer`` / ``projection_quantity`` and refit for it, keeping the result until
        the trait is set (the observer then sends it). A failure changes nothing: TraitError, and a page that asked
        is sent the old value back so that it stops waiting."""
        trajectory = self._trajectory
        key = (layer, quantity)
        if key == trajectory.key or not self._ready:
            trajectory.pending = None
            return
        if trajectory.pending is not None and trajectory.pending[0] == key:
            return  # both traits changed at once: fitted already
        try:
            self._check_projected(layer, quantity)
            projection, traj = trajectory.fit(self._loaded.recordings, layer, quantity)
            followers = self._projection_followers(projection, key)
        except Exception as err:
            self._refuse_page(name, trajectory.key[0 if name == "projection_layer" else 1])
            if isinstance(err, tl.TraitError):
                raise
            raise tl.TraitError(
                f"{name} {layer if name == 'projection_layer' else quantity!r}: the projection could "
                f"not be refitted ({err}); nothing was changed"
            ) from err
        trajectory.pending = (key, projection, traj, followers)

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
        """Send the refitted trajectory (``_arrays.traj``), ``_meta.projection`` and what follows the projection
        (``_projection_followers``) together."""
        pending, self._trajectory.pending = self._trajectory.pending, None
        if pending is None or pending[0] != (self.projection_layer, self.projection_quantity):
            return
        self._apply_projection(*pending)

    def _apply_projection(self, key, projection, traj: np.ndarray, followers: dict) -> None:
        self._trajectory.use(key, projection)
        with self.hold_sync():
            self._arrays = {**self._arrays, "traj": self._loaded.wire(traj)}
            self._meta = {**self._meta, "projection": self._trajectory.meta()}
            for name, value in followers.items():
                setattr(self, name, value)

    def _projection_followers(self, projection, key: tuple[int, str]) -> dict:
        """The traits other than ``_arrays.traj`` and ``_meta.projection`` that the fitted ``projection`` of ``key``
        (layer row, quantity) changes, computed before anything is set so that a failure changes nothing, and sent in
        the same message: none here (a recorded data set's explorer places every step of its store)."""
        return {}

    # ---- the trajectory's fixed points: set from Python, or found for the page's request --------------------------
    @tl.validate("fixed_points")
    def _check_fixed_points(self, proposal):
        try:
            return check_fixed_points(proposal["value"], self._loaded)
        except (TypeError, ValueError) as err:
            raise tl.TraitError(str(err)) from None

    @tl.observe("fixed_points")
    def _fixed_points_changed(self, change):
        """New points (None clears them): placed on the map in force and sent (``_fixed_points``)."""
        source, self._fp_incoming = self._fp_incoming, None
        if not self._ready:
            return
        with self.hold_sync():
            if source is None and self.fixed_points_request:  # set from Python: no page request is shown any more
                self.fixed_points_request = {}
            self._fp_source = source
            self._place_fixed_points()

    def _place_fixed_points(self) -> None:
        fp = self.fixed_points
        self._fp_fitted = self._trajectory.fitted
        if fp is None:
            self._fp_source, self._fixed_points = None, {}
            return
        request, about = self._fp_source or ({}, None)
        self._fixed_points = fixed_points_payload(fp, self._loaded, self._trajectory, request, about)

    @tl.observe("_meta")
    def _fixed_points_follow_projection(self, change):
        """The projection was refitted or swapped: the points are placed again (or the reason they are not drawn is
        said)."""
        if self._ready and self.fixed_points is not None and self._trajectory.fitted is not self._fp_fitted:
            self._place_fixed_points()

    @tl.validate("fixed_points_request")
    def _check_fixed_points_request(self, proposal):
        """A page's request is computed here in full (the observer shows it); a bad one changes nothing."""
        value = proposal["value"]
        if not value or not self._ready:
            return value
        if self._fp_pending is not None and self._fp_pending[0] == value:
            return value
        try:
            request, s, row = check_request(value, self._loaded, self.projection_layer)
        except (TypeError, ValueError) as err:
            self._fp_pending = None
            self._refuse_page("fixed_points_request", self.fixed_points_request)
            raise tl.TraitError(f"{err}; nothing was changed") from err
        self._fp_pending = (request, page_fixed_points(self._loaded, s, row), s)
        return value

    @tl.observe("fixed_points_request")
    def _fixed_points_requested(self, change):
        """Show what the validator found: the points (``fixed_points``), or the reason there are none."""
        pending, self._fp_pending = self._fp_pending, None
        if not self._ready or not change["new"] or pending is None or pending[0] != change["new"]:
            return
        request, found, s = pending
        if isinstance(found, str):  # the points shown before are dropped: the page asked for others
            with self.hold_sync():
                self._fp_incoming = (request, None)
                self.fixed_points = None
                self._fp_incoming = None
                self._fixed_points = {"request": dict(request), "error": found}
            return
        self._fp_incoming = (request, f"the mean input of {self._loaded.sequence_names[s]}")
        self.fixed_points = found  # a new FixedPoints: the observer places it

    def _check_traj_view_value(self, view, error=tl.TraitError) -> dict:
        return check_traj_view(view, self._loaded, from_page=self._from_page("traj_view"), error=error)

    @tl.validate("traj_view")
    def _check_traj_view(self, proposal):
        return self._check_traj_view_value(proposal["value"])

    # ---- the "Why" section: each request trait's change starts the work (why.py computes the payloads) -----------
    def _why_init(self) -> None:
        """After construction: compute what the constructor's arguments asked for (the validators skip it while
        the explorer is being made)."""
        why = self._why
        if self.comparison:
            self._show_comparison(why.comparison_for(self.comparison, self.sequence, self._comparison))
        if self.pattern_query:
            why.patterns, self._patterns = why.patterns_for(self.pattern_query, self._shown())
        if self.why_open:
            self._update_influence()
            self._update_ranking()

    def _shown(self) -> tuple[int, int, str]:
        return self.sequence, self.layer, self.quantity

    @tl.validate("influence_method")
    def _check_influence_method(self, proposal):
        method = proposal["value"]
        if method not in METHODS:
            self._refuse_page("influence_method", self.influence_method)
            raise tl.TraitError(f"influence_method must be one of {list(METHODS)}; got {method!r}")
        return method

    @tl.observe("why_open", "influence_method", "sequence")
    def _influence_request(self, change):
        """Opening the section, another method or another sequence: the influence map of the shown sequence (and,
        on opening, the ranking)."""
        if not self.why_open or not self._ready:
            return
        self._update_influence()
        if change["name"] == "why_open":
            self._update_ranking()

    def _update_influence(self) -> None:
        s, method = self.sequence, self.influence_method
        if not 0 <= s < len(self._loaded.recordings):
            return
        current = self._influence
        if current.get("sequence") == s and current.get("method") == method:
            return
        self._influence = self._why.influence(s, method)[1]

    @property
    def influence_map(self):
        """The :class:`~lstm_widget.InfluenceMap` the page's influence view shows (``_influence``: the shown
        sequence's, by ``influence_method``), or None when none was computed (the Why section was never opened, or
        the explorer cannot compute one — see ``_influence["error"]``)."""
        return self._why.influence_map(self._influence)

    @tl.observe("layer", "quantity")
    def _ranking_request(self, change):
        """Another layer row or quantity while the section is open: the units that separate the classes in it."""
        if self.why_open and self._ready:
            self._update_ranking()

    @property
    def unit_ranking(self):
        """The :class:`~lstm_widget.UnitRanking` of the units that separate the classes in the shown ``layer`` and
        ``quantity`` — what the page's "Top units" list shows for a class (``rank_units`` over every labelled loaded
        sequence: Welch's t, or the difference of means when a class has fewer than 2 sequences); recomputed when the
        layer, the quantity or the loaded sequences change. None when fewer than 2 classes are labelled."""
        result = self._why.class_ranking(self.layer, self.quantity)
        return None if isinstance(result, str) else result

    def _update_ranking(self, force: bool = False) -> None:
        layer, quantity = self.layer, self.quantity
        cur = self._ranking
        if not force and cur.get("layer") == layer and cur.get("quantity") == quantity:
            return
        self._ranking = self._why.ranking(layer, quantity)

    @tl.validate("comparison")
    def _check_comparison(self, proposal):
        """A new ``comparison`` is computed here in full (the observer shows it); a bad one changes nothing."""
        value, why = proposal["value"], self._why
        pending = why.comparison_pending
        if pending is not None and pending[0] == value:
            return value  # computed already (by intervene() / compare())
        if not value or not self._ready or value == self._comparison.get("request"):
            return value
        try:
            request, rec, payload = why.comparison_for(value, self.sequence, self._comparison)
        except Exception as err:
            why.comparison_pending = None
            self._refuse_page("comparison", self.comparison)
            raise tl.TraitError(f"comparison {value!r}: {err}; nothing was changed") from err
        why.comparison_pending = (value, rec, payload)
        return value

    @tl.observe("comparison")
    def _comparison_request(self, change):
        """Show what the validator computed for the new ``comparison`` ({} clears the display)."""
        why = self._why
        pending, why.comparison_pending = why.comparison_pending, None
        value = change["new"]
        if not self._ready:
            return
        if not value:
            why.comparison_rec = None
            self._comparison = {}
            return
        if pending is None or pending[0] != value:
            return
        _, rec, payload = pending
        why.comparison_rec = rec
        with self.hold_sync():
            self._comparison = payload
            if payload["request"] != value:  # a page's request, normalised (layer names, every key): say what is shown
                self.comparison = payload["request"]

    def _show_comparison(self, computed) -> None:
        """Show a computed (request, Recording, payload): both traits at once, and the section that shows them."""
        request, rec, payload = computed
        why = self._why
        why.comparison_pending = (request, rec, payload)
        try:
            with self.hold_sync():
                self.comparison = request
                why.comparison_rec = rec
                self._comparison = payload
                self.why_open = True
        finally:
            why.comparison_pending = None

    def intervene(self, interventions, sequence: int | None = None) -> Recording:
        """Re-run the shown sequence (or ``sequence``) through the model with ``interventions`` — one
        :class:`~lstm_widget.Intervention` (or its dict: quantity, layer, units, start, stop, op, value), or a list of
        them; a tuple from ``Intervention.set_state`` may be an entry — and show the result beside the original in the
        page: the predictions of both, the difference (intervened − original) of the shown quantity, and the
        intervened trajectory on the same projection. Returns the intervened :class:`~lstm_widget.Recording` (what
        ``record(model, x, interventions=...)`` gives). Everything is checked and computed first: an error changes
        nothing. Opens the page's Why section (``why_open``); ``clear_intervention()`` removes the display."""
        if self._loaded.spec is None:
            raise RuntimeError("intervene re-runs the model: this explorer was made from recordings, without one")
        s = self._why.check_sequence_index(sequence, self.sequence)
        request = self._why.intervention_request(interventions, s)
        computed = self._why.comparison_for(request, self.sequence, self._comparison)
        self._show_comparison(computed)
        return computed[1]

    def compare(self, x_other, sequence: int | None = None, *, name: str | None = None) -> Recording:
        """Show another input beside the shown sequence (or ``sequence``): ``x_other`` is the index of another loaded
        sequence, or an array (steps, features) — e.g. an edited copy of ``ex.recording.inputs`` — recorded here.
        The page shows both predictions, the difference heatmap (other − original, over their common steps) and both
        trajectories, as for :meth:`intervene`. Returns the other input's :class:`~lstm_widget.Recording`."""
        s = self._why.check_sequence_index(sequence, self.sequence)
        if is_int(x_other):
            request = {"kind": "compare", "sequence": s, "other": int(x_other)}
            computed = self._why.comparison_for(request, self.sequence, self._comparison)
        else:
            computed = self._why.comparison_with_input(x_other, s, name)
        self._show_comparison(computed)
        return computed[1]

    def clear_intervention(self) -> None:
        """Remove the intervention (or comparison) shown beside the original."""
        self._why.comparison_rec = None
        with self.hold_sync():
            self.comparison = {}
            self._comparison = {}

    clear_comparison = clear_intervention

    @property
    def intervened(self) -> Recording | None:
        """The recording shown beside the original (intervened, or the compared input), or None."""
        return self._why.comparison_rec if self._comparison else None

    @tl.observe("_meta")
    def _why_meta_changed(self, change):
        """The projection was refitted (the compared trajectory follows it) or sequences were added (the ranking per
        class counts them)."""
        old, new = change["old"] or {}, change["new"] or {}
        if not self._ready:
            return
        if self._why.comparison_rec is not None and self._comparison and old.get("projection") != new.get("projection"):
            self._comparison = {**self._comparison, "traj": self._why.comparison_traj()}
        if self.why_open and old.get("n_sequences") != new.get("n_sequences"):
            self._update_ranking(force=True)

    @tl.validate("pattern_query")
    def _check_pattern_query(self, proposal):
        """A new ``pattern_query`` is run here in full (the observer shows it); a bad one changes nothing."""
        value, why = proposal["value"], self._why
        if not value or not self._ready:
            return value
        pending = why.pattern_pending
        if pending is not None and pending[0] == value:
            return value
        try:
            why.pattern_pending = (value, *why.patterns_for(value, self._shown()))
        except Exception as err:
            why.pattern_pending = None
            self._refuse_page("pattern_query", self.pattern_query)
            raise tl.TraitError(f"pattern_query {value!r}: {err}; nothing was changed") from err
        return value

    @tl.observe("pattern_query")
    def _pattern_request(self, change):
        why = self._why
        pending, why.pattern_pending = why.pattern_pending, None
        if not self._ready:
            return
        if not change["new"]:
            why.patterns = None
            self._patterns = {}
            return
        if pending is not None and pending[0] == change["new"]:
            why.patterns = pending[1]
            self._patterns = pending[2]

    def find_pattern(
        self,
        start: int,
        stop: int,
        threshold: float,
        *,
        sequence: int | None = None,
        layer: int | None = None,
        quantity: str | None = None,
        margin: int = 1,
    ):
        """LSTMVis' select-and-match, shown in the page's pattern list: the units of ``quantity`` (default the shown
        one) in layer row ``layer`` (default the shown one) that are above ``threshold`` at every step of [start, stop)
        of ``sequence`` (default the shown one) and below it at the ``margin`` steps around, and the places in every
        loaded sequence where they switch on together, best first. Returns the
        :class:`~lstm_widget.PatternMatches` (``match_pattern``'s)."""
        query = {
            "sequence": self.sequence if sequence is None else sequence,
            "start": start,
            "stop": stop,
            "threshold": threshold,
            "layer": self.layer if layer is None else layer,
            "quantity": self.quantity if quantity is None else quantity,
            "margin": margin,
        }
        why = self._why
        result, payload = why.patterns_for(query, self._shown())
        why.pattern_pending = (query, result, payload)
        try:
            with self.hold_sync():
                self.pattern_query = query
                self.why_open = True
        finally:
            why.pattern_pending = None
        return result

    @property
    def patterns(self):
        """The :class:`~lstm_widget.PatternMatches` the page's pattern list shows, or None."""
        return self._why.patterns if self._patterns else None


#: The traits both the page and Python write (js/src/store.js SYNCED_KEYS): the public synced ones the Explorer
#: declares. The last writer wins, in the kernel's order (sync.py).
Explorer._page_keys = frozenset(
    name
    for name in Explorer.class_trait_names(sync=True)
    if not name.startswith("_") and name not in PageSync.class_trait_names()
)


class DatasetExplorer(Explorer):
    """An :class:`~lstm_widget.Explorer` over a recorded data set; made by :meth:`Explorer.from_dataset`. It holds a
    pager over the store and adds the window's traits.

    ``window_start`` (synced): the store's index of the first sequence shown; ``window_size``: how many consecutive
    sequences a window holds (the last may hold fewer). ``sequence`` indexes the window, so the store's index of the
    sequence shown is ``window_start + sequence`` (:attr:`dataset_index`). ``_meta.dataset`` tells the page
    ``{n_sequences, start, size}``. ``_dataset_traj`` sends every step of every sequence of the store placed by the
    window's projection (:meth:`StorePager.place_store <lstm_widget._widget.recorded.StorePager.place_store>`;
    placed again whenever the projection is refitted or swapped; not in :meth:`save_html` exports)."""

    window_start = tl.Int(0, help="the data set's index of the first sequence in the window").tag(sync=True)
    window_size = tl.Int(DEFAULT_WINDOW, help="sequences per window (read only)").tag(sync=True)
    # every step of the store on the trajectory's map (js/PROTOCOL.md): {points, offsets, classes, layer, quantity,
    # note}, or {layer, quantity, note} when it is too big to send
    _dataset_traj = ArrayTree()

    @property
    def dataset(self):
        """The opened store (:func:`lstm_widget.open_dataset`)."""
        return self._pager.dataset

    def _projection_followers(self, projection, key: tuple[int, str]) -> dict:
        return {"_dataset_traj": self._pager.place_store(projection, *key)}

    @property
    def dataset_index(self) -> int:
        """The data set's index of the sequence shown."""
        return self.window_start + self.sequence

    _window_pending = None  # (start, the window read, its _meta, its data traits): validated, not shown yet
    _window_hold = None  # the hold_sync the new window is committed in (entered by the validator)

    @tl.validate("window_start")
    def _check_window_start(self, proposal):
        """A new window is read from the store and assembled here, before anything changes; a failure (a damaged
        chunk, a window too big for the page) leaves every trait as it was. The sync is held until the observer has
        set the rest, so the page gets the new window_start with the new window's data in one message."""
        start, n = proposal["value"], len(self._pager)
        # the window shown (_meta), not window_start: under hold_trait_notifications (a page's write) the trait
        # already holds the new value when it is validated
        shown = self._meta["dataset"]["start"] if self._ready else None
        if isinstance(start, bool) or not 0 <= start < n:
            self._refuse_page("window_start", shown)
            raise tl.TraitError(f"window_start {start} is out of range; expected 0..{n - 1}")
        if not self._ready or start == shown:
            return start
        try:
            window = self._pager.window(start)
            meta, traits = self._assemble(window, window_start=start)
        except Exception as err:
            self._refuse_page("window_start", shown)
            raise tl.TraitError(
                f"window_start {start}: the window could not be loaded ({err}); nothing was changed"
            ) from err
        self._release_window_hold()  # one left by a change that was never committed
        self._window_pending = (start, window, meta, traits)
        self._window_hold = self.hold_sync()
        self._window_hold.__enter__()
        return start

    def _release_window_hold(self) -> None:
        hold, self._window_hold = self._window_hold, None
        if hold is not None:
            hold.__exit__(None, None, None)

    @tl.validate("window_size")
    def _check_window_size(self, proposal):
        if self._ready and proposal["value"] != self.window_size:
            raise tl.TraitError("window_size is fixed when the explorer is made (Explorer.from_dataset(window=...))")
        return proposal["value"]

    @tl.observe("window_start")
    def _load_window(self, change):
        """Show the window the validator read: its sequences, names and metadata, sent (only them) with
        window_start in one message."""
        pending, self._window_pending = self._window_pending, None
        try:
            if not self._ready or pending is None or pending[0] != change["new"]:
                return
            _, window, meta, traits = pending
            self.t = 0  # valid in both windows
            self.sequence = 0
            self._loaded.replace(*window)
            self._meta = meta
            for name, value in traits.items():
                setattr(self, name, value)
        finally:
            self._release_window_hold()

    def show_sequence(self, k: int) -> None:
        """Show the data set's sequence ``k``: moves the window when it is elsewhere (windows start at multiples of
        ``window_size``)."""
        k = int_in(k, "sequence", 0, len(self._pager) - 1)
        if not self.window_start <= k < self.window_start + len(self._loaded.recordings):
            self.window_start = k // self.window_size * self.window_size
        self.sequence = k - self.window_start


class TrainingExplorer(Explorer):
    """An :class:`~lstm_widget.Explorer` over the snapshots of a :class:`~lstm_widget.TrainingRecorder`; made by
    :meth:`Explorer.from_training` (kernel side of the epochs: training.py).

    ``epoch`` (synced): the recorded epoch shown — one of :attr:`epochs` (an epoch number as given to
    ``tr.snapshot``, not an index); any other value is refused. Changing it (from Python, the page's slider or its
    ``[`` / ``]`` keys) swaps the loaded recordings for that epoch's and sends them in one update; ``t``,
    ``sequence``, ``layer``, ``quantity`` and ``selected_units`` stay. :meth:`step_epoch` moves by recorded epochs.
    The epochs are those recorded when the explorer was made. ``_meta.training`` tells the page the epochs, the
    metrics and the epoch the data is of."""

    epoch = tl.Int(0, help="the recorded epoch shown (one of the recorder's epochs)").tag(sync=True)

    @property
    def training(self):
        """The :class:`~lstm_widget.TrainingRecorder` whose snapshots are shown."""
        return self._epochs.recorder

    @property
    def epochs(self) -> list[int]:
        """The recorded epochs the explorer shows, in order."""
        return list(self._epochs.epochs)

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """{name: (epochs,) float array} aligned with :attr:`epochs` (NaN where an epoch lacks the metric)."""
        return {k: np.array([np.nan if v is None else v for v in vals]) for k, vals in self._epochs.metrics.items()}

    def step_epoch(self, n: int = 1) -> int:
        """Move ``n`` recorded epochs (clamped to the first and last) and return the epoch shown."""
        epochs = self._epochs.epochs
        k = epochs.index(self.epoch) + int(n)
        self.epoch = epochs[min(max(k, 0), len(epochs) - 1)]
        return self.epoch

    def _assemble(self, content=None, traj=None, window_start=None) -> tuple[dict, dict]:
        meta, traits = super()._assemble(content, traj, window_start)
        meta["training"] = self._epochs.meta(self._shown_epoch)
        return meta, traits

    @tl.validate("epoch")
    def _check_epoch(self, proposal):
        epoch = proposal["value"]
        if getattr(self, "_ready", False) and epoch not in self._epochs.epochs:
            self._refuse_page("epoch", self.epoch)
            raise tl.TraitError(f"epoch {epoch} was not recorded; expected one of {self._epochs.epochs}")
        return epoch

    @tl.observe("epoch")
    def _load_epoch(self, change):
        """Swap the loaded recordings for the new epoch's and send them in one update; the cursor, sequence, layer,
        quantity and units stay; a comparison shown is cleared (it was the previous epoch's), the Why section's
        ranking and pattern search are redone on the new epoch."""
        if not self._ready or change["new"] == self._shown_epoch:
            return
        loaded, before = self._loaded, self._shown_epoch
        try:  # nothing changes until the epoch's data is read and assembled
            recs = self._epochs.recordings(change["new"])
            content = (recs, loaded.labels, loaded.sequence_names, None if loaded.groups is None else loaded.groups[1])
            self._shown_epoch = change["new"]
            meta, traits = self._assemble(content)
        except Exception as err:
            self._shown_epoch = before
            self.epoch = before  # the page's slider goes back too
            raise RuntimeError(
                f"epoch {change['new']} could not be loaded (still showing epoch {before}): {err}"
            ) from err
        why = self._why
        with self.hold_sync():
            loaded.replace(*content)
            self._meta = meta
            for name, value in traits.items():
                setattr(self, name, value)
            if self.comparison:
                self.clear_comparison()
            if self.pattern_query:
                why.patterns, self._patterns = why.patterns_for(self.pattern_query, self._shown())
            if self.why_open:
                self._update_ranking(force=True)

    def stream(self, *args, **kwargs):
        raise RuntimeError(
            "an explorer over training snapshots shows the recorder's probe sequences at each epoch; it cannot step "
            "new ones (use Explorer(model, sequences) for that)"
        )

    def save_html(
        self,
        path,
        sequences=None,
        *,
        epochs=None,
        wire_dtype: str | None = None,
        title: str = "LSTM explorer",
        quiet: bool = False,
    ) -> int:
        """As :meth:`Explorer.save_html`, with the epochs: every recorded epoch (or ``epochs``, some of them) is in
        the file and the page's epoch slider swaps them with no kernel. When all of them would pass
        ``lstm_widget.PAGE_BYTES_LIMIT``, evenly spaced epochs that fit are written (the first, the shown and the last
        among them; with room for two, the shown one and the first) and the printed line and the page's note say
        which; ``epochs`` given and too many: a ValueError. ``sequences=None`` picks the current sequence and its
        neighbours with ``lstm_widget.EXPORT_BUDGET`` divided over the exported epochs (each is written once per
        epoch)."""
        self._epochs.export_choice(epochs)  # a bad list fails before anything is written
        self._export_epochs_arg = epochs
        try:
            return super().save_html(path, sequences, wire_dtype=wire_dtype, title=title, quiet=quiet)
        finally:
            self._export_epochs_arg = None

    def _export_copies(self) -> int:
        chosen = self._epochs.export_choice(getattr(self, "_export_epochs_arg", None))
        return len(set(chosen) | {self.epoch})

    def _export_hook(self, state: dict, index: list[int], dtype: str) -> tuple[dict, str]:
        trajectory, epochs = self._trajectory, getattr(self, "_export_epochs_arg", None)
        return self._epochs.export_state(state, index, dtype, self._loaded, trajectory, self.epoch, epochs)
