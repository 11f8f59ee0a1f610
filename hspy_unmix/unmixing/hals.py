"""HALS and NMF_SO: hierarchical alternating least squares NMF, plain and with a
soft-orthogonal penalty on the maps (Muto & Shiga eqs. 11-13)."""

from __future__ import annotations

import numpy as np

from ._nmf_base import _check_float, _half_squared_error, _MultiStartNMF, _normalise_spectra, _relative_change
from ._nmf_kernels import hals_rows_sweep, soft_orthogonal_hals_step


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
