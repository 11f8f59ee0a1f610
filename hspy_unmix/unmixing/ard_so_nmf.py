"""ARD_SO_NMF: NMF-SO with automatic relevance determination of the number of components."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from .._docstrings import fill_doc
from ._base import UnmixingEstimator
from ._nmf_base import (
    _EPS,
    _TINY,
    _check_float,
    _check_scaling,
    _half_squared_error,
    _normalise_spectra,
    _INITS,
    _start,
    _scaled_result,
    nmf_data_units,
)
from ._nmf_kernels import hals_rows_sweep, soft_orthogonal_hals_step
from .._progress import NoBar, progress_bar
from .._validation import check_int
from .abundances import _squared_error, solve_validated
from .hals import DEBIAS_ITER, polished, unpenalised_refit


@fill_doc
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
    ``b`` is set from the data as
    ``mean(X) (a - 1) sqrt(n_channels) / n_components``.

    Relevance alone rarely decides: a component that the others reproduce
    (a duplicate, or a mixture inside their simplex) keeps its relevance,
    and early merging of similar spectra (EELS phases have cosines of 0.99)
    loses real phases. So the start is VCA's endmembers (``init="vca"``), and
    after the MAP iteration a **backward elimination** removes, one at a
    time, the component the others replace best, as long as they replace it
    within the noise: its *evidence*, the rise of the squared residual when
    it is left out (abundances re-solved by non-negative least squares),
    must stay below BIC's price of a component,
    ``sigma^2 (n_pixels + n_channels) log(n_pixels n_channels)``. The test
    runs on a copy of the model refitted without the priors (plain HALS):
    the priors shrink every map, the MAP model's residual is about twice
    the true model's, and at that noise variance a spare component seemed
    to pay for itself (on the 3-phase demo SI started from 8, a fourth
    component kept with 2 prices). On the copy, started from 8 on the demo
    SI and the 3- and 4-phase chequerboards, every component dropped was
    worth 0.02-0.95 prices and every phase kept 50 or more. After each
    removal the others are refitted (``refit_iter`` MAP iterations) before
    the next test. A component whose evidence exceeds ``keep_share`` of
    ``||X||^2`` (its share of the signal that the others cannot explain) is
    never dropped.

    The elimination decides the number; the components it leaves have
    come a long way from their start and can sit between two phases
    (from 8 on the demo SI and the 3-phase sets with and without pure
    pixels, seeds 0-4: one of the three spectra 0.18-0.71 rad from its
    phase at 6 of 15 fits; after the refit at most 0.064 rad with pure
    pixels and 0.12 without, the level of a fit from 3). So with
    ``refit=True`` (default) the result is a second MAP fit with the number
    kept, from the start ``init`` (the fit ARD makes when started from that
    number), unless that fit prunes a component. That fit's components are
    tested like the elimination's: one that the others reproduce within
    the noise is dropped (``dropped_`` index -1) and the fit repeated with
    one fewer (without pure pixels, replicates 100-104 of the 3-phase
    chequerboard from 8: a fourth component of evidence 0.05-0.10 was kept
    at two of the five before). Cost: one more fit with fewer components
    (two when the first needs one fewer); from 8 on the 64 x 64 x 200 demo
    SI about 7 s in all on 2 cores.

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
        Cosine similarity of two spectra above which their components merge
        during the iteration. The default 1 merges exact duplicates only:
        EELS spectra of different phases often have cosines of 0.99 (common
        background), and a merge at 0.999 lost one of three phases on the
        chequerboard without pure pixels; the backward elimination removes
        duplicates instead.
    init
        ``"vca"`` (default): VCA's endmembers and their non-negative
        least-squares maps; ``"random"``: random pixels and maps (the
        original algorithm's start). Started from the true number on the
        3-phase chequerboard, the random start's fit lost a phase at each of
        seeds 0-2 (one component ended nearly redundant and was eliminated);
        the VCA start kept the three at every seed.
    backward_elimination
        Run the backward elimination (``False``: relevance pruning only).
    keep_share
        A component whose evidence (rise of the squared residual without it)
        exceeds this fraction of ``||X||^2`` is kept whatever BIC says.
    refit_iter
        MAP iterations that refit the others after each elimination.
    refit
        Refit the number of components kept from the start (see above);
        ``refitted_`` says whether the refit was used.
    %(debias_iter)s
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
        Indices among the starting components of those the elimination
        kept (when ``refitted_``, the refit's components replace them).
    refitted_ : bool
        Whether ``components_`` come from the refit.
    evidence_ : ndarray, shape (n_kept,)
        Evidence of every component of ``components_``, in units of
        ``noise_penalty_`` (above 1: the data need it), tested on a copy
        refitted without the priors.
    noise_penalty_ : float
        BIC's price of one component at that copy's noise variance.
    dropped_ : list of (int, float)
        The eliminated components, in order: starting index and evidence;
        index -1 for a component of a refit (see ``refit``).
    noise_variance_ : float
        Estimated variance of the noise: the mean squared residual of the
        kept components.
    cost_history_ : ndarray
        Negative log posterior after each iteration of the first fit and
        its elimination (the refit's are not recorded).
    n_iter_ : int
        Iterations of the first fit and its elimination.
    converged_ : bool
        Whether the first fit's relevances settled within ``max_iter``.

    Examples
    --------
    Started from 8 components on the three-phase chequerboard (about 7 s),
    ARD drops five components, each worth well under one BIC price, keeps
    the three phases (each worth more than a hundred) and refits them from
    VCA's start; the spectra match the true ones within 0.02 rad (0.035
    without the unpenalised polish, ``debias_iter=0``).

    >>> from hspy_unmix import ARD_SO_NMF
    >>> from hspy_unmix.metrics import sad
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> X = s.data.reshape(-1, s.data.shape[-1])
    >>> model = ARD_SO_NMF(n_components=8, random_state=0, show_progressbar=False).fit(X)
    >>> model.n_components_kept_, len(model.dropped_), model.refitted_
    (3, 5, True)
    >>> max(evidence for _, evidence in model.dropped_) < 1.0
    True
    >>> bool(model.evidence_.min() > 100.0)
    True
    >>> bool(sad(truth.endmembers, model.components_).max() < 0.02)
    True
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
        merge_threshold: float = 1.0,
        init: str = "vca",
        backward_elimination: bool = True,
        keep_share: float = 1e-3,
        refit_iter: int = 200,
        refit: bool = True,
        debias_iter: int = DEBIAS_ITER,
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
        self.init = init
        self.backward_elimination = backward_elimination
        self.keep_share = keep_share
        self.refit_iter = refit_iter
        self.refit = refit
        self.debias_iter = debias_iter
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
        self._keep_share = _check_float(self.keep_share, "keep_share", 0.0, 1.0)
        self._refit_iter = check_int(self.refit_iter, "refit_iter", 1)
        self._debias_iter = check_int(self.debias_iter, "debias_iter", 0)
        if self.init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {self.init!r}.")
        self._merge = _check_float(self.merge_threshold, "merge_threshold", 0.0, 1.0)
        self._scaling = _check_scaling(self.abundance_scaling)

    def _required_rank(self, n_components: int) -> int:
        # n_components is an upper bound that ARD prunes: data of any rank
        # from 2 up are fine, only copies of one spectrum are degenerate
        return min(n_components, 2)

    def _data_units(self) -> dict:
        # cost_history_ (a log posterior) changes by a constant with the units
        return nmf_data_units(
            self._scaling, reconstruction_err_=1, noise_variance_=2, noise_penalty_=2,
            relevances_=1, relevance_history_=1,
        )

    def _fit(self, X):
        self._check_params()
        rng = check_random_state(self.random_state)
        k = self._n_components
        x_sq = float(np.einsum("ij,ij->", X, X))  # no squared copy of X
        self._relevance_rows, self._costs = [], []
        with progress_bar(self._max_iter, "ARD-SO-NMF", self.show_progressbar) as bar:
            maps, spectra, b, converged = self._map_fit(X, x_sq, k, rng, bar)
        dropped, tested = [], None
        if self.backward_elimination:
            maps, spectra, dropped, tested = self._backward_elimination(
                X, x_sq, maps, spectra, b)
        final = np.zeros(k)
        final[self._active] = self._relevances(maps, b)
        order = np.argsort(-final[self._active], kind="stable")
        maps, spectra = maps[:, order], spectra[:, order]
        kept = self._active[order]
        self.kept_indices_ = kept
        self.relevances_ = final
        self.relevance_history_ = np.asarray(self._relevance_rows)
        self.dropped_ = dropped
        self.cost_history_ = np.asarray(self._costs)
        self.n_iter_ = len(self._costs)
        self.converged_ = converged
        self.refitted_ = False
        n_refit = kept.size
        while self.refit and 0 < n_refit < k:
            self._relevance_rows, self._costs = [], []
            with progress_bar(self._max_iter, "ARD-SO-NMF refit", self.show_progressbar) as bar:
                refit_maps, refit_spectra, refit_b, _ = self._map_fit(
                    X, x_sq, n_refit, rng, bar)
            if refit_spectra.shape[1] != n_refit:  # the refit pruned: the model before it stays
                if self.refitted_:
                    dropped.pop()  # and so does the component it was to lose
                break
            refit_order = np.argsort(-self._relevances(refit_maps, refit_b), kind="stable")
            maps, spectra = refit_maps[:, refit_order], refit_spectra[:, refit_order]
            self.refitted_ = True
            tested, weakest = self._test(X, x_sq, maps, spectra)
            if not self.backward_elimination or n_refit == 1 or weakest is None:
                break
            # the refit made one of its components redundant (3-phase
            # chequerboards without pure pixels): one fewer, refitted again
            dropped.append((-1, float(tested[0][weakest])))
            n_refit -= 1
        del self._active, self._relevance_rows, self._costs
        if tested is None:
            tested = self._test(X, x_sq, maps, spectra)[0]
        elif not self.refitted_:  # the elimination stopped on a test of this very model
            tested = tested[0][order], tested[1]
        if self._debias_iter:
            maps, spectra, _ = polished(X, X, x_sq, spectra, self._debias_iter)
        self.evidence_, self.noise_penalty_ = tested
        _, components = _scaled_result(np.ascontiguousarray(maps), spectra, self._scaling)
        self.components_ = components
        self._fit_abundances = solve_validated(X, components, False)
        self.n_components_kept_ = int(spectra.shape[1])
        squared_error = _squared_error(X, self._fit_abundances, components)
        self.reconstruction_err_ = float(np.sqrt(squared_error))
        self.noise_variance_ = squared_error / X.size

    def _relevances(self, maps, b):
        """Closed-form relevance of each column of ``maps``."""
        return (maps.sum(axis=0) + b) / (maps.shape[0] + self._a + 1.0)

    def _map_fit(self, X, x_sq, k, rng, bar):
        """Start with ``k`` components, iterate, prune the irrelevant ones.

        Returns ``(maps, spectra, b, converged)``; ``self._active`` holds the
        indices of the remaining columns among the ``k`` started.
        """
        b = X.mean() * (self._a - 1.0) * np.sqrt(X.shape[1]) / k
        self._active = np.arange(k)
        maps, spectra, self.init_ = _start(X, k, rng, self.init, type(self).__name__)
        converged, _ = self._iterate(X, x_sq, maps, spectra, b, self._max_iter, bar)
        final = self._relevances(maps, b)
        alive = (final > self._prune * final.max()) & (np.linalg.norm(spectra, axis=0) > 0)
        self._active = self._active[alive]
        return maps[:, alive], spectra[:, alive], b, converged

    def _iterate(self, X, x_sq, maps, spectra, b, max_iter, bar):
        """MAP iterations on ``maps`` and ``spectra`` in place; ``(converged, noise_var)``."""
        n_pixels = X.shape[0]
        size = X.size
        a = self._a
        relevances = self._relevances(maps, b)
        noise_var = max(
            _half_squared_error(x_sq, maps.T @ maps, spectra, X.T @ maps) * 2.0 / size,
            _TINY,
        )
        previous = None
        for it in range(max_iter):
            shrinkage = noise_var / np.maximum(relevances, _TINY)
            soft_orthogonal_hals_step(maps, X @ spectra, spectra.T @ spectra, self._w, shrinkage)
            cross_spectra = X.T @ maps
            maps_gram = maps.T @ maps
            hals_rows_sweep(spectra, cross_spectra, maps_gram)
            half_err = _half_squared_error(x_sq, maps_gram, spectra, cross_spectra)
            _normalise_spectra(maps, spectra)
            if it > 3:
                self._merge_duplicates(maps, spectra)
            relevances = self._relevances(maps, b) + _EPS
            row = np.zeros(self._n_components)
            row[self._active] = relevances
            self._relevance_rows.append(row)
            noise_var = max(2.0 * half_err / size, _TINY)
            self._costs.append(
                0.5 * size * (np.log(2.0 * np.pi * noise_var) + 1.0)
                + np.sum((maps.sum(axis=0) + b) / relevances)
                + (n_pixels + a + 1.0) * np.sum(np.log(relevances))
            )
            bar.update(1)
            # The posterior is dominated by the noise term, so its relative
            # change stalls long before weak components have died out;
            # the relevances themselves are the quantity that must settle.
            if previous is not None:
                if np.abs(relevances - previous).max() < self._tol * relevances.max():
                    return True, noise_var
            previous = relevances
        return False, noise_var

    def _test(self, X, x_sq, maps, spectra):
        """``((evidence, penalty), weakest)`` of the model's components, tested
        on a copy refitted without the priors (:func:`_evidence`); ``weakest``
        is the index of the one the others replace (evidence below 1 and a
        rise of at most ``keep_share`` of ``||X||^2``), ``None`` when every
        component is needed."""
        _, test_spectra, _ = unpenalised_refit(X, x_sq, maps, spectra)
        evidence, penalty = _evidence(X, x_sq, test_spectra.T)
        weakest = int(np.argmin(evidence))
        if evidence[weakest] >= 1.0 or evidence[weakest] * penalty > self._keep_share * x_sq:
            return (evidence, penalty), None
        return (evidence, penalty), weakest

    def _backward_elimination(self, X, x_sq, maps, spectra, b):
        """Drop, one at a time, the component the others replace within the noise.

        See the class documentation. Returns the remaining ``maps``,
        ``spectra``, the list of ``(starting index, evidence)`` dropped and
        ``(evidence, penalty)`` of the remaining model when the elimination
        stopped on its test (``None`` when one component is left).
        """
        dropped = []
        with progress_bar(
            spectra.shape[1] - 1, "ARD-SO-NMF elimination", self.show_progressbar
        ) as bar:
            while spectra.shape[1] > 1:
                tested, weakest = self._test(X, x_sq, maps, spectra)
                if weakest is None:
                    return maps, spectra, dropped, tested
                dropped.append((int(self._active[weakest]), float(tested[0][weakest])))
                keep = np.arange(spectra.shape[1]) != weakest
                maps = np.ascontiguousarray(maps[:, keep])
                spectra = np.ascontiguousarray(spectra[:, keep])
                self._active = self._active[keep]
                # the others take over its signal before the next test
                self._iterate(X, x_sq, maps, spectra, b, self._refit_iter, NoBar())
                bar.update(1)
        return maps, spectra, dropped, None

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


def _evidence(X, x_sq: float, components: np.ndarray) -> tuple[np.ndarray, float]:
    """Rise of the squared residual when each component is left out, and its unit.

    The abundances are re-solved (non-negative least squares) with the other
    components each time, so a component that the others reproduce costs
    nothing; without any component the residual is ``||X||^2``. The unit is
    BIC's price of one component, ``(n_pixels + n_channels) log(X.size)``
    times the noise variance of the model with all ``components``.
    """
    full = _squared_error(X, solve_validated(X, components, False), components)
    penalty = max(full / X.size * (X.shape[0] + X.shape[1]) * np.log(X.size), _TINY)
    rises = np.empty(components.shape[0])
    for k in range(components.shape[0]):
        others = np.ascontiguousarray(np.delete(components, k, axis=0))
        if others.shape[0]:
            rises[k] = _squared_error(X, solve_validated(X, others, False), others) - full
        else:
            rises[k] = x_sq - full
    return rises / penalty, penalty
