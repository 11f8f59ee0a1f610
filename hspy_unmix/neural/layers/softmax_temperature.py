"""Softmax with a temperature, an abundance sum-to-one constraint (ASC)."""

from __future__ import annotations

from ..._keras import keras, ops

from ._shape_preserving import ShapePreservingLayer


@keras.saving.register_keras_serializable(package="hspy_unmix")
class SoftmaxTemperature(ShapePreservingLayer):
    """``y = softmax(x / temperature)`` along the last axis.

    Outputs are positive and sum to one. A temperature above one softens the
    softmax so that mixed pixels keep mixed abundances (Palsson et al. 2021
    use 3.5 in CNNAEU); below one it pushes them towards pure labels.

    Parameters
    ----------
    temperature
        Positive divisor of the logits.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural.layers.softmax_temperature import SoftmaxTemperature
    >>> y = SoftmaxTemperature(1.0)(np.log(np.array([[1.0, 3.0]], "float32")))
    >>> np.round(np.asarray(y), 3).tolist()
    [[0.25, 0.75]]
    """

    _config_keys = ("temperature",)

    def __init__(self, temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}.")
        self.temperature = float(temperature)

    def call(self, inputs):
        return ops.softmax(inputs / self.temperature, axis=-1)
