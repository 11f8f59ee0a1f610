"""HAADF-guided pan-sharpening against the SI alone and multimodal-fusion.

Synthetic truth written here (not shared with the tests): three phases with
different mean Z (Al, Cu, Ag) on a 96 x 96 image grid, Ag particles of radius
1-3 image pixels and a Cu lamella 3 pixels wide (finer than the 2 x 2 image
pixels of one SI pixel), thickness wedge; the SI (48 x 48, 150 channels,
L-edge-like spectra on power-law backgrounds) at a dose swept over 100x; the
HAADF linear in t * sum_k f_k Z_k^1.7 with Poisson noise at 2000 counts per
pixel, Gaussian read-out noise and scan-line offsets.

Methods, on the same data:

* SI alone: NMF endmembers + Poisson-weighted NNLS per SI pixel (the start of
  pan_sharpen), maps replicated onto the image grid;
* ``s.pan_sharpen(haadf)`` with the true endmembers given and with NMF ones;
* ``multimodal_fusion.DataFusion`` (0.6.0; ``mapfusion`` 0.9.1 holds the same
  code) fed the SI-alone fraction maps (replicated onto the image grid) as
  elemental maps with the phases' Z, at its defaults (gamma 1.6, 50
  iterations, lambdaEDS 0.005, lambdaTV 0.1); its maps rescaled so that each
  keeps the mean of its input map.

Metrics on the phase-fraction maps (abundances normalised to sum to one):
RMSE, SNR = 10 log10(sum truth^2 / sum error^2); on the fused spectra (pan_sharpen,
or fractions times the endmembers times the SI's total for the others): PSNR,
mean spectral angle, ERGAS (ratio 1/2).

Run: ``python benchmarks/bench_pan_sharpening_haadf.py``
"""

from __future__ import annotations

import contextlib
import io
import time

import numpy as np

import hspy_unmix  # noqa: F401
from hspy_unmix.fusion.haadf import block_mean, replicate

F = 2
N = 96
Z = np.array([13.0, 29.0, 47.0])
ELEMENTS = ["Al", "Cu", "Ag"]
DOSES = (2.0, 20.0, 200.0)  # mean counts per channel per SI pixel / (150 channels)


