"""
Restoring the near-zero-loss region
===================================

Richardson-Lucy deconvolution of a small synthetic spectrum image with a
blurred zero-loss peak, compared with the ground truth.
"""

import matplotlib.pyplot as plt

import hspy_unmix  # noqa: F401
from hspy_unmix.synthetic import zlp_test_signal

s, truth = zlp_test_signal(shape=(2, 2), random_state=0)
restored = s.restore_zlp(method="richardson_lucy", iterations=30)

energy = s.axes_manager.signal_axes[0].axis
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(energy, s.data[0, 0], label="measured")
ax.plot(energy, restored.data[0, 0], label="Richardson-Lucy")
ax.set_xlim(-0.5, 1.5)
ax.set_xlabel("Energy loss (eV)")
ax.legend()
fig.tight_layout()
