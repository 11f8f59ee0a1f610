"""Scaling benchmark: bounded memory and throughput on SIs larger than memory.

For each size (GiB) a core-loss SI is generated chunk by chunk to a .zspy
store (``generate_si.py``), then each case runs in a fresh subprocess that
reports its wall time and peak resident memory (VmHWM, reset after the
set-up of the ``*_apply`` cases):

* ``read``: ``s.data.sum().compute()``, the time to read the file once (reference);
* ``copy``: ``save_atomic`` of the SI itself to a new .zspy store: one read
  and one write of a cube as large as the input, the least that
  ``pan_sharpen`` and ``restore_zlp`` (whose results are such cubes) can take;
* ``vca_apply``: ``apply_unmixing`` of a VCA (FCLS abundances) fitted on a
  20 000-pixel sample;
* ``vca_decomposition``: lazy ``decomposition(algorithm="VCA")`` (two passes:
  a 20 000-pixel sample, then the abundances);
* ``minvol_decomposition``, ``blu_decomposition``: the same with MinVolume
  and BLU;
* ``hals_decomposition``: the same with HALS, one start (``n_starts=1``: the
  fit on the 20 000-pixel sample does not grow with the SI, and the default
  five starts only multiply that fixed time by five);
* ``vca_decomposition_lowmem``: ``vca_decomposition`` with the memory knobs
  turned down: 4 MiB chunks (``load_lazy(path, target_mb=4)``) and a
  10 000-pixel sample (``max_partial_fit_samples=10000``);
* ``vca_decomposition_chunks``, ``minvol_decomposition_chunks``,
  ``hals_decomposition_chunks``: the same decompositions with
  ``sample_chunks=0.1``: the sample is drawn from one navigation chunk in
  ten, and only those are read in the first pass;
* ``vca_decomposition_distributed``: ``vca_decomposition`` on a
  ``dask.distributed`` ``LocalCluster`` of 2 worker processes of 1 thread
  (cluster start-up outside the timing); peak RSS of the client and of the
  largest worker are reported;
* ``daeu_apply``: ``apply_unmixing`` of a DAEU trained on 4 096 pixels;
* ``pan_sharpen``: ``pan_sharpen`` with a 32 x 32 clean SI, fused cube written
  to .zspy chunk by chunk.

Low-loss SIs (``generate_si.py --kind lowloss``) of the ``--zlp-gib`` sizes
run ``read_lowloss`` (their read reference) and ``restore_zlp`` (the default
U-net, restored cube written to .zspy); those of the ``--zlp-rl-gib`` sizes
run ``read_lowloss`` and ``restore_zlp_rl`` (Richardson-Lucy, 50 iterations,
about 40x slower than the U-net, hence a small size).

With ``--warmup`` each case (but the reads and the cluster case) first runs
on the store's first 1024 spectra in the same process and only the second
run is timed (``warmup_s`` is the first's time): the imports (scikit-learn,
SciPy, TensorFlow), numba's compiled-kernel cache and the U-net model are
then loaded before the timing, as in a session that has run the method
once. Without it (the default) they are in the wall time, which weighs on
the smallest SIs.

Runs go from the largest SI to the smallest, so that an interrupted run
already holds the largest points. Rows accumulate in ``--results`` (a rerun
replaces the rows of the same case and size), and the report is written from
all of them.

Reproduce the published table (about 75 min on 2 shared cores)::

    python benchmarks/scale/run_scale.py --gib 1 2 4 8 --zlp-gib 0.25 1 8 \
        --zlp-rl-gib 0.25 --workdir /tmp/hspy_unmix_scale \
        --results /tmp/hspy_unmix_scale/results.json

which writes docs/benchmarks/scale.md and docs/_static/scale/scale_curves.png
(``--report-md`` / ``--report-png`` elsewhere) and deletes the generated
stores; ``--report-only`` rewrites the report from ``--results`` alone.

The defaults (``--zlp-gib 1 2 4 8``) also restore 2 and 4 GiB low-loss SIs:
at the U-net's 1250 spectra/s on 2 idle cores that adds about 10 minutes
(the 8 GiB SI, 1 048 576 spectra, takes about 20).
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
CASES = ["read", "copy", "vca_apply", "vca_decomposition", "minvol_decomposition",
         "hals_decomposition", "blu_decomposition", "vca_decomposition_lowmem",
         "vca_decomposition_chunks", "minvol_decomposition_chunks",
         "hals_decomposition_chunks", "vca_decomposition_distributed", "daeu_apply",
         "pan_sharpen"]
#: ``sample_chunks`` of the ``*_chunks`` cases: the sampling pass reads 1 chunk in 10
SAMPLE_CHUNKS = 0.1
LOWLOSS_CASES = ["read_lowloss", "restore_zlp", "restore_zlp_rl"]
#: reference (read) row of each case, same SI kind and size
READ_OF = {**{c: "read" for c in CASES}, **{c: "read_lowloss" for c in LOWLOSS_CASES}}
LABELS = {"restore_zlp": "restore_zlp (U-net)",
          "restore_zlp_rl": "restore_zlp_rl (Richardson-Lucy, 50 it.)"}
#: Peak RSS targets (MiB): 0.6 GB for every case, 1.5 GB for the U-net cases
#: (TensorFlow's own footprint, about 600 MiB once imported, included).
RSS_TARGET_MB = 0.6e9 / 2**20
RSS_TARGET_UNET_MB = 1.5e9 / 2**20
UNET_CASES = ("daeu_apply", "restore_zlp")
#: Targets of the wall time over one read of the same store.
READ_RATIO_TARGETS = {"vca_decomposition": 2.0, "minvol_decomposition": 2.0,
                      "vca_apply": 1.5, "hals_decomposition": 3.0, "pan_sharpen": 2.0,
                      "vca_decomposition_chunks": 2.0, "minvol_decomposition_chunks": 2.0,
                      "hals_decomposition_chunks": 3.0}
K = 4


def rss_target(case: str) -> float:
    return RSS_TARGET_UNET_MB if case in UNET_CASES else RSS_TARGET_MB


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (MiB) since it started or since
    :func:`_reset_peak_rss` (Linux's VmHWM; ``ru_maxrss`` elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak_rss() -> None:
    """Start the peak over (Linux: ``echo 5 > /proc/self/clear_refs``), so that
    the set-up of a case (fitting the model it applies) is not counted."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _sample(s, n, seed=0):
    """A uniform float64 sample of ``n`` spectra, read the way the package reads
    its own (``io.chunks.sample_spectra``: one glibc arena for dask's threads,
    set before they first allocate; a plain ``compute`` here would give each
    thread its own heap, which then holds 0-70 MiB of freed chunks through
    the case that follows)."""
    import numpy as np

    from hspy_unmix.io.chunks import sample_spectra

    return sample_spectra(s.data, n, seed, dtype=np.float64)[0]


