"""
HAADF-guided pan-sharpening of a real core-loss spectrum image
==============================================================

The Cu/Zn core-loss SI (50 x 40 pixels) and the HAADF image recorded with
it: endmembers from the SI (NMF), abundance maps solved with the image as a
guide through a fitted model ``offset + (sum_k w_k a_k) ** gamma``, beside
the SI-only maps, with the reduced chi-square of both fits (the camera's
gain, signal units per electron, is estimated from the SI: about 3.5 here,
and the fit counts the spectra in electrons). The files are
not distributed with the package: they are read from a ``shared/data/eels``
folder beside the repository when there is one; otherwise the example says
so and stops.

The figure shows the HAADF image, the abundance map of each of the two
components from the SI alone (top) and guided by the HAADF image (bottom),
on one colour scale per component (NMF's abundances have no fixed scale:
they are not constrained to sum to one), and the spectrum of one pixel before
and after fusion.
"""

import pathlib

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix  # noqa: F401  (adds pan_sharpen to EELS signals)

names = ("CuZn_coreloss_SI_50x40.hspy", "CuZn_HAADF_50x40.hspy")
here = pathlib.Path.cwd()
folder = next((d / "shared/data/eels" for d in (here, *here.parents)
               if all((d / "shared/data/eels" / n).exists() for n in names)), None)
if folder is None:
    print("The CuZn SI and HAADF files are not available here; nothing to fuse.")
else:
    s = hs.load(folder / names[0])
    s.set_signal_type("EELS")
    s.change_dtype("float64")  # camera counts are integers
    haadf = hs.load(folder / names[1])
    result = s.pan_sharpen(haadf, n_components=2, random_state=0, return_report=True)
    record = result.fused.metadata.Signal.pan_sharpen
    model = record.image_model
    print(f"image model: gamma = {model.gamma:.2f}, relative weights = "
          f"{np.round(model.relative_weights, 2)}, R^2 = {model.r_squared:.3f}")
    print(f"reduced chi-square: fused {record.reduced_chi2:.2f}, "
          f"SI only {record.reduced_chi2_si_only:.2f} (against the noise of "
          f"{record.gain:.2f} signal units per electron, estimated from the SI)")
    print(f"thickness prior's weight, estimated from the SI: {record.thickness_smoothness:.3g}")

    fused = np.asarray(result.abundances.data)
    si_only = np.asarray(result.si_only_abundances.data)
    nav = s.axes_manager.navigation_axes
    extent = [0, nav[0].size * nav[0].scale, nav[1].size * nav[1].scale, 0]
    units = nav[0].units
    fig, axes = plt.subplots(2, 3, figsize=(10, 7.5), layout="constrained")
    shown = axes[0, 0].imshow(haadf.data, cmap="gray", extent=extent)
    fig.colorbar(shown, ax=axes[0, 0], shrink=0.8, label="HAADF (counts)")
    axes[0, 0].set_title("HAADF")
    for k in range(2):
        vmax = np.percentile(np.concatenate([si_only[k].ravel(), fused[k].ravel()]), 99.5)
        for row, maps, label in ((0, si_only, "SI only"), (1, fused, "HAADF-guided")):
            image = axes[row, k + 1].imshow(maps[k], vmin=0, vmax=vmax, extent=extent)
            axes[row, k + 1].set_title(f"{label}, component {k}")
            axes[row, k + 1].set_xlabel(f"x ({units})")
        fig.colorbar(image, ax=axes[:, k + 1], shrink=0.6, label=f"abundance {k}")
    axes[0, 0].set_ylabel(f"y ({units})")
    axes[1, 1].set_ylabel(f"y ({units})")
    energy = s.axes_manager.signal_axes[0].axis
    axes[1, 0].plot(energy, s.data[25, 20], lw=0.8, color="0.5", label="SI pixel (25, 20)")
    axes[1, 0].plot(energy, result.fused.data[25, 20], label="fused")
    axes[1, 0].set_xlabel("Energy loss (eV)")
    axes[1, 0].set_ylabel("Intensity (counts)")
    axes[1, 0].legend(fontsize=9)
    plt.show()
