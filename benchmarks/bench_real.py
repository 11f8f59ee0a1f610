"""Real-data benchmark: Samson (reference endmembers) and the CuZn core-loss SI.

For every algorithm and seed: mean SAD to the reference (Samson), relative
reconstruction error ``||X - transform(X) @ components_|| / ||X||``, the
seed spread (max - min SAD over the seeds) and the time. HyperSpy's own NMF
and a plain single-start VCA+FCLS are run beside the package's defaults.

    python benchmarks/bench_real.py --algorithms VCA MinVolume --seeds 0 1 2 3 4 \
        --figure docs/_static/real_data/samson.png

``--figure`` draws, per algorithm, its Samson endmembers at the first seed
(matched to the reference ones, each scaled to its maximum) over the
reference endmembers.

The data files are read from ../shared/data (see its SOURCES.md).
"""

from __future__ import annotations

import argparse
import pathlib
import time
import warnings

import numpy as np

import hspy_unmix
from hspy_unmix.metrics.unmixing import sad

DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


def samson():
    import scipy.io as sio

    data = sio.loadmat(DATA / "unmixing" / "Samson.mat")
    cube = data["Y"].astype(float).T.reshape(95, 95, 156).transpose(1, 0, 2)
    return cube.reshape(-1, 156).copy(), data["GT"].astype(float), 3, (95, 95)


def cuzn():
    import hyperspy.api as hs

    s = hs.load(DATA / "eels" / "CuZn_coreloss_SI_50x40.hspy")
    return s.data.reshape(-1, s.data.shape[-1]).astype(float), None, 3, s.data.shape[:2]


def run(name, X, k, seed, image_shape):
    if name == "HyperSpy NMF":
        from sklearn.decomposition import NMF

        model = NMF(n_components=k, random_state=seed, max_iter=500)
        A = model.fit_transform(X)
        return model.components_, A
    if name == "VCA (1 start)":
        est = hspy_unmix.VCA(k, random_state=seed, n_starts=1, outlier_screen=False)
    else:
        est = getattr(hspy_unmix, name)(k, random_state=seed)
        if getattr(est, "_spatial", False):  # CNNAEU reads image patches
            est.set_params(image_shape=tuple(image_shape))
    A = est.fit_transform(X)
    return est.components_, A


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--algorithms", nargs="+",
                        default=["VCA", "VCA (1 start)", "MinVolume", "HyperSpy NMF"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--figure", default=None, help="PNG of the Samson endmembers")
    args = parser.parse_args()
    first = {}
    warnings.simplefilter("ignore")
    print("| data | algorithm | SAD mean (rad) | seed spread (rad) | rel. reconstruction error | time (s) |")
    print("|---|---|---|---|---|---|")
    for label, loader in (("Samson", samson), ("CuZn", cuzn)):
        X, truth, k, image_shape = loader()
        for name in args.algorithms:
            sads, errors, times, failed, short = [], [], [], [], []
            for seed in args.seeds:
                t = time.perf_counter()
                try:
                    components, A = run(name, X, k, seed, image_shape)
                except ValueError as exc:  # a refusal is a result: count it
                    failed.append(f"seed {seed}: {exc}")
                    continue
                times.append(time.perf_counter() - t)
                errors.append(np.linalg.norm(X - A @ components) / np.linalg.norm(X))
                if truth is not None and len(components) < len(truth):
                    # a pruning method (ARD) kept fewer components than the
                    # reference has: no matching, so no SAD for this seed
                    short.append(f"seed {seed}: {len(components)} of {len(truth)} kept")
                elif truth is not None:
                    sads.append(sad(truth, components).mean())
                    if seed == args.seeds[0]:
                        first[name] = (components, sads[-1])
            sad_text = (f"{np.mean(sads):.4f}", f"{np.ptp(sads):.4f}") if sads else ("-", "-")
            note = f" ({len(failed)} of {len(args.seeds)} seeds refused: {failed[0]})" \
                if failed else ""
            if short:
                note += f" ({len(short)} of {len(args.seeds)} seeds without SAD: {'; '.join(short)})"
            print(f"| {label} | {name}{note} | {sad_text[0]} | {sad_text[1]} | "
                  f"{np.mean(errors) if errors else np.nan:.4f} | "
                  f"{np.mean(times) if times else np.nan:.2f} |", flush=True)
    if args.figure:
        _figure(first, samson()[1], args.figure)
        print("wrote", args.figure)


def _figure(first, truth, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hspy_unmix.metrics.unmixing import match_components

    names = list(first)
    cols = 4
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False,
                             sharex=True, sharey=True)
    band = np.arange(truth.shape[1])
    colours = ("tab:blue", "tab:orange", "tab:green")
    for ax, name in zip(axes.flat, names):
        components, mean_sad = first[name]
        perm = match_components(truth, components)
        for i, c in enumerate(colours[: truth.shape[0]]):
            ax.plot(band, truth[i] / truth[i].max(), color=c, ls="--", lw=0.8)
            est = components[perm[i]]
            ax.plot(band, est / max(est.max(), 1e-12), color=c, lw=1.2)
        ax.set_title(f"{name}: SAD {mean_sad:.3f} rad", fontsize=8)
    for ax in axes.flat[len(names):]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("band", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("scaled reflectance", fontsize=8)
    fig.suptitle("Samson: endmembers (solid) over the reference ones (dashed), first seed",
                 fontsize=9)
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
