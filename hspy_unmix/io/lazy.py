"""Opening spectrum images larger than memory, and checking .zspy stores.

* :func:`load_lazy`: open a file lazily in navigation chunks of whole spectra
  (:func:`~hspy_unmix.io.chunks.rechunk_navigation`), and turn the parser's
  errors on a truncated or corrupt file into a clear ``ValueError``.
* :func:`check_complete_store`: a ``.zspy`` (zarr) store whose chunk files do
  not match its array metadata (a missing or extra chunk: zarr would silently
  read a missing chunk as zeros) raises ``ValueError``.

The chunk rule and walks live in :mod:`hspy_unmix.io.chunks`, the writers in
:mod:`hspy_unmix.io.saving`; their names are importable from here as before
this module was split.
"""

from __future__ import annotations

import pathlib
import struct

import numpy as np

from .chunks import (  # noqa: F401  (importable from here before the split)
    DEFAULT_CHUNK_MB,
    lazy_transform,
    navigation_chunks,
    rechunk_navigation,
    scheduler_get,
)
from .saving import save_atomic, write_zspy  # noqa: F401  (as above)


def _pick_spectral(obj, path):
    if isinstance(obj, list):
        spectra = [x for x in obj if x.axes_manager.signal_dimension == 1
                   and x.axes_manager.navigation_dimension > 0]
        if not spectra:
            raise ValueError(f"{path} holds no spectrum image (signal dimension 1).")
        return spectra[0]
    return obj


def load_lazy(path, target_mb: float = DEFAULT_CHUNK_MB, signal_type: str | None = "EELS"):
    """Open a spectrum image lazily, chunked for streaming.

    Parameters
    ----------
    path
        A file HyperSpy reads (.dm4, .dm3, .hspy, .zspy, ...).
    target_mb
        Navigation chunk size in MiB (see :func:`navigation_chunks`).
    signal_type
        Set this signal type when the file has none (``None``: leave it).

    Returns
    -------
    LazySignal
        With navigation chunks of about ``target_mb`` MiB.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is truncated or corrupt, or a .zspy store misses chunks.

    Examples
    --------
    >>> from hspy_unmix.io import load_lazy
    >>> s = load_lazy("si.dm4")  # doctest: +SKIP
    """
    import hyperspy.api as hs

    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() == ".zspy":
        check_complete_store(path)
    try:
        obj = hs.load(str(path), lazy=True)
    except (struct.error, EOFError, OSError, KeyError, IndexError) as exc:
        raise ValueError(
            f"could not read {path}: the file looks truncated or corrupt "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    s = _pick_spectral(obj, path)
    if s.axes_manager.signal_dimension != 1:
        raise ValueError(f"{path} holds no spectrum image (signal dimension 1).")
    if signal_type and not s.metadata.Signal.signal_type:
        s.set_signal_type(signal_type)
    rechunk_navigation(s, target_mb)
    return s


def check_complete_store(path) -> None:
    """Raise ``ValueError`` if a zarr (.zspy) store misses or has extra chunks.

    Zarr reads a missing chunk as the fill value (zeros), so an incomplete
    copy would otherwise give silently wrong results.

    Parameters
    ----------
    path
        A .zspy directory (zarr store).

    Examples
    --------
    >>> from hspy_unmix.io import check_complete_store
    >>> check_complete_store("si.zspy")  # doctest: +SKIP
    """
    import zarr

    path = pathlib.Path(path)
    try:
        root = zarr.open_group(str(path), mode="r")
    except Exception as exc:
        raise ValueError(f"could not open {path} as a zarr (.zspy) store: {exc}") from exc
    for name, arr in _walk_arrays(root):
        if arr.size == 0 or arr.ndim == 0:
            continue
        expected = int(np.prod(arr.cdata_shape))
        stored = _stored_chunks(arr)
        if stored != expected:
            raise ValueError(
                f"{path}: array {name!r} of shape {arr.shape} in chunks of "
                f"{arr.chunks} should have {expected} chunk files but {stored} are "
                "stored; the file is incomplete or its chunks disagree with its "
                "metadata."
            )


def _stored_chunks(arr) -> int:
    # Count the chunk keys under the array itself: with RosettaSciIO's nested
    # layout ("0/0/0") zarr 2's ``nchunks_initialized`` lists only the first
    # level of directories and misses a deleted chunk file deeper down.
    keys = getattr(arr.store, "keys", None)
    if keys is None:  # pragma: no cover - a store that cannot list its keys
        return arr.nchunks_initialized
    prefix = f"{arr.path}/" if arr.path else ""
    return sum(1 for key in keys() if key.startswith(prefix)
               and not key[len(prefix):].rsplit("/", 1)[-1].startswith("."))


def _walk_arrays(group, prefix=""):
    for name, arr in group.arrays():
        yield prefix + name, arr
    for name, sub in group.groups():
        yield from _walk_arrays(sub, prefix + name + "/")
