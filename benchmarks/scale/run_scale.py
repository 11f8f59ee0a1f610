"""Scaling benchmark: bounded memory and throughput on SIs larger than memory.

For each size (GiB) a core-loss SI is generated chunk by chunk to a .zspy
store (``generate_si.py``), then each case runs in a fresh subprocess that
reports its wall time and peak resident memory (``ru_maxrss``):

* ``read``: ``s.data.sum().compute()``, the time to read the file once (reference);
* ``vca_apply``: ``apply_unmixing`` of a VCA (FCLS abundances) fitted on a
  20 000-pixel sample;
* ``vca_decomposition``: lazy ``decomposition(algorithm="VCA")`` (reservoir
  sample + one projection pass: two reads);
* ``hals_decomposition``: the same with HALS;
* ``daeu_apply``: ``apply_unmixing`` of a DAEU trained on 4 096 pixels;
* ``pan_sharpen``: ``pan_sharpen`` with a 32 x 32 clean SI, fused cube written
  to .zspy chunk by chunk;
* ``restore_zlp``: Richardson-Lucy ``restore_zlp`` of a low-loss SI of
  ``--zlp-gib`` GiB, restored cube written to .zspy.

Reproduce (about 25 min for 1 and 2 GiB on 2 cores)::

    python benchmarks/scale/run_scale.py --gib 1 2 --workdir /tmp/hspy_unmix_scale

which writes docs/benchmarks/scale.md and docs/_static/scale/scale_curves.png and
deletes the generated files.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASES = ["read", "vca_apply", "vca_decomposition", "hals_decomposition", "daeu_apply",
         "pan_sharpen"]
K = 4


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _sample(s, n, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    flat = s.data.reshape((-1, s.data.shape[-1]))
    idx = np.sort(rng.choice(flat.shape[0], min(n, flat.shape[0]), replace=False))
    return np.asarray(flat[idx].compute(), dtype="float64")


def run_case(case: str, path: str, workdir: str) -> dict:
    """Run one case in this process; return its measurements."""
    import dask

    import hspy_unmix
    from hspy_unmix._lazy import load_lazy, save_atomic

    dask.config.set(scheduler="threads")
    s = load_lazy(path)
    t0 = time.perf_counter()
    if case == "read":
        float(s.data.sum().compute())
    elif case == "vca_apply":
        est = hspy_unmix.VCA(n_components=K, random_state=0).fit(_sample(s, 20_000))
        t0 = time.perf_counter()
        s.apply_unmixing(est, print_info=False)
    elif case == "vca_decomposition":
        s.decomposition(algorithm="VCA", output_dimension=K, random_state=0, print_info=False)
    elif case == "hals_decomposition":
        s.decomposition(algorithm="HALS", output_dimension=K, random_state=0, print_info=False)
    elif case == "daeu_apply":
        est = hspy_unmix.DAEU(n_components=K, random_state=0, epochs=20).fit(_sample(s, 4096))
        t0 = time.perf_counter()
        s.apply_unmixing(est, print_info=False)
    elif case == "pan_sharpen":
        import numpy as np
        from hyperspy.signals import Signal1D

        clean = Signal1D(_sample(s, 1024).reshape(32, 32, -1))
        clean.axes_manager.signal_axes[0].update_from(s.axes_manager.signal_axes[0],
                                                      ("offset", "scale", "units"))
        clean.set_signal_type("EELS")
        t0 = time.perf_counter()
        fused = s.pan_sharpen(clean, n_components=K, random_state=0, lazy_output=True)
        save_atomic(fused, os.path.join(workdir, "fused.zspy"), overwrite=True,
                    show_progressbar=False)
        shutil.rmtree(os.path.join(workdir, "fused.zspy"), ignore_errors=True)
        del np
    elif case == "restore_zlp":
        out = s.restore_zlp(method="richardson_lucy", lazy_output=True)
        save_atomic(out, os.path.join(workdir, "restored.zspy"), overwrite=True,
                    show_progressbar=False)
        shutil.rmtree(os.path.join(workdir, "restored.zspy"), ignore_errors=True)
    else:
        raise ValueError(case)
    wall = time.perf_counter() - t0
    nbytes = s.data.nbytes
    return {"case": case, "wall_s": wall, "gib": nbytes / 2**30,
            "mb_per_s": nbytes / 2**20 / wall, "peak_rss_mb": _peak_rss_mb(),
            "shape": list(s.data.shape)}


def _subprocess_case(case, path, workdir, timeout):
    cmd = [sys.executable, __file__, "--case", case, "--file", path, "--workdir", workdir]
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"timeout after {timeout} s"}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        return {"case": case, "error": (res.stderr or res.stdout).strip().splitlines()[-1:]}
    return json.loads(lines[-1])


def _generate(gib, kind, path):
    subprocess.run([sys.executable, str(HERE / "generate_si.py"), "--gib", str(gib),
                    "--kind", kind, "--out", path], check=True)


def write_report(results, out_md, out_png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results if "error" not in r]
    cases = [c for c in CASES + ["restore_zlp"] if any(r["case"] == c for r in ok)]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for c in cases:
        rows = sorted((r for r in ok if r["case"] == c), key=lambda r: r["gib"])
        g = [r["gib"] for r in rows]
        axes[0].plot(g, [r["wall_s"] for r in rows], "o-", label=c)
        axes[1].plot(g, [r["mb_per_s"] for r in rows], "o-", label=c)
        axes[2].plot(g, [r["peak_rss_mb"] for r in rows], "o-", label=c)
    for ax, title in zip(axes, ("wall time (s)", "throughput (MiB/s)", "peak RSS (MiB)")):
        ax.set_xlabel("SI size (GiB)")
        ax.set_title(title, fontsize=9)
    axes[2].axhline(2048, color="k", ls=":", lw=0.8)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=80)
    lines = ["| case | SI (GiB) | shape | wall (s) | MiB/s | x read time | peak RSS (MiB) |",
             "|---|---|---|---|---|---|---|"]
    reads = {round(r["gib"], 3): r["wall_s"] for r in ok if r["case"] == "read"}
    for r in sorted(results, key=lambda r: (r.get("gib", 0), r["case"])):
        if "error" in r:
            lines.append(f"| {r['case']} | {r.get('size', '')} | | failed: {r['error']} | | | |")
            continue
        ref = reads.get(round(r["gib"], 3))
        ratio = f"{r['wall_s'] / ref:.2f}" if ref else ""
        lines.append(f"| {r['case']} | {r['gib']:.2f} | {tuple(r['shape'])} | {r['wall_s']:.1f} "
                     f"| {r['mb_per_s']:.0f} | {ratio} | {r['peak_rss_mb']:.0f} |")
    table = "\n".join(lines) + "\n"
    sizes = ", ".join(f"{g:g}" for g in sorted({r["gib"] for r in ok}))
    out_md.write_text(
        "# Scaling: spectrum images larger than memory\n\n"
        "Reproduce with `python benchmarks/scale/run_scale.py --gib "
        f"{' '.join(f'{g:g}' for g in sorted({r['gib'] for r in ok}))}` "
        "(generates each SI as a .zspy store under `--workdir`, runs every case in a "
        "fresh subprocess, deletes the store).\n\n"
        f"Sizes run: {sizes} GiB, threaded dask scheduler, 2-core CPU, 23 GB RAM. "
        "`x read time` is the wall time divided by the time to read the same store "
        "once (`read`); peak RSS is the subprocess's `ru_maxrss`. Targets: peak RSS "
        "under 2 GB, `vca_apply` within 3x of the read time.\n\n"
        + table
        + "\n![scaling curves](../_static/scale/scale_curves.png)\n"
    )
    return table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gib", type=float, nargs="*", default=[1, 2])
    p.add_argument("--cases", nargs="*", default=CASES)
    p.add_argument("--zlp-gib", type=float, default=0.25,
                   help="size of the low-loss SI for restore_zlp (0: skip)")
    p.add_argument("--workdir", default="/tmp/hspy_unmix_scale")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--results", default=None, help="JSON file to append results to")
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.file, args.workdir)))
        return
    os.makedirs(args.workdir, exist_ok=True)
    results_path = pathlib.Path(args.results or os.path.join(args.workdir, "results.json"))
    results = json.loads(results_path.read_text()) if results_path.exists() else []
    runs = [(g, "coreloss", args.cases) for g in args.gib]
    if args.zlp_gib:
        runs.append((args.zlp_gib, "lowloss", ["read", "restore_zlp"]))
    for gib, kind, cases in runs:
        path = os.path.join(args.workdir, f"si_{kind}_{gib:g}gib.zspy")
        _generate(gib, kind, path)
        try:
            for case in cases:
                r = _subprocess_case(case, path, args.workdir, args.timeout)
                r.update(size=gib, kind=kind)
                if kind == "lowloss" and case == "read":
                    r["case"] = "read_lowloss"
                print(json.dumps(r), flush=True)
                results = [x for x in results if not (x["case"] == r["case"]
                                                      and x.get("size") == gib)] + [r]
                results_path.write_text(json.dumps(results, indent=1))
        finally:
            shutil.rmtree(path, ignore_errors=True)
    table = write_report(results, ROOT / "docs/benchmarks/scale.md",
                         ROOT / "docs/_static/scale/scale_curves.png")
    print(table)


if __name__ == "__main__":
    main()
