"""HAADF-guided pan-sharpening against the SI alone and multimodal-fusion.

Synthetic truth written here (not shared with the tests): three phases with
different mean Z (Al, Cu, Ag) on a 96 x 96 image grid, Ag particles of radius
1-3 image pixels and a Cu lamella 3 pixels wide (finer than the 2 x 2 image
pixels of one SI pixel), thickness wedge; the SI (48 x 48, 150 channels,
L-edge-like spectra on power-law backgrounds) at a dose swept over 100x; the
HAADF linear in t * sum_k f_k Z_k^1.7 with Poisson noise at 2000 counts per
pixel, Gaussian read-out noise and scan-line offsets.

Endmember sources (one block of rows each; within a block every method uses
the same endmember spectra):

* ``given``: the true spectra (scaled to the SI's counts);
* ``MinVolume``: :class:`hspy_unmix.unmixing.minvol.MinVolume` (K = 3,
  ``random_state=0``) fitted on the SI's spectra divided by their sum, as
  the user guide recommends for MinVolume when the thickness varies; the
  user guide's choice when a phase may have no pure pixel;
* ``VCA``: :class:`hspy_unmix.unmixing.vca.VCA` (K = 3, defaults,
  ``random_state=0``) on the SI's spectra;
* ``NMF``: scikit-learn NMF as ``pan_sharpen(algorithm="NMF")`` fits it
  (``init="nndsvda"``, ``tol=1e-5``, ``max_iter=1000``, ``random_state=0``).

Each source is fitted once per dose on the SI and passed to ``pan_sharpen``
(fitted estimator or array), so its time is counted in pan_sharpen's time.

Methods, on the same data and endmembers:

* SI alone: Poisson-weighted NNLS per SI pixel against the endmembers (the
  start of pan_sharpen, ``si_only_abundances``), maps replicated onto the
  image grid;
* ``s.pan_sharpen(haadf)`` at its defaults;
* ``multimodal_fusion.DataFusion`` (0.6.0; ``mapfusion`` 0.9.1 holds the same
  code) fed the SI-alone fraction maps (replicated onto the image grid) as
  elemental maps with the phases' Z, at its defaults (gamma 1.6, 50
  iterations, lambdaEDS 0.005, lambdaTV 0.1); its maps rescaled so that each
  keeps the mean of its input map.

Metrics on the phase-fraction maps (abundances normalised to sum to one):
RMSE, SNR = 10 log10(sum truth^2 / sum error^2); on the fused spectra (pan_sharpen,
or fractions times the endmembers times the SI's total for the others): PSNR,
mean spectral angle, ERGAS (ratio 1/2).

Dose-reduction factor: for pan_sharpen at dose d with map RMSE r, D / d,
where D is the smallest SI dose at which the SI-alone route (same endmember
source, refitted at each dose) reaches map RMSE r, with log RMSE
interpolated linearly in log dose between the doses of a reference sweep
(SI alone only, cheap: ``--reference-doses``, the table's doses included).
When the SI alone does not reach r within that sweep the factor is reported
as a lower bound, and the SI alone's map RMSE on the noise-free SI (infinite
dose) is given: a pan_sharpen RMSE below it is out of the SI alone's reach
at any dose (factor unbounded). The factor is computed twice: with the maps
on the image grid (the SI alone replicated; its error does not vanish at
infinite dose, the SI pixel being coarser than the specimen's features) and
on the SI's grid (pan_sharpen's amounts averaged over each SI pixel, against
the phase fractions of the amounts in that pixel, which the SI alone
reaches at infinite dose with the true spectra).

Run: ``python benchmarks/bench_pan_sharpening_haadf.py`` (``--help`` for the
options: doses, endmember sources, reference sweep).
"""

from __future__ import annotations

import argparse
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
SOURCES = ("given", "MinVolume", "VCA", "NMF")
#: SI-alone-only sweep for the dose-reduction factor: 2 x 10^(k/4), k = 0..16.
REFERENCE_DOSES = tuple(float(f"{2 * 10 ** (k / 4):.4g}") for k in range(17))
PEERS = ("multimodal_fusion", "mapfusion")


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


def noise_free_si(frac, thickness, E, dose=200.0):
    """The SI without noise (the limit of infinite dose, in counts of ``dose``)."""
    return block_mean((frac * thickness[..., None]) @ E, F) * dose * E.shape[1]


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


def fit_source(source, X, E_true):
    """What is passed to pan_sharpen as ``algorithm`` and the endmembers it yields."""
    Y = X.reshape(-1, X.shape[-1])
    if source == "given":
        E = E_true * X.sum() / X.size
        return E, E
    if source == "MinVolume":
        from hspy_unmix.unmixing.minvol import MinVolume

        est = MinVolume(n_components=3, random_state=0)
        est.fit(Y / np.maximum(Y.sum(1, keepdims=True), 1e-12))
    elif source == "VCA":
        from hspy_unmix.unmixing.vca import VCA

        est = VCA(n_components=3, random_state=0)
        est.fit(Y)
    elif source == "NMF":
        from sklearn.decomposition import NMF

        est = NMF(n_components=3, init="nndsvda", max_iter=1000, tol=1e-5, random_state=0)
        with _quiet():
            est.fit(Y)
    else:
        raise ValueError(f"unknown endmember source {source!r}; choose from {SOURCES}.")
    return est, np.clip(np.asarray(est.components_, dtype=np.float64), 0.0, None)


