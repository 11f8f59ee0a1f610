"""Real-data benchmark: Samson (reference endmembers) and the real EELS files.

For every data set, algorithm and seed: mean SAD to the reference (Samson
only), relative reconstruction error ``||X - inverse_transform(transform(X))|| /
||X||`` (``transform(X) @ components_``, plus the mean spectrum for AE), the seed spread of the SAD (max - min over the seeds), the
endmember spread (largest mean spectral angle between the matched endmembers
of two seeds; needs no reference) and the time. HyperSpy's own NMF and a
plain single-start VCA+FCLS are run beside the package's defaults.

    python benchmarks/bench_real.py --algorithms VCA MinVolume --seeds 0 1 2 3 4 \
        --figure docs/_static/real_data/samson.png
    python benchmarks/bench_real.py --data CuZn LSMO_STO --algorithms VCA \
        --save results/real
    python benchmarks/bench_real.py --draw results/real --out docs/_static/real_data
    python benchmarks/bench_real.py --cuzn-recipe --algorithms VCA MinVolume

``--figure`` draws, per algorithm, its Samson endmembers at the first seed
(matched to the reference ones, each scaled to its maximum) over the
reference endmembers. ``--save DIR`` writes each algorithm's first-seed
endmembers and abundances per data set to ``DIR``; ``--draw DIR`` turns every
data set found there into one figure of endmembers and abundance maps (or
profiles, for a line scan), the algorithms side by side.

``--cuzn-recipe`` asks whether Cu L2,3 and Zn L2,3 end up in separate
components of the CuZn SI, on the raw SI (K=3) and after the recipe of the
gallery (power-law background fitted at 800-925 eV and removed, energy window
930-1400 eV, K=2). Each component's edge signals are measured as in the
classic three-window method: a power law fitted before the edge is
extrapolated and the signal above it summed over the edge window (Cu: fit
850-925 eV, sum 935-1010 eV, no background after the recipe; Zn: fit
945-1015 eV, the Cu edge's tail, sum 1025-1100 eV), each divided by the
component's total over 935-1100 eV. "Separated" means one component with a
Cu signal of at least 0.05 and 3x its Zn signal, and another with a Zn
signal of at least 0.05 and 3x its Cu signal.

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
    """Samson as (X, reference endmembers, K, image shape, band axis)."""
    import scipy.io as sio

    data = sio.loadmat(DATA / "unmixing" / "Samson.mat")
    cube = data["Y"].astype(float).T.reshape(95, 95, 156).transpose(1, 0, 2)
    return (cube.reshape(-1, 156).copy(), data["GT"].astype(float), 3, (95, 95),
            np.arange(156))


def _eels(name, k):
    """A real EELS file of ../shared/data/eels as (X, None, k, image shape, axis)."""

    def load():
        import hyperspy.api as hs

        s = hs.load(DATA / "eels" / name)
        axis = s.axes_manager.signal_axes[0].axis
        return (s.data.reshape(-1, s.data.shape[-1]).astype(float), None, k,
                s.data.shape[:-1], axis)

    return load


def _chequerboard(k, max_abundance):
    """The package's synthetic chequerboard SI (data seed 0) with its truth."""

    def load():
        from hspy_unmix.synthetic import chequerboard_si

        s, truth = chequerboard_si(n_components=k, max_abundance=max_abundance,
                                   random_state=0)
        return (s.data.reshape(-1, s.data.shape[-1]).astype(float), truth.endmembers, k,
                s.data.shape[:-1], s.axes_manager.signal_axes[0].axis)

    return load


