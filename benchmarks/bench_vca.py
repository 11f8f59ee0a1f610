"""Benchmark of VCA + FCLS: speed on a large SI and accuracy on Brun et al.'s protocol.

(a) 256 x 256 x 1024, K = 4 synthetic SI: time of ``hspy_unmix.VCA`` (fit and
    FCLS abundances, after a JIT warm-up) against a plain numpy VCA (full
    channel Gram matrix eigendecomposition) followed by per-pixel
    ``scipy.optimize.nnls`` with sum-to-one imposed by an appended weighted
    row of ones.
(b) Brun et al. protocol: chequerboard SIs (64 x 64, 8 x 8 blocks, 9 x 9
    averaging, Poisson noise), replicates ``random_state = 0..n-1`` of both
    endmember sets; mean +- std of SAD and NMSE of VCA-FCLS, HyperSpy's NMF
    and HyperSpy's ICA (SVD then ``blind_source_separation``).

Run from the repository root::

    .venv/bin/python benchmarks/bench_vca.py [--replicates 20] [--baseline-replicates 10]

Results are written to ``docs/benchmarks/vca.md``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import time
import warnings

import numpy as np
from scipy.optimize import nnls

import hspy_unmix  # noqa: F401  (activates the EELS methods)
from hspy_unmix.metrics.unmixing import unmixing_scores
from hspy_unmix.synthetic import (
    chequerboard_abundances,
    chequerboard_si,
    eels_endmembers,
)
from hspy_unmix.vca import VCA

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "vca.md"


# ------------------------------------------------------------ (a) speed
def large_si(seed: int = 0):
    """256 x 256 x 1024 Poisson SI from the 4-component endmember set,
    resampled from 903 to 1024 channels over the same energy range."""
    energy, endmembers, _ = eels_endmembers(4)
    fine = np.linspace(energy[0], energy[-1], 1024)
    endmembers = np.array([np.interp(fine, energy, e) for e in endmembers])
    abundances = chequerboard_abundances(4, shape=(256, 256), random_state=seed)
    rng = np.random.default_rng(seed)
    clean = abundances.reshape(-1, 4) @ endmembers
    return rng.poisson(clean).astype(np.float64), endmembers


def numpy_vca(R: np.ndarray, p: int, rng) -> np.ndarray:
    """Textbook VCA (high-SNR branch) on (n_pixels, n_channels) data."""
    n = R.shape[0]
    _, vectors = np.linalg.eigh(R.T @ R / n)
    Ud = vectors[:, ::-1][:, :p]
    x = R @ Ud
    u = x.mean(axis=0)
    y = x / (x @ u)[:, None]
    A = np.zeros((p, p))
    A[p - 1, 0] = 1.0
    indices = np.zeros(p, dtype=int)
    for i in range(p):
        w = rng.standard_normal(p)
        f = w - A @ np.linalg.pinv(A) @ w
        f /= np.linalg.norm(f)
        indices[i] = np.argmax(np.abs(y @ f))
        A[:, i] = y[indices[i]]
    return (R[indices] @ Ud) @ Ud.T


def scipy_fcls(X: np.ndarray, E: np.ndarray, weight: float = 1e3) -> np.ndarray:
    """FCLS by per-pixel NNLS with an appended row ``weight * ones``."""
    scale = weight * np.abs(E).max()
    design = np.vstack([E.T, scale * np.ones(E.shape[0])])
    out = np.empty((X.shape[0], E.shape[0]))
    for i, x in enumerate(X):
        out[i] = nnls(design, np.append(x, scale))[0]
    return out


def bench_speed(repeats: int = 3):
    X, truth_E = large_si()
    VCA(4, random_state=0).fit_transform(X[:2000])  # JIT warm-up
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        vca = VCA(4, random_state=r)
        A = vca.fit_transform(X)
        times.append(time.perf_counter() - t0)
    ours = float(np.median(times))
    t0 = time.perf_counter()
    E_base = numpy_vca(X, 4, np.random.default_rng(0))
    t_vca = time.perf_counter() - t0
    t0 = time.perf_counter()
    A_base = scipy_fcls(X, np.maximum(E_base, 0))
    t_fcls = time.perf_counter() - t0
    base = t_vca + t_fcls
    return {
        "ours": ours,
        "ours_all": times,
        "base_vca": t_vca,
        "base_fcls": t_fcls,
        "base": base,
        "sum_err_ours": float(np.abs(A.sum(1) - 1).max()),
        "sum_err_base": float(np.abs(A_base.sum(1) - 1).max()),
    }


# --------------------------------------------------------- (b) accuracy
def run_vca(s, K, seed):
    X = s.data.reshape(-1, s.data.shape[-1])
    vca = VCA(K, random_state=seed)
    A = vca.fit_transform(X)
    return vca.components_, A


def run_nmf(s, K, seed):
    s.decomposition(algorithm="NMF", output_dimension=K, random_state=seed,
                    print_info=False)
    return s.learning_results.factors.T, s.learning_results.loadings


def run_ica(s, K, seed):
    s.decomposition(output_dimension=K, print_info=False)
    s.blind_source_separation(K, print_info=False, random_state=seed)
    factors = s.learning_results.bss_factors.T.copy()
    loadings = s.learning_results.bss_loadings.copy()
    # ICA signs are arbitrary: make each spectrum mostly positive.
    signs = np.sign(factors.sum(axis=1))
    signs[signs == 0] = 1
    return factors * signs[:, None], loadings * signs


def bench_accuracy(n_vca: int, n_baseline: int):
    methods = {"VCA-FCLS": (run_vca, n_vca), "NMF (HyperSpy)": (run_nmf, n_baseline),
               "ICA (HyperSpy)": (run_ica, n_baseline)}
    rows = []
    for K in (3, 4):
        for name, (run, n_rep) in methods.items():
            sads, nmses, times = [], [], []
            for seed in range(n_rep):
                s, truth = chequerboard_si(n_components=K, random_state=seed)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    E, A = run(s, K, seed)
                times.append(time.perf_counter() - t0)
                scores = unmixing_scores(truth.endmembers, truth.flat_abundances, E, A)
                sads.append(scores["sad_mean"])
                nmses.append(scores["nmse_mean"])
            rows.append((K, name, n_rep, np.mean(sads), np.std(sads), np.mean(nmses),
                         np.std(nmses), np.median(times)))
            print(rows[-1], flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--baseline-replicates", type=int, default=10)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()

    lines = ["# VCA + FCLS benchmark", ""]
    lines += [
        "Reproduce from the repository root with",
        "",
        "```",
        f"    .venv/bin/python benchmarks/bench_vca.py --replicates {args.replicates} "
        f"--baseline-replicates {args.baseline_replicates}",
        "```",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"logical CPUs, load average at start {os.getloadavg()[0]:.1f} "
        "(a shared machine: timings are noisy).",
        "",
    ]
    if not args.skip_speed:
        speed = bench_speed()
        print(speed, flush=True)
        lines += [
            "## (a) Speed: 256 x 256 x 1024, K = 4",
            "",
            "JIT warm-up excluded; hspy_unmix is the median of 3 runs, the baseline "
            "runs once.",
            "",
            "| method | time (s) | ratio to baseline | max abs(sum(a) - 1) |",
            "|---|---|---|---|",
            f"| hspy_unmix VCA + FCLS | {speed['ours']:.3f} | "
            f"{speed['ours'] / speed['base']:.4f} | {speed['sum_err_ours']:.1e} |",
            f"| numpy VCA ({speed['base_vca']:.2f} s) + per-pixel scipy NNLS with "
            f"appended row ({speed['base_fcls']:.2f} s) | {speed['base']:.2f} | 1 | "
            f"{speed['sum_err_base']:.1e} |",
            "",
            f"hspy_unmix runs: {', '.join(f'{t:.3f}' for t in speed['ours_all'])} s.",
            "",
        ]
    rows = bench_accuracy(args.replicates, args.baseline_replicates)
    lines += [
        "## (b) Brun et al. protocol: 64 x 64 chequerboard, Poisson noise",
        "",
        "Replicates use `random_state = 0..n-1` for the SI and the method. NMF and "
        "ICA abundances are not sum-to-one (their scale is arbitrary), hence their "
        "large NMSE, as in the source paper.",
        "",
        "| K | method | replicates | SAD (rad) mean +- std | NMSE mean +- std | "
        "median time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for K, name, n, sm, ss, nm, ns, t in rows:
        lines.append(
            f"| {K} | {name} | {n} | {sm:.4f} +- {ss:.4f} | {nm:.4f} +- {ns:.4f} | "
            f"{t:.3f} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
