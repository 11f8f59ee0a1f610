"""Keras for the modules that build networks, layers, losses and callbacks.

They import it from here, so that Keras (and TensorFlow behind it) is always
first imported through :func:`~hspy_unmix._optional.import_keras`: with a
clear message when it is missing and without TensorFlow's C++ start-up
notices. Importing this module imports Keras; the estimator modules import
the modules that use it only when a fit runs.
"""

from __future__ import annotations

from ._optional import import_keras

keras = import_keras()
ops = keras.ops

__all__ = ["keras", "ops"]
