"""
Unmixing a real core-loss spectrum image
========================================

VCA on a Cu/Zn core-loss SI (50 x 40 pixels). The file is read from
``../shared/data/eels/`` beside the repository when it is there; otherwise
the example says so and stops.
"""

import pathlib

import hyperspy.api as hs
import matplotlib.pyplot as plt

import hspy_unmix  # noqa: F401

candidates = [
    pathlib.Path.cwd().parent / "shared/data/eels/CuZn_coreloss_SI_50x40.hspy",
    pathlib.Path.cwd().parent.parent / "shared/data/eels/CuZn_coreloss_SI_50x40.hspy",
]
path = next((p for p in candidates if p.exists()), None)
if path is None:
    print("CuZn_coreloss_SI_50x40.hspy is not available here; nothing to unmix.")
else:
    s = hs.load(path)
    s.set_signal_type("EELS")
    s.change_dtype("float64")  # camera counts are integers
    print(s)
    s.decomposition(algorithm="VCA", output_dimension=3, random_state=0,
                    print_info=False)
    factors = s.learning_results.factors
    loadings = s.learning_results.loadings
    energy = s.axes_manager.signal_axes[0].axis
    nav_shape = s.axes_manager.navigation_shape[::-1]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3))
    for i in range(3):
        axes[0].plot(energy, factors[:, i], label=f"component {i}")
        axes[i + 1].imshow(loadings[:, i].reshape(nav_shape))
        axes[i + 1].set_title(f"abundance {i}")
        axes[i + 1].set_axis_off()
    axes[0].set_xlabel(f"Energy loss ({s.axes_manager.signal_axes[0].units})")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