def _save_and_delete(signal, path):
    from hspy_unmix._lazy import save_atomic

    save_atomic(signal, path, overwrite=True, show_progressbar=False)
    shutil.rmtree(path, ignore_errors=True)


#: Cases run without a warm-up: the reads (no package code) and the cluster
#: (its worker processes would not be warmed by the client's warm-up).
NO_WARMUP = ("read", "read_lowloss", "vca_decomposition_distributed")
#: Spectra of the warm-up SI: the first rows of the store, 1024 spectra.
WARMUP_ROWS, WARMUP_COLUMNS = 4, 256


def run_case(case: str, path: str, workdir: str, warmup: bool = False) -> dict:
    """Run one case in this process; return its measurements.

    With ``warmup`` the case first runs on the first 1024 spectra of the
    store (imports, numba's compiled-kernel cache, TensorFlow and the model
    loaded once, as in a session that has run the method before); its time
    is reported as ``warmup_s`` and is not in ``wall_s``. The peak RSS then
    includes what the warm-up left allocated (20-60 MiB in trials at
    0.25 GiB), so the memory targets are judged on runs without it.
    """
    import dask

    from hspy_unmix._lazy import load_lazy

    dask.config.set(scheduler="threads")
    s = load_lazy(path, target_mb=4) if case == "vca_decomposition_lowmem" else load_lazy(path)
    extra = {}
    if warmup and case not in NO_WARMUP:
        t0 = time.perf_counter()
        small = s.inav[:WARMUP_COLUMNS, :WARMUP_ROWS]
        warm_dir = os.path.join(workdir, "warmup")
        os.makedirs(warm_dir, exist_ok=True)
        _run(case, small, warm_dir)
        extra["warmup_s"] = time.perf_counter() - t0
    wall, more = _run(case, s, workdir)
    nbytes = s.data.nbytes
    return {"case": case, "wall_s": wall, "gib": nbytes / 2**30,
            "mb_per_s": nbytes / 2**20 / wall, "peak_rss_mb": _peak_rss_mb(),
            "shape": list(s.data.shape), **extra, **more}


