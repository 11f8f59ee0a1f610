"""Returned signals of the image mode of pan-sharpening (spectra on the image's grid)."""

from __future__ import annotations

import copy

import numpy as np

from ._output import map_signal, spectra_signal, stack_signal


def _image_grid_dicts(image):
    """The image's signal axes as navigation axis dictionaries, numpy order."""
    dicts = []
    for ax in image.axes_manager._axes:
        d = ax.get_axis_dictionary()
        d["navigate"] = True
        dicts.append(d)
    return dicts


def image_mode_result(self, image, record, A, A0, E, rms, chi2, estimator, lazy, chunk,
                      return_report):
    from .._compat import navigation_axis_dicts
    from .pan_sharpening import PanSharpenResult

    k = E.shape[0]
    energy_dict = self.axes_manager.signal_axes[0].get_axis_dictionary()
    energy_dict["navigate"] = False
    metadata = copy.deepcopy(self.metadata.as_dictionary())
    title = metadata.get("General", {}).get("title", "") or "spectrum image"
    metadata.setdefault("General", {})["title"] = f"Pan-sharpened {title}"
    metadata.setdefault("Signal", {})["pan_sharpen"] = record
    grid = _image_grid_dicts(image)
    if lazy:
        import dask.array as da

        A_out = da.from_array(A, chunks=(chunk, chunk, k))
        fused_data = A_out.map_blocks(lambda a: a @ E, chunks=A_out.chunks[:2] + ((E.shape[1],),),
                                      dtype=np.float64)
    else:
        A_out = A
        fused_data = A @ E
    fused = spectra_signal(fused_data, grid, energy_dict, metadata, lazy)
    if not return_report:
        return fused
    signal_type = metadata.get("Signal", {}).get("signal_type", "EELS")
    endmembers = spectra_signal(
        E, [{"size": k, "name": "Component index", "navigate": True}], energy_dict,
        {"General": {"title": f"Pan-sharpening endmembers ({record['algorithm']})"},
         "Signal": {"signal_type": signal_type}}, False)
    si_grid = navigation_axis_dicts(self)
    abundances = stack_signal(A_out, grid, "Pan-sharpening abundances (image grid)", lazy)
    si_only = stack_signal(A0, si_grid, "SI-only abundances", False)
    return PanSharpenResult(
        fused=fused,
        abundances=abundances,
        endmembers=endmembers,
        residual=map_signal(rms, si_grid, "Pan-sharpening RMS residual (SI grid)", False),
        reduced_chi2=map_signal(chi2, si_grid, "Pan-sharpening reduced chi-square (SI grid)",
                                False),
        estimator=estimator,
        si_only_abundances=si_only,
    )
