"""Step 5 of pan-sharpening: the returned signals (fused SI, maps, endmembers)."""

from __future__ import annotations

import copy

import numpy as np

from .._compat import lazy_base_signal_class, navigation_axis_dicts

def nav_dicts(signal):
    return navigation_axis_dicts(signal)


def map_signal(data, nav_dicts, title, lazy):
    """Signal whose signal axes are the navigation axes of ``s``."""
    import hyperspy.api as hs

    axes = [dict(d, navigate=False) for d in nav_dicts]
    nd = len(axes)
    if lazy:
        from hyperspy.signals import LazySignal1D, LazySignal2D

        cls = {1: LazySignal1D, 2: LazySignal2D}.get(nd)
        if cls is None:
            cls = lazy_base_signal_class()
    else:
        cls = {1: hs.signals.Signal1D, 2: hs.signals.Signal2D}.get(nd, hs.signals.BaseSignal)
    for d in axes:
        d.pop("_type", None)
    s = cls(data, axes=axes) if nd else cls(data)
    s.metadata.General.title = title
    return s


def stack_signal(data, nav_dicts, title, lazy):
    """Abundance maps: navigation axis "Component index", signal axes = grid."""
    import hyperspy.api as hs

    moved = np.moveaxis(data, -1, 0) if not lazy else data.transpose(
        (data.ndim - 1,) + tuple(range(data.ndim - 1)))
    axes = [{"size": data.shape[-1], "name": "Component index", "navigate": True}]
    axes += [dict(d, navigate=False) for d in nav_dicts]
    for d in axes:
        d.pop("_type", None)
    nd = len(nav_dicts)
    if lazy:
        from hyperspy.signals import LazySignal1D, LazySignal2D

        cls = {1: LazySignal1D, 2: LazySignal2D}.get(nd)
    else:
        cls = {1: hs.signals.Signal1D, 2: hs.signals.Signal2D}.get(nd)
    if cls is None:
        cls = hs.signals.BaseSignal
        axes = None
    s = cls(moved, axes=axes) if axes else cls(moved)
    s.metadata.General.title = title
    return s


def spectra_signal(data, nav_dicts, energy_dict, metadata, lazy):
    import hyperspy.api as hs

    axes = [dict(d) for d in nav_dicts] + [dict(energy_dict)]
    for d in axes:
        d.pop("_type", None)
    if lazy:
        from hyperspy.signals import LazySignal1D

        s = LazySignal1D(data, axes=axes, metadata=metadata)
    else:
        s = hs.signals.Signal1D(data, axes=axes, metadata=metadata)
    s.set_signal_type(metadata.get("Signal", {}).get("signal_type", "EELS") or "EELS")
    return s


def fused_result(self, other, plan_e, record, fused_data, A, rms, chi2, lazy, return_report):
    """The fused EELS signal and, with ``return_report``, the report's signals."""
    k = int(record["n_components"])
    n_out = plan_e.energy.size
    energy_ax = self.axes_manager.signal_axes[0]  # the output is on self's axis
    energy_dict = energy_ax.get_axis_dictionary()
    energy_dict.update(offset=float(plan_e.energy[0]), size=n_out, navigate=False)
    metadata = copy.deepcopy(self.metadata.as_dictionary())
    title = metadata.get("General", {}).get("title", "") or "spectrum image"
    metadata.setdefault("General", {})["title"] = f"Pan-sharpened {title}"
    metadata.setdefault("Signal", {})["pan_sharpen"] = record
    navigation = nav_dicts(self)
    fused = spectra_signal(fused_data, navigation, energy_dict, metadata, lazy)
    if not return_report:
        return fused, None
    endmembers = spectra_signal(
        record["endmembers"],
        [{"size": k, "name": "Component index", "navigate": True}],
        energy_dict,
        {"General": {"title": f"Pan-sharpening endmembers ({record['algorithm']})"},
         "Signal": {"signal_type": metadata.get("Signal", {}).get("signal_type", "EELS")}},
        False,
    )
    report = {
        "abundances": stack_signal(A, navigation, "Pan-sharpening abundances", lazy),
        "endmembers": endmembers,
        "residual": map_signal(rms, navigation, "Pan-sharpening RMS residual", lazy),
        "reduced_chi2": map_signal(chi2, navigation, "Pan-sharpening reduced chi-square", lazy),
    }
    return fused, report
