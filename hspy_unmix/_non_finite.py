"""Spectra holding NaN or inf values: left out, counted, said.

A few bad pixels (a read-out glitch, a frame blanked by the acquisition
software, a pixel a drift correction could not fill) must not fail a whole
spectrum image. ``decomposition`` and ``apply_unmixing`` with an hspy_unmix
algorithm therefore

* leave such spectra out of the fit (the patch-based CNNAEU, which needs
  every pixel of the image, sees each of them replaced by the spectrum of its
  nearest finite pixel instead),
* give them NaN abundances and mark them in
  ``learning_results.navigation_mask`` (HyperSpy's own convention for the
  pixels a decomposition did not use),
* say how many there were in one :class:`UserWarning`.

Only a signal whose every spectrum holds NaN or inf raises. The estimators
themselves (scikit-learn style, :mod:`hspy_unmix._validation`) keep
refusing NaN/inf in the arrays they are given.
"""

from __future__ import annotations

import warnings

import numpy as np


def non_finite_rows(X) -> np.ndarray:
    """Boolean per row of ``X`` (n, channels): the row holds a NaN or an inf.

    One pass over ``X``: a row's sum is finite unless the row holds a NaN or
    an inf (or finite values overflow it); only rows whose sum is not finite
    are checked value by value.
    """
    X = np.asarray(X)
    with np.errstate(over="ignore", invalid="ignore"):
        suspect = ~np.isfinite(np.add.reduce(X, axis=1))
    if suspect.any():
        suspect[suspect] = ~np.isfinite(X[suspect]).all(axis=1)
    return suspect


def drop_non_finite(X, what: str | None = None) -> tuple[np.ndarray, int]:
    """The rows of ``X`` without those that hold NaN or inf, and how many
    were dropped (``X`` itself when none); with ``what``, a ``ValueError``
    (:func:`refuse_all`) when no row is left."""
    X = np.asarray(X)
    bad = non_finite_rows(X)
    n_bad = int(bad.sum())
    if not n_bad:
        return X, 0
    if what is not None:
        refuse_all(n_bad, bad.size, what)
    return X[~bad], n_bad


def refuse_all(n_bad: int, n_total: int, what: str) -> None:
    """Raise ``ValueError`` when every spectrum is bad (nothing left to fit)."""
    if n_total and n_bad >= n_total:
        raise ValueError(
            f"every spectrum of the signal ({n_total}) holds NaN or infinite values: "
            f"{what} has nothing to work on. Replace them first, e.g. with "
            "numpy.nan_to_num."
        )


def _outside_package_stacklevel() -> int:
    """``stacklevel`` of the first caller outside hspy_unmix (the user's line)."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def warn_left_out(n_bad: int, n_total: int, what: str, result: str | None = "abundances",
                  marked_by: str | None = "learning_results.navigation_mask") -> None:
    """The one warning about the bad spectra of a result (nothing when none):
    what left them out, which of its results are NaN there (``result``) and
    what marks them (``marked_by``)."""
    if n_bad:
        text = f"{n_bad} of {n_total} spectra hold NaN or infinite values: {what} left them out"
        if result:
            text += f"; their {result} are NaN"
            if marked_by:
                text += f" and {marked_by} marks them"
        warnings.warn(text + ".", UserWarning, stacklevel=_outside_package_stacklevel())


def left_out(abundances, what: str, **say) -> np.ndarray | None:
    """The pixels whose abundances (..., K) are NaN, flat, or ``None`` when
    there are none; refuses a result with no other pixel and warns with their
    number (``say``: the wording of :func:`warn_left_out`)."""
    A = np.asarray(abundances)
    bad = np.isnan(A.reshape(-1, A.shape[-1])).any(axis=1)
    n_bad = int(bad.sum())
    refuse_all(n_bad, bad.size, what)
    warn_left_out(n_bad, bad.size, what, **say)
    return bad if n_bad else None


class FiniteRowsTransform:
    """``transform`` that gives NaN abundances to spectra with NaN/inf values.

    Picklable (sent to dask workers with the estimator it wraps); the finite
    rows are solved by ``transform`` as usual.
    """

    def __init__(self, transform, n_components: int):
        self.transform = transform
        self.n_components = int(n_components)

    def __call__(self, X):
        X = np.asarray(X)
        bad = non_finite_rows(X)
        if not bad.any():
            return self.transform(X)
        out = np.full((X.shape[0], self.n_components), np.nan)
        if not bad.all():
            out[~bad] = self.transform(X[~bad])
        return out


def nearest_finite_filled(data: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """A copy of ``data`` (navigation..., channels) in which every spectrum
    flagged in ``bad`` (navigation shape) is that of its nearest finite pixel
    (Euclidean distance on the scan grid; ties as scipy's distance transform
    breaks them)."""
    from scipy import ndimage

    _, index = ndimage.distance_transform_edt(bad, return_indices=True)
    return np.asarray(data)[tuple(index)]
