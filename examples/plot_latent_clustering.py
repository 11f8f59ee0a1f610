"""
Clustering autoencoder latent codes
===================================

A plain autoencoder compresses the spectra of the chequerboard SI to a few
latent values; k-means on those codes, through HyperSpy's
``cluster_analysis``, separates the phases.
"""

import matplotlib.pyplot as plt

from hspy_unmix import KMeansClustering
from hspy_unmix.synthetic import chequerboard_si

s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
s.decomposition(algorithm="AE", output_dimension=3, epochs=20, random_state=0,
                print_info=False)
s.cluster_analysis("decomposition", number_of_components=3,
                   algorithm=KMeansClustering(n_clusters=3, random_state=0))
labels = s.learning_results.cluster_labels.argmax(axis=0).reshape(32, 32)

fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
axes[0].imshow(truth.abundances.argmax(axis=-1).reshape(32, 32))
axes[0].set_title("dominant true component")
axes[1].imshow(labels)
axes[1].set_title("k-means on latent codes")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()
