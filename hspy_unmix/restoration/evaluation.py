"""Judging ZLP restoration on held-out spectra against Richardson-Lucy.

:func:`evaluate_zlp_restoration` scores the U-net (through the public
``s.restore_zlp()`` path, planning included) and Richardson-Lucy with the
exact kernel and with each spectrum's measured ZLP, at several iteration
counts, on :func:`hspy_unmix.synthetic.zlp_heldout.zlp_heldout_spectra`,
which no model was trained or tuned on. The benchmark page and the tests
read its figures.
"""

from __future__ import annotations

import time

import numpy as np

from .._non_finite import non_finite_rows

__all__ = ["evaluate_zlp_restoration", "restoration_checks", "best_rl", "LOSS_REGION", "NOISE_WINDOW"]

#: Energy range (eV) of the loss region scored by SSIM and MSE.
LOSS_REGION = (0.1, 8.0)
#: Energy range (eV) past the ZLP where the high-frequency noise is measured.
NOISE_WINDOW = (1.0, 8.0)
RL_ITERATIONS = (10, 25, 50, 100, 200)


def _as_signal(x, energy):
    from exspy.signals import EELSSpectrum

    s = EELSSpectrum(x.astype(np.float64))
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units, ax.name = energy[1] - energy[0], energy[0], "eV", "Energy loss"
    return s


def _scores(restored, distorted, clean, energy, clean_zlp_only=None, restored_zlp_only=None,
            distorted_zlp_only=None):
    from ..metrics.zlp import (
        highfreq_noise_variance,
        peak_width,
        spectral_mse,
        ssim_1d,
        width_recovery_rate,
        width_relative_error,
    )

    disp = float(energy[1] - energy[0])
    out = {}
    for name, frac in (("fwhm", 0.5), ("fwtm", 0.1)):
        w_r = peak_width(restored, frac, disp)
        w_d = peak_width(distorted, frac, disp)
        w_t = peak_width(clean, frac, disp)
        out[f"{name}_recovery"] = width_recovery_rate(w_r, w_d, w_t)
        out[f"{name}_error"] = width_relative_error(w_r, w_t)
    sel = (energy >= LOSS_REGION[0]) & (energy <= LOSS_REGION[1])
    out["loss_ssim"] = ssim_1d(restored[:, sel], clean[:, sel])
    out["loss_mse"] = spectral_mse(restored[:, sel], clean[:, sel])
    if restored_zlp_only is not None:
        v_r = highfreq_noise_variance(restored_zlp_only, clean_zlp_only, energy, NOISE_WINDOW)
        v_d = highfreq_noise_variance(distorted_zlp_only, clean_zlp_only, energy, NOISE_WINDOW)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["noise_reduction"] = v_d / v_r
    return out


def _summary(scores: dict) -> dict:
    s = {k: float(np.nanmedian(v)) for k, v in scores.items()}
    if "noise_reduction" in scores:
        s["noise_reduction_min"] = float(np.nanmin(scores["noise_reduction"]))
    return s


