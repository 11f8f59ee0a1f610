"""Input checks shared by every estimator and signal method: one function per
kind of mistake, one exception type each, one message style
("<name> must ..., got <value>.").

* wrong type (not a number, not an integer, complex, not a signal of spectra):
  :class:`TypeError`;
* wrong value (out of range, NaN/inf, wrong shape, too many components):
  :class:`ValueError`.

The rules are documented in the user guide ("Bad input"): integer data are
converted to float64, NaN/inf raise, negative values are clipped to zero with
a warning by the methods that need non-negative data, all-zero spectra are
accepted with a warning (an all-zero data set raises), and the number of
components must be smaller than the number of channels, at most the number
of pixels and at most the numerical rank of the spectra (identical spectra
have rank 1).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np


def check_spectra(
    X,
    *,
    name: str = "X",
    negative: str = "allow",
    n_features: int | None = None,
    min_samples: int = 1,
    copy: bool = False,
    keep_float32: bool = False,
) -> np.ndarray:
    """Return ``X`` as a C-contiguous float64 (n_pixels, n_channels) array.

    Parameters
    ----------
    X
        Array-like of spectra, one per row.
    name
        Name used in error messages.
    negative
        ``"allow"`` keeps negative values, ``"clip"`` sets them to zero with a
        :class:`UserWarning` stating how many there were, ``"raise"`` raises.
    n_features
        Expected number of channels (for ``transform`` after ``fit``).
    min_samples
        Minimum number of rows.
    copy
        Always return a new array, even when ``X`` is already float64.
    keep_float32
        Keep float32 data float32 (for fits that convert a batch of rows to
        float64 at a time; every other type still becomes float64).

    Returns
    -------
    numpy.ndarray
        A float64 (or, with ``keep_float32``, float32) array; never a view
        that the caller could modify.
    """
    if hasattr(X, "compute") and not isinstance(X, np.ndarray):
        X = X.compute()
    X_arr = np.asarray(X)
    if X_arr.dtype == object or not (
        np.issubdtype(X_arr.dtype, np.number) or X_arr.dtype == bool
    ):
        raise TypeError(f"{name} must hold numbers, got dtype {X_arr.dtype}.")
    if np.iscomplexobj(X_arr):
        raise TypeError(f"{name} is complex; spectral unmixing needs real spectra.")
    if X_arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_pixels, n_channels); got {X_arr.ndim}-D with "
            f"shape {X_arr.shape}."
        )
    if X_arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} has {X_arr.shape[0]} spectra; at least {min_samples} needed."
        )
    if X_arr.shape[1] < 1:
        raise ValueError(f"{name} has no channels.")
    if n_features is not None and X_arr.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X_arr.shape[1]} channels but the estimator was fitted "
            f"on {n_features}."
        )
    dtype = np.float32 if keep_float32 and X_arr.dtype == np.float32 else np.float64
    out = np.array(X_arr, dtype=dtype, order="C", copy=True) if (
        copy or X_arr.dtype != dtype or not X_arr.flags.c_contiguous
    ) else X_arr
    check_finite(out, name, hint="Replace them first, e.g. with numpy.nan_to_num or by "
                 "masking those pixels (navigation_mask).")
    if negative != "allow" and out.size and out.min() < 0:
        n_neg = int(np.count_nonzero(out < 0))
        if n_neg:
            if negative == "raise":
                raise ValueError(
                    f"{name} contains {n_neg} negative value(s) (min {out.min():.3g}); "
                    "this method needs non-negative counts."
                )
            warnings.warn(
                f"{name} contains {n_neg} negative value(s) (min {out.min():.3g}, "
                f"{100.0 * n_neg / out.size:.2f}% of values); they are set to zero "
                "for this non-negative method. The input signal is not modified.",
                UserWarning,
                stacklevel=3,
            )
            if out is X_arr:
                out = out.copy()
            np.maximum(out, 0.0, out=out)
    return out


def check_finite(values: np.ndarray, name: str,
                 hint: str = "Replace them first, e.g. with numpy.nan_to_num.") -> None:
    """Raise ``ValueError`` naming how many values of ``values`` are NaN or inf."""
    # One pass without temporaries: a NaN/inf anywhere makes the sum non-finite
    # (the exact count runs only then, or if finite values overflowed the sum).
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(values, axis=None)
    if not np.isfinite(total) and not np.isfinite(values).all():
        n_bad = int(values.size - np.isfinite(values).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); all values must be "
            f"finite. {hint}"
        )


def check_int(value, name: str, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """``value`` as an int: ``TypeError`` if it is not an integer (bools are
    not), ``ValueError`` outside ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}.")
    return value


