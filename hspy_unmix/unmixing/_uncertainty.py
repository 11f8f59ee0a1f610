"""Uncertainty of an unmixing result, stored with the signal.

After ``s.decomposition(algorithm=...)`` with an estimator of the package,
whatever measure of uncertainty the estimator has is copied to
``s.metadata.Signal.unmixing_uncertainty`` (plain arrays and numbers, so it
is saved in ``.hspy`` / ``.zspy`` files and read back with the signal):

``endmember_angle_spread``
    Per component (same order as ``learning_results.factors``), the largest
    angle in radians between the kept endmember and its match in the other
    near-optimal starts (VCA; see
    :mod:`hspy_unmix.unmixing._multistart`). 0 when all starts agree.
``start_volumes`` / ``start_costs``
    The criterion of every start (relative simplex volume for VCA, final
    cost for the NMF family), to see how clear-cut the choice was.
``n_outliers``
    Spectra left out of the endmember search by the outlier screen.
"""

from __future__ import annotations

import numpy as np

#: metadata node under ``metadata.Signal``.
NODE = "unmixing_uncertainty"

_ATTRIBUTES = {
    "endmember_angle_spread_": "endmember_angle_spread",
    "start_volumes_": "start_volumes",
    "start_costs_": "start_costs",
    "n_outliers_": "n_outliers",
    "n_near_optimal_starts_": "n_near_optimal_starts",
}


def uncertainty_of(estimator) -> dict:
    """The uncertainty measures a fitted estimator holds (may be empty)."""
    out = {}
    for attribute, key in _ATTRIBUTES.items():
        value = estimator.__dict__.get(attribute)
        if value is None:
            continue
        out[key] = np.asarray(value) if isinstance(value, np.ndarray) else value
    return out


def store_uncertainty(signal, estimator) -> None:
    """Write :func:`uncertainty_of` to ``signal.metadata.Signal.unmixing_uncertainty``
    (removing a stale one when the estimator has none)."""
    path = f"Signal.{NODE}"
    if signal.metadata.has_item(path):
        signal.metadata.Signal.__delattr__(NODE)
    values = uncertainty_of(estimator)
    if values:
        signal.metadata.set_item(path, values)


def plot_endmember_spread(signal, ax=None):
    """Bar chart of ``endmember_angle_spread`` (rad) per component.

    Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt

    if not signal.metadata.has_item(f"Signal.{NODE}.endmember_angle_spread"):
        raise ValueError(
            "this signal holds no endmember spread; run decomposition with VCA, "
            "MinVolume or BLU first."
        )
    spread = np.asarray(signal.metadata.Signal[NODE]["endmember_angle_spread"])
    if ax is None:
        _, ax = plt.subplots()
    ax.bar(np.arange(spread.size), spread)
    ax.set_xlabel("component")
    ax.set_ylabel("angle spread across starts (rad)")
    return ax
