"""Helpers for spectrum images larger than memory.

* :func:`navigation_chunks` / :func:`rechunk_navigation`: split the navigation
  axes into chunks of whole spectra of about ``target_mb`` megabytes.
  RosettaSciIO reads DigitalMicrograph files as a single memory-mapped chunk;
  every chunk-wise method needs them split first.
* :func:`load_lazy`: open a file lazily with those chunks, and turn the
  parser's errors on a truncated or corrupt file into a clear ``ValueError``.
* :func:`check_complete_store`: a ``.zspy`` (zarr) store whose chunk files do
  not match its array metadata (a missing or extra chunk: zarr would silently
  read a missing chunk as zeros) raises ``ValueError``.
* :func:`save_atomic`: write a lazy signal chunk by chunk under a temporary
  name beside the target and rename it when complete, so an interrupted or
  failed write never leaves a file that looks complete.
* :func:`lazy_transform`: abundances of a lazy SI chunk by chunk with a fitted
  estimator, on the active dask scheduler (threads, processes or a
  ``dask.distributed`` client).

Peak memory of every path here depends on the chunk size (and the number of
chunks in flight, one per worker thread), not on the number of pixels.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import struct

import numpy as np

#: Default size of one navigation chunk: small enough that a few chunks in
#: flight per worker stay far below a gigabyte, large enough that per-chunk
#: overheads (task scheduling, disk seeks) are negligible.
DEFAULT_CHUNK_MB = 64.0


def navigation_chunks(shape, dtype, signal_ndim: int = 1,
                      target_mb: float = DEFAULT_CHUNK_MB) -> tuple:
    """Chunk shape of whole spectra of about ``target_mb`` megabytes.

    The signal axes are never split. The fastest navigation axis is kept
    whole when a line of it fits, so that each chunk is a block of full rows:
    contiguous on disk for C-ordered files and cheap to flatten.

    Parameters
    ----------
    shape
        Array shape, navigation axes first (numpy order), signal axes last.
    dtype
        Data type of the array.
    signal_ndim
        Number of trailing signal axes.
    target_mb
        Wanted chunk size in MiB (at least one spectrum per chunk).

    Returns
    -------
    tuple
        Chunk shape, same length as ``shape``.

    Examples
    --------
    >>> from hspy_unmix.io import navigation_chunks
    >>> navigation_chunks((512, 512, 2048), "float32", target_mb=64)
    (16, 512, 2048)
    """
    if target_mb <= 0:
        raise ValueError(f"target_mb must be positive, got {target_mb}.")
    shape = tuple(int(n) for n in shape)
    nav_shape, sig_shape = shape[: len(shape) - signal_ndim], shape[len(shape) - signal_ndim:]
    spectrum_bytes = int(np.prod(sig_shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    remaining = max(1, int(target_mb * 2**20 // max(spectrum_bytes, 1)))
    chunks = []
    for size in reversed(nav_shape):
        c = max(1, min(size, remaining))
        chunks.insert(0, c)
        remaining = max(1, remaining // size)
    return tuple(chunks) + sig_shape


def rechunk_navigation(signal, target_mb: float = DEFAULT_CHUNK_MB):
    """Rechunk a lazy signal in place into navigation chunks of whole spectra.

    Parameters
    ----------
    signal
        A lazy HyperSpy signal.
    target_mb
        Wanted chunk size in MiB (see :func:`navigation_chunks`).

    Returns
    -------
    signal
        The same signal, for chaining.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> from hspy_unmix.io import rechunk_navigation
    >>> s = hs.signals.Signal1D(np.zeros((64, 64, 256), "float32")).as_lazy()
    >>> rechunk_navigation(s, target_mb=1).data.chunksize
    (4, 64, 256)
    """
    if not getattr(signal, "_lazy", False):
        raise TypeError("rechunk_navigation needs a lazy signal; use as_lazy() first.")
    chunks = navigation_chunks(signal.data.shape, signal.data.dtype,
                               signal.axes_manager.signal_dimension, target_mb)
    if signal.data.chunksize != chunks:
        signal.data = signal.data.rechunk(chunks)
    return signal


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


def _partial_name(out: pathlib.Path) -> pathlib.Path:
    # Keep the extension so that HyperSpy picks the writer from it.
    return out.with_name(f".{out.stem}.partial-{os.getpid()}{out.suffix}")


def _remove(path: pathlib.Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


@contextlib.contextmanager
def _dask_progress(show: bool):
    """dask's console ProgressBar for local schedulers (no-op otherwise)."""
    if not show:
        yield
        return
    import dask
    from dask.diagnostics import ProgressBar

    scheduler = dask.base.get_scheduler()
    local = scheduler is None or getattr(scheduler, "__module__", "").startswith("dask.")
    if local:
        with ProgressBar():
            yield
    else:
        yield


