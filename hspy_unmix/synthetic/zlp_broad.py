"""Broad, dispersion-free near-zero-loss training spectra (channel units).

The shipped restoration U-net is trained on these spectra. Everything is
expressed in channels, so one network serves any dispersion: the restored
zero-loss peak (ZLP) is a quasi-Dirac Gaussian of ``truth_fwhm`` channels (3,
as in EELSpecNet), and the measured ZLP of the distorted spectrum spans from a
few channels to about 50. :func:`hspy_unmix.restoration.plan_resampling`
brings a user's spectra into that range.

The distortions cover what real instruments show:

* point-spread functions (PSF) of four families: Gaussian, Lorentzian,
  pseudo-Voigt and an asymmetric split pseudo-Voigt with an exponential tail
  on the energy-loss side (cold and Schottky field-emission sources);
* energy jitter: 1 to 40 exposures, uniform or normal shifts of varying
  amplitude, re-centred so that the restored ZLP stays at the PSF maximum;
* noise: Poisson counting noise (1e3 to 1e9 counts a spectrum, or none) plus
  Gaussian read-out noise of 1e-6 to 1e-3 of the integral-normalised
  spectrum with a non-zero (dark) mean of -0.05 to 0.2 of its standard
  deviation (what is left after a dark reference: a larger pedestal cannot
  be told from a broad plasmon within the network's view);
* loss features: narrow peaks (1.5 to 25 channels, some narrower than the
  PSF, some close to the ZLP) and broad plasmons (20 to 300 channels);
* the ZLP anywhere in the window.

All randomness is vectorised over spectra; the blur is applied in Fourier
space with one kernel per spectrum.
"""

from __future__ import annotations

import numpy as np

__all__ = ["zlp_broad_spectra", "BROAD_RANGES"]

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))

#: Parameter ranges of :func:`zlp_broad_spectra` (channels unless stated).
BROAD_RANGES = {
    "truth_fwhm": 3.0,
    "psf_fwhm": (2.0, 45.0),
    "psf_families": ("gaussian", "lorentzian", "pseudo_voigt", "asymmetric"),
    "n_exposures": (1, 40),
    "jitter_fraction": (0.0, 0.8),
    "counts": (1e3, 1e9),
    "poisson_probability": 0.6,
    "read_noise": (1e-6, 1e-3),
    "dark_mean": (-0.05, 0.2),
    "n_narrow": (0, 15),
    "narrow_fwhm": (1.5, 25.0),
    "narrow_height": (1e-4, 1e-2),
    "n_plasmons": (0, 2),
    "plasmon_fwhm": (20.0, 300.0),
    "plasmon_height": (1e-3, 0.2),
}


def _psf_profiles(rng, n, grid, fwhm):
    """Unit-sum PSFs on ``grid`` (channels, centred at 0) of random families."""
    family = rng.integers(0, 4, n)
    x = grid[None, :]
    w = fwhm[:, None]
    gauss = np.exp(-0.5 * (x / (w * _FWHM_TO_SIGMA)) ** 2)
    lorentz = 1.0 / (1.0 + (2.0 * x / w) ** 2)
    eta = rng.uniform(0.1, 0.9, (n, 1))
    voigt = eta * lorentz + (1.0 - eta) * gauss
    # Asymmetric: narrower on the gain side, wider with an exponential tail on
    # the loss side; the maximum stays at 0.
    ratio = rng.uniform(1.2, 3.0, (n, 1))
    w_left = 2.0 * w / (1.0 + ratio)
    w_right = ratio * w_left
    wside = np.where(x < 0, w_left, w_right)
    core = eta * (1.0 / (1.0 + (2.0 * x / wside) ** 2)) + (1.0 - eta) * np.exp(
        -0.5 * (x / (wside * _FWHM_TO_SIGMA)) ** 2)
    tail_len = rng.uniform(1.0, 6.0, (n, 1)) * w
    tail_amp = rng.uniform(0.0, 0.05, (n, 1))
    tail = np.where(x > 0, tail_amp * np.exp(-x / tail_len), 0.0)
    asym = core + tail
    psf = np.select([family[:, None] == k for k in range(4)], [gauss, lorentz, voigt, asym])
    psf /= psf.sum(axis=1, keepdims=True)
    return psf, family


