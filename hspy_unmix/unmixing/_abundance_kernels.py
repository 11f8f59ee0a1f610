"""Numba kernels of the abundance solvers (private).

Every pixel's least-squares problem is reduced beforehand to the K-space
quadratic program

    minimise 0.5 u^T G u - b^T u   subject to  u >= 0  [and  c^T u = 1]

with ``G`` (K, K) symmetric positive definite (the Gram matrix of the
endmembers, already scaled to a unit diagonal) and ``b`` (K,) the pixel's
correlation with the endmembers. :func:`solve_qp_pixel` solves one pixel
exactly with a primal active-set method (Lawson-Hanson for the
non-negativity constraints; the equality constraint, when present, is kept in
every KKT solve rather than approximated by a heavily weighted extra row).
:func:`solve_qp_chunks` runs it over many pixels in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Pixels handled by one parallel task (work buffers are allocated per task).
PIXELS_PER_TASK = 2048


@njit(cache=True, nogil=True)
def cholesky_subset(G, free_idx, m, L):
    """Cholesky factor of ``G[free_idx[:m]][:, free_idx[:m]]`` into ``L``.

    Returns False when the sub-matrix is not numerically positive definite.
    """
    for i in range(m):
        gi = free_idx[i]
        for j in range(i + 1):
            gj = free_idx[j]
            acc = G[gi, gj]
            for k in range(j):
                acc -= L[i, k] * L[j, k]
            if i == j:
                if acc <= 0.0:
                    return False
                L[i, i] = np.sqrt(acc)
            else:
                L[i, j] = acc / L[j, j]
    return True


@njit(cache=True, nogil=True)
def cholesky_solve(L, m, rhs, out):
    """Solve ``L L^T out = rhs`` for the leading ``m`` entries."""
    for i in range(m):
        acc = rhs[i]
        for k in range(i):
            acc -= L[i, k] * out[k]
        out[i] = acc / L[i, i]
    for i in range(m - 1, -1, -1):
        acc = out[i]
        for k in range(i + 1, m):
            acc -= L[k, i] * out[k]
        out[i] = acc / L[i, i]


@njit(cache=True, nogil=True)
def solve_qp_pixel(G, b, c, sum_to_one, max_iter, tol, u, work_idx, work_L, work_vec):
    """Solve one pixel's K-space problem in place into ``u``.

    Parameters
    ----------
    G : (K, K) float64, symmetric positive definite.
    b : (K,) float64.
    c : (K,) float64, positive; the equality constraint is ``c^T u = 1``.
    sum_to_one : bool, whether the equality constraint applies.
    max_iter : int, maximum number of active-set changes.
    tol : float, tolerance on the Lagrange multipliers relative to ``max|b|``.
    u : (K,) float64, output.
    work_idx : (K,) int64; work_L : (K, K) float64; work_vec : (5, K) float64.

    Returns
    -------
    int
        Number of iterations, negated when ``max_iter`` was reached first.
    """
    n = b.shape[0]
    fixed = work_idx  # reused: 1 where u_i is held at zero, else 0
    rhs_b = work_vec[0]
    sol_b = work_vec[1]
    rhs_c = work_vec[2]
    sol_c = work_vec[3]
    candidate = work_vec[4]
    free_idx = np.empty(n, dtype=np.int64)

    scale = 0.0
    for i in range(n):
        if abs(b[i]) > scale:
            scale = abs(b[i])
    threshold = tol * (scale + 1e-300)

    # A feasible start: the centre of the simplex (FCLS) or the origin (NNLS).
    for i in range(n):
        fixed[i] = 0
        if sum_to_one:
            u[i] = 1.0 / (n * c[i])
        else:
            u[i] = 0.0

    last_released = -1
    for iteration in range(1, max_iter + 1):
        m = 0
        for i in range(n):
            if fixed[i] == 0:
                free_idx[m] = i
                m += 1
        mu = 0.0
        for i in range(n):
            candidate[i] = 0.0
        if m > 0:
            if not cholesky_subset(G, free_idx, m, work_L):
                return -iteration
            for k in range(m):
                rhs_b[k] = b[free_idx[k]]
            cholesky_solve(work_L, m, rhs_b, sol_b)
            if sum_to_one:
                for k in range(m):
                    rhs_c[k] = c[free_idx[k]]
                cholesky_solve(work_L, m, rhs_c, sol_c)
                cy = 0.0
                cz = 0.0
                for k in range(m):
                    cy += rhs_c[k] * sol_b[k]
                    cz += rhs_c[k] * sol_c[k]
                mu = (1.0 - cy) / cz
                for k in range(m):
                    candidate[free_idx[k]] = sol_b[k] + mu * sol_c[k]
            else:
                for k in range(m):
                    candidate[free_idx[k]] = sol_b[k]

        # Step towards the sub-problem optimum, stopping at the first bound hit.
        alpha = 1.0
        blocking = -1
        for k in range(m):
            i = free_idx[k]
            if candidate[i] < 0.0:
                step = u[i] / (u[i] - candidate[i])
                if step < alpha:
                    alpha = step
                    blocking = i
        if blocking >= 0:
            if blocking == last_released and alpha <= 1e-12:
                # The released multiplier was negative only by round-off: the
                # previous point is optimal.
                fixed[blocking] = 1
                u[blocking] = 0.0
                return iteration
            for k in range(m):
                i = free_idx[k]
                u[i] += alpha * (candidate[i] - u[i])
                if u[i] < 0.0:
                    u[i] = 0.0
            fixed[blocking] = 1
            u[blocking] = 0.0
            last_released = -1
            continue

        for k in range(m):
            u[free_idx[k]] = candidate[free_idx[k]]
        # Lagrange multipliers of the bounds held active: grad_j - mu c_j.
        most_negative = -threshold
        release = -1
        for j in range(n):
            if fixed[j] == 1:
                grad = -b[j]
                for i in range(n):
                    grad += G[j, i] * u[i]
                if sum_to_one:
                    grad -= mu * c[j]
                if grad < most_negative:
                    most_negative = grad
                    release = j
        if release < 0:
            return iteration
        fixed[release] = 0
        last_released = release
    return -max_iter


@njit(cache=True, nogil=True, parallel=True)
def solve_qp_chunks(G, B, c, sum_to_one, max_iter, tol, out, n_iter):
    """Solve the K-space problem of every row of ``B`` (n_pixels, K) in parallel.

    Writes the solutions into ``out`` (n_pixels, K) and the iteration counts
    (negative where ``max_iter`` was reached) into ``n_iter`` (n_pixels,).
    """
    n_pixels, n = B.shape
    n_tasks = (n_pixels + PIXELS_PER_TASK - 1) // PIXELS_PER_TASK
    for task in prange(n_tasks):
        start = task * PIXELS_PER_TASK
        stop = min(start + PIXELS_PER_TASK, n_pixels)
        work_idx = np.empty(n, dtype=np.int64)
        work_L = np.zeros((n, n))
        work_vec = np.empty((5, n))
        for p in range(start, stop):
            n_iter[p] = solve_qp_pixel(
                G, B[p], c, sum_to_one, max_iter, tol, out[p], work_idx, work_L, work_vec
            )
