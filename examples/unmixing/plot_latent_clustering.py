"""
Clustering autoencoder latent codes
===================================

A plain autoencoder (``"AE"``) compresses each spectrum of the chequerboard
SI (32 x 32 pixels, 3 phases) to three latent values; k-means on those codes,
through HyperSpy's ``cluster_analysis``, separates the phases. The clusters
are compared with the phase that dominates each pixel in the ground truth.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from scipy.optimize import linear_sum_assignment

from hspy_unmix import KMeansClustering
from hspy_unmix.synthetic import chequerboard_si

s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
s.decomposition(algorithm="AE", output_dimension=3, epochs=20, random_state=0,
                print_info=False)
s.cluster_analysis("decomposition", number_of_components=3,
                   algorithm=KMeansClustering(n_clusters=3, random_state=0))
labels = s.learning_results.cluster_labels.argmax(axis=0).reshape(32, 32)
dominant = truth.abundances.argmax(axis=-1)

# %%
# Cluster numbers are arbitrary: give each cluster the name of the phase it
# overlaps most (optimal one-to-one matching), so that colours agree.
overlap = np.array([[np.sum((labels == c) & (dominant == k)) for k in range(3)]
                    for c in range(3)])
clusters, phases = linear_sum_assignment(-overlap)
named = np.empty_like(labels)
for c, k in zip(clusters, phases):
    named[labels == c] = k
agreement = np.mean(named == dominant)
print(f"pixels whose cluster is their dominant phase: {agreement:.1%}")

# %%
# The figure shows, top left, the dominant phase of each pixel in the ground
# truth; top right, the k-means cluster of each pixel's latent code, named
# after the phase it matches; bottom, the pixels where the two differ (at the
# boundaries between phases, where no phase dominates clearly).
nav = s.axes_manager.navigation_axes
extent = [0, nav[0].size * nav[0].scale, nav[1].size * nav[1].scale, 0]
cmap = ListedColormap(plt.get_cmap("tab10").colors[:3])
norm = BoundaryNorm(np.arange(-0.5, 3), 3)

fig, axes = plt.subplots(2, 2, figsize=(9, 7.5), layout="constrained")
axes[1, 1].set_axis_off()
axes = [axes[0, 0], axes[0, 1], axes[1, 0]]
for ax, image, title in zip(axes[:2], (dominant, named),
                            ("dominant true phase", "k-means on latent codes")):
    shown = ax.imshow(image, cmap=cmap, norm=norm, extent=extent)
    ax.set_title(title)
colorbar = fig.colorbar(shown, ax=axes[1], ticks=range(3))
colorbar.ax.set_yticklabels(truth.names)
differ = axes[2].imshow(named != dominant, cmap="gray_r", vmin=0, vmax=1, extent=extent)
axes[2].set_title(f"different ({1 - agreement:.1%} of pixels)")
fig.colorbar(differ, ax=axes[2], ticks=[0, 1]).ax.set_yticklabels(
    ["same", "different"])
for ax in axes:
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
plt.show()
