"""Quality measures of near-zero-loss restoration (EELSpecNet paper).

* off-peak noise variance (featureless channels far from the ZLP);
* ZLP full width at half and at tenth maximum (FWHM, FWTM), their recovery
  rate ``(W_distorted - W_restored) / (W_distorted - W_true)`` and relative
  error ``|W_restored - W_true| / W_true``;
* 1-D structural similarity (SSIM, Gaussian window) and mean squared error
  against the ground truth.

All functions take arrays ``(..., channels)`` and return one value per
spectrum.
"""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc

__all__ = [
    "peak_width",
    "zlp_fwhm",
    "zlp_fwtm",
    "width_recovery_rate",
    "width_relative_error",
    "offpeak_noise_variance",
    "highfreq_noise_variance",
    "ssim_1d",
    "spectral_mse",
    "zlp_restoration_scores",
]


def _as2d(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("spectra must have at least one dimension.")
    return x.reshape(-1, x.shape[-1]), x.shape[:-1]


def peak_width(spectra, fraction: float = 0.5, dispersion: float = 1.0) -> np.ndarray:
    """Full width of the highest peak at ``fraction`` of its maximum.

    The crossings nearest to the maximum on each side are located by linear
    interpolation between channels.

    Parameters
    ----------
    spectra
        Array ``(..., channels)``.
    fraction
        Height fraction (0.5: FWHM, 0.1: FWTM).
    dispersion
        Channel width; the result is in the same unit (channels by default).

    Returns
    -------
    numpy.ndarray
        Widths, NaN where the peak does not fall below the level on both
        sides inside the spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import peak_width
    >>> x = np.arange(201.0)
    >>> g = np.exp(-0.5 * ((x - 100) / 10) ** 2)
    >>> round(float(peak_width(g)), 1)  # 2 sqrt(2 ln 2) 10 = 23.55
    23.6
    """
    if not 0 < fraction < 1:
        raise ValueError("fraction must be in (0, 1).")
    x, shape = _as2d(spectra)
    n, c = x.shape
    rows = np.arange(n)
    m = x.argmax(axis=1)
    level = fraction * x[rows, m]
    idx = np.arange(c)[None, :]
    below = x < level[:, None]
    left = np.where(below & (idx < m[:, None]), idx, -1).max(axis=1)
    right = np.where(below & (idx > m[:, None]), idx, c).min(axis=1)
    ok = (left >= 0) & (right < c)
    lj, rk = np.clip(left, 0, c - 2), np.clip(right, 1, c - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        xl0, xl1 = x[rows, lj], x[rows, lj + 1]
        xr0, xr1 = x[rows, rk - 1], x[rows, rk]
        pos_l = lj + (level - xl0) / (xl1 - xl0)
        pos_r = rk - 1 + (xr0 - level) / (xr0 - xr1)
    width = np.where(ok, (pos_r - pos_l) * dispersion, np.nan)
    return width.reshape(shape)


@fill_doc
def zlp_fwhm(spectra, dispersion: float = 1.0) -> np.ndarray:
    """Full width at half maximum of the ZLP (highest peak).

    %(zlp_width)s
    >>> round(float(zlp_fwhm(gaussian, 0.005)), 3)
    0.05
    """
    return peak_width(spectra, 0.5, dispersion)


@fill_doc
def zlp_fwtm(spectra, dispersion: float = 1.0) -> np.ndarray:
    """Full width at tenth maximum of the ZLP (highest peak).

    For a Gaussian peak it is ``sqrt(log2(10))``, about 1.8 times the FWHM
    (:func:`zlp_fwhm`); a larger ratio shows heavier tails.

    %(zlp_width)s
    >>> round(float(zlp_fwtm(gaussian, 0.005)), 3)  # sqrt(log2(10)) 0.05 = 0.091
    0.091
    >>> round(float(zlp_fwtm(gaussian, 0.005) / zlp_fwhm(gaussian, 0.005)), 1)
    1.8
    """
    return peak_width(spectra, 0.1, dispersion)


def width_recovery_rate(restored_width, distorted_width, true_width) -> np.ndarray:
    """Fraction of the broadening removed: ``(W_d - W_r) / (W_d - W_t)``.

    1 is a perfect restoration, 0 no change, above 1 over-sharpening.

    Parameters
    ----------
    restored_width, distorted_width, true_width : float or array-like
        Widths ``W_r`` after restoration, ``W_d`` before, and ``W_t`` of the
        undistorted peak (same unit; arrays broadcast).

    Returns
    -------
    numpy.ndarray
        The rate (a 0-d array for scalar widths).

    Examples
    --------
    >>> from hspy_unmix.metrics import width_recovery_rate
    >>> float(width_recovery_rate(0.02, 0.1, 0.015))
    0.9411764705882353
    """
    r, d, t = (np.asarray(v, dtype=np.float64)
               for v in (restored_width, distorted_width, true_width))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (d - r) / (d - t)


def width_relative_error(restored_width, true_width) -> np.ndarray:
    """Relative error of a width: ``|W_r - W_t| / W_t``.

    Parameters
    ----------
    restored_width, true_width : float or array-like
        Width ``W_r`` after restoration and ``W_t`` of the undistorted peak
        (same unit; arrays broadcast).

    Returns
    -------
    numpy.ndarray
        The relative error (a 0-d array for scalar widths).

    Examples
    --------
    >>> from hspy_unmix.metrics import width_relative_error
    >>> round(float(width_relative_error(0.016, 0.015)), 4)
    0.0667
    """
    r, t = np.asarray(restored_width, float), np.asarray(true_width, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(r - t) / t


def offpeak_noise_variance(
    spectra,
    energy=None,
    window=(-1.9, -1.0),
    reference=None,
    detrend_order: int = 2,
) -> np.ndarray:
    """Variance of the high-frequency noise in a featureless window.

    The residual (``spectra - reference`` when a ground truth is given) in
    the window is detrended by a least-squares polynomial of
    ``detrend_order`` (which removes the smooth ZLP tail) and its variance
    returned.

    Parameters
    ----------
    spectra
        Array ``(..., channels)``.
    energy
        Energy axis (default: channel index).
    window
        ``(low, high)`` energy range, far from the ZLP and any loss peak
        (the default suits the generator's axis, ZLP at 0 eV, losses > 0).
    reference
        Ground truth subtracted first (optional).
    detrend_order
        Polynomial order removed (``-1``: none).

    Returns
    -------
    numpy.ndarray
        One variance per spectrum, of the detrended residual in the window.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import offpeak_noise_variance
    >>> rng = np.random.default_rng(0)
    >>> e = np.linspace(-2, 8, 2048)
    >>> v = offpeak_noise_variance(rng.normal(0, 1e-3, (1, 2048)), e)
    >>> bool(0.8e-6 < v[0] < 1.2e-6)
    True
    """
    x, shape = _as2d(spectra)
    if reference is not None:
        ref, _ = _as2d(reference)
        x = x - ref
    c = x.shape[1]
    e = np.arange(c, dtype=np.float64) if energy is None else np.asarray(energy, float)
    sel = (e >= window[0]) & (e <= window[1])
    if sel.sum() < max(detrend_order + 2, 3):
        raise ValueError(f"window {window} holds too few channels.")
    r = x[:, sel]
    if detrend_order >= 0:
        t = (e[sel] - e[sel].mean()) / max(np.ptp(e[sel]), 1e-300)
        basis = np.vander(t, detrend_order + 1)
        coef, *_ = np.linalg.lstsq(basis, r.T, rcond=None)
        r = r - (basis @ coef).T
    return r.var(axis=1).reshape(shape)


def highfreq_noise_variance(spectra, reference, energy, window, smooth_channels: float = 8.0):
    """Variance of the high-frequency part of ``spectra - reference`` in ``window``.

    The residual's smooth part (a Gaussian smoothing of ``smooth_channels``
    standard deviation, which takes up a ZLP tail or a slowly varying
    bias) is removed before the variance is taken, so that the measure
    counts noise only.

    Parameters
    ----------
    spectra, reference
        Arrays ``(..., channels)``.
    energy
        Energy axis (same length as the channels).
    window
        ``(low, high)`` energy range (for example past the ZLP).
    smooth_channels
        Width of the smooth part removed.

    Returns
    -------
    numpy.ndarray
        One variance per spectrum (its smooth part removed).

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import highfreq_noise_variance
    >>> e = np.linspace(-2, 8, 2048)
    >>> rng = np.random.default_rng(0)
    >>> x = 1e-3 / (1 + e**2) + rng.normal(0, 1e-4, (1, 2048))
    >>> v = highfreq_noise_variance(x, 1e-3 / (1 + e**2), e, (1, 8))
    >>> bool(0.8e-8 < v[0] < 1.1e-8)
    True
    """
    from scipy.ndimage import gaussian_filter1d

    x, shape = _as2d(spectra)
    ref, _ = _as2d(reference)
    e = np.asarray(energy, dtype=np.float64)
    sel = (e >= window[0]) & (e <= window[1])
    if sel.sum() < 8 * smooth_channels:
        raise ValueError(f"window {window} holds too few channels.")
    r = x - ref
    r = r - gaussian_filter1d(r, smooth_channels, axis=1, mode="nearest")
    return r[:, sel].var(axis=1).reshape(shape)


def ssim_1d(x, y, *, sigma: float = 1.5, data_range=None, k1: float = 0.01,
            k2: float = 0.03) -> np.ndarray:
    """Structural similarity of spectra (Wang et al. 2004, 1-D Gaussian window).

    Parameters
    ----------
    x, y
        Arrays ``(..., channels)``; ``y`` is the reference (ground truth).
    sigma
        Standard deviation of the Gaussian window (channels; 1.5 as for
        images, truncated at 11 channels).
    data_range
        Dynamic range ``L`` in the constants ``(k L)**2``; default: the
        peak-to-peak range of each reference spectrum.
    k1, k2
        SSIM constants.

    Returns
    -------
    numpy.ndarray
        Mean SSIM per spectrum (1 for identical spectra).

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import ssim_1d
    >>> x = np.random.default_rng(0).random(100)
    >>> float(ssim_1d(x, x))
    1.0
    """
    from scipy.ndimage import gaussian_filter1d

    a, shape = _as2d(x)
    b, shape_b = _as2d(y)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}.")
    if data_range is None:
        L = np.ptp(b, axis=1, keepdims=True)
        L = np.where(L > 0, L, 1.0)
    else:
        L = float(data_range)
    c1, c2 = (k1 * L) ** 2, (k2 * L) ** 2

    def f(v):
        return gaussian_filter1d(v, sigma, axis=1, mode="reflect", truncate=3.5)

    mu_a, mu_b = f(a), f(b)
    va = f(a * a) - mu_a**2
    vb = f(b * b) - mu_b**2
    cov = f(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return s.mean(axis=1).reshape(shape)


def spectral_mse(x, y) -> np.ndarray:
    """Mean squared error per spectrum.

    Parameters
    ----------
    x, y : array-like, shape (..., channels)
        Spectra along the last axis, same shape.

    Returns
    -------
    numpy.ndarray, shape (...)
        Mean over channels of ``(x - y) ** 2``, one value per spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import spectral_mse
    >>> float(spectral_mse(np.zeros(4), np.full(4, 2.0)))
    4.0
    """
    a, shape = _as2d(x)
    b, _ = _as2d(y)
    return ((a - b) ** 2).mean(axis=1).reshape(shape)


def zlp_restoration_scores(restored, distorted, clean, energy, *, window=(-1.9, -1.0)) -> dict:
    """All ZLP restoration metrics of restored spectra against the truth.

    Parameters
    ----------
    restored, distorted, clean
        Arrays ``(n, channels)`` in the same (integral-normalised) units.
    energy
        Uniform energy axis (eV).
    window
        Off-peak window for the noise variance.

    Returns
    -------
    dict
        Arrays per spectrum: ``noise_variance`` (restored, residual to the
        truth), ``noise_variance_distorted``, ``noise_reduction`` (ratio of
        the two), ``fwhm``, ``fwtm`` (eV), ``fwhm_recovery``,
        ``fwtm_recovery``, ``fwhm_error``, ``fwtm_error``, ``ssim``, ``mse``.

    Examples
    --------
    >>> from hspy_unmix.synthetic import zlp_training_spectra
    >>> from hspy_unmix.metrics import zlp_restoration_scores
    >>> d, c, e = zlp_training_spectra(3, random_state=0)
    >>> s = zlp_restoration_scores(c, d, c, e)
    >>> float(s["fwhm_error"].max()), float(s["ssim"].min())
    (0.0, 1.0)
    """
    energy = np.asarray(energy, float)
    disp = float(energy[1] - energy[0])
    nv = offpeak_noise_variance(restored, energy, window, reference=clean)
    nv_d = offpeak_noise_variance(distorted, energy, window, reference=clean)
    widths = {}
    for name, frac in (("fwhm", 0.5), ("fwtm", 0.1)):
        w_r = peak_width(restored, frac, disp)
        w_d = peak_width(distorted, frac, disp)
        w_t = peak_width(clean, frac, disp)
        widths[name] = w_r
        widths[f"{name}_recovery"] = width_recovery_rate(w_r, w_d, w_t)
        widths[f"{name}_error"] = width_relative_error(w_r, w_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = nv_d / nv
    return {
        "noise_variance": nv,
        "noise_variance_distorted": nv_d,
        "noise_reduction": reduction,
        **widths,
        "ssim": ssim_1d(restored, clean),
        "mse": spectral_mse(restored, clean),
    }
