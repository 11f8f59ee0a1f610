"""Model and solver of HAADF-guided pan-sharpening (:mod:`hspy_unmix.fusion.haadf`).

The spectrum image (coarse grid, few counts per channel) and the ADF/HAADF
image (same scan or an integer factor ``f`` finer, many counts per pixel)
share one model of the abundances on the image's grid:

* endmembers ``E`` (K x channels) from the SI (any package algorithm or given);
* abundances ``A`` (one K-vector per image pixel, ``A >= 0``) maximise

  - the Poisson log-likelihood of the spectra: each SI pixel ``p`` is the
    mean of the ``f x f`` image pixels it covers,
    ``x_p / g ~ Poisson(mean_{q in p}(A_q) @ E / g)`` with ``g`` the
    detector's gain (signal units per electron; 1 for electron counts);
  - the Gaussian log-likelihood of the image under a fitted forward model
    ``h_q = b + (sum_k w_k A_qk) ** gamma + noise``: per-endmember effective
    scattering weights ``w_k >= 0`` (``c Z_k^1.7`` for incoherent Rutherford
    scattering of a thin sample, where the image is linear in the amounts,
    ``gamma = 1``), an exponent ``gamma`` for channelling, thickness and
    detector non-linearity, an offset ``b``; ``w``, ``gamma`` and ``b`` are
    fitted on the SI's grid against the SI-only abundances and refitted
    after each pass;
  - minus an optional edge-preserving (Huber or total-variation) penalty on
    the abundance maps;
  - minus a Gaussian prior on the neighbour differences of the total
    ``sum_k c_k A_qk`` (the projected amount of material, thickness times
    density, as the counts it gives: ``c_k`` the integral of endmember
    ``k`` over the mean integral, so that the total does not depend on how
    each endmember's scale was chosen; :func:`count_weights`), whose
    variance is estimated from the SI: where the SI
    shows a total that varies slowly (a lamella, a wedge), changes of the
    image within an SI pixel are explained by composition rather than by
    thickness; where the SI's total has structure of its own (particles on
    a support), the prior's weight falls towards zero
    (:func:`thickness_weight`);

  solved by L-BFGS-B on tiles of the image grid (with a halo), so that the
  SI is read tile by tile and eager and lazy signals go through one path.

This module holds that model only, on arrays: the grid operators between
the two grids, the image noise estimate, the image forward model and its
fit, the registration check's shift search, one tile's objective and
solve, and the tiling. Reading signals, checking options and building the
result are :func:`~hspy_unmix.fusion.haadf.pan_sharpen_image`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._non_finite import non_finite_rows

#: Floor of the Poisson model (counts) in the log-likelihood and chi-square.
MODEL_FLOOR = 1e-6
#: Bounds of the fitted exponent of the image model.
GAMMA_BOUNDS = (0.3, 3.0)
#: Floor of the variance of the total's SI-grid differences (relative to the
#: mean total squared) in :func:`thickness_weight`: bounds the weight where
#: the SI's total shows nothing but noise.
THICKNESS_VARIANCE_FLOOR = 1e-4


# ------------------------------------------------------------------ grids
def block_mean(A: np.ndarray, f: int) -> np.ndarray:
    """Mean over ``f x f`` blocks of the first two axes."""
    if f == 1:
        return A
    h, w = A.shape[0] // f, A.shape[1] // f
    return A.reshape((h, f, w, f) + A.shape[2:]).mean(axis=(1, 3))


def replicate(A: np.ndarray, f: int) -> np.ndarray:
    """Each pixel repeated into an ``f x f`` block (adjoint of ``block_mean`` times f^2)."""
    if f == 1:
        return A
    return np.repeat(np.repeat(A, f, axis=0), f, axis=1)


def image_noise_sigma(image: np.ndarray) -> float:
    """Standard deviation of the white noise of an image (Immerkaer 1996).

    The 3 x 3 mask ``[[1,-2,1],[-2,4,-2],[1,-2,1]]`` cancels planes and
    line-wise offsets (scan noise), so the estimate is that of the
    pixel-to-pixel noise the image term of the fit assumes.
    """
    img = np.asarray(image, dtype=np.float64)
    if min(img.shape) < 3:
        return float(np.std(img)) or 1.0
    conv = (img[:-2, :-2] - 2 * img[:-2, 1:-1] + img[:-2, 2:]
            - 2 * img[1:-1, :-2] + 4 * img[1:-1, 1:-1] - 2 * img[1:-1, 2:]
            + img[2:, :-2] - 2 * img[2:, 1:-1] + img[2:, 2:])
    sigma = np.sqrt(np.pi / 2) * np.abs(conv).mean() / 6.0
    return float(sigma) if sigma > 0 else float(np.std(img) * 1e-3 or 1.0)


# ------------------------------------------------------------ image model
@dataclass
class ImageModel:
    """``image = offset + (abundances @ weights) ** gamma`` (+ noise)."""

    offset: float
    weights: np.ndarray  # (K,)
    gamma: float
    noise_sigma: float
    gamma_fitted: bool
    r_squared: float = float("nan")

    def predict(self, A: np.ndarray) -> np.ndarray:
        return self.offset + np.power(np.maximum(A @ self.weights, 0.0), self.gamma)

    def as_dict(self) -> dict:
        return {
            "model": "offset + (sum_k weights_k * a_k) ** gamma",
            "offset": float(self.offset),
            "weights": np.asarray(self.weights, dtype=float),
            "relative_weights": np.asarray(self.weights / max(self.weights.max(), 1e-300)),
            "gamma": float(self.gamma),
            "gamma_fitted": bool(self.gamma_fitted),
            "noise_sigma": float(self.noise_sigma),
            "r_squared": float(self.r_squared),
        }


def fit_image_model(A: np.ndarray, image: np.ndarray, gamma, noise_sigma: float,
                    factor: int = 1) -> ImageModel:
    """Least-squares fit of offset, weights (>= 0) and gamma (or fixed gamma).

    ``A`` (rows, cols, K) are abundances on the image's grid, ``image``
    (rows, cols). The fit is made on the SI's grid: abundances and image
    averaged over the ``factor x factor`` blocks of one SI pixel. The first
    fit's abundances are the SI-only ones replicated onto the image grid,
    which cannot follow the image inside an SI pixel, and later ones were
    solved under the previous model; a fit on the image grid bends
    ``gamma`` to make up for the one and confirms the other (for an image
    linear in the amounts it found gamma near 2, on the SI's grid 1.2).
    ``r_squared`` is that of the image grid.
    """
    from scipy.optimize import least_squares

    from ..unmixing.abundances import nnls_abundances

    A = np.asarray(A, dtype=np.float64)
    h_full = np.asarray(image, dtype=np.float64)
    f = int(factor)
    k = A.shape[-1]
    scale = float(np.mean(A.sum(-1))) or 1.0
    U = A / scale
    h = block_mean(h_full, f).ravel()
    n = h.size
    hs = float(np.std(h)) or 1.0
    # fitted in units where the abundances have mean total 1 and the image
    # unit variance: image / hs = b' + (U @ v) ** g
    Uc = block_mean(U, f).reshape(n, k)
    design = np.column_stack([Uc, np.ones(n), -np.ones(n)])
    coef = nnls_abundances(h[None] / hs, design.T)[0]  # gamma = 1 start
    v1 = np.maximum(coef[:k], 1e-6 * max(coef[:k].max(), 1e-12))
    b0 = coef[k] - coef[k + 1]
    fit_gamma = gamma is None
    g0 = 1.0 if fit_gamma else float(gamma)
    mean_level = max(float(np.mean(Uc @ v1)), 1e-12)
    v0 = v1 * mean_level ** (1.0 / g0 - 1.0)  # same mean image at exponent g0

    def unpack(p):
        return np.exp(p[:k]), (p[k] if fit_gamma else g0), p[-1]

    def residual(p):
        v, g, b = unpack(p)
        return b + np.power(np.maximum(Uc @ v, 1e-300), g) - h / hs

    p0 = np.concatenate([np.log(v0), [g0] if fit_gamma else [], [b0]])
    p0[:k] = np.clip(p0[:k], -40.0, 40.0)
    lo = np.full(p0.size, -np.inf)
    hi = np.full(p0.size, np.inf)
    lo[:k], hi[:k] = -40.0, 40.0  # log-weights: no overflow for absent phases
    if fit_gamma:
        lo[k], hi[k] = GAMMA_BOUNDS
    sol = least_squares(residual, p0, bounds=(lo, hi), x_scale="jac", max_nfev=2000)
    v, g, b = unpack(sol.x)
    weights = v * hs ** (1.0 / g) / scale  # image = b hs + (A @ weights) ** g
    b = b * hs
    model = ImageModel(float(b), weights, float(g), float(noise_sigma), fit_gamma)
    res = model.predict(A) - h_full
    model.r_squared = float(1 - res.var() / max(h_full.var(), 1e-300))
    return model


def registration_shift(A0: np.ndarray, image_coarse: np.ndarray, max_shift: int = 1):
    """Integer shift (rows, columns) of the SI grid that best explains the image.

    A linear model of the block-averaged image from the SI-only abundances is
    fitted at each shift of up to ``max_shift`` SI pixels; returns the best
    shift and the R^2 at the best shift and at zero shift.
    """
    ny, nx, k = A0.shape
    m = max_shift
    if ny <= 2 * m + 2 or nx <= 2 * m + 2:
        return (0, 0), 1.0, 1.0
    core_img = image_coarse[m:ny - m, m:nx - m].ravel()
    best, r2 = (0, 0), {}
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            a = A0[m + dy:ny - m + dy, m + dx:nx - m + dx].reshape(-1, k)
            design = np.column_stack([a, np.ones(a.shape[0])])
            coef, *_ = np.linalg.lstsq(design, core_img, rcond=None)
            res = core_img - design @ coef
            r2[(dy, dx)] = 1 - res.var() / max(core_img.var(), 1e-300)
    best = max(r2, key=r2.get)
    return best, float(r2[best]), float(r2[(0, 0)])


def count_weights(E: np.ndarray) -> np.ndarray:
    """``c_k``: the integral of each endmember over their mean integral (K,).

    The total ``sum_k c_k a_k`` of a pixel is then its model's integral over
    the mean endmember integral: unchanged when an endmember is multiplied
    by a number and its abundance divided by it.

    >>> count_weights(np.array([[1.0, 1.0], [3.0, 3.0]])).tolist()
    [0.5, 1.5]
    """
    sums = np.asarray(E, dtype=np.float64).sum(-1)
    mean = float(sums.mean()) if sums.size else 0.0
    return sums / mean if mean > 0 else np.ones_like(sums)


def total_noise_variance(A0: np.ndarray, E: np.ndarray, max_pixels: int = 4096,
                         chunk: int = 512) -> float:
    """Mean Poisson variance of the total ``A0 @ c`` of one SI pixel (:func:`count_weights`).

    For SI pixel ``p`` with model ``m = A0_p @ E`` the Fisher information of
    its abundances is ``F = E diag(1/m) E^T``; the variance of the total is
    ``c^T F^-1 c`` (the Cramer-Rao bound, reached by the maximum-likelihood
    abundances). Returns the mean over the pixels (at most ``max_pixels``,
    evenly spaced over the scan; ``chunk`` at a time), in the units of ``A0``.
    """
    k = E.shape[0]
    flat = np.asarray(A0, dtype=np.float64).reshape(-1, k)
    if flat.shape[0] > max_pixels:
        flat = flat[np.linspace(0, flat.shape[0] - 1, max_pixels).astype(np.int64)]
    c = count_weights(E)
    total = 0.0
    for start in range(0, flat.shape[0], chunk):
        m = np.maximum(flat[start:start + chunk] @ E, MODEL_FLOOR)
        fisher = np.einsum("kc,nc,jc->nkj", E, 1.0 / m, E)
        ridge = 1e-12 * np.trace(fisher, axis1=1, axis2=2)[:, None, None] * np.eye(k)
        x = np.linalg.solve(fisher + ridge, np.broadcast_to(c, (len(m), k))[..., None])
        total += float((x[..., 0] @ c).sum())
    return total / max(flat.shape[0], 1)


def total_weights(A0: np.ndarray, E: np.ndarray, scale: float) -> np.ndarray:
    """``c * scale / mean(A0 @ c)`` (:func:`count_weights`): the weights that
    make ``U @ weights`` the total in units of its mean for abundances ``U``
    in units of ``scale`` (the solve's)."""
    c = count_weights(E)
    mean = float(np.mean(np.asarray(A0, dtype=np.float64) @ c))
    return c * (scale / mean) if mean > 0 else c


def thickness_weight(A0: np.ndarray, E: np.ndarray, f: int, gain: float = 1.0) -> float:
    """Weight of the prior on the total abundance's neighbour differences.

    ``A0`` (rows, cols, K): SI-only abundances on the SI's grid, ``E`` the
    endmembers (counts per unit abundance), ``f`` the image's factor,
    ``gain`` the detector's (the Poisson variance is ``gain`` times). The
    total ``T = A0 @ c`` (:func:`count_weights`; divided by its mean) has
    SI-grid neighbour differences of mean square ``v_d``; the Poisson noise
    of ``T`` (:func:`total_noise_variance`, ``s_n^2``) adds ``2 s_n^2`` to
    it, so ``v = max(v_d - 2 s_n^2, THICKNESS_VARIANCE_FLOOR)`` measures the
    total's own structure at the SI's scale. The prior on the image grid is
    a Gaussian of variance ``f^4 v`` on each neighbour difference: weight
    ``1 / (2 f^4 v)`` in units of the log-likelihood. A total that changes
    smoothly across an SI pixel has image-grid differences of variance
    ``v / f^2``; the prior is kept ``f^6`` times wider than that, so that it
    stays weak wherever the SI shows the total varying (particles on a
    support, holes) and matters where the SI shows a total that varies no
    more than its noise (a lamella or wedge). An SI with fewer than 2 x 2
    pixels, or no material, gives 0.

    >>> import numpy as np
    >>> E = np.array([[1.0, 2.0, 1.0], [2.0, 1.0, 3.0]]) * 1e4  # many counts
    >>> flat = np.ones((16, 16, 2))
    >>> round(thickness_weight(flat, E, 2), 1)  # a constant total: the floor's weight
    312.5
    >>> steps = np.ones((16, 16, 2)); steps[::2] *= 3  # a total jumping by 3x
    >>> thickness_weight(steps, E, 2) < 1
    True
    """
    if min(A0.shape[0], A0.shape[1]) < 2:
        return 0.0
    A0 = np.asarray(A0, dtype=np.float64)
    T = A0 @ count_weights(E)
    mean = float(T.mean())
    if not mean > 0:
        return 0.0
    d = np.concatenate([np.diff(T, axis=0).ravel(), np.diff(T, axis=1).ravel()]) / mean
    noise = gain * total_noise_variance(A0, np.asarray(E, dtype=np.float64)) / mean ** 2
    v = max(float(np.mean(d * d)) - 2.0 * noise, THICKNESS_VARIANCE_FLOOR)
    return 1.0 / (2.0 * float(f) ** 4 * v)


# --------------------------------------------------------------- the fit
@dataclass
class FusionProblem:
    """Everything one tile's solve needs besides its data."""

    endmembers: np.ndarray  # (K, C) in counts per unit abundance
    factor: int
    scale: float  # abundance unit of the solve (mean total abundance)
    model: ImageModel
    image_weight: float
    regularization: str | None
    smoothness: float
    huber_delta: float
    max_iter: int
    thickness_weight: float = 0.0  # weight of the prior on the total's differences
    #: (K,) the total of the prior is ``U @ total_weights``, in units of its mean
    total_weights: np.ndarray | None = None
    gain: float = 1.0  # signal units per detected electron (the Poisson term's scale)


def _difference_penalty(V, phi):
    """``sum phi(d)`` over the neighbour differences ``d`` of ``V`` along its
    first two axes, and its gradient; ``phi(d)`` returns (values, derivatives)."""
    value = 0.0
    grad = np.zeros_like(V)
    for axis in (0, 1):
        if V.shape[axis] < 2:
            continue
        values, derivatives = phi(np.diff(V, axis=axis))
        value += float(values.sum())
        grad += _difference_adjoint(derivatives, axis)
    return value, grad


def _difference_adjoint(g, axis):
    """Adjoint of ``np.diff(., axis)`` applied to ``g`` (the gradient of sum(phi(diff)))."""
    pad = [(0, 0)] * g.ndim
    pad[axis] = (1, 0)
    gp = np.pad(g, pad)
    pad[axis] = (0, 1)
    return gp - np.pad(g, pad)


def _thickness_penalty(U, weight, c):
    """Gaussian prior on the neighbour differences of the total ``U @ c`` and its gradient."""
    value, grad = _difference_penalty(U @ c, lambda d: (0.5 * d * d, d))
    return weight * value, weight * grad[..., None] * c


def _edge_penalty(U, problem):
    """Huber / smoothed-TV penalty of the maps and its gradient (U: h, w, K)."""
    lam = problem.smoothness
    if problem.regularization is None or lam <= 0:
        return 0.0, 0.0
    delta = problem.huber_delta if problem.regularization == "huber" else 1e-3

    def huber(d):
        small = np.abs(d) <= delta
        return (np.where(small, d * d / (2 * delta), np.abs(d) - delta / 2),
                np.where(small, d / delta, np.sign(d)))

    value, grad = _difference_penalty(U, huber)
    return lam * value, lam * grad


def fused_objective(u, X, h, problem, shape, measured=None):
    """Negative log-posterior of one tile and its gradient.

    ``u`` flattened abundances in units of ``problem.scale`` on the tile's
    image grid ``shape = (rows, cols, K)``; ``X`` (rows/f, cols/f, C) counts;
    ``h`` (rows, cols) image; ``measured`` (rows/f, cols/f) ``False`` for the
    SI pixels without a spectrum (NaN/inf): no spectral term there.
    """
    f = problem.factor
    U = u.reshape(shape)
    Es = problem.endmembers * problem.scale
    # spectra: Poisson, each SI pixel the mean of its f x f image pixels
    M = block_mean(U, f) @ Es
    Mf = np.maximum(M, MODEL_FLOOR)
    terms = M - X * np.log(Mf)
    g_terms = 1.0 - X / Mf
    if measured is not None:
        terms = terms * measured[..., None]
        g_terms = g_terms * measured[..., None]
    value = float(terms.sum()) / problem.gain
    g_coarse = g_terms @ Es.T
    grad = replicate(g_coarse, f) / (f * f * problem.gain)
    # image: Gaussian around the fitted forward model
    model = problem.model
    if problem.image_weight > 0:
        ws = model.weights * problem.scale
        t = np.maximum(U @ ws, 1e-12)
        tg = np.power(t, model.gamma)
        r = model.offset + tg - h
        inv_var = problem.image_weight / model.noise_sigma ** 2
        value += 0.5 * inv_var * float((r * r).sum())
        grad += (inv_var * r * model.gamma * tg / t)[..., None] * ws
    pen, g_pen = _edge_penalty(U, problem)
    value, grad = value + pen, grad + g_pen
    if problem.thickness_weight > 0:
        pen, g_pen = _thickness_penalty(U, problem.thickness_weight, problem.total_weights)
        value, grad = value + pen, grad + g_pen
    return value, grad.ravel()


def solve_tile(X, h, U0, problem):
    """L-BFGS-B solve of one tile, abundances >= 0 (units of ``problem.scale``).

    SI pixels whose spectrum holds NaN or inf have no spectral term: their
    abundances come from the image and the regularisers alone.
    """
    from scipy.optimize import minimize

    shape = U0.shape
    X = np.asarray(X, dtype=np.float64)
    bad = non_finite_rows(X.reshape(-1, X.shape[-1])).reshape(X.shape[:-1])
    measured = None
    if bad.any():
        measured = (~bad).astype(np.float64)
        X = np.where(bad[..., None], 0.0, X)
    X = np.clip(X, 0.0, None)
    sol = minimize(
        fused_objective, U0.ravel(), args=(X, h, problem, shape, measured), jac=True,
        method="L-BFGS-B", bounds=[(0.0, None)] * U0.size,
        options={"maxiter": problem.max_iter, "maxcor": 20, "ftol": 1e-12, "gtol": 1e-9},
    )
    return sol.x.reshape(shape)


def tiles(ny: int, nx: int, tile: int, halo: int):
    """Tiles of the SI grid: (core slices, halo slices) in SI pixels."""
    for y0 in range(0, ny, tile):
        for x0 in range(0, nx, tile):
            y1, x1 = min(y0 + tile, ny), min(x0 + tile, nx)
            core = (slice(y0, y1), slice(x0, x1))
            outer = (slice(max(y0 - halo, 0), min(y1 + halo, ny)),
                     slice(max(x0 - halo, 0), min(x1 + halo, nx)))
            yield core, outer