#: data set name -> loader; K is the number of phases the file is said to hold
#: (SOURCES.md: Cu and ZnO on carbon; LSMO on STO; LSMO film and its
#: surroundings) or, for the undocumented Angadi specimens, three.
DATASETS = {
    "Samson": samson,
    "CuZn": _eels("CuZn_coreloss_SI_50x40.hspy", 3),
    "LSMO_STO": _eels("LSMO_STO_coreloss_linescan_10.hspy", 2),
    "LSMO": _eels("LSMO_coreloss_linescan_40.hspy", 2),
    "Angadi_16x16": _eels("angadi_coreloss_SI_16x16_0.5eV_28-540eV.dm3", 3),
    "Angadi_45x22": _eels("angadi_coreloss_SI_45x22_0.1eV_70-172eV.dm3", 3),
    # synthetic, with a reference: the seed spread of the SAD on them
    "Chequerboard_3": _chequerboard(3, 1.0),
    "Chequerboard_3_nopure": _chequerboard(3, 0.7),
    "Chequerboard_4": _chequerboard(4, 1.0),
}


def seed_endmember_spread(components):
    """Largest mean spectral angle (rad) between two seeds' matched endmembers."""
    worst = 0.0
    for i in range(len(components)):
        for j in range(i + 1, len(components)):
            if len(components[i]) == len(components[j]):
                worst = max(worst, float(sad(components[i], components[j]).mean()))
    return worst


def run(name, X, k, seed, image_shape):
    if name == "HyperSpy NMF":
        from sklearn.decomposition import NMF

        model = NMF(n_components=k, random_state=seed, max_iter=500)
        A = model.fit_transform(X)
        return model.components_, A, A @ model.components_
    if name == "VCA (1 start)":
        est = hspy_unmix.VCA(k, random_state=seed, n_starts=1, outlier_screen=False)
    else:
        est = getattr(hspy_unmix, name)(k, random_state=seed)
        if getattr(est, "_spatial", False):  # CNNAEU reads image patches
            est.set_params(image_shape=tuple(image_shape) if len(image_shape) == 2
                           else (1, image_shape[0]))
    A = est.fit_transform(X)
    # AE's latent codes rebuild the spectra about their mean (inverse_transform)
    return est.components_, A, est.inverse_transform(A)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--algorithms", nargs="+",
                        default=["VCA", "VCA (1 start)", "MinVolume", "HyperSpy NMF"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--data", nargs="+", default=["Samson", "CuZn"],
                        choices=list(DATASETS))
    parser.add_argument("--figure", default=None,
                        help="PNG of the Samson endmembers (Samson among --data)")
    parser.add_argument("--save", default=None,
                        help="folder for the first seed's endmembers and abundances")
    parser.add_argument("--draw", default=None,
                        help="draw the results saved in this folder, then stop")
    parser.add_argument("--out", default="docs/_static/real_data",
                        help="folder of the figures of --draw")
    parser.add_argument("--cuzn-recipe", action="store_true",
                        help="Cu/Zn separation on the raw SI and with the recipe")
    args = parser.parse_args()
    if args.cuzn_recipe:
        cuzn_recipe(args.algorithms, args.seeds)
        return
    if args.draw:
        for path in _draw(pathlib.Path(args.draw), pathlib.Path(args.out)):
            print("wrote", path)
        return
    first = {}
    warnings.simplefilter("ignore")
    print("| data | algorithm | SAD mean (rad) | seed spread (rad) | endmember spread (rad) "
          "| rel. reconstruction error | time (s) |")
    print("|---|---|---|---|---|---|---|")
    for label in args.data:
        X, truth, k, image_shape, axis = DATASETS[label]()
        for name in args.algorithms:
            sads, errors, times, failed, short, found = [], [], [], [], [], []
            for seed in args.seeds:
                t = time.perf_counter()
                try:
                    components, A, rebuilt = run(name, X, k, seed, image_shape)
                except ValueError as exc:  # a refusal is a result: count it
                    failed.append(f"seed {seed}: {exc}")
                    continue
                times.append(time.perf_counter() - t)
                errors.append(np.linalg.norm(X - rebuilt) / np.linalg.norm(X))
                del rebuilt
                found.append(components)
                if args.save and len(found) == 1:
                    _save(pathlib.Path(args.save), label, name, seed, components, A,
                          image_shape, axis, truth)
                if truth is not None and len(components) < len(truth):
                    # a pruning method (ARD) kept fewer components than the
                    # reference has: no matching, so no SAD for this seed
                    short.append(f"seed {seed}: {len(components)} of {len(truth)} kept")
                elif truth is not None:
                    sads.append(sad(truth, components).mean())
                    if label == "Samson" and seed == args.seeds[0]:
                        first[name] = (components, sads[-1])
                        samson_truth = truth
                elif len(components) < k:
                    short.append(f"seed {seed}: {len(components)} of {k} kept")
            sad_text = (f"{np.mean(sads):.4f}", f"{np.ptp(sads):.4f}") if sads else ("-", "-")
            note = f" ({len(failed)} of {len(args.seeds)} seeds refused: {failed[0]})" \
                if failed else ""
            if short:
                note += f" ({len(short)} of {len(args.seeds)} seeds short: {'; '.join(short)})"
            spread = f"{seed_endmember_spread(found):.4f}" if len(found) > 1 else "-"
            print(f"| {label} | {name}{note} | {sad_text[0]} | {sad_text[1]} | {spread} | "
                  f"{np.mean(errors) if errors else np.nan:.4f} | "
                  f"{np.mean(times) if times else np.nan:.2f} |", flush=True)
    if args.figure and first:  # Samson was among the data
        _figure(first, samson_truth, args.figure)
        print("wrote", args.figure)


