"""Output layer mapping log-like network values back to intensities."""

from __future__ import annotations

import math

from ..._keras import keras, ops


@keras.saving.register_keras_serializable(package="hspy_unmix")
class ZLPAsinhOutput(keras.layers.Layer):
    """Inverse of the log-like input view: ``y = eps * sinh(z * asinh(1 / eps))``.

    The network predicts ``z`` on the same compressed scale as the
    ``asinh`` channel of
    :class:`~hspy_unmix.restoration.layers.zlp_input_features.ZLPInputFeatures`
    (``z = 1`` is an intensity of 1, ``z = 0`` is zero), so the ZLP and
    features 1e4 times weaker are equally easy to represent, and the
    gradient never vanishes (unlike a ReLU output).

    Parameters
    ----------
    eps
        Intensity below which the mapping is linear.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.restoration.layers.zlp_asinh_output import ZLPAsinhOutput
    >>> y = ZLPAsinhOutput(eps=1e-5)(np.array([[[0.0], [1.0]]], "float32"))
    >>> np.round(np.asarray(y).ravel(), 4).tolist()
    [0.0, 1.0]
    """

    def __init__(self, eps: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.eps = float(eps)

    def call(self, inputs):
        return self.eps * ops.sinh(inputs * math.asinh(1.0 / self.eps))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"eps": self.eps})
        return config
