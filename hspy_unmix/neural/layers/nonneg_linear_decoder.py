"""Linear decoder whose non-negative weights are the endmembers."""

from __future__ import annotations

from ..._keras import keras, ops


@keras.saving.register_keras_serializable(package="hspy_unmix")
class NonNegativeLinearDecoder(keras.layers.Layer):
    """``y = abundances @ endmembers`` with non-negative endmembers, no bias.

    The kernel has shape ``(n_components, n_channels)``: row ``k`` is the
    spectrum of endmember ``k``, as ``components_`` of the estimators. The
    weights are kept non-negative by a :class:`keras.constraints.NonNeg`
    projection after every update. Works on any leading shape (pixels or
    image patches), the last axis being the components.

    Parameters
    ----------
    n_channels
        Number of output channels (spectrum length).
    unit_mean_rows
        Divide each kernel row by its mean in the forward pass, so that the
        endmembers have unit mean. With a scale-invariant loss (spectral
        angle) this removes the free scale of each endmember, which otherwise
        drifts during training and lets an abundance shrink towards zero
        while its endmember grows.
    kernel_initializer
        Initialiser of the endmember matrix; ``None`` draws uniformly in
        ``[0, 1)`` (non-negative, as the endmembers).

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural.layers.nonneg_linear_decoder import (
    ...     NonNegativeLinearDecoder)
    >>> layer = NonNegativeLinearDecoder(n_channels=4)
    >>> layer.build((None, 2))
    >>> layer.set_weights([np.ones((2, 4), dtype="float32")])
    >>> np.asarray(layer(np.array([[0.5, 0.5]], dtype="float32"))).tolist()
    [[1.0, 1.0, 1.0, 1.0]]
    """

    def __init__(
        self,
        n_channels: int,
        unit_mean_rows: bool = False,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_channels = int(n_channels)
        self.unit_mean_rows = bool(unit_mean_rows)
        if kernel_initializer is None:
            kernel_initializer = keras.initializers.RandomUniform(0.0, 1.0)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="endmembers",
            shape=(input_shape[-1], self.n_channels),
            initializer=self.kernel_initializer,
            constraint=keras.constraints.NonNeg(),
            trainable=True,
        )

    def endmembers(self):
        """The endmember matrix used in the forward pass, (n_components, n_channels)."""
        kernel = self.kernel
        if self.unit_mean_rows:
            kernel = kernel / (ops.mean(kernel, axis=-1, keepdims=True) + 1e-12)
        return kernel

    def call(self, inputs):
        return ops.matmul(inputs, self.endmembers())

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.n_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_channels": self.n_channels,
                "unit_mean_rows": self.unit_mean_rows,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
