"""Outlier screen run before every endmember search.

Cosmic-ray spikes (one or two channels far above their neighbours), hot
pixels (a whole spectrum far brighter than the others) and dead pixels
(all-zero or nearly empty spectra) are extreme points of the data, exactly
what a pure-pixel search (VCA) or a simplex fit looks for. On a real
core-loss SI a single spike is enough to become one of the endmembers.

The screen flags such spectra; the estimator learns its endmembers from the
other spectra only and then unmixes *every* spectrum, flagged ones included.
The number flagged is reported in a warning and stored on the estimator
(``outlier_mask_``, ``n_outliers_``).

Spikes
    Each spectrum is compared with its own running median over
    ``_SPIKE_WINDOW`` channels (a median follows edges and smooth
    backgrounds but not a one- or two-channel spike). The residual of each
    channel is scaled by its robust spread over all spectra (1.4826 x median
    absolute deviation, floored at the median spread of all channels), and a
    spectrum's score is its largest scaled residual. A spectrum is flagged
    when its score exceeds both ``spike_threshold`` (absolute) and
    ``_SPIKE_TAIL`` times the 99th percentile of all scores, so that the
    threshold adapts to data whose sharp features (white lines, absorption
    bands) give every spectrum a large score.
Hot and dead pixels
    A spectrum whose total intensity is more than ``_INTENSITY_FACTOR``
    times brighter or dimmer than the median spectrum (or zero) is flagged,
    but only while such spectra are rare (at most ``_MAX_INTENSITY_FRACTION``
    of all): a larger group is a region of the sample (vacuum, a thick
    area), not a detector defect.

Measured on the real CuZn core-loss SI (50 x 40 x 162): the 19288-count spike
of pixel (y=42, x=11) scores 205, the next spectrum 31, the 99th percentile
13; on clean synthetic chequerboards and the Samson scene no spectrum is
flagged. The cost is one pass of a compiled running median over the data
(``_outlier_kernels``; 65536 x 1024 float64 in 1-2 s on a busy 2-core
machine, where the vectorised form took 14-21 s), without
temporary copies of it.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["OutlierScreen", "screen_outliers"]

#: Channels of the running median that models each spectrum.
_SPIKE_WINDOW = 5
#: Default absolute threshold on the robust z-score of a channel.
_SPIKE_THRESHOLD = 40.0
#: A flagged score also exceeds this multiple of the 99th percentile.
_SPIKE_TAIL = 3.0
#: Hot/dead pixels: total intensity this many times off the median.
_INTENSITY_FACTOR = 20.0
#: Hot/dead pixels are only defects while they are at most this fraction.
_MAX_INTENSITY_FRACTION = 0.005
#: Spectra over which each channel's residual centre and spread are taken.
_STATS_ROWS = 4096


class OutlierScreen:
    """Result of :func:`screen_outliers`.

    Attributes
    ----------
    mask : numpy.ndarray of bool, shape (n_pixels,)
        True for flagged spectra.
    spike_score : numpy.ndarray, shape (n_pixels,)
        Largest robust z-score of a channel above the running median.
    spike, intensity : numpy.ndarray of bool
        Which test flagged each spectrum.
    """

    def __init__(self, spike_score, spike, intensity):
        self.spike_score = spike_score
        self.spike = spike
        self.intensity = intensity
        self.mask = spike | intensity

    @property
    def n_flagged(self) -> int:
        return int(self.mask.sum())


def spike_scores(X: np.ndarray) -> np.ndarray:
    """Largest robust z-score of a channel of each spectrum above its running
    median (see the module documentation).

    The centre and spread of each channel's residual are medians over the
    spectra, or over ``_STATS_ROWS`` evenly spaced ones when there are more.
    """
    from ._outlier_kernels import largest_scaled_residual

    if X.shape[1] < _SPIKE_WINDOW:
        return np.zeros(X.shape[0])
    X = np.ascontiguousarray(X)
    n = X.shape[0]
    rows = (np.arange(n) if n <= _STATS_ROWS
            else np.linspace(0, n - 1, _STATS_ROWS).round().astype(np.int64))
    center, spread, mean_deviation = _residual_statistics(X, rows)
    floor = float(np.median(spread))
    if not floor > 0:
        floor = mean_deviation
    if not floor > 0:
        return np.zeros(n)
    spread = np.maximum(spread, floor).astype(np.float32)
    # Positive excursions only: a dip is not something a vertex search picks.
    return largest_scaled_residual(X, center, spread)


def _residual_statistics(X: np.ndarray, rows: np.ndarray, block: int = 256):
    """Per channel, over the spectra ``rows`` of ``X``: the median of the
    residual above the running median (float32), 1.4826 x the median absolute
    deviation from it, and the mean absolute deviation of all channels.

    Computed ``block`` channels at a time (with the window's two neighbours
    on each side), so that the residuals held at once are one block of
    channels (4 MiB for 4096 spectra) instead of all of them.
    """
    from ._outlier_kernels import median5_residuals

    n_channels = X.shape[1]
    halo = _SPIKE_WINDOW // 2
    center = np.empty(n_channels, dtype=np.float32)
    spread = np.empty(n_channels)
    total = 0.0
    for start in range(0, n_channels, block):
        stop = min(start + block, n_channels)
        first, last = max(start - halo, 0), min(stop + halo, n_channels)
        residual = median5_residuals(X[:, first:last], rows)[:, start - first:stop - first]
        center[start:stop] = np.median(residual, axis=0)
        deviation = np.abs(residual - center[start:stop])
        total += float(deviation.sum(dtype=np.float64))
        spread[start:stop] = 1.4826 * np.median(deviation, axis=0)
    return center, spread, total / max(rows.size * n_channels, 1)


def screen_outliers(
    X: np.ndarray, spike_threshold: float = _SPIKE_THRESHOLD
) -> OutlierScreen:
    """Flag spike, hot and dead spectra of ``X`` (n_pixels, n_channels).

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.unmixing._outliers import screen_outliers
    >>> rng = np.random.default_rng(0)
    >>> X = rng.poisson(1000.0, size=(500, 100)).astype(float)
    >>> X[7, 40] += 20000.0
    >>> np.flatnonzero(screen_outliers(X).mask)
    array([7])
    """
    n_pixels = X.shape[0]
    scores = spike_scores(X)
    tail = float(np.percentile(scores, 99)) if n_pixels else 0.0
    spike = scores > max(float(spike_threshold), _SPIKE_TAIL * tail)

    totals = X.sum(axis=1, dtype=np.float64)
    typical = float(np.median(totals))
    intensity = np.zeros(n_pixels, dtype=bool)
    if typical > 0:
        off = (totals > _INTENSITY_FACTOR * typical) | (
            totals < typical / _INTENSITY_FACTOR
        )
        if off.sum() <= _MAX_INTENSITY_FRACTION * n_pixels:
            intensity = off
    return OutlierScreen(scores, spike, intensity)


def screened_rows(estimator, X: np.ndarray) -> np.ndarray | None:
    """Rows of ``X`` an estimator learns its endmembers from, or None for all.

    Sets ``outlier_mask_`` and ``n_outliers_`` on the estimator and warns
    with the number of flagged spectra. The screen is on when the
    estimator's ``outlier_screen`` is True, or ``"auto"`` (the default) for
    the estimators whose class sets ``_screens_outliers`` (the classical
    ones of :mod:`hspy_unmix.unmixing`); it is off for
    spatial estimators (they need every pixel of the image).
    """
    setting = getattr(estimator, "outlier_screen", "auto")
    if isinstance(setting, str) and setting == "auto":
        enabled = bool(getattr(estimator, "_screens_outliers", False))
    elif isinstance(setting, (bool, np.bool_)):
        enabled = bool(setting)
    else:
        raise ValueError(
            f"outlier_screen must be True, False or 'auto', got {setting!r}."
        )
    estimator.__dict__.pop("outlier_mask_", None)
    estimator.__dict__.pop("n_outliers_", None)
    if not enabled or getattr(estimator, "_spatial", False):
        return None
    screen = screen_outliers(X)
    estimator.outlier_mask_ = screen.mask
    estimator.n_outliers_ = screen.n_flagged
    if screen.n_flagged == 0:
        return None
    rows = np.flatnonzero(~screen.mask)
    k = getattr(estimator, "_n_components", 1) or 1
    if rows.size < max(2 * k, 2):
        # Almost everything flagged: the data, not a few defects, look like
        # this; learn from everything rather than from a handful of spectra.
        estimator.outlier_mask_ = np.zeros(X.shape[0], dtype=bool)
        estimator.n_outliers_ = 0
        return None
    n_spike = int(screen.spike.sum())
    n_intensity = int((screen.intensity & ~screen.spike).sum())
    warnings.warn(
        f"{screen.n_flagged} of {X.shape[0]} spectra look like outliers "
        f"({n_spike} with a spike, {n_intensity} far brighter or dimmer than "
        "the rest): they are left out of the endmember search but still "
        f"unmixed. See {type(estimator).__name__}.outlier_mask_; pass "
        "outlier_screen=False to keep them, or remove spikes first "
        "(spikes_removal_tool).",
        UserWarning,
        stacklevel=4,
    )
    return rows
