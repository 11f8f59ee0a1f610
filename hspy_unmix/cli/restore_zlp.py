"""``hspy-unmix restore-zlp FILE``: near-zero-loss restoration streamed from disk to disk."""

from __future__ import annotations

import time

from ._common import _check_out, _check_positive, _open, _progress, _scheduler


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
    from ..io import DEFAULT_CHUNK_MB, save_atomic

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
