"""HyperSpy's own decomposition algorithms on an EELS signal are HyperSpy's.

With ``import hspy_unmix`` active, ``EELSSpectrum.decomposition`` is a wrapper
that only takes over the package's algorithm names. Every one of HyperSpy's
names (and a scikit-learn estimator object) must reach HyperSpy untouched: the
results equal those of a plain ``Signal1D`` holding the same data, bit for bit,
eager and lazy, with the same random_state.
"""

from __future__ import annotations

import numpy as np
import pytest
import hyperspy.api as hs
from sklearn.decomposition import PCA

import exspy
import hspy_unmix  # noqa: F401  (activates the EELS methods)
from hspy_unmix._registry import HYPERSPY_ALGORITHMS
from hspy_unmix.synthetic import chequerboard_si

K = 3

#: HyperSpy 2.5's eager algorithms with parameters that keep each under a
#: second on 64 spectra of 80 channels.
EAGER_CASES = [
    ("SVD", {}),
    ("SVD", {"svd_solver": "randomized", "random_state": 0}),
    ("SVD", {"centre": "signal"}),
    ("SVD", {"normalize_poissonian_noise": True}),
    ("MLPCA", {}),
    ("sklearn_pca", {"random_state": 0}),
    ("NMF", {"random_state": 0, "max_iter": 200}),
    ("sparse_pca", {"random_state": 0, "max_iter": 20}),
    ("mini_batch_sparse_pca", {"random_state": 0, "max_iter": 5}),
    ("RPCA", {"random_state": 0, "maxiter": 20}),
    ("ORPCA", {"random_state": 0}),
    ("ORNMF", {"random_state": 0}),
]

#: HyperSpy 2.5's lazy algorithms. Its lazy randomized SVD (the lazy default)
#: takes no seed, so two runs of plain HyperSpy already differ; the full and
#: incremental solvers are deterministic.
LAZY_CASES = [
    ("SVD", {"svd_solver": "full"}),
    ("SVD", {"svd_solver": "incremental"}),
    ("PCA", {}),
    ("NMF", {"random_state": 0, "max_iter": 50}),
    ("ORPCA", {"random_state": 0}),
    ("ORNMF", {"random_state": 0}),
]


def _case_id(case):
    name, kwargs = case
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.fixture(scope="module")
def pair():
    """An EELS spectrum image and a plain Signal1D with the same data and axes.

    Scaled to a maximum of 1: HyperSpy's ORNMF projection converges in a few
    steps at that scale and takes minutes at raw counts.
    """
    s, _ = chequerboard_si(n_components=K, shape=(8, 8), block=4, averaging=3, random_state=0)
    s = s.isig[:80]
    s.data = s.data / s.data.max()
    plain = hs.signals.Signal1D(
        s.data.copy(), axes=[ax.get_axis_dictionary() for ax in s.axes_manager._axes]
    )
    assert isinstance(s, exspy.signals.EELSSpectrum)
    assert type(plain) is hs.signals.Signal1D
    assert getattr(type(s).decomposition, "_hspy_unmix", False), "wrapper not installed"
    return s, plain


def _lazy(signal, chunks=(3, 5, 80)):
    out = signal.as_lazy()
    out.data = out.data.rechunk(chunks)
    return out


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, (str, bool, int, float, np.generic)):
        return type(a) is type(b) and (a == b or (a != a and b != b))
    if hasattr(a, "shape") and hasattr(a, "dtype") or isinstance(a, (list, tuple)):
        a, b = np.asarray(a), np.asarray(b)  # numpy or dask
        # HyperSpy writes NaN where a mask left pixels or channels out
        return np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.inexact))
    return type(a) is type(b)  # an estimator object HyperSpy keeps: same kind


def assert_same_learning_results(wrapped, plain):
    a, b = wrapped.learning_results.__dict__, plain.learning_results.__dict__
    assert a.keys() == b.keys()
    differ = [key for key in a if not _same(a[key], b[key])]
    assert not differ, f"learning_results differ in {differ}"
    assert wrapped.learning_results.factors is not None


def test_every_hyperspy_name_is_covered():
    eager = {name.upper() for name, _ in EAGER_CASES}
    assert set(HYPERSPY_ALGORITHMS) <= eager


