"""Near-zero-loss restoration benchmark: shipped U-net vs Richardson-Lucy.

Quality (medians over generated spectra at four noise amplitudes of the
integral-normalised spectrum) and U-net inference throughput on CPU::

    python benchmarks/bench_zlp.py            # 200 spectra per amplitude
    python benchmarks/bench_zlp.py --n 50 --throughput 2048
    python benchmarks/bench_zlp.py --model my_model.keras  # another trained model

Richardson-Lucy gets the exact blur kernel of each spectrum (jitter and PSF
of the generator): its best case. Noise variance and ZLP widths are measured
on spectra with the ZLP only (as in the paper); SSIM and MSE on spectra with
0-15 loss peaks.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

AMPLITUDES = (5e-6, 1e-5, 5e-5, 5e-4)
RL_ITERATIONS = (10, 25, 50, 100)
KEYS = ("noise_variance", "noise_reduction", "fwhm_recovery", "fwtm_recovery",
        "fwhm_error", "fwtm_error", "ssim", "mse")


def _kernels(params):
    from hspy_unmix.synthetic import zlp_blur_kernel

    return np.stack([zlp_blur_kernel(f, jitter_shifts=sh, half_width=400)
                     for f, sh in zip(params["psf_fwhm"], params["jitter_shifts"], strict=True)])


def quality(model, n: int, seed: int = 0) -> dict:
    from hspy_unmix import richardson_lucy
    from hspy_unmix.metrics import zlp_restoration_scores
    from hspy_unmix.synthetic import zlp_training_spectra
    from hspy_unmix.zlp import _predict

    results = {}
    for amp in AMPLITUDES:
        zlp_only = zlp_training_spectra(n, noise_amplitude=amp, n_peaks=(0, 0),
                                        random_state=seed, return_params=True)
        peaks = zlp_training_spectra(n, noise_amplitude=amp, random_state=seed + 1,
                                     return_params=True)
        rows = {}
        for name in ["distorted", "unet"] + [f"RL{k}" for k in RL_ITERATIONS]:
            scores = {}
            for kind, (x, y, e, p) in (("zlp", zlp_only), ("peaks", peaks)):
                if name == "distorted":
                    r = x
                elif name == "unet":
                    r = _predict(model, x)
                else:
                    r = richardson_lucy(x, _kernels(p), int(name[2:]))
                s = zlp_restoration_scores(r, x, y, e)
                wanted = KEYS[:6] if kind == "zlp" else KEYS[6:]
                scores.update({k: float(np.nanmedian(s[k])) for k in wanted})
            rows[name] = scores
        results[f"{amp:g}"] = rows
    return results


def throughput(model, n: int, batch_size: int = 128) -> float:
    from hspy_unmix.synthetic import zlp_training_spectra
    from hspy_unmix.zlp import _predict

    x, _, _ = zlp_training_spectra(n, random_state=3)
    _predict(model, x[:batch_size], batch_size)  # warm-up (tracing)
    t = time.perf_counter()
    _predict(model, x, batch_size)
    return n / (time.perf_counter() - t)


def markdown(results: dict) -> str:
    lines = []
    for amp, rows in results.items():
        lines.append(f"\n**Noise amplitude {amp}** (medians)\n")
        lines.append("| method | noise var. | noise reduction | FWHM rec. | FWTM rec. | "
                     "FWHM err. | FWTM err. | SSIM | MSE |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for name, s in rows.items():
            lines.append(
                f"| {name} | {s['noise_variance']:.2e} | {s['noise_reduction']:.3g} | "
                f"{s['fwhm_recovery']:.1%} | {s['fwtm_recovery']:.1%} | {s['fwhm_error']:.1%} | "
                f"{s['fwtm_error']:.1%} | {s['ssim']:.5f} | {s['mse']:.2e} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="spectra per amplitude")
    parser.add_argument("--throughput", type=int, default=4096, help="spectra timed")
    parser.add_argument("--json", default=None, help="write results to this file")
    parser.add_argument("--model", default=None,
                        help="a .keras ZLP model to test instead of the shipped one")
    args = parser.parse_args(argv)

    from hspy_unmix import load_zlp_model

    model = load_zlp_model(args.model)
    t = time.perf_counter()
    results = quality(model, args.n)
    print(markdown(results))
    print(f"\nquality: {time.perf_counter() - t:.0f} s")
    rate = throughput(model, args.throughput)
    print(f"U-net throughput: {rate:.0f} spectra/s of 2048 channels "
          f"(batch 128, {os.cpu_count()} CPUs visible, warm-up excluded)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"quality": results, "throughput": rate}, fh, indent=1)


if __name__ == "__main__":
    main()
