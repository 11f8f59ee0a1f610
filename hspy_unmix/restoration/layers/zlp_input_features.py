"""Input features for near-zero-loss spectra spanning many decades."""

from __future__ import annotations

import math

from ..._keras import keras, ops


@keras.saving.register_keras_serializable(package="hspy_unmix")
class ZLPInputFeatures(keras.layers.Layer):
    """Stack a linear and an ``asinh`` (log-like) view of each spectrum.

    Integral-normalised near-zero-loss spectra have a ZLP near 1e-2 to 1e-1
    and loss features of 1e-6 to 1e-3: a linear view alone hides the weak
    features, a logarithm alone is undefined for noisy negatives. The layer
    maps ``(batch, channels, 1)`` to ``(batch, channels, 2)`` with
    ``[x * linear_scale, asinh(x / eps) / asinh(1 / eps)]``.

    Parameters
    ----------
    linear_scale
        Factor of the linear channel.
    eps
        Intensity below which ``asinh`` is linear.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.restoration.layers.zlp_input_features import ZLPInputFeatures
    >>> y = ZLPInputFeatures()(np.ones((1, 8, 1), "float32"))
    >>> tuple(y.shape)
    (1, 8, 2)
    """

    def __init__(self, linear_scale: float = 10.0, eps: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.linear_scale = float(linear_scale)
        self.eps = float(eps)

    def call(self, inputs):
        norm = math.asinh(1.0 / self.eps)
        return ops.concatenate(
            [inputs * self.linear_scale, ops.arcsinh(inputs / self.eps) / norm], axis=-1
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (2 * input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"linear_scale": self.linear_scale, "eps": self.eps})
        return config
