"""
Unmixing the synthetic chequerboard SI
======================================

Three algorithms on a 32 x 32 pixel version of the chequerboard spectrum
image of the Brun, Lambert and Bocher protocol (3 phases, Poisson noise,
every phase pure in the centre of its squares), scored against the ground
truth: the spectral angle distance (SAD) of the endmembers and the NMSE of
the abundance maps. VCA runs with its defaults; HALS and NMF_SO run with one
start and 100 iterations only, to keep the example short (the
:doc:`NMF benchmark </benchmarks/nmf>` uses their defaults on 64 x 64
pixels).
"""

import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix  # noqa: F401  (adds the algorithms to EELS signals)
from hspy_unmix.metrics import match_components, unmixing_scores
from hspy_unmix.synthetic import chequerboard_si

s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
print(s)

# %%
# Run each algorithm through HyperSpy's ``decomposition`` and score it.
runs = {
    "VCA": {},
    "HALS": {"n_starts": 1, "max_iter": 100},
    "NMF_SO": {"n_starts": 1, "max_iter": 100},
}
results = {}
print(f"{'algorithm':<10} {'SAD (rad)':>10} {'NMSE':>8}")
for name, params in runs.items():
    s.decomposition(algorithm=name, output_dimension=3, random_state=0,
                    print_info=False, **params)
    factors = s.learning_results.factors.T       # (3, channels): endmembers
    loadings = s.learning_results.loadings       # (pixels, 3): abundances
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances, factors, loadings)
    results[name] = factors, loadings
    print(f"{name:<10} {scores['sad_mean']:>10.4f} {scores['nmse_mean']:>8.4f}")

# %%
# The figure shows the VCA result against the truth. Top: the three
# endmember spectra found by VCA (solid lines) over the true ones (dashed;
# they coincide). Below: VCA's abundance map of each phase (middle row) above
# the true map (bottom row), matched phase by phase, on one 0-1 colour scale.
factors, loadings = results["VCA"]
order = match_components(truth.endmembers, factors)  # VCA component of each phase
energy = s.axes_manager.signal_axes[0].axis
nav = s.axes_manager.navigation_axes
extent = [0, nav[0].size * nav[0].scale, nav[1].size * nav[1].scale, 0]

fig = plt.figure(figsize=(9, 10), layout="constrained")
grid = fig.add_gridspec(3, 3, height_ratios=[1.1, 1, 1])
ax_spectra = fig.add_subplot(grid[0, :])
for k, name in enumerate(truth.names):
    line, = ax_spectra.plot(energy, factors[order[k]], label=f"{name} (VCA)")
    ax_spectra.plot(energy, truth.endmembers[k], "--", color=line.get_color(),
                    label=f"{name} (truth)")
ax_spectra.set_xlabel("Energy loss (eV)")
ax_spectra.set_ylabel("Intensity (counts per channel)")
ax_spectra.set_title("Endmembers")
ax_spectra.legend(ncols=2, fontsize=11)

maps = {"VCA": loadings[:, order].reshape(32, 32, 3), "truth": truth.abundances}
for row, (label, stack) in enumerate(maps.items()):
    for k, name in enumerate(truth.names):
        ax = fig.add_subplot(grid[row + 1, k])
        image = ax.imshow(stack[..., k], vmin=0, vmax=1, extent=extent)
        ax.set_title(f"{name}, {label}")
        ax.set_xlabel("x (nm)" if row == 1 else "")
        ax.set_ylabel("y (nm)" if k == 0 else "")
fig.colorbar(image, ax=fig.axes[1:], shrink=0.7, label="abundance")
plt.show()
