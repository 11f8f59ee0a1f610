"""Regenerate the shipped ZLP restoration model ``hspy_unmix/models/zlp_unet.keras``.

Run from the repository root (CPU only, fixed seed; the shipped model took
25 minutes on one core of a 2-core machine whose other core trained another
model)::

    python scripts/train_zlp_model.py

The model and its metadata (``zlp_unet.json``: energy axis, seed, training
settings, validation metrics) are written beside each other.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SETTINGS = {
    "n_train": 12288,
    "n_val": 1024,
    "epochs": 40,
    "batch_size": 32,
    "crop": 512,
    "learning_rate": 1e-3,
    "clipnorm": 1.0,
    "early_stopping_patience": 6,
    "loss_kwargs": {"linear_scale": 30.0, "log_weight": 0.01, "eps": 3e-6},
    "model_kwargs": {"depth": 5, "base_filters": 4, "max_filters": 32, "kernel_size": 7,
                     "asinh_eps": 3e-6},
    "random_state": 20220901,
    "max_seconds": 2400,
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output .keras path")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    args = parser.parse_args(argv)

    import numpy as np

    from hspy_unmix.metrics.zlp import zlp_restoration_scores
    from hspy_unmix.synthetic.zlp import zlp_training_spectra
    from hspy_unmix.zlp import (
        DEFAULT_MODEL_PATH,
        _predict,
        save_zlp_model,
        train_zlp_model,
    )

    out = pathlib.Path(args.out) if args.out else DEFAULT_MODEL_PATH
    settings = dict(SETTINGS, epochs=args.epochs)
    model, history = train_zlp_model(**settings, show_progressbar=True)
    print(json.dumps({k: v[-3:] if isinstance(v, list) else v for k, v in history.items()}))

    # Validation metrics on fresh spectra at the four reference noise amplitudes.
    metrics = {}
    for amp in (5e-6, 1e-5, 5e-5, 5e-4):
        x, y, energy = zlp_training_spectra(200, noise_amplitude=amp, n_peaks=(0, 0),
                                            random_state=1)
        restored = _predict(model, x)
        scores = zlp_restoration_scores(restored, x, y, energy)
        metrics[f"{amp:g}"] = {k: float(np.nanmedian(v)) for k, v in scores.items()}
    model.zlp_metadata["validation_metrics_median"] = metrics
    save_zlp_model(model, out)
    print(json.dumps(metrics, indent=1))
    print("saved", out)


if __name__ == "__main__":
    main()
