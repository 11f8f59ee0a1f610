"""Near-zero-loss restoration benchmark: shipped U-net against Richardson-Lucy.

Everything is scored on data the network never saw:

* held-out spectra (:mod:`hspy_unmix.synthetic.zlp_heldout`: the source
  paper's generator settings plus PSF shapes, a drifting beam and narrow
  peaks absent from training) at the paper's four noise levels, against
  Richardson-Lucy with the exact kernel and with each spectrum's measured
  ZLP at 10-200 iterations;
* U-net throughput on 2048-channel spectra (warm-up excluded) beside
  Richardson-Lucy's, in the same run;
* the real low-loss files of the data folder (integral, ZLP position and
  width, ringing beside the ZLP).

::

    python benchmarks/bench_zlp.py                # 300 spectra per level
    python benchmarks/bench_zlp.py --n 50 --throughput 2048
    python benchmarks/bench_zlp.py --model my_model.keras
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL = (
    "eels/LSMO_STO_lowloss_linescan_10.hspy",
    "eels/LSMO_lowloss_linescan_40.hspy",
    "eels/angadi_lowloss_SI_16x16_0.3eV.dm3",
    "synthetic_with_ground_truth/jeels2026_Si100nm_ll_for_fr.hspy",
    "synthetic_with_ground_truth/jeels2026_Si100nm_measured.hspy",
    "synthetic_with_ground_truth/jeels2026_Si100nm_zlp.hspy",
)


def quality(model, n):
    from hspy_unmix.restoration.evaluation import best_rl, evaluate_zlp_restoration

    table = evaluate_zlp_restoration(n, model=model)
    lines = ["| noise | method | FWHM rec. | FWTM rec. | FWHM err. | FWTM err. | "
             "noise red. (median / min) | loss SSIM | loss MSE |", "|" + "---|" * 9]
    for level, rows in table.items():
        picks = {"U-net": "unet",
                 "best RL by SSIM": best_rl(rows, "loss_ssim", True)[0],
                 "best RL by MSE": best_rl(rows, "loss_mse", False)[0]}
        for label, key in picks.items():
            r = rows[key]
            name = label if key == "unet" else f"{label} ({key[3:]})"
            lines.append(
                f"| {level:g} | {name} | {r['fwhm_recovery']:.3f} | {r['fwtm_recovery']:.3f} | "
                f"{r['fwhm_error']:.3f} | {r['fwtm_error']:.3f} | "
                f"{r['noise_reduction']:.1f} / {r['noise_reduction_min']:.2f} | "
                f"{r['loss_ssim']:.4f} | {r['loss_mse']:.3g} |")
    return table, "\n".join(lines)


def throughput(model, n, batch_size=128):
    from hspy_unmix.restoration import load_zlp_model, richardson_lucy
    from hspy_unmix.restoration.model_io import predict_spectra
    from hspy_unmix.synthetic.zlp_heldout import zlp_heldout_spectra

    net = load_zlp_model(model)
    x, _, _, k = zlp_heldout_spectra(256, 1e-5, random_state=3)
    x = np.tile(x, (n // 256 + 1, 1))[:n]
    predict_spectra(net, x[:batch_size], batch_size)  # warm-up (tracing)
    t0 = time.perf_counter()
    predict_spectra(net, x, batch_size)
    t_net = time.perf_counter() - t0
    t0 = time.perf_counter()
    richardson_lucy(x[:512], np.tile(k, (2, 1)), 50)
    t_rl = (time.perf_counter() - t0) * n / 512
    return {"unet_spectra_per_s": n / t_net, "rl50_spectra_per_s": n / t_rl}


def real_files(model):
    import hyperspy.api as hs

    import hspy_unmix  # noqa: F401
    from hspy_unmix.restoration.evaluation import restoration_checks

    lines = ["| file | method | factor | FWHM raw -> restored (ch) | integral change "
             "(median / worst) | max shift (ch) | ringing (noise sd) |", "|" + "---|" * 7]
    for name in REAL:
        path = DATA / name
        if not path.exists():
            continue
        s = hs.load(path)
        for method in ("unet", "richardson_lucy"):
            r = s.restore_zlp(model=model, method=method, show_progressbar=False)
            c = restoration_checks(s, r)
            factor = r.metadata.Signal.restore_zlp.get_item("resampling_factor", 1.0)
            lines.append(
                f"| {path.name} | {method} | {factor:.2f} | {c['fwhm_raw']:.2f} -> "
                f"{c['fwhm_restored']:.2f} | {c['integral_change_median']:+.4f} / "
                f"{c['integral_change_worst']:+.4f} | {c['position_shift_worst']} | "
                f"{c['ringing']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="held-out spectra per level")
    parser.add_argument("--throughput", type=int, default=4096,
                        help="spectra for the throughput run (0: skip)")
    parser.add_argument("--model", default=None, help="a .keras model (default: shipped)")
    parser.add_argument("--json", default=None, help="write the full table here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    table, text = quality(args.model, args.n)
    print(text)
    print(f"\nquality run: {time.perf_counter() - t0:.0f} s")
    if args.throughput:
        print(json.dumps(throughput(args.model, args.throughput)))
    print()
    print(real_files(args.model))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {f"{k:g}": v for k, v in table.items()}, indent=1))


if __name__ == "__main__":
    main()
