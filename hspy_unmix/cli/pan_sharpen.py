"""``hspy-unmix pan-sharpen FINE CLEAN``: fusion of two SIs streamed to one file."""

from __future__ import annotations

import time

from ._common import _check_algorithm, _check_out, _check_positive, _open, _progress, _scheduler


def run_pan_sharpen(fine, clean, out, k=None, algorithm="NMF", scheduler=None,
                    chunk_mb=None, overwrite=False, show_progressbar=None,
                    random_state=None, signal_type=None, **params):
    """Pan-sharpen ``fine`` (noisy, fine grid) with ``clean``; stream to ``out``.

    Endmembers come from ``clean`` (loaded in memory: the high-fidelity SI
    is the small one); abundances are solved chunk by chunk over ``fine``
    and the fused cube is written chunk by chunk.

    Examples
    --------
    >>> from hspy_unmix.cli import run_pan_sharpen
    >>> run_pan_sharpen("fine.dm4", "clean.dm4", "fused.zspy", k=3)  # doctest: +SKIP
    """
    from ..io import DEFAULT_CHUNK_MB, save_atomic

    _check_algorithm(algorithm)
    _check_positive(n_components=k, chunk_mb=chunk_mb)
    _check_out(out, overwrite)
    s = _open(fine, True, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    other = _open(clean, False, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    if not hasattr(s, "pan_sharpen"):  # pragma: no cover - needs the module
        raise RuntimeError("pan_sharpen is not available in this installation.")
    with _scheduler(scheduler), _progress(show_progressbar):
        t0 = time.perf_counter()
        fused = s.pan_sharpen(other, n_components=k, algorithm=algorithm,
                              random_state=random_state, lazy_output=True, **params)
        save_atomic(fused, out, overwrite=overwrite)
        print(f"pan_sharpen of {fine} with {clean}: {time.perf_counter() - t0:.2f} s")
    print(f"Saved {out}")
    return fused
