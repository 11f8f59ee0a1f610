"""Saving and loading fitted estimators.

One file per estimator, a zip archive with

* ``hspy_unmix_estimator.json``: class name, parameters, package version;
* ``hspy_unmix_arrays.npz``: fitted numpy attributes;
* for neural estimators, the Keras model members (``config.json``,
  ``metadata.json``, ``model.weights.h5``) at the top level, so that the file
  is also a valid ``.keras`` file that :func:`keras.saving.load_model` opens.

No pickle is used: loading a file never executes code from it.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

META = "hspy_unmix_estimator.json"
ARRAYS = "hspy_unmix_arrays.npz"


def save_estimator(estimator, path) -> None:
    """Write ``estimator`` to ``path`` (see module docstring for the format).

    Parameters
    ----------
    estimator : object
        A fitted hspy_unmix estimator (``estimator.save(path)`` calls this);
        a pending :meth:`~hspy_unmix.VCA.partial_fit` sample is fitted first.
    path : str or path-like
        File to write, replaced atomically if it exists.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from hspy_unmix import VCA
    >>> from hspy_unmix.io import load_estimator, save_estimator
    >>> X = np.random.default_rng(0).random((50, 8))
    >>> vca = VCA(n_components=3, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "vca.zip")
    >>> save_estimator(vca, path)
    >>> np.array_equal(load_estimator(path).components_, vca.components_)
    True
    """
    from .. import __version__

    if not hasattr(estimator, "n_features_in_"):
        raise ValueError("Only a fitted estimator can be saved; call fit first.")
    if hasattr(estimator, "finish_partial_fit"):
        estimator.finish_partial_fit()
    path = os.fspath(path)
    params = estimator.get_params(deep=False)
    try:
        params_json = json.dumps(params)
    except TypeError as exc:
        raise TypeError(
            f"Parameters of {type(estimator).__name__} are not JSON-serialisable: {exc}"
        ) from exc
    meta = {
        "class": type(estimator).__name__,
        "module": type(estimator).__module__,
        "params": json.loads(params_json),
        "hspy_unmix_version": __version__,
        "extra": getattr(estimator, "_extra_state", lambda: {})(),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **estimator._fitted_arrays())
    keras_bytes = None
    if hasattr(estimator, "_keras_model_bytes"):
        keras_bytes = estimator._keras_model_bytes()
    tmp = path + ".tmp"
    if keras_bytes is not None:
        with open(tmp, "wb") as fh:
            fh.write(keras_bytes)
        mode = "a"
    else:
        mode = "w"
    with zipfile.ZipFile(tmp, mode, compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(META, json.dumps(meta, indent=1))
        zf.writestr(ARRAYS, buffer.getvalue())
    os.replace(tmp, path)  # never leave a half-written file under the user's name


def load_estimator(path):
    """Load an estimator written by ``estimator.save(path)``.

    Parameters
    ----------
    path : str or os.PathLike
        File written by :meth:`save`.

    Returns
    -------
    estimator
        The fitted estimator, ready for ``transform`` or
        ``signal.apply_unmixing(estimator)``.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> est = hspy_unmix.VCA(n_components=3, random_state=0).fit(
    ...     s.data.reshape(-1, s.data.shape[-1]))
    >>> est.save("vca.zip")  # doctest: +SKIP
    >>> est2 = hspy_unmix.load_estimator("vca.zip")  # doctest: +SKIP
    """
    import importlib

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not an estimator file written by hspy_unmix.")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if META not in names:
            raise ValueError(f"{path} is not an estimator file written by hspy_unmix.")
        meta = json.loads(zf.read(META))
        with np.load(io.BytesIO(zf.read(ARRAYS))) as npz:
            arrays = {k: npz[k] for k in npz.files}
    module_name = str(meta.get("module", ""))
    # checked before anything is imported: a file must not make us import
    # (run) a module of another package
    if module_name != "hspy_unmix" and not module_name.startswith("hspy_unmix."):
        raise ValueError(f"{path} names a class outside hspy_unmix: {module_name}")
    module = importlib.import_module(module_name)
    cls = getattr(module, meta["class"])
    estimator = cls(**meta["params"])
    estimator._restore_arrays(arrays)
    if hasattr(estimator, "_restore_extra_state"):
        estimator._restore_extra_state(meta.get("extra", {}), path)
    return estimator