def si_alone(X, E):
    """pan_sharpen's SI-only abundances: Poisson-weighted NNLS per SI pixel."""
    from hspy_unmix.fusion._solve import channel_weights
    from hspy_unmix.unmixing.abundances import nnls_abundances

    Y = X.reshape(-1, X.shape[-1])
    w = channel_weights(Y.mean(0)[None], "poisson")
    return nnls_abundances(Y * w, E * w).reshape(X.shape[:2] + (E.shape[0],))


def si_alone_rmse(X, E, E_true, frac, frac_si):
    """Map RMSE of the SI alone on the image grid and on the SI's grid."""
    perm = _match(E, E_true)
    fr = fractions(si_alone(X, E)[..., perm])
    return (float(np.sqrt(((replicate(fr, F) - frac) ** 2).mean())),
            float(np.sqrt(((fr - frac_si) ** 2).mean())))


def si_grid_truth(frac, thickness):
    """Phase fractions of the SI pixels (of the amounts each SI pixel holds)."""
    return fractions(block_mean(frac * thickness[..., None], F))


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


def run_table(doses, sources, frac, thickness, E_true):
    """Rows (dose, source, method, metrics...) of the main table."""
    import hyperspy.api as hs

    rows = []
    si_grid = {}  # (dose, source): pan_sharpen's map RMSE on the SI's grid
    frac_si = si_grid_truth(frac, thickness)
    for dose in doses:
        X, h, clean = simulate(frac, thickness, E_true, dose, seed=int(dose))
        s = hs.signals.Signal1D(X)
        s.set_signal_type("EELS")
        image = hs.signals.Signal2D(h)
        total = replicate(X.sum(-1), F)[..., None]
        for source in sources:
            t0 = time.perf_counter()
            algorithm, E = fit_source(source, X, E_true)
            r = s.pan_sharpen(image, n_components=3, algorithm=algorithm, random_state=0,
                              return_report=True, show_progressbar=False)
            dt = time.perf_counter() - t0
            endm = np.asarray(r.endmembers.data)
            assert np.allclose(endm, E), "pan_sharpen used other endmembers"
            perm = _match(endm, E_true)
            A = np.moveaxis(np.asarray(r.abundances.data), 0, -1)[..., perm]
            A0 = np.moveaxis(np.asarray(r.si_only_abundances.data), 0, -1)[..., perm]
            assert np.allclose(A0, si_alone(X, E)[..., perm], rtol=1e-6, atol=1e-8 * A0.max())
            si_fr = replicate(fractions(A0), F)
            si_grid[dose, source] = float(np.sqrt(
                ((fractions(block_mean(A, F)) - frac_si) ** 2).mean()))
            results = {
                "SI alone": metrics(si_fr, frac, replicate(A0, F) @ endm[perm], clean,
                                    float("nan")),
                "pan_sharpen": metrics(fractions(A), frac, np.asarray(r.fused.data), clean, dt),
            }
            unit = endm[perm] / endm[perm].sum(1, keepdims=True)
            for module in PEERS:
                t0 = time.perf_counter()
                try:
                    fr = peer(module, si_fr, h)
                except Exception as exc:  # a peer whose compiled part does not load
                    print(f"{dose:7.1f} {source:10s} {module:18s} failed: "
                          f"{type(exc).__name__}: {exc}", flush=True)
                    continue
                dt = time.perf_counter() - t0
                spec = (fr[..., None] * unit).sum(-2) * replicate(block_mean(total, F), F)
                results[module] = metrics(fr, frac, spec, clean, dt)
            for method, m in results.items():
                rows.append((dose, source, method) + tuple(float(v) for v in m))
                print(f"{dose:7.1f} {source:10s} {method:18s} RMSE {m[0]:.4f} SNR {m[1]:6.2f} dB "
                      f"PSNR {m[2]:6.2f} dB angle {m[3]:6.2f} deg ERGAS {m[4]:7.2f} "
                      f"time {m[5]:6.2f} s", flush=True)
    return rows, si_grid


