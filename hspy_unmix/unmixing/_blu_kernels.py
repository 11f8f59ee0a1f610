"""Numba kernels of the Bayesian linear unmixing Gibbs sampler (private).

The sampler works in the (K-1)-dimensional PCA subspace of the data (see
:mod:`hspy_unmix.unmixing.bayesian`): with ``y_p = ybar + U z_p + r_p`` (``U``
orthonormal, ``r_p`` orthogonal to it) and endmembers ``m_r = ybar + U t_r``,
the residual of pixel ``p`` splits as ``||z_p - T a_p||^2 + ||r_p||^2`` for
abundances on the simplex, so every conditional draw costs O(K^2) per pixel
whatever the number of channels. Only the positivity of the endmembers needs
the channels (O(n_channels) per endmember coordinate).

Random numbers come from numba's generator, seeded explicitly by
:func:`run_gibbs_chunk` so that runs are reproducible.
"""

# numba compiles the legacy ``np.random`` functions (its own generator), not
# ``np.random.Generator``.
# ruff: noqa: NPY002

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Rejection attempts before a truncated-normal draw falls back to the
#: interval point nearest the mean (never reached for sane input).
_MAX_TRIES = 10_000


@njit(cache=True, nogil=True)
def seed_generator(seed):
    """Seed numba's random generator (distinct from numpy's)."""
    np.random.seed(seed)


@njit(cache=True, nogil=True)
def truncated_standard_normal(a, b):
    """Draw from N(0, 1) restricted to ``[a, b]`` (``a < b``, may be infinite).

    Robert (1995): normal rejection when the interval holds the mode and is
    wide, uniform rejection when it is narrow, translated-exponential
    rejection in a tail.
    """
    if a <= 0.0 <= b:
        if b - a >= 2.5066282746310002:  # sqrt(2 pi): normal proposal accepts >= 1/2
            for _ in range(_MAX_TRIES):
                z = np.random.standard_normal()
                if a <= z <= b:
                    return z
        else:
            for _ in range(_MAX_TRIES):
                z = a + (b - a) * np.random.random()
                if np.random.random() <= math.exp(-0.5 * z * z):
                    return z
        return 0.0
    # One tail: mirror so that 0 < lo < hi.
    if b < 0.0:
        lo, hi, sign = -b, -a, -1.0
    else:
        lo, hi, sign = a, b, 1.0
    rate = 0.5 * (lo + math.sqrt(lo * lo + 4.0))
    width_limit = (2.0 / (lo + math.sqrt(lo * lo + 4.0))) * math.exp(
        0.25 * (lo * lo - lo * math.sqrt(lo * lo + 4.0)) + 0.5
    )
    if hi - lo <= width_limit:
        for _ in range(_MAX_TRIES):
            z = lo + (hi - lo) * np.random.random()
            if np.random.random() <= math.exp(0.5 * (lo * lo - z * z)):
                return sign * z
    else:
        for _ in range(_MAX_TRIES):
            z = lo + np.random.exponential(1.0) / rate
            if z <= hi and np.random.random() <= math.exp(-0.5 * (z - rate) ** 2):
                return sign * z
    return sign * lo


@njit(cache=True, nogil=True)
def truncated_normal(mean, sd, lower, upper):
    """Draw from N(mean, sd^2) restricted to ``[lower, upper]``.

    An empty or single-point interval (``upper <= lower``) returns ``lower``
    clipped by ``upper``; this is how a component pinned by the sum-to-one
    constraint is kept. A zero or non-finite ``sd`` returns the mean clipped.
    """
    if not upper > lower:
        return min(lower, upper) if upper < lower else lower
    if not (sd > 0.0 and math.isfinite(sd)):
        return min(max(mean, lower), upper)
    z = truncated_standard_normal((lower - mean) / sd, (upper - mean) / sd)
    value = mean + sd * z
    return min(max(value, lower), upper)


@njit(cache=True, nogil=True)
def _column_gram(M):
    """``M^T M`` of a (d, m) matrix."""
    d, m = M.shape
    G = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            acc = 0.0
            for r in range(d):
                acc += M[r, i] * M[r, j]
            G[i, j] = acc
    return G


