"""Bounded-memory helpers: chunk choice, atomic writes, chunk-wise unmixing."""

from __future__ import annotations

import numpy as np
import pytest

import hspy_unmix
from hspy_unmix._lazy import (
    check_complete_store,
    lazy_transform,
    load_lazy,
    navigation_chunks,
    rechunk_navigation,
    save_atomic,
)

from conftest import shared_file


def test_navigation_chunks_whole_rows_and_target_size():
    chunks = navigation_chunks((512, 512, 2048), "float32", target_mb=64)
    assert chunks == (16, 512, 2048)
    assert np.prod(chunks) * 4 == 64 * 2**20
    # a line too long for the target is split as well
    assert navigation_chunks((4, 100_000, 2048), "float32", target_mb=64) == (1, 8192, 2048)
    # at least one spectrum, signal axis never split
    assert navigation_chunks((3, 3, 10**6), "float64", target_mb=1) == (1, 1, 10**6)
    with pytest.raises(ValueError, match="positive"):
        navigation_chunks((2, 2, 2), "float32", target_mb=0)


def test_chunk_size_independent_of_pixel_count():
    small = navigation_chunks((64, 512, 2048), "float32")
    large = navigation_chunks((4096, 512, 2048), "float32")
    assert small == large


def test_rechunk_navigation_lazy_only(eels3):
    s, _ = eels3
    with pytest.raises(TypeError, match="lazy"):
        rechunk_navigation(s)
    lazy = s.as_lazy()
    rechunk_navigation(lazy, target_mb=0.1)
    assert lazy.data.chunksize[-1] == s.data.shape[-1]
    assert lazy.data.numblocks[0] > 1


def test_stored_chunks_merged_whole_never_split(eels3, tmp_path):
    """A .zspy store keeps its chunks whole: small ones merged up to the target,
    large ones left as stored (a read of part of a chunk decompresses it all)."""
    from hspy_unmix.io.chunks import stored_navigation_chunks

    s, _ = eels3  # 64 x 64 x 200 float64: 1600 bytes per spectrum
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((3, 64, 200))  # 3 rows (300 KiB) per stored chunk
    path = save_atomic(lazy, tmp_path / "si.zspy")
    small = load_lazy(path, target_mb=1.0)  # 655 spectra: 3 stored chunks of 192
    assert small.data.chunks[0] == (9,) * 6 + (10,)  # the last 1-row chunk fits too
    assert small.data.chunks[1:] == ((64,), (200,))
    whole = load_lazy(path, target_mb=0.1)  # smaller than one stored chunk
    assert whole.data.chunks[0] == (3,) * 21 + (1,)
    np.testing.assert_array_equal(small.data.compute(), s.data)
    # an array in memory is split freely to the target
    free = rechunk_navigation(s.as_lazy(), target_mb=0.1)
    assert free.data.chunksize == (1, 64, 200)
    # stored chunks along the fast axis merge first, the slow axis takes what is left
    chunks = stored_navigation_chunks(((2,) * 4, (100,) * 5, (10, 10)), (8, 500, 20),
                                      "float32", target_mb=4 * 500 * 20 * 4 / 2**20)
    assert chunks == ((4, 4), (500,), (20,))
    with pytest.raises(ValueError, match="positive"):
        stored_navigation_chunks(((2,),), (2, 5), "float32", target_mb=-1)


def test_sample_written_in_place_equals_gathered(eels3):
    """Threads write the sample in place; other schedulers send it back: same rows."""
    import dask
    import dask.array as da

    from hspy_unmix.io.chunks import sample_spectra

    s, _ = eels3
    data = da.from_array(s.data, chunks=(5, 64, 200))
    results = {}
    for scheduler in ("threads", "synchronous", "processes"):
        with dask.config.set(scheduler=scheduler):
            results[scheduler] = sample_spectra(data, 333, 3, dtype=np.float64)
    for sample, index in results.values():
        np.testing.assert_array_equal(sample, s.data.reshape(-1, 200)[index])
        np.testing.assert_array_equal(index, results["threads"][1])


