"""Steps 2-3 of pan-sharpening: how many endmembers, and their spectra from the clean SI."""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, check_int
from ..unmixing.n_components import parallel_analysis_n_components

def fit_endmembers(Xo, n_components, algorithm, random_state, show_progressbar, algorithm_params,
                   *, fit_weights=None):
    """Fitted estimator, endmembers (K, C_out), K, algorithm name, K estimated?

    ``fit_weights`` (C,) positive channel weights: an estimator fitted here
    is fitted on ``Xo * fit_weights`` (every channel in units of its noise)
    and its components are divided by them, which leaves a linear mixture's
    abundances unchanged; K is estimated on ``Xo`` itself. An estimator that
    is already fitted is used as it is.
    """
    from .._registry import estimator_class, normalise_name

    estimated = False
    w = None if fit_weights is None else np.asarray(fit_weights, dtype=np.float64)
    Xf = Xo if w is None else Xo * w

    def unweighted(components):
        E = np.asarray(components, dtype=np.float64)
        return E if w is None else E / w

    if isinstance(algorithm, str):
        if n_components is None:
            n_components = parallel_analysis_n_components(Xo, random_state=random_state)
            estimated = True
        check_k(n_components, Xo)
        key = algorithm.strip().upper()
        if key == "NMF":
            from sklearn.decomposition import NMF

            params = {"init": "nndsvda", "max_iter": 1000, "tol": 1e-5}
            params.update(algorithm_params)
            estimator = NMF(n_components=n_components, random_state=random_state, **params)
            name = "NMF"
        else:
            name = normalise_name(algorithm)
            cls = estimator_class(algorithm)  # clear error for unknown names
            accepted = set(cls().get_params(deep=False))
            unknown = sorted(set(algorithm_params) - accepted)
            if unknown:
                raise TypeError(
                    f"pan_sharpen(algorithm={name!r}) got unknown parameter(s) {unknown}."
                )
            params = dict(algorithm_params)
            if "random_state" in accepted:
                params.setdefault("random_state", random_state)
            if "show_progressbar" in accepted:
                params.setdefault("show_progressbar", show_progressbar)
            estimator = cls(n_components=n_components, **params)
        estimator.fit(Xf)
        return estimator, unweighted(estimator.components_), n_components, name, estimated

    if algorithm_params:
        raise TypeError(
            f"parameters {sorted(algorithm_params)} cannot be combined with an estimator "
            "object: set them on the estimator instead."
        )
    if not hasattr(algorithm, "fit") and not hasattr(algorithm, "components_"):
        raise TypeError(
            "algorithm must be 'NMF', an hspy_unmix algorithm name or an estimator "
            f"object with fit/components_; got {type(algorithm).__name__}."
        )
    name = type(algorithm).__name__
    if hasattr(algorithm, "components_"):
        E = np.asarray(algorithm.components_, dtype=np.float64)
        if n_components is not None and int(n_components) != E.shape[0]:
            raise ValueError(
                f"n_components={n_components} differs from the {E.shape[0]} components "
                "of the fitted estimator."
            )
        return algorithm, E, E.shape[0], name, False
    from sklearn.base import clone

    estimator = clone(algorithm)
    if n_components is not None:
        estimator.set_params(n_components=int(n_components))
    k = estimator.get_params().get("n_components")
    if k is None:
        k = parallel_analysis_n_components(Xo, random_state=random_state)
        estimator.set_params(n_components=k)
        estimated = True
    check_k(k, Xo)
    estimator.fit(Xf)
    E = unweighted(estimator.components_)
    return estimator, E, E.shape[0], name, estimated


def check_k(k, Xo):
    try:
        check_int(k, "n_components", minimum=1)
    except TypeError as exc:  # documented as a ValueError for pan_sharpen
        raise ValueError(str(exc)) from None
    if k > Xo.shape[0]:
        raise ValueError(
            f"other has {Xo.shape[0]} pixel(s), fewer than n_components={k}: the "
            "endmembers cannot be extracted from it."
        )


def sum_to_one_scaling(estimator, E, Xo, fit_weights=None):
    """Rescale endmembers so that ``other``'s abundances best sum to one.

    With ``W`` the abundances of ``other`` (``estimator.transform`` of the
    data it was fitted on: ``Xo * fit_weights`` when given), the scales
    ``c >= 0`` minimise ``||W c - 1||^2``; endmember k becomes ``E_k / c_k``
    so that its abundances are ``W_k c_k``.
    """
    from ..unmixing.abundances import nnls_abundances, sum_to_one_scales

    w = np.ones(Xo.shape[1]) if fit_weights is None else np.asarray(fit_weights, dtype=np.float64)
    fitted = getattr(estimator, "components_", None)
    if fitted is not None and np.shape(fitted)[1] == Xo.shape[1]:
        W = np.asarray(estimator.transform(Xo * w), dtype=np.float64)
    else:  # endmembers restricted to the energy overlap: solve them directly
        W = nnls_abundances(Xo * w, E * w)
    return E / sum_to_one_scales(W, fallback="one")[:, None]


def restrict_endmembers(E, plan_e, n_other_channels: int, n_used: int):
    """Endmembers on ``other``'s channels ``plan_e.other_slice``; clear errors when they cannot be."""
    if E.shape[1] == n_other_channels and n_other_channels != n_used:
        E = E[:, plan_e.other_slice]
    if E.shape[1] != n_used:
        raise ValueError(
            f"the estimator's endmembers have {E.shape[1]} channels; other has "
            f"{n_other_channels} and the energy overlap {n_used}."
        )
    check_finite(E, "the endmembers extracted from other")
    return E


def output_endmembers(E, plan_e, k: int):
    """Endmembers carried onto the output channels (``self``'s), at least ``2 K`` of them."""
    n_out = plan_e.energy.size
    if n_out < 2 * k:
        raise ValueError(
            f"the energy overlap holds {n_out} channels of the signal; at least 2 * K = "
            f"{2 * k} are needed."
        )
    return plan_e.from_other(E)


def dose_ratio_of(mean_spectrum, plan_e, Xo) -> float:
    """Mean counts of the signal's spectra over those of other's (on the output channels).

    ``mean_spectrum`` is the signal's mean spectrum on its own channels (of
    the even subsample that the noise model is estimated from: no pass over
    the whole SI of its own).
    """
    mean_self = float(plan_e.apply(np.asarray(mean_spectrum, np.float64)[None])[0].sum())
    mean_other = float(plan_e.from_other(Xo.mean(0)[None])[0].sum())
    return mean_self / mean_other if mean_other > 0 else 1.0
