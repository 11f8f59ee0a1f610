"""dask.distributed LocalCluster (2 worker processes) gives the threaded and eager results.

The chunk function of the lazy walk (``hspy_unmix.io.chunks._spectra_block``)
is wrapped by one that records the process id that runs it: the chunks must
run in the cluster's worker processes, never in this one, and cover every
pixel once.
"""

from __future__ import annotations

import numpy as np
import pytest

import hspy_unmix

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit="1GiB")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def si_store(tmp_path_factory, chequerboard3):
    """The SI as a .zspy store: workers reopen it (h5py objects do not pickle)."""
    from hspy_unmix._lazy import rechunk_navigation, save_atomic

    s, _ = chequerboard3
    lazy = s.deepcopy().as_lazy()
    rechunk_navigation(lazy, target_mb=0.2)
    return save_atomic(lazy, tmp_path_factory.mktemp("dist") / "si.zspy")


def _recording_block(pid_dir):
    """The chunk function, recording (pid, number of spectra) of every call in ``pid_dir``.

    A closure, so that cloudpickle sends it to the workers by value.
    """
    from hspy_unmix.io import chunks

    original = chunks._spectra_block

    def block(data, func, n_channels):
        import os
        import pathlib
        import uuid

        n = int(np.prod(data.shape[:-1]))
        pathlib.Path(pid_dir, uuid.uuid4().hex).write_text(f"{os.getpid()} {n}")
        return original(data, func, n_channels)

    return block


def _recorded(pid_dir):
    """{pid: number of spectra} of the recorded chunk calls; the number of calls."""
    calls = [tuple(map(int, f.read_text().split())) for f in pid_dir.iterdir()]
    # dask calls the function once here on an empty array (output type); not a chunk
    calls = [(pid, n) for pid, n in calls if n > 0]
    counts = {}
    for pid, n in calls:
        counts[pid] = counts.get(pid, 0) + n
    return counts, len(calls)


@pytest.fixture
def record_chunks(monkeypatch, tmp_path):
    """Directory where every chunk call of the lazy walk leaves its pid."""
    from hspy_unmix.io import chunks

    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    monkeypatch.setattr(chunks, "_spectra_block", _recording_block(str(pid_dir)))
    return pid_dir


def _assert_ran_on_workers(client, pid_dir, n_pixels=64 * 64):
    import os

    counts, n_calls = _recorded(pid_dir)
    worker_pids = set(client.run(os.getpid).values())
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    assert n_calls > 1
    assert counts and set(counts) <= worker_pids
    # every pixel exactly once
    assert sum(counts.values()) == n_pixels


def _run(path, client=None, algorithm="VCA", **kw):
    import dask

    from hspy_unmix._lazy import load_lazy

    s = load_lazy(path, target_mb=0.2)
    ctx = dask.config.set(scheduler=client.get if client else "threads")
    with ctx:
        if isinstance(algorithm, str):
            kw["random_state"] = 0
        s.decomposition(algorithm=algorithm, output_dimension=3, print_info=False, **kw)
        other = load_lazy(path, target_mb=0.2)
        other.apply_unmixing(s.unmixing_estimator, print_info=False)
    return s, other


def test_lazy_zspy_vca_distributed_equals_threads(client, si_store, record_chunks, eels3):
    import os

    ref, ref_applied = _run(si_store)
    # the threaded walk runs here: the recorder sees this process only
    assert set(_recorded(record_chunks)[0]) == {os.getpid()}
    for f in record_chunks.iterdir():
        f.unlink()
    with distributed.get_task_stream(client) as stream:
        got, got_applied = _run(si_store, client)
    # the decomposition's abundance pass and apply_unmixing: every pixel twice
    _assert_ran_on_workers(client, record_chunks, n_pixels=2 * 64 * 64)
    # the decomposition's reads ran as tasks on the workers too
    workers = set(client.scheduler_info()["workers"])
    assert stream.data and {t["worker"] for t in stream.data} <= workers
    # eager, in memory: the same numbers
    eager, _ = eels3
    eager.decomposition(algorithm="VCA", output_dimension=3, random_state=0,
                        print_info=False)
    np.testing.assert_allclose(got.learning_results.factors, eager.learning_results.factors)
    np.testing.assert_allclose(got.learning_results.loadings,
                               eager.learning_results.loadings, atol=1e-10)
    eager_applied = eels3[0]
    eager_applied.apply_unmixing(got.unmixing_estimator, print_info=False)
    np.testing.assert_allclose(got_applied.learning_results.loadings,
                               eager_applied.learning_results.loadings, atol=1e-10)
    np.testing.assert_allclose(got.learning_results.factors, ref.learning_results.factors)
    np.testing.assert_allclose(got.learning_results.loadings, ref.learning_results.loadings,
                               atol=1e-10)
    np.testing.assert_allclose(got_applied.learning_results.loadings,
                               ref_applied.learning_results.loadings, atol=1e-10)
    # the chunks really ran on the workers
    assert sum(len(v) for v in client.run(lambda: [1]).values()) == 2


def test_lazy_hals_distributed_equals_threads(client, si_store, record_chunks, eels3):
    hals = hspy_unmix.HALS(n_components=3, random_state=0, n_starts=1, max_iter=50)
    hals.max_partial_fit_samples = 1000
    ref, _ = _run(si_store, algorithm=hals)
    hals2 = hspy_unmix.HALS(n_components=3, random_state=0, n_starts=1, max_iter=50)
    hals2.max_partial_fit_samples = 1000
    got, _ = _run(si_store, client, algorithm=hals2)
    np.testing.assert_allclose(got.learning_results.factors, ref.learning_results.factors)
    np.testing.assert_allclose(got.learning_results.loadings, ref.learning_results.loadings,
                               atol=1e-8)
    for f in record_chunks.iterdir():
        f.unlink()
    got, got_applied = _run(si_store, client, algorithm=hals2)
    _assert_ran_on_workers(client, record_chunks, n_pixels=2 * 64 * 64)
    # The lazy fit sees a subsample (max_partial_fit_samples), so its spectra
    # differ from an eager fit's; with the same spectra the abundances are
    # the eager ones.
    eager = eels3[0]
    eager.apply_unmixing(got.unmixing_estimator, print_info=False)
    np.testing.assert_allclose(got_applied.learning_results.loadings,
                               eager.learning_results.loadings, atol=1e-8)


def test_cli_scheduler_address(client, si_store, tmp_path):
    from hspy_unmix.cli import main

    out = tmp_path / "vca.zspy"
    rc = main(["unmix", str(si_store), "-k", "3", "--lazy", "--random-state", "0",
               "--out", str(out), "--scheduler", client.scheduler.address,
               "--chunk-mb", "0.2", "--no-progress"])
    assert rc == 0 and out.is_dir()
