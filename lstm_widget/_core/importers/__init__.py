"""Importers: Keras and ONNX recurrent models brought in as a torch ``RecurrentStack`` that computes what the original
framework computes (keras and onnx are imported only when an importer is called)."""

from .keras import from_keras
from .onnx import from_onnx

__all__ = [
    "from_keras",
    "from_onnx",
]
