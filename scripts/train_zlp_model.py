"""Regenerate the shipped ZLP restoration model ``hspy_unmix/restoration/models/zlp_unet.keras``.

Run from the repository root (CPU only, fixed seed)::

    python scripts/train_zlp_model.py [--out PATH] [--epochs N]

The best model so far is checkpointed after every improving epoch
(``PATH`` with ``.ckpt.keras``), one JSON line per epoch goes to
``PATH`` with ``.log``, and the final model and its metadata
(``zlp_unet.json``: seed, training settings, times) are written at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SETTINGS = {
    "n_train": 24576,
    "n_val": 1024,
    "epochs": 50,
    "channels": 512,
    "batch_size": 32,
    "learning_rate": 1e-3,
    "clipnorm": 1.0,
    "early_stopping_patience": 8,
    "loss_kwargs": {"linear_scale": 30.0, "log_weight": 0.01, "eps": 3e-6},
    "model_kwargs": {"depth": 5, "base_filters": 4, "max_filters": 32, "kernel_size": 7,
                     "asinh_eps": 3e-6},
    "random_state": 20220901,
    "max_seconds": 6000,
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output .keras path")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--n-train", type=int, default=SETTINGS["n_train"])
    parser.add_argument("--max-seconds", type=float, default=SETTINGS["max_seconds"])
    args = parser.parse_args(argv)

    from hspy_unmix.restoration.model_io import DEFAULT_MODEL_PATH
    from hspy_unmix.restoration.training import train_zlp_model

    out = pathlib.Path(args.out) if args.out else DEFAULT_MODEL_PATH
    settings = dict(SETTINGS, epochs=args.epochs, n_train=args.n_train,
                    max_seconds=args.max_seconds)
    model, history = train_zlp_model(
        **settings, save_path=out, checkpoint_path=out.with_suffix(".ckpt.keras"),
        log_path=out.with_suffix(".log"), show_progressbar=True)
    print(json.dumps({k: v[-3:] if isinstance(v, list) else v for k, v in history.items()}))
    print("saved", out)


if __name__ == "__main__":
    main()