@njit(cache=True, nogil=True, inline="always")
def _column_dots(M, v, out):
    """``out[i] = M[:, i] @ v`` for every column ``i`` of ``M`` (in place)."""
    d, m = M.shape
    for i in range(m):
        acc = 0.0
        for r in range(d):
            acc += M[r, i] * v[r]
        out[i] = acc


@njit(cache=True, nogil=True)
def sample_abundances(Z, T, A, sigma2, dependent, n_passes):
    """One Gibbs update of every pixel's abundances on the simplex (in place).

    Parameters
    ----------
    Z : (n_pixels, K-1) projected data ``U^T (y_p - ybar)``.
    T : (K-1, K) projected endmembers (columns).
    A : (n_pixels, K) abundances, updated in place.
    sigma2 : noise variance.
    dependent : index of the component written as ``1 - sum(others)``.
    n_passes : coordinate sweeps per pixel.

    The free abundances ``c`` have the Gaussian conditional with precision
    ``Q = D^T D / sigma2`` (``D`` the endmembers minus the dependent one)
    restricted to ``c >= 0, sum(c) <= 1``; each coordinate is drawn from its
    exact truncated-normal full conditional.
    """
    n_pixels, d = Z.shape
    k = T.shape[1]
    m = k - 1
    free = np.empty(m, dtype=np.int64)
    j = 0
    for i in range(k):
        if i != dependent:
            free[j] = i
            j += 1
    D = np.empty((d, m))
    for jj in range(m):
        for r in range(d):
            D[r, jj] = T[r, free[jj]] - T[r, dependent]
    Q = _column_gram(D)
    Q /= sigma2
    b = np.empty(m)
    c = np.empty(m)
    centred = np.empty(d)
    for p in range(n_pixels):
        for r in range(d):
            centred[r] = Z[p, r] - T[r, dependent]
        _column_dots(D, centred, b)
        for i in range(m):
            b[i] /= sigma2
            c[i] = A[p, free[i]]
        total = 0.0
        for i in range(m):
            total += c[i]
        for _ in range(n_passes):
            for i in range(m):
                upper = 1.0 - (total - c[i])
                if upper < 0.0:
                    upper = 0.0
                if Q[i, i] > 0.0:
                    num = b[i]
                    for jj in range(m):
                        if jj != i:
                            num -= Q[i, jj] * c[jj]
                    new = truncated_normal(num / Q[i, i], 1.0 / math.sqrt(Q[i, i]),
                                           0.0, upper)
                else:
                    # Coincident endmembers: the likelihood is flat along c_i.
                    new = upper * np.random.random()
                total += new - c[i]
                c[i] = new
        for i in range(m):
            A[p, free[i]] = c[i]
        A[p, dependent] = max(1.0 - total, 0.0)


@njit(cache=True, nogil=True)
def _log_gamma_conditional(x, alpha, g_ii, h, q0, b_i, b0, log_rest, inv_two_sigma2):
    """Log density of ``x = log g_i`` given the other log-gamma variables.

    ``a_i = g_i / (g_i + rest)`` (a logistic function of ``x - log_rest``),
    the other abundances are ``(1 - a_i)`` times their normalised rest
    ``r``. With ``G = T^T T`` and ``b = T^T z_p``: ``h = (G r)_i``,
    ``q0 = r^T G r``, ``b0 = b^T r``, so the Gaussian log-likelihood
    ``-(a^T G a - 2 b^T a) / (2 sigma2)`` costs O(1). The Gamma(alpha, 1)
    prior of ``g_i`` gives ``alpha x - exp(x)``.
    """
    t = x - log_rest
    if t >= 0.0:
        e = math.exp(-t)
        u = 1.0 / (1.0 + e)
        v = e / (1.0 + e)
    else:
        e = math.exp(t)
        u = e / (1.0 + e)
        v = 1.0 / (1.0 + e)
    quad = u * u * g_ii + 2.0 * u * v * h + v * v * q0 - 2.0 * (u * b_i + v * b0)
    if x > 700.0:
        return -np.inf
    return alpha * x - math.exp(x) - quad * inv_two_sigma2


