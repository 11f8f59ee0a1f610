"""Dynamical soft thresholding layer (Palsson et al. 2018)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hspy_unmix")
class DynamicalSoftThreshold(keras.layers.Layer):
    """Soft thresholding with one learned threshold per unit.

    ``y = relu(x - alpha)`` where ``alpha`` (one value per unit, trained with
    the network) removes small activations and so sparsifies the abundances.

    Parameters
    ----------
    initial_threshold
        Starting value of every threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural.layers.dynamical_soft_threshold import (
    ...     DynamicalSoftThreshold)
    >>> layer = DynamicalSoftThreshold(initial_threshold=0.5)
    >>> np.asarray(layer(np.array([[1.0, 0.2]], dtype="float32"))).tolist()
    [[0.5, 0.0]]
    """

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

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"initial_threshold": self.initial_threshold})
        return config
