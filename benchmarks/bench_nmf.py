"""Accuracy and speed of the NMF family against HyperSpy's and scikit-learn's NMF.

Reproduce (from the repository root)::

    .venv/bin/python benchmarks/bench_nmf.py --replicates 20 --slow-replicates 5

Writes ``docs/benchmarks/nmf.md``. Three parts:

1. Brun et al. protocol: both endmember sets (3 and 4 components), chequerboard
   SIs with Poisson noise, ``--replicates`` noise/mixing replicates for the
   fast methods and ``--slow-replicates`` for ARD-SO-NMF; mean +/- std of SAD
   (radians), NMSE and fit time. Every abundance set is scaled to sum to one
   in the least-squares sense before the NMSE (NMF has a scale ambiguity).
2. The same on the no-pure-pixel variant (``max_abundance=0.7``).
3. Time per iteration on one 256x256x1024 K=4 SI against scikit-learn's
   ``NMF(solver="cd")`` at a fixed iteration count (JIT warm-up excluded).
"""

from __future__ import annotations

import argparse
import pathlib
import platform
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

from hyperspy.defaults_parser import preferences  # noqa: E402

preferences.General.show_progressbar = False

from hspy_unmix.metrics.unmixing import unmixing_scores  # noqa: E402
from hspy_unmix.nmf import ARD_SO_NMF, HALS, MALS, NMF_SO  # noqa: E402
from hspy_unmix.synthetic import chequerboard_si  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _sum_to_one(W):
    d = np.linalg.lstsq(W, np.ones(len(W)), rcond=None)[0]
    return W * d


def _run_ours(cls, k, X, seed, **kw):
    model = cls(k, random_state=seed, **kw)
    A = model.fit_transform(X)
    return model.components_, A


def _run_sklearn(k, X, seed):
    from sklearn.decomposition import NMF

    model = NMF(k, solver="cd", init="random", max_iter=500, tol=1e-6, random_state=seed)
    W = model.fit_transform(X)
    return model.components_, _sum_to_one(W)


def _run_hyperspy(k, s, seed):
    s = s.deepcopy()
    np.random.seed(seed)  # noqa: NPY002  (HyperSpy NMF draws from the global generator)
    s.decomposition(algorithm="NMF", output_dimension=k, print_info=False)
    factors = s.learning_results.factors.T
    loadings = s.learning_results.loadings
    return factors, _sum_to_one(loadings)


def accuracy(k, replicates, slow_replicates, max_abundance=1.0, only=None):
    methods = {
        "MALS": lambda X, s, r: _run_ours(MALS, k, X, r, n_starts=5),
        "MALS (map_ridge='zero', eq. 8 as printed)": lambda X, s, r: _run_ours(
            MALS, k, X, r, n_starts=5, map_ridge="zero"),
        "HALS": lambda X, s, r: _run_ours(HALS, k, X, r, n_starts=5),
        "NMF_SO (w=0.1)": lambda X, s, r: _run_ours(NMF_SO, k, X, r, n_starts=5),
        "ARD_SO_NMF (start 8)": None,
        "HyperSpy NMF": lambda X, s, r: _run_hyperspy(k, s, r),
        "sklearn NMF(cd)": lambda X, s, r: _run_sklearn(k, X, r),
    }
    if only:
        unknown = set(only) - set(methods)
        if unknown:
            raise SystemExit(f"unknown methods {sorted(unknown)}; choose from {list(methods)}")
        methods = {name: run for name, run in methods.items() if name in only}
    rows = {name: [] for name in methods}
    kept = []
    for r in range(replicates):
        s, truth = chequerboard_si(n_components=k, random_state=100 + r,
                                   max_abundance=max_abundance)
        X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
        for name, run in methods.items():
            if run is None:
                if r >= slow_replicates:
                    continue
                t0 = time.perf_counter()
                model = ARD_SO_NMF(8, random_state=r).fit(X)
                dt = time.perf_counter() - t0
                kept.append(model.n_components_kept_)
                if model.n_components_kept_ != k:
                    continue
                E, A = model.components_, model.transform(X)
            else:
                t0 = time.perf_counter()
                E, A = run(X, s, r)
                dt = time.perf_counter() - t0
            sc = unmixing_scores(truth.endmembers, truth.flat_abundances, E, A)
            rows[name].append((sc["sad_mean"], sc["nmse_mean"], dt))
    return rows, kept


