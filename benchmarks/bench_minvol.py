"""Benchmark of MinVolume against VCA: accuracy over dose, with and without pure pixels.

Chequerboard SIs (64 x 64 x 200, 3 components, Poisson noise) at 200, 2000
and 20 000 mean counts per channel of an endmember, seeds 0-2, three
variants:

* ``default``: every phase has pure pixels;
* ``impure``: the third phase (carbon support) never exceeds 0.6
  (``impure_components={2: 0.6}``): no pure pixel, the missing vertex is
  still where its two edges meet;
* ``no-pure``: every pixel shrunk towards the simplex centre
  (``max_abundance=0.7``): no pixel on any facet, so the data alone do not
  determine the endmembers.

Both estimators solve the abundances by FCLS. Also measures the ``penalty``
sweep of MinVolume on the ``impure`` set at 2000 counts. Run from the
repository root::

    python benchmarks/bench_minvol.py

Results are written to ``docs/benchmarks/minvol.md``.
"""

from __future__ import annotations

import os
import pathlib
import platform
import time

import numpy as np

from hspy_unmix.metrics.unmixing import unmixing_scores
from hspy_unmix.minvol import MinVolume
from hspy_unmix.synthetic import chequerboard_si
from hspy_unmix.vca import VCA

SETS = {
    "default": {},
    "impure": {"impure_components": {2: 0.6}},
    "no-pure": {"max_abundance": 0.7},
}
COUNTS = (200, 2000, 20000)
SEEDS = (0, 1, 2)
PENALTIES = (1, 3, 10, 30, 100, 300)
OUT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "minvol.md"


def run(estimator, X, truth):
    start = time.perf_counter()
    abundances = estimator.fit_transform(X)
    seconds = time.perf_counter() - start
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances,
                             estimator.components_, abundances)
    return scores["sad_mean"], scores["nmse_mean"], seconds


def main():
    load = os.getloadavg()[0]
    lines = [
        "# MinVolume against VCA",
        "",
        "Reproduce from the repository root with `python benchmarks/bench_minvol.py`",
        "(about a minute).",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"logical CPUs, load average at start {load:.1f}.",
        "",
        "Data: `chequerboard_si(n_components=3, counts=..., random_state=seed)`, "
        "64 x 64 x 200, with every phase pure somewhere (`default`), the third "
        "phase capped at 0.6 (`impure`, `impure_components={2: 0.6}`) or every "
        "pixel shrunk towards the centre of the simplex (`no-pure`, "
        "`max_abundance=0.7`). Mean SAD (radians, matched components) and NMSE "
        "of the FCLS abundances, seeds 0, 1, 2; time of fit and abundances.",
        "",
        "| set | counts | VCA SAD | MinVolume SAD | VCA NMSE | MinVolume NMSE "
        "| MinVolume better (SAD, NMSE) | MinVolume time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, kwargs in SETS.items():
        for counts in COUNTS:
            vca, mv = [], []
            for seed in SEEDS:
                s, truth = chequerboard_si(n_components=3, counts=counts,
                                           random_state=seed, **kwargs)
                X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
                vca.append(run(VCA(3, random_state=seed), X, truth))
                mv.append(run(MinVolume(3, random_state=seed), X, truth))
            vca, mv = np.array(vca), np.array(mv)
            better = f"{int((mv[:, 0] < vca[:, 0]).sum())}/3, {int((mv[:, 1] < vca[:, 1]).sum())}/3"
            row = (
                f"| {name} | {counts} | {_span(vca[:, 0])} | {_span(mv[:, 0])} | "
                f"{_span(vca[:, 1])} | {_span(mv[:, 1])} | {better} | "
                f"{_span(mv[:, 2], 2)} |"
            )
            print(row, flush=True)
            lines.append(row)
    lines += [
        "",
        "## Penalty",
        "",
        "`impure` and `default` sets at 2000 counts, seeds 0-2: mean SAD and "
        "the volume of the simplex relative to VCA's.",
        "",
        "| penalty | impure SAD | impure volume ratio | default SAD | default volume ratio |",
        "|---|---|---|---|---|",
    ]
    for penalty in PENALTIES:
        cells = []
        for name in ("impure", "default"):
            sads, ratios = [], []
            for seed in SEEDS:
                s, truth = chequerboard_si(n_components=3, random_state=seed, **SETS[name])
                X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
                est = MinVolume(3, penalty=penalty, random_state=seed)
                sads.append(run(est, X, truth)[0])
                ratios.append(est.volume_ratio_)
            cells += [_span(np.array(sads)), _span(np.array(ratios), 2)]
        row = f"| {penalty} | " + " | ".join(cells) + " |"
        print(row, flush=True)
        lines.append(row)
    OUT.write_text("\n".join(lines + ["", _NOTES]) + "\n")
    print(f"written to {OUT}")


def _span(values, digits=4):
    low, high = float(np.min(values)), float(np.max(values))
    return f"{low:.{digits}f}" if round(low, digits) == round(high, digits) \
        else f"{low:.{digits}f}-{high:.{digits}f}"


_NOTES = """\
## Reading the tables

* With pure pixels (`default`), both find the vertices; MinVolume, whose
  vertices are not single noisy pixels, is closer to the truth in 8 of the
  9 fits (at 200 counts one seed is slightly further).
* `impure`: VCA returns a facet pixel (about `0.6 C + 0.4 Co`) for the third
  phase, at 0.17 rad from the truth on that component; MinVolume extends the
  two facets to the missing vertex. This is the situation of a support film
  or an embedded layer that is never seen alone.
* `no-pure`: no pixel lies on a facet, so any simplex around the data fits
  them equally; no spectral method recovers the truth here (both are at
  about 0.09 rad). Spatial context can: see CNNAEU in
  {doc}`autoencoders`.
* The penalty weighs the pixels outside the simplex with a Huber hinge
  whose quadratic part spans one noise standard deviation of each abundance
  (estimated from the residual beyond the signal subspace), so the same
  default serves all three doses. Its linear part makes the fraction of
  pixels left outside each facet scale as `(K - 1) / penalty`: below about
  10 (K = 3) too many pixels may stay outside and the simplex shrinks into
  the data.
"""


if __name__ == "__main__":
    main()
