"""Machinery shared by the Keras unmixing estimators.

Keras is imported only inside the methods that train or run a network, so
that importing this module (and :mod:`hspy_unmix`) stays light.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
from sklearn.utils import check_random_state

from .._optional import import_keras
from .._parameters import MAX_PARTIAL_FIT_SAMPLES
from .._progress import progress_bar
from .._validation import check_int
from ..unmixing._base import UnmixingEstimator

#: Name of the layer whose output are the abundances (or latent codes).
ABUNDANCE_LAYER = "abundances"


def training_parameters(*, early_stopping_patience: int | None = 10) -> dict:
    """The parameters every Keras estimator ends with, in this order, and their defaults.

    For :class:`~hspy_unmix._parameters.estimator_init`; documented by the
    ``neural_training`` docstring fragment.
    """
    return {
        "early_stopping_patience": early_stopping_patience,
        "validation_split": 0.0,
        "max_partial_fit_samples": MAX_PARTIAL_FIT_SAMPLES,
        "random_state": None,
        "show_progressbar": None,
        "verbose": 0,
    }


def setup_keras(seed: int):
    """Import Keras (TensorFlow backend by default) and seed every generator."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = import_keras()
    keras.utils.set_random_seed(int(seed))
    return keras


def pixel_normalise(X: np.ndarray) -> np.ndarray:
    """Spectra divided by their own mean (float32); all-zero spectra stay zero."""
    means = X.mean(axis=1, keepdims=True)
    means[means <= 0] = 1.0
    return (X / means).astype(np.float32)


def abundance_outputs(model, inputs: np.ndarray) -> np.ndarray:
    """Output of ``model``'s ``"abundances"`` layer (inference mode), in batches."""
    keras = import_keras()
    encoder = keras.Model(model.input, model.get_layer(ABUNDANCE_LAYER).output)
    return _batched_numpy(encoder, inputs)


def _batched_numpy(network, inputs: np.ndarray) -> np.ndarray:
    """``network`` in inference mode over ``inputs``, in the package's row batches."""
    from ..io.chunks import map_rows

    keras = import_keras()
    return map_rows(
        lambda batch: keras.ops.convert_to_numpy(network(batch, training=False)), inputs
    )


def compile_model(model, learning_rate: float, loss) -> None:
    """Compile with Adam; several steps per call cut Python overhead on CPU.

    XLA compilation is off: on the small networks here its start-up time
    exceeds the training time on a CPU.
    """
    keras = import_keras()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=loss,
        jit_compile=False,
        steps_per_execution=8,
    )


