"""Step 1 of pan-sharpening: map the signal's energy channels onto the other's.

The overlap of the two uniform energy axes is found and the spectra of the
signal are linearly interpolated at the output channels, rescaled by the
dispersion ratio (see the Notes of :func:`~hspy_unmix.fusion.pan_sharpening.pan_sharpen`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Minimum fraction of the narrower energy range the overlap must cover.
MIN_OVERLAP_FRACTION = 0.5


@dataclass
class EnergyPlan:
    """How ``s``'s channels map onto the output (``other``'s) channels."""

    other_slice: slice
    energy: np.ndarray  # output channel energies
    index0: np.ndarray | None  # left neighbour in s for each output channel
    weight: np.ndarray | None  # linear weight of the right neighbour
    ratio: float  # dispersion ratio other/s
    interpolation: str  # "none" or "linear"
    take: np.ndarray | None  # channels of s used directly when no interpolation

    def apply(self, flat: np.ndarray) -> np.ndarray:
        """Spectra of ``s`` (n, C_s) on the output channels (n, C_out), float64."""
        flat = np.asarray(flat, dtype=np.float64)
        if self.take is not None:
            return flat[:, self.take]
        left = flat[:, self.index0]
        right = flat[:, self.index0 + 1]
        return (left + self.weight * (right - left)) * self.ratio


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
    # Both axes in eV (keV and meV converted); the output channels keep
    # ``other``'s units.
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
    tol = 1e-6 * min(d1, d2)
    energy_other = o2 + d2 * np.arange(n2)
    inside = np.flatnonzero((energy_other >= lo - tol) & (energy_other <= hi + tol))
    sl = slice(int(inside[0]), int(inside[-1]) + 1)
    energy = energy_other[sl]
    pos = (energy - o1) / d1
    energy = energy / f2  # in other's units, as the output axis
    ratio = d2 / d1
    if abs(ratio - 1.0) < 1e-9 and np.allclose(pos, np.round(pos), atol=1e-6, rtol=0):
        take = np.clip(np.round(pos).astype(np.intp), 0, n1 - 1)
        return EnergyPlan(sl, energy, None, None, 1.0, "none", take)
    index0 = np.clip(np.floor(pos + 1e-9).astype(np.intp), 0, max(n1 - 2, 0))
    weight = np.clip(pos - index0, 0.0, 1.0)
    if n1 == 1:
        raise ValueError("the signal has a single energy channel.")
    return EnergyPlan(sl, energy, index0, weight, ratio, "linear", None)
