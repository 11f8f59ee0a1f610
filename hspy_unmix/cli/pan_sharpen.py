"""``hspy-unmix pan-sharpen SI OTHER``: fusion of an SI with a high-fidelity SI or
with the ADF/HAADF image recorded alongside, streamed to one file."""

from __future__ import annotations

import time

from ._common import _check_algorithm, _check_out, _check_positive, _open, _progress, _scheduler


def run_pan_sharpen(fine, clean, out, k=None, algorithm="NMF", scheduler=None,
                    chunk_mb=None, overwrite=False, show_progressbar=None,
                    random_state=None, signal_type=None, **params):
    """Pan-sharpen ``fine`` (noisy, fine grid) with ``clean``; stream to ``out``.

    ``clean`` is either a high-fidelity SI or an ADF/HAADF image (a file
    holding a 2-D signal, on the SI's scan grid or an integer factor finer).
    With an SI, endmembers come from ``clean`` (loaded in memory: the
    high-fidelity SI is the small one); abundances are solved chunk by chunk
    over ``fine`` and the fused cube is written chunk by chunk. With an image,
    the image guides the abundance maps of the SI on the image's grid
    (:func:`hspy_unmix.fusion.haadf.pan_sharpen_image`).

    Examples
    --------
    >>> from hspy_unmix.cli import run_pan_sharpen
    >>> run_pan_sharpen("fine.dm4", "clean.dm4", "fused.zspy", k=3)  # doctest: +SKIP
    >>> run_pan_sharpen("si.dm4", "haadf.dm4", "fused.zspy", k=3)  # doctest: +SKIP
    """
    from ..io import DEFAULT_CHUNK_MB, save_atomic

    _check_algorithm(algorithm)
    _check_positive(n_components=k, chunk_mb=chunk_mb)
    _check_out(out, overwrite)
    image = _open_image(clean)
    s = _open(fine, True, chunk_mb or DEFAULT_CHUNK_MB, signal_type)
    other = image if image is not None else _open(clean, False, chunk_mb or DEFAULT_CHUNK_MB,
                                                  signal_type)
    if not hasattr(s, "pan_sharpen"):  # pragma: no cover - needs the module
        raise RuntimeError("pan_sharpen is not available in this installation.")
    with _scheduler(scheduler), _progress(show_progressbar):
        t0 = time.perf_counter()
        fused = s.pan_sharpen(other, n_components=k, algorithm=algorithm,
                              random_state=random_state, lazy_output=True, **params)
        save_atomic(fused, out, overwrite=overwrite)
        mode = "image" if image is not None else "SI"
        print(f"pan_sharpen of {fine} with the {mode} {clean}: "
              f"{time.perf_counter() - t0:.2f} s")
    print(f"Saved {out}")
    return fused


def _open_image(path):
    """The ADF/HAADF image in ``path`` (a 2-D signal, in memory), or ``None``
    when the file holds a spectrum image."""
    import os

    import hyperspy.api as hs

    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    loaded = hs.load(path, lazy=True)
    signals = loaded if isinstance(loaded, list) else [loaded]
    if any(x.axes_manager.signal_dimension == 1 for x in signals):
        return None
    images = [x for x in signals if x.axes_manager.signal_dimension == 2
              and x.axes_manager.navigation_dimension == 0]
    if not images:
        raise ValueError(f"{path} holds neither a spectrum image nor a single 2-D image "
                         "(ADF/HAADF).")
    image = images[0]
    if image._lazy:
        image.compute(show_progressbar=False)  # in place: an image is small
    return image
