"""
Unmixing the synthetic chequerboard SI
======================================

Three algorithms on the chequerboard spectrum image of the Brun, Lambert and
Bocher protocol, scored against the ground truth with the spectral angle
distance (SAD) and the abundance NMSE.
"""

import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix
from hspy_unmix.metrics import unmixing_scores
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
rows = []
for name, params in runs.items():
    s.decomposition(algorithm=name, output_dimension=3, random_state=0,
                    print_info=False, **params)
    lr = s.learning_results
    scores = unmixing_scores(truth.endmembers, truth.abundances.reshape(-1, 3),
                             lr.factors.T, lr.loadings)
    rows.append((name, np.degrees(scores["sad_mean"]), scores["nmse_mean"]))

print(f"{'algorithm':<10} {'SAD (deg)':>10} {'NMSE':>8}")
for name, sad, nmse in rows:
    print(f"{name:<10} {sad:>10.2f} {nmse:>8.4f}")

# %%
# Endmembers and abundance maps of the last run.
energy = s.axes_manager.signal_axes[0].axis
fig, axes = plt.subplots(1, 4, figsize=(13, 3))
for i in range(3):
    axes[0].plot(energy, s.learning_results.factors[:, i], label=f"component {i}")
    axes[i + 1].imshow(s.learning_results.loadings[:, i].reshape(32, 32))
    axes[i + 1].set_title(f"abundance {i}")
    axes[i + 1].set_axis_off()
axes[0].set_xlabel("Energy loss (eV)")
axes[0].legend(fontsize="small")
fig.tight_layout()
