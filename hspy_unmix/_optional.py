"""Imports of heavy optional dependencies, done only when a method needs them."""

from __future__ import annotations

import importlib
import os


def import_keras():
    """Import and return :mod:`keras` (Keras 3), with a clear error if missing.

    TensorFlow is the default backend; set ``KERAS_BACKEND`` to ``"jax"`` or
    ``"torch"`` before the first neural call to use another one.
    """
    # TensorFlow's C++ start-up messages are noise for users of a plugin
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        keras = importlib.import_module("keras")
    except ImportError as exc:  # pragma: no cover - keras is a dependency
        raise ImportError(
            "This method needs Keras 3 and a backend (TensorFlow by default): "
            "pip install keras tensorflow-cpu"
        ) from exc
    major = int(keras.__version__.split(".")[0])
    if major < 3:  # pragma: no cover
        raise ImportError(f"Keras >= 3 is required, found {keras.__version__}.")
    return keras
