"""
Unmixing a real core-loss spectrum image
========================================

VCA with its defaults on a Cu/Zn core-loss SI (50 x 40 pixels, 162
channels). The file is not distributed with the package: it is read from a
``shared/data/eels`` folder beside the repository when there is one;
otherwise the example says so and stops.

The figure shows the three endmember spectra VCA finds (spectra of pixels of
the SI) and the abundance map of each, non-negative and summing to one in
every pixel. There is no ground truth here; :doc:`/benchmarks/real_data`
compares algorithms on this SI and on a scene with reference endmembers.
"""

import pathlib

import hyperspy.api as hs
import matplotlib.pyplot as plt

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
