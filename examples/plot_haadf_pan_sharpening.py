"""
HAADF-guided pan-sharpening of a real core-loss spectrum image
==============================================================

The Cu/Zn core-loss SI (50 x 40 pixels) and the HAADF image recorded with
it: endmembers from the SI (NMF), abundance maps solved with the image as a
guide through a fitted model ``offset + (sum_k w_k a_k) ** gamma``, beside
the SI-only maps, with the reduced chi-square of both fits. The files are
read from ``../shared/data/eels/`` beside the repository when they are
there; otherwise the example says so and stops.
"""

import pathlib

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix  # noqa: F401

names = ("CuZn_coreloss_SI_50x40.hspy", "CuZn_HAADF_50x40.hspy")
folders = [pathlib.Path.cwd().parent / "shared/data/eels",
           pathlib.Path.cwd().parent.parent / "shared/data/eels"]
folder = next((d for d in folders if all((d / n).exists() for n in names)), None)
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
          f"SI only {record.reduced_chi2_si_only:.2f}")

    fused = np.asarray(result.abundances.data)
    si_only = np.asarray(result.si_only_abundances.data)
    fig, axes = plt.subplots(2, 3, figsize=(9, 6))
    axes[0, 0].imshow(haadf.data, cmap="gray")
    axes[0, 0].set_title("HAADF")
    for k in range(2):
        axes[0, k + 1].imshow(si_only[k])
        axes[0, k + 1].set_title(f"SI only, component {k}")
        axes[1, k + 1].imshow(fused[k])
        axes[1, k + 1].set_title(f"HAADF-guided, component {k}")
    energy = s.axes_manager.signal_axes[0].axis
    axes[1, 0].plot(energy, s.data[25, 20], lw=0.8, label="SI pixel (25, 20)")
    axes[1, 0].plot(energy, result.fused.data[25, 20], label="fused")
    axes[1, 0].set_xlabel("Energy loss (eV)")
    axes[1, 0].legend(fontsize=7)
    for ax in axes.flat[1:]:
        ax.axis("off") if ax is not axes[1, 0] else None
    fig.tight_layout()
    plt.show()
