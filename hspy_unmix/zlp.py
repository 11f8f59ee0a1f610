"""Near-zero-loss restoration: EELSpecNet-style U-net and Richardson-Lucy.

:func:`restore_zlp` is attached to exspy's EELS signals as
``s.restore_zlp(...)``. The U-net (:func:`hspy_unmix.build_zlp_unet`) is
trained on generated spectra (:func:`hspy_unmix.synthetic.zlp_training_spectra`)
by :func:`train_zlp_model`; a default model trained that way ships with the
package (``hspy_unmix/models/zlp_unet.keras``). Keras is imported only when a
neural function runs.
"""

from __future__ import annotations

import json
import pathlib
import threading
import time

import numpy as np

__all__ = ["restore_zlp", "richardson_lucy", "train_zlp_model", "load_zlp_model",
           "DEFAULT_MODEL_PATH"]

#: The shipped model and its metadata (``.json`` beside it).
DEFAULT_MODEL_PATH = pathlib.Path(__file__).resolve().parent / "models" / "zlp_unet.keras"

#: Generator settings of the shipped model (besides its energy axis): the
#: authors' distribution with a wider noise range (to cover noise amplitudes
#: up to 5e-4 of the integral-normalised spectrum) and a random ZLP position.
TRAINING_GENERATOR = {
    "noise": (1e-7, 5e-2),
    "zlp_shift": (-1.0, 1.0),
}

_MODEL_CACHE: dict = {}


# --------------------------------------------------------------------------
# Richardson-Lucy
# --------------------------------------------------------------------------
def _fft_convolve_same(x: np.ndarray, kernel_ft: np.ndarray, n_fft: int, half: int):
    n = x.shape[-1]
    out = np.fft.irfft(np.fft.rfft(x, n_fft, axis=-1) * kernel_ft, n_fft, axis=-1)
    return out[..., half: half + n]


