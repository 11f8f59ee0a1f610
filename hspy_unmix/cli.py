"""Command line: ``hspy-unmix demo`` and ``hspy-unmix unmix FILE ...``.

Examples
--------
Run the demonstration on built-in synthetic data::

    hspy-unmix demo --out demo_results

Unmix a real spectrum image, lazily, with 4 components::

    hspy-unmix unmix si.dm4 --algorithm VCA -k 4 --out si_vca.hspy --lazy

Restore the near-zero-loss region of a low-loss SI and pan-sharpen a fine,
noisy SI with a clean coarse one, streaming both from disk to disk::

    hspy-unmix restore-zlp lowloss.dm4 --out restored.zspy
    hspy-unmix pan-sharpen fine.dm4 clean.dm4 --out fused.zspy -k 4

Every file verb takes ``--scheduler`` (threads, processes, synchronous or the
address of a dask.distributed scheduler), ``--chunk-mb`` and ``--overwrite``;
outputs are written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import argparse
import os
import sys
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
    from ._registry import estimator_class

    accepted = estimator_class(name)().get_params()
    return {k: v for k, v in params.items() if k in accepted}


def _scores_for(s, truth, factors, loadings):
    from .metrics import unmixing_scores

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
    import hyperspy.api as hs

    from .synthetic import chequerboard_si

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
    del hs
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

    from .metrics import match_components

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


def _open(path, lazy, chunk_mb, signal_type=None):
    """Load a spectrum image: lazily with navigation chunks, or in memory.

    A signal that is not EELS (cathodoluminescence, EDS, an untyped
    ``Signal1D``) is refused unless ``signal_type="EELS"`` says to treat it
    as EELS.
    """
    from ._decomposition import check_spectral_signal
    from ._lazy import _pick_spectral, load_lazy

    if lazy:
        s = load_lazy(path, target_mb=chunk_mb)
    else:
        import hyperspy.api as hs

        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file")
        try:
            s = _pick_spectral(hs.load(path), path)
        except Exception as exc:
            if isinstance(exc, (ValueError, TypeError)):
                raise
            raise ValueError(f"could not read {path}: the file looks truncated or corrupt "
                             f"({type(exc).__name__}: {exc})") from exc
    check_spectral_signal(s, "this command")
    found = s.metadata.get_item("Signal.signal_type", "") or ""
    if found != "EELS":
        if signal_type != "EELS":
            axis = s.axes_manager.signal_axes[0]
            raise ValueError(
                f"{path} holds a {found or 'untyped'} signal (signal_type "
                f"{found!r}, energy axis in {axis.units or 'no units'}), not EELS; "
                "pass --signal-type EELS to treat it as EELS anyway.")
        s.set_signal_type("EELS")
    return s


#: Formats the commands write (HyperSpy's own, which keep learning_results).
OUTPUT_SUFFIXES = (".hspy", ".zspy")
#: HyperSpy's own decomposition algorithms, accepted besides the package's.
HYPERSPY_ALGORITHMS = ("SVD", "MLPCA", "SKLEARN_PCA", "NMF", "SPARSE_PCA",
                       "MINI_BATCH_SPARSE_PCA", "RPCA", "ORPCA", "ORNMF")


def _check_algorithm(name):
    """``ValueError`` for a name neither the package nor HyperSpy knows."""
    from ._registry import available_algorithms, normalise_name

    if normalise_name(name) is None and str(name).upper() not in HYPERSPY_ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {name!r}; choose one of "
            f"{', '.join(available_algorithms())} or HyperSpy's "
            f"{', '.join(HYPERSPY_ALGORITHMS)}")


def _check_positive(**values):
    for name, value in values.items():
        if value is not None and not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {value}")


def _check_out(out, overwrite):
    """Refuse an output HyperSpy would not write (or would overwrite) before any work."""
    suffix = os.path.splitext(str(out))[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"--out {out}: the output must be a {' or '.join(OUTPUT_SUFFIXES)} "
                         "file (HyperSpy's formats, which keep learning_results)")
    if os.path.exists(out) and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it.")


def run_unmix(path, algorithm, k, out, lazy=False, scheduler=None, params=None,
              random_state=None, chunk_mb=None, overwrite=True, show_progressbar=None,
              signal_type=None):
    """Unmix a file and save the signal with its learning_results to ``out``.

    With ``lazy=True`` the file is streamed in navigation chunks of
    ``chunk_mb`` MiB: the estimator learns on a bounded sample
    (``max_partial_fit_samples``) and the abundances are solved chunk by
    chunk, so memory does not grow with the number of pixels.

    Examples
    --------
    >>> from hspy_unmix.cli import run_unmix
    >>> run_unmix("si.dm4", "VCA", 4, "si_vca.zspy", lazy=True)  # doctest: +SKIP
    """
    from ._lazy import DEFAULT_CHUNK_MB, save_atomic

    _check_algorithm(algorithm)
    _check_positive(n_components=k, chunk_mb=chunk_mb)
    _check_out(out, overwrite)
    s = _open(path, lazy, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    kwargs = dict(params or {})
    if random_state is not None:
        kwargs["random_state"] = random_state
    with _scheduler(scheduler), _progress(show_progressbar):
        t0 = time.perf_counter()
        s.decomposition(algorithm=algorithm, output_dimension=k, print_info=False, **kwargs)
        print(f"{algorithm} on {path}: {time.perf_counter() - t0:.2f} s")
        save_atomic(s, out, overwrite=overwrite)
    print(f"Saved {out}")
    return s


def run_restore_zlp(path, out, method="unet", scheduler=None, chunk_mb=None,
                    overwrite=False, show_progressbar=None, signal_type=None, **params):
    """Restore the near-zero-loss region of a file, streaming it to ``out``.

    The input is opened lazily in navigation chunks, ``restore_zlp`` runs
    chunk by chunk and the restored cube is written chunk by chunk (never
    whole in memory) under a temporary name renamed on success.

    Examples
    --------
    >>> from hspy_unmix.cli import run_restore_zlp
    >>> run_restore_zlp("lowloss.dm4", "restored.zspy")  # doctest: +SKIP
    """
    from ._lazy import DEFAULT_CHUNK_MB, save_atomic

    if method not in ("unet", "richardson_lucy"):
        raise ValueError(f"unknown method {method!r}; choose unet or richardson_lucy")
    _check_positive(chunk_mb=chunk_mb, **{k: params.get(k) for k in (
        "iterations", "psf_half_width", "batch_size", "resample")})
    _check_out(out, overwrite)
    s = _open(path, True, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    if not hasattr(s, "restore_zlp"):  # pragma: no cover - needs the zlp module
        raise RuntimeError("restore_zlp is not available in this installation.")
    with _scheduler(scheduler), _progress(show_progressbar):
        t0 = time.perf_counter()
        restored = s.restore_zlp(method=method, lazy_output=True, **params)
        save_atomic(restored, out, overwrite=overwrite)
        print(f"restore_zlp ({method}) of {path}: {time.perf_counter() - t0:.2f} s")
    print(f"Saved {out}")
    return restored


def run_pan_sharpen(fine, clean, out, k=None, algorithm="NMF", scheduler=None,
                    chunk_mb=None, overwrite=False, show_progressbar=None,
                    random_state=None, signal_type=None, **params):
    """Pan-sharpen ``fine`` (noisy, fine grid) with ``clean``; stream to ``out``.

    Endmembers come from ``clean`` (loaded in memory: the high-fidelity SI
    is the small one); abundances are solved chunk by chunk over ``fine``
    and the fused cube is written chunk by chunk.

    Examples
    --------
    >>> from hspy_unmix.cli import run_pan_sharpen
    >>> run_pan_sharpen("fine.dm4", "clean.dm4", "fused.zspy", k=3)  # doctest: +SKIP
    """
    from ._lazy import DEFAULT_CHUNK_MB, save_atomic

    _check_algorithm(algorithm)
    _check_positive(n_components=k, chunk_mb=chunk_mb)
    _check_out(out, overwrite)
    s = _open(fine, True, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    other = _open(clean, False, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    if not hasattr(s, "pan_sharpen"):  # pragma: no cover - needs the module
        raise RuntimeError("pan_sharpen is not available in this installation.")
    with _scheduler(scheduler), _progress(show_progressbar):
        t0 = time.perf_counter()
        fused = s.pan_sharpen(other, n_components=k, algorithm=algorithm,
                              random_state=random_state, lazy_output=True, **params)
        save_atomic(fused, out, overwrite=overwrite)
        print(f"pan_sharpen of {fine} with {clean}: {time.perf_counter() - t0:.2f} s")
    print(f"Saved {out}")
    return fused


class _progress:
    """Set HyperSpy's ``show_progressbar`` preference for one command."""

    def __init__(self, show):
        self.show = show

    def __enter__(self):
        from hyperspy.defaults_parser import preferences

        self._old = preferences.General.show_progressbar
        if self.show is not None:
            preferences.General.show_progressbar = bool(self.show)
        return self

    def __exit__(self, *exc):
        from hyperspy.defaults_parser import preferences

        preferences.General.show_progressbar = self._old
        return False


