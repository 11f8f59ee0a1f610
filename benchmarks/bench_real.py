"""Real-data benchmark: Samson (reference endmembers) and the CuZn core-loss SI.

For every algorithm and seed: mean SAD to the reference (Samson), relative
reconstruction error ``||X - transform(X) @ components_|| / ||X||``, the
seed spread (max - min SAD over the seeds) and the time. HyperSpy's own NMF
and a plain single-start VCA+FCLS are run beside the package's defaults.

    python benchmarks/bench_real.py --algorithms VCA MinVolume --seeds 0 1 2 3 4

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
    return cube.reshape(-1, 156).copy(), data["GT"].astype(float), 3


def cuzn():
    import hyperspy.api as hs

    s = hs.load(DATA / "eels" / "CuZn_coreloss_SI_50x40.hspy")
    return s.data.reshape(-1, s.data.shape[-1]).astype(float), None, 3


def run(name, X, k, seed):
    if name == "HyperSpy NMF":
        from sklearn.decomposition import NMF

        model = NMF(n_components=k, random_state=seed, max_iter=500)
        A = model.fit_transform(X)
        return model.components_, A
    if name == "VCA (1 start)":
        est = hspy_unmix.VCA(k, random_state=seed, n_starts=1, outlier_screen=False)
    else:
        est = getattr(hspy_unmix, name)(k, random_state=seed)
    A = est.fit_transform(X)
    return est.components_, A


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--algorithms", nargs="+",
                        default=["VCA", "VCA (1 start)", "MinVolume", "HyperSpy NMF"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print("| data | algorithm | SAD mean (rad) | seed spread (rad) | rel. reconstruction error | time (s) |")
    print("|---|---|---|---|---|---|")
    for label, loader in (("Samson", samson), ("CuZn", cuzn)):
        X, truth, k = loader()
        for name in args.algorithms:
            sads, errors, times = [], [], []
            for seed in args.seeds:
                t = time.perf_counter()
                components, A = run(name, X, k, seed)
                times.append(time.perf_counter() - t)
                errors.append(np.linalg.norm(X - A @ components) / np.linalg.norm(X))
                if truth is not None:
                    sads.append(sad(truth, components).mean())
            sad_text = (f"{np.mean(sads):.4f}", f"{np.ptp(sads):.4f}") if sads else ("-", "-")
            print(f"| {label} | {name} | {sad_text[0]} | {sad_text[1]} | "
                  f"{np.mean(errors):.4f} | {np.mean(times):.2f} |")


if __name__ == "__main__":
    main()