def _run(case: str, s, workdir: str):
    """Run ``case`` on the lazy SI ``s``: (wall time in s, extra fields)."""
    import dask

    import hspy_unmix

    extra = {}
    t0 = time.perf_counter()
    if case in ("read", "read_lowloss"):
        float(s.data.sum().compute())
    elif case == "copy":
        # what any method that returns a cube as large as the input pays at
        # least: one read and one compressed write (save_atomic's codec)
        _save_and_delete(s, os.path.join(workdir, "copy.zspy"))
    elif case.endswith("_decomposition_chunks"):
        algorithm = {"vca": "VCA", "minvol": "MinVolume", "hals": "HALS"}[case.split("_")[0]]
        extra_params = {"n_starts": 1} if algorithm == "HALS" else {}
        s.decomposition(algorithm=algorithm, output_dimension=K, random_state=0,
                        sample_chunks=SAMPLE_CHUNKS, print_info=False, show_progressbar=False,
                        **extra_params)
    elif case in ("minvol_decomposition", "blu_decomposition"):
        algorithm = {"minvol_decomposition": "MinVolume", "blu_decomposition": "BLU"}[case]
        s.decomposition(algorithm=algorithm, output_dimension=K, random_state=0,
                        print_info=False, show_progressbar=False)
    elif case == "vca_decomposition_lowmem":
        s.decomposition(algorithm="VCA", output_dimension=K, random_state=0,
                        max_partial_fit_samples=10_000, print_info=False)
    elif case == "vca_decomposition_distributed":
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            t0 = time.perf_counter()
            with dask.config.set(scheduler=client.get):
                s.decomposition(algorithm="VCA", output_dimension=K, random_state=0,
                                print_info=False)
            wall = time.perf_counter() - t0
            extra["worker_peak_rss_mb"] = max(client.run(_peak_rss_mb).values())
        t0 = time.perf_counter() - wall
    elif case == "vca_apply":
        est = hspy_unmix.VCA(n_components=K, random_state=0).fit(_sample(s, 20_000))
        _reset_peak_rss()
        t0 = time.perf_counter()
        s.apply_unmixing(est, print_info=False)
    elif case == "vca_decomposition":
        s.decomposition(algorithm="VCA", output_dimension=K, random_state=0, print_info=False)
    elif case == "hals_decomposition":
        s.decomposition(algorithm="HALS", output_dimension=K, random_state=0, n_starts=1,
                        print_info=False)
    elif case == "daeu_apply":
        est = hspy_unmix.DAEU(n_components=K, random_state=0, epochs=20).fit(_sample(s, 4096))
        _reset_peak_rss()
        t0 = time.perf_counter()
        s.apply_unmixing(est, print_info=False)
    elif case == "pan_sharpen":
        from hyperspy.signals import Signal1D

        clean = Signal1D(_sample(s, 1024).reshape(32, 32, -1))
        clean.axes_manager.signal_axes[0].update_from(s.axes_manager.signal_axes[0],
                                                      ("offset", "scale", "units"))
        clean.set_signal_type("EELS")
        t0 = time.perf_counter()
        fused = s.pan_sharpen(clean, n_components=K, random_state=0, lazy_output=True)
        _save_and_delete(fused, os.path.join(workdir, "fused.zspy"))
    elif case == "restore_zlp":
        # the default method: the shipped U-net (loaded inside the timing
        # without the warm-up, which loads it otherwise)
        out = s.restore_zlp(lazy_output=True)
        _save_and_delete(out, os.path.join(workdir, "restored.zspy"))
    elif case == "restore_zlp_rl":
        out = s.restore_zlp(method="richardson_lucy", iterations=50, lazy_output=True)
        _save_and_delete(out, os.path.join(workdir, "restored.zspy"))
    else:
        raise ValueError(case)
    return time.perf_counter() - t0, extra


