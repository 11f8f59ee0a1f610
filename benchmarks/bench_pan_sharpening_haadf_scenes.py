"""HAADF-guided pan-sharpening on specimen geometries of their own: the thickness prior.

Three families of scenes, written here and shared with neither the tests nor
``bench_pan_sharpening_haadf.py`` (96 x 96 image pixels, SI 2x or 4x
coarser, 160 channels of edge-like spectra, HAADF linear in
``sum_k a_k Z_k^1.6`` at 3000 counts per pixel with Gaussian read-out noise):

* ``film``: a Z = 6 film of constant thickness carrying 30 spherical Fe-like
  (Z = 26) and Au-like (Z = 79) particles of radius 0.4-1.8 SI pixels: the
  total amount jumps at every particle and varies inside it (the case the
  thickness prior must stay out of);
* ``rough``: two phases (Z 14 and 72) in sinuous grains, thickness smooth
  times 15 % white roughness per image pixel;
* ``mixed``: three phases (Z 8, 22, 40) in blocks of 2 SI pixels with
  interfaces spread by a Gaussian of 0.8 SI pixels (no pure pixel near an
  interface), thickness ramp 0.7-1.3.

Per scene, factor and dose (1 and 50 counts per channel per SI pixel): the
true spectra are given (the fusion alone is measured), three seeds; the map
RMSE on the phase fractions of the SI alone (pan_sharpen's own start,
replicated), of ``pan_sharpen`` without the thickness prior
(``thickness_smoothness=0``) and at its defaults (the prior's weight
estimated from the SI). Median and range over the seeds.

Run: ``python benchmarks/bench_pan_sharpening_haadf_scenes.py`` (about 5
minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import hspy_unmix  # noqa: F401
from hspy_unmix.fusion._haadf_model import block_mean, replicate

N = 96
KINDS = ("film", "rough", "mixed")
FACTORS = (2, 4)
DOSES = (1.0, 50.0)
SEEDS = (0, 1, 2)


def scene(kind, f, seed):
    """Amounts (N, N, K) and atomic numbers of one scene."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:N, :N] / f  # in SI pixels
    if kind == "film":
        amounts = np.zeros((N, N, 3))
        amounts[..., 0] = 1.0
        for j in range(30):
            cy, cx = rng.uniform(0, N / f, 2)
            r = rng.uniform(0.4, 1.8)
            d2 = (yy - cy) ** 2 + (xx - cx) ** 2
            amounts[..., 1 + j % 2] += (np.sqrt(np.clip(r * r - d2, 0, None)) / r
                                        * rng.uniform(0.5, 1.5))
        return amounts, np.array([6.0, 26.0, 79.0])
    if kind == "rough":
        phase = np.sin(xx * 1.3 + 2 * np.cos(yy * 0.9 + rng.uniform(0, 6))) + np.sin(yy * 1.7) > 0.3
        amounts = np.stack([~phase, phase], -1).astype(float)
        t = (1 + 0.3 * np.sin(yy / 7)) * (1 + 0.15 * rng.standard_normal((N, N)))
        return amounts * np.clip(t, 0.3, None)[..., None], np.array([14.0, 72.0])
    if kind == "mixed":
        labels = rng.integers(0, 3, (N // (2 * f) + 1,) * 2)
        labels = np.kron(labels, np.ones((2 * f, 2 * f)))[:N, :N].astype(int)
        amounts = gaussian_filter(np.eye(3)[labels], (0.8 * f, 0.8 * f, 0))
        return amounts * (0.7 + 0.6 * yy / yy.max())[..., None], np.array([8.0, 22.0, 40.0])
    raise ValueError(f"unknown scene {kind!r}; choose from {KINDS}.")


def spectra(k, n_ch=160):
    """Edge-like unit-sum spectra on a power-law background, onsets apart."""
    e = np.linspace(100.0, 900.0, n_ch)
    out = []
    for onset in (250.0, 450.0, 700.0)[:k]:
        edge = 8 * np.sqrt(np.clip(e - onset + 1, 0, None) / 50) * np.exp(-(e - onset) / 200)
        s = (e / 100) ** -3.0 * (1 + (e > onset) * edge)
        out.append(s / s.sum())
    return np.array(out)


def one_case(kind, f, dose, seed):
    import hyperspy.api as hs

    amounts, Z = scene(kind, f, seed)
    frac = amounts / amounts.sum(-1, keepdims=True)
    E = spectra(amounts.shape[-1]) * dose * 160
    rng = np.random.default_rng(1000 + seed)
    X = rng.poisson(block_mean(amounts @ E, f)).astype(float)
    clean = amounts @ Z ** 1.6
    h = rng.poisson(3000 * clean / clean.mean()) + rng.normal(0, 30, clean.shape)
    s = hs.signals.Signal1D(X)
    s.set_signal_type("EELS")
    image = hs.signals.Signal2D(h)

    def rmse(a):
        return float(np.sqrt(((a / np.maximum(a.sum(-1, keepdims=True), 1e-12) - frac) ** 2)
                             .mean()))

    out = {}
    for label, ts in (("no prior", 0.0), ("default", None)):
        r = s.pan_sharpen(image, algorithm=E, thickness_smoothness=ts, return_report=True,
                          show_progressbar=False)
        out[label] = rmse(np.moveaxis(np.asarray(r.abundances.data), 0, -1))
        if ts is None:
            out["weight"] = float(r.fused.metadata.Signal.pan_sharpen.thickness_smoothness)
    A0 = np.moveaxis(np.asarray(r.si_only_abundances.data), 0, -1)
    out["SI alone"] = rmse(replicate(A0, f))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    lines = ["| scene | factor | dose | SI alone | no prior | default | default / no prior "
             "| prior weight |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in args.kinds:
        for f in FACTORS:
            for dose in DOSES:
                runs = [one_case(kind, f, dose, seed) for seed in args.seeds]
                cell = {key: np.array([r[key] for r in runs]) for key in runs[0]}
                ratio = cell["default"] / cell["no prior"]

                def fmt(v, p=4):
                    return f"{np.median(v):.{p}f} ({v.min():.{p}f}-{v.max():.{p}f})"

                lines.append(f"| {kind} | {f} | {dose:g} | {fmt(cell['SI alone'])} | "
                             f"{fmt(cell['no prior'])} | {fmt(cell['default'])} | "
                             f"{fmt(ratio, 2)} | {fmt(cell['weight'], 3)} |")
                print(lines[-1], flush=True)
    print()
    print("\n".join(lines))
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
