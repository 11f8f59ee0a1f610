"""Bayesian linear unmixing (BLU) by Gibbs sampling (Dobigeon et al. 2009).

See :class:`BLU` for the model. The conditional draws are numba kernels in
:mod:`hspy_unmix.unmixing._blu_kernels`; all of them work in the (K-1)-dimensional
PCA subspace, so a sweep costs O(n_pixels K^2 + n_channels K^2) instead of
the O(n_pixels n_channels K) of a direct implementation.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from .._docstrings import fill_doc
from .._parameters import MAX_PARTIAL_FIT_SAMPLES, estimator_init
from .._progress import progress_bar
from .._validation import check_int
from ._base import UnmixingEstimator
from .abundances import solve_validated

__all__ = ["BLU"]

#: Sweeps per kernel call (progress-bar refresh and Ctrl-C granularity).
_SWEEPS_PER_CHUNK = 10


@fill_doc
class BLU(UnmixingEstimator):
    r"""Bayesian linear unmixing: joint endmember and abundance sampling.

    Model (Dobigeon, Moussaoui, Coulon, Tourneret & Hero 2009):

    * **Likelihood.** Each spectrum ``y_p`` (``n_channels`` values) is
      ``y_p = M a_p + n_p`` with ``n_p ~ N(0, sigma2 I)``, the same noise
      variance for every pixel and channel.
    * **Endmembers.** With ``ybar`` the mean spectrum and ``U``
      (``n_channels x (K-1)``) the leading principal directions of the
      data (orthonormal), every endmember is ``m_r = ybar + U t_r``. The
      projection ``t_r`` has the prior ``N(e_r, s2_r I)`` truncated to the set
      where ``m_r`` is non-negative in every channel; ``e_r`` is the VCA
      endmember projected into the subspace (made non-negative by shrinking
      it towards ``ybar`` if needed).
    * **Abundances.** Symmetric Dirichlet prior of parameter
      ``alpha = abundance_concentration`` on the simplex (``a_p >= 0``,
      ``sum(a_p) = 1``). ``alpha = 1`` is the uniform prior of the reference
      model; ``alpha < 1`` puts more prior mass near the faces and vertices of
      the simplex, where pure pixels and two-phase boundaries lie.
    * **Noise variance.** ``sigma2 ~ IG(nu / 2, gamma / 2)`` with a Jeffreys
      hyperprior on ``gamma``; integrating ``gamma`` out leaves
      ``p(sigma2) ~ 1 / sigma2``, so the conditional is
      ``IG(n_pixels n_channels / 2, ||Y - M A||^2 / 2)``.

    Gibbs sampler, one sweep: the noise variance; every pixel's abundances
    (a component drawn at random is written as one minus the others, and the
    others are drawn coordinate by coordinate from their exact truncated
    Gaussian conditionals on the simplex, ``abundance_passes`` times, for
    ``alpha = 1``; for other ``alpha`` the abundances are written as
    normalised Gamma(alpha) variables whose logarithms are slice-sampled,
    which keeps abundances far below the rounding error of one
    representable); every
    endmember coordinate from its exact truncated Gaussian conditional (the
    truncation bounds come from the positivity of all channels). The chain
    starts at VCA with FCLS abundances. After ``n_burn_in`` sweeps, the next
    ``n_samples`` are averaged: the posterior means (MMSE estimates) give
    ``components_`` and the training abundances.

    Parameters
    ----------
    n_components
        Number of endmembers K.
    n_burn_in
        Sweeps discarded before averaging.
    n_samples
        Sweeps averaged after the burn-in.
    abundance_concentration
        Parameter ``alpha`` of the symmetric Dirichlet abundance prior.
        ``1.0`` is the uniform prior of Dobigeon et al. With it, the
        posterior places each vertex outside the cloud of noisy pure pixels
        (a uniform prior has no mass at the vertices, so a pure pixel that
        noise puts outside the simplex can only be explained by a larger
        simplex), which makes the posterior mean less accurate than VCA on
        data with many pure pixels. The default ``0.1`` lets pure and
        two-phase pixels sit on the faces, and the vertices move to the
        centre of the pure-pixel clouds. Where no pixel is pure, ``alpha < 1``
        keeps the vertices on the data (as VCA does), while ``1.0`` pushes
        them slightly outwards.
    endmember_prior_variance
        Variance ``s2_r`` of the endmember prior in the projected
        coordinates. ``None`` uses the variance of the projected data along
        its first principal direction, which makes the prior weak whatever the
        scale of the counts (the reference code uses a fixed ``50``, which is
        weak only for data scaled near unity).
    abundance_passes
        Coordinate passes over each pixel's abundances per sweep (5 in the
        reference implementation).
    random_state
        Seed of the VCA initialisation and of the sampler.
    show_progressbar
        Show a progress bar over the sweeps (``None``: HyperSpy's preference).
    %(max_partial_fit_samples)s

    Attributes
    ----------
    components_ : numpy.ndarray, shape (K, n_channels)
        Posterior-mean endmembers (non-negative).
    noise_variance_ : float
        Posterior-mean noise variance.
    n_iter_ : int
        Sweeps run (``n_burn_in + n_samples``).
    trace_ : numpy.ndarray, shape (n_iterations,)
        Noise variance drawn at every sweep, to check convergence: it should
        fluctuate around a constant level after the burn-in.
    init_components_ : numpy.ndarray, shape (K, n_channels)
        Starting endmembers (VCA projected into the subspace).

    Notes
    -----
    Everything is computed in the subspace: with ``z_p = U^T (y_p - ybar)``,
    ``||y_p - M a_p||^2 = ||z_p - T a_p||^2 + ||r_p||^2`` for ``a_p`` on the
    simplex, ``r_p`` being the part of ``y_p - ybar`` outside the subspace,
    which no parameter changes. This gives the same posterior as the full
    model at a cost independent of the number of channels, apart from the
    positivity bounds. ``transform`` of new data solves fully constrained
    least squares with the posterior-mean endmembers. Large (lazy) data are
    fitted on the bounded pixel sample of :meth:`partial_fit`.

    The model assumes Gaussian noise of one variance; EELS counts are
    Poisson, so bright pixels are weighted as much as dark ones.

    References
    ----------
    N. Dobigeon, S. Moussaoui, M. Coulon, J.-Y. Tourneret and A. O. Hero,
    "Joint Bayesian endmember extraction and linear unmixing for
    hyperspectral imagery", IEEE Transactions on Signal Processing 57(11),
    4355-4368 (2009). doi:10.1109/TSP.2009.2025797

    N. Dobigeon and N. Brun, "Spectral mixture analysis of EELS
    spectrum-images", Ultramicroscopy 120, 25-34 (2012).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    >>> X = s.data.reshape(-1, s.data.shape[-1])
    >>> blu = hspy_unmix.BLU(n_components=3, n_burn_in=50, n_samples=50,
    ...                      random_state=0, show_progressbar=False)
    >>> abundances = blu.fit_transform(X)
    >>> abundances.shape, bool(abs(abundances.sum(axis=1) - 1).max() < 1e-9)
    ((1024, 3), True)

    Through the signal:

    >>> s.decomposition(algorithm="BLU", output_dimension=3,
    ...                 n_burn_in=50, n_samples=50)  # doctest: +SKIP
    """

    _negative = "clip"
    _sum_to_one = True
    _fits_float32 = True
    _unit_attributes = {
        "components_": 1, "init_components_": 1, "noise_variance_": 2, "trace_": 2,
    }

    __init__ = estimator_init(
        n_components=None, n_burn_in=100, n_samples=200, abundance_concentration=0.1,
        endmember_prior_variance=None, abundance_passes=5,
        max_partial_fit_samples=MAX_PARTIAL_FIT_SAMPLES, random_state=None,
        show_progressbar=None,
    )

    # ------------------------------------------------------------------ fit
    def _check_params(self):
        n_burn_in = check_int(self.n_burn_in, "n_burn_in", 0)
        n_samples = check_int(self.n_samples, "n_samples", 1)
        passes = check_int(self.abundance_passes, "abundance_passes", 1)
        try:
            concentration = float(self.abundance_concentration)
        except (TypeError, ValueError):
            concentration = np.nan
        if isinstance(self.abundance_concentration, bool) or not (
            np.isfinite(concentration) and concentration > 0
        ):
            raise ValueError(
                f"abundance_concentration must be a positive number, "
                f"got {self.abundance_concentration!r}."
            )
        prior = self.endmember_prior_variance
        if prior is not None:
            prior = float(prior)
            if not (np.isfinite(prior) and prior > 0):
                raise ValueError(
                    f"endmember_prior_variance must be a positive number or None, "
                    f"got {self.endmember_prior_variance!r}."
                )
        return n_burn_in, n_samples, passes, prior, concentration

    def _fit(self, X: np.ndarray):
        from ._blu_kernels import run_gibbs_chunk
        from .vca import VCA, CentredRows

        n_burn_in, n_samples, passes, prior, concentration = self._check_params()
        rng = check_random_state(self.random_state)
        k = self._n_components
        n_pixels, n_channels = X.shape
        n_total = n_burn_in + n_samples
        if k == 1:
            centred = CentredRows(X)
            self.components_ = centred.mean[None, :]
            self.init_components_ = self.components_.copy()
            self.noise_variance_ = centred.sum_of_squares() / X.size
            self.n_iter_ = 0
            self.trace_ = np.empty(0)
            self._fit_abundances = np.ones((n_pixels, 1))
            return

        # X - ybar as an operator: its products and sum of squares a block of
        # rows at a time, never a centred copy of the sample
        centred = CentredRows(X)
        ybar = centred.mean
        basis, variances = _principal_directions(centred, k - 1, rng)
        Z = np.ascontiguousarray(centred @ basis)
        total_sq = centred.sum_of_squares()
        orthogonal_sq = max(total_sq - float(np.einsum("ij,ij->", Z, Z)), 0.0)

        vca = VCA(n_components=k, random_state=rng, outlier_screen=False).fit(X)
        T = np.ascontiguousarray(_feasible_projection(vca.components_, ybar, basis))
        M = np.ascontiguousarray(ybar + T.T @ basis.T)
        self.init_components_ = M.copy()
        A = np.ascontiguousarray(solve_validated(X, np.maximum(M, 0.0), True))
        if not np.all(np.any(M > 0, axis=1)):
            raise ValueError("an initial endmember is all zero; check the data.")

        prior_mean = T.copy()
        prior_variance = prior if prior is not None else float(variances[0])
        prior_precision = np.full(k, 1.0 / max(prior_variance, 1e-300))
        state = np.array([(orthogonal_sq + _residual(Z, T, A)) / (n_pixels * n_channels)])
        # Log-gamma variables of the Dirichlet sampler (a = softmax(L)); the
        # floor moves FCLS zeros off the boundary for the start.
        L = np.ascontiguousarray(np.log(np.maximum(A, 1e-6)))
        T_sum = np.zeros_like(T)
        A_sum = np.zeros_like(A)
        stats = np.zeros(1)
        trace = np.empty(n_total)
        U = np.ascontiguousarray(basis)
        done = 0
        with progress_bar(n_total, "BLU Gibbs sampler", self.show_progressbar) as bar:
            while done < n_total:
                n_sweeps = min(_SWEEPS_PER_CHUNK, n_total - done)
                first_kept = max(n_burn_in - done, 0)
                seed = int(rng.randint(0, 2**31 - 1))
                run_gibbs_chunk(
                    Z, orthogonal_sq, float(n_pixels * n_channels), U, ybar, T, M, A,
                    state, prior_mean, prior_precision, passes, n_sweeps, first_kept,
                    seed, T_sum, A_sum, stats, trace, done, concentration, L,
                )
                done += n_sweeps
                bar.update(n_sweeps)
        T_mean = T_sum / n_samples
        self.components_ = np.maximum(ybar + T_mean.T @ basis.T, 0.0)
        abundances = np.maximum(A_sum / n_samples, 0.0)
        abundances /= abundances.sum(axis=1, keepdims=True)
        self._fit_abundances = abundances
        self.noise_variance_ = float(stats[0] / n_samples)
        self.n_iter_ = int(n_total)
        self.trace_ = trace

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return solve_validated(X, self.components_, True)


def _principal_directions(centred: np.ndarray, rank: int, rng):
    """Leading ``rank`` principal directions (n_channels, rank) and variances."""
    from .vca import top_right_singular_vectors

    n_pixels = centred.shape[0]
    # Randomized range finder (exact SVD for small data): a dense
    # eigendecomposition of the channel covariance costs seconds at ~1000
    # channels, this costs O(n_pixels n_channels).
    basis, singular = top_right_singular_vectors(centred, rank, rng, 10, 6)
    values = singular**2
    # A deterministic sign makes runs reproducible across BLAS builds.
    signs = np.sign(basis[np.argmax(np.abs(basis), axis=0), np.arange(rank)])
    basis = basis * np.where(signs == 0, 1.0, signs)
    return np.ascontiguousarray(basis), values / max(n_pixels - 1, 1)


def _feasible_projection(endmembers, ybar, basis):
    """Projected endmembers (K-1, K), each shrunk towards ``ybar`` until its
    spectrum ``ybar + U t`` is non-negative (the prior's support)."""
    T = basis.T @ (endmembers - ybar).T
    for r in range(T.shape[1]):
        direction = basis @ T[:, r]
        negative = direction < 0
        if np.any(ybar[negative] + direction[negative] < 0):
            # ybar >= 0, so a fraction of the step always stays feasible.
            fraction = np.min(ybar[negative] / -direction[negative])
            T[:, r] *= 0.999 * fraction
    return T


def _residual(Z, T, A):
    diff = Z - A @ T.T
    return float(np.einsum("ij,ij->", diff, diff))
