"""HALS and NMF_SO: hierarchical alternating least squares NMF, plain and with a
soft-orthogonal penalty on the maps (Muto & Shiga eqs. 11-13)."""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._parameters import MAX_PARTIAL_FIT_SAMPLES, estimator_init
from .._validation import check_int
from ._nmf_base import (
    _check_float,
    _half_squared_error,
    _MultiStartNMF,
    _normalise_spectra,
    _relative_change,
)
from ._nmf_kernels import hals_rows_sweep, soft_orthogonal_hals_step
from .abundances import solve_validated

#: Above this many values (pixels x channels) the iterations multiply a
#: low-rank compression of the sample instead of the sample (see HALS Notes).
COMPRESS_ABOVE = 2**24
#: Rank of the compression beyond the number of components.
COMPRESSION_OVERSAMPLING = 10
#: Plain HALS iterations of :func:`unpenalised_refit` when it frees a model
#: from its penalty entirely (ARD's evidence test).
UNPENALISED_ITER = 300
#: Default ``debias_iter`` of NMF_SO and ARD_SO_NMF: a short unpenalised
#: polish of the penalised result (figures in NMF_SO's documentation).
DEBIAS_ITER = 10


class LowRank:
    """``X ~ L @ V.T``: ``V`` (n_channels, r) the leading right singular
    vectors of ``X``, ``L = X @ V``. Products cost rank r instead of the
    number of channels; ``.T`` multiplies the transpose."""

    def __init__(self, L: np.ndarray, V: np.ndarray):
        self.L, self.V = L, V
        self.shape = (L.shape[0], V.shape[0])

    def __matmul__(self, matrix):
        return self.L @ (self.V.T @ matrix)

    @property
    def T(self):  # noqa: N802 (numpy's name)
        return _LowRankTransposed(self)


class _LowRankTransposed:
    def __init__(self, low_rank: LowRank):
        self._low_rank = low_rank

    def __matmul__(self, matrix):
        return self._low_rank.V @ (self._low_rank.L.T @ matrix)


def compressed(X: np.ndarray, n_components: int) -> LowRank:
    """Rank ``n_components + COMPRESSION_OVERSAMPLING`` compression of ``X``
    (randomized range finder with two power iterations, from a fixed seed:
    it does not depend on ``random_state``). A float32 ``X`` is multiplied
    a block of rows at a time in float64, never copied whole."""
    from ..io.chunks import matmul_rows
    from .vca import _SUBSPACE_SEED, RowBlocks, top_right_singular_vectors

    rank = min(n_components + COMPRESSION_OVERSAMPLING, *X.shape)
    data = X if X.dtype == np.float64 else RowBlocks(X)
    V, _ = top_right_singular_vectors(data, rank, np.random.RandomState(_SUBSPACE_SEED),
                                      oversampling=10, power_iterations=2)
    return LowRank(matmul_rows(X, V), V)


def unpenalised_refit(
    X, x_sq: float, maps, spectra, n_iter: int = UNPENALISED_ITER
) -> tuple[np.ndarray, np.ndarray, float]:
    """Maps, unit spectra and half squared error of a copy of ``(maps, spectra)``
    refitted by plain HALS.

    A penalty on the maps (NMF_SO's soft orthogonality, ARD's relevance
    shrinkage) biases the factorisation it fits: every map is pushed down
    or apart, and the spectra absorb the part of the data the maps no
    longer explain. :data:`UNPENALISED_ITER` iterations of :class:`HALS`
    from the penalised model (``tol=0``) keep its components (the start
    fixes which local minimum HALS reaches) and give them the least-squares
    fit of the data. ``X`` may be a :class:`LowRank` compression; the
    inputs are not modified.
    """
    hals = HALS(max_iter=n_iter, tol=0.0)
    hals._check_params()
    maps, spectra, history, *_ = hals._one_start(X, x_sq, maps.copy(), spectra.copy())
    return maps, spectra, history[-1]


def polished(X, data, x_sq: float, spectra, n_iter: int) -> tuple[np.ndarray, np.ndarray, float]:
    """A penalised model's unit ``spectra`` after ``n_iter`` plain HALS
    iterations, from their NNLS maps of the sample ``X`` (``data``: what the
    iterations multiply, ``X`` or its :class:`LowRank` compression).

    The NNLS maps, not the penalised ones, are the start: the penalty has
    pushed those apart, and HALS from them heads for another minimum (the
    figures in NMF_SO's ``debias_iter``).
    """
    maps = np.ascontiguousarray(solve_validated(X, spectra.T, False), dtype=np.float64)
    return unpenalised_refit(data, x_sq, maps, spectra, n_iter)