def _rechunk_navigation(s, target_mb: float = 64.0):
    """DM files load as one memory-mapped chunk: split the navigation axes."""
    from ._lazy import rechunk_navigation

    rechunk_navigation(s, target_mb)


class _scheduler:
    """Context manager choosing the dask scheduler: threads, processes,
    synchronous or the address of a dask.distributed scheduler."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self._ctx = None
        self._client = None

    def __enter__(self):
        import dask

        if self.scheduler in (None, "threads", "processes", "synchronous"):
            self._ctx = dask.config.set(scheduler=self.scheduler or "threads")
        else:
            try:
                from distributed import Client
            except ImportError as exc:  # pragma: no cover
                raise ImportError("--scheduler ADDRESS needs the 'distributed' package "
                                  "(pip install distributed)") from exc

            self._client = Client(self.scheduler)
            self._ctx = dask.config.set(scheduler=self._client.get)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        if self._client is not None:
            self._client.close()
        return False


HELP = """\
Spectral unmixing, zero-loss restoration and pan-sharpening of STEM-EELS
spectrum images (HyperSpy extension).

Run "hspy-unmix COMMAND --help" for the options of one command."""

HELP_EPILOG = """\
examples:
  hspy-unmix demo --out demo_results
  hspy-unmix unmix si.dm4 --algorithm VCA -k 4 --out si_vca.hspy --lazy
  hspy-unmix restore-zlp lowloss.dm4 --out restored.zspy
  hspy-unmix pan-sharpen fine.dm4 clean.dm4 --out fused.zspy -k 4