def richardson_lucy(
    spectra,
    psf,
    iterations: int = 50,
    *,
    eps: float = 1e-12,
    clip_negative: bool = True,
    engine: str = "auto",
) -> np.ndarray:
    """Richardson-Lucy deconvolution of a batch of spectra by a known PSF.

    Iterates ``u <- u * ((d / (u * P)) * P_flipped)`` (``*`` convolution),
    starting from the (non-negative) data, vectorised over spectra with FFT
    convolutions. The algorithm conserves the integral of non-negative data
    (away from the edges) and keeps non-negative estimates non-negative.

    Parameters
    ----------
    spectra
        Array ``(..., channels)`` of spectra (one per row).
    psf
        Point-spread function, 1-D (shared) or ``(..., k)`` per spectrum, with
        its centre at index ``k // 2``; normalised to unit sum here. The
        measured ZLP of a spectrum is a common choice.
    iterations
        Number of iterations (10 to 100 is usual; more sharpens and
        amplifies noise).
    eps
        Floor of the denominator.
    clip_negative
        Set negative data (noise) to zero first, as the algorithm requires
        non-negative data.
    engine
        ``"fft"`` (FFT convolutions, vectorised over spectra), ``"numba"``
        (direct convolution, odd kernel lengths) or ``"auto"`` (numba for
        kernels up to 31 channels, FFT otherwise).

    Returns
    -------
    numpy.ndarray
        Deconvolved spectra, same shape as ``spectra``.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix import richardson_lucy
    >>> x = np.zeros(64); x[32] = 1.0
    >>> psf = np.exp(-0.5 * (np.arange(-8, 9) / 2.0) ** 2)
    >>> blurred = np.convolve(x, psf / psf.sum(), mode="same")
    >>> restored = richardson_lucy(blurred, psf, iterations=200)
    >>> bool(restored.max() > 3 * blurred.max())
    True
    """
    data = np.array(spectra, dtype=np.float64, copy=True)
    if not np.isfinite(data).all():
        raise ValueError("spectra contain NaN or inf values.")
    psf = np.asarray(psf, dtype=np.float64)
    if psf.ndim == 0 or psf.shape[-1] < 1:
        raise ValueError("psf must be 1-D (or one PSF per spectrum).")
    if iterations < 0:
        raise ValueError("iterations must be >= 0.")
    if clip_negative:
        np.clip(data, 0.0, None, out=data)
    elif (data < 0).any():
        raise ValueError("Richardson-Lucy needs non-negative data (use clip_negative=True).")
    psf = np.clip(psf, 0.0, None)
    total = psf.sum(axis=-1, keepdims=True)
    if (total <= 0).any():
        raise ValueError("psf must have a positive sum.")
    psf = psf / total
    n, k = data.shape[-1], psf.shape[-1]
    half = k // 2
    if engine not in ("auto", "fft", "numba"):
        raise ValueError(f"engine must be 'auto', 'fft' or 'numba', got {engine!r}.")
    if engine == "numba" and k % 2 == 0:
        raise ValueError("engine='numba' needs a kernel of odd length.")
    if engine == "numba" or (engine == "auto" and k <= 31 and k % 2 == 1):
        from ._zlp_kernels import richardson_lucy_batch

        flat = data.reshape(-1, n)
        kernels = np.ascontiguousarray(np.broadcast_to(psf.reshape(-1, k), (flat.shape[0], k)))
        return richardson_lucy_batch(flat, kernels, int(iterations), eps).reshape(data.shape)
    n_fft = int(2 ** np.ceil(np.log2(n + k)))
    # Shift so that index `half` of the kernel is the origin of the convolution.
    psf_ft = np.fft.rfft(psf, n_fft, axis=-1)
    flip_ft = np.fft.rfft(psf[..., ::-1], n_fft, axis=-1)
    # With a kernel of odd length the flipped kernel has the same centre; for
    # even lengths the centre moves by one channel, accepted here.
    estimate = data.copy()
    for _ in range(int(iterations)):
        blurred = _fft_convolve_same(estimate, psf_ft, n_fft, half)
        ratio = data / np.maximum(blurred, eps)
        estimate *= _fft_convolve_same(ratio, flip_ft, n_fft, k - 1 - half)
    return estimate


def _measured_zlp_psf(spectra: np.ndarray, half_width: int) -> np.ndarray:
    """Extract each spectrum's ZLP around its maximum as its own kernel."""
    spectra = np.clip(spectra, 0.0, None)
    n, channels = spectra.shape
    centre = spectra.argmax(axis=1)
    offsets = np.arange(-half_width, half_width + 1)
    idx = centre[:, None] + offsets[None, :]
    valid = (idx >= 0) & (idx < channels)
    psf = np.where(valid, spectra[np.arange(n)[:, None], np.clip(idx, 0, channels - 1)], 0.0)
    # Taper so the kernel ends at zero (no step at its edges).
    psf *= np.hanning(2 * half_width + 3)[1:-1][None, :]
    return psf


# --------------------------------------------------------------------------
# Model loading and training
# --------------------------------------------------------------------------
def _model_metadata(path: pathlib.Path) -> dict:
    meta_path = path.with_suffix(".json")
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    return {}


def load_zlp_model(path=None):
    """Load a ZLP restoration model (the shipped one by default).

    Parameters
    ----------
    path
        A ``.keras`` file saved by :func:`train_zlp_model` (or
        ``model.save``). ``None`` loads the model shipped with the package.

    Returns
    -------
    keras.Model
        The model, with its metadata (energy axis of the training data, ...)
        in ``model.zlp_metadata`` (read from the ``.json`` file beside it
        where present).

    Examples
    --------
    >>> from hspy_unmix import load_zlp_model
    >>> model = load_zlp_model()  # doctest: +SKIP
    >>> model.zlp_metadata["dispersion"]  # doctest: +SKIP
    0.005
    """
    from ._optional import import_keras

    keras = import_keras()
    from .neural.layers import zlp_asinh_output, zlp_input_features  # noqa: F401  (register)

    path = DEFAULT_MODEL_PATH if path is None else pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No ZLP model at {path}.")
    model = keras.saving.load_model(path, compile=False)
    meta = {"dispersion": 0.005, "channels": 2048, "offset": -2.0}
    meta.update(_model_metadata(path))
    model.zlp_metadata = meta
    return model