def _subprocess_case(case, path, workdir, timeout, warmup=False):
    cmd = [sys.executable, __file__, "--case", case, "--file", path, "--workdir", workdir]
    if warmup:
        cmd.append("--warmup")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"timeout after {timeout:g} s"}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:]
        return {"case": case, "error": " ".join(tail) or f"exit code {res.returncode}"}
    return json.loads(lines[-1])


def _generate(gib, kind, path):
    subprocess.run([sys.executable, str(HERE / "generate_si.py"), "--gib", str(gib),
                    "--kind", kind, "--out", path], check=True)


def _size(row) -> float:
    """Nominal SI size of a row in GiB (failed rows carry no measured ``gib``)."""
    return float(row.get("size", row.get("gib", 0.0)))


def _key(row) -> tuple:
    """Identity of a result row: a rerun of the same case and size replaces it."""
    return row["case"], round(_size(row), 6)


def merge_results(results, new_rows) -> list:
    """``results`` with ``new_rows`` added, one row per (case, size), the newest kept."""
    merged = {}
    for row in list(results) + list(new_rows):
        merged.pop(_key(row), None)  # re-insert so that the newest row comes last
        merged[_key(row)] = row
    return list(merged.values())


def planned_runs(gib, cases, zlp_gib, zlp_rl_gib) -> list:
    """(size, kind, cases) of each SI to generate, largest first."""
    runs = [(g, "coreloss", list(cases)) for g in gib if g > 0]
    lowloss = {}
    for g in zlp_gib:
        lowloss.setdefault(g, ["read_lowloss"]).append("restore_zlp")
    for g in zlp_rl_gib:
        lowloss.setdefault(g, ["read_lowloss"]).append("restore_zlp_rl")
    runs += [(g, "lowloss", c) for g, c in lowloss.items() if g > 0]
    return sorted(runs, key=lambda r: -r[0])


def _fmt_sizes(sizes) -> str:
    return " ".join(f"{g:g}" for g in sorted(set(sizes)))


def reproduce_command(results) -> str:
    """The one ``run_scale.py`` command that regenerates every row of ``results``."""
    size = {}
    for r in results:
        size.setdefault(r["case"], set()).add(_size(r))
    core = set().union(*(size.get(c, set()) for c in CASES))
    core_cases = [c for c in CASES if c in size]
    cmd = "python benchmarks/scale/run_scale.py"
    if core:
        cmd += f" --gib {_fmt_sizes(core)}"
        if core_cases != CASES:
            cmd += f" --cases {' '.join(core_cases)}"
    else:
        cmd += " --gib"
    cmd += f" --zlp-gib {_fmt_sizes(size.get('restore_zlp', ()))}".rstrip()
    cmd += f" --zlp-rl-gib {_fmt_sizes(size.get('restore_zlp_rl', ()))}".rstrip()
    return cmd


def _rss(row) -> float:
    """Peak RSS of the case: the client or its largest worker process."""
    return max(row["peak_rss_mb"], row.get("worker_peak_rss_mb", 0.0))


def _read_ratio(row, reads):
    ref = reads.get((READ_OF.get(row["case"]), round(row["gib"], 3)))
    return row["wall_s"] / ref if ref else None


def _same_size(rows, case: str, row):
    """The row of ``case`` at ``row``'s size, or None."""
    return next((x for x in rows if x["case"] == case and _key(x)[1] == _key(row)[1]), None)


