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


def _filtered_params(name: str, params: dict) -> dict:
    from .._registry import estimator_class

    accepted = estimator_class(name)().get_params()
    return {k: v for k, v in params.items() if k in accepted}


def _scores_for(s, truth, factors, loadings):
    from ..metrics import unmixing_scores

    E = np.asarray(factors).T
    A = np.asarray(loadings)
    if E.shape[0] < truth.endmembers.shape[0]:
        return float("nan"), float("nan"), E.shape[0]
    # ICA and SVD components carry an arbitrary sign
    flip = np.where(E.sum(1) < 0, -1.0, 1.0)
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances, E * flip[:, None], A * flip)
    return scores["sad_mean"], scores["nmse_mean"], E.shape[0]


def run_demo(out: str, algorithms=None, n_components: int = 3, random_state: int = 0,
             show_figures: bool = True) -> list[dict]:
    """Unmix the synthetic chequerboard SI with each algorithm; return the table rows."""
    from ..synthetic import chequerboard_si

    os.makedirs(out, exist_ok=True)
    s, truth = chequerboard_si(n_components=n_components, random_state=random_state)
    print(f"Synthetic SI: {s.data.shape[:-1]} pixels x {s.data.shape[-1]} channels, "
          f"{n_components} endmembers ({', '.join(truth.names)}), Poisson noise.")
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
            return
        elapsed = time.perf_counter() - t0
        lr = work.learning_results
        if name == "HyperSpy ICA":
            factors, loadings = lr.bss_factors, lr.bss_loadings
        else:
            factors, loadings = lr.factors, lr.loadings
        sad, nmse, k = _scores_for(work, truth, factors, loadings)
        rows.append({"algorithm": name, "sad": sad, "nmse": nmse, "time": elapsed,
                     "components": k})
        results[name] = (np.asarray(factors), np.asarray(loadings))
        kept = f"   ({k} components)" if k != n_components else ""
        print(f"  {name:<12} SAD {sad:7.4f} rad   NMSE {nmse:8.4f}   {elapsed:7.2f} s{kept}")
        if name == (algorithms or DEMO_DEFAULT)[0]:
            work.save(os.path.join(out, f"demo_{name}.hspy"), overwrite=True)

    print("Unmixing (SAD: spectral angle to the true endmembers; NMSE: abundance error):")
    record("HyperSpy NMF", lambda w: w.decomposition(
        algorithm="NMF", output_dimension=n_components, print_info=False, max_iter=500))

    def ica(w):
        w.decomposition(output_dimension=n_components, print_info=False)
        w.blind_source_separation(n_components, print_info=False)

    record("HyperSpy ICA", ica)
    for name in algorithms or DEMO_DEFAULT:
        params = _filtered_params(name, DEMO_PARAMS.get(name, {}))
        start_k = max(DEMO_START_K.get(name, n_components), n_components)
        record(name, lambda w, name=name, params=params, start_k=start_k: w.decomposition(
            algorithm=name, output_dimension=start_k, print_info=False,
            random_state=random_state, show_progressbar=False, **params))
    _write_table(rows, os.path.join(out, "demo_results.md"))
    if show_figures:
        _demo_figures(truth, results, out)
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


def _demo_figures(truth, results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..metrics import match_components

    names = [n for n in results if not n.startswith("HyperSpy")][:4]
    k = truth.endmembers.shape[0]
    fig, axes = plt.subplots(1 + len(names), k + 1, figsize=(3 * (k + 1), 2.4 * (1 + len(names))),
                             squeeze=False)
    ny, nx = truth.abundances.shape[:2]
    for j in range(k):
        axes[0, j].imshow(truth.abundances[..., j], vmin=0, vmax=1)
        axes[0, j].set_title(f"truth: {truth.names[j]}", fontsize=8)
    for e in truth.endmembers:
        axes[0, k].plot(truth.energy, e / np.linalg.norm(e))
    axes[0, k].set_title("true endmembers", fontsize=8)
    for i, name in enumerate(names, start=1):
        factors, loadings = results[name]
        perm = match_components(truth.endmembers, factors.T)
        for j in range(k):
            axes[i, j].imshow(loadings[:, perm[j]].reshape(ny, nx), vmin=0, vmax=1)
            axes[i, j].set_title(f"{name}", fontsize=8)
        for j in range(k):
            f = factors[:, perm[j]]
            axes[i, k].plot(truth.energy, f / np.linalg.norm(f))
        axes[i, k].set_title(f"{name} endmembers", fontsize=8)
    for ax in axes.flat:
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "demo_unmixing.png"), dpi=90)
    plt.close(fig)
