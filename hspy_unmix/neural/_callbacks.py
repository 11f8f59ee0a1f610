"""Keras callbacks used by the neural estimators (imports Keras)."""

from __future__ import annotations

import keras


class EpochProgress(keras.callbacks.Callback):
    """Advance a progress bar (see :mod:`hspy_unmix._progress`) once per epoch."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(1)
        if logs and "loss" in logs:
            self.bar.set_postfix(loss=f"{float(logs['loss']):.4g}")
