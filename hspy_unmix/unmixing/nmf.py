"""Non-negative matrix factorisation for spectrum images (Muto & Shiga).

The data matrix ``X`` (pixels x channels) is factorised as ``C @ S.T`` with
non-negative abundance maps ``C`` (pixels x K) and spectra ``S`` (channels x
K); ``components_`` is ``S.T``. Four estimators:

* :class:`MALS`: ridge-weighted alternating least squares (review eqs. 7-8)
  with the ridge weights driven by the negativity of the unconstrained
  solution.
* :class:`HALS`: hierarchical ALS (eqs. 11-12), column-wise closed-form
  updates done by numba kernels.
* :class:`NMF_SO`: HALS with the soft-orthogonal penalty on the maps
  (eq. 13), for spatially separated phases with overlapping spectra.
* :class:`ARD_SO_NMF`: NMF-SO with automatic relevance determination: starts
  from a generous number of components and prunes the irrelevant ones.

Scaling of the result
---------------------
NMF only fixes the product ``C @ S.T``: each pair (map, spectrum) may be
rescaled by ``d`` and ``1/d``. With ``abundance_scaling="sum_to_one"`` (the
default) the scales ``d >= 0`` are the non-negative least-squares solution of
``C @ d ~ 1``, so that the abundances of every pixel sum as close to one as
the fitted maps allow and the spectra carry the counts; with
``"unit_spectra"`` every spectrum has unit l2 norm (the normalisation the
review recommends) and the maps carry the counts. ``transform`` solves the
abundances with the fitted ``components_`` fixed, so it uses the same
scaling.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_random_state

from ._base import UnmixingEstimator
from .abundances import solve_validated, sum_to_one_scales
from ._nmf_kernels import hals_rows_sweep, negative_mass, soft_orthogonal_hals_step
from .._progress import progress_bar
from .._validation import check_int

_TINY = np.finfo(np.float64).tiny
_EPS = np.finfo(np.float64).eps
_SCALINGS = ("sum_to_one", "unit_spectra")
#: Relative ridge weight below which MALS is plain ALS and may stop.
_RIDGE_SETTLED = 1e-3


# --------------------------------------------------------------- validation
def _check_float(value, name: str, low: float, high: float = np.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    value = float(value)
    if not (low <= value <= high) or not np.isfinite(value):
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value}.")
    return value


def _check_scaling(value) -> str:
    if value not in _SCALINGS:
        raise ValueError(
            f"abundance_scaling must be one of {_SCALINGS}, got {value!r}."
        )
    return value


# ---------------------------------------------------------- shared helpers
def _random_start(X: np.ndarray, k: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Maps and unit-norm spectra for one random start.

    Spectra are the spectra of ``k`` distinct random pixels (a non-negative
    point inside the data cone, as in the review's software); maps are
    uniform random numbers at the scale of the data.
    """
    n_pixels, n_channels = X.shape
    rows = rng.choice(n_pixels, size=k, replace=False)
    spectra = X[rows].T.copy()
    mean_spectrum = X.mean(axis=0)
    for j in range(k):
        if not np.any(spectra[:, j] > 0):
            spectra[:, j] = mean_spectrum * rng.uniform(0.5, 1.5, n_channels)
    spectra /= np.linalg.norm(spectra, axis=0)
    scale = np.sqrt(np.mean(np.sum(X * X, axis=1))) / k
    maps = rng.uniform(0.0, 1.0, (n_pixels, k)) * scale
    return maps, spectra


def _normalise_spectra(maps: np.ndarray, spectra: np.ndarray) -> None:
    """Unit l2 spectra, the maps absorbing the scale (product unchanged)."""
    norms = np.linalg.norm(spectra, axis=0)
    alive = norms > _TINY
    spectra[:, alive] /= norms[alive]
    maps[:, alive] *= norms[alive]


def _half_squared_error(x_sq, maps_gram, spectra, cross_spectra) -> float:
    """``0.5 ||X - C S^T||_F^2`` from ``X^T C``, ``C^T C`` and ``S``."""
    value = x_sq - 2.0 * np.sum(spectra * cross_spectra) + np.sum(
        maps_gram * (spectra.T @ spectra)
    )
    return 0.5 * max(value, 0.0)


