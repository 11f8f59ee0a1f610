"""Training of the ZLP restoration U-net: its loss and :func:`train_zlp_model`.

The network learns, on spectra of :func:`hspy_unmix.synthetic.zlp_broad.zlp_broad_spectra`
(channel units, many PSF shapes, jitter and noise models), to map an
integral-normalised distorted spectrum to its restored truth. Keras is
imported only when training runs.
"""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np

__all__ = ["zlp_loss", "train_zlp_model", "save_zlp_model"]


def zlp_loss(y_true, y_pred, linear_scale: float = 10.0, eps: float = 1e-5,
             log_weight: float = 0.01):
    """Training loss: linear MSE plus a weighted MSE of ``asinh(x / eps)``.

    The linear term fits the ZLP; the log-like term makes weak loss peaks and
    the near-zero background matter, which a linear loss alone ignores.

    Parameters
    ----------
    y_true, y_pred
        Integral-normalised spectra (tensors of the same shape).
    linear_scale
        Factor applied to the difference in the linear term.
    eps
        Intensity below which ``asinh`` is linear.
    log_weight
        Weight of the log-like term.

    Returns
    -------
    tensor
        Scalar loss.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.restoration import zlp_loss
    >>> y = np.full((1, 8, 1), 1e-3, "float32")
    >>> float(zlp_loss(y, y))  # doctest: +SKIP
    0.0
    """
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    lin = ops.mean(ops.square(linear_scale * (y_pred - y_true)))
    log = ops.mean(ops.square(ops.arcsinh(y_pred / eps) - ops.arcsinh(y_true / eps)))
    return lin + log_weight * log


def _generate(n, channels, seed, bar=None, ranges=None):
    from ..synthetic.zlp_broad import zlp_broad_spectra

    xs, ys = [], []
    for i, start in enumerate(range(0, n, 2048)):
        m = min(2048, n - start)
        x, y = zlp_broad_spectra(m, channels=channels, ranges=ranges,
                                 random_state=np.random.default_rng([seed, i]))
        xs.append(x)
        ys.append(y)
        if bar is not None:
            bar.update(m)
    return np.concatenate(xs)[..., None], np.concatenate(ys)[..., None]