def _conditions(results, ok, reads) -> str:
    """Bullet list: load, targets at the largest size, failures and gaps."""
    out = []
    loads = [x for r in ok for x in r.get("loadavg", [])]
    if loads:
        out.append(f"* Load average (1 min, `/proc/loadavg`) before and after each case: "
                   f"{min(loads):.1f} to {max(loads):.1f} on 2 cores (other jobs shared "
                   "the machine): the wall times are noisy.")
    core = [r for r in ok if r["case"] in CASES]
    if core:
        top = max(float(r["size"]) for r in core)
        at_top = [r for r in ok if abs(float(r["size"]) - top) < 1e-6]
        worst = max(at_top, key=lambda r: r["peak_rss_mb"])
        over = [r["case"] for r in at_top if _rss(r) >= rss_target(r["case"])]
        verdict = ("met" if not over else
                   f"**not met** ({', '.join(over)} at or above its target)")
        out.append(f"* Target peak RSS < 0.6 GB = {RSS_TARGET_MB:.0f} MiB (1.5 GB = "
                   f"{RSS_TARGET_UNET_MB:.0f} MiB with the U-net) at {top:g} GiB: {verdict}; highest "
                   f"{worst['peak_rss_mb']:.0f} MiB ({worst['case']}) over the "
                   f"{len(at_top)} cases (core-loss and low-loss) run at that size.")
        for case, target in READ_RATIO_TARGETS.items():
            row = next((r for r in at_top if r["case"] == case), None)
            ratio = _read_ratio(row, reads) if row else None
            if ratio is None:
                out.append(f"* Target `{case}` <= {target:g}x the read time at "
                           f"{top:g} GiB: not measured.")
            else:
                verdict = "met" if ratio <= target else "**not met**"
                out.append(f"* Target `{case}` <= {target:g}x the read time at "
                           f"{top:g} GiB: {verdict} ({ratio:.2f}x).")
    over = [f"`{r['case']}` at {float(r['size']):g} GiB ({_rss(r):.0f} MiB)"
            for r in ok if _rss(r) >= rss_target(r["case"])]
    if over:
        out.append("* At or above the peak RSS target, any size: " + ", ".join(over) + ".")
    for r in ok:
        copy = _same_size(ok, "copy", r) if r["case"] == "pan_sharpen" else None
        if copy:
            out.append(f"* `pan_sharpen` at {float(r['size']):g} GiB: {r['wall_s'] / copy['wall_s']:.2f}x "
                       f"the time of `copy` (one read and one write of the SI: "
                       f"{_read_ratio(copy, reads) or float('nan'):.2f}x one read).")
    dist = [r for r in ok if r["case"] == "vca_decomposition_distributed"]
    for r in dist:
        ref = _same_size(ok, "vca_decomposition", r)
        speed = f", speed-up {ref['wall_s'] / r['wall_s']:.2f}x over the threaded run" \
            if ref else ""
        out.append(f"* `vca_decomposition_distributed` at {float(r['size']):g} GiB: "
                   f"{r['wall_s']:.1f} s{speed}; largest worker peak RSS "
                   f"{r.get('worker_peak_rss_mb', float('nan')):.0f} MiB, client "
                   f"{r['peak_rss_mb']:.0f} MiB.")
    failed = [r for r in results if "error" in r]
    for r in failed:
        out.append(f"* Failed: `{r['case']}` at {r.get('size', '?'):g} GiB: {r['error']}")
    sizes = {k: sorted({_size(r) for r in results if r["case"] in cs})
             for k, cs in (("core", CASES), ("low", ("restore_zlp",)))}
    have = {_key(r) for r in results}
    missing = [f"`{c}` at {g:g} GiB" for c in CASES for g in sizes["core"]
               if (c, round(float(g), 6)) not in have]
    missing += [f"`read_lowloss` at {g:g} GiB" for g in sizes["low"]
                if ("read_lowloss", round(float(g), 6)) not in have]
    # the U-net restoration is meant to run at the core-loss sizes too
    missing += [f"`restore_zlp` at {g:g} GiB" for g in sizes["core"]
                if ("restore_zlp", round(float(g), 6)) not in have]
    noted = sorted({r["note"] for r in ok if r.get("note")})
    for note in noted:
        rows = [f"`{r['case']}` at {float(r['size']):g} GiB" for r in ok
                if r.get("note") == note]
        out.append(f"* {', '.join(rows)}: {note}.")
    if missing:
        out.append("* Not run: " + ", ".join(missing) + ".")
    elif not failed:
        out.append("* Every case ran at every size listed.")
    out.append("* Each store is read right after it was written, so part of it may come "
               "from the page cache; `read` (decompression and a sum over the data) is "
               "the reference for the same store in the same state.")
    return "\n".join(out) + "\n"


