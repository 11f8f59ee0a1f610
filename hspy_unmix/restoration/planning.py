"""Before restoring: is there a zero-loss peak, how wide is it, which resampling?

The restoration network works in channels: it restores spectra whose
measured ZLP spans ``native_fwhm_channels`` (model metadata) to a quasi-Dirac
ZLP of ``truth_fwhm_channels``. :func:`plan_resampling` measures the ZLP of a
sample of spectra and chooses the factor by which the energy axis is
resampled (1 when the ZLP is already in the native range), so that one model
serves any dispersion. Everything here is numpy only (no Keras import).
"""

from __future__ import annotations

import numpy as np

from .._non_finite import non_finite_rows

__all__ = ["NoZeroLossPeakError", "measure_zlp", "plan_resampling", "MIN_FWHM_CHANNELS"]

#: Below this measured ZLP width (channels) the peak is at the sampling limit:
#: there is nothing left to restore, and restoration is refused.
MIN_FWHM_CHANNELS = 1.5


class NoZeroLossPeakError(ValueError):
    """The spectra have no zero-loss peak to restore (core-loss data, ZLP cropped).

    A ``ValueError``: raised by ``restore_zlp`` (both methods) and
    :func:`plan_resampling` before any network is loaded.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.restoration import NoZeroLossPeakError
    >>> from hspy_unmix.synthetic import zlp_test_signal
    >>> s, _ = zlp_test_signal((2, 2), random_state=0)
    >>> try:
    ...     s.isig[4.0:].restore_zlp(method="richardson_lucy")
    ... except NoZeroLossPeakError as error:
    ...     print(str(error)[:56])
    restore_zlp needs spectra with a zero-loss peak in the w
    """


def _peak_fwhm(x: np.ndarray) -> np.ndarray:
    from ..metrics.zlp import peak_width

    return peak_width(x, 0.5)


def measure_zlp(spectra: np.ndarray) -> dict:
    """Detect and measure the zero-loss peak of each spectrum of a sample.

    A spectrum has a ZLP when its highest channel is a peak that falls below
    half its height on both sides inside the window, is at most an eighth of
    the window wide, and stands at least five times above the median level
    of the channels more than five widths away from it.

    Parameters
    ----------
    spectra
        ``(n, channels)`` finite spectra.

    Returns
    -------
    dict
        ``has_zlp`` (bool per spectrum), ``fwhm`` (channels, NaN where no
        ZLP), ``position`` (channel of the maximum).

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.restoration.planning import measure_zlp
    >>> x = np.arange(256.0)
    >>> zlp = np.exp(-0.5 * ((x - 40) / 4.0) ** 2) + 1e-3
    >>> edge = 1.0 / (x + 10.0)  # a core-loss background: no ZLP
    >>> measure_zlp(np.stack([zlp, edge]))["has_zlp"].tolist()
    [True, False]
    """
    x = np.asarray(spectra, dtype=np.float64)
    n, c = x.shape
    fwhm = _peak_fwhm(x)
    pos = x.argmax(axis=1)
    height = x[np.arange(n), pos]
    idx = np.arange(c)[None, :]
    far = np.abs(idx - pos[:, None]) > 5 * np.nan_to_num(fwhm, nan=c)[:, None]
    level = np.array([np.median(np.abs(row[m])) if m.any() else np.inf
                      for row, m in zip(x, far)])
    ok = np.isfinite(fwhm) & (fwhm <= max(c / 8.0, 3.0)) & (height > 5.0 * level)
    ok &= height > 0
    return {"has_zlp": ok, "fwhm": np.where(ok, fwhm, np.nan), "position": pos}


def sample_spectra(data, n_max: int = 512) -> np.ndarray:
    """The first ``n_max`` spectra of ``data`` (numpy or dask) in C order.

    Eager and lazy signals give the same sample (so the same plan); for a
    dask array only the chunks holding those spectra are read.
    """
    nav = data.shape[:-1]
    n = int(np.prod(nav))
    idx = np.unravel_index(np.arange(min(n, n_max)), nav) if nav else ()
    if hasattr(data, "vindex"):
        part = data.vindex[idx].compute() if nav else data.compute()
    else:
        part = np.asarray(data)[idx] if nav else np.asarray(data)
    return np.asarray(part, dtype=np.float64).reshape(-1, data.shape[-1])


