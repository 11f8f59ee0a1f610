"""Loss functions of the unmixing autoencoders."""

from __future__ import annotations

from .._keras import keras, ops


@keras.saving.register_keras_serializable(package="hspy_unmix")
class SpectralAngleLoss(keras.losses.Loss):
    """Spectral angle between each input spectrum and its reconstruction.

    The angle ``arccos(<x, y> / (|x| |y|))`` is computed per pixel along the
    last axis, then averaged over the pixels of the batch (and over the
    pixels of a patch for the patch-based networks). It is scale invariant:
    only the shape of each spectrum matters (Palsson et al. 2018).

    Parameters
    ----------
    epsilon
        Added to the norms, and the cosine clipped to ``[-1 + eps, 1 - eps]``
        so that the gradient of ``arccos`` stays finite.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural.losses import SpectralAngleLoss
    >>> x = np.array([[1.0, 0.0], [1.0, 1.0]], dtype="float32")
    >>> y = np.array([[2.0, 0.0], [1.0, 0.0]], dtype="float32")
    >>> round(float(SpectralAngleLoss()(x, y)), 3)  # (0 + pi/4) / 2
    0.393
    """

    def __init__(self, epsilon: float = 1e-7, name="spectral_angle", **kwargs):
        super().__init__(name=name, **kwargs)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        dot = ops.sum(y_true * y_pred, axis=-1)
        norms = ops.norm(y_true, axis=-1) * ops.norm(y_pred, axis=-1)
        cosine = dot / (norms + self.epsilon)
        cosine = ops.clip(cosine, -1.0 + self.epsilon, 1.0 - self.epsilon)
        return ops.arccos(cosine)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