def _model_multiple(model) -> int:
    """Length multiple a U-net needs (2 ** number of pooling layers)."""
    n_pool = sum(1 for layer in model.layers if "Pooling" in type(layer).__name__)
    return 2**n_pool


def _predict(model, spectra: np.ndarray, batch_size: int = 128, bar=None) -> np.ndarray:
    """Run the network on ``(n, channels)`` spectra, normalising each by its sum.

    Spectra are padded (edge values) to the length multiple the network needs
    and to the model's input length when it is fixed; the output is cropped
    back and scaled by each spectrum's sum.
    """
    x = np.asarray(spectra, dtype=np.float64)
    n, c = x.shape
    total = x.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise ValueError(
            f"{int((total <= 0).sum())} spectra have a non-positive integral; "
            "restore_zlp needs spectra with counts (a ZLP)."
        )
    xn = (x / total).astype(np.float32)
    fixed = model.input_shape[1]
    multiple = _model_multiple(model)
    target = fixed if fixed is not None else int(np.ceil(c / multiple) * multiple)
    if fixed is not None and c > fixed:
        raise ValueError(f"spectra have {c} channels, the model takes {fixed}.")
    pad = target - c
    left = pad // 2
    if pad:
        xn = np.pad(xn, ((0, 0), (left, pad - left)), mode="edge")
    out = np.empty((n, c), dtype=np.float64)
    for start in range(0, n, batch_size):
        batch = xn[start:start + batch_size, :, None]
        y = np.asarray(model.predict_on_batch(batch))[..., 0]
        out[start:start + batch_size] = y[:, left:left + c]
        if bar is not None:
            bar.update(len(batch))
    out *= total
    return out


