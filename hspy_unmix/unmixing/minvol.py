"""Minimum-volume simplex unmixing, for data without pure pixels.

VCA takes its endmembers from the data, so when a phase never appears pure
(a thin layer, a particle smaller than the probe, a dopant) its endmember is
a mixed spectrum. The linear mixing model still places the data inside the
simplex of the true endmembers, touching its facets wherever a phase is
absent; the smallest simplex enclosing the data then recovers a missing
vertex from the facets that meet there (Craig 1994). :class:`MinVolume`
finds that simplex by minimising the SISAL objective of Bioucas-Dias (2009),

    log |det B|  +  penalty * mean_i sum_j h(max(0, -a_ij); sigma_j)

where the columns of ``B`` are the vertices in the (K-1)-dimensional affine
subspace of the data (plus a row of ones), ``a_i = B^-1 [y_i; 1]`` are the
(sum-to-one, unconstrained) abundances of pixel ``i`` and ``sigma_j`` the
noise standard deviation of abundance ``j``. The first term is the log
volume; the second, a soft constraint, lets pixels fall slightly outside.
``h`` is a Huber hinge: quadratic up to one noise standard deviation
outside (``d**2 / (2 sigma)``), linear beyond (``d - sigma / 2``). The
quadratic part makes the result the same at any dose (the noise sets the
scale); the linear part bounds the pull of any single pixel, so that a few
outliers do not inflate the simplex (SISAL's hinge is linear throughout).
It starts from the VCA simplex and is minimised by L-BFGS; the abundances
are then solved by fully constrained least squares.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .._docstrings import fill_doc
from .._parameters import MAX_PARTIAL_FIT_SAMPLES, estimator_init
from ._base import UnmixingEstimator
from .abundances import solve_validated
from .vca import VCA, _centred_sample, check_abundance_solver, top_right_singular_vectors

__all__ = ["MinVolume"]


@fill_doc
class MinVolume(UnmixingEstimator):
    """Minimum-volume enclosing simplex (SISAL objective) with FCLS abundances.

    Use it instead of :class:`~hspy_unmix.unmixing.vca.VCA` when some phase may have no
    pure pixel: VCA's endmember for that phase is then the most extreme mixed
    pixel, while the minimum-volume simplex extends the facets of the data to
    the missing vertex. Where every phase has pure pixels both agree (the
    data fill the simplex).

    Parameters
    ----------
    n_components
        Number of endmembers K.
    penalty
        Weight of the pixels left outside the simplex (abundance below zero;
        see the module notes). The fraction of the pixels outside each
        facet scales as ``(K - 1) / penalty`` (3-5 % for K = 3 at the
        default, on the chequerboards): larger values enclose more of the
        noise (a larger simplex), smaller ones leave more outside (a smaller
        simplex, more tolerant of pixels that depart from the linear model).
    max_iter
        Iterations of L-BFGS.
    random_state
        Seed of the VCA start and of the pixel sample of the subspace
        estimate.
    %(abundance_solver)s
    %(max_partial_fit_samples)s
    %(outlier_screen)s

    Attributes
    ----------
    %(outlier_mask_)s
    components_ : numpy.ndarray, shape (K, n_channels)
        Vertices of the simplex, clipped at zero.
    vca_components_ : numpy.ndarray, shape (K, n_channels)
        The VCA endmembers the search started from.
    abundance_noise_ : numpy.ndarray, shape (K,)
        Noise standard deviation of each abundance (relative to the VCA
        simplex), the unit of the penalty.
    volume_ratio_ : float
        Volume of the simplex relative to the VCA start (above 1 when the
        data extend beyond VCA's endmembers).
    n_iter_ : int
        L-BFGS iterations run.

    Notes
    -----
    The model is affine: spectra of one phase must have one scale. Divide
    the spectra by their sum (or the low-loss intensity) first when the
    thickness varies. The pull of each pixel outside is bounded, so a few
    outliers barely move the simplex; spikes, however, also corrupt the
    VCA start and the subspace: remove them (``spikes_removal_tool``) or
    mask the pixels (``navigation_mask``) before fitting.

    With the default penalty, on the Brun et al. chequerboard (64 x 64 x
    200, 3 components) at 200, 2000 and 20 000 counts per channel, the mean
    SAD is lower than VCA's in 8 of 9 fits where every phase has pure pixels,
    and 0.0006-0.012 against VCA's 0.056-0.062 where one phase never exceeds
    0.6 (``chequerboard_si(impure_components={2: 0.6})``); see the
    benchmarks pages. A penalty below about 10 (K = 3) leaves so many pixels
    outside that the simplex shrinks into the data.

    References
    ----------
    J. M. Bioucas-Dias, "A variable splitting augmented Lagrangian approach
    to linear spectral unmixing", First Workshop on Hyperspectral Image and
    Signal Processing (WHISPERS), 2009. doi:10.1109/WHISPERS.2009.5289072

    M. D. Craig, "Minimum-volume transforms for remotely sensed data", IEEE
    Transactions on Geoscience and Remote Sensing 32(3), 542-552 (1994).
    doi:10.1109/36.297973

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, impure_components={2: 0.6},
    ...                            random_state=0)
    >>> mv = hspy_unmix.MinVolume(n_components=3, random_state=0)
    >>> abundances = mv.fit_transform(s.data.reshape(-1, 200))
    >>> abundances.shape, mv.volume_ratio_ > 1
    ((4096, 3), True)

    Through the signal:

    >>> s.decomposition(algorithm="MinVolume", output_dimension=3)  # doctest: +SKIP
    """

    _negative = "clip"
    _fits_float32 = True
    _unit_attributes = {"components_": 1, "vca_components_": 1}
    #: Upper bound on the pixels used to estimate the subspace and the noise.
    max_subspace_samples = 8192

    __init__ = estimator_init(
        n_components=None, penalty=100.0, max_iter=1000,
        max_partial_fit_samples=MAX_PARTIAL_FIT_SAMPLES, random_state=None,
        abundance_solver="fcls", outlier_screen="auto",
    )

    @property
    def _sum_to_one(self) -> bool:
        return self.abundance_solver == "fcls"

    def _check_params(self):
        check_abundance_solver(self.abundance_solver)
        penalty = self.penalty
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float, np.number)) \
                or not np.isfinite(penalty) or penalty <= 0:
            raise ValueError(f"penalty must be a positive number, got {penalty!r}.")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, (int, np.integer)) \
                or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}.")

    # ------------------------------------------------------------------ fit
    def _fit(self, X: np.ndarray):
        self._check_params()
        rng = check_random_state(self.random_state)
        n_components = self._n_components
        start = VCA(n_components, random_state=rng)
        start._find_endmembers(X, n_components)  # the start only: no abundances
        self.vca_components_ = start.components_
        if n_components == 1:  # a point: nothing to enclose
            vertices, noise, ratio, n_iter = start.components_, np.zeros(1), 1.0, 0
        else:
            vertices, noise, ratio, n_iter = minimum_volume_simplex(
                X, start.components_, float(self.penalty), int(self.max_iter), rng,
                self.max_subspace_samples,
            )
        self.components_ = np.maximum(vertices, 0.0)
        self.abundance_noise_ = noise
        self.volume_ratio_ = ratio
        self.n_iter_ = n_iter
        self._fit_abundances = self._solve(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self._solve(X)

    def _solve(self, X: np.ndarray) -> np.ndarray:
        return solve_validated(X, self.components_, self._sum_to_one)


def minimum_volume_simplex(
    X: np.ndarray,
    initial: np.ndarray,
    penalty: float,
    max_iter: int,
    rng,
    max_samples: int = 8192,
):
    """Vertices of the minimum-volume simplex enclosing ``X`` (soft constraint).

    Returns ``(vertices, abundance_noise, volume_ratio, n_iter)``; see
    :class:`MinVolume`. ``initial`` (K, n_channels) is the start, e.g. VCA's
    endmembers; its simplex must not be degenerate.
    """
    from scipy.optimize import minimize

    from ..io.chunks import matmul_rows

    n_vertices = initial.shape[0]
    dim = n_vertices - 1
    centred, mean = _centred_sample(X, max_samples, rng)
    basis, _ = top_right_singular_vectors(centred, dim, rng, power_iterations=2)
    channel_noise = np.zeros(X.shape[1])
    for _, block in centred.blocks():  # no full-size residual
        channel_noise += ((block - (block @ basis) @ basis.T) ** 2).sum(axis=0)
    channel_noise /= max(centred.shape[0] - n_vertices, 1)
    del centred

    # Coordinates: abundances (sum to one) relative to the initial simplex,
    # so that the problem is scale-free and starts from the identity.
    start = np.vstack([((initial - mean) @ basis).T, np.ones(n_vertices)])
    if abs(np.linalg.det(start)) < 1e-12 * np.prod(np.linalg.norm(start, axis=0)):
        raise ValueError(
            "the initial endmembers span fewer than n_components - 1 dimensions; "
            "lower n_components."
        )
    to_start = np.linalg.inv(start)
    coords = np.column_stack([matmul_rows(X, basis) - mean @ basis,
                              np.ones(X.shape[0])]) @ to_start.T
    coords[:, -1] = 1.0  # the last abundance is implied by the sum to one
    projection = to_start[:, :dim]
    noise = np.sqrt(np.einsum("ij,jk,ik->i", projection,
                              basis.T @ (channel_noise[:, None] * basis), projection))
    width = np.maximum(noise, np.finfo(float).tiny)
    weight = penalty / X.shape[0]

    def objective(free):
        simplex = np.vstack([free.reshape(dim, n_vertices), np.ones(n_vertices)])
        sign, log_volume = np.linalg.slogdet(simplex)
        if sign == 0:
            return np.inf, np.zeros_like(free)
        inverse = np.linalg.inv(simplex)
        abundances = coords @ inverse.T
        # Huber hinge: quadratic within one noise width outside, then linear
        depth = np.maximum(-abundances, 0.0)
        near = depth < width
        value = log_volume + weight * float(
            np.sum(np.where(near, depth**2 / (2.0 * width), depth - 0.5 * width))
        )
        grad_abundances = -weight * np.where(near, depth / width, 1.0)
        grad = inverse.T - inverse.T @ grad_abundances.T @ abundances
        return value, grad[:dim].ravel()

    initial_free = np.eye(n_vertices)[:dim].ravel()
    result = minimize(
        objective, initial_free, jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": 1e-10, "ftol": 1e-14},
    )
    if not result.success and result.nit >= max_iter:
        warnings.warn(
            f"MinVolume: L-BFGS stopped after max_iter={max_iter} iterations; "
            "increase max_iter.", ConvergenceWarning, stacklevel=4,
        )
    free = result.x.reshape(dim, n_vertices)
    relative = np.vstack([free, 1.0 - free.sum(axis=0)])  # vertices, relative coords
    vertices_reduced = start @ relative
    vertices = (basis @ vertices_reduced[:dim]).T + mean
    ratio = float(abs(np.linalg.det(relative)))
    return vertices, noise, ratio, int(result.nit)
