"""Numba kernels of Richardson-Lucy deconvolution (direct convolution).

Used by :func:`hspy_unmix.restoration.richardson_lucy` for short kernels, where a direct
convolution beats the FFT; one spectrum per call of the step, a batch loop
beside it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def convolve_same(x, psf):
    """``np.convolve(x, psf, mode="same")`` for a kernel of odd length."""
    n = x.size
    k = psf.size
    half = k // 2
    out = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for j in range(k):
            idx = i + half - j
            if 0 <= idx < n:
                acc += x[idx] * psf[j]
        out[i] = acc
    return out


@njit(cache=True, nogil=True)
def richardson_lucy_step(estimate, data, psf, eps):
    """One multiplicative Richardson-Lucy update of one spectrum."""
    blurred = convolve_same(estimate, psf)
    ratio = np.empty_like(data)
    for i in range(data.size):
        ratio[i] = data[i] / max(blurred[i], eps)
    return estimate * convolve_same(ratio, psf[::-1].copy())


@njit(cache=True, nogil=True)
def richardson_lucy_batch(data, psf, iterations, eps):
    """Richardson-Lucy on ``(n, channels)`` data with ``(n, k)`` kernels."""
    out = data.copy()
    for s in range(data.shape[0]):
        est = data[s].copy()
        for _ in range(iterations):
            est = richardson_lucy_step(est, data[s], psf[s], eps)
        out[s] = est
    return out