def _default_model():
    if "default" not in _MODEL_CACHE:
        _MODEL_CACHE["default"] = load_zlp_model(None)
    return _MODEL_CACHE["default"]


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
    >>> from hspy_unmix.zlp import zlp_loss
    >>> y = np.full((1, 8, 1), 1e-3, "float32")
    >>> float(zlp_loss(y, y))  # doctest: +SKIP
    0.0
    """
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    lin = ops.mean(ops.square(linear_scale * (y_pred - y_true)))
    log = ops.mean(ops.square(ops.arcsinh(y_pred / eps) - ops.arcsinh(y_true / eps)))
    return lin + log_weight * log


def _crop_starts(rng, zlp_index, channels, crop, zlp_fraction):
    n = zlp_index.size
    starts = rng.integers(0, channels - crop + 1, n)
    around = rng.random(n) < zlp_fraction
    lo = np.clip(zlp_index - crop + crop // 8, 0, channels - crop)
    hi = np.clip(zlp_index - crop // 8, 0, channels - crop)
    span = hi[around] - lo[around] + 1
    starts[around] = lo[around] + (rng.random(around.sum()) * span).astype(int)
    return starts


def _take_crops(x, starts, crop):
    idx = starts[:, None] + np.arange(crop)[None, :]
    return np.take_along_axis(x, idx, axis=1)[..., None]


def train_zlp_model(
    n_train: int = 16384,
    n_val: int = 2048,
    epochs: int = 30,
    *,
    batch_size: int = 32,
    crop: int | None = 512,
    learning_rate: float = 1e-3,
    clipnorm: float | None = 1.0,
    early_stopping_patience: int = 6,
    channels: int = 2048,
    offset: float = -2.0,
    dispersion: float = 0.005,
    generator_kwargs: dict | None = None,
    model=None,
    model_kwargs: dict | None = None,
    loss_kwargs: dict | None = None,
    random_state: int | None = 0,
    save_path=None,
    max_seconds: float | None = None,
    show_progressbar: bool | None = None,
):
    """Train a ZLP restoration U-net on generated spectra.

    Spectra come from :func:`hspy_unmix.synthetic.zlp_training_spectra` on
    the given energy axis (the authors' distribution, widened as in
    ``TRAINING_GENERATOR`` unless ``generator_kwargs`` says otherwise). The
    fully convolutional network is trained on random crops of ``crop``
    channels (half of them containing the ZLP), which is several times faster
    than whole spectra and gives the same network. Adam with a cosine
    learning-rate decay, loss :func:`zlp_loss`, early stopping on the
    validation loss (best weights restored).

    Parameters
    ----------
    n_train, n_val
        Number of training and validation spectra.
    epochs
        Maximum number of epochs.
    batch_size
        Batch size.
    crop
        Crop length in channels (a multiple of ``2 ** depth``), or ``None``
        to train on whole spectra.
    learning_rate
        Initial Adam learning rate.
    clipnorm
        Gradient norm clipping of Adam (the exponential output layer makes
        rare large gradients; ``None`` disables it).
    early_stopping_patience
        Epochs without validation improvement before stopping.
    channels, offset, dispersion
        Energy axis of the generated spectra (eV); restore_zlp requires data
        with this dispersion (within a tolerance).
    generator_kwargs
        Extra arguments of :func:`~hspy_unmix.synthetic.zlp_training_spectra`.
    model
        A Keras model to train (default: :func:`hspy_unmix.build_zlp_unet`
        with ``model_kwargs``).
    model_kwargs
        Arguments of :func:`hspy_unmix.build_zlp_unet`.
    loss_kwargs
        Arguments of :func:`zlp_loss`.
    random_state
        Seed of data, weights and crops (Keras global seed too).
    save_path
        Where to save the model (``.keras``) and its metadata (``.json``).
    max_seconds
        Stop after the epoch that exceeds this wall time (a safety net on
        busy machines; the number of epochs run is recorded).
    show_progressbar
        Show a progress bar over epochs (``None``: HyperSpy's preference).

    Returns
    -------
    model : keras.Model
        The trained model (``model.zlp_metadata`` holds its energy axis).
    history : dict
        Loss per epoch (``"loss"``, ``"val_loss"``) and ``"seconds"``.

    Examples
    --------
    >>> from hspy_unmix import train_zlp_model
    >>> model, history = train_zlp_model(256, 64, epochs=1,
    ...     model_kwargs={"depth": 3, "base_filters": 4})  # doctest: +SKIP
    """
    from ._optional import import_keras
    from ._progress import progress_bar
    from .neural.unet import build_zlp_unet
    from .synthetic.zlp import zlp_training_spectra

    keras = import_keras()
    seed = 0 if random_state is None else int(random_state)
    keras.utils.set_random_seed(seed)
    gen_kwargs = dict(TRAINING_GENERATOR)
    gen_kwargs.update(generator_kwargs or {})
    rng = np.random.default_rng(seed)
    axis = {"channels": channels, "offset": offset, "dispersion": dispersion}
    x_train, y_train, _, p_train = zlp_training_spectra(
        n_train, **axis, dtype=np.float32, random_state=rng, return_params=True, **gen_kwargs)
    x_val, y_val, _, p_val = zlp_training_spectra(
        n_val, **axis, dtype=np.float32, random_state=rng, return_params=True, **gen_kwargs)
    zlp_train = np.rint((p_train["zlp_energy"] - offset) / dispersion).astype(int)
    zlp_val = np.rint((p_val["zlp_energy"] - offset) / dispersion).astype(int)

    model_kwargs = dict(model_kwargs or {})
    if model is None:
        model = build_zlp_unet(None if crop else channels, seed=seed, **model_kwargs)
    crop_len = crop or channels
    if crop_len > channels:
        raise ValueError("crop must not exceed channels.")
    val_starts = _crop_starts(rng, zlp_val, channels, crop_len, 0.5)
    xv, yv = _take_crops(x_val, val_starts, crop_len), _take_crops(y_val, val_starts, crop_len)

    class _Crops(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self._draw()

        def _draw(self):
            r = np.random.default_rng([seed, 1, self.epoch])
            self.order = r.permutation(n_train)
            self.starts = _crop_starts(r, zlp_train, channels, crop_len, 0.5)

        def __len__(self):
            return n_train // batch_size

        def __getitem__(self, i):
            sel = self.order[i * batch_size:(i + 1) * batch_size]
            st = self.starts[sel]
            return _take_crops(x_train[sel], st, crop_len), _take_crops(y_train[sel], st, crop_len)

        def on_epoch_end(self):
            self.epoch += 1
            self._draw()

    loss_kwargs = dict(loss_kwargs or {})

    def loss(y_true, y_pred):
        return zlp_loss(y_true, y_pred, **loss_kwargs)

    steps = max(1, n_train // batch_size) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=clipnorm), loss=loss)
    t0 = time.perf_counter()
    with progress_bar(epochs, "Training ZLP U-net", show_progressbar) as bar:

        class _Bar(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                bar.update(1)
                bar.set_postfix(loss=f"{logs.get('loss', np.nan):.3g}",
                                val_loss=f"{logs.get('val_loss', np.nan):.3g}")

        class _TimeLimit(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                    self.model.stop_training = True

        callbacks = [_Bar(), _TimeLimit(), keras.callbacks.EarlyStopping(
            patience=early_stopping_patience, restore_best_weights=True)]
        fit = model.fit(_Crops(), validation_data=(xv, yv), epochs=epochs,
                        batch_size=batch_size, callbacks=callbacks, verbose=0)
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    history["seconds"] = time.perf_counter() - t0
    meta = {
        **axis,
        "training_seed": seed,
        "n_train": n_train,
        "n_val": n_val,
        "epochs_run": len(history.get("loss", [])),
        "crop": crop,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "clipnorm": clipnorm,
        "generator": {k: list(v) if isinstance(v, tuple) else v for k, v in gen_kwargs.items()},
        "model_kwargs": model_kwargs,
        "loss_kwargs": loss_kwargs,
        "best_val_loss": min(history.get("val_loss", [np.nan])),
        "training_seconds": round(history["seconds"], 1),
        "keras_version": keras.__version__,
    }
    model.zlp_metadata = meta
    if save_path is not None:
        save_zlp_model(model, save_path)
    return model, history


def save_zlp_model(model, path) -> None:
    """Save ``model`` (``.keras``, weights and architecture, no optimizer state)
    and ``model.zlp_metadata`` (``.json`` beside it).

    Examples
    --------
    >>> from hspy_unmix.zlp import save_zlp_model
    >>> save_zlp_model(model, "my_zlp_model.keras")  # doctest: +SKIP
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Rebuilt uncompiled: no optimizer state, no loss closure in the file.
    bare = type(model).from_config(model.get_config())
    bare.set_weights(model.get_weights())
    bare.save(path)
    meta = getattr(model, "zlp_metadata", {})
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, default=float) + "\n")


