"""Abundance sum-to-one constraint (ASC) layer."""

from __future__ import annotations

from ..._keras import keras, ops

from ._shape_preserving import ShapePreservingLayer


@keras.saving.register_keras_serializable(package="hspy_unmix")
class AbundanceSumToOne(ShapePreservingLayer):
    """Map non-negative activations to abundances that sum to one.

    ``y = (relu(x) + epsilon / K) / (sum(relu(x)) + epsilon)`` along the last
    axis: every output is non-negative and the outputs of a pixel sum to
    exactly one, also when all activations are zero (then ``y`` is uniform).

    Parameters
    ----------
    epsilon
        Small positive constant keeping the division defined.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural.layers.sum_to_one import AbundanceSumToOne
    >>> y = AbundanceSumToOne()(np.array([[1.0, 3.0, 0.0]], dtype="float32"))
    >>> np.round(np.asarray(y), 3).tolist()
    [[0.25, 0.75, 0.0]]
    """

    _config_keys = ("epsilon",)

    def __init__(self, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive, got {epsilon}.")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        positive = ops.relu(inputs)
        n_components = ops.cast(ops.shape(inputs)[-1], positive.dtype)
        total = ops.sum(positive, axis=-1, keepdims=True)
        return (positive + self.epsilon / n_components) / (total + self.epsilon)
