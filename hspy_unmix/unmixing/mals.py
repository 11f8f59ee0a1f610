"""MALS: modified (ridge-weighted) alternating least squares NMF (Muto & Shiga eqs. 7-8)."""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._parameters import MAX_PARTIAL_FIT_SAMPLES, estimator_init
from ._nmf_base import (
    _RIDGE_SETTLED,
    _TINY,
    _MultiStartNMF,
    _normalise_spectra,
    _relative_change,
)
from ._nmf_kernels import negative_mass


@fill_doc
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
    %(nmf_starts)s
    ridge_schedule
        ``"adaptive"`` (see above), ``"none"`` (plain projected ALS, eqs.
        5-6) or a sequence of relative weights ``rho`` for the successive
        iterations (the last value is kept afterwards).
    map_ridge
        ``"previous"`` (the ridge of the map update pulls the maps towards
        their previous value) or ``"zero"`` (eq. 8 as printed: it shrinks
        them towards zero).
    %(nmf_common)s

    %(nmf_attributes)s
    ridge_history_ : ndarray
        Relative ridge weight ``rho`` used at each iteration of the kept start.

    %(examples_chequerboard_X)s
    >>> model = hspy_unmix.MALS(n_components=3, n_starts=2, random_state=0).fit(X)
    >>> model.components_.shape, float(model.ridge_history_[0]), model.converged_
    ((3, 200), 1.0, True)
    """

    _progress_label = "MALS"

    __init__ = estimator_init(
        n_components=None, init="vca", n_starts=5, max_iter=500, tol=1e-6,
        ridge_schedule="adaptive",
        map_ridge="previous", abundance_scaling="sum_to_one",
        max_partial_fit_samples=MAX_PARTIAL_FIT_SAMPLES, random_state=None,
        show_progressbar=None,
    )

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
