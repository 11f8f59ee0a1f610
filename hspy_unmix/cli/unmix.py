"""``hspy-unmix unmix FILE``: decomposition of a spectrum image file, saved with its results."""

from __future__ import annotations

import time

from ._common import _check_algorithm, _check_out, _check_positive, _open, _progress, _scheduler


def run_unmix(path, algorithm, k, out, lazy=False, scheduler=None, params=None,
              random_state=None, chunk_mb=None, overwrite=True, show_progressbar=None,
              signal_type=None):
    """Unmix a file and save the signal with its learning_results to ``out``.

    With ``lazy=True`` the file is streamed in navigation chunks of
    ``chunk_mb`` MiB: the estimator learns on a bounded sample
    (``max_partial_fit_samples``) and the abundances are solved chunk by
    chunk, so memory does not grow with the number of pixels.

    Examples
    --------
    >>> from hspy_unmix.cli import run_unmix
    >>> run_unmix("si.dm4", "VCA", 4, "si_vca.zspy", lazy=True)  # doctest: +SKIP
    """
    from ..io import DEFAULT_CHUNK_MB, save_atomic

    _check_algorithm(algorithm)
    _check_positive(n_components=k, chunk_mb=chunk_mb)
    _check_out(out, overwrite)
    s = _open(path, lazy, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    kwargs = dict(params or {})
    if random_state is not None:
        kwargs["random_state"] = random_state
    with _scheduler(scheduler), _progress(show_progressbar):
        t0 = time.perf_counter()
        s.decomposition(algorithm=algorithm, output_dimension=k, print_info=False, **kwargs)
        print(f"{algorithm} on {path}: {time.perf_counter() - t0:.2f} s")
        save_atomic(s, out, overwrite=overwrite)
    print(f"Saved {out}")
    return s
