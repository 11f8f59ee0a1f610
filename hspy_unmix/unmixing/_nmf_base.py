"""What the NMF estimators share (MALS, HALS, NMF_SO, ARD_SO_NMF): parameter
checks, the starts, the scaling of the result and the multi-start loop.

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

Starts and the choice between them (MALS, HALS, NMF_SO)
-------------------------------------------------------
NMF is not unique: many factorisations reach the same cost, and which one a
random start ends in is luck. On the Samson scene the random starts of HALS
end within 0.4 % of each other's cost with endmembers 0.12-0.26 rad from the
reference, a different one at every seed (seed spread 0.087 rad). With
``init="vca"`` (the default) the first start is VCA's endmembers (pixels of the
data, robust to the seed through VCA's own starts) with their non-negative
least-squares maps; the other ``n_starts - 1`` starts are random. A random
start replaces the VCA start only when its final cost is lower by more than
:data:`_VCA_START_MARGIN` (5 %): within that margin the costs do not tell the
factorisations apart, and the one anchored on pure pixels is kept. The starts
within the margin of the kept one give the uncertainty,
``endmember_angle_spread_`` (largest angle between each kept endmember and its
match in those starts): how far the data let the endmembers move at an equal
fit. ``init="random"`` keeps the lowest cost of ``n_starts`` random starts.
Without pure pixels VCA's simplex lies inside the true one and is itself an
exact factorisation, so the fit stays near it: on the no-pure-pixel
chequerboard MALS reaches 0.083 rad from VCA and 0.040 +/- 0.024 rad from
random starts (docs/benchmarks/nmf.md).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.utils import check_random_state

from ._base import UnmixingEstimator
from ._multistart import endmember_spread
from ._scale import sum_of_squares
from .abundances import solve_validated, sum_to_one_scales
from .._progress import progress_bar
from .._validation import check_int

_TINY = np.finfo(np.float64).tiny
_EPS = np.finfo(np.float64).eps
_SCALINGS = ("sum_to_one", "unit_spectra")
_INITS = ("vca", "random")
#: A random start replaces the VCA start only if its final cost is lower by
#: more than this fraction; the starts within it of the kept one are
#: "near-optimal" and give ``endmember_angle_spread_``.
_VCA_START_MARGIN = 0.05
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
    spectra = X[rows].T.astype(np.float64)
    mean_spectrum = X.mean(axis=0, dtype=np.float64)
    for j in range(k):
        if not np.any(spectra[:, j] > 0):
            spectra[:, j] = mean_spectrum * rng.uniform(0.5, 1.5, n_channels)
    spectra /= np.linalg.norm(spectra, axis=0)
    scale = np.sqrt(sum_of_squares(X) / n_pixels) / k
    maps = rng.uniform(0.0, 1.0, (n_pixels, k)) * scale
    return maps, spectra


def _vca_start(X: np.ndarray, k: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Maps and unit-norm spectra started from VCA's endmembers.

    ``X`` has been screened for outliers already, so VCA runs without its own
    screen; its maps are the non-negative least-squares abundances.
    """
    from .vca import VCA

    vca = VCA(k, random_state=rng, outlier_screen=False)
    components = vca.fit(X).components_
    norms = np.linalg.norm(components, axis=1)
    if not np.all(norms > 0):
        raise ValueError("VCA found an all-zero endmember.")
    maps = solve_validated(X, components, False) * norms
    return np.ascontiguousarray(maps), (components / norms[:, None]).T.copy()


def _start(X, k: int, rng, init: str, name: str, fallback: str | None = None):
    """``(maps, spectra, init)`` of one start: VCA's (``init="vca"``) or random.

    When VCA cannot start on the data a warning says so and the start is
    random; the returned ``init`` is then ``"random"`` (else ``fallback``, the
    caller's running choice, or ``init`` itself).
    """
    if init == "vca":
        try:
            return (*_vca_start(X, k, rng), fallback or init)
        except ValueError as exc:  # VCA cannot start on these data
            warnings.warn(
                f"{name}: no VCA start on these data ({exc}); the starts are random.",
                stacklevel=5)
            init = "random"
            fallback = None
    return (*_random_start(X, k, rng), fallback or init)


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


def nmf_data_units(scaling: str, **extra: int) -> dict:
    """Fitted attributes in data units (see ``UnmixingEstimator._data_units``):
    the spectra with sum-to-one abundances, the abundances with unit spectra."""
    units = {"components_": 1} if scaling == "sum_to_one" else {"_fit_abundances": 1}
    units.update(extra)
    return units


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
        if self.init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {self.init!r}.")

    def _check_params(self):
        self._check_common()

    def _data_units(self) -> dict:
        return nmf_data_units(
            self._scaling, cost_history_=2, start_costs_=2, reconstruction_err_=1
        )

    def _fit(self, X):
        self._check_params()
        rng = check_random_state(self.random_state)
        k = self._n_components
        x_sq = sum_of_squares(X)
        data = self._iteration_data(X)
        results = []
        init = self.init
        with progress_bar(
            self._n_starts, f"{self._progress_label} starts", self.show_progressbar
        ) as bar:
            for r in range(self._n_starts):
                maps, spectra, init = _start(
                    X, k, rng, init if r == 0 else "random", type(self).__name__, init)
                results.append(self._one_start(data, x_sq, maps, spectra))
                bar.update(1)
                bar.set_postfix(cost=f"{results[-1][2][-1]:.4g}")
        start_costs = np.array([result[2][-1] for result in results])
        kept = int(np.argmin(start_costs))
        if init == "vca" and start_costs[kept] >= (1.0 - _VCA_START_MARGIN) * start_costs[0]:
            kept = 0
        near = np.flatnonzero(start_costs <= start_costs[kept] / (1.0 - _VCA_START_MARGIN))
        maps, spectra, history, converged, extras = results[kept]
        for name, value in extras.items():
            setattr(self, name, value)
        penalised_spectra = spectra
        maps, spectra, final_cost = self._final_model(X, data, x_sq, maps, spectra, history[-1])
        abundances, components = _scaled_result(maps, spectra, self._scaling)
        self.components_ = components
        # Final NNLS solve: fit_transform then equals transform exactly.
        self._fit_abundances = solve_validated(X, components, False)
        self.cost_history_ = np.asarray(history)
        self.n_iter_ = len(history)
        self.converged_ = bool(converged)
        self.start_costs_ = start_costs
        self.kept_start_ = kept
        self.init_ = init
        self.n_near_optimal_starts_ = int(near.size)
        self.endmember_angle_spread_ = endmember_spread(
            penalised_spectra.T, [results[i][1].T for i in near if i != kept])
        self.reconstruction_err_ = float(np.sqrt(2.0 * final_cost))

    def _final_model(self, X, data, x_sq, maps, spectra, cost):
        """``(maps, spectra, cost)`` of the result: the kept start's (NMF_SO may refit them)."""
        return maps, spectra, cost

    def _transform(self, X):
        return solve_validated(X, self.components_, False)

    def _iteration_data(self, X):
        """What the iterations of every start multiply: ``X`` itself (HALS
        replaces a large sample by its low-rank compression)."""
        return np.asarray(X, dtype=np.float64)