# --------------------------------------------------------------------------
# Signal method
# --------------------------------------------------------------------------
_METHODS = ("unet", "richardson_lucy")


def _check_signal(signal):
    from hyperspy.signals import BaseSignal

    if not isinstance(signal, BaseSignal):
        raise TypeError(f"restore_zlp needs a HyperSpy signal, got {type(signal).__name__}.")
    if signal.axes_manager.signal_dimension != 1:
        raise ValueError(
            "restore_zlp needs a spectrum (signal dimension 1); got signal "
            f"dimension {signal.axes_manager.signal_dimension}."
        )
    if np.iscomplexobj(signal.data):
        raise TypeError("restore_zlp needs real spectra, got complex data.")
    axis = signal.axes_manager.signal_axes[0]
    if not getattr(axis, "is_uniform", True):
        raise ValueError(
            "restore_zlp needs a uniform energy axis; convert it first (for "
            "example with s.interpolate_on_axis on a UniformDataAxis)."
        )
    if axis.size < 16:
        raise ValueError(f"restore_zlp needs at least 16 channels, got {axis.size}.")
    return axis


def _check_block(x: np.ndarray, negative_tolerance: float) -> None:
    if not np.isfinite(x).all():
        n_bad = int(np.size(x) - np.isfinite(x).sum())
        raise ValueError(f"The spectra contain {n_bad} NaN or inf values; remove or "
                         "replace them before restore_zlp.")
    total = x.sum(axis=-1)
    if (total <= 0).any():
        raise ValueError(f"{int((total <= 0).sum())} spectra have a non-positive integral "
                         "(all zero or negative); restore_zlp needs spectra with a ZLP.")
    neg = np.clip(x, None, 0.0).sum(axis=-1) / np.abs(x).sum(axis=-1)
    if (-neg > negative_tolerance).any():
        raise ValueError(
            f"{int((-neg > negative_tolerance).sum())} spectra are negative-heavy (more "
            f"than {negative_tolerance:.0%} of their absolute intensity below zero); "
            "check the dark reference / offset. Small negatives from noise are fine."
        )