@njit(cache=True, nogil=True)
def sample_abundances_dirichlet(Z, T, A, L, sigma2, concentration, n_passes):
    """One Gibbs update of every pixel's abundances, Dirichlet prior (in place).

    Parameters
    ----------
    Z : (n_pixels, K-1) projected data.
    T : (K-1, K) projected endmembers (columns).
    A : (n_pixels, K) abundances, overwritten with ``softmax(L)``.
    L : (n_pixels, K) log-gamma variables of the chain, updated in place.
    sigma2 : noise variance.
    concentration : parameter ``alpha`` of the symmetric Dirichlet prior.
    n_passes : coordinate sweeps per pixel.

    ``Dirichlet(alpha)`` is the law of ``g / sum(g)`` for independent
    ``g_i ~ Gamma(alpha, 1)``. The sampler works on ``x_i = log g_i``: each is
    slice-sampled (Neal 2003, stepping out and shrinkage) from its exact
    full conditional, then the scale ``sum(g)``, independent of the
    abundances a priori and absent from the likelihood, is redrawn from its
    ``Gamma(K alpha, 1)`` law. Abundances far below the rounding error of
    one (``alpha < 1`` puts much prior mass there) stay representable, and
    no boundary of the simplex is absorbing.
    """
    n_pixels, d = Z.shape
    k = T.shape[1]
    G = _column_gram(T)
    inv_two_sigma2 = 0.5 / sigma2
    width = 2.0
    max_steps = 64
    b = np.empty(k)
    rest = np.empty(k)
    x = np.empty(k)
    for p in range(n_pixels):
        _column_dots(T, Z[p], b)
        for i in range(k):
            x[i] = L[p, i]
        for _ in range(n_passes):
            for i in range(k):
                top = -np.inf
                for j in range(k):
                    if j != i and x[j] > top:
                        top = x[j]
                total = 0.0
                for j in range(k):
                    if j != i:
                        rest[j] = math.exp(x[j] - top)
                        total += rest[j]
                    else:
                        rest[j] = 0.0
                log_rest = top + math.log(total)
                h = 0.0
                q0 = 0.0
                b0 = 0.0
                for j in range(k):
                    rest[j] /= total
                for j in range(k):
                    if j != i:
                        h += G[i, j] * rest[j]
                        b0 += b[j] * rest[j]
                        for jj in range(k):
                            q0 += rest[j] * G[j, jj] * rest[jj]
                args = (concentration, G[i, i], h, q0, b[i], b0, log_rest,
                        inv_two_sigma2)
                x0 = x[i]
                level = _log_gamma_conditional(x0, *args) - np.random.exponential(1.0)
                left = x0 - width * np.random.random()
                right = left + width
                steps_left = int(max_steps * np.random.random())
                steps_right = max_steps - 1 - steps_left
                while steps_left > 0 and _log_gamma_conditional(left, *args) > level:
                    left -= width
                    steps_left -= 1
                while steps_right > 0 and _log_gamma_conditional(right, *args) > level:
                    right += width
                    steps_right -= 1
                new = x0
                for _t in range(_MAX_TRIES):
                    candidate = left + (right - left) * np.random.random()
                    if _log_gamma_conditional(candidate, *args) >= level:
                        new = candidate
                        break
                    if candidate < x0:
                        left = candidate
                    else:
                        right = candidate
                x[i] = new
        # Normalise, then redraw the scale: log g = log a + log S.
        top = x[0]
        for i in range(1, k):
            if x[i] > top:
                top = x[i]
        total = 0.0
        for i in range(k):
            total += math.exp(x[i] - top)
        log_norm = top + math.log(total)
        scale = np.random.gamma(k * concentration, 1.0)
        log_scale = math.log(scale) if scale > 0.0 else 0.0
        for i in range(k):
            A[p, i] = math.exp(x[i] - log_norm)
            L[p, i] = x[i] - log_norm + log_scale


@njit(cache=True, nogil=True)
def abundance_statistics(Z, A):
    """``G = A^T A`` (K, K) and ``W = A^T Z`` (K, K-1)."""
    n_pixels, k = A.shape
    d = Z.shape[1]
    G = np.zeros((k, k))
    W = np.zeros((k, d))
    for p in range(n_pixels):
        for i in range(k):
            a = A[p, i]
            for jj in range(k):
                G[i, jj] += a * A[p, jj]
            for r in range(d):
                W[i, r] += a * Z[p, r]
    return G, W


