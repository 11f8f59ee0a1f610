"""``hspy-unmix demo``: every algorithm on the built-in synthetic chequerboard SI."""

from __future__ import annotations

import os
import time

import numpy as np

#: Settings of each algorithm in the demo: enough to converge on the
#: 64 x 64 x 200 chequerboard, short enough for a laptop.
DEMO_PARAMS = {
    "VCA": {},
    "MINVOLUME": {},
    "SSS_VCA": {},
    "MALS": {"n_starts": 3},
    "HALS": {"n_starts": 3},
    "NMF_SO": {"n_starts": 3},
    "ARD_SO_NMF": {},
    "BLU": {"n_burn_in": 50, "n_samples": 100},
    "DAEU": {"epochs": 60},
    "UDAS": {},
    "MTAEU": {},
    "CNNAEU": {},
}
#: ARD prunes components: it starts from a generous K and reports what it kept.
DEMO_START_K = {"ARD_SO_NMF": 8}
#: Run by default (UDAS, MTAEU and CNNAEU are slower on a laptop CPU).
DEMO_DEFAULT = ["VCA", "MINVOLUME", "SSS_VCA", "MALS", "HALS", "NMF_SO", "ARD_SO_NMF", "BLU", "DAEU"]
#: HyperSpy's own methods the demo compares against.
BASELINES = ("HyperSpy NMF", "HyperSpy ICA")


def _filtered_params(name: str, params: dict) -> dict:
    from .._registry import estimator_class

    accepted = estimator_class(name)().get_params()
    return {k: v for k, v in params.items() if k in accepted}


def _is_neural(name: str) -> bool:
    """Whether ``name`` is a Keras estimator (its warm-up is importing Keras)."""
    from .._registry import estimator_class
    from ..neural._estimator import NeuralUnmixingEstimator

    return issubclass(estimator_class(name), NeuralUnmixingEstimator)


def _baseline_scaled(factors, loadings):
    """HyperSpy's NMF and ICA results with the package's abundance scaling.

    Their loadings carry an arbitrary scale (and ICA's an arbitrary sign) per
    component; the package's estimators give maps that sum to one. Before
    NMSE the baselines get the same: signs that make the spectra positive,
    then the least-squares sum-to-one scales of
    :func:`~hspy_unmix.unmixing.abundances.sum_to_one_scales` (maps times d,
    spectra divided by d, which leaves the spectral angles unchanged).
    """
    from ..unmixing.abundances import sum_to_one_scales

    E = np.asarray(factors, dtype=np.float64).T
    A = np.asarray(loadings, dtype=np.float64)
    flip = np.where(E.sum(1) < 0, -1.0, 1.0)
    E, A = E * flip[:, None], A * flip
    d = sum_to_one_scales(A)
    return (E / d[:, None]).T, A * d


def _scores_for(truth, factors, loadings):
    from ..metrics import unmixing_scores

    E = np.asarray(factors).T
    A = np.asarray(loadings)
    if E.shape[0] < truth.endmembers.shape[0]:
        return float("nan"), float("nan"), E.shape[0]
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances, E, A)
    return scores["sad_mean"], scores["nmse_mean"], E.shape[0]


def _algorithm_params(name, n_components):
    params = _filtered_params(name, DEMO_PARAMS.get(name, {}))
    start_k = max(DEMO_START_K.get(name, n_components), n_components)
    return params, start_k


def warm_up(algorithms, n_components: int = 3, random_state: int = 0) -> float:
    """Compile the numba kernels and import Keras before anything is timed.

    Each classical algorithm runs once on a 64-pixel chequerboard (numba
    compiles per argument type, not per size, so the timed run finds every
    kernel compiled); for the neural ones Keras and its backend are imported.
    Returns the seconds spent.
    """
    from .._optional import import_keras
    from ..synthetic import chequerboard_si

    t0 = time.perf_counter()
    tiny, _ = chequerboard_si(n_components=n_components, shape=(8, 8), block=4, averaging=3,
                              random_state=random_state)
    for name in algorithms:
        if _is_neural(name):
            import_keras()
            continue
        params, start_k = _algorithm_params(name, n_components)
        try:
            tiny.deepcopy().decomposition(
                algorithm=name, output_dimension=start_k, print_info=False,
                random_state=random_state, show_progressbar=False, **params)
        except Exception:  # noqa: BLE001  (the timed run reports any failure)
            pass
    return time.perf_counter() - t0


