"""Image-fusion metrics for pan-sharpened spectrum images."""

from __future__ import annotations

import numpy as np

from .._validation import check_finite
from .unmixing import spectral_angle

__all__ = ["psnr", "mean_spectral_angle"]


def _as_array(x, name):
    if hasattr(x, "data") and hasattr(x, "axes_manager"):
        x = x.data
    if hasattr(x, "compute") and not isinstance(x, np.ndarray):
        x = x.compute()
    x = np.asarray(x, dtype=np.float64)
    check_finite(x, name)
    return x


def _pair(reference, estimate):
    ref = _as_array(reference, "reference")
    est = _as_array(estimate, "estimate")
    if ref.shape != est.shape:
        raise ValueError(f"shapes differ: reference {ref.shape}, estimate {est.shape}.")
    return ref, est


def psnr(reference, estimate) -> float:
    """Peak signal-to-noise ratio of ``estimate`` against ``reference`` (dB).

    ``10 log10(peak^2 / MSE)`` with ``peak = max(reference) - min(reference)``
    (the data range of the reference, so that an offset does not change it).

    Parameters
    ----------
    reference, estimate
        Arrays or HyperSpy signals of the same shape (lazy ones are computed).

    Returns
    -------
    float
        ``inf`` when the two are equal.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import psnr
    >>> ref = np.array([0.0, 1.0, 2.0, 3.0])
    >>> round(float(psnr(ref, ref + 0.3)), 2)
    20.0
    """
    ref, est = _pair(reference, estimate)
    mse = float(np.mean((ref - est) ** 2))
    peak = float(ref.max() - ref.min())
    if mse == 0:
        return float("inf")
    if peak == 0:
        raise ValueError("the reference is constant: PSNR is undefined.")
    return float(10.0 * np.log10(peak**2 / mse))


def mean_spectral_angle(reference, estimate, degrees: bool = False) -> float:
    """Spectral angle between corresponding spectra, averaged over pixels.

    Each pixel's angle is ``arccos(r.e / (|r| |e|))`` along the last
    (energy) axis; a zero spectrum gives ``pi/2``.

    Parameters
    ----------
    reference, estimate
        Arrays or signals of the same shape, spectra along the last axis.
    degrees
        Return degrees instead of radians.

    Returns
    -------
    float
        The mean angle, in radians (degrees with ``degrees=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import mean_spectral_angle
    >>> ref = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> est = np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> round(mean_spectral_angle(ref, est, degrees=True), 6)
    22.5
    """
    ref, est = _pair(reference, estimate)
    angles = spectral_angle(ref.reshape(-1, ref.shape[-1]), est.reshape(-1, est.shape[-1]))
    value = float(np.mean(angles))
    return float(np.degrees(value)) if degrees else value