def check_spectral_signal(signal, what: str = "this method") -> None:
    """``TypeError`` unless ``signal`` holds real spectra (signal dimension 1)."""
    if signal.axes_manager.signal_dimension != 1:
        raise TypeError(
            f"{what} needs spectra (signal dimension 1); this signal has signal "
            f"dimension {signal.axes_manager.signal_dimension}. Use as_signal1D() "
            "to choose the spectral axis."
        )
    if np.issubdtype(signal.data.dtype, np.complexfloating):
        raise TypeError(f"{what} needs real-valued spectra, got complex data.")


def warn_zero_rows(X: np.ndarray, name: str = "X") -> np.ndarray:
    """Warn about all-zero spectra; raise if every spectrum is zero.

    Returns the boolean mask of zero rows.
    """
    zero = (X.max(axis=1) == 0) & (X.min(axis=1) == 0)
    n_zero = int(zero.sum())
    if n_zero == X.shape[0]:
        raise ValueError(f"every spectrum in {name} is zero; there is nothing to unmix.")
    if n_zero:
        warnings.warn(
            f"{name} contains {n_zero} all-zero spectra; their abundances carry no "
            "information (documented handling: they are solved like any other pixel).",
            UserWarning,
            stacklevel=3,
        )
    return zero


def check_n_components(n_components, X: np.ndarray, name: str = "n_components") -> int:
    """Validate the number of components against the data shape."""
    if n_components is None:
        raise ValueError(
            f"{name} (output_dimension) must be given: the number of endmembers to "
            "extract. See hspy_unmix.estimate_n_components for help choosing it."
        )
    k = check_int(n_components, name, minimum=1)
    n_samples, n_channels = X.shape
    if k > n_channels:
        raise ValueError(
            f"{name}={k} is larger than the number of channels ({n_channels})."
        )
    if k == n_channels:
        advice = (f"use at most {n_channels - 1}" if n_channels > 1
                  else "spectra of one channel cannot be unmixed")
        raise ValueError(
            f"{name}={k} equals the number of channels ({n_channels} feature(s) of "
            f"X): {k} endmembers span every spectrum whatever their shape, so they "
            f"are not determined by the data; {advice}."
        )
    if k > n_samples:
        raise ValueError(f"{name}={k} is larger than the number of pixels ({n_samples}).")
    return k


#: Extra columns of the random sketch of :func:`check_rank`.
_RANK_OVERSAMPLING = 10


def numerical_rank(X: np.ndarray, at_most: int) -> int:
    """Numerical rank of ``X``, counted up to ``at_most``.

    The singular values come from the sketch ``X @ G`` with a fixed Gaussian
    ``G`` of ``at_most + 10`` columns (``X`` itself when it has no more
    channels than that): one pass over the data, independent of any
    estimator's random state. A singular value counts when it exceeds
    ``max(X.shape) * eps`` times the largest, the tolerance of
    :func:`numpy.linalg.matrix_rank` (rounding errors of float64 data and of
    the product stay below it; the noise of any measured spectrum is far
    above it).
    """
    n_samples, n_channels = X.shape
    n_columns = at_most + _RANK_OVERSAMPLING
    if n_channels <= n_columns:
        sketch = np.asarray(X, dtype=np.float64)  # float32 data: the tolerance is float64's
    else:
        from .io.chunks import matmul_rows

        gaussian = np.random.default_rng(0).standard_normal((n_channels, n_columns))
        sketch = matmul_rows(X, gaussian)
    peak = float(np.abs(sketch).max()) if sketch.size else 0.0
    if not peak > 0:
        return 0
    # divided by its largest value: the SVD never overflows, whatever the units
    singular = np.linalg.svd(sketch / peak, compute_uv=False)
    tolerance = singular[0] * max(n_samples, n_channels) * np.finfo(np.float64).eps
    return int(min(np.count_nonzero(singular > tolerance), at_most))


def check_rank(X: np.ndarray, required: int, n_components: int, name: str = "X") -> None:
    """``ValueError`` unless the spectra span ``required`` independent directions.

    ``required`` is what ``n_components`` endmembers need (``n_components``
    for every estimator except those that prune components). Identical or
    proportional spectra (rank 1) and exactly low-rank data are reported with
    their rank before any fit starts.
    """
    if required <= 1:
        return
    rank = numerical_rank(X, required)
    if rank >= required:
        return
    what = (
        "every spectrum is a multiple of one spectrum" if rank == 1
        else f"the spectra span only {rank} independent direction(s)"
    )
    raise ValueError(
        f"{name} has numerical rank {rank} ({what}), too few for n_components="
        f"{n_components}, which needs rank {required}: the endmembers are not "
        f"determined by the data; lower n_components to at most {max(rank, 1)}, or "
        "check that the spectra are not copies of each other."
    )