def test_lazy_decomposition_reads_data_twice_and_fits_a_bounded_sample(eels3, counting_lazy):
    s, truth = eels3
    lazy, reads = counting_lazy(s.data, (4, 64, 200))
    n_blocks = lazy.data.numblocks[0]
    est = hspy_unmix.VCA(n_components=3, random_state=0, max_partial_fit_samples=500)
    fitted_rows = []
    original_fit = est._fit_owned

    def spy(X, owned=True):
        fitted_rows.append((np.asarray(X).shape[0], owned))
        return original_fit(X, owned)

    est._fit_owned = spy  # the sample is the decomposition's own: fitted in place
    lazy.decomposition(algorithm=est, output_dimension=3, print_info=False)
    # one sampling pass + one abundance pass, each chunk read once per pass
    # (500 of 4096 pixels leave no chunk of 256 pixels unsampled)
    assert reads["n"] == 2 * n_blocks
    assert fitted_rows == [(500, True)]
    assert est.n_samples_seen_ == 64 * 64
    assert lazy.learning_results.loadings.shape == (4096, 3)
    # the fit on 500 random pixels still finds the phases
    from hspy_unmix.metrics import sad

    assert np.mean(sad(truth.endmembers, lazy.learning_results.factors.T)) < 0.1
    # HyperSpy's streaming loop (taken for Poisson normalisation) reads more
    lazy2, reads2 = counting_lazy(s.data, (4, 64, 200))
    lazy2.decomposition(algorithm="VCA", output_dimension=3, random_state=0,
                        normalize_poissonian_noise=True, print_info=False)
    assert reads2["n"] >= 3 * n_blocks


def test_sample_chunks_reads_only_that_share_of_the_chunks(eels3, counting_lazy):
    s, truth = eels3
    lazy, reads = counting_lazy(s.data, (2, 64, 200))  # 32 chunks of 128 pixels
    n_blocks = lazy.data.numblocks[0]
    est = hspy_unmix.VCA(n_components=3, random_state=0, max_partial_fit_samples=500)
    lazy.decomposition(algorithm=est, output_dimension=3, print_info=False,
                       sample_chunks=0.25)
    # 8 of 32 chunks (1024 pixels >= 500) in the sampling pass, all in the second
    assert reads["n"] == n_blocks // 4 + n_blocks
    assert est.n_samples_fitted_ == 500 and est.n_samples_seen_ == 4096
    from hspy_unmix.metrics import sad

    assert np.mean(sad(truth.endmembers, lazy.learning_results.factors.T)) < 0.1
    # HyperSpy's streaming loop has no sampling pass to shorten: a clear error
    with pytest.raises(ValueError, match="sample_chunks applies to the two-pass"):
        lazy.decomposition(algorithm="VCA", output_dimension=3, sample_chunks=0.25,
                           normalize_poissonian_noise=True, print_info=False)
    for bad in (0, 1.5, "half"):
        with pytest.raises(ValueError, match="fraction in \\(0, 1\\]"):
            lazy.decomposition(algorithm="VCA", output_dimension=3, sample_chunks=bad,
                               print_info=False)