def _peaks(x, centre, fwhm, height, lorentzian):
    """Sum over peaks (last axis) of Lorentzian or Gaussian profiles of given height."""
    out = np.zeros((centre.shape[0], x.size))
    for j in range(centre.shape[1]):
        d = (x[None, :] - centre[:, j, None]) / fwhm[:, j, None]
        prof = np.where(lorentzian[:, j, None], 1.0 / (1.0 + 4.0 * d * d),
                        np.exp(-0.5 * (d / _FWHM_TO_SIGMA) ** 2))
        out += height[:, j, None] * prof
    return out


def zlp_broad_spectra(
    n: int, *, channels: int = 512, margin: int = 256, zlp_position=None,
    noise_scale: float | None = None, ranges: dict | None = None,
    dtype=np.float32, random_state=None, return_params: bool = False,
):
    """Generate distorted near-zero-loss spectra and their restored truth, in channels.

    Parameters
    ----------
    n
        Number of spectra.
    channels
        Length of the returned window; the spectra are simulated on
        ``channels + 2 * margin`` channels so that features outside the
        window blur into it as in a real recording.
    margin
        Extra channels simulated on each side of the window.
    zlp_position
        Channel of the ZLP in the window: ``None`` draws it (70 % in the
        first 40 % of the window, the rest anywhere), a number fixes it.
    noise_scale
        If given, the Gaussian read-out noise standard deviation in units
        of the integral-normalised spectrum, without Poisson noise (the
        protocol of the source paper's noise levels).
    ranges
        Overrides of :data:`BROAD_RANGES`.
    dtype
        Floating dtype of the spectra.
    random_state
        Seed or :class:`numpy.random.Generator`.
    return_params
        Also return a dict of drawn parameters (``zlp_position``,
        ``psf_fwhm``, ``psf_family``, ``read_noise``, ``counts``).

    Returns
    -------
    distorted, clean : numpy.ndarray
        ``(n, channels)``, both divided by the sum of the distorted window
        (the network's input normalisation).

    Examples
    --------
    >>> from hspy_unmix.synthetic.zlp_broad import zlp_broad_spectra
    >>> x, y = zlp_broad_spectra(8, random_state=0)
    >>> x.shape, y.shape
    ((8, 512), (8, 512))
    >>> bool(abs(x.sum(axis=1) - 1).max() < 1e-4)
    True
    """
    r = dict(BROAD_RANGES)
    r.update(ranges or {})
    if n < 0 or channels < 16 or margin < 0:
        raise ValueError("n must be >= 0, channels >= 16 and margin >= 0.")
    rng = np.random.default_rng(random_state)
    full = channels + 2 * margin
    n_fft = int(2 ** np.ceil(np.log2(full + 512)))
    x = np.arange(full, dtype=np.float64)

    if zlp_position is None:
        near = rng.random(n) < 0.7
        pos = np.where(near, rng.uniform(4, 0.4 * channels, n), rng.uniform(4, channels - 4, n))
    else:
        pos = np.full(n, float(zlp_position))
    pos = pos + margin

    # Ground truth: quasi-Dirac ZLP (height 1) + narrow loss peaks + plasmons.
    sigma = r["truth_fwhm"] * _FWHM_TO_SIGMA
    clean = np.exp(-0.5 * ((x[None, :] - pos[:, None]) / sigma) ** 2)
    lo, hi = r["n_narrow"]
    k = max(int(hi), 1)
    count = rng.integers(lo, hi + 1, n)
    active = np.arange(k)[None, :] < count[:, None]
    psf_fwhm = np.exp(rng.uniform(*np.log(r["psf_fwhm"]), n))
    nf = np.exp(rng.uniform(*np.log(r["narrow_fwhm"]), (n, k)))
    # Positions: from half a PSF width past the ZLP to the end of the window.
    start = 0.5 * psf_fwhm[:, None] + 2.0
    span = np.maximum(channels + margin - pos[:, None] - start, 1.0)
    dist = start + span * rng.random((n, k)) ** 1.5  # more peaks near the ZLP
    heights = np.exp(rng.uniform(*np.log(r["narrow_height"]), (n, k))) * active
    clean += _peaks(x, pos[:, None] + dist, nf, heights, rng.random((n, k)) < 0.7)
    lo, hi = r["n_plasmons"]
    kp = max(int(hi), 1)
    active = np.arange(kp)[None, :] < rng.integers(lo, hi + 1, n)[:, None]
    pf = np.exp(rng.uniform(*np.log(r["plasmon_fwhm"]), (n, kp)))
    pdist = pf * rng.uniform(0.5, 3.0, (n, kp)) + psf_fwhm[:, None]
    ph = np.exp(rng.uniform(*np.log(r["plasmon_height"]), (n, kp))) * active
    clean += _peaks(x, pos[:, None] + pdist, pf, ph, np.ones((n, kp), bool))

    # Distortion kernel: PSF x mean of jittered deltas, in Fourier space.
    half = n_fft // 2
    grid = np.concatenate([np.arange(0, half), np.arange(-half, 0)]).astype(np.float64)
    psf, family = _psf_profiles(rng, n, grid, psf_fwhm)
    n_lo, n_hi = r["n_exposures"]
    n_exp = rng.integers(n_lo, n_hi + 1, n)
    amp = rng.uniform(*r["jitter_fraction"], n) * psf_fwhm
    jmax = int(n_hi)
    uniform = rng.random(n) < 0.5
    shifts = np.where(uniform[:, None], rng.uniform(-1, 1, (n, jmax)),
                      0.5 * rng.standard_normal((n, jmax))) * amp[:, None]
    used = np.arange(jmax)[None, :] < n_exp[:, None]
    shifts = np.where(used, shifts, 0.0)
    shifts -= (shifts * used).sum(axis=1, keepdims=True) / n_exp[:, None]
    freq = np.fft.rfftfreq(n_fft)
    blurred = np.empty_like(clean)
    step = 256
    for s in range(0, n, step):
        sl = slice(s, s + step)
        phase = np.exp(-2j * np.pi * shifts[sl, :, None] * freq[None, None, :])
        jit = (phase * used[sl, :, None]).sum(axis=1) / n_exp[sl, None]
        kern = np.fft.rfft(psf[sl], axis=1) * jit
        blurred[sl] = np.fft.irfft(np.fft.rfft(clean[sl], n_fft) * kern, n_fft)[:, :full]
    np.clip(blurred, 0.0, None, out=blurred)

    win = slice(margin, margin + channels)
    clean, blurred = clean[:, win], blurred[:, win]
    total = blurred.sum(axis=1, keepdims=True)
    clean = clean / total
    blurred = blurred / total
    if noise_scale is None:
        poisson = rng.random(n) < r["poisson_probability"]
        counts = np.exp(rng.uniform(*np.log(r["counts"]), n))
        lam = blurred * counts[:, None]
        noisy = np.where(poisson[:, None], rng.poisson(lam) / counts[:, None], blurred)
        read = np.exp(rng.uniform(*np.log(r["read_noise"]), n))
        counts = np.where(poisson, counts, np.inf)
    else:
        noisy = blurred.copy()
        read = np.full(n, float(noise_scale))
        counts = np.full(n, np.inf)
    dark = rng.uniform(*r["dark_mean"], n) * read
    noisy = noisy + (dark[:, None] + read[:, None] * rng.standard_normal(noisy.shape))
    s_noisy = noisy.sum(axis=1, keepdims=True)
    # Keep the network's input normalisation: both divided by the noisy sum.
    s_noisy = np.where(s_noisy > 0.05, s_noisy, 1.0)
    distorted = (noisy / s_noisy).astype(dtype)
    clean = (clean / s_noisy).astype(dtype)
    if return_params:
        params = {"zlp_position": pos - margin, "psf_fwhm": psf_fwhm, "psf_family": family,
                  "read_noise": read, "counts": counts, "n_exposures": n_exp}
        return distorted, clean, params
    return distorted, clean