def per_iteration(n_iter):
    from sklearn.decomposition import NMF

    s, _ = chequerboard_si(n_components=4, shape=(256, 256), random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    HALS(4, n_starts=1, max_iter=2).fit(X[:500])  # JIT warm-up
    out = {}
    for name, make in {
        "sklearn NMF(cd)": lambda: NMF(4, solver="cd", init="random", max_iter=n_iter,
                                       tol=0, random_state=0),
        "HALS": lambda: HALS(4, n_starts=1, max_iter=n_iter, tol=0, random_state=0),
        "NMF_SO": lambda: NMF_SO(4, n_starts=1, max_iter=n_iter, tol=0, random_state=0),
        "MALS": lambda: MALS(4, n_starts=1, max_iter=n_iter, tol=0,
                             ridge_schedule=[0.0], random_state=0),
    }.items():
        model = make()
        t0 = time.perf_counter()
        model.fit(X)
        dt = time.perf_counter() - t0
        iters = getattr(model, "n_iter_", n_iter)
        out[name] = dt / iters
    return X.shape, out


def _fmt(values):
    v = np.asarray(values)
    return f"{v.mean():.3f} ± {v.std():.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--slow-replicates", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--sets", nargs="*", default=["3", "4", "3-nopure", "4-nopure"],
                        help="data sets to run: 3, 4, 3-nopure, 4-nopure")
    parser.add_argument("--methods", nargs="*", default=None,
                        help="method names (table rows) to run; default all")
    parser.add_argument("--output", default=str(ROOT / "docs/benchmarks/nmf.md"))
    args = parser.parse_args()

    lines = [
        "# NMF family: accuracy and speed",
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_nmf.py "
        f"--replicates {args.replicates} --slow-replicates {args.slow_replicates} "
        f"--iterations {args.iterations}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, "
        "shared with other jobs while running (timings are noisy).",
        "",
        "SAD in radians (optimal matching), NMSE of the abundances after a "
        "least-squares sum-to-one scaling; mean ± std over replicates. "
        "ARD_SO_NMF rows use only the replicates where it kept the true K.",
    ]
    for max_abundance, label, suffix in ((1.0, "pure pixels", ""),
                                         (0.7, "no pure pixel (max_abundance=0.7)", "-nopure")):
        for k in (3, 4):
            if f"{k}{suffix}" not in args.sets:
                continue
            rows, kept = accuracy(k, args.replicates, args.slow_replicates, max_abundance,
                                  args.methods)
            lines += ["", f"## {k} components, {label}", "",
                      "| method | n | SAD | NMSE | time (s) |", "|---|---|---|---|---|"]
            for name, vals in rows.items():
                if not vals:
                    lines.append(f"| {name} | 0 | – | – | – |")
                    continue
                v = np.array(vals)
                lines.append(f"| {name} | {len(v)} | {_fmt(v[:, 0])} | {_fmt(v[:, 1])} | "
                             f"{_fmt(v[:, 2])} |")
            if kept:
                lines += ["", f"ARD_SO_NMF kept components per replicate: {kept}"]
            print("\n".join(lines[-12:]), flush=True)
    if not args.skip_speed:
        shape, out = per_iteration(args.iterations)
        base = out["sklearn NMF(cd)"]
        lines += ["", f"## Time per iteration, {shape[0]} pixels x {shape[1]} channels, K=4",
                  "", f"{args.iterations} iterations, tol=0, one start, JIT warm-up excluded.",
                  "", "| method | s / iteration | ratio to sklearn |", "|---|---|---|"]
        for name, t in out.items():
            lines.append(f"| {name} | {t:.4f} | {t / base:.2f} |")
    path = pathlib.Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