def _scaled_result(maps, spectra, scaling: str):
    """``(abundances, components)`` in the requested scaling."""
    maps = maps.copy()
    spectra = spectra.copy()
    _normalise_spectra(maps, spectra)
    if scaling == "sum_to_one":
        d = sum_to_one_scales(maps, fallback="peak")
        return maps * d, (spectra / d).T.copy()
    return maps, spectra.T.copy()


def _relative_change(previous: float, current: float) -> float:
    return abs(previous - current) / max(abs(previous), _TINY)


# ------------------------------------------------------------ base class
class _MultiStartNMF(UnmixingEstimator):
    """Shared multi-start loop; subclasses provide ``_one_start``."""

    _negative = "clip"
    _sum_to_one = False
    _progress_label = "NMF"

    def _check_common(self):
        self._n_starts = check_int(self.n_starts, "n_starts", 1)
        self._max_iter = check_int(self.max_iter, "max_iter", 1)
        self._tol = _check_float(self.tol, "tol", 0.0)
        self._scaling = _check_scaling(self.abundance_scaling)

    def _check_params(self):
        self._check_common()

    def _fit(self, X):
        self._check_params()
        rng = check_random_state(self.random_state)
        k = self._n_components
        x_sq = float(np.sum(X * X))
        best = None
        start_costs = np.empty(self._n_starts)
        with progress_bar(
            self._n_starts, f"{self._progress_label} starts", self.show_progressbar
        ) as bar:
            for r in range(self._n_starts):
                maps, spectra = _random_start(X, k, rng)
                result = self._one_start(X, x_sq, maps, spectra)
                history = result[2]
                start_costs[r] = history[-1]
                if best is None or history[-1] < best[2][-1]:
                    best = result
                bar.update(1)
                bar.set_postfix(cost=f"{history[-1]:.4g}")
        maps, spectra, history, converged, extras = best
        for name, value in extras.items():
            setattr(self, name, value)
        abundances, components = _scaled_result(maps, spectra, self._scaling)
        self.components_ = components
        # Final NNLS solve: fit_transform then equals transform exactly.
        self._fit_abundances = solve_validated(X, components, False)
        self.cost_history_ = np.asarray(history)
        self.n_iter_ = len(history)
        self.converged_ = bool(converged)
        self.start_costs_ = start_costs
        self.reconstruction_err_ = float(np.sqrt(2.0 * history[-1]))

    def _transform(self, X):
        return solve_validated(X, self.components_, False)


