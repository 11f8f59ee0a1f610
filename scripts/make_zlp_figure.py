"""Draw the ZLP restoration figures of the user guide (``docs/_static/zlp/``).

Run from the repository root (CPU, about a minute)::

    python scripts/make_zlp_figure.py [--data ../shared/data]

* ``heldout.png``: held-out spectra (a PSF family and a drifting beam the
  network never saw) at the source paper's four noise levels: distorted,
  U-net, Richardson-Lucy with the exact kernel (its best iteration count on
  the benchmark page) and the ground truth;
* ``real_lowloss.png``: every real low-loss file of the data folder, raw,
  U-net (defaults) and Richardson-Lucy (measured ZLP, 50 iterations);
* ``jeels_ssd.png``: the simulated Si low-loss spectrum of the jeels2026
  workshop restored, beside its single-scattering ground truth.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "docs/_static/zlp"
REAL = (
    ("eels/LSMO_STO_lowloss_linescan_10.hspy", "LSMO/STO line scan, 1 eV/ch"),
    ("eels/LSMO_lowloss_linescan_40.hspy", "LSMO line scan, 0.5 eV/ch"),
    ("eels/angadi_lowloss_SI_16x16_0.3eV.dm3", "SI 16x16, 0.3 eV/ch"),
    ("synthetic_with_ground_truth/jeels2026_Si100nm_ll_for_fr.hspy",
     "simulated Si 100 nm, 0.5 eV/ch"),
)
STYLE = {"raw": {"color": "0.55", "lw": 1.2}, "U-net": {"color": "C2", "lw": 1.2},
         "RL": {"color": "C1", "lw": 1.0}, "truth": {"color": "k", "ls": "--", "lw": 1.0}}


def _setup():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "legend.fontsize": 8})
    return plt


def heldout(plt):
    import numpy as np

    import hspy_unmix  # noqa: F401
    from hspy_unmix.restoration import richardson_lucy
    from hspy_unmix.restoration.evaluation import _as_signal
    from hspy_unmix.synthetic.zlp_heldout import PAPER_NOISE_LEVELS, zlp_heldout_spectra

    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), sharey=True)
    for ax, level in zip(axes, PAPER_NOISE_LEVELS, strict=True):
        d, c, e, k = zlp_heldout_spectra(1, level, families=("laplace",),
                                         drift_probability=1.0, random_state=7)
        unet = _as_signal(d, e).restore_zlp(show_progressbar=False).data
        rl = richardson_lucy(d, k, 25)
        for label, y in (("raw", d), ("RL", rl), ("U-net", unet), ("truth", c)):
            ax.semilogy(e, np.clip(y[0], 1e-8, None), label=label, **STYLE[label])
        ax.set_xlim(-0.4, 3.0)
        ax.set_ylim(1e-7, 0.5)
        ax.set_xlabel("Energy loss (eV)")
        ax.set_title(f"noise {level:g}")
    axes[0].set_ylabel("Intensity (integral = 1)")
    axes[0].legend(loc="upper right", title="Laplace PSF, drifting beam")
    fig.tight_layout()
    fig.savefig(OUT / "heldout.png", dpi=110)
    plt.close(fig)


def real(plt, data):
    import hyperspy.api as hs
    import numpy as np

    import hspy_unmix  # noqa: F401

    present = [(f, t) for f, t in REAL if (data / f).exists()]
    if not present:
        print("no real files under", data)
        return
    fig, axes = plt.subplots(1, len(present), figsize=(3.4 * len(present), 3.4))
    axes = np.atleast_1d(axes)
    for ax, (name, title) in zip(axes, present, strict=True):
        s = hs.load(data / name)
        unet = s.restore_zlp(show_progressbar=False)
        rl = s.restore_zlp(method="richardson_lucy", show_progressbar=False)
        e = s.axes_manager.signal_axes[0].axis
        idx = (0,) * s.axes_manager.navigation_dimension
        for label, sig in (("raw", s), ("RL", rl), ("U-net", unet)):
            y = np.asarray(sig.data[idx], dtype=float)
            ax.semilogy(e, np.clip(y, y.max() * 1e-6, None), label=label, **STYLE[label])
        rec = unet.metadata.Signal.restore_zlp
        ax.set_xlim(-12, 45)
        ax.set_xlabel("Energy loss (eV)")
        ax.set_title(f"{title}\nresampled x{rec.resampling_factor:.2f}")
    axes[0].set_ylabel("Counts")
    axes[0].legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(OUT / "real_lowloss.png", dpi=110)
    plt.close(fig)


def jeels(plt, data):
    import hyperspy.api as hs
    import numpy as np

    import hspy_unmix  # noqa: F401

    folder = data / "synthetic_with_ground_truth"
    if not (folder / "jeels2026_Si100nm_measured.hspy").exists():
        return
    s = hs.load(folder / "jeels2026_Si100nm_measured.hspy")
    ssd = hs.load(folder / "jeels2026_Si100nm_ssd_ground_truth.hspy")
    unet = s.restore_zlp(show_progressbar=False)
    rl = s.restore_zlp(method="richardson_lucy", show_progressbar=False)
    e = s.axes_manager[0].axis
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    plasmon = (e > 10) & (e < 25)
    for ax, log in zip(axes, (True, False), strict=True):
        for label, y in (("raw", s.data), ("RL", rl.data), ("U-net", unet.data)):
            y = np.asarray(y, dtype=float)
            (ax.semilogy if log else ax.plot)(e, np.clip(y, 1, None) if log else y,
                                              label=label, **STYLE[label])
        scale = s.data[plasmon].max() / ssd.data[plasmon].max()
        (ax.semilogy if log else ax.plot)(e, np.clip(ssd.data * scale, 1, None),
                                          label="single scattering (scaled)", **STYLE["truth"])
        ax.set_xlabel("Energy loss (eV)")
        ax.set_xlim(-10, 60) if log else (ax.set_xlim(5, 45), ax.set_ylim(0, 1.3 * s.data[
            plasmon].max()))
    axes[0].set_ylabel("Counts")
    axes[0].legend(loc="upper right")
    axes[0].set_title("ZLP and plasmons (log)")
    axes[1].set_title("plasmon region (linear)")
    fig.tight_layout()
    fig.savefig(OUT / "jeels_ssd.png", dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    plt = _setup()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        heldout(plt)
        real(plt, pathlib.Path(args.data))
        jeels(plt, pathlib.Path(args.data))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