#: (pre-edge fit window, edge window) in eV of the edge signals
EDGE_WINDOWS = {"Cu": ((850.0, 925.0), (935.0, 1010.0)),
                "Zn": ((945.0, 1015.0), (1025.0, 1100.0))}


def edge_signals(spectrum, energy, background_removed):
    """Cu and Zn L3 edge signals of one component, each as a fraction of the
    component's total signal over 935-1100 eV.

    The signal of an edge is the sum over its window above a power law fitted
    before it and extrapolated. Zn's power law is fitted on the Cu edge's
    tail. With ``background_removed`` the spectrum starts after the Cu
    pre-edge and its background before Cu is zero.
    """
    signals = []
    for element in ("Cu", "Zn"):
        fit, window = EDGE_WINDOWS[element]
        w = (energy >= window[0]) & (energy <= window[1])
        if element == "Cu" and background_removed:
            background = np.zeros(w.sum())
        else:
            f = (energy >= fit[0]) & (energy <= fit[1])
            y = np.clip(spectrum[f], 1e-9 * max(np.abs(spectrum).max(), 1e-300), None)
            slope, intercept = np.polyfit(np.log(energy[f]), np.log(y), 1)
            background = np.exp(intercept + slope * np.log(energy[w]))
        signals.append((spectrum[w] - background).sum())
    total = np.abs(spectrum[(energy >= 935.0) & (energy <= 1100.0)]).sum()
    return tuple(float(v / max(total, 1e-300)) for v in signals)


def separated(signals, ratio=3.0, least=0.05):
    """Whether one component is Cu (and not Zn) and another Zn (and not Cu)."""
    cu = [i for i, (c, z) in enumerate(signals) if c >= least and c >= ratio * max(z, 0)]
    zn = [i for i, (c, z) in enumerate(signals) if z >= least and z >= ratio * max(c, 0)]
    return any(i != j for i in cu for j in zn)


