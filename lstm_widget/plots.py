"""bqplot companion figures, for people who compose their own dashboards next to (or instead of) the explorer.

Each function takes an :class:`~lstm_widget.Explorer` — the figure then follows its ``t`` (a vertical cursor) and its
``sequence`` (the lines) while the kernel runs — or a single :class:`~lstm_widget.Recording` (a static figure with
the cursor at ``t``)::

    ex = lw.Explorer(net, X_test, y_test)
    ipywidgets.VBox([ex, lw.plots.inputs(ex), lw.plots.probabilities(ex), lw.plots.units(ex)])

The cursor moves through the kernel (a traitlets observer), so in a static export the figures keep the step they
were saved at; the explorer itself plays back without a kernel.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._core.model.gates import SIGMOID_GATES
from ._core.recording import Recording
from ._widget.explorer import Explorer
from ._widget.options import names_of

__all__ = ["inputs", "probabilities", "units"]

# The explorer's categorical palette (js/src/colormap.js), so that a feature or class has one colour everywhere.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac"]  # fmt: skip


def _source(source, t):
    """(explorer or None, function giving the shown recording)."""
    if isinstance(source, Explorer):
        if t is not None:
            raise ValueError("t is only for a Recording; a figure of an Explorer follows the explorer's t")
        return source, lambda: source.recording
    if isinstance(source, Recording):
        return None, lambda: source
    raise TypeError(f"expected an lstm_widget.Explorer or a Recording; got {type(source).__name__}")


def _figure(
    source,
    t,
    series: Callable[[Recording], tuple[np.ndarray, list[str]]],
    ylabel: str,
    title: str,
    y_range: tuple[float, float] | None = None,
    watch: tuple[str, ...] = (),
):
    """A figure of ``series(recording)`` ((T, K) values and K names) over the steps, with a cursor at the step shown;
    following the explorer's ``sequence``, ``t`` and the traits in ``watch`` when ``source`` is one."""
    import bqplot as bq

    explorer, current = _source(source, t)
    x_scale, y_scale = bq.LinearScale(), bq.LinearScale()
    if y_range is not None:
        y_scale.min, y_scale.max = float(y_range[0]), float(y_range[1])
    lines = bq.Lines(
        scales={"x": x_scale, "y": y_scale}, display_legend=True, stroke_width=1.5, colors=PALETTE, labels=[]
    )
    cursor = bq.Lines(scales={"x": x_scale, "y": y_scale}, colors=["#1976d2"], stroke_width=2, opacities=[0.8])
    fig = bq.Figure(
        marks=[lines, cursor], title=title, legend_location="top-right", fig_margin={"top": 40, "bottom": 40,
                                                                                     "left": 50, "right": 20},
        axes=[bq.Axis(scale=x_scale, label="time step", tick_format="d"),
              bq.Axis(scale=y_scale, side="left", label=ylabel)],
        layout={"height": "260px", "width": "100%"},
    )  # fmt: skip

    def redraw_lines(*_):
        values, names = series(current())
        T = values.shape[0]
        with lines.hold_sync():
            lines.x = np.arange(T)
            lines.y = values.T if values.size else np.zeros((0, T))
            lines.labels = names
        lo, hi = (
            y_range
            if y_range is not None
            else (float(np.nanmin(values)), float(np.nanmax(values)))
            if values.size
            else (0.0, 1.0)
        )
        cursor.y = [lo, hi]
        move_cursor()

    def move_cursor(*_):
        step = explorer.t if explorer is not None else int(t or 0)
        T = len(current())
        if not 0 <= step < T:
            raise ValueError(f"t={step} is out of range for a recording of {T} steps (0..{T - 1})")
        cursor.x = [step, step]

    redraw_lines()
    if explorer is not None:
        explorer.observe(redraw_lines, names=["sequence", *watch])
        explorer.observe(move_cursor, names=["t"])
    return fig


def _explorer_names(source, key: str):
    """The names an explorer shows (``_meta[key]``, js/PROTOCOL.md); None for a Recording."""
    return source._meta.get(key) if isinstance(source, Explorer) else None


def inputs(source, *, t: int | None = None, feature_names=None, title: str = "Input features"):
    """The input features over time (one line per feature) with the cursor: MATLAB's ``plot(X')``."""
    names = feature_names if feature_names is not None else _explorer_names(source, "feature_names")

    def series(rec):
        x = np.asarray(rec.inputs)
        return x, names_of(names, x.shape[1], "x{}", "feature_names")

    return _figure(source, t, series, "value", title)


def probabilities(source, *, t: int | None = None, class_names=None, title: str = "Class probabilities"):
    """The class probabilities after every step (the head on h_t) with the cursor."""
    names = class_names if class_names is not None else _explorer_names(source, "class_names")

    def series(rec):
        if rec.probs is None:
            raise ValueError("the model has no head: there are no class probabilities to plot")
        return np.asarray(rec.probs), names_of(names, rec.probs.shape[1], "class {}", "class_names")

    return _figure(source, t, series, "probability", title, y_range=(0.0, 1.0))


def units(source, units=None, *, t: int | None = None, quantity: str = "h", layer: int = 0, title: str | None = None):
    """Chosen units of ``quantity`` in ``layer`` over time with the cursor. With an Explorer and ``units=None`` the
    lines follow the explorer's ``selected_units`` (its first five units while none is selected)."""
    explorer, current = _source(source, t)
    quantities = current().quantities
    if quantity not in quantities:
        raise ValueError(f"quantity {quantity!r} is not recorded; expected one of {', '.join(quantities)}")
    n_layers, n_units = getattr(current(), quantity).shape[0], getattr(current(), quantity).shape[2]
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer {layer} is out of range; expected 0..{n_layers - 1}")
    chosen = None if units is None else [int(u) for u in np.atleast_1d(units)]
    if chosen is not None and any(not 0 <= u < n_units for u in chosen):
        raise ValueError(f"units {chosen} are out of range; expected 0..{n_units - 1}")

    def series(rec):
        picked = chosen if chosen is not None else (
            list(explorer.selected_units) or list(range(min(5, n_units))) if explorer is not None
            else list(range(min(5, n_units))))  # fmt: skip
        picked = [u for u in picked if u < n_units]
        return np.asarray(getattr(rec, quantity)[layer][:, picked]), [f"unit {u}" for u in picked]

    gated = quantity in SIGMOID_GATES[current().cell]
    return _figure(
        source,
        t,
        series,
        quantity,
        title or f"Units of {quantity} (layer {layer % n_layers})",
        y_range=(0.0, 1.0) if gated else None,
        watch=("selected_units",) if chosen is None else (),
    )