def plan_resampling(sample: np.ndarray, meta: dict, *, axis_description: str = "") -> dict:
    """Choose how the energy axis is resampled for a model.

    Parameters
    ----------
    sample
        ``(n, channels)`` spectra representative of the signal.
    meta
        Model metadata (``native_fwhm_channels``, ``truth_fwhm_channels``).
    axis_description
        Text about the energy axis, added to error messages.

    Returns
    -------
    dict
        ``factor`` (model channels per data channel; 1 = native),
        ``measured_fwhm_channels`` (median over the sample),
        ``model_fwhm_channels`` (after resampling), ``restored_fwhm_channels``
        (the restored ZLP width expected, in data channels).

    Raises
    ------
    NoZeroLossPeakError
        When fewer than half of the sampled spectra show a ZLP, or the ZLP is
        narrower than :data:`MIN_FWHM_CHANNELS`.

    Examples
    --------
    A ZLP 33 channels wide lies inside the shipped model's native range
    (5 to 40 channels): no resampling.

    >>> from hspy_unmix.restoration import plan_resampling
    >>> from hspy_unmix.synthetic import zlp_test_signal
    >>> s, _ = zlp_test_signal((2, 2), random_state=0)
    >>> plan = plan_resampling(s.data.reshape(4, -1), {"native_fwhm_channels": (5, 40)})
    >>> plan["factor"], round(plan["measured_fwhm_channels"])
    (1.0, 33)

    A model trained on ZLPs 5 to 20 channels wide: the axis is binned (a
    factor below 1) so that the ZLP falls inside that range.

    >>> plan = plan_resampling(s.data.reshape(4, -1), {"native_fwhm_channels": (5, 20)})
    >>> bool(plan["factor"] < 1 and 5 <= plan["model_fwhm_channels"] <= 20)
    True
    """
    sample = np.asarray(sample, dtype=np.float64)
    good = ~non_finite_rows(sample) & (sample.sum(axis=1) > 0)
    found = measure_zlp(sample[good]) if good.any() else {"has_zlp": np.zeros(0, bool)}
    if found["has_zlp"].size == 0 or found["has_zlp"].mean() < 0.5:
        share = 0.0 if found["has_zlp"].size == 0 else found["has_zlp"].mean()
        raise NoZeroLossPeakError(
            "restore_zlp needs spectra with a zero-loss peak in the window; "
            f"{share:.0%} of the sampled spectra show one{axis_description}. "
            "This looks like core-loss data or a window that excludes the ZLP."
        )
    fwhm = float(np.nanmedian(found["fwhm"]))
    if fwhm < MIN_FWHM_CHANNELS:
        raise NoZeroLossPeakError(
            f"The zero-loss peak is {fwhm:.2f} channels wide (FWHM): it is already at "
            "the sampling limit and there is nothing to restore "
            f"(restore_zlp needs at least {MIN_FWHM_CHANNELS} channels)."
        )
    lo, hi = (float(v) for v in meta.get("native_fwhm_channels", (5.0, 40.0)))
    if fwhm < lo:
        factor = min(1.6 * lo, 0.5 * (lo + hi)) / fwhm
    elif fwhm > hi:
        factor = 0.75 * hi / fwhm
    else:
        factor = 1.0
    truth = float(meta.get("truth_fwhm_channels", 3.0))
    return {
        "factor": float(factor),
        "measured_fwhm_channels": fwhm,
        "model_fwhm_channels": fwhm * factor,
        "restored_fwhm_channels": truth / factor,
    }


def to_model_grid(x: np.ndarray, factor: float) -> np.ndarray:
    """Resample rows of ``x`` (counts per data channel) onto model channels.

    ``factor`` model channels per data channel: finer grids interpolate
    linearly, coarser ones add up the counts of each new channel (exactly
    conserving the integral). Returns counts per model channel.
    """
    if factor == 1.0:
        return x
    c = x.shape[-1]
    n_new = max(2, int(np.floor((c - 1) * factor)) + 1)
    t = np.arange(n_new) / factor  # model-channel centres in data channels
    if factor > 1.0:
        out = np.empty(x.shape[:-1] + (n_new,))
        src = np.arange(c)
        for i, row in enumerate(x.reshape(-1, c)):
            out.reshape(-1, n_new)[i] = np.interp(t, src, row)
        return out / factor
    return _rebin(x, t, 1.0 / factor, c)


def from_model_grid(y: np.ndarray, factor: float, channels: int) -> np.ndarray:
    """Inverse of :func:`to_model_grid`: model channels back to ``channels`` data channels."""
    if factor == 1.0:
        return y
    n_new = y.shape[-1]
    if factor > 1.0:
        # model channel j covers data coordinates [j - 0.5, j + 0.5] / factor
        return _rebin(y, np.arange(channels) * factor, factor, n_new)
    t = np.arange(n_new) / factor
    out = np.empty(y.shape[:-1] + (channels,))
    dst = np.arange(channels)
    for i, row in enumerate(y.reshape(-1, n_new)):
        out.reshape(-1, channels)[i] = np.interp(dst, t, row)
    return out * factor


def _rebin(x, centres, width, c):
    """Counts of ``x`` (unit channels 0..c-1) in bins of ``width`` at ``centres``."""
    cum = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    edges_src = np.arange(c + 1) - 0.5
    lo = np.clip(centres - 0.5 * width, -0.5, c - 0.5)
    hi = np.clip(centres + 0.5 * width, -0.5, c - 0.5)
    flat = cum.reshape(-1, c + 1)
    out = np.empty((flat.shape[0], centres.size))
    for i, row in enumerate(flat):
        out[i] = np.interp(hi, edges_src, row) - np.interp(lo, edges_src, row)
    return out.reshape(x.shape[:-1] + (centres.size,))