class NeuralUnmixingEstimator(UnmixingEstimator):
    """Base of the Keras estimators (not used directly).

    Subclasses implement ``_build_model(n_channels, seed)`` (a Keras model
    with a layer named ``"abundances"``), ``_fit(X)`` and ``_transform(X)``;
    this class provides seeding, the training loop (progress bar over epochs,
    early stopping, history), batched inference and saving as ``.keras``.
    """

    _parallel_transform = False
    #: The networks learn from every spectrum (``outlier_screen="auto"`` is off).
    _screens_outliers = False

    _negative = "clip"
    _sum_to_one = True

    # --------------------------------------------------------------- fitting
    def _resolve_seeds(self, n: int) -> list[int]:
        """``n`` seeds drawn from ``random_state`` (the first is :meth:`_resolve_seed`)."""
        rng = check_random_state(self.random_state)
        return [int(seed) for seed in rng.randint(0, 2**31 - 1, size=n)]

    def _resolve_seed(self) -> int:
        return self._resolve_seeds(1)[0]

    def _train(
        self, model, inputs, targets, *, description: str, monitor_loss="loss", epochs=None,
        append_history=False,
    ):
        """Run ``model.fit`` with the estimator's epochs, batch size and callbacks.

        ``epochs`` overrides the estimator's ``epochs`` (a training phase);
        ``append_history`` appends this phase to the existing ``history_``.
        Sets ``history_`` (dict of lists, one value per epoch). A
        ``KeyboardInterrupt`` raised during training propagates unchanged.
        """
        epochs = int(self.epochs if epochs is None else epochs)
        keras = import_keras()
        from ._callbacks import EpochProgress

        callbacks = list(getattr(self, "_extra_callbacks", ()))
        patience = getattr(self, "early_stopping_patience", None)
        validation_split = float(getattr(self, "validation_split", 0.0) or 0.0)
        if patience is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss" if validation_split > 0 else monitor_loss,
                    patience=int(patience),
                    restore_best_weights=True,
                )
            )
        with progress_bar(epochs, description, self.show_progressbar) as bar:
            callbacks.append(EpochProgress(bar))
            history = model.fit(
                inputs,
                targets,
                epochs=epochs,
                batch_size=int(self.batch_size),
                validation_split=validation_split,
                shuffle=True,
                callbacks=callbacks,
                verbose=self.verbose,
            )
        record = {k: [float(v) for v in values] for k, values in history.history.items()}
        # the loss of the weights kept: early stopping restores the best epoch's
        monitored = record.get("val_loss" if validation_split > 0 else monitor_loss) or [np.inf]
        self.__dict__["_training_cost"] = min(monitored) if patience is not None else monitored[-1]
        if append_history:
            previous = getattr(self, "history_", {})
            record = {k: previous.get(k, []) + v for k, v in record.items()}
        self.history_ = record

    def _check_int_param(self, name: str, minimum: int = 1) -> int:
        return check_int(getattr(self, name), name, minimum=minimum)

    def _check_params(self):
        """Validate the parameters (called by ``_fit``); subclasses extend it."""
        self._check_int_param("epochs")
        self._check_int_param("batch_size")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}.")
        split = getattr(self, "validation_split", 0.0) or 0.0
        if not 0.0 <= split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {split!r}.")
        patience = getattr(self, "early_stopping_patience", None)
        if patience is not None:
            self._check_int_param("early_stopping_patience")

    # ------------------------------------------------------------- inference
    def _abundance_model(self):
        """Sub-model from the input to the ``"abundances"`` layer (cached)."""
        cached = self.__dict__.get("_encoder_model")
        if cached is not None and cached[0] is self.model_:
            return cached[1]
        keras = import_keras()
        encoder = keras.Model(
            self.model_.input, self.model_.get_layer(ABUNDANCE_LAYER).output
        )
        self.__dict__["_encoder_model"] = (self.model_, encoder)
        return encoder

    def _run_encoder(self, inputs: np.ndarray) -> np.ndarray:
        """Encoder output (inference mode) of float32 ``inputs``, in batches."""
        return _batched_numpy(self._abundance_model(), inputs)

    # ----------------------------------------------------------- persistence
    def _keras_model_bytes(self) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            self.model_.save(path)
            with open(path, "rb") as fh:
                return fh.read()

    def _extra_state(self) -> dict:
        return {"history": getattr(self, "history_", {})}

    def _restore_extra_state(self, extra: dict, path) -> None:
        keras = setup_keras(0)
        path = os.fspath(path)
        with tempfile.TemporaryDirectory() as folder:
            if not path.endswith(".keras"):
                # Keras opens only files named *.keras; the content is one already
                copy = os.path.join(folder, "model.keras")
                shutil.copyfile(path, copy)
                path = copy
            self.model_ = keras.saving.load_model(path, compile=False)
        self.history_ = {k: list(v) for k, v in extra.get("history", {}).items()}

    def __getstate__(self):
        # The Keras model travels as .keras bytes (deepcopy, pickle, joblib).
        state = dict(self.__dict__)
        state.pop("_encoder_model", None)
        if state.pop("model_", None) is not None:
            state["_model_bytes"] = self._keras_model_bytes()
        return state

    def __setstate__(self, state):
        model_bytes = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if model_bytes is not None:
            keras = import_keras()
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "model.keras")
                with open(path, "wb") as fh:
                    fh.write(model_bytes)
                self.model_ = keras.saving.load_model(path, compile=False)
