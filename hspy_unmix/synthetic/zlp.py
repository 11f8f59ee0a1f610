"""Near-zero-loss EELS spectra with known ground truth (generalised learning).

The generator follows the EELSpecNet training distribution (Mousavi et al.,
Sci. Rep. 12, 2022): the ground truth is a narrow Gaussian zero-loss peak (ZLP)
plus up to 15 weak Lorentzian loss peaks; the distorted spectrum is the sum of
25 energy-jittered copies, convolved by a Lorentzian point-spread function
(PSF), with Gaussian noise and a dark offset. Both are normalised so that their
channels sum to one.

All randomness is vectorised over spectra: the blur is applied in Fourier
space with the analytic transform of the jittered Lorentzian kernel, so
thousands of 2048-channel spectra take well under a second per thousand.
"""

from __future__ import annotations

import numpy as np

__all__ = ["zlp_training_spectra", "zlp_test_signal", "zlp_blur_kernel"]

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def _pair(value, name):
    lo, hi = (value, value) if np.isscalar(value) else tuple(value)
    if hi < lo:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {value}.")
    return float(lo), float(hi)


def _kernel_spectrum(n_fft, psf_fwhm_ch, shifts_ch):
    """Real FFT of mean_k delta(x - s_k) convolved by a Lorentzian.

    ``psf_fwhm_ch`` (n,) and ``shifts_ch`` (n, n_jitter) in channels; the
    shifted deltas are placed with linear interpolation on a circular grid of
    ``n_fft`` channels. A Lorentzian of half width ``g`` transforms to
    ``exp(-2 pi g |f|)`` (``f`` in cycles per channel).
    """
    n, n_jit = shifts_ch.shape
    freq = np.fft.rfftfreq(n_fft)
    lorentz = np.exp(-np.pi * psf_fwhm_ch[:, None] * freq[None, :])
    base = np.floor(shifts_ch)
    frac = shifts_ch - base
    idx = base.astype(np.int64) % n_fft
    rows = np.repeat(np.arange(n), n_jit)
    deltas = np.zeros((n, n_fft))
    np.add.at(deltas, (rows, idx.ravel()), (1.0 - frac).ravel() / n_jit)
    np.add.at(deltas, (rows, (idx.ravel() + 1) % n_fft), frac.ravel() / n_jit)
    return lorentz * np.fft.rfft(deltas, axis=1)


def zlp_blur_kernel(
    psf_fwhm: float,
    *,
    dispersion: float = 0.005,
    jitter_shifts=None,
    half_width: int | None = None,
) -> np.ndarray:
    """Return the (jittered) Lorentzian blur kernel of the generator, centred.

    Parameters
    ----------
    psf_fwhm
        FWHM of the Lorentzian point-spread function, in eV.
    dispersion
        Channel width in eV.
    jitter_shifts
        Energy shifts (eV) of the jittered copies; ``None`` means no jitter.
    half_width
        Half length of the kernel in channels (default: 20 FWHM, at least 64).

    Returns
    -------
    numpy.ndarray
        Kernel of ``2 * half_width + 1`` channels summing to one, usable as
        ``psf`` in :func:`hspy_unmix.richardson_lucy`.

    Examples
    --------
    >>> from hspy_unmix.synthetic import zlp_blur_kernel
    >>> k = zlp_blur_kernel(0.1)
    >>> round(float(k.sum()), 6), int(k.argmax()) == k.size // 2
    (1.0, True)
    """
    fwhm_ch = psf_fwhm / dispersion
    if half_width is None:
        half_width = max(64, int(20 * fwhm_ch))
    shifts = np.zeros(1) if jitter_shifts is None else np.asarray(jitter_shifts, float)
    n_fft = 8 * (2 * half_width + 1)
    spec = _kernel_spectrum(n_fft, np.array([fwhm_ch]), shifts[None, :] / dispersion)[0]
    full = np.fft.irfft(spec, n_fft)
    kernel = np.concatenate([full[-half_width:], full[: half_width + 1]])
    kernel = np.clip(kernel, 0.0, None)
    return kernel / kernel.sum()


