"""
Restoring the near-zero-loss region
===================================

The U-net shipped with the package and Richardson-Lucy deconvolution restore a
small synthetic spectrum image whose zero-loss peak is blurred by energy
jitter and the spectrometer's point-spread function, compared with the ground
truth.
"""

import matplotlib.pyplot as plt

import hspy_unmix  # noqa: F401
from hspy_unmix.synthetic import zlp_test_signal

s, truth = zlp_test_signal(shape=(2, 2), noise_amplitude=5e-5, random_state=0)
unet = s.restore_zlp()  # the shipped model
rl = s.restore_zlp(method="richardson_lucy", iterations=50)

energy = s.axes_manager.signal_axes[0].axis
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, xlim, log in zip(axes, ((-0.3, 0.3), (-0.5, 8.0)), (False, True)):
    ax.plot(energy, s.data[0, 0], label="measured", lw=1)
    ax.plot(energy, rl.data[0, 0], label="Richardson-Lucy (50)", lw=1)
    ax.plot(energy, unet.data[0, 0], label="U-net", lw=1)
    ax.plot(energy, truth.data[0, 0], "k--", label="truth", lw=1)
    ax.set_xlim(*xlim)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("Energy loss (eV)")
axes[0].set_title("zero-loss peak")
axes[1].set_title("loss region (log scale)")
axes[0].legend(fontsize=8)
fig.tight_layout()
