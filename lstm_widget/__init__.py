"""lstm_widget: see inside recurrent networks, in a notebook.

Kernel core (record, Stepper) works on any torch LSTM; ``Explorer`` shows a live, linked view of the recordings.
"""

from ._core import Frame, Recording, Stepper, describe, record

__version__ = "0.1.0"

__all__ = ["Explorer", "Frame", "Recording", "Stepper", "describe", "record", "datasets", "models", "__version__"]


def __getattr__(name):  # the widget and the bundled data load on first use, not on import
    if name == "Explorer":
        from ._widget import Explorer

        return Explorer
    if name in ("datasets", "models"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lstm_widget' has no attribute {name!r}")