# ------------------------------------------------------------------ HALS
class HALS(_MultiStartNMF):
    """Hierarchical alternating least squares NMF (Muto & Shiga eqs. 11-12).

    Each iteration updates the maps and then the spectra one column at a
    time with the closed-form solution of the column problem projected on
    the non-negative orthant; spectra are then scaled to unit l2 norm (eq. 12,
    the maps absorb the scale). The cost ``0.5 ||X - C S^T||_F^2`` never
    increases. ``n_starts`` random starts run to convergence and the one with
    the lowest cost is kept.

    Parameters
    ----------
    n_components
        Number of components K (``output_dimension`` in ``decomposition``).
    n_starts
        Number of random initialisations (multi-start).
    max_iter
        Maximum number of iterations per start.
    tol
        Convergence threshold on the relative change of the cost between
        two iterations.
    abundance_scaling
        ``"sum_to_one"`` or ``"unit_spectra"`` (see the module documentation).
    random_state
        Seed or ``numpy.random.RandomState`` for the random starts.
    show_progressbar
        Progress bar over the starts; ``None`` follows HyperSpy's preference.
    max_partial_fit_samples
        Upper bound on the pixels :meth:`partial_fit` keeps from a lazy
        signal's stream to fit on (a uniform random sample).

    Attributes
    ----------
    components_ : ndarray (K, n_channels)
        Non-negative endmember spectra.
    cost_history_ : ndarray
        ``0.5 ||X - C S^T||_F^2`` after each iteration of the best start.
    n_iter_ : int
        Iterations of the best start.
    converged_ : bool
        Whether the best start met ``tol`` before ``max_iter``.
    start_costs_ : ndarray (n_starts,)
        Final cost of every start; the kept start has the smallest.
    reconstruction_err_ : float
        Frobenius norm ``||X - C S^T||_F`` of the kept start.

    Examples
    --------
    >>> from hspy_unmix import HALS
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> X = s.data.reshape(-1, s.data.shape[-1])
    >>> model = HALS(n_components=3, n_starts=2, random_state=0).fit(X)
    >>> model.components_.shape
    (3, 200)
    """

    _progress_label = "HALS"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        n_starts: int = 5,
        max_iter: int = 500,
        tol: float = 1e-6,
        abundance_scaling: str = "sum_to_one",
        max_partial_fit_samples: int = 20_000,
        random_state=None,
        show_progressbar: bool | None = None,
    ):
        self.n_components = n_components
        self.n_starts = n_starts
        self.max_iter = max_iter
        self.tol = tol
        self.abundance_scaling = abundance_scaling
        self.max_partial_fit_samples = max_partial_fit_samples
        self.random_state = random_state
        self.show_progressbar = show_progressbar

    def _update_maps(self, maps, cross, gram):
        hals_rows_sweep(maps, cross, gram)

    def _one_start(self, X, x_sq, maps, spectra):
        history = []
        converged = False
        for _ in range(self._max_iter):
            self._update_maps(maps, X @ spectra, spectra.T @ spectra)
            cross_spectra = X.T @ maps
            maps_gram = maps.T @ maps
            hals_rows_sweep(spectra, cross_spectra, maps_gram)
            history.append(_half_squared_error(x_sq, maps_gram, spectra, cross_spectra))
            _normalise_spectra(maps, spectra)
            if len(history) > 1 and _relative_change(history[-2], history[-1]) < self._tol:
                converged = True
                break
        return maps, spectra, history, converged, {}


class NMF_SO(HALS):
    """NMF with a soft-orthogonal penalty on the maps (Muto & Shiga eq. 13).

    HALS in which every map update is pushed away from the sum of the other
    maps by the fraction ``w`` of its overlap with them. ``w = 0`` is plain
    :class:`HALS`; ``w = 1`` forces spatially non-overlapping maps. Spectra
    are kept at unit l2 norm during the iterations, as the review
    recommends. Suited to phases that are separated in space but whose
    spectra overlap strongly (EELS edges on a common background), where plain
    NMF tends to return overlapping maps and distorted spectra.

    Parameters
    ----------
    n_components
        Number of components K.
    w
        Soft-orthogonality weight in [0, 1].
    n_starts, max_iter, tol, abundance_scaling, random_state, show_progressbar
        As in :class:`HALS`.
    max_partial_fit_samples
        Upper bound on the pixels :meth:`partial_fit` keeps from a lazy
        signal's stream to fit on (a uniform random sample).

    Attributes
    ----------
    components_, cost_history_, n_iter_, converged_, start_costs_, reconstruction_err_
        As in :class:`HALS` (the cost is the reconstruction term; the
        penalty makes it non-monotonic when ``w > 0``).

    Examples
    --------
    >>> from hspy_unmix import NMF_SO
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> X = s.data.reshape(-1, s.data.shape[-1])
    >>> model = NMF_SO(n_components=3, w=0.1, n_starts=2, random_state=0).fit(X)
    >>> bool((model.components_ >= 0).all())
    True
    """

    _progress_label = "NMF-SO"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        w: float = 0.1,
        n_starts: int = 5,
        max_iter: int = 500,
        tol: float = 1e-6,
        abundance_scaling: str = "sum_to_one",
        max_partial_fit_samples: int = 20_000,
        random_state=None,
        show_progressbar: bool | None = None,
    ):
        super().__init__(
            n_components,
            n_starts=n_starts,
            max_iter=max_iter,
            tol=tol,
            abundance_scaling=abundance_scaling,
            max_partial_fit_samples=max_partial_fit_samples,
            random_state=random_state,
            show_progressbar=show_progressbar,
        )
        self.w = w

    def _check_params(self):
        self._check_common()
        self._w = _check_float(self.w, "w", 0.0, 1.0)

    def _update_maps(self, maps, cross, gram):
        soft_orthogonal_hals_step(maps, cross, gram, self._w, np.zeros(maps.shape[1]))


