"""
Unmixing a real core-loss spectrum image
========================================

VCA with its defaults on a Cu/Zn core-loss SI (50 x 40 pixels, 162
channels). The file is not distributed with the package: it is read from a
``shared/data/eels`` folder beside the repository when there is one;
otherwise the example says so and stops.

The first figure shows the three endmember spectra VCA finds (spectra of
pixels of the SI) and the abundance map of each, non-negative and summing to
one in every pixel. The second separates copper from zinc oxide: with the
power-law background removed and the energy window cut to the two edges, two
MALS components hold Cu L2,3 (931 eV) and Zn L2,3 (1020 eV) apart, at every
seed.
There is no ground truth here; :doc:`/benchmarks/real_data` compares
algorithms on this SI (how well each separates Cu from Zn, with and without
this recipe) and on a scene with reference endmembers.
"""

import pathlib

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix  # noqa: F401  (adds the algorithms to EELS signals)

NAME = "CuZn_coreloss_SI_50x40.hspy"
here = pathlib.Path.cwd()
path = next((folder / "shared/data/eels" / NAME for folder in (here, *here.parents)
             if (folder / "shared/data/eels" / NAME).exists()), None)
if path is None:
    print(f"{NAME} is not available here; nothing to unmix.")
else:
    s = hs.load(path)
    s.set_signal_type("EELS")
    s.change_dtype("float64")  # camera counts are integers
    print(s)
    s.decomposition(algorithm="VCA", output_dimension=3, random_state=0,
                    print_info=False)
    estimator = s.unmixing_estimator
    print(f"spectra left out of the endmember search (spikes, hot pixels): "
          f"{estimator.n_outliers_}")

    # endmember spectra (left) and abundance maps on one colour scale
    factors = s.learning_results.factors
    loadings = s.learning_results.loadings
    signal_axis = s.axes_manager.signal_axes[0]
    nav = s.axes_manager.navigation_axes
    nav_shape = s.axes_manager.navigation_shape[::-1]
    extent = [nav[0].offset, nav[0].offset + nav[0].size * nav[0].scale,
              nav[1].offset + nav[1].size * nav[1].scale, nav[1].offset]

    fig, axes = plt.subplots(2, 2, figsize=(9, 8), layout="constrained")
    axes = axes.ravel()
    for k in range(3):
        axes[0].plot(signal_axis.axis, factors[:, k], label=f"component {k}")
        image = axes[k + 1].imshow(loadings[:, k].reshape(nav_shape), vmin=0, vmax=1,
                                   extent=extent)
        axes[k + 1].set_title(f"component {k}")
        axes[k + 1].set_xlabel(f"x ({nav[0].units})")
        axes[k + 1].set_ylabel(f"y ({nav[1].units})")
    fig.colorbar(image, ax=axes[1:], shrink=0.85, label="abundance")
    axes[0].set_xlabel(f"Energy loss ({signal_axis.units})")
    axes[0].set_ylabel("Intensity (counts)")
    axes[0].set_title("endmembers")
    axes[0].legend(fontsize=11)
    plt.show()

# %%
# Cu and Zn in separate components
# --------------------------------
# In the raw SI every spectrum is mostly the background that decays from
# 700 eV on, so the components differ in background shape as much as in
# edges. The recipe removes it first: a power law fitted before the Cu edge
# (800-925 eV) in every pixel (exspy's ``remove_background``), then the
# energy window 930-1400 eV, which holds the Cu and the Zn L2,3 edges and
# nothing else, and two components, one per phase (Cu metal and ZnO). The
# noise of the background-free spectra has negative values; the
# non-negative methods set them to zero (the warning says how many) without
# changing the signal. MALS (an NMF, started from VCA's endmembers) then gives
# the same two endmembers at every seed: one with the Cu L3 onset at 931 eV,
# one with the Zn L3 onset at 1020 eV. VCA and MinVolume separate the two as
# well, but their Zn endmember is the spectrum of one noisy pixel (see the
# benchmark page for every algorithm).

if path is not None:
    edges = s.remove_background(signal_range=(800.0, 925.0), background_type="PowerLaw",
                                fast=True, show_progressbar=False).isig[930.0:1400.0]
    edges.decomposition(algorithm="MALS", output_dimension=2, random_state=0,
                        print_info=False)
    factors = edges.learning_results.factors
    loadings = edges.learning_results.loadings
    energy = edges.axes_manager.signal_axes[0].axis
    # name the components by the edge that dominates them
    zn_window = (energy >= 1025) & (energy <= 1100)
    order = np.argsort(factors[zn_window].sum(axis=0) / np.abs(factors).sum(axis=0))
    names = ["Cu (metal)", "Zn (ZnO)"]

    fig, axes = plt.subplots(1, 3, figsize=(12, 4), layout="constrained")
    for name, k in zip(names, order):
        axes[0].plot(energy, factors[:, k] / factors[:, k].max(), label=name)
    for onset, edge in ((931, "Cu L$_3$"), (1020, "Zn L$_3$")):
        axes[0].axvline(onset, color="0.5", ls=":", lw=1)
        axes[0].text(onset + 8, 1.02, edge, fontsize=10)
    axes[0].set_xlabel(f"Energy loss ({signal_axis.units})")
    axes[0].set_ylabel("Intensity (scaled to its maximum)")
    axes[0].set_title("endmembers, background removed")
    axes[0].legend(fontsize=10, loc="center right")
    # NMF abundances are amounts, not fractions: each map on its own scale
    for ax, name, k in zip(axes[1:], names, order):
        image = ax.imshow(loadings[:, k].reshape(nav_shape), vmin=0, extent=extent)
        ax.set_title(name)
        ax.set_xlabel(f"x ({nav[0].units})")
        ax.set_ylabel(f"y ({nav[1].units})")
        fig.colorbar(image, ax=ax, shrink=0.8, label="abundance")
    plt.show()