def test_chunk_subset_spread_over_the_si_and_large_enough():
    import dask.array as da

    from hspy_unmix.io.chunks import chunk_subset_index, sample_spectra

    data = da.zeros((64, 64, 5), chunks=(4, 16, 5))  # 16 x 4 = 64 chunks of 64 pixels
    index = chunk_subset_index(data, 200, 0.125, 3)
    rows, cols = np.unravel_index(index, (64, 64))
    blocks = np.unique((rows // 4) * 4 + cols // 16)
    # 8 chunks, one from each run of 8 consecutive chunks (C order): two rows
    # of chunks apart at most
    assert blocks.size == 8 and np.array_equal(blocks // 8, np.arange(8))
    assert index.size == 200 and np.all(np.diff(index) > 0)
    # more pixels asked than the fraction's chunks hold: more chunks are taken
    big = chunk_subset_index(data, 1000, 0.125, 3)
    assert big.size == 1000
    assert np.unique((big // 64 // 4) * 4 + (big % 64) // 16).size >= 1000 / 64
    # fraction 1: every pixel of every chunk can be drawn; same seed, same draw
    np.testing.assert_array_equal(chunk_subset_index(data, 4096, 1.0, 0), np.arange(4096))
    values = da.from_array(np.arange(64 * 64 * 5.0).reshape(64, 64, 5), chunks=(4, 16, 5))
    sample, taken = sample_spectra(values, 200, 3, chunk_fraction=0.125)
    np.testing.assert_array_equal(taken, index)
    np.testing.assert_array_equal(sample, values.compute().reshape(-1, 5)[index])


def test_lazy_sample_is_the_same_on_any_chunking(eels3):
    import dask.array as da

    from hspy_unmix.io.chunks import sample_spectra

    s, _ = eels3
    a, ia = sample_spectra(da.from_array(s.data, chunks=(4, 64, 200)), 300, 7)
    b, ib = sample_spectra(da.from_array(s.data, chunks=(7, 5, 200)), 300, 7)
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, s.data.reshape(-1, 200)[ia])
    assert len(np.unique(ia)) == 300


def test_lazy_transform_matches_eager(eels3):
    s, _ = eels3
    est = hspy_unmix.VCA(n_components=3, random_state=0).fit(s.data.reshape(-1, 200))
    import dask.array as da

    data = da.from_array(s.data, chunks=(8, 64, 200))
    ref = est.transform(s.data.reshape(-1, 200))
    np.testing.assert_allclose(lazy_transform(est, data, 3), ref, atol=1e-10)
    np.testing.assert_allclose(lazy_transform(est, data, 3, parallel=False), ref, atol=1e-10)


@pytest.mark.parametrize("scheduler", ["threads", "sync", "processes"])
def test_lazy_transform_writes_into_out_on_any_scheduler(eels3, scheduler):
    """With ``out`` the abundances are written into the caller's array (by
    the tasks themselves on the in-process schedulers), chunks that do not
    span whole rows included; a wrong ``out`` is refused."""
    import dask
    import dask.array as da

    s, _ = eels3
    est = hspy_unmix.VCA(n_components=3, random_state=0).fit(s.data.reshape(-1, 200))
    data = da.from_array(s.data, chunks=(5, 24, 200))  # uneven, partial rows
    ref = est.transform(s.data.reshape(-1, 200))
    out = np.full((s.data.shape[0] * s.data.shape[1], 3), np.nan)
    with dask.config.set(scheduler=scheduler):
        got = lazy_transform(est, data, 3, out=out)
    assert got is out
    np.testing.assert_allclose(out, ref, atol=1e-10)
    with pytest.raises(ValueError, match="C-contiguous float64"):
        lazy_transform(est, data, 3, out=np.empty((out.shape[0], 3), dtype=np.float32))


def test_apply_unmixing_lazy_equals_eager(eels3):
    s, _ = eels3
    s.decomposition(algorithm="VCA", output_dimension=3, random_state=0, print_info=False)
    est = s.unmixing_estimator
    other = s.deepcopy()
    other.apply_unmixing(est, print_info=False)
    lazy = s.as_lazy()
    rechunk_navigation(lazy, target_mb=0.2)
    lazy.apply_unmixing(est, print_info=False)
    np.testing.assert_allclose(lazy.learning_results.loadings,
                               other.learning_results.loadings, atol=1e-10)


def test_save_atomic_zspy_roundtrip(eels3, tmp_path):
    import hyperspy.api as hs

    s, _ = eels3
    lazy = s.as_lazy()
    rechunk_navigation(lazy, target_mb=0.5)
    out = save_atomic(lazy, tmp_path / "si.zspy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["si.zspy"]
    back = hs.load(out, lazy=True)
    np.testing.assert_array_equal(back.data.compute(), s.data)
    assert back.metadata.Signal.signal_type == "EELS"
    check_complete_store(out)
    with pytest.raises(FileExistsError):
        save_atomic(lazy, out)


def test_save_atomic_leaves_nothing_on_error(eels3, tmp_path):
    import dask.array as da

    s, _ = eels3
    lazy = s.as_lazy()
    rechunk_navigation(lazy, target_mb=0.2)

    def fail(block, block_info=None):
        if block_info[0]["chunk-location"][0] == 2:
            raise RuntimeError("disk full")
        return block

    lazy.data = da.map_blocks(fail, lazy.data, dtype=lazy.data.dtype)
    for name in ("out.zspy", "out.hspy"):
        with pytest.raises(RuntimeError, match="disk full"):
            save_atomic(lazy, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_incomplete_zspy_is_a_clear_error(eels3, tmp_path):
    s, _ = eels3
    lazy = s.as_lazy()
    rechunk_navigation(lazy, target_mb=0.2)
    out = save_atomic(lazy, tmp_path / "si.zspy")
    # chunk files in the nested layout (data/0/0/0 ...), directories aside
    chunk_files = sorted(p for p in (out / "Experiments").rglob("*")
                         if p.is_file() and p.name.isdigit() and "data" in p.parts)
    assert len(chunk_files) > 1
    chunk_files[1].unlink()
    with pytest.raises(ValueError, match="chunk files"):
        load_lazy(out)


def test_load_lazy_dm4_rechunked():
    path = shared_file("eels/rsciio_EELS_SI_2x2x2048.dm4")
    s = load_lazy(path, target_mb=0.01)
    assert s._lazy and s.data.shape == (2, 2, 2048)
    assert s.data.numblocks[:2] != (1, 1)
    assert s.metadata.Signal.signal_type == "EELS"


def test_truncated_dm4_is_a_clear_error(tmp_path):
    path = shared_file("eels/rsciio_EELS_SI_2x2x2048.dm4")
    raw = path.read_bytes()
    bad = tmp_path / "truncated.dm4"
    bad.write_bytes(raw[: len(raw) * 9 // 10])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_lazy(bad)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_lazy(tmp_path / "nope.dm4")


@pytest.mark.parametrize("poisson", [False, True])
def test_lazy_decomposition_progress_bars_follow_show_progressbar(eels3, capfd, poisson):
    s, _ = eels3
    lazy = s.as_lazy()
    rechunk_navigation(lazy, target_mb=0.2)
    kw = dict(algorithm="VCA", output_dimension=3, random_state=0, print_info=False,
              normalize_poissonian_noise=poisson)
    capfd.readouterr()
    lazy.decomposition(show_progressbar=False, **kw)
    out, err = capfd.readouterr()
    assert "%" not in out + err
    lazy.decomposition(show_progressbar=True, **kw)
    out, err = capfd.readouterr()
    # one bar per pass: two (sample, abundances) or HyperSpy's Learn/Project
    assert (out + err).count("100%") >= 2


def _blas_threads():
    """Thread counts of the loaded BLAS libraries (sorted, distinct)."""
    from threadpoolctl import threadpool_info

    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})


def test_threaded_chunk_pass_runs_blas_on_one_thread_and_restores_it():
    """The tasks of map_chunks see BLAS on one thread on the threaded
    scheduler, the setting is restored afterwards; the synchronous scheduler
    keeps BLAS's threads."""
    import dask
    import dask.array as da
    from threadpoolctl import threadpool_limits

    from hspy_unmix.io.chunks import map_chunks

    seen = []

    def record(X):
        seen.append(_blas_threads()[0])
        return X[:, :1]

    data = da.from_array(np.ones((8, 4, 5)), chunks=(2, 4, 5))
    with threadpool_limits(limits=2, user_api="blas"):
        with dask.config.set(scheduler="threads"):
            map_chunks(record, data, 1)
        assert seen == [1] * 4 and _blas_threads() == [2]
        seen.clear()
        with dask.config.set(scheduler="synchronous"):
            map_chunks(record, data, 1)
        assert seen == [2] * 4


def test_save_atomic_computes_a_lazy_signal_with_blas_on_one_thread(tmp_path):
    import dask
    import dask.array as da
    from hyperspy.signals import LazySignal1D
    from threadpoolctl import threadpool_limits

    seen = []

    def record(block):
        seen.append(_blas_threads())
        return block

    data = da.from_array(np.ones((4, 3, 5)), chunks=(1, 3, 5)).map_blocks(record, meta=np.empty((0, 0, 0)))
    with threadpool_limits(limits=2, user_api="blas"), dask.config.set(scheduler="threads"):
        save_atomic(LazySignal1D(data), tmp_path / "out.zspy")
    assert seen == [[1]] * 4


_ARENA_SCRIPT = """
import ctypes, os, tempfile
import dask, dask.array as da
from hspy_unmix.io.chunks import sample_spectra

def arenas():
    libc = ctypes.CDLL("libc.so.6")
    libc.fdopen.restype = ctypes.c_void_p
    fd, path = tempfile.mkstemp()
    stream = ctypes.c_void_p(libc.fdopen(os.dup(fd), b"w"))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    os.close(fd)
    with open(path) as f:
        text = f.read()
    os.remove(path)
    return text.count("<heap nr=")

dask.config.set(scheduler="threads", num_workers=2)
data = da.ones((64, 64, 256), chunks=(4, 64, 256)) * 2.0  # each task allocates its chunk
sample, _ = sample_spectra(data, 500, 0)
assert float(sample.min()) == 2.0
print(arenas())
"""


@pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc",
                    reason="glibc's malloc arenas")
@pytest.mark.parametrize("environment, shared", [({}, True), ({"MALLOC_ARENA_MAX": "8"}, False)])
def test_lazy_pass_worker_threads_share_the_main_malloc_arena(environment, shared):
    """A pass over chunks on the threaded scheduler allocates its chunks in
    glibc's main heap (one arena, whose free top release_freed_memory returns),
    unless the environment chose MALLOC_ARENA_MAX itself (then the worker
    threads get their own arenas, glibc's default)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | environment
    out = subprocess.run([sys.executable, "-c", _ARENA_SCRIPT], env=env, check=True,
                         capture_output=True, text=True).stdout
    n_arenas = int(out.split()[-1])
    assert (n_arenas == 1) if shared else (n_arenas > 1)