def evaluate_zlp_restoration(
    n: int = 300,
    noise_levels=None,
    *,
    model=None,
    rl_iterations=RL_ITERATIONS,
    random_state: int = 2022,
    show_progressbar: bool = False,
) -> dict:
    """Score the U-net and Richardson-Lucy on held-out spectra per noise level.

    Parameters
    ----------
    n
        Spectra per noise level (with loss peaks; as many again ZLP-only
        spectra for the noise measure).
    noise_levels
        Noise amplitudes (default: the source paper's four).
    model
        U-net model (``None``: the shipped one).
    rl_iterations
        Iteration counts tried for Richardson-Lucy.
    random_state
        Seed of the held-out spectra.
    show_progressbar
        Progress bars of the restorations.

    Returns
    -------
    dict
        ``{level: {method: summary}}`` where ``method`` is ``"unet"``,
        ``"rl_exact_<it>"`` or ``"rl_measured_<it>"`` and ``summary`` holds
        medians of ``fwhm_recovery``, ``fwtm_recovery``, ``fwhm_error``,
        ``fwtm_error``, ``loss_ssim``, ``loss_mse``, ``noise_reduction``
        (with ``noise_reduction_min``) and, for the U-net, the resampling
        factor chosen.

    Examples
    --------
    >>> from hspy_unmix.restoration.evaluation import evaluate_zlp_restoration
    >>> table = evaluate_zlp_restoration(20, [1e-5])  # doctest: +SKIP
    >>> table[1e-5]["unet"]["fwhm_recovery"] > 0.97  # doctest: +SKIP
    True
    """
    from ..metrics.zlp import peak_width
    from ..synthetic.zlp_heldout import PAPER_NOISE_LEVELS, zlp_heldout_spectra
    from .richardson_lucy import measured_zlp_psf, richardson_lucy

    levels = PAPER_NOISE_LEVELS if noise_levels is None else tuple(noise_levels)
    table = {}
    for i, level in enumerate(levels):
        rng = np.random.default_rng([random_state, i])
        d, c, e, k = zlp_heldout_spectra(n, level, random_state=rng)
        d0, c0, _, k0 = zlp_heldout_spectra(n, level, peaks=False, random_state=rng)
        rows = {}
        both = np.concatenate([d, d0])
        t0 = time.perf_counter()
        restored = _as_signal(both, e).restore_zlp(model, show_progressbar=show_progressbar)
        seconds = time.perf_counter() - t0
        r = np.asarray(restored.data)
        rows["unet"] = _summary(_scores(r[:n], d, c, e, c0, r[n:], d0))
        rows["unet"]["resampling_factor"] = float(
            restored.metadata.Signal.restore_zlp.resampling_factor)
        rows["unet"]["seconds"] = seconds
        fwhm_ch = np.nanmedian(peak_width(both, 0.5))
        half = max(3, int(np.ceil(3 * fwhm_ch)))
        kernels = np.concatenate([k, k0])
        measured = measured_zlp_psf(np.clip(both, 0, None), half)
        for it in rl_iterations:
            for name, kern in (("exact", kernels), ("measured", measured)):
                rr = richardson_lucy(both, kern, it)
                rows[f"rl_{name}_{it}"] = _summary(_scores(rr[:n], d, c, e, c0, rr[n:], d0))
        table[level] = rows
    return table


def best_rl(rows: dict, key: str, larger_is_better: bool) -> tuple[str, float]:
    """The Richardson-Lucy setting with the best median ``key`` in one level's rows."""
    cands = {m: v[key] for m, v in rows.items() if m.startswith("rl_")}
    name = (max if larger_is_better else min)(cands, key=cands.get)
    return name, cands[name]


def restoration_checks(raw, restored) -> dict:
    """What a microscopist checks on a restored real SI (medians over spectra).

    Parameters
    ----------
    raw, restored
        The signal before and after ``restore_zlp`` (same axes).

    Returns
    -------
    dict
        ``integral_change`` (relative, median and worst), ``position_shift``
        (channels of the ZLP maximum, worst), ``fwhm_raw`` and
        ``fwhm_restored`` (channels, medians), and ``ringing``: the deepest
        negative excursion of the restored spectra on the energy-gain side
        of the ZLP (2 to 12 widths away), in units of the raw noise standard
        deviation there, floored at 1e-4 of the ZLP height (a value above -3
        is within the noise).
    """
    from ..metrics.zlp import peak_width

    a = np.asarray(raw.data, dtype=np.float64).reshape(-1, raw.data.shape[-1])
    b = np.asarray(restored.data, dtype=np.float64).reshape(a.shape)
    ok = ~non_finite_rows(a) & (a.sum(1) > 0)
    a, b = a[ok], b[ok]
    change = b.sum(1) / a.sum(1) - 1.0
    pa, pb = a.argmax(1), b.argmax(1)
    fw_a = peak_width(a, 0.5)
    fw_b = peak_width(b, 0.5)
    w = float(np.nanmedian(fw_a))
    c = a.shape[1]
    lo = np.clip(pa - int(12 * w) - 1, 0, c)
    hi = np.clip(pa - int(np.ceil(2 * w)), 0, c)
    ring = []
    for i in range(a.shape[0]):
        if hi[i] - lo[i] >= 3:
            seg_a, seg_b = a[i, lo[i]:hi[i]], b[i, lo[i]:hi[i]]
            # noise of the raw data there, floored at 1e-4 of the ZLP height
            # (noise-free simulations)
            sd = max(float(np.std(seg_a - np.median(seg_a))), 1e-4 * a[i].max())
            ring.append(float(seg_b.min()) / sd)
    return {
        "integral_change_median": float(np.median(change)),
        "integral_change_worst": float(change[np.argmax(np.abs(change))]),
        "position_shift_worst": int(np.max(np.abs(pb - pa))),
        "fwhm_raw": w,
        "fwhm_restored": float(np.nanmedian(fw_b)),
        "ringing": float(np.min(ring)) if ring else float("nan"),
    }
