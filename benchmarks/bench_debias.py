"""NMF_SO's and ARD_SO_NMF's unpenalised polish (``debias_iter``) against its length.

For each data set of :mod:`bench_real` given, the endmembers' mean SAD to
the reference and the reconstruction RMSE (NNLS abundances) relative to
VCA + NNLS's, at ``debias_iter`` 0, 10, 30 and 300 (``random_state=0``)::

    python benchmarks/bench_debias.py NMF_SO Chequerboard_3 Chequerboard_3_nopure \\
        Chequerboard_4 Samson
    python benchmarks/bench_debias.py ARD_SO_NMF Chequerboard_3 Chequerboard_3_nopure \\
        Chequerboard_4 Samson

The figures are in the parameter's documentation (``hspy_unmix.NMF_SO``).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import hspy_unmix
from bench_real import DATASETS
from hspy_unmix.metrics.unmixing import sad

ITERATIONS = (0, 10, 30, 300)


def rmse(est, X) -> float:
    return float(np.sqrt(np.mean((est.transform(X) @ est.components_ - X) ** 2)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("algorithm", choices=["NMF_SO", "ARD_SO_NMF"])
    parser.add_argument("data", nargs="+", choices=list(DATASETS))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cls = getattr(hspy_unmix, args.algorithm)
    print("| data | debias_iter | SAD mean (rad) | RMSE / VCA's |")
    print("|---|---|---|---|")
    for label in args.data:
        X, truth, k, _, _ = DATASETS[label]()
        ref = rmse(hspy_unmix.VCA(k, random_state=0).fit(X), X)
        for n in ITERATIONS:
            est = cls(k, random_state=0, show_progressbar=False, debias_iter=n).fit(X)
            score = f"{sad(truth, est.components_).mean():.4f}" if truth is not None else "-"
            print(f"| {label} | {n} | {score} | {rmse(est, X) / ref:.3f} |", flush=True)


if __name__ == "__main__":
    main()
