"""Dynamical soft thresholding layer (Palsson et al. 2018)."""

from __future__ import annotations

from ..._keras import keras, ops

from ._shape_preserving import ShapePreservingLayer


@keras.saving.register_keras_serializable(package="hspy_unmix")
class DynamicalSoftThreshold(ShapePreservingLayer):
    """Soft thresholding with one learned threshold per unit.

    ``y = relu(x - alpha)`` where ``alpha`` (one value per unit, trained with
    the network) removes small activations and so sparsifies the abundances.

    Parameters
    ----------
    initial_threshold
        Starting value of every threshold; 0 lets every positive activation
        through at the start of training.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural.layers.dynamical_soft_threshold import (
    ...     DynamicalSoftThreshold)
    >>> x = np.array([[1.0, 0.2]], dtype="float32")
    >>> np.asarray(DynamicalSoftThreshold(initial_threshold=0.5)(x)).tolist()
    [[0.5, 0.0]]
    """

    _config_keys = ("initial_threshold",)

    def __init__(self, initial_threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_threshold = float(initial_threshold)

    def build(self, input_shape):
        self.threshold = self.add_weight(
            name="threshold",
            shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(self.initial_threshold),
            trainable=True,
        )

    def call(self, inputs):
        return ops.relu(inputs - self.threshold)
