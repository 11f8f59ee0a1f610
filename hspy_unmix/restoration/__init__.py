"""Near-zero-loss restoration: the U-net (network, layers, training, shipped
weights), Richardson-Lucy deconvolution, and the planning that lets one
network serve any dispersion.

``s.restore_zlp()`` (:mod:`hspy_unmix.signals.restore_zlp`) is the signal
method over these pieces. Importing this package does not import Keras.
"""

from .model_io import DEFAULT_MODEL_PATH, load_zlp_model, model_metadata
from .planning import NoZeroLossPeakError, measure_zlp, plan_resampling
from .richardson_lucy import measured_zlp_psf, richardson_lucy
from .training import save_zlp_model, train_zlp_model, zlp_loss


def __getattr__(name):
    # the signal method, importable from here as it was from ``hspy_unmix.zlp``
    if name == "restore_zlp":
        from ..signals.restore_zlp import restore_zlp

        return restore_zlp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL_PATH",
    "NoZeroLossPeakError",
    "load_zlp_model",
    "measure_zlp",
    "measured_zlp_psf",
    "model_metadata",
    "plan_resampling",
    "restore_zlp",
    "richardson_lucy",
    "save_zlp_model",
    "train_zlp_model",
    "zlp_loss",
]
