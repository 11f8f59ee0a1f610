"""VCA, MinVolume and DAEU on a real scene with reference endmembers (Samson).

The Samson scene (95 x 95 pixels, 156 bands, 3 endmembers: soil, tree,
water) is one of the real scenes of the autoencoder papers of Palsson et
al. Its reference endmembers and abundances come from the unmixing
literature, not from a physical measurement, so they are a reference rather
than a ground truth. The file is not distributed with hspy_unmix; pass its path (a MATLAB
file holding ``Y`` (bands, pixels), ``GT`` (3, bands) and ``S_GT``
(95, 95, 3)). Run from the repository root::

    python benchmarks/bench_samson.py --path ../shared/data/unmixing/Samson.mat

Prints a Markdown table (mean SAD over the matched endmembers, NMSE of the
abundance maps, seeds 0-2); the numbers in ``docs/benchmarks/autoencoders.md``
come from it.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from scipy.io import loadmat  # noqa: E402

import hspy_unmix  # noqa: E402
from hspy_unmix.metrics.unmixing import unmixing_scores  # noqa: E402


def load(path):
    content = loadmat(path)
    spectra = np.asarray(content["Y"], dtype=np.float64).T
    endmembers = np.asarray(content["GT"], dtype=np.float64)
    maps = np.asarray(content["S_GT"], dtype=np.float64)
    # The pixel order of Y is not documented: take the one that fits the maps.
    orders = [maps.reshape(-1, 3), maps.transpose(1, 0, 2).reshape(-1, 3)]
    return spectra, endmembers, orders


def estimators(seed):
    common = {"random_state": seed}
    neural = {"show_progressbar": False, **common}
    return {
        "VCA+FCLS": hspy_unmix.VCA(3, **common),
        "MinVolume+FCLS": hspy_unmix.MinVolume(3, **common),
        "DAEU": hspy_unmix.DAEU(3, **neural),
        "DAEU (VCA start)": hspy_unmix.DAEU(3, init="vca", **neural),
    }


def main(path, seeds=(0, 1, 2)):
    spectra, endmembers, orders = load(path)
    print("| method | seed | time (s) | SAD | NMSE |")
    print("|---|---|---|---|---|")
    for seed in seeds:
        for name, estimator in estimators(seed).items():
            start = time.perf_counter()
            abundances = estimator.fit_transform(spectra)
            seconds = time.perf_counter() - start
            scores = min(
                (unmixing_scores(endmembers, maps, estimator.components_, abundances)
                 for maps in orders),
                key=lambda result: result["nmse_mean"],
            )
            print(f"| {name} | {seed} | {seconds:.2f} | {scores['sad_mean']:.4f} | "
                  f"{scores['nmse_mean']:.4f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", required=True, help="Samson .mat file")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    main(args.path, tuple(args.seeds))
