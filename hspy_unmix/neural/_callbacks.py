"""Keras callbacks used by the neural estimators (imports Keras)."""

from __future__ import annotations

from .._keras import keras


class EpochProgress(keras.callbacks.Callback):
    """Advance a progress bar (see :mod:`hspy_unmix._progress`) once per epoch."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(1)
        if logs and "loss" in logs:
            self.bar.set_postfix(loss=f"{float(logs['loss']):.4g}")


class AlternatingDecoderStep(keras.callbacks.Callback):
    """After each encoder epoch, solve the decoder weights in closed form.

    ``update(model)`` receives the Keras model and sets the decoder weights
    (for example non-negative least squares given the current abundances):
    training then alternates an encoder step (one epoch of gradient descent
    with the decoder fixed) and an exact decoder step.
    """

    def __init__(self, update):
        super().__init__()
        self.update = update

    def on_epoch_end(self, epoch, logs=None):
        self.update(self.model)
