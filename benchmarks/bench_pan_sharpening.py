"""Benchmark of ``pan_sharpen``: quality against baselines and solve speed.

Run from the repository root::

    python benchmarks/bench_pan_sharpening.py [--pixels 262144] [--figure]

Quality: generated pairs (fine 48x48 low-dose SI, 4x4-binned high-dose SI,
sharp 6-pixel chequerboard), PSNR (dB) and mean spectral angle (degrees) of
each estimate against the noise-free fine SI. Speed: the abundance solve
alone (``nnls_abundances``, K = 4, 200 channels) after a JIT warm-up.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import hspy_unmix  # noqa: F401
from hspy_unmix.metrics import mean_spectral_angle, psnr
from hspy_unmix.synthetic import pan_sharpening_pair


def quality(k, dose, seed=0):
    fine, coarse, truth = pan_sharpening_pair(
        k, shape=(48, 48), bin_factor=4, low_dose=dose, high_dose=500.0,
        random_state=seed, block=6, averaging=1,
    )
    t = time.perf_counter()
    fused = fine.pan_sharpen(coarse, random_state=0, show_progressbar=False)
    elapsed = time.perf_counter() - t
    ups = np.repeat(np.repeat(coarse.data, 4, 0), 4, 1) * dose / 500.0
    pca = fine.deepcopy()
    pca.decomposition(output_dimension=k, print_info=False)
    pcap = fine.deepcopy()
    pcap.decomposition(normalize_poissonian_noise=True, print_info=False)
    rows = {
        "noisy fine SI": fine.data,
        "clean SI upsampled (nearest)": ups,
        "PCA (HyperSpy SVD, K comps)": pca.get_decomposition_model(k).data,
        "PCA, Poisson-normalised": pcap.get_decomposition_model(k).data,
        "pan_sharpen (NMF, K auto)": fused.data,
    }
    print(f"\nK={k}, low dose {dose} counts/channel, K estimated "
          f"{fused.metadata.Signal.pan_sharpen.n_components}, pan_sharpen {elapsed:.2f} s")
    print("| estimate | PSNR (dB) | mean spectral angle (deg) |\n|---|---|---|")
    for name, est in rows.items():
        print(f"| {name} | {psnr(truth.clean, est):.2f} | "
              f"{mean_spectral_angle(truth.clean, est, degrees=True):.2f} |")
    return fine, coarse, truth, fused, ups


def speed(n_pixels, n_channels=200, k=4, repeats=3):
    from hspy_unmix.abundances import nnls_abundances
    from hspy_unmix.synthetic import eels_endmembers

    _, E, _ = eels_endmembers(4, counts=1.0)
    E = E[:, :n_channels]
    rng = np.random.default_rng(0)
    A = rng.dirichlet(np.ones(k), size=n_pixels)
    X = rng.poisson(5.0 * A @ E).astype(np.float64)
    nnls_abundances(X[:1000], E)  # JIT warm-up
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        nnls_abundances(X, E)
        best = min(best, time.perf_counter() - t)
    print(f"\nnnls_abundances: {n_pixels} pixels x {n_channels} channels, K={k}: "
          f"{best:.3f} s, {n_pixels / best / 1e6:.2f} M pixels/s (best of {repeats})")


def figure(fine, coarse, truth, fused, ups, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ch = 150
    fig, axs = plt.subplots(1, 4, figsize=(12, 3.2))
    for ax, (title, img) in zip(axs, [("noisy fine SI", fine.data), ("clean SI upsampled", ups),
                                      ("pan-sharpened", fused.data), ("truth", truth.clean)], strict=True):
        ax.imshow(img[..., ch], cmap="viridis", vmin=truth.clean[..., ch].min(),
                  vmax=truth.clean[..., ch].max())
        ax.set_title(title)
        ax.axis("off")
    fig.suptitle(f"Slice at {truth.energy[ch]:.0f} eV")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print("figure written to", path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixels", type=int, default=262144)
    parser.add_argument("--figure", action="store_true")
    args = parser.parse_args()
    out = quality(3, 2.0)
    quality(4, 1.0)
    if args.figure:
        figure(*out, "docs/_static/pan_sharpen/slices.png")
    speed(args.pixels)