def _plan_axis(axis, meta, tolerance):
    """Return (resample, message) for the signal axis against the model's axis."""
    model_disp = float(meta.get("dispersion", 0.005))
    scale = float(axis.scale)
    rel = abs(abs(scale) - model_disp) / model_disp
    if scale <= 0:
        raise ValueError("restore_zlp needs an increasing energy axis (positive scale).")
    if rel > tolerance:
        raise ValueError(
            f"The energy axis has a dispersion of {scale:g} {axis.units or 'eV'}/channel; "
            f"the model was trained at {model_disp:g} (tolerance {tolerance:.0%}). "
            f"Train a model for this dispersion with hspy_unmix.train_zlp_model("
            f"dispersion={scale:g}, ...) and pass it as model=, or use "
            "method='richardson_lucy'."
        )
    return rel > 1e-9


def _restore_block_unet(block, model, meta, scale, batch_size, negative_tolerance, bar=None):
    shape = block.shape
    flat = np.asarray(block).reshape(-1, shape[-1])
    out = np.empty(flat.shape, dtype=_output_dtype(flat.dtype))
    model_disp = float(meta.get("dispersion", 0.005))
    resample = abs(scale - model_disp) > 1e-12 * model_disp
    if resample:
        c = shape[-1]
        src = np.arange(c) * scale
        n_new = int(np.floor(src[-1] / model_disp)) + 1
        dst = np.arange(n_new) * model_disp
    # float64 work arrays are several times a part: bound them, whatever the chunk
    for start in range(0, flat.shape[0], _UNET_PART):
        x = np.asarray(flat[start:start + _UNET_PART], dtype=np.float64)
        _check_block(x, negative_tolerance)
        # Resample on the model's dispersion (linear), restore, resample back.
        xin = np.stack([np.interp(dst, src, row) for row in x]) if resample else x
        with _PREDICT_LOCK:
            y = _predict(model, xin, batch_size, bar)
        if resample:
            y = np.stack([np.interp(src, dst, row) for row in y])
            y *= x.sum(axis=1, keepdims=True) / np.maximum(y.sum(axis=1, keepdims=True), 1e-300)
        out[start:start + _UNET_PART] = y
    return out.reshape(shape)