def truth(seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:N, :N]
    frac = np.zeros((N, N, 3))
    frac[..., 0] = 1.0
    lam = np.abs(xx - 0.6 * yy - 40) < 1.5
    frac[lam] = [0, 1, 0]
    for _ in range(25):
        cy, cx = rng.uniform(0, N, 2)
        frac[(yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(1, 3) ** 2] = [0, 0, 1]
    thickness = 0.8 + 0.4 * xx / N
    e = np.linspace(50, 1000, 150)
    bg = (e / 50) ** -2.5
    edges = [(118, 0.5), (931, 0.3), (367, 0.4)]  # Al K-like, Cu L, Ag M
    E = np.stack([bg * (1 + s * (e > e0) * np.exp(-(e - e0) / 300) * 20) for e0, s in edges])
    E /= E.sum(1, keepdims=True)
    return frac, thickness, E


def simulate(frac, thickness, E, dose, seed):
    rng = np.random.default_rng(seed)
    amounts = frac * thickness[..., None]
    clean = block_mean(amounts @ E, F) * dose * E.shape[1]
    X = rng.poisson(clean).astype(float)
    haadf = amounts @ Z ** 1.7
    haadf = 2000 * haadf / haadf.mean()
    h = rng.poisson(haadf) + rng.normal(0, 20, haadf.shape) + rng.normal(0, 30, (N, 1))
    return X, h, amounts @ E * dose * E.shape[1]


def fractions(A):
    return A / np.maximum(A.sum(-1, keepdims=True), 1e-12)


def metrics(F_est, frac, spectra, clean, seconds):
    err = F_est - frac
    rmse = np.sqrt((err ** 2).mean())
    snr = 10 * np.log10((frac ** 2).sum() / (err ** 2).sum())
    psnr = 10 * np.log10(clean.max() ** 2 / ((spectra - clean) ** 2).mean())
    cos = (spectra * clean).sum(-1) / (np.linalg.norm(spectra, axis=-1)
                                      * np.linalg.norm(clean, axis=-1) + 1e-300)
    angle = np.degrees(np.arccos(np.clip(cos, -1, 1))).mean()
    band = np.sqrt(((spectra - clean) ** 2).mean((0, 1))) / clean.mean((0, 1))
    ergas = 100 / F * np.sqrt((band ** 2).mean())
    return rmse, snr, psnr, angle, ergas, seconds


def peer(module, fracs_fine, h):
    fusion = __import__(module).DataFusion(ELEMENTS)
    fusion.load_chemical_maps({el: fracs_fine[..., i].astype(np.float32).copy()
                               for i, el in enumerate(ELEMENTS)})
    fusion.load_haadf(h.astype(np.float32).copy())
    with contextlib.redirect_stderr(io.StringIO()):
        fusion.run(plot_images=False, plot_convergence=False)
    out = fusion.get_results()
    maps = np.stack([out[el] for el in ELEMENTS], -1).astype(float)
    means = fracs_fine.mean((0, 1)) / np.maximum(maps.mean((0, 1)), 1e-12)
    return fractions(maps * means)


def main():
    import hyperspy.api as hs

    frac, thickness, E_true = truth()
    rows = []
    for dose in DOSES:
        X, h, clean = simulate(frac, thickness, E_true, dose, seed=int(dose))
        s = hs.signals.Signal1D(X)
        s.set_signal_type("EELS")
        image = hs.signals.Signal2D(h)
        total = replicate(X.sum(-1), F)[..., None]
        results = {}
        for label, algorithm in (("pan_sharpen (given E)", E_true * X.sum() / X.size),
                                 ("pan_sharpen (NMF E)", "NMF")):
            t0 = time.perf_counter()
            r = s.pan_sharpen(image, n_components=3, algorithm=algorithm, random_state=0,
                              return_report=True, show_progressbar=False)
            dt = time.perf_counter() - t0
            A = np.moveaxis(np.asarray(r.abundances.data), 0, -1)
            endm = np.asarray(r.endmembers.data)
            perm = _match(endm, E_true)
            fr = fractions(A[..., perm])
            results[label] = metrics(fr, frac, np.asarray(r.fused.data), clean, dt)
            if label.endswith("(NMF E)"):
                A0 = np.moveaxis(np.asarray(r.si_only_abundances.data), 0, -1)[..., perm]
                si_fr = replicate(fractions(A0), F)
                si_spec = replicate(A0, F) @ endm[perm]
                results["SI alone (NMF + NNLS)"] = metrics(si_fr, frac, si_spec, clean,
                                                           float("nan"))
        for module in ("multimodal_fusion", "mapfusion"):
            t0 = time.perf_counter()
            try:
                fr = peer(module, si_fr, h)
            except Exception as exc:  # a peer whose compiled part does not load
                print(f"{dose:7.1f} {module:24s} failed: {type(exc).__name__}: {exc}")
                continue
            dt = time.perf_counter() - t0
            spec = (fr[..., None] * (endm[perm] / endm[perm].sum(1, keepdims=True))).sum(-2) * \
                replicate(block_mean(total, F), F)
            results[module] = metrics(fr, frac, spec, clean, dt)
        for label, m in results.items():
            rows.append((dose,) + (label,) + m)
            print(f"{dose:7.1f} {label:24s} RMSE {m[0]:.4f} SNR {m[1]:6.2f} dB "
                  f"PSNR {m[2]:6.2f} dB angle {m[3]:6.2f} deg ERGAS {m[4]:7.2f} "
                  f"time {m[5]:6.2f} s", flush=True)
    return rows


def _match(endm, E_true):
    from itertools import permutations

    a = endm / np.linalg.norm(endm, axis=1, keepdims=True)
    b = E_true / np.linalg.norm(E_true, axis=1, keepdims=True)
    best = max(permutations(range(3)), key=lambda p: sum(a[p[i]] @ b[i] for i in range(3)))
    return list(best)


if __name__ == "__main__":
    main()
