"""
Pan-sharpening two spectrum images
==================================

Two synthetic acquisitions of the same 16 x 16 nm region: a fine SI
(32 x 32 pixels) at a very low dose, 2 counts per channel in a pure pixel,
and an SI binned 4 x 4 (8 x 8 pixels) at 500 counts per channel.
``pan_sharpen`` takes the endmembers from the high-fidelity SI and solves the
abundances of every fine pixel against them: the result has the fine grid
and the spectral quality of the binned SI. All are scored against the
noise-free fine SI, which the synthetic pair provides.
"""

import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix  # noqa: F401  (adds pan_sharpen to EELS signals)
from hspy_unmix.metrics import mean_spectral_angle, psnr
from hspy_unmix.synthetic import pan_sharpening_pair

fine, coarse, truth = pan_sharpening_pair(n_components=3, shape=(32, 32), random_state=0)
fused = fine.pan_sharpen(coarse, n_components=3)
for label, signal in [("fine SI", fine), ("pan-sharpened", fused)]:
    print(f"{label:<14} PSNR {psnr(truth.clean, signal):5.1f} dB, mean spectral angle "
          f"{mean_spectral_angle(truth.clean, signal, degrees=True):4.1f} deg")

# %%
# The figure shows four jump-ratio maps of the O K edge, which only the CoO
# phase has: the counts from 530 to 580 eV divided by those of the 50 eV
# before the edge (below 1 without oxygen, where the background falls with
# energy). Top: the noisy fine SI and the binned SI; middle: the
# pan-sharpened SI and the noise-free truth; one colour scale for all.
# Bottom: the spectrum of one CoO pixel.
energy = fine.axes_manager.signal_axes[0].axis
edge = (energy >= 530) & (energy < 580)
before = (energy >= 480) & (energy < 530)


def o_k_jump_ratio(data):
    data = np.asarray(data, dtype=float)
    return data[..., edge].sum(axis=-1) / np.maximum(data[..., before].sum(axis=-1), 1)


images = {
    "fine SI (low dose)": o_k_jump_ratio(fine.data),
    "binned SI (high dose)": o_k_jump_ratio(coarse.data),
    "pan-sharpened": o_k_jump_ratio(fused.data),
    "truth (noise-free)": o_k_jump_ratio(truth.clean),
}
vmin, vmax = np.percentile(images["truth (noise-free)"], [0.5, 99.5])
vmin, vmax = vmin - 0.5 * (vmax - vmin), vmax + 0.5 * (vmax - vmin)
side = 32 * fine.axes_manager.navigation_axes[0].scale
extent = [0, side, side, 0]

fig, axes = plt.subplot_mosaic([["a", "b"], ["c", "d"], ["s", "s"]],
                               figsize=(9, 11), layout="constrained",
                               height_ratios=[1, 1, 0.8])
for key, (title, image) in zip("abcd", images.items()):
    shown = axes[key].imshow(image, vmin=vmin, vmax=vmax, extent=extent)
    axes[key].set_title(title)
    axes[key].set_xlabel("x (nm)")
    axes[key].set_ylabel("y (nm)")
fig.colorbar(shown, ax=[axes[k] for k in "abcd"], shrink=0.9,
             label="O K jump ratio")

y, x = 20, 12
axes["s"].plot(energy, fine.data[y, x], color="0.6", lw=0.8, label="fine SI")
axes["s"].plot(energy, fused.data[y, x], label="pan-sharpened")
axes["s"].plot(energy, truth.clean[y, x], "k--", label="truth")
axes["s"].axvspan(480, 530, color="0.5", alpha=0.12, label="before the edge")
axes["s"].axvspan(530, 580, color="C1", alpha=0.15, label="O K edge")
axes["s"].set_xlabel("Energy loss (eV)")
axes["s"].set_ylabel("Intensity (counts per channel)")
axes["s"].set_title(f"pixel (x={x}, y={y})")
axes["s"].legend(fontsize=11)
plt.show()
