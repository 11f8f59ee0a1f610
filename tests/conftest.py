"""Shared fixtures: small synthetic spectrum images with known ground truth."""

from __future__ import annotations

import os
import pathlib
import re
import sys

import numpy as np
import pytest

import hspy_unmix  # noqa: F401  (activates the EELS methods)

# The tests mirror the package in sub-folders (tests/unmixing, tests/io, ...),
# without __init__.py, so test file names are unique across them. The helpers
# beside this file (``from conftest import shared_file``, ``random_guess``)
# are imported by name from every sub-folder: keep this folder on sys.path.
_TESTS = str(pathlib.Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# two cores on the CI machines: one thread pool each for TensorFlow
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

#: Real data files beside the repository (not shipped with it); tests that
#: need them skip cleanly where the folder is absent.
SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_file(relative: str) -> pathlib.Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real data file {relative} not available")
    return path


#: On the CI machine (``CI=true``) every test dependency is installed, so a test
#: skipped for a missing package or program is a broken install: it fails.
_STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_MISSING_DEPENDENCY = re.compile(
    r"could not import|no module named|not installed|no chromium", re.IGNORECASE
)


def _strict_skip(report) -> None:
    if not (_STRICT and report.skipped):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if _MISSING_DEPENDENCY.search(reason):
        report.outcome = "failed"
        report.longrepr = f"CI=true and a test dependency is missing: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _strict_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _strict_skip(outcome.get_result())


@pytest.fixture(autouse=True)
def _no_progressbar():
    from hyperspy.defaults_parser import preferences

    old = preferences.General.show_progressbar
    preferences.General.show_progressbar = False
    yield
    preferences.General.show_progressbar = old


@pytest.fixture(scope="session")
def chequerboard3():
    """Brun et al. chequerboard SI, 3 components, 64x64x200, Poisson noise."""
    from hspy_unmix.synthetic import chequerboard_si

    return chequerboard_si(n_components=3, random_state=0)


@pytest.fixture(scope="session")
def chequerboard4_small():
    """4-component set (903 channels) on a 32x32 grid, Poisson noise."""
    from hspy_unmix.synthetic import chequerboard_si

    return chequerboard_si(n_components=4, shape=(32, 32), random_state=1)


@pytest.fixture
def eels3(chequerboard3):
    """A fresh copy of the 3-component SI (tests may modify it)."""
    s, truth = chequerboard3
    return s.deepcopy(), truth


@pytest.fixture(scope="module")
def small3():
    """3-component chequerboard, 32x32 pixels, every second channel (100): the NMF set."""
    from hspy_unmix.synthetic import chequerboard_si

    s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1])[:, ::2].astype(np.float64)
    return X, truth.endmembers[:, ::2], truth.flat_abundances


@pytest.fixture(scope="session")
def counting_lazy():
    """``make(data, chunks) -> (lazy EELS SI, reads)``: ``reads["n"]`` counts the
    chunk reads (one per block computed)."""
    import threading

    import dask.array as da

    from hspy_unmix._compat import eels_classes

    def make(data, chunks):
        reads = {"n": 0}
        lock = threading.Lock()

        def read(block):
            with lock:
                reads["n"] += 1
            return block

        arr = da.from_array(data, chunks=chunks)
        counted = arr.map_blocks(read, dtype=arr.dtype, meta=np.empty((0,) * arr.ndim, arr.dtype))
        return eels_classes()[1](counted), reads

    return make


@pytest.fixture(scope="session")
def fit_peak():
    """``peak(estimator, X) -> ratio``: traced peak memory of fitting
    ``estimator`` on a private copy of ``X`` (the lazy path's owned sample),
    the copy included, over ``X.nbytes``. The kernels are compiled first."""
    import tracemalloc

    from sklearn.base import clone

    def peak(estimator, X):
        clone(estimator).fit(X[:500])
        tracemalloc.start()
        try:
            sample = X.copy()
            tracemalloc.reset_peak()
            clone(estimator)._fit_owned(sample, owned=True)
            return tracemalloc.get_traced_memory()[1] / X.nbytes
        finally:
            tracemalloc.stop()

    return peak


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(12345)