@pytest.mark.parametrize("case", EAGER_CASES, ids=_case_id)
def test_eager_hyperspy_algorithm_equals_plain_signal1d(pair, case):
    name, kwargs = case
    s, plain = pair
    wrapped, reference = s.deepcopy(), plain.deepcopy()
    wrapped.decomposition(algorithm=name, output_dimension=K, print_info=False, **kwargs)
    reference.decomposition(algorithm=name, output_dimension=K, print_info=False, **kwargs)
    assert_same_learning_results(wrapped, reference)
    assert not hasattr(wrapped, "unmixing_estimator")
    # HyperSpy undoes its centring and noise scaling arithmetically, so the data
    # may change in the last bit: the same last bit as plain HyperSpy's
    assert np.array_equal(wrapped.data, reference.data)


@pytest.mark.parametrize("case", LAZY_CASES, ids=_case_id)
def test_lazy_hyperspy_algorithm_equals_plain_signal1d(pair, case):
    name, kwargs = case
    s, plain = pair
    wrapped, reference = _lazy(s), _lazy(plain)
    assert isinstance(wrapped, exspy.signals.LazyEELSSpectrum)
    with pytest.warns() if kwargs.get("svd_solver") == "full" else _no_context():
        wrapped.decomposition(algorithm=name, output_dimension=K, print_info=False, **kwargs)
    with pytest.warns() if kwargs.get("svd_solver") == "full" else _no_context():
        reference.decomposition(algorithm=name, output_dimension=K, print_info=False, **kwargs)
    assert_same_learning_results(wrapped, reference)


class _no_context:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_masks_and_return_info_equal_plain_signal1d(pair):
    s, plain = pair
    nav_mask = np.zeros(s.axes_manager.navigation_shape[::-1], dtype=bool)
    nav_mask[2, 3] = nav_mask[5, 0] = True
    sig_mask = np.zeros(s.axes_manager.signal_size, dtype=bool)
    sig_mask[:7] = True
    returned = []
    for signal in (s.deepcopy(), plain.deepcopy()):
        returned.append(signal.decomposition(
            algorithm="RPCA", output_dimension=K, navigation_mask=nav_mask,
            signal_mask=sig_mask, return_info=True, print_info=False,
            random_state=0, maxiter=20,
        ))
        returned.append(signal)
    (info_a, wrapped), (info_b, reference) = returned[:2], returned[2:]
    assert_same_learning_results(wrapped, reference)
    assert len(info_a) == len(info_b) == 2  # the low-rank and sparse parts
    assert all(np.array_equal(x, y) for x, y in zip(info_a, info_b))


def test_sklearn_estimator_object_equals_plain_signal1d(pair):
    s, plain = pair
    wrapped, reference = s.deepcopy(), plain.deepcopy()
    est_a = wrapped.decomposition(
        algorithm=PCA(n_components=K, svd_solver="randomized", random_state=0),
        output_dimension=K, return_info=True, print_info=False)
    est_b = reference.decomposition(
        algorithm=PCA(n_components=K, svd_solver="randomized", random_state=0),
        output_dimension=K, return_info=True, print_info=False)
    assert_same_learning_results(wrapped, reference)
    assert type(est_a) is PCA and np.array_equal(est_a.components_, est_b.components_)


def test_blind_source_separation_and_model_equal_plain_signal1d(pair):
    s, plain = pair
    wrapped, reference = s.deepcopy(), plain.deepcopy()
    for signal in (wrapped, reference):
        signal.decomposition(algorithm="SVD", output_dimension=K, print_info=False)
        signal.blind_source_separation(K, algorithm="orthomax", print_info=False)
    assert_same_learning_results(wrapped, reference)
    assert np.array_equal(wrapped.get_decomposition_model(K).data,
                          reference.get_decomposition_model(K).data)


@pytest.mark.parametrize("case", [
    ("svd", "float64"),  # HyperSpy's names are case-sensitive; ours are not
    ("SVD", "uint16"),  # HyperSpy refuses integer data for its own algorithms
], ids=["lower-case-name", "integer-data"])
def test_hyperspy_errors_are_hyperspy_errors(pair, case):
    name, dtype = case
    s, plain = pair
    errors = []
    for signal in (s.deepcopy(), plain.deepcopy()):
        signal.data = (signal.data * 1000).astype(dtype)
        with pytest.raises(Exception) as info:
            signal.decomposition(algorithm=name, output_dimension=K, print_info=False)
        errors.append((type(info.value), str(info.value)))
        assert signal.learning_results.factors is None
    assert errors[0] == errors[1]