def write_report(results, out_md, out_png):
    """Write the Markdown table and the scaling curves of ``results``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results if "error" not in r]
    order = CASES + LOWLOSS_CASES
    cases = [c for c in order if any(r["case"] == c for r in ok)]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for c in cases:
        rows = sorted((r for r in ok if r["case"] == c), key=lambda r: r["gib"])
        g = [r["gib"] for r in rows]
        style = "s--" if c in LOWLOSS_CASES else "o-"
        axes[0].plot(g, [r["wall_s"] for r in rows], style, label=LABELS.get(c, c))
        axes[1].plot(g, [r["mb_per_s"] for r in rows], style)
        axes[2].plot(g, [r["peak_rss_mb"] for r in rows], style)
    for ax, title in zip(axes, ("wall time (s)", "throughput (MiB/s)", "peak RSS (MiB)"),
                         strict=True):
        ax.set_xlabel("SI size (GiB)")
        ax.set_title(title, fontsize=9)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[2].axhline(RSS_TARGET_MB, color="k", ls=":", lw=0.8)
    axes[2].axhline(RSS_TARGET_UNET_MB, color="k", ls="--", lw=0.8)
    axes[0].legend(fontsize=6)
    fig.suptitle("2 shared CPU cores, other jobs running: noisy timings", fontsize=8)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=80)
    plt.close(fig)
    reads = {(r["case"], round(r["gib"], 3)): r["wall_s"] for r in ok
             if r["case"] in ("read", "read_lowloss")}
    lines = ["| case | SI (GiB) | shape | wall (s) | MiB/s | x read time | peak RSS (MiB) "
             "| load avg | warm-up (s) |",
             "|---|---|---|---|---|---|---|---|---|"]

    def sort_key(r):
        kind = 1 if r["case"] in LOWLOSS_CASES else 0
        rank = order.index(r["case"]) if r["case"] in order else len(order)
        return kind, _size(r), rank

    for r in sorted(results, key=sort_key):
        name = LABELS.get(r["case"], r["case"])
        if "error" in r:
            lines.append(f"| {name} | {r.get('size', '')} | | failed: {r['error']} "
                         "| | | | | |")
            continue
        ratio = _read_ratio(r, reads)
        load = " -> ".join(f"{x:.1f}" for x in r.get("loadavg", [])) or "see note"
        warm = f"{r['warmup_s']:.1f}" if "warmup_s" in r else (
            "none" if r["case"] in NO_WARMUP else "in wall")
        lines.append(f"| {name} | {r['gib']:.2f} | {tuple(r['shape'])} | {r['wall_s']:.1f} "
                     f"| {r['mb_per_s']:.0f} | {'' if ratio is None else f'{ratio:.2f}'} "
                     f"| {r['peak_rss_mb']:.0f} | {load} | {warm} |")
    table = "\n".join(lines) + "\n"
    def sizes(names):
        found = sorted({float(r["size"]) for r in ok if r["case"] in names})
        return ", ".join(f"{g:g}" for g in found) or "no"

    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_md.write_text(
        "# Scaling: spectrum images larger than memory\n\n"
        f"Reproduce the whole table with `{reproduce_command(results)}` (generates each "
        "SI as a .zspy store under `--workdir`, runs every case in a fresh subprocess, "
        "deletes the store; see the docstring of `benchmarks/scale/run_scale.py`).\n\n"
        f"Core-loss SIs of {sizes(CASES)} GiB (cases "
        f"{', '.join(f'`{c}`' for c in CASES)}); low-loss SIs of "
        f"{sizes(['restore_zlp'])} GiB for `restore_zlp` (U-net, the default method) "
        f"and of {sizes(['restore_zlp_rl'])} GiB for `restore_zlp_rl` (Richardson-Lucy, "
        "50 iterations, about 40x slower). Every SI has 2048 float32 channels, stored "
        "in chunks of 1 MiB (about HyperSpy's default) and opened with `load_lazy` "
        "(whole stored chunks merged into 16 MiB ones); threaded dask scheduler, 2-core CPU, 23 GB RAM. `x read time` is the "
        "wall time divided by the time to read the same store once (`read` for "
        "core-loss, `read_lowloss` for low-loss cases); MiB/s is the input size over "
        "the wall time; peak RSS is the subprocess's high-water mark (VmHWM); load avg is the "
        "1-minute load before -> after the case; warm-up: the same case run first on "
        "the store's first 1024 spectra in the same process (imports, numba's kernel "
        "cache, TensorFlow and the model) with `--warmup`, its time outside `wall` "
        "(`in wall`: rows measured without it, the default). Fitting on a pixel sample (VCA, DAEU) "
        "is outside the timing and the peak RSS of the `*_apply` cases; the `restore_zlp*` and "
        "`pan_sharpen` times include writing the result to .zspy. Targets: peak RSS "
        f"under 0.6 GB = {RSS_TARGET_MB:.0f} MiB (1.5 GB = {RSS_TARGET_UNET_MB:.0f} MiB with the U-net), "
        + ", ".join(f"`{c}` within {t:g}x" for c, t in READ_RATIO_TARGETS.items())
        + " of the read time.\n\n"
        + table
        + "\n## Conditions\n\n"
        + _conditions(results, ok, reads)
        + "\n![scaling curves](../_static/scale/scale_curves.png)\n"
    )
    return table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gib", type=float, nargs="*", default=[1, 2, 4, 8],
                   help="sizes of the core-loss SIs (GiB)")
    p.add_argument("--cases", nargs="*", default=CASES, choices=CASES,
                   help="core-loss cases to run")
    p.add_argument("--zlp-gib", type=float, nargs="*", default=[1, 2, 4, 8],
                   help="sizes of the low-loss SIs for the U-net restore_zlp (none: skip)")
    p.add_argument("--zlp-rl-gib", type=float, nargs="*", default=[0.25],
                   help="sizes of the low-loss SIs for Richardson-Lucy restore_zlp_rl "
                        "(none: skip)")
    p.add_argument("--workdir", default="/tmp/hspy_unmix_scale")
    p.add_argument("--timeout", type=float, default=3600, help="per case (s)")
    p.add_argument("--results", default=None,
                   help="JSON file the rows accumulate in (default: WORKDIR/results.json)")
    p.add_argument("--report-md", default=str(ROOT / "docs/benchmarks/scale.md"))
    p.add_argument("--report-png", default=str(ROOT / "docs/_static/scale/scale_curves.png"))
    p.add_argument("--report-only", action="store_true",
                   help="only rewrite the report from --results")
    p.add_argument("--warmup", action="store_true",
                   help="run each case first on the store's first 1024 spectra and time "
                        "the second run only (imports, numba's kernel cache, TensorFlow "
                        "and the model outside the timing; the peak RSS includes what "
                        "the warm-up left)")
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.file, args.workdir,
                                  warmup=args.warmup)))
        return
    os.makedirs(args.workdir, exist_ok=True)
    results_path = pathlib.Path(args.results or os.path.join(args.workdir, "results.json"))
    results = json.loads(results_path.read_text()) if results_path.exists() else []
    results = merge_results([], results)
    runs = [] if args.report_only else planned_runs(args.gib, args.cases, args.zlp_gib,
                                                    args.zlp_rl_gib)
    for gib, kind, cases in runs:
        path = os.path.join(args.workdir, f"si_{kind}_{gib:g}gib.zspy")
        _generate(gib, kind, path)
        try:
            for case in cases:
                before = os.getloadavg()[0]
                r = _subprocess_case(case, path, args.workdir, args.timeout,
                                     warmup=args.warmup)
                r.update(size=gib, kind=kind, loadavg=[before, os.getloadavg()[0]])
                print(json.dumps(r), flush=True)
                results = merge_results(results, [r])
                results_path.write_text(json.dumps(results, indent=1))
        finally:
            shutil.rmtree(path, ignore_errors=True)
    table = write_report(results, pathlib.Path(args.report_md), pathlib.Path(args.report_png))
    print(table)


if __name__ == "__main__":
    main()