def zlp_training_spectra(
    n: int, *,
    channels: int = 2048, offset: float = -2.0, dispersion: float = 0.005,
    zlp_fwhm: float = 0.015, zlp_shift=0.0,
    n_peaks=(0, 15), peak_fwhm=(0.05, 1.5), peak_height=(1 / 4000, 1 / 300),
    peak_energy=(0.0, 8.2),
    n_jitter: int = 25, jitter: float = 0.05, psf_fwhm=(0.035, 0.2),
    noise=(1e-8, 1e-3), noise_amplitude: float | None = None, dark_offset=(0.0, 1e-4),
    dtype=np.float64, random_state=None, return_params: bool = False,
):
    """Generate distorted near-zero-loss spectra and their ground truth.

    Parameters
    ----------
    n
        Number of spectra.
    channels, offset, dispersion
        Energy axis: ``offset + dispersion * arange(channels)`` (eV).
    zlp_fwhm
        FWHM of the Gaussian ZLP of the ground truth (eV; 15 meV = 3 channels).
    zlp_shift
        Energy of the ZLP (eV): a number, or ``(low, high)`` for a uniform
        random position per spectrum (alignment invariance); loss peaks move
        with it.
    n_peaks
        ``(low, high)`` inclusive range of the number of Lorentzian loss peaks.
    peak_fwhm, peak_height, peak_energy
        Uniform ranges of the peak FWHM (eV), height (fraction of the ZLP
        height) and energy loss (eV, relative to the ZLP).
    n_jitter, jitter
        Number of energy-shifted copies summed and their maximum shift (eV,
        uniform in ``[-jitter, jitter]``).
    psf_fwhm
        Uniform range of the FWHM of the Lorentzian PSF (eV).
    noise
        Log-uniform range of the Gaussian noise standard deviation relative to
        the maximum of the blurred spectrum.
    noise_amplitude
        If given, the noise standard deviation in units of the normalised
        spectrum (channels summing to one) instead of ``noise``.
    dark_offset
        Uniform range of the dark offset relative to the maximum of the
        blurred spectrum.
    dtype
        Floating dtype of the returned arrays.
    random_state
        Seed or :class:`numpy.random.Generator`.
    return_params
        Also return a dict of the drawn parameters (``psf_fwhm``,
        ``jitter_shifts``, ``zlp_energy``, ``noise_sigma``).

    Returns
    -------
    distorted, clean : numpy.ndarray
        Arrays of shape ``(n, channels)``, each spectrum summing to one
        (with ``noise_amplitude`` the noise is added after normalisation,
        so the distorted sum is one up to the noise).
    energy : numpy.ndarray
        Energy axis (eV).

    Examples
    --------
    >>> from hspy_unmix.synthetic import zlp_training_spectra
    >>> distorted, clean, energy = zlp_training_spectra(4, random_state=0)
    >>> distorted.shape, clean.shape, float(energy[0])
    ((4, 2048), (4, 2048), -2.0)
    >>> bool(abs(clean.sum(axis=1) - 1).max() < 1e-12)
    True
    """
    if n < 0 or channels < 8:
        raise ValueError("n must be >= 0 and channels >= 8.")
    rng = np.random.default_rng(random_state)
    energy = offset + dispersion * np.arange(channels)
    shift_lo, shift_hi = _pair(zlp_shift, "zlp_shift")
    zlp_energy = rng.uniform(shift_lo, shift_hi, n)

    # Ground truth: quasi-Dirac Gaussian ZLP + Lorentzian loss peaks.
    sigma = zlp_fwhm * _FWHM_TO_SIGMA
    clean = np.exp(-0.5 * ((energy[None, :] - zlp_energy[:, None]) / sigma) ** 2)
    np_lo, np_hi = (int(v) for v in _pair(n_peaks, "n_peaks"))
    max_peaks = np_hi
    if max_peaks > 0:
        count = rng.integers(np_lo, np_hi + 1, n)
        active = np.arange(max_peaks)[None, :] < count[:, None]
        e_lo, e_hi = _pair(peak_energy, "peak_energy")
        centre = zlp_energy[:, None] + rng.uniform(e_lo, e_hi, (n, max_peaks))
        gamma = 0.5 * rng.uniform(*_pair(peak_fwhm, "peak_fwhm"), (n, max_peaks))
        height = rng.uniform(*_pair(peak_height, "peak_height"), (n, max_peaks)) * active
        for j in range(max_peaks):  # loop over peaks only; vectorised over spectra
            x = (energy[None, :] - centre[:, j, None]) / gamma[:, j, None]
            clean += height[:, j, None] / (1.0 + x * x)

    # Distortion: jitter + Lorentzian PSF in Fourier space (zero-padded).
    psf = rng.uniform(*_pair(psf_fwhm, "psf_fwhm"), n)
    shifts = rng.uniform(-jitter, jitter, (n, max(int(n_jitter), 1)))
    if n_jitter <= 0:
        shifts[:] = 0.0
    n_fft = int(2 ** np.ceil(np.log2(2 * channels)))
    blurred = np.empty_like(clean)
    step = 512  # bound the complex temporaries to a few hundred MB
    for start in range(0, n, step):
        sl = slice(start, start + step)
        spec = _kernel_spectrum(n_fft, psf[sl] / dispersion, shifts[sl] / dispersion)
        blurred[sl] = np.fft.irfft(np.fft.rfft(clean[sl], n_fft) * spec, n_fft)[:, :channels]
    np.clip(blurred, 0.0, None, out=blurred)

    clean /= clean.sum(axis=1, keepdims=True)
    peak = blurred.max(axis=1, keepdims=True)
    dark = rng.uniform(*_pair(dark_offset, "dark_offset"), (n, 1)) * peak
    if noise_amplitude is None:
        lo, hi = _pair(noise, "noise")
        rel = np.exp(rng.uniform(np.log(lo), np.log(hi), (n, 1)))
        distorted = blurred + dark + rng.standard_normal(blurred.shape) * rel * peak
        distorted /= distorted.sum(axis=1, keepdims=True)
        noise_sigma = (rel * peak / (blurred + dark).sum(axis=1, keepdims=True))[:, 0]
    else:
        distorted = blurred + dark
        distorted /= distorted.sum(axis=1, keepdims=True)
        distorted += rng.standard_normal(blurred.shape) * float(noise_amplitude)
        noise_sigma = np.full(n, float(noise_amplitude))
    distorted = distorted.astype(dtype, copy=False)
    clean = clean.astype(dtype, copy=False)
    if return_params:
        params = {"psf_fwhm": psf, "jitter_shifts": shifts, "zlp_energy": zlp_energy,
                  "noise_sigma": noise_sigma}
        return distorted, clean, energy, params
    return distorted, clean, energy


