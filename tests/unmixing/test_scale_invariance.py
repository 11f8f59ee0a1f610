"""Every registry algorithm: the data's units do not matter, degenerate data are
refused before any fit, and the abundances and endmembers reconstruct the data
in their own units.

Units. ``fit`` divides the spectra by a power of two near their root mean
square, so data that differ by a power of two reach the fit bit for bit the
same, and the results differ by that factor exactly. The reference data are
the chequerboard SI times ``c = 1e30 / 2**100`` (about 0.79: counts of order
2000); times ``2**100`` they are bit for bit the SI times ``1e30`` (scaling by
a power of two is exact, so ``round(x c) 2**100 == round(x 1e30)``), times
``2**-100`` the SI times ``1e30 * 2**-200``, about ``6e-31``. Without the
normalisation, absolute constants of the algorithms (floors, tolerances, the
``1e-300`` guards) act differently at 1e30 and at 1e-30, and products of two
spectra leave float64 at 1e200.

The neural estimators train for a few epochs only: the reconstruction bound
holds from the first epochs on, because the abundances are solved against the
network's endmembers in the data's units.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hspy_unmix._registry import ALGORITHMS, estimator_class
from hspy_unmix._validation import numerical_rank
from hspy_unmix.synthetic import chequerboard_si

NAMES = list(ALGORITHMS)

#: Short runs: the properties tested hold at any length of training.
_FAST = {
    "SSS_VCA": {"n_samples": 500},
    "MALS": {"n_starts": 1, "max_iter": 100},
    "HALS": {"n_starts": 1, "max_iter": 100},
    "NMF_SO": {"n_starts": 1, "max_iter": 100},
    "ARD_SO_NMF": {"max_iter": 200},
    "BLU": {"n_burn_in": 10, "n_samples": 20},
    "DAEU": {"epochs": 3, "warmup_epochs": 1},
    "MTAEU": {"epochs": 3},
    "CNNAEU": {"epochs": 3, "max_patches": 32},
    "UDAS": {"epochs": 3},
    "AE": {"epochs": 20},  # latent codes need more: 10 epochs, 2x VCA's error
}
_SHAPE = (32, 32)
_K = 3
#: Exactly 1e30 / 2**100: the reference data times 2**100 are the SI times 1e30.
_C = 1e30 / 2.0**100
_FACTORS = {"x1e30": 2.0**100, "x6e-31": 2.0**-100}


def _estimator(name: str, n_components: int = _K, **extra):
    cls = estimator_class(name)
    params = dict(_FAST.get(name, {}))
    defaults = cls().get_params()
    if "image_shape" in defaults:
        params["image_shape"] = _SHAPE
    if "show_progressbar" in defaults:
        params["show_progressbar"] = False
    params.update(extra)
    return cls(n_components=n_components, random_state=0, **params)


def _fit(name: str, X: np.ndarray):
    """Fitted estimator, training abundances, transform(X) and the warnings."""
    est = _estimator(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = est.fit_transform(X)
        abundances = est.transform(X)
    return est, fitted, abundances, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def counts():
    s, _ = chequerboard_si(n_components=_K, shape=_SHAPE, random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    return X * _C


@pytest.fixture(scope="module")
def reference(counts):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _fit(name, counts)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def vca_fcls_rmse(counts):
    est = estimator_class("VCA")(n_components=_K, random_state=0)
    abundances = est.fit_transform(counts)
    return float(np.sqrt(np.mean((abundances @ est.components_ - counts) ** 2)))


def test_reference_times_2_100_is_the_si_times_1e30():
    s, _ = chequerboard_si(n_components=_K, shape=_SHAPE, random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    np.testing.assert_array_equal((X * _C) * 2.0**100, X * 1e30)


# ------------------------------------------------------------------ units
@pytest.mark.parametrize("factor", list(_FACTORS.values()), ids=list(_FACTORS))
@pytest.mark.parametrize("name", NAMES)
def test_same_result_in_any_units(name, factor, counts, reference):
    ref, ref_fitted, ref_abundances, _ = reference(name)
    est, fitted, abundances, _ = _fit(name, counts * factor)
    assert np.isfinite(est.components_).all() and np.isfinite(abundances).all()
    # the same arithmetic on the same internal data: equal to the last bit
    # (scaling the endmembers back by a power of two is exact too)
    np.testing.assert_array_equal(est.components_, ref.components_ * factor)
    # abundances (sum to one by default) and AE's latent codes of standardised
    # spectra carry no units
    np.testing.assert_array_equal(abundances, ref_abundances)
    np.testing.assert_array_equal(fitted, ref_fitted)


def test_abundance_solve_beyond_float64_products():
    # X @ E.T of spectra of order 1e200 overflows float64 (1e400); the solver
    # scales the endmembers first, so the abundances are those of the counts
    from hspy_unmix.unmixing.abundances import fcls_abundances, nnls_abundances

    rng = np.random.default_rng(0)
    E = rng.random((3, 50)) + 0.1
    A = rng.dirichlet(np.ones(3), size=20)
    X = A @ E
    for solve in (fcls_abundances, nnls_abundances):
        expected = solve(X, E)
        np.testing.assert_allclose(expected, A, atol=1e-9)
        for factor in (2.0**660, 2.0**-660):  # about 1e199 and 1e-199
            np.testing.assert_array_equal(solve(X * factor, E * factor), expected)


# --------------------------------------------------------- degenerate data
def _degenerate_cases(X):
    first, second = X[0], X[1]
    t = np.linspace(0.0, 1.0, 64)[:, None]
    return {
        # identical spectra, and spectra proportional to one spectrum (a check
        # for repeated rows misses these), in units where rank tolerances that
        # are not relative would fail
        "identical": (np.tile(first, (64, 1)), _K, "rank 1"),
        "proportional": (first * (0.5 + t) * 1e-30, _K, "rank 1"),
        "two spectra": (t * first + (1.0 - t) * second, _K, "rank 2"),
        "K > channels": (X[:64, :2], _K, "larger than the number of channels"),
        "K = channels": (X[:64, :3], _K, "equals the number of channels"),
        "K > pixels": (X[:2], _K, "larger than the number of pixels"),
        "K = 0": (X, 0, "at least 1"),
        "K < 0": (X, -2, "at least 1"),
    }


_CASES = list(_degenerate_cases(np.ones((2, 4))))


@pytest.mark.parametrize("case", _CASES)
@pytest.mark.parametrize("name", NAMES)
def test_degenerate_data_refused_before_fitting(name, case, counts, monkeypatch):
    X, k, message = _degenerate_cases(counts)[case]
    if name == "ARD_SO_NMF" and case == "two spectra":
        pytest.skip("ARD prunes components: n_components is an upper bound")
    est = _estimator(name, n_components=k)

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit started on degenerate data")

    monkeypatch.setattr(type(est), "_fit", no_fit)
    with pytest.raises(ValueError, match=message):
        est.fit(X)


def test_ard_needs_only_two_independent_spectra(counts):
    # n_components is where ARD starts pruning, not a rank it needs
    t = np.linspace(0.0, 1.0, 64)[:, None]
    X = t * counts[0] + (1.0 - t) * counts[1]
    est = _estimator("ARD_SO_NMF", n_components=5, max_iter=50)
    est.fit(X)
    assert 1 <= est.n_components_ <= 5


def test_numerical_rank_of_exact_mixtures():
    # noise-free mixtures of K spectra have rank K exactly, in any units: the
    # tolerance (max(shape) * eps, relative) is far above float64 rounding
    s, truth = chequerboard_si(n_components=_K, shape=_SHAPE, random_state=0)
    clean = truth.clean.reshape(-1, truth.clean.shape[-1])
    for factor in (1.0, 1e-30, 1e30):
        assert numerical_rank(clean * factor, 6) == _K
    # the noisy SI: every channel carries noise, full rank up to the bound
    noisy = s.data.reshape(-1, s.data.shape[-1]).astype(float)
    assert numerical_rank(noisy, 6) == 6


# ---------------------------------------------------------- data units
def _reconstruction_rmse(est, abundances, counts) -> float:
    rebuilt = est.inverse_transform(abundances)
    if est._negative != "allow":
        # unmixing estimators: the reconstruction is transform(X) @ components_
        # (AE adds the channel means to its latent codes' spectra)
        np.testing.assert_array_equal(rebuilt, abundances @ est.components_)
    return float(np.sqrt(np.mean((rebuilt - counts) ** 2)))


@pytest.mark.parametrize("name", NAMES)
def test_reconstruction_in_data_units(name, counts, reference):
    # endmembers or abundances in other units reconstruct with an error of
    # the order of the data themselves (the networks did: 0.278 for 0.312)
    est, _, abundances, _ = reference(name)
    data_rms = float(np.sqrt(np.mean(counts**2)))
    assert _reconstruction_rmse(est, abundances, counts) < 0.05 * data_rms


# NMF_SO and ARD_SO_NMF pass only with their unpenalised polish
# (debias_iter): without it 1.54 and 1.56 x VCA + FCLS's RMSE here, with
# it 1.04 and 1.04 (measured).
@pytest.mark.parametrize("name", NAMES)
def test_reconstruction_as_good_as_vca_fcls(name, counts, reference, vca_fcls_rmse):
    est, _, abundances, _ = reference(name)
    rmse = _reconstruction_rmse(est, abundances, counts)
    assert rmse <= 1.5 * vca_fcls_rmse, (rmse, vca_fcls_rmse)


@pytest.mark.parametrize("name", NAMES)
def test_warnings_speak_about_the_data(name, reference):
    # the SI is non-negative and has no all-zero spectra: nothing to report
    _, _, _, messages = reference(name)
    assert not [m for m in messages if "negative" in m or "all-zero" in m], messages


def test_udas_does_not_report_its_denoised_spectra():
    # at 20 counts per pixel the denoised training targets dip below zero
    # (UDAS once warned "X contains 4 negative value(s)" here); the data do not
    s, _ = chequerboard_si(n_components=_K, shape=_SHAPE, counts=20.0, random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    assert X.min() >= 0
    est = _estimator("UDAS", epochs=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X)
    assert est.denoise(X).min() < 0
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "negative" in m], messages