#: Spectra restored together by ``restore_zlp(method="unet")`` within a block.
_UNET_PART = 4096
#: One network call at a time per process: the framework already uses every
#: core for one call, and concurrent calls from dask threads only multiply
#: the memory of the activations.
_PREDICT_LOCK = threading.Lock()


def _output_dtype(dtype) -> np.dtype:
    """float32 data stay float32; everything else is restored as float64."""
    return np.dtype(np.float32) if np.dtype(dtype) == np.float32 else np.dtype(np.float64)


def _restore_block_rl(block, psf, iterations, half_width, negative_tolerance):
    shape = block.shape
    x = np.asarray(block, dtype=np.float64).reshape(-1, shape[-1])
    _check_block(x, negative_tolerance)
    out = np.empty(x.shape, dtype=_output_dtype(np.asarray(block).dtype))
    # FFT work arrays are several times the batch: bound them, whatever the chunk
    for start in range(0, x.shape[0], _RL_BATCH):
        part = x[start:start + _RL_BATCH]
        kernel = _measured_zlp_psf(part, half_width) if psf is None else psf
        out[start:start + _RL_BATCH] = richardson_lucy(part, kernel, iterations)
    return out.reshape(shape)


#: Spectra deconvolved together by ``restore_zlp(method="richardson_lucy")``.
_RL_BATCH = 512


def _resolve_model(model):
    if model is None:
        return _default_model(), "default (hspy_unmix/models/zlp_unet.keras)"
    if isinstance(model, (str, pathlib.Path)):
        key = str(pathlib.Path(model).resolve())
        if key not in _MODEL_CACHE:
            _MODEL_CACHE[key] = load_zlp_model(model)
        return _MODEL_CACHE[key], key
    if hasattr(model, "predict_on_batch"):
        if not hasattr(model, "zlp_metadata"):
            model.zlp_metadata = {"dispersion": 0.005, "channels": 2048, "offset": -2.0}
        return model, getattr(model, "name", "keras model")
    raise TypeError("model must be None, a path to a .keras file or a Keras model.")