@njit(cache=True, nogil=True)
def sample_endmembers(T, M, G, W, U, ybar, sigma2, prior_mean, prior_precision):
    """One Gibbs update of every projected endmember (in place).

    Given the abundances (through ``G = A^T A`` and ``W = A^T Z``), ``t_r``
    has an isotropic Gaussian conditional (``U`` orthonormal) with precision
    ``G_rr / sigma2 + prior_precision_r``, restricted to the positivity set
    ``ybar + U t_r >= 0``. Each coordinate is drawn from its exact truncated
    normal, whose bounds come from the channels; ``M`` (K, n_channels) holds
    ``ybar + U t_r`` and is kept in step.
    """
    d, k = T.shape
    n_channels = U.shape[0]
    mean = np.empty(d)
    for r in np.random.permutation(k):
        precision = G[r, r] / sigma2 + prior_precision[r]
        sd = 1.0 / math.sqrt(precision)
        for q in range(d):
            acc = W[r, q]
            for jj in range(k):
                if jj != r:
                    acc -= G[r, jj] * T[q, jj]
            mean[q] = (acc / sigma2 + prior_precision[r] * prior_mean[q, r]) / precision
        for q in np.random.permutation(d):
            lower = -np.inf
            upper = np.inf
            t_old = T[q, r]
            for ch in range(n_channels):
                u = U[ch, q]
                rest = M[r, ch] - u * t_old
                if u > 0.0:
                    bound = -rest / u
                    if bound > lower:
                        lower = bound
                elif u < 0.0:
                    bound = -rest / u
                    if bound < upper:
                        upper = bound
            t_new = truncated_normal(mean[q], sd, lower, upper)
            T[q, r] = t_new
            step = t_new - t_old
            for ch in range(n_channels):
                M[r, ch] += U[ch, q] * step
        # Recompute the spectrum to stop rounding errors from accumulating.
        for ch in range(n_channels):
            acc = ybar[ch]
            for q in range(d):
                acc += U[ch, q] * T[q, r]
            M[r, ch] = acc


@njit(cache=True, nogil=True)
def subspace_residual(Z, T, A):
    """``sum_p ||z_p - T a_p||^2``."""
    n_pixels, d = Z.shape
    k = T.shape[1]
    total = 0.0
    for p in range(n_pixels):
        for r in range(d):
            acc = Z[p, r]
            for i in range(k):
                acc -= T[r, i] * A[p, i]
            total += acc * acc
    return total


@njit(cache=True, nogil=True)
def sample_noise_variance(residual_sq, n_values):
    """Draw sigma2 ~ IG(n_values / 2, residual_sq / 2) (Jeffreys prior)."""
    return 0.5 * residual_sq / np.random.gamma(0.5 * n_values, 1.0)


@njit(cache=True, nogil=True)
def run_gibbs_chunk(
    Z, orthogonal_sq, n_values, U, ybar, T, M, A, state, prior_mean,
    prior_precision, n_passes, n_sweeps, first_kept, seed, T_sum, A_sum, stats,
    trace, trace_start, concentration, L,
):
    """Run ``n_sweeps`` Gibbs sweeps, updating the chain state in place.

    One sweep draws the noise variance, then every pixel's abundances (with
    a randomly chosen dependent component under the uniform prior,
    ``concentration == 1``, or through the log-gamma variables ``L`` under
    the Dirichlet prior of parameter ``concentration``), then the endmembers. Sweeps with
    index ``>= first_kept`` (within this chunk) are added to the running sums
    ``T_sum``, ``A_sum`` and ``stats[0]`` (noise variance); ``trace`` receives
    the noise variance of every sweep from ``trace_start``. ``state[0]`` is
    the noise variance carried between chunks. ``seed`` seeds numba's
    generator at the start of the chunk.
    """
    np.random.seed(seed)
    k = T.shape[1]
    sigma2 = state[0]
    for it in range(n_sweeps):
        residual = subspace_residual(Z, T, A) + orthogonal_sq
        sigma2 = sample_noise_variance(residual, n_values)
        if concentration == 1.0:
            sample_abundances(Z, T, A, sigma2, np.random.randint(0, k), n_passes)
        else:
            sample_abundances_dirichlet(Z, T, A, L, sigma2, concentration, n_passes)
        G, W = abundance_statistics(Z, A)
        sample_endmembers(T, M, G, W, U, ybar, sigma2, prior_mean, prior_precision)
        trace[trace_start + it] = sigma2
        if it >= first_kept:
            T_sum += T
            A_sum += A
            stats[0] += sigma2
    state[0] = sigma2