def zlp_test_signal(
    shape=(4, 5),
    *,
    channels: int = 2048,
    offset: float = -2.0,
    dispersion: float = 0.005,
    counts: float = 1e6,
    lazy: bool = False,
    random_state=None,
    **kwargs,
):
    """Return a small EELS spectrum image of distorted spectra and its ground truth.

    Parameters
    ----------
    shape
        Navigation shape (numpy order).
    channels, offset, dispersion
        Energy axis (eV).
    counts
        Total counts per spectrum (the spectra are scaled from "sum to one").
    lazy
        Return lazy signals.
    random_state
        Seed or :class:`numpy.random.Generator`.
    **kwargs
        Passed to :func:`zlp_training_spectra` (for example
        ``noise_amplitude=1e-5``, ``psf_fwhm=(0.1, 0.1)``).

    Returns
    -------
    distorted, clean : exspy.signals.EELSSpectrum
        The distorted spectrum image and the ground truth on the same axes.

    Examples
    --------
    >>> from hspy_unmix.synthetic import zlp_test_signal
    >>> s, truth = zlp_test_signal((2, 3), random_state=0)
    >>> s.data.shape, s.axes_manager.signal_axes[0].scale
    ((2, 3, 2048), 0.005)
    """
    from exspy.signals import EELSSpectrum

    shape = tuple(int(v) for v in np.atleast_1d(shape))
    n = int(np.prod(shape))
    distorted, clean, _ = zlp_training_spectra(
        n, channels=channels, offset=offset, dispersion=dispersion,
        random_state=random_state, **kwargs,
    )
    signals = []
    for data, title in ((distorted, "Distorted near-zero-loss"), (clean, "Ground truth")):
        s = EELSSpectrum((data * counts).reshape(shape + (channels,)))
        ax = s.axes_manager.signal_axes[0]
        ax.name, ax.units, ax.scale, ax.offset = "Energy loss", "eV", dispersion, offset
        for i, nav in enumerate(s.axes_manager.navigation_axes):
            nav.name = ("x", "y", "z")[i] if i < 3 else f"n{i}"
        s.metadata.General.title = title
        signals.append(s.as_lazy() if lazy else s)
    return signals[0], signals[1]
