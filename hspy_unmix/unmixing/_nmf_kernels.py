"""Numba kernels of the NMF family (HALS, NMF-SO, ARD-SO-NMF).

Notation follows Muto & Shiga: the data matrix ``X`` (pixels x channels) is
factorised as ``C @ S.T`` with non-negative maps ``C`` (pixels x K) and
spectra ``S`` (channels x K). The kernels never see ``X`` itself: the
expensive products ``X @ S`` and ``X.T @ C`` are BLAS matrix products done by
the caller, and the kernels only do the cheap, inherently sequential
column-by-column part of the hierarchical ALS updates.

The kernels are serial on purpose: with K much smaller than the number of
channels their cost (n K^2) is small beside the two BLAS products (n C K),
and extra threads would compete with the BLAS threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _hals_target(factor, cross, gram, i, j):
    """Unconstrained HALS value of entry ``(i, j)``, ``gram[j, j] > 0``.

    ``factor[i, j] + (cross[i, j] - factor[i] @ gram[:, j]) / gram[j, j]``: the
    least-squares optimum of that entry with all the others fixed, before
    any projection.
    """
    dot = 0.0
    for m in range(factor.shape[1]):
        dot += factor[i, m] * gram[m, j]
    return factor[i, j] + (cross[i, j] - dot) / gram[j, j]


@njit(cache=True, nogil=True)
def hals_rows_sweep(factor, cross, gram):
    """One HALS sweep over the columns of ``factor``, in place.

    Minimises ``||X - factor @ B.T||^2`` column by column with the other
    factor ``B`` fixed (Muto & Shiga eqs. 11-12, Cichocki's fast HALS). Only
    ``cross = X @ B`` and ``gram = B.T @ B`` are needed. The update of entry
    ``(i, j)`` depends on row ``i`` only, so the loop runs row by row (cache
    friendly); inside a row the columns are updated in order, which gives
    exactly the iterates of the column-wise formulation.

    Parameters
    ----------
    factor : ndarray (n, K), float64
        The factor being updated (maps ``C`` or spectra ``S``); modified.
    cross : ndarray (n, K)
        ``X @ B`` (or ``X.T @ B``) for the fixed factor ``B``.
    gram : ndarray (K, K)
        ``B.T @ B``.

    Returns
    -------
    float
        Sum of squared changes of ``factor`` (a convergence measure).
    """
    n, k = factor.shape
    change = 0.0
    for i in range(n):
        row_change = 0.0
        for j in range(k):
            if gram[j, j] <= 0.0:
                # A zero column of B carries no information on column j.
                new = 0.0
            else:
                new = _hals_target(factor, cross, gram, i, j)
                if new < 0.0:
                    new = 0.0
            delta = new - factor[i, j]
            row_change += delta * delta
            factor[i, j] = new
        change += row_change
    return change


@njit(cache=True, nogil=True)
def soft_orthogonal_hals_step(maps, cross, gram, weight, shrinkage):
    """HALS update of the maps with the soft-orthogonal penalty, in place.

    Implements the column update of Muto & Shiga eq. 13: the plain HALS
    target ``y = X^(k) s_k / ||s_k||^2`` is projected away from the sum of
    the other maps ``c = sum_{j != k} C_j`` by the fraction ``weight`` of its
    component along ``c`` (``weight = 1`` makes the maps orthogonal, that is
    non-overlapping; ``weight = 0`` is plain HALS), then clipped at zero.
    ``shrinkage[k]`` is subtracted before clipping: it is the MAP shift of
    the exponential (ARD) prior, ``sigma^2 / lambda_k``, and zero otherwise.

    The penalty couples all pixels through ``c``, so the columns are updated
    one after the other over all pixels.

    Parameters
    ----------
    maps : ndarray (n_pixels, K)
        Abundance maps ``C``; modified.
    cross : ndarray (n_pixels, K)
        ``X @ S``.
    gram : ndarray (K, K)
        ``S.T @ S``.
    weight : float
        Soft-orthogonality weight ``w`` in [0, 1].
    shrinkage : ndarray (K,)
        Value subtracted from each column before the projection onto the
        non-negative orthant (already divided by ``gram[k, k]`` by the caller
        where relevant).
    """
    n, k = maps.shape
    total = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for j in range(k):
            acc += maps[i, j]
        total[i] = acc
    target = np.empty(n)
    for j in range(k):
        g_jj = gram[j, j]
        others_sq = 0.0
        others_dot = 0.0
        for i in range(n):
            others = total[i] - maps[i, j]
            if g_jj <= 0.0:
                y = 0.0
            else:
                y = _hals_target(maps, cross, gram, i, j) - shrinkage[j]
            target[i] = y
            others_sq += others * others
            others_dot += others * y
        factor = 0.0
        if weight > 0.0 and others_sq > 0.0:
            factor = weight * others_dot / others_sq
        for i in range(n):
            others = total[i] - maps[i, j]
            new = target[i] - factor * others
            if new < 0.0:
                new = 0.0
            total[i] = others + new
            maps[i, j] = new


@njit(cache=True, nogil=True)
def negative_mass(values):
    """Sum of the magnitudes of the negative entries of ``values``.

    Drives the ridge-weight schedule of MALS (the weights follow how much
    the unconstrained least-squares solution violates non-negativity).
    """
    flat = values.ravel()
    total = 0.0
    for i in range(flat.size):
        if flat[i] < 0.0:
            total -= flat[i]
    return total