def run_demo(out: str, algorithms=None, n_components: int = 3, random_state: int = 0,
             show_figures: bool = True) -> list[dict]:
    """Unmix the synthetic chequerboard SI with each algorithm; return the table rows.

    HyperSpy's NMF and ICA (SVD then FastICA) run as baselines. Reported times
    exclude numba compilation and the Keras import (see :func:`warm_up`).
    """
    from .._registry import estimator_class, normalise_name
    from ..synthetic import chequerboard_si

    algorithms = list(algorithms or DEMO_DEFAULT)
    for name in algorithms:
        estimator_class(name)  # an unknown name: a ValueError listing the known ones
    algorithms = [normalise_name(name) for name in algorithms]
    os.makedirs(out, exist_ok=True)
    s, truth = chequerboard_si(n_components=n_components, random_state=random_state)
    print(f"Synthetic SI: {s.data.shape[:-1]} pixels x {s.data.shape[-1]} channels, "
          f"{n_components} endmembers ({', '.join(truth.names)}), Poisson noise.")
    compile_s = warm_up(algorithms, n_components, random_state)
    print(f"Warm-up (numba compilation, Keras import): {compile_s:.1f} s, not counted "
          "in the times below.")
    rows = []
    results = {}

    def record(name, func):
        work = s.deepcopy()
        t0 = time.perf_counter()
        try:
            func(work)
        except Exception as exc:  # keep the demo going; report the failure
            print(f"  {name:<12} failed: {type(exc).__name__}: {exc}")
            rows.append({"algorithm": name, "sad": np.nan, "nmse": np.nan, "time": np.nan,
                         "error": str(exc)})
            results[name] = f"failed: {type(exc).__name__}"
            return
        elapsed = time.perf_counter() - t0
        lr = work.learning_results
        if name in BASELINES:
            bss = name == "HyperSpy ICA"
            factors, loadings = _baseline_scaled(lr.bss_factors if bss else lr.factors,
                                                 lr.bss_loadings if bss else lr.loadings)
        else:
            factors, loadings = lr.factors, lr.loadings
        sad, nmse, k = _scores_for(truth, factors, loadings)
        rows.append({"algorithm": name, "sad": sad, "nmse": nmse, "time": elapsed,
                     "components": k})
        results[name] = (np.asarray(factors), np.asarray(loadings))
        kept = f"   ({k} components)" if k != n_components else ""
        print(f"  {name:<12} SAD {sad:7.4f} rad   NMSE {nmse:8.4f}   {elapsed:7.2f} s{kept}")
        if name == algorithms[0]:
            work.save(os.path.join(out, f"demo_{name}.hspy"), overwrite=True)

    print("Unmixing (SAD: spectral angle to the true endmembers; NMSE: abundance error; "
          "HyperSpy's loadings scaled to sum to one as the package's abundances are):")
    record("HyperSpy NMF", lambda w: w.decomposition(
        algorithm="NMF", output_dimension=n_components, print_info=False, max_iter=500))

    def ica(w):
        w.decomposition(output_dimension=n_components, print_info=False)
        # HyperSpy whitens the SVD factors itself; FastICA's own whitening
        # would be switched off with a warning
        w.blind_source_separation(n_components, print_info=False, whiten=False,
                                  random_state=random_state)

    record("HyperSpy ICA", ica)
    for name in algorithms:
        params, start_k = _algorithm_params(name, n_components)
        record(name, lambda w, name=name, params=params, start_k=start_k: w.decomposition(
            algorithm=name, output_dimension=start_k, print_info=False,
            random_state=random_state, show_progressbar=False, **params))
    _write_table(rows, os.path.join(out, "demo_results.md"))
    if show_figures:
        energy_axis = s.axes_manager.signal_axes[0]
        fig = demo_figure(truth, results, energy_label=f"{energy_axis.name} ({energy_axis.units})")
        fig.savefig(os.path.join(out, "demo_unmixing.png"), dpi=90)
    s.save(os.path.join(out, "synthetic_si.hspy"), overwrite=True)
    print(f"Results written to {os.path.abspath(out)}")
    return rows


def _write_table(rows, path):
    lines = ["| algorithm | SAD (rad) | NMSE | time (s) | components |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['algorithm']} | {r['sad']:.4f} | {r['nmse']:.4f} | {r['time']:.2f} "
                     f"| {r.get('components', '')} |")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def demo_figure(truth, results: dict, energy_label: str = "Energy loss (eV)"):
    """The demo's figure: one row per method, the ground truth on top.

    Each row shows the abundance maps matched to the true endmembers (one
    colour bar per row, 0 to 1) and the matched endmember spectra against
    the energy axis. ``results`` maps each method's name to its
    ``(factors, loadings)`` (channels x K, pixels x K) or to a message when it
    failed; every entry gets its row.
    """
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, nothing to close

    from ..metrics import match_components

    k = truth.endmembers.shape[0]
    ny, nx = truth.abundances.shape[:2]
    rows = [("ground truth", (truth.endmembers.T, truth.flat_abundances)), *results.items()]
    fig = Figure(figsize=(2.6 * (k + 1) + 0.8, 2.1 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), k + 1, squeeze=False,
                        gridspec_kw={"width_ratios": [1] * k + [1.6]})
    for i, (name, result) in enumerate(rows):
        maps_axes, spectra_ax = axes[i, :k], axes[i, k]
        maps_axes[0].set_ylabel(name, fontsize=9)
        if isinstance(result, str):
            for ax in maps_axes:
                ax.set_xticks([])
                ax.set_yticks([])
            spectra_ax.text(0.5, 0.5, result, ha="center", va="center", fontsize=8,
                            transform=spectra_ax.transAxes)
            spectra_ax.set_axis_off()
            continue
        factors, loadings = (np.asarray(x) for x in result)
        if factors.shape[1] >= k:
            perm = match_components(truth.endmembers, factors.T)
        else:  # fewer components than phases: show them unmatched
            perm = np.arange(factors.shape[1])
        image = None
        for j, ax in enumerate(maps_axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(perm):
                continue
            image = ax.imshow(loadings[:, perm[j]].reshape(ny, nx), vmin=0, vmax=1)
            ax.set_title(truth.names[j] if factors.shape[1] >= k else f"component {j}",
                         fontsize=8)
            spectrum = factors[:, perm[j]]
            spectra_ax.plot(truth.energy, spectrum / np.linalg.norm(spectrum), lw=1,
                            label=truth.names[j])
        if image is not None:
            bar = fig.colorbar(image, ax=list(maps_axes), shrink=0.85, pad=0.02)
            bar.set_label("abundance", fontsize=8)
            bar.ax.tick_params(labelsize=6)
        spectra_ax.set_xlabel(energy_label, fontsize=8)
        spectra_ax.set_ylabel("normalised", fontsize=8)
        spectra_ax.set_title(f"{name} endmembers", fontsize=8)
        if i == 0:
            spectra_ax.legend(fontsize=7)
    for ax in axes.flat:
        ax.tick_params(labelsize=6)
    return fig
