"""ARD_SO_NMF: NMF-SO with automatic relevance determination of the number of components."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ._base import UnmixingEstimator
from ._nmf_base import (
    _EPS,
    _TINY,
    _check_float,
    _check_scaling,
    _half_squared_error,
    _normalise_spectra,
    _random_start,
    _scaled_result,
    nmf_data_units,
)
from ._nmf_kernels import hals_rows_sweep, soft_orthogonal_hals_step
from .._progress import progress_bar
from .._validation import check_int
from .abundances import solve_validated


class ARD_SO_NMF(UnmixingEstimator):
    """NMF-SO with automatic relevance determination of the components.

    Starts from a generous number of components ``n_components`` and keeps
    only those the data support (Muto & Shiga, "Optimization of the number
    of components"). Each map ``C_k`` has an exponential prior with scale
    (relevance) ``lambda_k``, and each ``lambda_k`` an inverse-gamma
    hyper-prior with shape ``a`` and scale ``b``; the noise is Gaussian with a
    variance ``sigma^2`` estimated from the residual. The MAP iteration is
    NMF-SO (unit-norm spectra) in which each map update is shifted down by
    ``sigma^2 / lambda_k`` before the projection on the non-negative orthant,
    followed by the closed-form relevance update
    ``lambda_k = (sum_i C_ik + b) / (n_pixels + a + 1)``. A component that
    explains little loses relevance, is shifted more strongly and vanishes.
    Components whose spectra become nearly identical (cosine above
    ``merge_threshold``) are merged. ``b`` is set from the data as
    ``mean(X) (a - 1) sqrt(n_channels) / n_components``.

    Parameters
    ----------
    n_components
        Starting number of components (an upper bound on the number kept).
    w
        Soft-orthogonality weight in [0, 1] (see :class:`NMF_SO`).
    a
        Shape of the inverse-gamma hyper-prior (> 1); values close to 1 are a
        weak prior.
    max_iter
        Maximum number of iterations.
    tol
        Convergence threshold on the largest change of a relevance between two
        iterations, relative to the largest relevance.
    prune_threshold
        Components whose final relevance is below this fraction of the
        largest relevance are dropped.
    merge_threshold
        Cosine similarity of two spectra above which their components merge.
        EELS spectra of different phases often have cosines of 0.99 (common
        background), hence the high default.
    abundance_scaling
        ``"sum_to_one"`` or ``"unit_spectra"`` (see the module documentation).
    random_state
        Seed or ``numpy.random.RandomState`` for the random start.
    show_progressbar
        Progress bar over the iterations; ``None`` follows HyperSpy's
        preference.
    max_partial_fit_samples
        Upper bound on the pixels :meth:`partial_fit` keeps from a lazy
        signal's stream to fit on (a uniform random sample).

    Attributes
    ----------
    components_ : ndarray, shape (n_kept, n_channels)
        Spectra of the kept components, by decreasing relevance.
    n_components_kept_ : int
        Number of kept components (the estimated K).
    relevances_ : ndarray (n_components,)
        Final relevance of every starting component (in starting order).
    relevance_history_ : ndarray, shape (n_iterations, n_components)
        Relevances after each iteration.
    kept_indices_ : ndarray
        Indices of the kept components among the starting ones.
    noise_variance_ : float
        Estimated variance of the noise.
    cost_history_ : ndarray
        Negative log posterior after each iteration.
    n_iter_ : int
    converged_ : bool

    Examples
    --------
    Started from 8 components on the three-phase chequerboard (about a
    minute), ARD keeps 4: the three phases, matched to the true spectra within
    0.05 rad, and a fourth spectrum about 0.22 rad from each of them, a
    mixture that the smoothly mixed maps support (with ``w=0``, no pruning
    at all: all 8 stay).

    >>> from hspy_unmix import ARD_SO_NMF
    >>> from hspy_unmix.metrics import sad
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> X = s.data.reshape(-1, s.data.shape[-1])
    >>> model = ARD_SO_NMF(n_components=8, random_state=0, show_progressbar=False).fit(X)
    >>> model.n_components_kept_
    4
    >>> sad(truth.endmembers, model.components_).round(2).tolist()
    [0.05, 0.02, 0.01]
    """

    _negative = "clip"
    _sum_to_one = False

    def __init__(
        self,
        n_components: int | None = 10,
        *,
        w: float = 0.1,
        a: float = 1.0 + 1e-15,
        max_iter: int = 2000,
        tol: float = 1e-6,
        prune_threshold: float = 1e-3,
        merge_threshold: float = 0.999,
        abundance_scaling: str = "sum_to_one",
        max_partial_fit_samples: int = 20_000,
        random_state=None,
        show_progressbar: bool | None = None,
    ):
        self.n_components = n_components
        self.w = w
        self.a = a
        self.max_iter = max_iter
        self.tol = tol
        self.prune_threshold = prune_threshold
        self.merge_threshold = merge_threshold
        self.abundance_scaling = abundance_scaling
        self.max_partial_fit_samples = max_partial_fit_samples
        self.random_state = random_state
        self.show_progressbar = show_progressbar

    def _check_params(self):
        self._w = _check_float(self.w, "w", 0.0, 1.0)
        self._a = _check_float(self.a, "a", 1.0)
        if not self._a > 1.0:
            raise ValueError(f"a must be larger than 1, got {self.a}.")
        self._max_iter = check_int(self.max_iter, "max_iter", 1)
        self._tol = _check_float(self.tol, "tol", 0.0)
        self._prune = _check_float(self.prune_threshold, "prune_threshold", 0.0, 1.0)
        self._merge = _check_float(self.merge_threshold, "merge_threshold", 0.0, 1.0)
        self._scaling = _check_scaling(self.abundance_scaling)

    def _required_rank(self, n_components: int) -> int:
        # n_components is an upper bound that ARD prunes: data of any rank
        # from 2 up are fine, only copies of one spectrum are degenerate
        return min(n_components, 2)

    def _data_units(self) -> dict:
        # cost_history_ (a log posterior) changes by a constant with the units
        return nmf_data_units(
            self._scaling, reconstruction_err_=1, noise_variance_=2, relevances_=1,
            relevance_history_=1,
        )

    def _fit(self, X):
        self._check_params()
        rng = check_random_state(self.random_state)
        k = self._n_components
        n_pixels, n_channels = X.shape
        size = X.size
        x_sq = float(np.sum(X * X))
        a = self._a
        b = X.mean() * (a - 1.0) * np.sqrt(n_channels) / k
        maps, spectra = _random_start(X, k, rng)
        relevances = (maps.sum(axis=0) + b) / (n_pixels + a + 1.0)
        noise_var = max(
            _half_squared_error(x_sq, maps.T @ maps, spectra, X.T @ maps) * 2.0 / size,
            _TINY,
        )
        history, relevance_history = [], []
        converged = False
        with progress_bar(self._max_iter, "ARD-SO-NMF", self.show_progressbar) as bar:
            for it in range(self._max_iter):
                shrinkage = noise_var / np.maximum(relevances, _TINY)
                soft_orthogonal_hals_step(
                    maps, X @ spectra, spectra.T @ spectra, self._w, shrinkage
                )
                cross_spectra = X.T @ maps
                maps_gram = maps.T @ maps
                hals_rows_sweep(spectra, cross_spectra, maps_gram)
                half_err = _half_squared_error(x_sq, maps_gram, spectra, cross_spectra)
                _normalise_spectra(maps, spectra)
                if it > 3:
                    self._merge_duplicates(maps, spectra)
                column_sums = maps.sum(axis=0)
                relevances = (column_sums + b) / (n_pixels + a + 1.0) + _EPS
                relevance_history.append(relevances.copy())
                noise_var = max(2.0 * half_err / size, _TINY)
                cost = (
                    0.5 * size * (np.log(2.0 * np.pi * noise_var) + 1.0)
                    + np.sum((column_sums + b) / relevances)
                    + (n_pixels + a + 1.0) * np.sum(np.log(relevances))
                )
                history.append(cost)
                bar.update(1)
                # The posterior is dominated by the noise term, so its relative
                # change stalls long before weak components have died out;
                # the relevances themselves are the quantity that must settle.
                if len(relevance_history) > 1:
                    shift = np.abs(relevance_history[-1] - relevance_history[-2]).max()
                    if shift < self._tol * relevances.max():
                        converged = True
                        break
        final = (maps.sum(axis=0) + b) / (n_pixels + a + 1.0)
        kept = np.flatnonzero(
            (final > self._prune * final.max()) & (np.linalg.norm(spectra, axis=0) > 0)
        )
        kept = kept[np.argsort(-final[kept], kind="stable")]
        abundances, components = _scaled_result(
            np.ascontiguousarray(maps[:, kept]), spectra[:, kept], self._scaling
        )
        self.components_ = components
        self._fit_abundances = solve_validated(X, components, False)
        self.n_components_kept_ = int(kept.size)
        self.kept_indices_ = kept
        self.relevances_ = final
        self.relevance_history_ = np.asarray(relevance_history)
        self.noise_variance_ = float(noise_var)
        self.cost_history_ = np.asarray(history)
        self.n_iter_ = len(history)
        self.converged_ = converged
        resid = x_sq - 2.0 * np.sum(abundances * (X @ components.T)) + np.sum(
            (abundances.T @ abundances) * (components @ components.T)
        )
        self.reconstruction_err_ = float(np.sqrt(max(resid, 0.0)))

    def _merge_duplicates(self, maps, spectra):
        """Merge components whose unit spectra are nearly parallel."""
        cosine = spectra.T @ spectra
        k = cosine.shape[0]
        for i in range(k):
            for j in range(i + 1, k):
                if cosine[i, j] >= self._merge and cosine[i, i] > 0 and cosine[j, j] > 0:
                    maps[:, i] += maps[:, j]
                    maps[:, j] = 0.0
                    spectra[:, j] = 0.0
                    cosine[j, :] = 0.0
                    cosine[:, j] = 0.0

    def _transform(self, X):
        return solve_validated(X, self.components_, False)
