"""Draw ``docs/_static/zlp/generated.png``: shipped U-net against Richardson-Lucy.

Run from the repository root (CPU, under a minute)::

    python scripts/make_zlp_figure.py

Generated spectra with a 120 meV PSF and four loss peaks (100-300 meV
wide) at two noise amplitudes; RL (50 iterations) receives the exact blur
kernel of each spectrum.
"""

from __future__ import annotations

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OUT = pathlib.Path(__file__).resolve().parents[1] / "docs/_static/zlp/generated.png"


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from hspy_unmix import load_zlp_model, richardson_lucy
    from hspy_unmix.synthetic import zlp_blur_kernel, zlp_training_spectra
    from hspy_unmix.zlp import _predict

    model = load_zlp_model()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, amplitude in zip(axes, (1e-5, 5e-4), strict=True):
        x, y, energy, p = zlp_training_spectra(
            1, psf_fwhm=(0.12, 0.12), n_peaks=(4, 4), peak_energy=(0.4, 2.6),
            peak_fwhm=(0.1, 0.3),
            noise_amplitude=amplitude, random_state=4, return_params=True)
        kernel = zlp_blur_kernel(p["psf_fwhm"][0], jitter_shifts=p["jitter_shifts"][0],
                                 half_width=400)
        curves = {
            "distorted": (x[0], {"color": "0.6", "lw": 1}),
            "RL (50 it., exact PSF)": (richardson_lucy(x, kernel[None], 50)[0],
                                       {"color": "C1", "lw": 1}),
            "U-net": (_predict(model, x)[0], {"color": "C2", "lw": 1}),
            "ground truth": (y[0], {"color": "k", "ls": "--", "lw": 1}),
        }
        for label, (curve, style) in curves.items():
            ax.semilogy(energy, np.clip(curve, 1e-9, None), label=label, **style)
        ax.set_xlim(-0.5, 3.0)
        ax.set_ylim(1e-7, 0.5)
        ax.set_xlabel("Energy loss (eV)")
        ax.set_title(f"noise amplitude {amplitude:g}", fontsize=9)
    axes[0].set_ylabel("Intensity (sum = 1)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT, dpi=80)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