# ------------------------------------------------------------------ MALS
class MALS(_MultiStartNMF):
    """Modified (ridge-weighted) alternating least squares NMF.

    Muto & Shiga eqs. 7-8: the spectra solve
    ``S^T <- [(C^T C + W_S)^-1 (C^T X + W_S S^T)]_+`` (a ridge pulling them
    towards their previous value) and the maps
    ``C <- [(X S + C W_C) (S^T S + W_C)^-1]_+``, with diagonal ridge weights
    ``W = rho * trace(Gram) / K * I``. By default (``map_ridge="previous"``)
    the maps, like the spectra, are pulled towards their previous value, so
    that the ridge penalises the change of both factors between two
    iterations. Eq. 8 as printed in the review has no ``C W_C`` term and
    shrinks the maps towards zero (``map_ridge="zero"``); that spreads the
    maps and keeps the spectra mixed: on the Brun et al. chequerboard sets it
    triples the spectral angle error (see the NMF benchmark page). Large
    weights in the first iterations keep the updates stable on collinear
    spectra (EELS edges on a common background). With the default
    ``ridge_schedule="adaptive"`` ``rho`` starts at 1 and follows the amount
    of negative values that the projection ``[.]_+`` removes: it is halved
    when that negative mass does not grow from one iteration to the next and
    multiplied by 0.9 when it grows, so that the iteration ends as plain
    projected ALS; convergence is only declared once ``rho < 1e-3``. Spectra are scaled to
    unit l2 norm after each update.

    Parameters
    ----------
    n_components
        Number of components K.
    n_starts
        Number of random initialisations; the lowest final cost is kept.
    max_iter
        Maximum number of iterations per start.
    tol
        Convergence threshold on the relative change of the cost.
    ridge_schedule
        ``"adaptive"`` (see above), ``"none"`` (plain projected ALS, eqs.
        5-6) or a sequence of relative weights ``rho`` for the successive
        iterations (the last value is kept afterwards).
    map_ridge
        ``"previous"`` (the ridge of the map update pulls the maps towards
        their previous value) or ``"zero"`` (eq. 8 as printed: it shrinks
        them towards zero).
    abundance_scaling
        ``"sum_to_one"`` or ``"unit_spectra"`` (see the module documentation).
    random_state
        Seed or ``numpy.random.RandomState`` for the random starts.
    show_progressbar
        Progress bar over the starts; ``None`` follows HyperSpy's preference.
    max_partial_fit_samples
        Upper bound on the pixels :meth:`partial_fit` keeps from a lazy
        signal's stream to fit on (a uniform random sample).

    Attributes
    ----------
    components_, cost_history_, n_iter_, converged_, start_costs_, reconstruction_err_
        As in :class:`HALS`.
    ridge_history_ : ndarray
        Relative ridge weight ``rho`` used at each iteration of the kept start.

    Examples
    --------
    >>> from hspy_unmix import MALS
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> X = s.data.reshape(-1, s.data.shape[-1])
    >>> model = MALS(n_components=3, n_starts=2, random_state=0).fit(X)
    >>> model.components_.shape
    (3, 200)
    """

    _progress_label = "MALS"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        n_starts: int = 5,
        max_iter: int = 500,
        tol: float = 1e-6,
        ridge_schedule: str | Sequence[float] = "adaptive",
        map_ridge: str = "previous",
        abundance_scaling: str = "sum_to_one",
        max_partial_fit_samples: int = 20_000,
        random_state=None,
        show_progressbar: bool | None = None,
    ):
        self.n_components = n_components
        self.n_starts = n_starts
        self.max_iter = max_iter
        self.tol = tol
        self.ridge_schedule = ridge_schedule
        self.map_ridge = map_ridge
        self.abundance_scaling = abundance_scaling
        self.max_partial_fit_samples = max_partial_fit_samples
        self.random_state = random_state
        self.show_progressbar = show_progressbar

    def _check_params(self):
        self._check_common()
        if self.map_ridge not in ("previous", "zero"):
            raise ValueError(
                f"map_ridge must be 'previous' or 'zero', got {self.map_ridge!r}."
            )
        schedule = self.ridge_schedule
        if isinstance(schedule, str):
            if schedule not in ("adaptive", "none"):
                raise ValueError(
                    "ridge_schedule must be 'adaptive', 'none' or a sequence of "
                    f"non-negative weights, got {schedule!r}."
                )
            self._schedule = schedule
        else:
            try:
                weights = np.asarray(schedule, dtype=np.float64).ravel()
            except (TypeError, ValueError):
                raise TypeError(
                    "ridge_schedule must be 'adaptive', 'none' or a sequence of "
                    f"non-negative weights, got {schedule!r}."
                ) from None
            if weights.size == 0 or not np.all(np.isfinite(weights)) or np.any(
                weights < 0
            ):
                raise ValueError(
                    "ridge_schedule weights must be a non-empty sequence of finite "
                    "non-negative numbers."
                )
            self._schedule = weights

    def _one_start(self, X, x_sq, maps, spectra):
        k = maps.shape[1]
        eye = np.eye(k)
        adaptive = isinstance(self._schedule, str) and self._schedule == "adaptive"
        pull_maps = self.map_ridge == "previous"
        rho = 1.0 if adaptive else 0.0
        previous_negative = np.inf
        history, ridges = [], []
        converged = False
        for it in range(self._max_iter):
            if not isinstance(self._schedule, str):
                rho = float(self._schedule[min(it, self._schedule.size - 1)])
            ridges.append(rho)
            # Eq. 7: the ridge pulls the spectra towards their previous value.
            maps_gram = maps.T @ maps
            cross_spectra = X.T @ maps
            weight_s = rho * np.trace(maps_gram) / k
            new_spectra = np.linalg.solve(
                maps_gram + weight_s * eye, (cross_spectra + weight_s * spectra).T
            ).T
            neg_s = negative_mass(new_spectra) / max(np.abs(new_spectra).sum(), _TINY)
            spectra = np.maximum(new_spectra, 0.0)
            _normalise_spectra(maps, spectra)
            # Eq. 8: the ridge pulls the maps towards their previous value
            # (map_ridge="previous") or shrinks them towards zero ("zero").
            spectra_gram = spectra.T @ spectra
            cross_maps = X @ spectra
            weight_c = rho * np.trace(spectra_gram) / k
            rhs = cross_maps + weight_c * maps if pull_maps else cross_maps
            new_maps = np.linalg.solve(spectra_gram + weight_c * eye, rhs.T).T
            neg_c = negative_mass(new_maps) / max(np.abs(new_maps).sum(), _TINY)
            maps = np.ascontiguousarray(np.maximum(new_maps, 0.0))
            cost = 0.5 * max(
                x_sq
                - 2.0 * np.sum(maps * cross_maps)
                + np.sum((maps.T @ maps) * spectra_gram),
                0.0,
            )
            history.append(cost)
            if adaptive:
                current_negative = neg_s + neg_c
                # Fast decay while the projection removes less and less;
                # slower decay when the unconstrained solution gets more
                # negative (the update is not yet stable).
                rho *= 0.5 if current_negative <= previous_negative else 0.9
                previous_negative = current_negative
            settled = not adaptive or rho <= _RIDGE_SETTLED
            if (
                settled
                and len(history) > 1
                and _relative_change(history[-2], history[-1]) < self._tol
            ):
                converged = True
                break
        return maps, spectra, history, converged, {"ridge_history_": np.asarray(ridges)}


# ------------------------------------------------------------ ARD-SO-NMF
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
    >>> from hspy_unmix import ARD_SO_NMF
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> X = s.data.reshape(-1, s.data.shape[-1])
    >>> model = ARD_SO_NMF(n_components=8, random_state=0).fit(X)
    >>> model.n_components_kept_
    3
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