def cuzn_recipe(algorithms, seeds):
    import hyperspy.api as hs

    warnings.simplefilter("ignore")
    raw = hs.load(DATA / "eels" / "CuZn_coreloss_SI_50x40.hspy")
    raw.set_signal_type("EELS")
    raw.change_dtype("float64")
    energy = raw.axes_manager.signal_axes[0].axis
    X_raw = raw.data.reshape(-1, energy.size)
    recipe = raw.remove_background(signal_range=(800.0, 925.0),
                                   background_type="PowerLaw", fast=True,
                                   show_progressbar=False).isig[930.0:1400.0]
    X_recipe = recipe.data.reshape(-1, recipe.data.shape[-1])
    print("| algorithm | treatment | K | seeds separated | Cu component: Cu, Zn signal "
          "| Zn component: Cu, Zn signal | endmember spread (rad) |")
    print("|---|---|---|---|---|---|---|")
    for name in algorithms:
        for treatment, X, k, axis in (
            ("raw SI", X_raw, 3, energy),
            ("recipe", X_recipe, 2, recipe.axes_manager.signal_axes[0].axis),
        ):
            ok, found, first = 0, [], None
            for seed in seeds:
                try:
                    components, _, _ = run(name, X, k, seed, raw.data.shape[:-1])
                except ValueError:
                    continue
                found.append(components)
                signals = [edge_signals(c, axis, treatment == "recipe") for c in components]
                ok += separated(signals)
                first = first or signals
            if first is None:
                print(f"| {name} | {treatment} | {k} | refused at every seed | - | - | - |")
                continue
            cu = max(first, key=lambda j: j[0] - j[1])
            zn = max(first, key=lambda j: j[1] - j[0])
            spread = f"{seed_endmember_spread(found):.4f}" if len(found) > 1 else "-"
            print(f"| {name} | {treatment} | {k} | {ok} of {len(seeds)} | "
                  f"{cu[0]:.3f}, {cu[1]:.3f} | {zn[0]:.3f}, {zn[1]:.3f} | {spread} |",
                  flush=True)


def _save(folder, label, name, seed, components, A, image_shape, axis, truth):
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{label}__{name.replace(' ', '_').replace('(', '').replace(')', '')}"
    extra = {} if truth is None else {"truth": truth}
    np.savez(folder / f"{stem}.npz", name=name, seed=seed, components=components,
             abundances=A, image_shape=np.asarray(image_shape), axis=axis, **extra)


def _draw(folder, out):
    """One figure per data set saved in ``folder``: endmembers and maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hspy_unmix.metrics.unmixing import match_components

    order = list(DATASETS)
    saved = {}
    for path in sorted(folder.glob("*.npz")):
        label = path.stem.split("__")[0]
        saved.setdefault(label, []).append(dict(np.load(path, allow_pickle=False)))
    written = []
    for label in sorted(saved, key=order.index):
        # VCA's row first: without a reference the others are matched to it
        runs = sorted(saved[label], key=lambda r: (str(r["name"]) != "VCA", str(r["name"])))
        truth = runs[0].get("truth")
        reference = truth if truth is not None else runs[0]["components"]
        k = len(reference)
        rows = len(runs)
        shape = tuple(int(v) for v in runs[0]["image_shape"])
        fig, axes = plt.subplots(rows, k + 1, figsize=(2.3 * (k + 1), 1.9 * rows),
                                 squeeze=False, layout="constrained")
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for ax_row, r in zip(axes, runs):
            components, A = r["components"], r["abundances"]
            perm = list(match_components(reference, components)) \
                if len(components) == k else list(range(len(components)))
            ax_row[0].set_title(f"{r['name']} (seed {int(r['seed'])})", fontsize=8,
                                loc="left")
            for i, j in enumerate(perm):
                c = colours[i % len(colours)]
                ax_row[0].plot(r["axis"], components[j] / max(np.abs(components[j]).max(),
                                                              1e-300), color=c, lw=0.9)
                if truth is not None:
                    ax_row[0].plot(r["axis"], truth[i] / truth[i].max(), color=c, ls="--",
                                   lw=0.6)
                ax = ax_row[i + 1]
                if len(shape) == 2:
                    ax.imshow(A[:, j].reshape(shape), vmin=0, vmax=max(A[:, j].max(), 1e-12))
                    ax.set_xticks([])
                    ax.set_yticks([])
                else:
                    ax.plot(A[:, j], color=c)
                    ax.tick_params(labelsize=6)
                ax.set_title(f"component {i}", fontsize=7, color=c)
            for ax in ax_row[len(perm) + 1:]:
                ax.set_axis_off()
            ax_row[0].tick_params(labelsize=6)
        axes[-1, 0].set_xlabel("band" if label == "Samson" else "energy loss (eV)",
                               fontsize=7)
        what = "reference dashed" if truth is not None else \
            f"components matched to {runs[0]['name']}'s"
        fig.suptitle(f"{label}: endmembers scaled to their maximum ({what}) and abundances, "
                     f"first seed", fontsize=9)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{label.lower()}_maps.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


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