def train_zlp_model(
    n_train: int = 24576,
    n_val: int = 1024,
    epochs: int = 50,
    *,
    schedule_epochs: int | None = None,
    channels: int = 512,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    clipnorm: float | None = 1.0,
    early_stopping_patience: int = 8,
    generator_ranges: dict | None = None,
    model=None,
    model_kwargs: dict | None = None,
    loss_kwargs: dict | None = None,
    random_state: int | None = 0,
    save_path=None,
    checkpoint_path=None,
    max_seconds: float | None = None,
    log_path=None,
    show_progressbar: bool | None = None,
):
    """Train a ZLP restoration U-net on broad generated spectra (channel units).

    Spectra come from :func:`hspy_unmix.synthetic.zlp_broad.zlp_broad_spectra`
    (windows of ``channels`` channels; the fully convolutional network is
    then applied to spectra of any length). Adam with a cosine learning-rate
    decay, loss :func:`zlp_loss`, early stopping on the validation loss with
    the best weights restored.

    Parameters
    ----------
    n_train, n_val
        Number of training and validation spectra.
    epochs
        Maximum number of epochs.
    schedule_epochs
        Length of the cosine learning-rate decay in epochs (default:
        ``epochs``); a longer one stops a run part-way down the decay.
    channels
        Window length (a multiple of ``2 ** depth``).
    batch_size
        Batch size.
    learning_rate
        Initial Adam learning rate.
    clipnorm
        Gradient norm clipping of Adam (``None`` disables it).
    early_stopping_patience
        Epochs without validation improvement before stopping.
    generator_ranges
        Overrides of :data:`hspy_unmix.synthetic.zlp_broad.BROAD_RANGES`.
    model
        A Keras model to train (default: :func:`hspy_unmix.build_zlp_unet`
        with ``model_kwargs``).
    model_kwargs
        Arguments of :func:`hspy_unmix.build_zlp_unet`.
    loss_kwargs
        Arguments of :func:`zlp_loss`.
    random_state
        Seed of data, weights and batch order (Keras global seed too).
    save_path
        Where to save the final model (``.keras``) and metadata (``.json``).
    checkpoint_path
        Where to save the best model after each improving epoch (a long
        run that is stopped keeps its best model there).
    max_seconds
        Stop after the epoch that exceeds this wall time.
    log_path
        Append one JSON line per epoch (loss, val_loss, seconds) to this file.
    show_progressbar
        Progress bars over data generation and epochs (``None``: HyperSpy's
        preference).

    Returns
    -------
    model : keras.Model
        The trained model (``model.zlp_metadata`` holds its settings).
    history : dict
        Loss per epoch (``"loss"``, ``"val_loss"``) and ``"seconds"``.

    Examples
    --------
    >>> from hspy_unmix.restoration import train_zlp_model
    >>> model, history = train_zlp_model(256, 64, epochs=1, channels=128,
    ...     model_kwargs={"depth": 3, "base_filters": 4})  # doctest: +SKIP
    """
    from .._optional import import_keras
    from .._progress import progress_bar
    from .unet import build_zlp_unet

    keras = import_keras()
    seed = 0 if random_state is None else int(random_state)
    keras.utils.set_random_seed(seed)
    t0 = time.perf_counter()
    with progress_bar(n_train + n_val, "Generating ZLP spectra", show_progressbar) as bar:
        x_train, y_train = _generate(n_train, channels, seed, bar, generator_ranges)
        x_val, y_val = _generate(n_val, channels, seed + 1_000_003, bar, generator_ranges)
    t_gen = time.perf_counter() - t0

    model_kwargs = dict(model_kwargs or {})
    if model is None:
        model = build_zlp_unet(None, seed=seed, **model_kwargs)
    loss_kwargs = dict(loss_kwargs or {})

    def loss(y_true, y_pred):
        return zlp_loss(y_true, y_pred, **loss_kwargs)

    steps = max(1, n_train // batch_size) * (schedule_epochs or epochs)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=clipnorm), loss=loss)
    meta = {
        "units": "channels",
        "truth_fwhm_channels": 3.0,
        "native_fwhm_channels": [5.0, 40.0],
        "training_seed": seed,
        "n_train": n_train,
        "n_val": n_val,
        "channels": channels,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "schedule_epochs": schedule_epochs or epochs,
        "clipnorm": clipnorm,
        "generator": "hspy_unmix.synthetic.zlp_broad.zlp_broad_spectra",
        "generator_ranges": generator_ranges or {},
        "model_kwargs": model_kwargs,
        "loss_kwargs": loss_kwargs,
        "keras_version": keras.__version__,
    }
    for p in (log_path, checkpoint_path, save_path):
        if p is not None:
            pathlib.Path(p).parent.mkdir(parents=True, exist_ok=True)
    t1 = time.perf_counter()
    best = {"val": np.inf, "weights": None}
    with progress_bar(epochs, "Training ZLP U-net", show_progressbar) as bar:

        class _Monitor(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                bar.update(1)
                bar.set_postfix(loss=f"{logs.get('loss', np.nan):.3g}",
                                val_loss=f"{logs.get('val_loss', np.nan):.3g}")
                val = float(logs.get("val_loss", np.inf))
                if log_path is not None:
                    with open(log_path, "a") as fh:
                        fh.write(json.dumps({"epoch": epoch, "loss": float(logs.get("loss", 0)),
                                             "val_loss": val,
                                             "seconds": round(time.perf_counter() - t1, 1)})
                                 + "\n")
                if val < best["val"]:
                    best.update(val=val, weights=self.model.get_weights(), epoch=epoch + 1)
                    if checkpoint_path is not None:
                        self.model.zlp_metadata = dict(meta, epochs_run=epoch + 1,
                                                       best_val_loss=val)
                        save_zlp_model(self.model, checkpoint_path)
                if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                    self.model.stop_training = True

        callbacks = [_Monitor(), keras.callbacks.EarlyStopping(
            patience=early_stopping_patience, restore_best_weights=True)]
        fit = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs,
                        batch_size=batch_size, shuffle=True, callbacks=callbacks, verbose=0)
    if best["weights"] is not None:  # the best epoch, whether or not training stopped early
        model.set_weights(best["weights"])
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    history["seconds"] = time.perf_counter() - t0
    meta.update(
        epochs_run=len(history.get("loss", [])),
        best_epoch=best.get("epoch"),
        best_val_loss=min(history.get("val_loss", [np.nan])),
        generation_seconds=round(t_gen, 1),
        training_seconds=round(history["seconds"], 1),
    )
    model.zlp_metadata = meta
    if save_path is not None:
        save_zlp_model(model, save_path)
    return model, history


def save_zlp_model(model, path) -> None:
    """Save a ZLP model and its metadata.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`train_zlp_model` or :func:`load_zlp_model`.
    path : str or path-like
        The ``.keras`` file to write (weights and architecture, no optimizer
        state); ``model.zlp_metadata`` goes to the ``.json`` beside it.

    Examples
    --------
    >>> from hspy_unmix.restoration import save_zlp_model
    >>> save_zlp_model(model, "my_zlp_model.keras")  # doctest: +SKIP
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Rebuilt uncompiled: no optimizer state, no loss closure in the file.
    bare = type(model).from_config(model.get_config())
    bare.set_weights(model.get_weights())
    tmp = path.with_name(path.stem + ".tmp.keras")
    bare.save(tmp)
    tmp.replace(path)
    meta = getattr(model, "zlp_metadata", {})
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, default=float) + "\n")
