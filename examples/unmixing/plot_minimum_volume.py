"""
A phase without pure pixels: VCA against MinVolume
==================================================

A support film that lies under every particle, or a layer thinner than the
probe, never appears pure in a spectrum image. Here the third phase of the
chequerboard SI never exceeds an abundance of 0.6. VCA takes its endmembers
from the pixels, so it returns a mixed spectrum for that phase;
``MinVolume`` looks for the smallest simplex that encloses the pixels and
finds the missing vertex where the two facets of the data meet.
"""

import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix
from hspy_unmix.metrics import match_components, unmixing_scores
from hspy_unmix.synthetic import chequerboard_si

s, truth = chequerboard_si(n_components=3, impure_components={2: 0.6}, random_state=0)
X = s.data.reshape(-1, s.data.shape[-1]).astype(float)
print("largest abundance of each phase:", truth.flat_abundances.max(axis=0).round(2))

# %%
# Fit both and score them against the ground truth.
fits = {}
for name, estimator in [("VCA", hspy_unmix.VCA(3, random_state=0)),
                        ("MinVolume", hspy_unmix.MinVolume(3, random_state=0))]:
    abundances = estimator.fit_transform(X)
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances,
                             estimator.components_, abundances)
    fits[name] = estimator
    print(f"{name:<10} SAD per phase (rad) {np.round(scores['sad'], 3)}  "
          f"abundance NMSE {scores['nmse_mean']:.4f}")

# %%
# The figure shows, left, the pixels (grey) projected on their two principal
# directions, with the triangle (simplex) whose corners are the endmembers of
# each method and the true one: VCA's third corner sits on the data, at the
# most extreme mixed pixel; MinVolume's reaches the true corner. Right: the
# spectrum each method returns for the phase without pure pixels, against
# the true spectrum.
mean = X.mean(axis=0)
basis = np.linalg.svd(X - mean, full_matrices=False)[2][:2].T


def project(spectra):
    return (spectra - mean) @ basis


fig, (ax, ax_spec) = plt.subplots(1, 2, figsize=(10, 4.5))
pixels = project(X)
ax.scatter(pixels[:, 0], pixels[:, 1], s=2, color="0.6", label="pixels")
for name, spectra, style in [("truth", truth.endmembers, "k-"),
                             ("VCA", fits["VCA"].components_, "C0--"),
                             ("MinVolume", fits["MinVolume"].components_, "C3-")]:
    corners = project(spectra)
    closed = np.vstack([corners, corners[:1]])
    ax.plot(closed[:, 0], closed[:, 1], style, label=name)
ax.set_xlabel("principal direction 1 (counts)")
ax.set_ylabel("principal direction 2 (counts)")
ax.legend(fontsize="small")
ax.set_title("data and simplices")

energy = s.axes_manager.signal_axes[0].axis
impure = 2
for name, style in [("VCA", "C0--"), ("MinVolume", "C3-")]:
    components = fits[name].components_
    match = match_components(truth.endmembers, components)[impure]
    ax_spec.plot(energy, components[match], style, label=name)
ax_spec.plot(energy, truth.endmembers[impure], "k:", label="truth")
ax_spec.set_xlabel("Energy loss (eV)")
ax_spec.set_ylabel("Intensity (counts per channel)")
ax_spec.set_title(f"{truth.names[impure]}: phase without pure pixels")
ax_spec.legend(fontsize="small")
fig.tight_layout()
plt.show()
