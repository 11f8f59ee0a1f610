"""dask.distributed LocalCluster (2 worker processes) gives the threaded results."""

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


def test_lazy_zspy_vca_distributed_equals_threads(client, si_store):
    ref, ref_applied = _run(si_store)
    got, got_applied = _run(si_store, client)
    np.testing.assert_allclose(got.learning_results.factors, ref.learning_results.factors)
    np.testing.assert_allclose(got.learning_results.loadings, ref.learning_results.loadings,
                               atol=1e-10)
    np.testing.assert_allclose(got_applied.learning_results.loadings,
                               ref_applied.learning_results.loadings, atol=1e-10)
    # the chunks really ran on the workers
    assert sum(len(v) for v in client.run(lambda: [1]).values()) == 2


def test_lazy_hals_distributed_equals_threads(client, si_store):
    hals = hspy_unmix.HALS(n_components=3, random_state=0, n_starts=1, max_iter=50)
    hals.max_partial_fit_samples = 1000
    ref, _ = _run(si_store, algorithm=hals)
    hals2 = hspy_unmix.HALS(n_components=3, random_state=0, n_starts=1, max_iter=50)
    hals2.max_partial_fit_samples = 1000
    got, _ = _run(si_store, client, algorithm=hals2)
    np.testing.assert_allclose(got.learning_results.factors, ref.learning_results.factors)
    np.testing.assert_allclose(got.learning_results.loadings, ref.learning_results.loadings,
                               atol=1e-8)


def test_cli_scheduler_address(client, si_store, tmp_path):
    from hspy_unmix.cli import main

    out = tmp_path / "vca.zspy"
    rc = main(["unmix", str(si_store), "-k", "3", "--lazy", "--random-state", "0",
               "--out", str(out), "--scheduler", client.scheduler.address,
               "--chunk-mb", "0.2", "--no-progress"])
    assert rc == 0 and out.is_dir()
