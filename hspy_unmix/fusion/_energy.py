"""Step 1 of pan-sharpening: the output channels and how ``other``'s reach them.

The output is on ``self``'s energy axis: its channels inside ``other``'s
range (up to one channel of ``other`` beyond it). ``self``'s spectra are
used as they are (never interpolated, so their noise stays independent
between channels); what comes from ``other`` (its mean spectrum, the
endmembers) is carried onto ``self``'s channels by a linear map that keeps
counts per eV (see the Notes of
:func:`~hspy_unmix.fusion.pan_sharpening.pan_sharpen`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Minimum fraction of the narrower energy range the overlap must cover.
MIN_OVERLAP_FRACTION = 0.5


@dataclass
class EnergyPlan:
    """How both energy axes map onto the output channels, ``self``'s own.

    The output channels are ``self``'s channels ``self_slice``; ``other``'s
    channels ``other_slice`` are carried onto them by ``resample``.
    """

    other_slice: slice  # channels of other that reach the output
    self_slice: slice  # the output channels: these channels of self
    energy: np.ndarray  # output channel energies, in self's units
    resample: object  # sparse (C_other_used, C_out): other's counts -> self's channels
    ratio: float  # dispersion ratio scale(other) / scale(self)
    interpolation: str  # "none", "linear" or "rebin"

    def apply(self, flat: np.ndarray) -> np.ndarray:
        """Spectra of ``self`` (n, C_s) on the output channels (n, C_out), float64."""
        return np.asarray(np.asarray(flat)[:, self.self_slice], dtype=np.float64)

    def from_other(self, spectra: np.ndarray) -> np.ndarray:
        """Spectra on ``other``'s channels ``other_slice`` (n, C_o) onto the output channels.

        Counts per channel of ``other`` become counts per channel of ``self``
        (a channel half as wide receives half the counts).
        """
        spectra = np.asarray(spectra, dtype=np.float64)
        return np.asarray((self.resample.T @ spectra.T).T)


def uniform_axis(signal, name):
    ax = signal.axes_manager.signal_axes[0]
    if not ax.is_uniform:
        raise ValueError(
            f"the energy axis of {name} is not uniform; pan_sharpen needs uniform "
            "energy axes (offset + scale * index). Convert it first, e.g. "
            "with axis.convert_touniform_axis()."
        )
    if not ax.scale > 0:
        raise ValueError(f"the energy axis of {name} must increase (scale {ax.scale}).")
    return float(ax.offset), float(ax.scale), int(ax.size)


#: Energy units understood on the spectral axes, in eV.
ENERGY_UNITS = {"eV": 1.0, "keV": 1e3, "meV": 1e-3}


def electronvolts_per_unit(signal, name) -> float:
    """eV per unit of the signal's energy axis; refuse axes that are not energies.

    An axis without units is taken to be in eV (with a warning) unless it is
    uncalibrated (offset 0, scale 1: channel numbers), which is refused.
    """
    import warnings

    ax = signal.axes_manager.signal_axes[0]
    units = ax.units
    text = "" if units is None else str(units).strip()
    if text in ("", "<undefined>", "Undefined"):
        if getattr(ax, "is_uniform", True) and ax.offset == 0 and ax.scale == 1:
            raise ValueError(
                f"the energy axis of {name} is uncalibrated (offset 0, scale 1, no "
                f"units: channel numbers 0 to {ax.size - 1}); calibrate it (axis.offset, "
                "axis.scale and axis.units = 'eV') before pan_sharpen."
            )
        warnings.warn(
            f"the energy axis of {name} has no units; assuming eV.", UserWarning,
            stacklevel=4,
        )
        return 1.0
    if text not in ENERGY_UNITS:
        raise ValueError(
            f"the signal axis of {name} is in {text!r}, not an energy; pan_sharpen "
            f"needs energy-loss axes in {', '.join(ENERGY_UNITS)}."
        )
    return ENERGY_UNITS[text]


def energy_plan(self, other) -> EnergyPlan:
    """Output channels (``self``'s) and the map from ``other``'s channels onto them.

    Both axes are compared in eV (keV and meV converted); the output channels
    keep ``self``'s units.
    """
    from scipy import sparse

    f1 = electronvolts_per_unit(self, "the signal")
    f2 = electronvolts_per_unit(other, "other")
    o1, d1, n1 = uniform_axis(self, "the signal")
    o2, d2, n2 = uniform_axis(other, "other")
    o1, d1, o2, d2 = o1 * f1, d1 * f1, o2 * f2, d2 * f2
    lo1, hi1 = o1, o1 + d1 * (n1 - 1)
    lo2, hi2 = o2, o2 + d2 * (n2 - 1)
    lo, hi = max(lo1, lo2), min(hi1, hi2)
    narrower = min(hi1 - lo1, hi2 - lo2)
    overlap = hi - lo
    if overlap <= 0 or overlap < MIN_OVERLAP_FRACTION * narrower:
        raise ValueError(
            f"the energy ranges overlap too little: signal {lo1:g}-{hi1:g} eV, other "
            f"{lo2:g}-{hi2:g} eV; the overlap ({max(overlap, 0):g}) must cover at least "
            f"{MIN_OVERLAP_FRACTION:.0%} of the narrower range ({narrower:g})."
        )
    if n2 == 1:
        raise ValueError("other has a single energy channel.")
    tol = 1e-6 * min(d1, d2)
    energy_self = o1 + d1 * np.arange(n1)
    # self's channels less than one channel of other beyond other's range
    inside = np.flatnonzero((energy_self > lo2 - d2 + tol) & (energy_self < hi2 + d2 - tol))
    sl = slice(int(inside[0]), int(inside[-1]) + 1)
    energy = energy_self[sl]
    pos = (energy - o2) / d2  # output channel centres in other's channel units
    ratio = d2 / d1
    n_out = energy.size
    cols = np.arange(n_out)
    if abs(ratio - 1.0) < 1e-9 and np.allclose(pos, np.round(pos), atol=1e-6, rtol=0):
        rows = np.clip(np.round(pos).astype(np.intp), 0, n2 - 1)
        vals = np.ones(n_out)
        kind = "none"
    elif ratio >= 1.0:
        # other's counts per eV, linear between its channel centres (constant
        # beyond the first and last), sampled at self's centres, times d1
        p = np.clip(pos, 0.0, n2 - 1.0)
        left = np.minimum(np.floor(p).astype(np.intp), n2 - 2)
        w = p - left
        rows = np.concatenate([left, left + 1])
        cols = np.concatenate([cols, cols])
        vals = np.concatenate([1.0 - w, w]) / ratio
        kind = "linear"
    else:
        # other's counts per eV constant over each of its channels (the first
        # and last extended outwards), integrated over each of self's channels
        half = 0.5 / ratio
        first = np.clip(np.floor(pos - half + 0.5).astype(np.intp), 0, n2 - 1)
        last = np.clip(np.floor(pos + half + 0.5).astype(np.intp), 0, n2 - 1)
        width = int((last - first).max()) + 1
        j = first[:, None] + np.arange(width)[None, :]
        valid = j <= last[:, None]
        j = np.minimum(j, n2 - 1)
        lower = np.where(j == 0, -np.inf, j - 0.5)
        upper = np.where(j == n2 - 1, np.inf, j + 0.5)
        length = np.minimum(upper, (pos + half)[:, None]) - np.maximum(lower, (pos - half)[:, None])
        length = np.where(valid, np.clip(length, 0.0, None), 0.0)
        rows = j.ravel()
        cols = np.repeat(cols, width)
        vals = length.ravel()
        kind = "rebin"
    keep = vals > 0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    j0, j1 = int(rows.min()), int(rows.max()) + 1
    resample = sparse.csr_matrix((vals, (rows - j0, cols)), shape=(j1 - j0, n_out))
    return EnergyPlan(slice(j0, j1), sl, energy / f1, resample, ratio, kind)