Every file command takes --scheduler (threads, processes, synchronous or the
address of a dask.distributed scheduler), --chunk-mb, --overwrite and
--signal-type; outputs are written under a temporary name and renamed when
complete. Files whose signal is not EELS are refused unless --signal-type EELS."""


def main(argv=None) -> int:
    """Entry point of the ``hspy-unmix`` command."""
    parser = argparse.ArgumentParser(
        prog="hspy-unmix", description=HELP, epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="unmix the built-in synthetic SI with every algorithm")
    demo.add_argument("--out", default="hspy_unmix_demo", help="output folder")
    demo.add_argument("--algorithms", nargs="*", default=None,
                      help=f"algorithms to run (default: {' '.join(DEMO_DEFAULT)})")
    demo.add_argument("-k", "--n-components", type=int, default=3, choices=(3, 4))
    demo.add_argument("--random-state", type=int, default=0)
    unmix = sub.add_parser("unmix", help="unmix a spectrum image file")
    unmix.add_argument("file")
    unmix.add_argument("--algorithm", default="VCA")
    unmix.add_argument("-k", "--n-components", type=int, required=True)
    unmix.add_argument("--out", required=True, help="output .hspy or .zspy file")
    unmix.add_argument("--lazy", action="store_true", help="stream the file (bounded memory)")
    unmix.add_argument("--random-state", type=int, default=None)
    zlp = sub.add_parser("restore-zlp", help="restore the near-zero-loss region of an SI file")
    zlp.add_argument("file")
    zlp.add_argument("--out", required=True, help="output .zspy (or .hspy) file")
    zlp.add_argument("--method", default="unet", choices=("unet", "richardson_lucy"))
    zlp.add_argument("--model", default=None,
                     help="U-net .keras file (default: the model shipped with the package)")
    zlp.add_argument("--iterations", type=int, default=None,
                     help="Richardson-Lucy iterations (default 50)")
    zlp.add_argument("--psf-half-width", type=float, default=None,
                     help="half width in eV of the measured-ZLP kernel of Richardson-Lucy "
                          "(default: three measured ZLP widths)")
    zlp.add_argument("--batch-size", type=int, default=None,
                     help="spectra per network call (default 128)")
    zlp.add_argument("--resample", type=float, default=None,
                     help="resampling factor of the energy axis for the U-net (model "
                          "channels per data channel; default: chosen from the measured "
                          "ZLP width)")
    pan = sub.add_parser("pan-sharpen", help="fuse a fine noisy SI with a clean coarse one")
    pan.add_argument("fine", help="finely sampled, noisy SI (streamed)")
    pan.add_argument("clean", help="high-fidelity SI (coarser grid; loaded in memory)")
    pan.add_argument("--out", required=True, help="output .zspy (or .hspy) file")
    pan.add_argument("-k", "--n-components", type=int, default=None,
                     help="number of endmembers (default: estimated)")
    pan.add_argument("--algorithm", default="NMF")
    pan.add_argument("--random-state", type=int, default=None)
    for p in (unmix, zlp, pan):
        p.add_argument("--scheduler", default=None,
                       help="threads (default), processes, synchronous or a "
                            "dask.distributed scheduler address (tcp://host:8786)")
        p.add_argument("--chunk-mb", type=float, default=None,
                       help="navigation chunk size in MiB (default 64)")
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
        p.add_argument("--signal-type", default=None, choices=("EELS",),
                       help="treat a signal that is not typed EELS (e.g. an untyped "
                            "Signal1D) as EELS; without it such files are refused")
        p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                       help="no progress bars")
    args = parser.parse_args(argv)
    if args.command == "demo":
        rows = run_demo(args.out, args.algorithms, args.n_components, args.random_state)
        return 1 if any("error" in r for r in rows) else 0
    common = dict(scheduler=args.scheduler, chunk_mb=args.chunk_mb, overwrite=args.overwrite,
                  show_progressbar=True if args.progress is None else args.progress,
                  signal_type=args.signal_type)
    try:
        if args.command == "unmix":
            run_unmix(args.file, args.algorithm, args.n_components, args.out, lazy=args.lazy,
                      random_state=args.random_state, **common)
        elif args.command == "restore-zlp":
            options = {name: getattr(args, name) for name in (
                "model", "iterations", "psf_half_width", "batch_size", "resample")}
            run_restore_zlp(args.file, args.out, method=args.method, **common,
                            **{k: v for k, v in options.items() if v is not None})
        else:
            run_pan_sharpen(args.fine, args.clean, args.out, k=args.n_components,
                            algorithm=args.algorithm, random_state=args.random_state, **common)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as exc:
        print(f"hspy-unmix {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
