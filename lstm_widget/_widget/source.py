"""The model behind an explorer, as far as it can be trusted: the recordings always come from observing the model's
own forward (:func:`lstm_widget.record`); what is computed later from the model's weights — live streaming, influence,
interventions, the per-gate weights — needs a description of it (a ``RecurrentSpec``) that is known to reproduce
those recordings. :class:`ModelSource` holds that description when it does, and otherwise the one-line reason the
views show instead."""

from __future__ import annotations

from .._core.model import describe
from .._core.recording import Stepper
from .._core.recording.observe import stepping_refusal


def described(model, *, lstm, head, forward) -> tuple:
    """(the model's description, None), or (None, why there is none: several recurrent modules, ...) — made once,
    before recording, for the size check and then for :class:`ModelSource`."""
    try:
        return describe(model, lstm=lstm, head=head, forward=forward), None
    except (TypeError, ValueError) as err:
        return None, str(err)


class ModelSource:
    """``model`` and the options it was recorded with. ``spec`` is its description when the model runs one recurrent
    module that a :class:`~lstm_widget.Stepper` steps exactly (the same rows as the recordings, from a zero state,
    each step's input its own, the head verified against the model's output); else None and ``note`` says why."""

    def __init__(self, model, description: tuple, layer_names, *, lstm, head, forward, task):
        self.model = model
        self._options = dict(lstm=lstm, head=head, forward=forward, task=task)
        spec, self.note = description  # from described(), made before recording
        self.spec = None
        if spec is None:
            return
        if tuple(spec.layer_names) != tuple(layer_names):
            self.note = (
                f"the recording holds the rows {list(layer_names)} of several recurrent modules; stepping, influence "
                "and interventions work on one module at a time (record one with lstm='<name>')"
            )
            return
        why = stepping_refusal(model, spec, forward)
        if why is not None:
            self.note = f"{type(model).__name__} cannot be stepped exactly one step at a time: {why}"
            return
        self.spec = spec

    def stepper(self) -> Stepper:
        """A fresh :class:`~lstm_widget.Stepper` of the model (token models are stepped one id at a time)."""
        return Stepper(self.model, **self._options)
