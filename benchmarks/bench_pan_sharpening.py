"""Benchmark of ``pan_sharpen``: quality against baselines, noise variants, solve speed.

Run from the repository root::

    python benchmarks/bench_pan_sharpening.py [--pixels 262144] [--figure]
    python benchmarks/bench_pan_sharpening.py --variants [--seeds 5]

Quality: generated pairs (fine 48x48 low-dose SI, 4x4-binned high-dose SI,
sharp 6-pixel chequerboard), PSNR (dB) and mean spectral angle (degrees) of
each estimate against the noise-free fine SI. Speed: the abundance solve
alone (``nnls_abundances``, K = 4, 200 channels) after a JIT warm-up.

Variants (``--variants``): pairs written here, not by
``hspy_unmix.synthetic`` (see :func:`plasmonic_pair`): low-loss spectra of
a membrane, Ag particles and their surface plasmon on a 96x96 grid, a
fine SI with a short dwell (4 counts per channel, with and without
Gaussian read-out noise of 3 counts) and a coarse SI with 20x the dwell
per pixel, binned 4x4 or 8x8, on the same energy axis or offset by 0.37
channel. ``pan_sharpen`` with each weighting against the plain reference
(scikit-learn NMF of the coarse SI, its endmembers linearly interpolated
onto the fine SI's energies, unweighted NNLS of every fine pixel), scored
on PSNR, mean spectral angle, abundance-map RMSE and the least-squares
gain of the fused spectra on the truth.
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


# ----------------------------------------------------------- noise variants
#: Fine SI energy axis: offset (eV), dispersion (eV/channel), channels.
LL_OFFSET, LL_SCALE, LL_CHANNELS = 1.5, 0.1, 300
LL_GRID = 96
PHASES = ["Si3N4 membrane", "Ag particle", "Ag surface plasmon"]


def low_loss_densities(e):
    """Counts per eV of the three phases at energies ``e`` (arbitrary scale), (3, len(e))."""
    tail = (e / 1.5) ** -3.0  # zero-loss tail

    def lorentzian(x0, width):
        return 1.0 / (1.0 + ((e - x0) / (width / 2)) ** 2)

    gap = np.clip(e - 4.5, 0, None) ** 0.5
    membrane = 0.35 * tail + 0.25 * gap * lorentzian(22.0, 9.0) + 0.6 * lorentzian(22.5, 7.0)
    silver = (0.35 * tail + 1.2 * lorentzian(3.8, 0.45)
              + 0.35 * np.clip(e - 3.9, 0, None) ** 0.3 * lorentzian(17.0, 16.0))
    surface = 1.6 * lorentzian(2.9, 0.3) + 0.6 * lorentzian(3.45, 0.35)
    return np.stack([membrane, silver, surface])


def channel_integrals(offset, scale, n, oversample=16):
    """The phase spectra integrated over each channel ``[e - d/2, e + d/2]`` of an axis."""
    sub = offset + scale * (np.arange(n * oversample) + 0.5) / oversample - scale / 2
    return low_loss_densities(sub).reshape(3, n, oversample).mean(-1) * scale


def plasmonic_amounts(seed):
    """Amounts of the three phases on the fine grid (96 x 96 x 3).

    A membrane with a thickness wedge (0.6 to 1.4) and two holes; two Ag
    spheres of radius 8-10 pixels inside the holes, six small particles on
    the hole edges and ten on the membrane (spheres of radius 2-6 pixels,
    every fourth a rod 2-5 pixels wide): most are finer than an 8x8 block.
    The surface plasmon is excited within about 2 pixels of every particle
    edge (decay length 2 pixels outside, 1 inside), in the holes too.
    """
    rng = np.random.default_rng(seed)
    n = LL_GRID
    yy, xx = np.mgrid[:n, :n] + 0.5
    membrane = 0.6 + 0.8 * xx / n
    holes = [(rng.uniform(20, 35), rng.uniform(20, 35), rng.uniform(12, 16)),
             (rng.uniform(60, 76), rng.uniform(60, 76), rng.uniform(12, 16))]
    for hy, hx, hr in holes:
        membrane = np.where(np.hypot(yy - hy, xx - hx) < hr, 0.0, membrane)
    body = np.zeros((n, n))
    dist = np.full((n, n), np.inf)  # signed distance to the nearest particle edge
    for i in range(18):
        if i < 2:  # a large sphere inside a hole
            hy, hx, hr = holes[i]
            ang = rng.uniform(0, 2 * np.pi)
            cy, cx = hy + 0.3 * hr * np.sin(ang), hx + 0.3 * hr * np.cos(ang)
        elif i < 8:  # on a hole edge
            hy, hx, hr = holes[i % 2]
            ang = rng.uniform(0, 2 * np.pi)
            cy, cx = hy + hr * np.sin(ang), hx + hr * np.cos(ang)
        else:
            cy, cx = rng.uniform(6, n - 6, 2)
        if i < 2:
            r = rng.uniform(8.0, 10.0)
            rr = np.hypot(yy - cy, xx - cx) / r
            d = (rr - 1) * r
        elif i % 4 == 3:  # a rod
            ang = rng.uniform(0, np.pi)
            half, w = rng.uniform(4, 9), rng.uniform(1.0, 2.5)
            u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
            v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
            rr = np.hypot(np.clip(np.abs(u) - half, 0, None), v) / w
            d = (rr - 1) * w
        else:  # a sphere
            r = rng.uniform(2.0, 6.0)
            rr = np.hypot(yy - cy, xx - cx) / r
            d = (rr - 1) * r
        body = np.maximum(body, np.sqrt(np.clip(1 - rr ** 2, 0, None)))
        dist = np.minimum(dist, d)
    surface = np.where(dist > 0, np.exp(-dist / 2.0), np.exp(dist / 1.0))
    return np.stack([membrane, body, surface], -1)


def _eels(data, offset, scale, pixel):
    import hyperspy.api as hs

    s = hs.signals.Signal1D(data)
    s.set_signal_type("EELS")
    ax = s.axes_manager.signal_axes[0]
    ax.name, ax.units, ax.offset, ax.scale = "Energy loss", "eV", offset, scale
    for nav in s.axes_manager.navigation_axes:
        nav.units, nav.scale = "nm", pixel
    return s


def plasmonic_pair(seed, bin_factor, offset_channels, read_noise, dose=4.0, dwell_ratio=20.0):
    """Fine short-dwell SI, coarse long-dwell SI (both EELSSpectrum) and the truth.

    The fine SI: ``Poisson(amounts @ spectra)`` scaled to ``dose`` mean
    counts per channel, plus Gaussian read-out noise of ``read_noise``
    counts. The coarse SI: the ``bin_factor`` block means of the amounts,
    ``dwell_ratio`` times the fine dwell, Poisson plus the same read-out
    noise, its energy axis offset by ``offset_channels`` channels (spectra
    integrated over its own channels). Returns ``fine, coarse, truth`` with
    ``truth = (amounts, spectra on the fine axis, clean fine SI)``.
    """
    rng = np.random.default_rng(1000 + seed)
    amounts = plasmonic_amounts(seed)
    spectra = channel_integrals(LL_OFFSET, LL_SCALE, LL_CHANNELS)
    scale = dose / (amounts.mean((0, 1)) @ spectra).mean()
    spectra = spectra * scale
    clean = amounts @ spectra
    fine = rng.poisson(clean).astype(float)
    if read_noise:
        fine += rng.normal(0, read_noise, fine.shape)
    b, n = bin_factor, LL_GRID
    blocks = amounts.reshape(n // b, b, n // b, b, 3).mean((1, 3))
    offset2 = LL_OFFSET + offset_channels * LL_SCALE
    spectra2 = channel_integrals(offset2, LL_SCALE, LL_CHANNELS) * scale * dwell_ratio
    coarse = rng.poisson(blocks @ spectra2).astype(float)
    if read_noise:
        coarse += rng.normal(0, read_noise, coarse.shape)
    return (_eels(fine, LL_OFFSET, LL_SCALE, 1.0), _eels(coarse, offset2, LL_SCALE, float(b)),
            (amounts, spectra, clean))


def map_rmse(A, E, amounts, spectra):
    """RMSE of a method's own abundance maps against the true amounts.

    Components matched to the phases by spectral angle (Hungarian); each map
    scaled by the least-squares factor of its endmember on the matched true
    spectrum (the scale a mixture model leaves free).
    """
    from scipy.optimize import linear_sum_assignment

    En = E / np.linalg.norm(E, axis=1, keepdims=True)
    Sn = spectra / np.linalg.norm(spectra, axis=1, keepdims=True)
    rows, cols = linear_sum_assignment(-En @ Sn.T)
    out = np.zeros_like(amounts)
    for i, j in zip(rows, cols, strict=True):
        out[..., j] = A[..., i] * (E[i] @ spectra[j]) / (spectra[j] @ spectra[j])
    return float(np.sqrt(np.mean((out - amounts) ** 2)))


def reference_fusion(fine, coarse, k):
    """NMF of the coarse SI + unweighted NNLS of every fine pixel (the plain reference)."""
    from sklearn.decomposition import NMF

    from hspy_unmix.abundances import nnls_abundances

    Xo = np.clip(coarse.data.reshape(-1, coarse.data.shape[-1]), 0, None)
    E = NMF(k, init="nndsvda", max_iter=1000, tol=1e-5, random_state=0).fit(Xo).components_
    e_fine = fine.axes_manager.signal_axes[0].axis
    e_coarse = coarse.axes_manager.signal_axes[0].axis
    if not np.allclose(e_fine, e_coarse):
        E = np.stack([np.interp(e_fine, e_coarse, x) for x in E])
    A = nnls_abundances(fine.data.reshape(-1, fine.data.shape[-1]), E)
    A = A.reshape(fine.data.shape[:-1] + (k,))
    return A @ E, A, E


VARIANT_METHODS = ("reference (NMF + NNLS)", "pan_sharpen weighting='auto'",
                   "pan_sharpen weighting='poisson'", "pan_sharpen weighting=None")


def variants(seeds=5):
    """Every variant, each method, mean over ``seeds`` pairs; prints markdown tables."""
    import warnings

    from hspy_unmix.metrics import mean_spectral_angle, psnr

    summary = []
    start = time.perf_counter()
    for b in (4, 8):
        for offset in (0.0, 0.37):
            for read_noise in (0.0, 3.0):
                scores = {m: [] for m in VARIANT_METHODS}
                noise = []
                for seed in range(seeds):
                    fine, coarse, (amounts, spectra, clean) = plasmonic_pair(
                        seed, b, offset, read_noise)
                    t = time.perf_counter()
                    runs = {VARIANT_METHODS[0]: reference_fusion(fine, coarse, 3)
                            + (time.perf_counter() - t,)}
                    for name, w in zip(VARIANT_METHODS[1:], ("auto", "poisson", None),
                                       strict=True):
                        t = time.perf_counter()
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            rep = fine.pan_sharpen(coarse, 3, weighting=w, random_state=0,
                                                   return_report=True, show_progressbar=False)
                        runs[name] = (rep.fused.data, np.moveaxis(rep.abundances.data, 0, -1),
                                      rep.endmembers.data, time.perf_counter() - t)
                        if w == "auto":
                            nm = rep.fused.metadata.Signal.pan_sharpen.noise_model
                            noise.append((nm.gain, nm.read_noise))
                    for name, (F, A, E, elapsed) in runs.items():
                        scores[name].append((
                            psnr(clean, F), mean_spectral_angle(clean, F, degrees=True),
                            map_rmse(A, E, amounts, spectra),
                            float((F * clean).sum() / (clean ** 2).sum()), elapsed))
                gain, rn = np.mean(noise, 0)
                title = (f"{b}x{b} binning, {'offset 0.37 channel' if offset else 'same axis'}, "
                         f"{'read-out noise 3 counts' if read_noise else 'Poisson only'}")
                print(f"\n{title} (estimated gain {gain:.3f}, read-out noise {rn:.3f} counts)\n")
                print("| method | PSNR (dB) | spectral angle (deg) | map RMSE | gain on truth | time (s) |")
                print("|---|---|---|---|---|---|")
                means = {}
                for name in VARIANT_METHODS:
                    m = np.mean(scores[name], 0)
                    means[name] = m
                    print(f"| {name} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.4f} | {m[3]:.4f} | {m[4]:.2f} |")
                worst = min(np.array(scores[VARIANT_METHODS[1]])[:, 0]
                            - np.array(scores[VARIANT_METHODS[0]])[:, 0])
                summary.append((title, means, worst))
    print("\nauto against the reference (mean over seeds; target: at least as good on all three)\n")
    print("| variant | PSNR gain (dB), mean (worst seed) | spectral angle (deg) | map RMSE "
          "| target met |")
    print("|---|---|---|---|---|")
    for title, means, worst in summary:
        a, r = means[VARIANT_METHODS[1]], means[VARIANT_METHODS[0]]
        met = a[0] >= r[0] and a[1] <= r[1] and a[2] <= r[2]
        print(f"| {title} | {a[0] - r[0]:+.2f} ({worst:+.2f}) | {a[1]:.2f} vs {r[1]:.2f} | "
              f"{a[2]:.4f} vs {r[2]:.4f} | {'yes' if met else 'no'} |")
    print("\nauto against poisson: never worse?",
          all(m[VARIANT_METHODS[1]][0] >= m[VARIANT_METHODS[2]][0] - 1e-9
              and m[VARIANT_METHODS[1]][1] <= m[VARIANT_METHODS[2]][1] + 1e-9
              and m[VARIANT_METHODS[1]][2] <= m[VARIANT_METHODS[2]][2] + 1e-9
              for _, m, _ in summary))
    print(f"\nvariants: {time.perf_counter() - start:.0f} s for {seeds} seeds")


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
    parser.add_argument("--variants", action="store_true",
                        help="only the noise-variant comparison against NMF + NNLS")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    if args.variants:
        variants(args.seeds)
        raise SystemExit
    out = quality(3, 2.0)
    quality(4, 1.0)
    if args.figure:
        figure(*out, "docs/_static/pan_sharpen/slices.png")
    speed(args.pixels)