def save_atomic(signal, out, overwrite: bool = False, show_progressbar: bool | None = None,
                **kwargs) -> pathlib.Path:
    """Save ``signal`` to ``out`` without ever leaving a partial file there.

    The file is written (for lazy signals chunk by chunk, with HyperSpy's
    ``save``) under a hidden temporary name in the same folder and renamed to
    ``out`` only once complete; on any error the temporary file is removed and
    ``out`` is left as it was.

    Parameters
    ----------
    signal
        The signal to save (lazy or not).
    out
        Target path; its extension chooses the format (.hspy, .zspy, ...).
    overwrite
        Replace an existing ``out``; otherwise an existing file is an error.
    show_progressbar
        Progress bar while writing (``None``: HyperSpy's preference).
    **kwargs
        Passed to ``signal.save`` (e.g. ``chunks``).

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> from hspy_unmix.io import save_atomic
    >>> save_atomic(s, "restored.zspy", overwrite=True)  # doctest: +SKIP
    """
    from .._progress import resolve_show_progressbar

    out = pathlib.Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it.")
    tmp = _partial_name(out)
    _remove(tmp)
    show = resolve_show_progressbar(show_progressbar)
    try:
        signal.save(str(tmp), overwrite=True, show_progressbar=show, **kwargs)
        if out.exists():
            _remove(out)
        os.replace(tmp, out)
    except BaseException:
        _remove(tmp)
        raise
    return out


def write_zspy(signal, path, chunks=None, show_progressbar: bool = True) -> None:
    """Write ``signal`` to a .zspy store (zarr format 2), chunk by chunk.

    RosettaSciIO's writer, as HyperSpy's ``save(... .zspy)`` (the package
    declares the zarr versions RosettaSciIO supports); lazy data are written
    chunk by chunk on the active dask scheduler. Metadata values that are
    numpy scalars (``np.int64`` frame numbers from DigitalMicrograph) are kept.

    Parameters
    ----------
    signal
        The signal to write (lazy or not).
    path
        Target directory (replaced if it exists).
    chunks
        Chunk shape on disk; default: the dask chunks of a lazy signal.
    show_progressbar
        Progress bar while writing.

    Examples
    --------
    >>> from hspy_unmix.io import write_zspy
    >>> write_zspy(s, "si.zspy")  # doctest: +SKIP
    """
    if chunks is None and getattr(signal, "_lazy", False):
        chunks = signal.data.chunksize
    signal.save(str(path), overwrite=True, file_format="ZSPY", chunks=chunks,
                show_progressbar=show_progressbar)


def _transform_block(block, estimator, n_channels):
    flat = np.asarray(block).reshape((-1, n_channels))
    A = np.asarray(estimator.transform(flat), dtype=np.float64)
    return A.reshape(block.shape[:-1] + (A.shape[1],))


def lazy_transform(estimator, data, n_components: int, show_progressbar: bool = False,
                   parallel: bool = True) -> np.ndarray:
    """Abundances of a lazy SI, one navigation chunk at a time.

    Parameters
    ----------
    estimator
        A fitted estimator (``transform`` of (pixels, channels) spectra).
    data
        Dask array, navigation axes first, one spectral axis last.
    n_components
        Number of abundances per pixel.
    show_progressbar
        dask's progress bar (local schedulers).
    parallel
        Run the chunks as dask tasks on the active scheduler (threads,
        processes or distributed: the estimator is sent to the workers).
        ``False`` computes one chunk at a time here and transforms it in this
        process (for estimators that must stay in one process, e.g. Keras
        models).

    Returns
    -------
    numpy.ndarray
        Shape (n_pixels, n_components), pixels in C order of the navigation
        axes (as HyperSpy's loadings).

    Examples
    --------
    >>> import numpy as np, dask.array as da, hspy_unmix
    >>> from hspy_unmix.io.lazy import lazy_transform
    >>> X = np.random.default_rng(0).random((8, 8, 50))
    >>> est = hspy_unmix.VCA(n_components=2, random_state=0).fit(X.reshape(-1, 50))
    >>> lazy_transform(est, da.from_array(X, chunks=(2, 8, 50)), 2).shape
    (64, 2)
    """
    import dask.array as da

    n_channels = data.shape[-1]
    if data.numblocks[-1] != 1:
        data = data.rechunk({data.ndim - 1: -1})
    nav_shape = data.shape[:-1]
    if parallel:
        A = da.map_blocks(
            _transform_block, data, estimator, n_channels, dtype=np.float64,
            chunks=data.chunks[:-1] + ((n_components,),),
        )
        with _dask_progress(show_progressbar):
            out = A.compute()
        return np.asarray(out).reshape((-1, n_components))
    out = np.empty(nav_shape + (n_components,))
    from .._progress import progress_bar

    starts = [np.concatenate([[0], np.cumsum(c)]) for c in data.chunks[:-1]]
    with progress_bar(int(np.prod(data.numblocks[:-1])), "Unmixing", show_progressbar) as bar:
        for index in np.ndindex(*data.numblocks[:-1]):
            sl = tuple(slice(s[i], s[i + 1]) for s, i in zip(starts, index))
            block = np.asarray(data.blocks[index + (0,)].compute())
            out[sl] = _transform_block(block, estimator, n_channels)
            bar.update(1)
    return out.reshape((-1, n_components))


def scheduler_get():
    """The ``get`` function of the active dask scheduler (``None``: dask's default).

    Under ``dask.config.set(scheduler=...)`` or a ``distributed.Client``
    registered as default this returns its ``get``, which HyperSpy's lazy
    ``decomposition(get=...)`` needs: its learn loop otherwise always uses
    the threaded scheduler.
    """
    import dask

    return dask.base.get_scheduler()
