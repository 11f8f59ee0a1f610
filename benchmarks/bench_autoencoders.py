"""Timing and accuracy of the autoencoder unmixing (results: docs/benchmarks/autoencoders.md).

Run with ``python benchmarks/bench_autoencoders.py`` from the repository root
(``--only DAEU`` runs VCA + FCLS, MinVolume + FCLS and DAEU alone; ``--sets impure`` runs the
one-impure-component set alone).
Measures, on the Brun et al. chequerboard (64 x 64 x 200, 3 components):

* training times of DAEU, UDAS, MTAEU and CNNAEU (TensorFlow start-up and
  graph tracing excluded by a short warm-up fit of each) beside the
  published 84, 72, 192 and 491 s of Brun et al., Table 3;
* SAD / NMSE of these networks, of VCA + FCLS and of the minimum-volume
  simplex + FCLS (``MinVolume``, the default DAEU start; row ``DAEU (VCA
  start)`` is DAEU with ``init="vca"``) on the default set, on a
  variant without pure pixels (``max_abundance=0.7``, every pixel shrunk
  towards the simplex centre) and on a variant where only the third component
  (carbon support) has no pure pixel (``impure_components={2: 0.6}``, as the
  Ru layer of Brun et al.'s experimental data);
* DAEU abundances from fully constrained least squares against its learned
  endmembers (``abundances="fcls"``, row ``DAEU (FCLS)``; the time is the
  training plus the FCLS solve);
* inference of the trained DAEU on a new 64 x 64 SI (warm-up excluded).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import hspy_unmix  # noqa: E402, F401
from hspy_unmix.metrics.unmixing import unmixing_scores  # noqa: E402
from hspy_unmix.minvol import MinVolume  # noqa: E402
from hspy_unmix.neural.autoencoders import CNNAEU, DAEU, MTAEU, UDAS  # noqa: E402
from hspy_unmix.synthetic import chequerboard_si  # noqa: E402
from hspy_unmix.vca import VCA  # noqa: E402

PUBLISHED_SECONDS = {"DAEU": 84, "MTAEU": 192, "CNNAEU": 491, "UDAS": 72}
#: Data sets: command-line key -> (table label, ``chequerboard_si`` keywords).
DATA_SETS = {
    "default": ("default", {}),
    "no-pure": ("no pure pixels", {"max_abundance": 0.7}),
    "impure": ("one impure component (cap 0.6)", {"impure_components": {2: 0.6}}),
}


def flat(signal):
    return signal.data.reshape(-1, signal.data.shape[-1]).astype(np.float64)


def scores(truth, components, abundances):
    result = unmixing_scores(truth.endmembers, truth.flat_abundances, components, abundances)
    return result["sad_mean"], result["nmse_mean"]


def networks(seed: int, shape, epochs: int, n_starts: int = 1):
    """The benchmarked networks, with their published defaults otherwise:
    one training each (``n_starts``) unless asked, as the papers time them."""
    common = {"random_state": seed, "show_progressbar": False}
    starts = {"n_starts": n_starts}
    return {
        "DAEU": DAEU(3, epochs=epochs, **starts, **common),
        "DAEU (VCA start)": DAEU(3, epochs=epochs, init="vca", **starts, **common),
        "UDAS": UDAS(3, epochs=epochs, **common),
        "MTAEU": MTAEU(3, image_shape=shape, epochs=epochs, **starts, **common),
        "CNNAEU": CNNAEU(3, image_shape=shape, epochs=epochs, **starts, **common),
    }


def main(epochs: int = 40, seeds=(0, 1, 2), only=None, sets=tuple(DATA_SETS), n_starts=1):
    def selected(seed, shape, n_epochs):
        nets = networks(seed, shape, n_epochs, n_starts)
        return {k: v for k, v in nets.items() if only is None or k.split()[0] in only}

    warm, _ = chequerboard_si(n_components=3, shape=(16, 16), random_state=0)
    for net in selected(0, (16, 16), 1).values():
        net.set_params(**({"patch_size": 8} if isinstance(net, CNNAEU) else {}))
        net.fit(flat(warm))  # warm-up: TensorFlow import and tracing
    rows = []
    daeu = None
    for label, kwargs in (DATA_SETS[key] for key in sets):
        for seed in seeds:
            s, truth = chequerboard_si(n_components=3, random_state=seed, **kwargs)
            X = flat(s)
            for name, baseline in (("VCA+FCLS", VCA(3, random_state=seed)),
                                   ("MinVolume+FCLS", MinVolume(3, random_state=seed))):
                start = time.perf_counter()
                abundances = baseline.fit_transform(X)
                seconds = time.perf_counter() - start
                rows.append((label, seed, name, seconds,
                             *scores(truth, baseline.components_, abundances)))
                print(rows[-1], flush=True)
            for name, net in selected(seed, s.data.shape[:-1], epochs).items():
                start = time.perf_counter()
                abundances = net.fit_transform(X)
                seconds = time.perf_counter() - start
                rows.append((label, seed, name, seconds, *scores(truth, net.components_, abundances), len(net.history_["loss"])))
                print(rows[-1], flush=True)
                if name == "DAEU":
                    daeu = net
                    start = time.perf_counter()
                    fcls = net.set_params(abundances="fcls").transform(X)
                    fcls_seconds = seconds + time.perf_counter() - start
                    net.set_params(abundances="encoder")
                    rows.append((label, seed, "DAEU (FCLS)", fcls_seconds, *scores(truth, net.components_, fcls), len(net.history_["loss"])))
                    print(rows[-1], flush=True)
    if daeu is not None:
        s_new, _ = chequerboard_si(n_components=3, random_state=99)
        X_new = flat(s_new)
        daeu.transform(X_new)  # warm-up
        times = []
        for _ in range(5):
            start = time.perf_counter()
            daeu.transform(X_new)
            times.append(time.perf_counter() - start)
        print(f"DAEU inference on a new 64x64 SI: median {np.median(times):.4f} s")
    print("published training times (Brun et al., Table 3):", PUBLISHED_SECONDS)
    print("| set | seed | method | time (s) | SAD | NMSE | epochs run |")
    for row in rows:
        label, seed, method, seconds, sad_mean, nmse_mean, *rest = row
        print(f"| {label} | {seed} | {method} | {seconds:.2f} | {sad_mean:.4f} | "
              f"{nmse_mean:.4f} | {rest[0] if rest else ''} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(PUBLISHED_SECONDS),
                        help="networks to run (VCA + FCLS and MinVolume + FCLS always run)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--sets", nargs="+", choices=list(DATA_SETS), default=list(DATA_SETS),
                        help="data sets to run (all by default)")
    parser.add_argument("--n-starts", type=int, default=1,
                        help="networks trained per fit (the estimators' default is 3)")
    args = parser.parse_args()
    main(seeds=tuple(args.seeds), only=args.only, sets=tuple(args.sets),
         n_starts=args.n_starts)