def reference_sweep(doses, sources, frac, thickness, E_true):
    """SI-alone map RMSE per source along ``doses``, and at infinite dose.

    Each value is a pair (on the image grid, on the SI's grid).
    """
    frac_si = si_grid_truth(frac, thickness)
    curves = {src: [] for src in sources}
    for dose in doses:
        X, _, _ = simulate(frac, thickness, E_true, dose, seed=int(dose))
        for src in sources:
            _, E = fit_source(src, X, E_true)
            curves[src].append(si_alone_rmse(X, E, E_true, frac, frac_si))
        print(f"reference {dose:9.4g} " + " ".join(
            f"{src} {curves[src][-1][0]:.4f}/{curves[src][-1][1]:.4f}" for src in sources),
            flush=True)
    X = noise_free_si(frac, thickness, E_true)
    limit = {src: si_alone_rmse(X, fit_source(src, X, E_true)[1], E_true, frac, frac_si)
             for src in sources}
    print("reference   noise-free " + " ".join(
        f"{src} {limit[src][0]:.4f}/{limit[src][1]:.4f}" for src in sources))
    return {src: np.array(c) for src, c in curves.items()}, limit


def dose_needed(doses, rmse, target):
    """Smallest dose at which the log-log interpolated curve reaches ``target``.

    ``(dose, kind)``: kind ``"="`` (interpolated), ``"<="`` (reached at the
    first dose already) or ``">"`` (not reached within the sweep).
    """
    d = np.log(np.asarray(doses, float))
    r = np.log(np.asarray(rmse, float))
    t = np.log(target)
    if r[0] <= t:
        return float(doses[0]), "<="
    for i in range(len(d) - 1):
        if r[i + 1] <= t:
            x = d[i] + (t - r[i]) * (d[i + 1] - d[i]) / (r[i + 1] - r[i])
            return float(np.exp(x)), "="
    return float(doses[-1]), ">"


def dose_reduction(rows, si_grid, ref_doses, curves, limit):
    """Rows (dose, source, grid, pan_sharpen RMSE, SI-alone dose, kind, factor, limit).

    ``grid`` 0: maps on the image grid; 1: maps on the SI's grid.
    """
    out = []
    for dose, source, method, rmse, *_ in rows:
        if method != "pan_sharpen":
            continue
        for grid, r in enumerate((rmse, si_grid[dose, source])):
            needed, kind = dose_needed(ref_doses, curves[source][:, grid], r)
            out.append((dose, source, grid, r, needed, kind, needed / dose,
                        limit[source][grid]))
    return out


def markdown(rows, factors):
    lines = ["| dose | endmembers | method | map RMSE | map SNR (dB) | PSNR (dB) | angle (deg) "
             "| ERGAS | time (s) |", "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for dose, source, method, rmse, snr, psnr, angle, ergas, sec in rows:
        t = "-" if np.isnan(sec) else f"{sec:.1f}"
        lines.append(f"| {dose:g} | {source} | {method} | {rmse:.3f} | {snr:.1f} | {psnr:.1f} "
                     f"| {angle:.2f} | {ergas:.1f} | {t} |")
    lines += ["", "| dose | endmembers | maps on | pan_sharpen map RMSE | SI-alone dose for it "
              "| dose-reduction factor | SI alone at infinite dose |",
              "|---:|---|---|---:|---:|---:|---:|"]
    for dose, source, grid, rmse, needed, kind, factor, lim in factors:
        sign = {"=": "", "<=": "<= ", ">": "> "}[kind]
        if kind == ">" and lim > rmse:
            reach, fac = "never", "unbounded"
        else:
            reach, fac = f"{sign}{needed:.3g}", f"{sign}{factor:.3g}"
        lines.append(f"| {dose:g} | {source} | {('image grid', 'SI grid')[grid]} | {rmse:.4f} "
                     f"| {reach} | {fac} | {lim:.4f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--doses", type=float, nargs="+", default=list(DOSES),
                        help="SI doses of the main table (default: %(default)s)")
    parser.add_argument("--endmembers", nargs="+", default=list(SOURCES), choices=SOURCES,
                        help="endmember sources, one block each (default: all)")
    parser.add_argument("--reference-doses", type=float, nargs="+",
                        default=list(REFERENCE_DOSES),
                        help="SI-alone-only sweep for the dose-reduction factor "
                             "(default: 2 x 10^(k/4), k = 0..16)")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the reference sweep and the dose-reduction factor")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    frac, thickness, E_true = truth()
    rows, si_grid = run_table(args.doses, args.endmembers, frac, thickness, E_true)
    factors = []
    if not args.no_reference:
        ref = sorted(set(args.reference_doses) | set(args.doses))
        curves, limit = reference_sweep(ref, args.endmembers, frac, thickness, E_true)
        factors = dose_reduction(rows, si_grid, ref, curves, limit)
    print()
    print(markdown(rows, factors))
    print(f"\nwall time {time.perf_counter() - t_start:.0f} s")
    return rows, factors


def _match(endm, E_true):
    from itertools import permutations

    a = endm / np.linalg.norm(endm, axis=1, keepdims=True)
    b = E_true / np.linalg.norm(E_true, axis=1, keepdims=True)
    best = max(permutations(range(3)), key=lambda p: sum(a[p[i]] @ b[i] for i in range(3)))
    return list(best)


@contextlib.contextmanager
def _quiet():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


if __name__ == "__main__":
    main()
