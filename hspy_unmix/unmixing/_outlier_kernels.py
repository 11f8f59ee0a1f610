"""Numba kernels of the outlier screen: each channel's residual above the
running median of 5 channels, and each spectrum's largest scaled residual.

The running median is the one of ``scipy.ndimage.median_filter(size=(1, 5),
mode="nearest")`` (the window clamped at both ends of the spectrum), in
float32 like the screen's arrays, so that a residual is exactly the float32
difference between a channel and one of its neighbours' values. One row at
a time, without the ``(n_pixels, n_channels)`` temporaries of the vectorised
form; serial (the screen runs once per fit, and these kernels may be called
from several threads at once: a form's preview beside its run).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _median5(a, b, c, d, e):
    """Median of five values (a comparison network, no sorting)."""
    f = max(min(a, b), min(c, d))
    g = min(max(a, b), max(c, d))
    return max(min(e, f), min(max(e, f), g))


@njit(cache=True, nogil=True)
def _median5_residual(row, out):
    """``out[i] = row[i] - median(row[i-2:i+3])`` (window clamped at the ends)."""
    n = row.size
    last = n - 1
    for i in range(n):
        if 2 <= i < n - 2:
            a, b = np.float32(row[i - 2]), np.float32(row[i - 1])
            d, e = np.float32(row[i + 1]), np.float32(row[i + 2])
        else:
            a, b = np.float32(row[max(i - 2, 0)]), np.float32(row[max(i - 1, 0)])
            d, e = np.float32(row[min(i + 1, last)]), np.float32(row[min(i + 2, last)])
        c = np.float32(row[i])
        out[i] = c - _median5(a, b, c, d, e)


@njit(cache=True, nogil=True)
def median5_residuals(X, rows):
    """Residuals (float32) of the rows ``rows`` of ``X`` (n_pixels, n_channels)."""
    out = np.empty((rows.size, X.shape[1]), dtype=np.float32)
    for r in range(rows.size):
        _median5_residual(X[rows[r]], out[r])
    return out


@njit(cache=True, nogil=True)
def largest_scaled_residual(X, center, spread):
    """Per spectrum, ``max_j (residual_j - center_j) / spread_j`` (float32 steps)."""
    n, c = X.shape
    scores = np.empty(n)
    residual = np.empty(c, dtype=np.float32)
    for i in range(n):
        _median5_residual(X[i], residual)
        best = np.float32(-np.inf)
        for j in range(c):
            value = np.float32(residual[j] - center[j]) / spread[j]
            if value > best:
                best = value
        scores[i] = best
    return scores
