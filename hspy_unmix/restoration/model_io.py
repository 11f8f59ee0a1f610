"""Locating, describing, loading and running the ZLP restoration models.

A model is a ``.keras`` file with a ``.json`` file of metadata beside it.
:func:`model_metadata` reads the metadata without importing Keras, so that
:func:`hspy_unmix.signals.restore_zlp.restore_zlp` can refuse data it cannot
restore before the (slow) framework import.
"""

from __future__ import annotations

import json
import pathlib
import threading

import numpy as np

__all__ = ["DEFAULT_MODEL_PATH", "load_zlp_model", "model_metadata"]

#: The shipped model and its metadata (``.json`` beside it).
DEFAULT_MODEL_PATH = pathlib.Path(__file__).resolve().parent / "models" / "zlp_unet.keras"

#: Measured ZLP widths (FWHM, channels) a model restores without resampling,
#: unless its metadata says otherwise; the training spectra span about 4-50.
DEFAULT_NATIVE_FWHM = (5.0, 40.0)

_MODEL_CACHE: dict = {}
#: One network call at a time per process: the framework already uses every
#: core for one call, and concurrent calls from dask threads only multiply
#: the memory of the activations.
PREDICT_LOCK = threading.Lock()


def _with_defaults(meta: dict) -> dict:
    """Fill in what a model's metadata may lack (older or hand-built models)."""
    meta.setdefault("units", "channels")
    meta.setdefault("native_fwhm_channels", list(DEFAULT_NATIVE_FWHM))
    meta.setdefault("truth_fwhm_channels", 3.0)
    return meta


def model_metadata(path=None) -> dict:
    """Metadata of a model file (the shipped one by default), without Keras.

    Parameters
    ----------
    path : str, path-like or None
        The model's ``.keras`` file (its metadata are the ``.json`` beside
        it); None: :data:`DEFAULT_MODEL_PATH`.

    Returns
    -------
    dict
        The metadata, with defaults for what an older model lacks
        (``units``, ``native_fwhm_channels``, ``truth_fwhm_channels``).

    Examples
    --------
    >>> from hspy_unmix.restoration import model_metadata
    >>> model_metadata()["units"]
    'channels'
    """
    path = DEFAULT_MODEL_PATH if path is None else pathlib.Path(path)
    meta_path = path.with_suffix(".json")
    return _with_defaults(json.loads(meta_path.read_text()) if meta_path.exists() else {})


def load_zlp_model(path=None):
    """Load a ZLP restoration model (the shipped one by default).

    Parameters
    ----------
    path
        A ``.keras`` file saved by :func:`hspy_unmix.train_zlp_model` (or
        ``model.save``). ``None`` loads the model shipped with the package.

    Returns
    -------
    keras.Model
        The model, with its metadata in ``model.zlp_metadata`` (read from the
        ``.json`` file beside it where present).

    Examples
    --------
    >>> from hspy_unmix import load_zlp_model
    >>> model = load_zlp_model()  # doctest: +SKIP
    >>> model.zlp_metadata["native_fwhm_channels"]  # doctest: +SKIP
    [5.0, 40.0]
    """
    from .._optional import import_keras

    keras = import_keras()
    from .layers import zlp_asinh_output, zlp_input_features  # noqa: F401  (register)

    path = DEFAULT_MODEL_PATH if path is None else pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No ZLP model at {path}.")
    model = keras.saving.load_model(path, compile=False)
    model.zlp_metadata = model_metadata(path)
    return model


def resolve_model(model):
    """``(metadata, loader, name)`` for ``model`` (None, a path or a Keras model).

    ``loader()`` returns the Keras model (loaded once per process and cached);
    nothing is imported before it is called.
    """
    if model is None or isinstance(model, (str, pathlib.Path)):
        path = DEFAULT_MODEL_PATH if model is None else pathlib.Path(model)
        if not path.exists():
            raise FileNotFoundError(f"No ZLP model at {path}.")
        key = str(path.resolve())
        name = "default (hspy_unmix/restoration/models/zlp_unet.keras)" if model is None else key

        def loader():
            if key not in _MODEL_CACHE:
                _MODEL_CACHE[key] = load_zlp_model(path)
            return _MODEL_CACHE[key]

        return model_metadata(path), loader, name
    if hasattr(model, "predict_on_batch"):
        meta = _with_defaults(dict(getattr(model, "zlp_metadata", {}) or {}))
        return meta, (lambda: model), getattr(model, "name", "keras model")
    raise TypeError("model must be None, a path to a .keras file or a Keras model.")


def _length_multiple(model) -> int:
    """Length multiple a U-net needs (2 ** number of pooling layers)."""
    n_pool = sum(1 for layer in model.layers if "Pooling" in type(layer).__name__)
    return 2**n_pool


def predict_spectra(model, spectra: np.ndarray, batch_size: int = 128, bar=None) -> np.ndarray:
    """Run the network on ``(n, channels)`` spectra with positive integrals.

    Each spectrum is divided by its sum, padded (edge values) to the length
    multiple the network needs, restored, cropped back and scaled by its sum.
    """
    x = np.asarray(spectra, dtype=np.float64)
    n, c = x.shape
    total = x.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise ValueError(f"{int((total <= 0).sum())} spectra have a non-positive integral.")
    xn = (x / total).astype(np.float32)
    fixed = model.input_shape[1]
    multiple = _length_multiple(model)
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
        with PREDICT_LOCK:
            y = np.asarray(model.predict_on_batch(batch))[..., 0]
        out[start:start + batch_size] = y[:, left:left + c]
        if bar is not None:
            bar.update(len(batch))
    out *= total
    return out