@fill_doc
class HALS(_MultiStartNMF):
    """Hierarchical alternating least squares NMF (Muto & Shiga eqs. 11-12).

    Each iteration updates the maps and then the spectra one column at a
    time with the closed-form solution of the column problem projected on
    the non-negative orthant; spectra are then scaled to unit l2 norm (eq. 12,
    the maps absorb the scale). The cost ``0.5 ||X - C S^T||_F^2`` never
    increases. ``n_starts`` starts (the first from VCA's endmembers, see
    ``init``) run to convergence and one is kept.

    Parameters
    ----------
    n_components
        Number of components K (``output_dimension`` in ``decomposition``).
    %(nmf_starts)s
    %(nmf_common)s

    %(nmf_attributes)s

    Notes
    -----
    Large samples. Every iteration multiplies the sample twice (by the
    spectra and, transposed, by the maps). Above :data:`COMPRESS_ABOVE`
    values (pixels x channels; a lazy decomposition's default sample of
    20 000 spectra of 2048 channels is 2.4 times that) the iterations
    multiply ``X V V^T`` instead, ``V`` the leading ``K + 10`` right
    singular vectors of the sample (randomized, two power iterations, a
    fixed seed): products of rank ``K + 10`` instead of the number of
    channels. The start (VCA) and the final abundances use the sample
    itself. Measured on such a sample of the 4-phase scale-benchmark SI
    (K = 4, one start, 2 cores under load): 8.7 s against 64 s, endmembers
    within 0.001 rad of the uncompressed fit's, reconstruction RMSE equal
    to 2e-6 relative. :class:`NMF_SO` does the same. A float32 sample (a
    lazy decomposition's of float32 data) is fitted as it is: the
    compression and every product with the sample convert a block of rows
    to float64 at a time.

    %(examples_chequerboard_X)s
    >>> model = hspy_unmix.HALS(n_components=3, n_starts=1, max_iter=200,
    ...                         random_state=0).fit(X)
    >>> model.components_.shape
    (3, 200)
    """

    _progress_label = "HALS"
    _fits_float32 = True

    __init__ = estimator_init(
        n_components=None, init="vca", n_starts=5, max_iter=500, tol=1e-6,
        abundance_scaling="sum_to_one", max_partial_fit_samples=MAX_PARTIAL_FIT_SAMPLES,
        random_state=None, show_progressbar=None,
    )

    def _update_maps(self, maps, cross, gram):
        hals_rows_sweep(maps, cross, gram)

    def _iteration_data(self, X):
        k = self._n_components
        if X.size <= COMPRESS_ABOVE or min(X.shape) <= 4 * (k + COMPRESSION_OVERSAMPLING):
            return super()._iteration_data(X)
        return compressed(X, k)

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


@fill_doc
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
    %(debias_iter)s
    %(nmf_starts)s
    %(nmf_common)s

    Attributes
    ----------
    components_, cost_history_, n_iter_, converged_, start_costs_, reconstruction_err_
        As in :class:`HALS` (the cost is the reconstruction term; the
        penalty makes it non-monotonic when ``w > 0``).

    %(examples_chequerboard_X)s
    >>> model = hspy_unmix.NMF_SO(n_components=3, w=0.1, n_starts=1, max_iter=200,
    ...                           random_state=0).fit(X)
    >>> bool((model.components_ >= 0).all())
    True
    """

    _progress_label = "NMF-SO"

    __init__ = estimator_init(
        n_components=None, w=0.1, debias_iter=DEBIAS_ITER, init="vca", n_starts=5, max_iter=500, tol=1e-6,
        abundance_scaling="sum_to_one", max_partial_fit_samples=MAX_PARTIAL_FIT_SAMPLES,
        random_state=None, show_progressbar=None,
    )

    def _check_params(self):
        self._check_common()
        self._w = _check_float(self.w, "w", 0.0, 1.0)
        self._debias_iter = check_int(self.debias_iter, "debias_iter", 0)

    def _final_model(self, X, data, x_sq, maps, spectra, cost):
        if self._debias_iter == 0:
            return maps, spectra, cost
        return polished(X, data, x_sq, spectra, self._debias_iter)

    def _update_maps(self, maps, cross, gram):
        soft_orthogonal_hals_step(maps, cross, gram, self._w, np.zeros(maps.shape[1]))
