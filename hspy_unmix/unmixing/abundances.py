"""Abundances of known endmembers: fully constrained and non-negative least squares.

Both solvers reduce every pixel's problem ``min ||x - E^T a||^2`` to K-space
with two BLAS products, ``G = E E^T`` (K, K) and ``B = X E^T`` (n_pixels, K),
then solve each pixel's small quadratic program exactly with a primal
active-set method compiled with numba (see ``_abundance_kernels``):

* :func:`fcls_abundances`: ``a >= 0`` and ``sum(a) = 1`` (fully constrained
  least squares, FCLS; Heinz & Chang 2001). The sum-to-one equality is kept
  exactly in every KKT solve, not approximated by an extra weighted row.
* :func:`nnls_abundances`: ``a >= 0`` only (Lawson & Hanson 1974).
* :func:`sum_to_one_scales`: the per-component scales that make abundance
  maps sum to one, the non-negative least-squares problem every estimator,
  pan-sharpening and the autoencoders rescale their results with.

Conditioning
------------
EELS endmembers share a power-law background and are often nearly collinear,
so ``G`` can be badly conditioned. The endmembers are first scaled to unit
norm (a diagonal rescaling that minimises the condition number of ``G`` up to
a factor ``K``; the sum constraint is rescaled with them, so the solution is
unchanged). Only when the scaled ``G`` is still numerically singular
(smallest eigenvalue below ``1e-12`` of the largest, e.g. duplicated
endmembers) is a Tikhonov term of that size added to its diagonal; this
changes the objective by a relative amount of order ``1e-12`` and picks the
smallest-norm solution among equivalent ones.

Units
-----
``G`` and ``B`` are products of two spectra, so data of order 1e200 (or
1e-200) would overflow (or underflow) them. The endmembers are divided by a
power of two near their root mean square
(:func:`~hspy_unmix.unmixing._scale.data_scale`) before the products and
``B`` by the same factor after: exact in floating point, and the abundances
do not depend on the units of the spectra.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._docstrings import fill_doc
from .._validation import check_spectra
from ._scale import data_scale

__all__ = ["fcls_abundances", "nnls_abundances", "sum_to_one_scales"]

#: Relative eigenvalue floor of the scaled Gram matrix (see module docs).
_GRAM_RCOND = 1e-12


@fill_doc
def fcls_abundances(
    X, endmembers, *, max_iter: int = 200, tol: float = 1e-12
) -> np.ndarray:
    """Fully constrained least-squares abundances (non-negative, sum to one).

    Solves, for every pixel ``x``,
    ``min_a ||x - endmembers.T @ a||^2`` subject to ``a >= 0`` and
    ``sum(a) = 1``, exactly (active-set method on the KKT system).

    %(abundance_solver_parameters)s

    Returns
    -------
    numpy.ndarray
        Abundances, shape (n_pixels, K), float64, non-negative, each row
        summing to one (to about 1e-15).

    See Also
    --------
    nnls_abundances : without the sum-to-one constraint.

    %(examples_two_endmembers)s
    >>> X = np.array([[0.25, 0.75, 1.0], [2.0, 0.0, 2.0]])
    >>> fcls_abundances(X, E).round(6)
    array([[0.25, 0.75],
           [1.  , 0.  ]])
    """
    return _solve_abundances(X, endmembers, True, max_iter, tol)


@fill_doc
def nnls_abundances(
    X, endmembers, *, max_iter: int = 200, tol: float = 1e-12
) -> np.ndarray:
    """Non-negative least-squares abundances (no sum constraint).

    Solves, for every pixel ``x``, ``min_a ||x - endmembers.T @ a||^2``
    subject to ``a >= 0`` (Lawson-Hanson active set in K-space).

    %(abundance_solver_parameters)s

    Returns
    -------
    numpy.ndarray
        Abundances, shape (n_pixels, K), float64, non-negative.

    See Also
    --------
    fcls_abundances : with the sum-to-one constraint.

    %(examples_two_endmembers)s
    >>> nnls_abundances(np.array([[2.0, -1.0, 1.0]]), E).round(6)
    array([[1.5, 0. ]])
    """
    return _solve_abundances(X, endmembers, False, max_iter, tol)


# ---------------------------------------------------------------- internals
def check_endmembers(endmembers, n_channels: int) -> np.ndarray:
    """Validate endmembers against data with ``n_channels`` channels."""
    E = check_spectra(endmembers, name="endmembers")
    n_endmembers, n_e_channels = E.shape
    if n_e_channels != n_channels:
        raise ValueError(
            f"endmembers have {n_e_channels} channels but X has {n_channels}; "
            "endmembers must be shaped (K, n_channels)."
        )
    if n_endmembers > n_channels:
        raise ValueError(
            f"there are more endmembers (K={n_endmembers}) than channels "
            f"({n_channels}); the abundances are not identifiable."
        )
    zero = ~np.any(E != 0, axis=1)
    if zero.any():
        raise ValueError(
            f"endmember(s) {np.flatnonzero(zero).tolist()} are all zero; every "
            "endmember needs a non-zero spectrum."
        )
    return E


def _check_solver_options(max_iter, tol):
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)):
        raise TypeError(f"max_iter must be an integer, got {max_iter!r}.")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}.")
    tol = float(tol)
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite non-negative number, got {tol}.")
    return int(max_iter), tol


def _solve_abundances(X, endmembers, sum_to_one, max_iter, tol):
    max_iter, tol = _check_solver_options(max_iter, tol)
    X = check_spectra(X, name="X")
    E = check_endmembers(endmembers, X.shape[1])
    return solve_validated(X, E, sum_to_one, max_iter=max_iter, tol=tol)


def kspace_problem(E: np.ndarray, B: np.ndarray):
    """Scaled K-space problem ``(G, B, c, norms)`` of endmembers ``E``.

    ``B`` is ``X @ E.T``. The unknowns of the scaled problem are
    ``u = norms * a`` and the sum constraint becomes ``c @ u = 1``.
    """
    gram = E @ E.T
    norms = np.sqrt(np.diag(gram))
    gram_scaled = gram / np.outer(norms, norms)
    eigenvalues = np.linalg.eigvalsh(gram_scaled)
    floor = _GRAM_RCOND * eigenvalues[-1]
    if eigenvalues[0] < floor:
        gram_scaled[np.diag_indices_from(gram_scaled)] += floor - eigenvalues[0]
    B_scaled = B / norms
    return np.ascontiguousarray(gram_scaled), B_scaled, 1.0 / norms, norms


def solve_validated(
    X: np.ndarray,
    E: np.ndarray,
    sum_to_one: bool,
    *,
    max_iter: int = 200,
    tol: float = 1e-12,
) -> np.ndarray:
    """Solve for already validated ``X`` (float32 or float64) and float64 ``E`` (no checks).

    Float32 ``X`` is converted to float64 a batch of rows at a time.

    An all-zero endmember (a component that died in an iterative fit) gets
    zero abundance; the others are solved without it.
    """
    from ..io.chunks import matmul_rows

    scale = data_scale(E)
    E_scaled = E / scale if scale != 1.0 else E
    B = matmul_rows(X, E_scaled.T)
    if scale != 1.0:
        B /= scale
    return solve_products(B, E_scaled, sum_to_one, max_iter=max_iter, tol=tol)


def solve_products(
    B: np.ndarray,
    E_scaled: np.ndarray,
    sum_to_one: bool,
    *,
    max_iter: int = 200,
    tol: float = 1e-12,
) -> np.ndarray:
    """Abundances from the products ``B = X @ E_scaled.T / scale`` (n, K).

    ``E_scaled = E / scale``, ``scale`` a power of two near the endmembers'
    root mean square (:func:`~hspy_unmix.unmixing._scale.data_scale`), so
    both products are exact rescalings and cannot overflow. What
    :func:`solve_validated` does after its one pass over the spectra: a
    caller that already has the products (pan-sharpening computes them with
    its other projections in one product) solves without the spectra.
    """
    alive = np.any(E_scaled != 0, axis=1)
    if not alive.all():
        abundances = np.zeros((B.shape[0], E_scaled.shape[0]))
        if alive.any():
            abundances[:, alive] = solve_products(
                np.ascontiguousarray(B[:, alive]), np.ascontiguousarray(E_scaled[alive]),
                sum_to_one, max_iter=max_iter, tol=tol)
        return abundances
    from ._abundance_kernels import solve_qp_chunks

    if not np.isfinite(B).all():
        raise ValueError(
            "X @ endmembers.T overflows float64; rescale the spectra."
        )
    gram, B_scaled, c, norms = kspace_problem(E_scaled, B)
    u = np.empty_like(B_scaled)
    n_iter = np.empty(B_scaled.shape[0], dtype=np.int64)
    solve_qp_chunks(gram, B_scaled, c, bool(sum_to_one), max_iter, tol, u, n_iter)
    n_stalled = int(np.count_nonzero(n_iter < 0))
    if n_stalled:
        warnings.warn(
            f"{n_stalled} pixel(s) reached max_iter={max_iter} before the "
            "active-set solver converged; their abundances are feasible but may "
            "not be optimal. Increase max_iter.",
            UserWarning,
            stacklevel=3,
        )
    abundances = u
    abundances /= norms
    np.maximum(abundances, 0.0, out=abundances)
    if sum_to_one:
        abundances /= abundances.sum(axis=1, keepdims=True)
    return abundances


#: What :func:`sum_to_one_scales` gives a component whose least-squares scale is zero.
_FALLBACKS = ("peak", "one", "mean")


def sum_to_one_scales(weights, *, fallback: str = "peak") -> np.ndarray:
    """Scales ``d >= 0`` minimising ``||weights @ d - 1||^2``.

    ``weights`` (n_pixels, K) are abundance maps known up to one factor per
    component; ``weights * d`` are the maps that sum as close to one in every
    pixel as the maps allow (the endmembers are divided by ``d``). The
    problem is one non-negative least-squares problem with the K columns of
    ``weights`` as endmembers, solved by :func:`nnls_abundances`' active-set
    kernel.

    Parameters
    ----------
    weights
        Non-negative maps, shape (n_pixels, K).
    fallback
        Scale of a component whose least-squares scale is zero (it cannot
        help the sum, or its map is zero): ``"peak"``, one over the peak of its
        map (1 for a zero map); ``"one"``, 1; ``"mean"``, the mean of the
        positive scales (1 if there are none).

    Returns
    -------
    numpy.ndarray, shape (K,)
        Positive scales.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.unmixing.abundances import sum_to_one_scales
    >>> maps = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 4.0]])
    >>> bool(np.all(sum_to_one_scales(maps) > 0))
    True
    """
    if fallback not in _FALLBACKS:
        raise ValueError(f"fallback must be one of {_FALLBACKS}, got {fallback!r}.")
    weights = np.asarray(weights, dtype=np.float64)
    target = np.ones((1, weights.shape[0]))
    scales = solve_validated(target, np.ascontiguousarray(weights.T), False)[0]
    zero = ~(scales > 0)
    if zero.any():
        if fallback == "peak":
            peaks = weights.max(axis=0, initial=0.0)[zero]
            scales[zero] = 1.0 / np.where(peaks > 0, peaks, 1.0)
        elif fallback == "one":
            scales[zero] = 1.0
        else:
            positive = scales[~zero]
            scales[zero] = positive.mean() if positive.size else 1.0
    return scales


def fit_endmember_scales(
    X: np.ndarray, directions: np.ndarray, *, max_iter: int = 20, tol: float = 1e-6
):
    """Endmembers ``s_k * directions[k]`` whose FCLS abundances reconstruct ``X``.

    For endmember shapes known only up to one factor each (the decoder of a
    network trained with the spectral angle). The start is the least-squares
    one of SSS_VCA: the non-negative weights of the spectra on the shapes,
    scaled by :func:`sum_to_one_scales`. Then the fully constrained
    abundances and the K scales are updated in turn, both with the active-set
    kernel of this module, so that ``||X - A E||^2`` never increases; the
    loop stops when it decreases by less than ``tol`` (relative), after at
    most ``max_iter`` rounds. The shapes themselves are not changed.

    ``X`` (n_pixels, n_channels) and ``directions`` (K, n_channels) are
    validated float64 arrays, ``directions`` with non-zero rows.

    Returns
    -------
    endmembers : numpy.ndarray, shape (K, n_channels)
    abundances : numpy.ndarray, shape (n_pixels, K)
        :func:`fcls_abundances` of ``X`` on ``endmembers``.
    """
    weights = solve_validated(X, directions, False)
    endmembers = directions / sum_to_one_scales(weights, fallback="mean")[:, None]
    abundances = solve_validated(X, endmembers, True)
    error = _squared_error(X, abundances, endmembers)
    for _ in range(max_iter):
        scales = _least_squares_scales(X, abundances, endmembers)
        candidate = endmembers * scales[:, None]
        candidate_abundances = solve_validated(X, candidate, True)
        candidate_error = _squared_error(X, candidate_abundances, candidate)
        if not candidate_error < error:
            break
        gain = (error - candidate_error) / error
        endmembers, abundances, error = candidate, candidate_abundances, candidate_error
        if gain <= tol:
            break
    return endmembers, abundances


def _squared_error(X: np.ndarray, abundances: np.ndarray, endmembers: np.ndarray) -> float:
    """``||X - abundances @ endmembers||^2``, in blocks of rows (about
    :data:`~hspy_unmix.io.chunks.TASK_BATCH_MB` MiB of float64 residual each,
    whatever ``X``'s dtype)."""
    from ..io.chunks import TASK_BATCH_MB, batch_rows

    rows = batch_rows(8 * X.shape[1], TASK_BATCH_MB)
    total = 0.0
    for start in range(0, X.shape[0], rows):
        residual = X[start : start + rows] - abundances[start : start + rows] @ endmembers
        total += float(np.einsum("ij,ij->", residual, residual))
    return total


def _least_squares_scales(
    X: np.ndarray, abundances: np.ndarray, endmembers: np.ndarray
) -> np.ndarray:
    """Scales ``s >= 0`` minimising ``||X - abundances @ (s[:, None] * endmembers)||^2``.

    The problem in ``s`` has the normal matrix ``M = (A^T A) * (E E^T)``
    (element-wise) and right-hand side ``r_k = sum_p A_pk (X E^T)_pk``; it is
    solved as the non-negative least-squares problem ``||y - F s||`` with
    ``M = F^T F``, ``F^T y = r``. A component with no abundance keeps scale 1,
    as does one whose least-squares scale is zero (it cannot vanish).
    """
    M = (abundances.T @ abundances) * (endmembers @ endmembers.T)
    r = np.einsum("pk,pk->k", abundances, X @ endmembers.T)
    scales = np.ones(endmembers.shape[0])
    active = np.flatnonzero(np.diag(M) > 0)
    if active.size == 0:
        return scales
    eigenvalues, vectors = np.linalg.eigh(M[np.ix_(active, active)])
    eigenvalues = np.maximum(eigenvalues, _GRAM_RCOND * eigenvalues[-1])
    factor = np.sqrt(eigenvalues)[:, None] * vectors.T  # F, with M = F^T F
    target = (vectors.T @ r[active]) / np.sqrt(eigenvalues)
    solved = solve_validated(target[None, :], np.ascontiguousarray(factor.T), False)[0]
    scales[active] = np.where(solved > 0, solved, 1.0)
    return scales
