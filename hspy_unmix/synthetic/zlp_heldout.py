"""Held-out near-zero-loss spectra for judging restoration (never trained on).

Written apart from the training generators (:mod:`.zlp_broad`,
:mod:`.zlp`): its own code path (one spectrum at a time, jittered copies
summed analytically in real space, then a direct FFT convolution as the
EELSpecNet authors do) and its own families and ranges:

* the source paper's settings (Mousavi et al., Sci. Rep. 12, 2022; the
  authors' ``GenerateData.py``): 5 meV/channel, 2048 channels from -2 eV,
  a 3-channel Gaussian quasi-Dirac ZLP, 25 copies jittered uniformly by
  +-10 meV (the first unshifted), a Lorentzian PSF of 35-200 meV FWHM, 0-15
  Lorentzian loss peaks of 0.05-1.5 eV FWHM at 1/4000-1/300 of the ZLP,
  and Gaussian high-frequency noise with a non-zero (dark) mean;
* PSF shapes absent from training: Laplace (double exponential),
  hyperbolic secant, Student-t (2-4 degrees of freedom), flat-topped
  super-Gaussian and an exponentially modified Gaussian;
* a drifting beam: 10-60 exposures on a random walk, not re-centred;
* loss peaks narrower than the PSF (Gaussians of 1.6-6 channels).

The exact combined kernel (jitter and PSF) of each spectrum is returned for
Richardson-Lucy with the true kernel.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

__all__ = ["zlp_heldout_spectra", "HELDOUT_PSF_FAMILIES", "PAPER_NOISE_LEVELS"]

#: PSF families of the held-out set ("lorentzian" is the paper's).
HELDOUT_PSF_FAMILIES = ("lorentzian", "laplace", "sech", "student_t", "super_gaussian", "emg")
#: The four noise amplitudes of the source paper's evaluation (integral-normalised units).
PAPER_NOISE_LEVELS = (5e-6, 1e-5, 5e-5, 5e-4)


def _psf(family, e, fwhm, rng):
    """One PSF profile on the centred energy grid ``e`` (eV) with the given FWHM."""
    h = fwhm / 2.0
    if family == "lorentzian":
        p = 1.0 / (1.0 + (e / h) ** 2)
    elif family == "laplace":
        p = np.exp(-np.abs(e) * np.log(2.0) / h)
    elif family == "sech":
        p = 1.0 / np.cosh(e * np.arccosh(2.0) / h)
    elif family == "student_t":
        nu = rng.uniform(2.0, 4.0)
        scale = h / np.sqrt(nu * (2.0 ** (2.0 / (nu + 1.0)) - 1.0))
        p = (1.0 + (e / scale) ** 2 / nu) ** (-(nu + 1.0) / 2.0)
    elif family == "super_gaussian":
        p = np.exp(-np.log(2.0) * (np.abs(e) / h) ** 4)
    elif family == "emg":
        # Gaussian core with an exponential tail on the energy-loss side;
        # width and tail chosen so that the FWHM is close to ``fwhm``.
        sigma = 0.6 * fwhm / 2.355
        tau = rng.uniform(0.3, 1.0) * fwhm
        from scipy.special import erfc

        z = (e / sigma - sigma / tau) / np.sqrt(2.0)
        p = np.exp(-e / tau + 0.5 * (sigma / tau) ** 2) * erfc(-z)
        p = np.nan_to_num(p)
        p = np.roll(p, e.size // 2 - int(p.argmax()))
    else:
        raise ValueError(f"unknown PSF family {family!r}")
    return p / p.sum()


def zlp_heldout_spectra(
    n: int,
    noise_level: float,
    *,
    families=HELDOUT_PSF_FAMILIES,
    psf_fwhm=(0.035, 0.2),
    peaks: bool = True,
    drift_probability: float = 0.5,
    random_state=None,
):
    """Held-out distorted spectra, their truth and exact kernels (5 meV/channel).

    Parameters
    ----------
    n
        Number of spectra.
    noise_level
        Standard deviation of the Gaussian high-frequency noise in units of
        the integral-normalised spectrum (the paper's levels are
        :data:`PAPER_NOISE_LEVELS`); its mean is a random dark level of up to
        half of it.
    families
        PSF families drawn from (equally likely).
    psf_fwhm
        Range of the PSF FWHM (eV).
    peaks
        Add loss peaks (``False``: ZLP only, the paper's noise protocol).
    drift_probability
        Share of spectra with a drifting beam instead of the paper's jitter.
    random_state
        Seed or :class:`numpy.random.Generator`.

    Returns
    -------
    distorted, clean : numpy.ndarray
        ``(n, 2048)``, each summing to one (the distorted up to the noise).
    energy : numpy.ndarray
        Energy axis (eV).
    kernels : numpy.ndarray
        ``(n, 1023)`` exact combined kernel (jitter and PSF) of each spectrum,
        centred at index 511.

    Examples
    --------
    >>> from hspy_unmix.synthetic.zlp_heldout import zlp_heldout_spectra
    >>> d, c, e, k = zlp_heldout_spectra(2, 1e-5, random_state=0)
    >>> d.shape, k.shape, round(float(e[1] - e[0]), 4)
    ((2, 2048), (2, 1023), 0.005)
    """
    rng = np.random.default_rng(random_state)
    disp, channels, low = 0.005, 2048, -2.0
    energy = low + disp * np.arange(channels)
    k_half = 511
    ek = disp * np.arange(-k_half, k_half + 1)
    sigma0 = 3 * disp / 2.355
    distorted = np.empty((n, channels))
    clean = np.empty((n, channels))
    kernels = np.empty((n, 2 * k_half + 1))
    for j in range(n):
        if rng.random() < drift_probability:
            n_exp = int(rng.integers(10, 61))
            shifts = np.cumsum(rng.normal(0.0, rng.uniform(0.002, 0.01), n_exp))
            shifts -= shifts[0]
        else:
            shifts = rng.uniform(-0.01, 0.01, 25)
            shifts[0] = 0.0
        family = families[int(rng.integers(len(families)))]
        psf = _psf(family, ek, rng.uniform(*psf_fwhm), rng)

        def profile(centre, width, kind):
            out = np.zeros(channels)
            for s in shifts:
                d = energy - centre - s
                out += np.exp(-0.5 * (d / width) ** 2) if kind == "g" else \
                    1.0 / (1.0 + (2.0 * d / width) ** 2)
            return out / len(shifts)

        truth = np.exp(-0.5 * (energy / sigma0) ** 2)
        jittered = profile(0.0, sigma0, "g")
        if peaks:
            for _ in range(int(rng.integers(0, 16))):
                c0 = rng.uniform(0.05, 8.0)
                w = rng.uniform(0.05, 1.5)
                a = 1.0 / rng.uniform(300, 4000)
                truth += a / (1.0 + (2.0 * (energy - c0) / w) ** 2)
                jittered += a * profile(c0, w, "l")
            for _ in range(int(rng.integers(0, 6))):
                c0 = rng.uniform(0.1, 3.0)
                w = rng.uniform(1.6, 6.0) * disp / 2.355
                a = 1.0 / rng.uniform(100, 2000)
                truth += a * np.exp(-0.5 * ((energy - c0) / w) ** 2)
                jittered += a * profile(c0, w, "g")
        blurred = fftconvolve(jittered, psf, mode="same")
        # combined kernel: the jitter's delta comb blurred by the PSF
        comb = np.zeros(ek.size)
        for s in shifts:
            pos = k_half + s / disp
            i0 = int(np.floor(pos))
            frac = pos - i0
            if 0 <= i0 < ek.size - 1:
                comb[i0] += 1.0 - frac
                comb[i0 + 1] += frac
        kern = np.clip(fftconvolve(comb, psf, mode="same"), 0.0, None)
        kernels[j] = kern / kern.sum()
        clean[j] = truth / truth.sum()
        blurred = np.clip(blurred, 0.0, None)
        blurred /= blurred.sum()
        dark = rng.uniform(0.0, 0.5) * noise_level + rng.uniform(0.0, 1e-7)
        distorted[j] = blurred + rng.normal(dark, noise_level, channels)
    return distorted, clean, energy, kernels