def restore_zlp(
    self,
    model=None,
    method: str = "unet",
    *,
    iterations: int = 50,
    psf=None,
    psf_half_width: float = 0.5,
    batch_size: int = 128,
    dispersion_tolerance: float = 0.05,
    negative_tolerance: float = 0.2,
    show_progressbar: bool | None = None,
    lazy_output: bool | None = None,
):
    """Restore near-zero-loss spectra: remove jitter, PSF blur and noise.

    ``method="unet"`` runs an EELSpecNet-style U-net trained on generated
    spectra (:func:`hspy_unmix.train_zlp_model`); ``"richardson_lucy"``
    deconvolves by a known PSF or, by default, by each spectrum's own ZLP.

    Parameters
    ----------
    model
        ``None`` (the model shipped with the package, loaded once and
        cached), a path to a ``.keras`` file, or a Keras model. Ignored by
        Richardson-Lucy.
    method
        ``"unet"`` or ``"richardson_lucy"``.
    iterations
        Richardson-Lucy iterations.
    psf
        Richardson-Lucy kernel (1-D, centre at ``len(psf) // 2``); ``None``
        takes each spectrum's ZLP: the channels within ``psf_half_width`` eV
        of its maximum, tapered by a Hann window. With that kernel the ZLP
        is deconvolved by itself and collapses towards a single channel,
        and loss features are sharpened by the same instrument response.
    psf_half_width
        Half width (eV) of the measured-ZLP kernel.
    batch_size
        Spectra per network call.
    dispersion_tolerance
        Relative difference between the data's and the model's dispersion
        up to which spectra are linearly resampled on the model's
        dispersion, restored and resampled back (the integral is kept);
        beyond it a ``ValueError`` points to :func:`train_zlp_model`.
    negative_tolerance
        Largest fraction of a spectrum's absolute intensity allowed below
        zero; more means a wrong dark reference and raises ``ValueError``
        (small negatives from noise are fine).
    show_progressbar
        Progress bar over spectra (eager signals; ``None``: HyperSpy's
        preference).
    lazy_output
        Return a lazy signal; default: the same as the input.

    Returns
    -------
    EELSSpectrum or LazyEELSSpectrum
        A new signal on the same axes, in the input's intensity units (each
        spectrum is normalised by its integral before the network and scaled
        back after). ``metadata.Signal.restore_zlp`` records the method,
        model, iterations and axis handling. The input is not modified.

    Notes
    -----
    The network is fully convolutional: any number of channels works (the
    spectrum is padded with its edge values to the multiple of 32 the network
    needs and cropped back) and the ZLP may sit anywhere in the window. The
    dispersion must match the model's within ``dispersion_tolerance`` (the
    shipped model: 5 meV/channel, for monochromated near-zero-loss data).
    Integer data are converted to float64; NaN/inf, all-zero spectra,
    negative-heavy spectra, non-uniform energy axes and signals that are not
    spectra raise clear errors.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import zlp_test_signal
    >>> s, truth = zlp_test_signal((2, 2), random_state=0)
    >>> restored = s.restore_zlp()  # doctest: +SKIP
    >>> rl = s.restore_zlp(method="richardson_lucy", iterations=50)
    >>> rl.metadata.Signal.restore_zlp.method
    'richardson_lucy'
    """
    from ._progress import progress_bar

    method = str(method).lower().replace("-", "_")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    axis = _check_signal(self)
    lazy_in = bool(getattr(self, "_lazy", False))
    lazy_out = lazy_in if lazy_output is None else bool(lazy_output)
    record = {"method": method}
    if method == "unet":
        net, model_name = _resolve_model(model)
        meta = net.zlp_metadata
        resampled = _plan_axis(axis, meta, dispersion_tolerance)
        record.update(model=model_name, model_dispersion=float(meta.get("dispersion", 0.005)),
                      resampled=bool(resampled))
        scale = float(axis.scale)

        def func(block, bar=None):
            return _restore_block_unet(block, net, meta, scale, batch_size,
                                       negative_tolerance, bar)
    else:
        if iterations < 0:
            raise ValueError("iterations must be >= 0.")
        kernel = None
        if psf is not None:
            kernel = np.asarray(psf, dtype=np.float64)
            if kernel.ndim != 1 or not np.isfinite(kernel).all() or kernel.sum() <= 0:
                raise ValueError("psf must be a finite 1-D kernel with a positive sum.")
        half_width = max(2, int(round(psf_half_width / abs(axis.scale))))
        record.update(iterations=int(iterations),
                      psf="given" if kernel is not None else "measured ZLP",
                      psf_half_width=float(psf_half_width))

        def func(block, bar=None):
            out = _restore_block_rl(block, kernel, iterations, half_width, negative_tolerance)
            if bar is not None:
                bar.update(int(np.prod(block.shape[:-1])))
            return out

    data = self.data
    if lazy_in:
        sig_chunks = data.chunks[:-1] + (data.shape[-1],)
        data = data.rechunk(sig_chunks)
        new = data.map_blocks(func, dtype=_output_dtype(data.dtype))
    else:
        arr = np.asarray(data)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"restore_zlp needs real numbers, got dtype {arr.dtype}.")
        n_spectra = int(np.prod(arr.shape[:-1]))
        with progress_bar(n_spectra, f"restore_zlp ({method})", show_progressbar) as bar:
            new = func(arr, bar)
    out = self._deepcopy_with_new_data(new)
    if lazy_out and not lazy_in:
        out = out.as_lazy()
    elif lazy_in and not lazy_out:
        out.compute(show_progressbar=show_progressbar)
    out.metadata.set_item("Signal.restore_zlp", record)
    title = self.metadata.get_item("General.title", "")
    out.metadata.set_item("General.title", f"{title} (ZLP restored)".strip())
    return out
