"""Walking spectrum images chunk by chunk: one chunk rule, one eager and one lazy walk.

* :func:`navigation_chunks` / :func:`rechunk_navigation`: split the navigation
  axes into chunks of whole spectra of about ``target_mb`` megabytes.
  RosettaSciIO reads DigitalMicrograph files as a single memory-mapped chunk;
  every chunk-wise method needs them split first.
* :func:`batch_rows`: the same rule for arrays in memory, the number of rows
  (spectra, patches) of about ``target_mb`` megabytes.
* :func:`map_rows`: apply a function to an array in memory batch by batch
  (the eager walk); :func:`map_chunks`: to a dask array navigation chunk by
  navigation chunk, as dask tasks or one chunk at a time here (the lazy walk).
  :func:`matmul_rows`: a product with a float32 sample over :func:`map_rows`,
  in float64 without a float64 copy of the sample.
* :func:`lazy_transform`: abundances of a lazy SI with a fitted estimator,
  over :func:`map_chunks`.
* :func:`sample_spectra`: a uniform random sample of the spectra of a dask
  array in one pass that reads only the chunks holding sampled spectra and
  keeps only those spectra (the learning pass of a lazy decomposition).
* :func:`single_threaded_blas`: BLAS on one thread during a threaded dask
  compute, so that dask's threads and BLAS's do not compete for the cores;
  :func:`share_malloc_arena` and :func:`release_freed_memory`: the memory
  that a pass's worker threads freed goes back to the system.

Peak memory of every walk depends on the chunk size (and the number of chunks
in flight, one per worker thread), not on the number of pixels.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np

#: Default size of one navigation chunk: small enough that the chunks in
#: flight (one or two per worker thread, each with its compressed copy while
#: it is read) stay near 100 MiB, large enough that per-chunk overheads (task
#: scheduling, disk seeks) are negligible. Measured on a 2 GiB .zspy SI on 2
#: cores: one read peaks 70 MiB above the imports with 16 MiB chunks, 235 MiB
#: with 64 MiB chunks, and takes about half the time.
DEFAULT_CHUNK_MB = 16.0


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
    >>> navigation_chunks((512, 512, 2048), "float32", target_mb=16)
    (4, 512, 2048)
    """
    if target_mb <= 0:
        raise ValueError(f"target_mb must be positive, got {target_mb}.")
    shape = tuple(int(n) for n in shape)
    nav_shape, sig_shape = shape[: len(shape) - signal_ndim], shape[len(shape) - signal_ndim:]
    spectrum_bytes = int(np.prod(sig_shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    remaining = batch_rows(spectrum_bytes, target_mb)
    chunks = []
    for size in reversed(nav_shape):
        c = max(1, min(size, remaining))
        chunks.insert(0, c)
        remaining = max(1, remaining // size)
    return tuple(chunks) + sig_shape


def rechunk_navigation(signal, target_mb: float = DEFAULT_CHUNK_MB):
    """Rechunk a lazy signal in place into navigation chunks of whole spectra.

    The chunks are chosen from the data: an array read from a chunked store
    (.zspy, a chunked .hspy) keeps its chunks whole, merged into chunks of at
    most ``target_mb`` MiB or left as they are when larger
    (:func:`stored_navigation_chunks`), because each read of part of a
    stored chunk decompresses all of it; any other array (memory-mapped
    .dm3/.dm4 files, which RosettaSciIO reads as one block, arrays in memory)
    is split freely into chunks of about ``target_mb`` MiB
    (:func:`navigation_chunks`).

    Parameters
    ----------
    signal
        A lazy HyperSpy signal.
    target_mb
        Wanted chunk size in MiB: the memory knob of every chunk-wise walk
        (one or two chunks in flight per worker thread).

    Returns
    -------
    signal
        The same signal, for chaining.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> from hspy_unmix.io import rechunk_navigation
    >>> s = hs.signals.Signal1D(np.zeros((64, 64, 256), "float32")).as_lazy()
    >>> rechunk_navigation(s, target_mb=1).data.chunksize  # 16 x 64 spectra of 1 KiB
    (16, 64, 256)
    """
    if not getattr(signal, "_lazy", False):
        raise TypeError("rechunk_navigation needs a lazy signal; use as_lazy() first.")
    data = signal.data
    signal_ndim = signal.axes_manager.signal_dimension
    if _reads_chunked_store(data):
        chunks = stored_navigation_chunks(data.chunks, data.shape, data.dtype,
                                          signal_ndim, target_mb)
    else:
        chunks = navigation_chunks(data.shape, data.dtype, signal_ndim, target_mb)
    from dask.array.core import normalize_chunks

    if data.chunks != normalize_chunks(chunks, data.shape):
        signal.data = data.rechunk(chunks)
    return signal


def _reads_chunked_store(data) -> bool:
    """Whether a dask array reads a chunked zarr or HDF5 dataset of its own shape
    (what ``hs.load(..., lazy=True)`` of a .zspy or chunked .hspy file gives:
    dask chunks made of whole stored chunks)."""
    for value in dict(data.dask).values():
        stored = getattr(value, "chunks", None)
        if (isinstance(stored, tuple) and not hasattr(value, "dask")
                and tuple(getattr(value, "shape", ())) == tuple(data.shape)):
            return True
    return False


def stored_navigation_chunks(stored, shape, dtype, signal_ndim: int = 1,
                             target_mb: float = DEFAULT_CHUNK_MB) -> tuple:
    """Navigation chunks made of whole stored chunks, about ``target_mb`` MiB each.

    Along each navigation axis (the fastest first) consecutive stored chunks
    are merged while the merged chunk holds at most ``target_mb`` MiB of whole
    spectra; a stored chunk larger than that is kept as it is, never split.
    The signal axes are merged whole.

    Parameters
    ----------
    stored
        The array's chunks, dask's tuple of per-axis chunk sizes.
    shape, dtype, signal_ndim, target_mb
        As :func:`navigation_chunks`.

    Returns
    -------
    tuple
        Per-axis tuples of chunk sizes (dask's form).

    Examples
    --------
    >>> from hspy_unmix.io.chunks import stored_navigation_chunks
    >>> stored = ((2, 2, 2, 2, 1), (512,), (2048,))  # 2 rows of 4 MiB each
    >>> stored_navigation_chunks(stored, (9, 512, 2048), "float32", target_mb=16)
    ((4, 4, 1), (512,), (2048,))
    """
    if target_mb <= 0:
        raise ValueError(f"target_mb must be positive, got {target_mb}.")
    n_nav = len(shape) - signal_ndim
    spectrum_bytes = int(np.prod(shape[n_nav:], dtype=np.int64)) * np.dtype(dtype).itemsize
    budget = batch_rows(spectrum_bytes, target_mb)  # spectra per chunk
    out = [None] * len(shape)
    for d in range(len(shape) - 1, -1, -1):
        if d >= n_nav:
            out[d] = (int(shape[d]),)
            continue
        merged, current = [], 0
        for c in stored[d]:
            c = int(c)
            if current and (current + c) > budget:
                merged.append(current)
                current = 0
            current += c
        merged.append(current)
        out[d] = tuple(merged)
        # the slower axes share what is left of the budget
        budget = max(1, budget // max(max(out[d]), 1))
    return tuple(out)


def batch_rows(row_bytes: int, target_mb: float = DEFAULT_CHUNK_MB) -> int:
    """Rows of ``row_bytes`` bytes each that make one batch of about ``target_mb`` MiB.

    The rule of :func:`navigation_chunks` for arrays in memory (at least one
    row per batch).
    """
    return max(1, int(target_mb * 2**20 // max(int(row_bytes), 1)))


def map_rows(func, X, *, show_progressbar: bool | None = False,
             description: str = "Processing", target_mb: float = DEFAULT_CHUNK_MB,
             row_bytes: int | None = None):
    """``func`` applied to ``X`` (rows first) in batches of :func:`batch_rows` rows.

    ``func`` maps a batch of rows to an array with as many rows; the results
    are stacked into one float64 array. ``row_bytes`` is the memory one row
    costs inside ``func`` (default: one row of ``X``), for rows that are
    indices of larger items. The progress bar counts rows.
    """
    from .._progress import progress_bar

    n_rows = X.shape[0]
    rows = batch_rows(X[:1].nbytes if row_bytes is None else row_bytes, target_mb)
    out = None
    with progress_bar(n_rows, description, show_progressbar) as bar:
        for start in range(0, n_rows, rows):
            stop = min(start + rows, n_rows)
            result = np.asarray(func(X[start:stop]), dtype=np.float64)
            if out is None:
                out = np.empty((n_rows,) + result.shape[1:])
            out[start:stop] = result
            bar.update(stop - start)
    if out is None:
        out = np.empty((0,))
    return out


def matmul_rows(X, M, target_mb: float | None = None) -> np.ndarray:
    """``X @ M`` in float64; ``X`` other than float64 is converted a batch of
    rows at a time (about ``target_mb`` MiB of float64, default
    :data:`TASK_BATCH_MB`), so a float32 sample is never copied whole.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.io.chunks import matmul_rows
    >>> X = np.arange(12, dtype=np.float32).reshape(4, 3)
    >>> bool(np.array_equal(matmul_rows(X, np.eye(3), target_mb=1e-5), X))
    True
    """
    M = np.asarray(M)
    if X.dtype == np.float64 or X.shape[0] == 0:
        return np.asarray(X @ M, dtype=np.float64)
    return map_rows(lambda rows: np.asarray(rows, dtype=np.float64) @ M, X,
                    target_mb=TASK_BATCH_MB if target_mb is None else target_mb,
                    row_bytes=8 * X.shape[1])


@contextlib.contextmanager
def dask_progress(show: bool):
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


#: Batch size (MiB of input) inside one chunk task: bounds the float64
#: temporaries of ``func`` per worker thread, whatever the chunk size.
TASK_BATCH_MB = 8.0


@contextlib.contextmanager
def single_threaded_blas():
    """BLAS on one thread while a threaded dask compute started here runs.

    Each dask task that calls BLAS would otherwise start BLAS's own threads
    beside the other tasks': on 2 cores the abundance pass of a 2 GiB SI
    took 5.1-5.3 s with both levels of threads and 3.7-4.3 s with BLAS on
    one (three alternating runs; one read of the file: 1.9-2.7 s). Only the
    threaded scheduler is
    limited (the limit is set from this thread, where BLAS honours it); the
    synchronous scheduler keeps BLAS's threads, and the workers of the
    process and distributed schedulers keep their own settings.
    """
    import dask
    import dask.threaded

    if dask.base.get_scheduler() not in (None, dask.threaded.get):
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _spectra_block(block, func, n_channels):
    """``func`` on the spectra of one block (in batches of :data:`TASK_BATCH_MB`),
    reshaped back to the block's navigation."""
    flat = np.asarray(block).reshape((-1, n_channels))
    rows = batch_rows(flat[:1].nbytes, TASK_BATCH_MB)
    parts = [np.asarray(func(flat[i:i + rows]), dtype=np.float64)
             for i in range(0, flat.shape[0], rows)]
    out = np.concatenate(parts) if parts else np.asarray(func(flat), dtype=np.float64)
    return out.reshape(block.shape[:-1] + (out.shape[1],))


def map_chunks(func, data, n_out: int, *, parallel: bool = True,
               show_progressbar: bool = False, description: str = "Processing",
               out: np.ndarray | None = None) -> np.ndarray:
    """``func`` on the spectra of a dask array, one navigation chunk at a time.

    Parameters
    ----------
    func
        Maps spectra (n, n_channels) to (n, ``n_out``).
    data
        Dask array, navigation axes first, one spectral axis last.
    n_out
        Number of values per spectrum ``func`` returns.
    parallel
        Run the chunks as dask tasks on the active scheduler (threads,
        processes or distributed: ``func`` is sent to the workers). ``False``
        computes one chunk at a time here and applies ``func`` in this
        process (for work that must stay in one process, e.g. Keras models).
    show_progressbar
        A progress bar (dask's for tasks, the package's otherwise).
    description
        Label of the progress bar of the serial walk.
    out
        A C-contiguous float64 array of shape (n_pixels, n_out) to write the
        result into (default: a new one). On the threaded and synchronous
        schedulers each task writes its chunk's rows into it, so the pass
        holds no other copy of the result (1 048 576 pixels x 4 values:
        32 MiB each).

    Returns
    -------
    numpy.ndarray
        Shape (n_pixels, n_out), pixels in C order of the navigation axes
        (``out`` when given).
    """
    import dask
    import dask.array as da

    n_channels = data.shape[-1]
    data, nav_shape, n_pixels = _whole_spectra(data)
    if out is None:
        out = np.empty((n_pixels, n_out))
    elif (out.shape != (n_pixels, n_out) or out.dtype != np.float64
          or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous float64 array of shape "
                         f"{(n_pixels, n_out)}, got {out.dtype} {out.shape}.")
    result = out.reshape(nav_shape + (n_out,))  # a view: written in place
    starts = [np.concatenate([[0], np.cumsum(c)]) for c in data.chunks[:-1]]
    regions = [(index, tuple(slice(s[i], s[i + 1]) for s, i in zip(starts, index)))
               for index in np.ndindex(*data.numblocks[:-1])]
    if parallel:
        share_malloc_arena()
        release_freed_memory()  # what the caller freed before the pass (a fit's sample)
        if _shares_memory_with_workers():
            # each task writes its rows into the result: no chunk results
            # held until a concatenation, and no concatenated copy
            blocks = data.to_delayed().reshape(data.numblocks[:-1])
            write = dask.delayed(functools.partial(_write_block, out=result), pure=False)
            tasks = [write(blocks[index], func, n_channels, sl) for index, sl in regions]
            with dask_progress(show_progressbar), single_threaded_blas():
                dask.compute(*tasks)
            return out
        mapped = da.map_blocks(
            _spectra_block, data, func, n_channels, dtype=np.float64,
            chunks=data.chunks[:-1] + ((n_out,),), meta=np.empty((0,) * data.ndim),
        )
        with dask_progress(show_progressbar):
            result[...] = mapped.compute()
        return out
    from .._progress import progress_bar

    with progress_bar(len(regions), description, show_progressbar) as bar:
        for index, sl in regions:
            block = np.asarray(data.blocks[index + (0,)].compute())
            result[sl] = _spectra_block(block, func, n_channels)
            bar.update(1)
    return out


def _whole_spectra(data):
    """``data`` with its spectral axis in one chunk, its navigation shape and
    its number of pixels."""
    if data.numblocks[-1] != 1:
        data = data.rechunk({data.ndim - 1: -1})
    nav_shape = data.shape[:-1]
    return data, nav_shape, int(np.prod(nav_shape, dtype=np.int64))


def _write_block(block, func, n_channels, region, *, out):
    out[region] = _spectra_block(block, func, n_channels)


def lazy_transform(estimator, data, n_components: int, show_progressbar: bool = False,
                   parallel: bool = True, out: np.ndarray | None = None) -> np.ndarray:
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
        Run the chunks as dask tasks on the active scheduler (the estimator
        is sent to the workers); ``False`` keeps ``transform`` in this process
        (see :func:`map_chunks`).
    out
        Array to write the abundances into (see :func:`map_chunks`).

    Returns
    -------
    numpy.ndarray
        Shape (n_pixels, n_components), pixels in C order of the navigation
        axes (as HyperSpy's loadings); NaN for the spectra that hold NaN or
        inf values (see :mod:`hspy_unmix._non_finite`).

    Examples
    --------
    >>> import numpy as np, dask.array as da, hspy_unmix
    >>> from hspy_unmix.io.chunks import lazy_transform
    >>> X = np.random.default_rng(0).random((8, 8, 50))
    >>> est = hspy_unmix.VCA(n_components=2, random_state=0).fit(X.reshape(-1, 50))
    >>> lazy_transform(est, da.from_array(X, chunks=(2, 8, 50)), 2).shape
    (64, 2)
    """
    from .._non_finite import FiniteRowsTransform

    return map_chunks(FiniteRowsTransform(estimator.transform, n_components), data,
                      n_components, parallel=parallel, show_progressbar=show_progressbar,
                      description="Unmixing", out=out)


def _take_rows(block, rows, n_channels):
    return np.asarray(block).reshape((-1, n_channels))[rows]


def _fill_rows(block, rows, n_channels, sel, *, out):
    out[sel] = _take_rows(block, rows, n_channels)


def _shares_memory_with_workers() -> bool:
    """Whether the active dask scheduler runs tasks in this process (threads,
    synchronous), where a task may write into an array of the caller."""
    import dask
    import dask.local
    import dask.threaded

    return dask.base.get_scheduler() in (None, dask.threaded.get, dask.local.get_sync)


#: Whether :func:`share_malloc_arena` has run in this process.
_ARENA_SHARED = False


def share_malloc_arena() -> None:
    """Let threads that start allocating from now on share glibc's main heap.

    glibc gives each thread that allocates its own heap (an "arena") and
    keeps the free top of such a heap, up to its trim threshold (twice the
    largest block freed so far, at most 64 MiB), for that thread alone;
    ``malloc_trim`` returns only the main heap's top. After a pass over
    16 MiB chunks each dask worker thread kept 25-35 MiB that the fit run
    next in the main thread could not use: the lazy VCA decomposition of a
    2 GiB SI peaked 600-614 MiB, against 551-557 MiB with one arena (the
    same times). With one arena (``mallopt(M_ARENA_MAX, 1)``) the chunks are
    freed into the main heap and :func:`release_freed_memory` returns them.

    Called before the passes over chunks (once per process; threads that
    have allocated already keep their arenas). Nothing is changed when the
    environment sets ``MALLOC_ARENA_MAX`` (that choice stands) or the C
    library is not glibc.
    """
    global _ARENA_SHARED
    import os

    if _ARENA_SHARED:
        return
    _ARENA_SHARED = True
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    import ctypes

    mallopt = _glibc_function("mallopt", [ctypes.c_int, ctypes.c_int])
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, 1)


#: glibc's ``M_ARENA_MAX`` parameter of ``mallopt`` (malloc.h).
_M_ARENA_MAX = -8


def release_freed_memory() -> None:
    """Give memory freed by many mid-sized arrays back to the system.

    glibc keeps freed blocks below its mmap threshold in its heaps; after a
    pass that allocated one array per chunk, they hold memory that later
    allocations cannot always reuse. ``malloc_trim`` returns the free pages
    of every heap and the free top of the main one (not the tops of the
    worker threads' own heaps: see :func:`share_malloc_arena`); on other C
    libraries this does nothing.
    """
    import ctypes

    trim = _glibc_function("malloc_trim", [ctypes.c_size_t])
    if trim is not None:
        trim(0)


def _glibc_function(name: str, argtypes: list):
    """glibc's function ``name`` with its argument types, or None on other C
    libraries (or where it cannot be loaded)."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        function = getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    return function


def sample_spectra(data, n_samples: int | None, random_state=None, *, index=None, dtype=None,
                   show_progressbar: bool = False,
                   chunk_fraction: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A uniform random sample of ``n_samples`` spectra of a dask array, in one pass.

    The sampled pixels are drawn first (from ``random_state`` and the number
    of pixels only, not from the data, so the sample is the same on every
    scheduler and chunking); then each navigation chunk that holds sampled
    pixels is read once, on the active dask scheduler, and only its sampled
    spectra are kept. Memory: the sample plus the chunks in flight.

    With ``chunk_fraction`` the pixels are drawn from part of the chunks
    only (:func:`chunk_subset_index`), so that only that part of the data is
    read; the sample then depends on the chunking.

    Parameters
    ----------
    data
        Dask array, navigation axes first, one spectral axis last.
    n_samples
        Number of spectra (all of them when the array has fewer).
    random_state
        Seed or :class:`numpy.random.RandomState` of the draw.
    index
        Flat C-order navigation indices of the pixels to take (increasing,
        unique) instead of a random draw; ``n_samples`` and ``random_state``
        are then ignored. Only the chunks holding them are read.
    dtype
        Data type of the sample (default: the array's). Each chunk's spectra
        are converted as they are copied in and then freed, so a float64
        sample of float32 data never holds a float32 copy beside it.
    show_progressbar
        dask's progress bar (local schedulers).
    chunk_fraction
        ``None`` or 1: the pixels are drawn from all pixels. A fraction in
        (0, 1): from the pixels of about that fraction of the navigation
        chunks (at least as many as hold ``n_samples`` pixels), one chunk
        drawn from each of as many runs of consecutive chunks, so that the
        chunks read are spread over the SI.

    Returns
    -------
    sample : numpy.ndarray
        (n, n_channels), in ``dtype``, pixels in increasing C order.
    index : numpy.ndarray
        Flat C-order navigation indices of the sampled pixels.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from hspy_unmix.io.chunks import sample_spectra
    >>> X = np.arange(6 * 4 * 3.0).reshape(6, 4, 3)
    >>> sample, index = sample_spectra(da.from_array(X, chunks=(2, 4, 3)), 5, 0)
    >>> bool(np.array_equal(sample, X.reshape(-1, 3)[index]))
    True
    """
    import dask
    from sklearn.utils import check_random_state

    n_channels = data.shape[-1]
    data, nav_shape, n_pixels = _whole_spectra(data)
    if index is None and chunk_fraction is not None and chunk_fraction != 1:
        index = chunk_subset_index(data, n_samples, chunk_fraction, random_state)
        n = index.size
    elif index is None:
        n = min(int(n_samples), n_pixels)
        rng = check_random_state(random_state)
        index = np.sort(rng.choice(n_pixels, size=n, replace=False)) if n < n_pixels \
            else np.arange(n_pixels)
    else:
        index = np.asarray(index, dtype=np.int64)
        n = index.size
    coords = np.unravel_index(index, nav_shape)
    bounds = [np.cumsum((0,) + tuple(c)) for c in data.chunks[:-1]]
    block_of = [np.searchsorted(b, c, side="right") - 1 for b, c in zip(bounds, coords)]
    local = [c - b[k] for c, b, k in zip(coords, bounds, block_of)]
    flat_block = np.ravel_multi_index(block_of, data.numblocks[:-1])
    blocks = data.to_delayed().reshape(data.numblocks[:-1])
    sample = np.empty((n, n_channels), dtype=data.dtype if dtype is None else dtype)
    in_place = _shares_memory_with_workers()
    # threads: each task copies its spectra into the sample; other schedulers
    # (processes, distributed) send them back and they are copied in here
    take = (dask.delayed(functools.partial(_fill_rows, out=sample), pure=False) if in_place
            else dask.delayed(_take_rows, pure=True))
    tasks, order = [], []
    for b in np.unique(flat_block):
        sel = np.flatnonzero(flat_block == b)
        bidx = np.unravel_index(b, data.numblocks[:-1])
        shape = tuple(int(data.chunks[d][i]) for d, i in enumerate(bidx))
        rows = np.ravel_multi_index(tuple(lc[sel] for lc in local), shape)
        tasks.append(take(blocks[bidx], rows, n_channels, sel) if in_place
                     else take(blocks[bidx], rows, n_channels))
        order.append(sel)
    share_malloc_arena()
    with dask_progress(show_progressbar):
        parts = list(dask.compute(*tasks))
    if not in_place:
        for i, sel in enumerate(order):
            sample[sel] = parts[i]
            parts[i] = None
    del parts
    release_freed_memory()
    return sample, index


def check_chunk_fraction(chunk_fraction) -> float | None:
    """``chunk_fraction`` as a float in (0, 1], or None; a clear error otherwise."""
    if chunk_fraction is None:
        return None
    try:
        value = float(chunk_fraction)
    except (TypeError, ValueError):
        value = np.nan
    if not 0.0 < value <= 1.0:
        raise ValueError(
            f"sample_chunks must be a fraction in (0, 1] of the navigation chunks, "
            f"got {chunk_fraction!r}."
        )
    return value


def chunk_subset_index(data, n_samples: int, chunk_fraction: float,
                       random_state=None) -> np.ndarray:
    """Flat C-order indices of a sample drawn from part of the navigation chunks.

    The navigation chunks, in C order, are split into ``m`` runs of
    consecutive chunks and one chunk is drawn at random from each run, with
    ``m`` about ``chunk_fraction`` times the number of chunks, raised until
    the chunks drawn hold ``n_samples`` pixels (or all chunks are taken);
    ``n_samples`` pixels are then drawn uniformly from those chunks. Reading
    only them reads about ``chunk_fraction`` of the data. A phase that sits
    entirely in chunks that were not drawn is missed: one spanning at least
    ``2 / chunk_fraction`` consecutive chunks holds a whole run and is always
    drawn from, a smaller one may not be.

    Parameters
    ----------
    data
        Dask array, navigation axes first, one spectral axis last.
    n_samples
        Number of pixels to draw (all pixels of the chunks when they hold fewer).
    chunk_fraction
        Fraction of the chunks to read, in (0, 1].
    random_state
        Seed or :class:`numpy.random.RandomState`.

    Returns
    -------
    numpy.ndarray of int64
        Increasing flat C-order navigation indices.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from hspy_unmix.io.chunks import chunk_subset_index
    >>> data = da.zeros((40, 10, 3), chunks=(2, 10, 3))  # 20 chunks of 20 pixels
    >>> index = chunk_subset_index(data, 50, 0.25, 0)
    >>> index.size, len(np.unique(index // 20))
    (50, 5)
    """
    from sklearn.utils import check_random_state

    fraction = check_chunk_fraction(chunk_fraction)
    rng = check_random_state(random_state)
    nav_chunks = data.chunks[:-1]
    nav_shape = tuple(int(sum(c)) for c in nav_chunks)
    n_blocks = int(np.prod([len(c) for c in nav_chunks], dtype=np.int64))
    sizes = np.prod(np.meshgrid(*[np.asarray(c, dtype=np.int64) for c in nav_chunks],
                                indexing="ij"), axis=0).ravel()
    n_samples = int(n_samples)
    m = min(n_blocks, max(1, int(np.ceil(fraction * n_blocks))))
    while True:
        runs = np.array_split(np.arange(n_blocks), m)
        chosen = np.array([run[rng.randint(run.size)] for run in runs])
        if sizes[chosen].sum() >= n_samples or m == n_blocks:
            break
        m = min(n_blocks, 2 * m)
    bounds = [np.cumsum((0,) + tuple(c)) for c in nav_chunks]
    pixels = []
    for b in chosen:
        block = np.unravel_index(b, [len(c) for c in nav_chunks])
        ranges = [np.arange(bd[i], bd[i + 1]) for bd, i in zip(bounds, block, strict=True)]
        grid = np.meshgrid(*ranges, indexing="ij")
        pixels.append(np.ravel_multi_index([g.ravel() for g in grid], nav_shape))
    pool = np.sort(np.concatenate(pixels))
    if pool.size <= n_samples:
        return pool.astype(np.int64)
    return np.sort(rng.choice(pool, size=n_samples, replace=False)).astype(np.int64)


def scheduler_get():
    """The ``get`` function of the active dask scheduler (``None``: dask's default).

    Under ``dask.config.set(scheduler=...)`` or a ``distributed.Client``
    registered as default this returns its ``get``, which HyperSpy's lazy
    ``decomposition(get=...)`` needs: its learn loop otherwise always uses
    the threaded scheduler.
    """
    import dask

    return dask.base.get_scheduler()
