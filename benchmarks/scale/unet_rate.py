"""U-net ``restore_zlp`` rate on a lazy low-loss SI against the same SI in memory.

Both in one process, after a warm-up restoration (model loading and graph
tracing excluded), two alternating repeats each; the lazy restoration
includes writing the result to .zspy with ``save_atomic``. Make the SI with
``generate_si.py``::

    python benchmarks/scale/generate_si.py --gib 0.25 --kind lowloss --out /tmp/ll.zspy
    python benchmarks/scale/unet_rate.py /tmp/ll.zspy
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store", help="low-loss SI (.zspy) made by generate_si.py --kind lowloss")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()

    import dask

    from hspy_unmix.io import load_lazy, save_atomic

    dask.config.set(scheduler="threads")
    lazy = load_lazy(args.store)
    n = lazy.axes_manager.navigation_size
    eager = lazy.deepcopy()
    eager.compute()
    eager.restore_zlp(show_progressbar=False)  # warm-up
    rates = {"in memory": [], "lazy, written to .zspy": []}
    out_dir = tempfile.mkdtemp()
    try:
        for _ in range(args.repeats):
            t = time.perf_counter()
            eager.restore_zlp(show_progressbar=False)
            rates["in memory"].append(n / (time.perf_counter() - t))
            t = time.perf_counter()
            out = lazy.restore_zlp(lazy_output=True, show_progressbar=False)
            save_atomic(out, f"{out_dir}/restored.zspy", overwrite=True, show_progressbar=False)
            rates["lazy, written to .zspy"].append(n / (time.perf_counter() - t))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    for name, values in rates.items():
        print(f"{name}: {', '.join(f'{v:.0f}' for v in values)} spectra/s ({n} spectra)")


if __name__ == "__main__":
    main()
