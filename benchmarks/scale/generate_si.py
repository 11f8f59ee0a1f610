"""Write a large synthetic EELS spectrum image to a .zspy store, chunk by chunk.

The SI has ``ny x 512`` pixels x 2048 channels (float32, 8 KiB per spectrum):
1 GiB is 256 x 512 pixels, 2 GiB 512 x 512, 4 GiB 1024 x 512, 8 GiB
1024 x 1024. Core-loss SIs mix the four realistic endmembers of
:func:`hspy_unmix.synthetic.chequerboard.eels_endmembers` (interpolated to
2048 channels) with smooth random abundance maps (sum to one) and Gaussian
noise of Poisson variance, stored in chunks of about 1 MiB (``--chunk-mb``;
HyperSpy's own default when it saves a file is about 1 MB); low-loss SIs (``--kind lowloss``) hold jittered,
blurred near-zero-loss spectra for ``restore_zlp``. Every chunk is generated
from its own seed inside a dask task, so memory stays at a few chunks
whatever the size.

Usage::

    python benchmarks/scale/generate_si.py --gib 1 --out /tmp/hspy_unmix_scale/si_1gib.zspy
"""

from __future__ import annotations

import argparse
import time

import numpy as np

N_CHANNELS = 2048
ROW = 512


def navigation_shape(gib: float) -> tuple[int, int]:
    """Navigation shape (numpy order) of a ``gib`` GiB float32 SI."""
    n = int(round(gib * 2**30 / (N_CHANNELS * 4)))
    if gib >= 8:
        return (n // 1024, 1024)
    return (max(1, n // ROW), ROW)


def coreloss_endmembers():
    from hspy_unmix.synthetic.chequerboard import eels_endmembers

    energy, E, names = eels_endmembers(4)
    new_energy = np.linspace(energy[0], energy[-1], N_CHANNELS)
    E2 = np.array([np.interp(new_energy, energy, e) for e in E])
    return new_energy, E2, names


def _abundance_block(y0, ny, nx, k, seed):
    """Smooth abundance maps: sums of low-frequency cosines, softmax to sum to one."""
    rng = np.random.default_rng(seed)
    y = (y0 + np.arange(ny))[:, None] / 97.0
    x = np.arange(nx)[None, :] / 89.0
    logits = np.stack([
        np.cos(y * (j + 1) + 1.3 * j) * 2.0 + np.sin(x * (j + 2) - 0.7 * j) * 2.0
        for j in range(k)
    ], axis=-1)
    logits += 0.2 * rng.standard_normal(logits.shape)
    A = np.exp(logits - logits.max(-1, keepdims=True))
    return A / A.sum(-1, keepdims=True)


def _coreloss_block(block_info=None, *, E, seed):
    loc = block_info[None]["array-location"]
    (y0, y1), (x0, x1) = loc[0], loc[1]
    rng = np.random.default_rng([seed, y0, x0])
    A = _abundance_block(y0, y1 - y0, x1 - x0, E.shape[0], [seed, y0, x0])
    mean = (A @ E).astype(np.float32)
    noise = rng.standard_normal(mean.shape, dtype=np.float32)
    return np.maximum(mean + noise * np.sqrt(mean), 0).astype(np.float32)


def _lowloss_block(block_info=None, *, template, seed):
    loc = block_info[None]["array-location"]
    (y0, y1), (x0, x1) = loc[0], loc[1]
    rng = np.random.default_rng([seed, y0, x0])
    n = (y1 - y0) * (x1 - x0)
    pick = template[rng.integers(0, template.shape[0], n)]
    noisy = rng.poisson(np.maximum(pick, 0)).astype(np.float32)
    return noisy.reshape(y1 - y0, x1 - x0, -1)


def make_lazy_si(gib: float, kind: str = "coreloss", chunk_mb: float = 1.0, seed: int = 0):
    """The lazy SI (nothing computed): a ``LazyEELSSpectrum``."""
    import dask.array as da

    import hspy_unmix  # noqa: F401
    from hspy_unmix._lazy import navigation_chunks

    ny, nx = navigation_shape(gib)
    chunks = navigation_chunks((ny, nx, N_CHANNELS), "float32", target_mb=chunk_mb)
    if kind == "coreloss":
        energy, E, _ = coreloss_endmembers()
        func, kw = _coreloss_block, {"E": E.astype(np.float32), "seed": seed}
        offset, scale = float(energy[0]), float(energy[1] - energy[0])
    else:
        from hspy_unmix.synthetic.zlp import zlp_test_signal

        t = zlp_test_signal(shape=(8, 8), channels=N_CHANNELS, random_state=seed)
        template = np.asarray(t[0].data if isinstance(t, tuple) else t.data)
        template = template.reshape(-1, N_CHANNELS)
        func, kw = _lowloss_block, {"template": template, "seed": seed}
        ax = (t[0] if isinstance(t, tuple) else t).axes_manager.signal_axes[0]
        offset, scale = float(ax.offset), float(ax.scale)
    data = da.map_blocks(func, dtype=np.float32, chunks=da.core.normalize_chunks(
        chunks, (ny, nx, N_CHANNELS)), **kw)
    s = _lazy_signal(data)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = offset, scale, "eV", "Energy loss"
    s.set_signal_type("EELS")
    s.metadata.General.title = f"synthetic {kind} SI {gib:g} GiB"
    return s


def _lazy_signal(data):
    from hyperspy.signals import LazySignal1D

    return LazySignal1D(data)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--kind", choices=("coreloss", "lowloss"), default="coreloss")
    parser.add_argument("--chunk-mb", type=float, default=1.0,
                        help="stored chunk size in MiB (default 1: about HyperSpy's own "
                        "default chunks when it saves a .zspy or .hspy file)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from hspy_unmix._lazy import save_atomic

    s = make_lazy_si(args.gib, args.kind, args.chunk_mb, args.seed)
    t0 = time.perf_counter()
    # compressor=None: RosettaSciIO's default, as HyperSpy's own save compresses
    # a user's .zspy (not the faster codec the package writes its results with)
    save_atomic(s, args.out, overwrite=True, show_progressbar=False, compressor=None)
    print(f"wrote {args.out}: {s.data.shape} {s.data.dtype} "
          f"({s.data.nbytes / 2**30:.2f} GiB) in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
