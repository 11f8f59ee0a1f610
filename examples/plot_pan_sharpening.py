"""
Pan-sharpening two spectrum images
==================================

A fine, low-dose SI and a binned, high-dose SI of the same region: the
endmembers come from the high-fidelity SI, the abundances from the fine one.
"""

import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix  # noqa: F401
from hspy_unmix.synthetic import pan_sharpening_pair

fine, coarse, truth = pan_sharpening_pair(n_components=3, shape=(32, 32), random_state=0)
fused = fine.pan_sharpen(coarse, n_components=3)
print(fine, coarse, fused, sep="\n")

fig, axes = plt.subplots(1, 3, figsize=(11, 3))
for ax, sig, title in zip(axes, (fine, coarse, fused), ("fine, low dose", "coarse, high dose",
                                                         "pan-sharpened")):
    ax.imshow(np.asarray(sig.data).sum(axis=-1))
    ax.set_title(title)
    ax.set_axis_off()
fig.tight_layout()
