"""Tests of VCA on the Brun et al. chequerboard spectrum images."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import hspy_unmix
from hspy_unmix.metrics.unmixing import sad, unmixing_scores
from hspy_unmix.minvol import MinVolume
from hspy_unmix.vca import VCA, estimate_snr, top_right_singular_vectors


def flat(signal):
    return signal.data.reshape(-1, signal.data.shape[-1])


@pytest.fixture(scope="module")
def chequerboard4_64():
    """The 4-component set on the 64 x 64 grid of Brun et al.: on the 32 x 32
    fixture one endmember never reaches abundance 1 (no pure pixel)."""
    from hspy_unmix.synthetic import chequerboard_si

    return chequerboard_si(n_components=4, random_state=1)


@pytest.mark.parametrize("which", ["three", "four"])
def test_vca_recovers_chequerboard(which, chequerboard3, chequerboard4_64):
    s, truth = chequerboard3 if which == "three" else chequerboard4_64
    K = truth.endmembers.shape[0]
    X = flat(s)
    vca = VCA(n_components=K, random_state=0)
    A = vca.fit_transform(X)
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances, vca.components_, A)
    assert scores["sad_mean"] < 0.01
    assert scores["nmse_mean"] < 0.005
    assert vca.components_.shape == (K, X.shape[1])
    assert vca.components_.min() >= 0
    np.testing.assert_allclose(A.sum(axis=1), 1.0, atol=1e-8)
    # Every selected pixel is (nearly) pure in the ground truth.
    assert truth.flat_abundances[vca.pure_pixel_indices_].max(axis=1).min() > 0.9
    assert sorted(scores["permutation"]) == list(range(K))
    assert 20 < vca.snr_estimate_ < 60


def test_vca_deterministic(chequerboard3):
    X = flat(chequerboard3[0])
    first = VCA(3, random_state=7).fit(X)
    second = VCA(3, random_state=7).fit(X)
    np.testing.assert_array_equal(first.components_, second.components_)
    np.testing.assert_array_equal(first.pure_pixel_indices_, second.pure_pixel_indices_)


def test_endmembers_do_not_move_with_the_seed(chequerboard3):
    """The subspace has a fixed seed and the pure pixels come in row order: where
    the searches of two seeds find the same pixels, the components are equal
    bit for bit and in the same order."""
    s, _ = chequerboard3
    X = s.data.reshape(-1, s.data.shape[-1])
    fits = [VCA(n_components=3, random_state=seed).fit(X) for seed in range(5)]
    for fit in fits:
        assert np.all(np.diff(fit.pure_pixel_indices_) > 0)
    same = [f for f in fits if set(f.pure_pixel_indices_) == set(fits[0].pure_pixel_indices_)]
    assert len(same) >= 3
    for fit in same[1:]:
        np.testing.assert_array_equal(fit.components_, same[0].components_)


@pytest.mark.parametrize("snr_input", [0.0, 100.0])
def test_both_projections(snr_input, chequerboard3):
    s, truth = chequerboard3
    vca = VCA(3, snr_input=snr_input, random_state=0)
    A = vca.fit_transform(flat(s))
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances, vca.components_, A)
    assert scores["sad_mean"] < 0.01


def test_nnls_solver(chequerboard3):
    s, truth = chequerboard3
    vca = VCA(3, random_state=0, abundance_solver="nnls")
    assert not vca._sum_to_one and VCA(3)._sum_to_one
    A = vca.fit_transform(flat(s))
    assert A.min() >= 0
    # Without the constraint, Poisson noise makes the sums wander around one.
    sums = A.sum(axis=1)
    assert np.abs(sums - 1).max() > 1e-4
    assert np.abs(sums.mean() - 1) < 0.02


def test_transform_matches_fit_transform(chequerboard3):
    X = flat(chequerboard3[0])
    vca = VCA(3, random_state=0)
    A = vca.fit_transform(X)
    np.testing.assert_allclose(vca.transform(X[:100]), A[:100], atol=1e-12)


def test_one_component():
    rng = np.random.default_rng(0)
    X = rng.random((50, 10)) + 1
    vca = VCA(1, random_state=0).fit(X)
    assert vca.components_.shape == (1, 10)
    np.testing.assert_allclose(vca.transform(X), 1.0)


@pytest.mark.parametrize(
    "params, X, error, match",
    [
        ({"n_components": 2, "abundance_solver": "lsq"}, None, ValueError, "abundance_solver"),
        ({"n_components": None}, None, ValueError, "n_components"),
        ({"n_components": 50}, None, ValueError, "larger"),
        ({"n_components": 2}, np.full((5, 4), np.nan), ValueError, "NaN"),
        ({"n_components": 2, "snr_input": np.nan}, None, ValueError, "snr_input"),
    ],
)
def test_bad_input(params, X, error, match):
    if X is None:
        X = np.random.default_rng(0).random((30, 8))
    with pytest.raises(error, match=match):
        VCA(**params).fit(X)


@pytest.mark.parametrize("estimator", [VCA, MinVolume])
def test_rank_deficient_data_reported(estimator):
    # Mixtures of two spectra: no third endmember to find (MinVolume starts
    # from VCA, so it reports the same).
    rng = np.random.default_rng(0)
    t = rng.random((200, 1))
    X = t * rng.random(30) + (1 - t) * rng.random(30) + 1.0
    with pytest.raises(ValueError, match="lower n_components"):
        estimator(3, random_state=0).fit(X)


def test_integer_input_not_modified(chequerboard3):
    X = np.round(flat(chequerboard3[0])).astype(np.uint32)
    before = X.copy()
    vca = VCA(3, random_state=0).fit(X)
    np.testing.assert_array_equal(X, before)
    assert vca.components_.dtype == np.float64


# ------------------------------------------------------------- helpers
def test_randomized_subspace_matches_svd():
    rng = np.random.default_rng(1)
    low_rank = rng.random((600, 4)) @ rng.random((4, 300))
    data = low_rank + 1e-3 * rng.standard_normal(low_rank.shape)
    basis, singular = top_right_singular_vectors(data, 4, rng)
    _, exact, vt = np.linalg.svd(data, full_matrices=False)
    np.testing.assert_allclose(singular, exact[:4], rtol=1e-6)
    # Same subspace: the projector onto it is the same.
    np.testing.assert_allclose(basis @ basis.T, vt[:4].T @ vt[:4], atol=1e-6)


def test_centred_rows_without_copy_equal_the_centred_sample():
    """The blockwise centred sample gives the products of the explicit one."""
    from hspy_unmix.unmixing.vca import CentredRows

    rng = np.random.default_rng(5)
    X = 1e3 * (rng.random((2500, 4)) @ rng.random((4, 40))) + rng.standard_normal((2500, 40))
    rows = np.sort(rng.choice(2500, 1777, replace=False))
    for subset in (None, rows):
        explicit = X if subset is None else X[subset]
        explicit = explicit - explicit.mean(axis=0)
        op = CentredRows(X, subset, block_rows=300)  # blocks that do not divide the rows
        M, Q = rng.standard_normal((40, 7)), rng.standard_normal((explicit.shape[0], 5))
        assert op.shape == explicit.shape
        np.testing.assert_allclose(np.asarray(op), explicit, rtol=0, atol=1e-9)
        np.testing.assert_allclose(op @ M, explicit @ M, rtol=1e-12, atol=1e-8)
        np.testing.assert_allclose(op.rmatmul_transposed(Q), explicit.T @ Q, rtol=1e-12,
                                   atol=1e-7)
        np.testing.assert_allclose(op.T @ Q, explicit.T @ Q, rtol=1e-12, atol=1e-7)
        np.testing.assert_allclose(Q.T @ op, Q.T @ explicit, rtol=1e-12, atol=1e-7)
        assert op.sum_of_squares() == pytest.approx(float((explicit**2).sum()), rel=1e-12)
        basis, singular = top_right_singular_vectors(op, 3, np.random.RandomState(0))
        _, ref_singular, vt = np.linalg.svd(explicit, full_matrices=False)
        np.testing.assert_allclose(singular, ref_singular[:3], rtol=1e-6)
        np.testing.assert_allclose(np.abs(basis.T @ vt[:3].T), np.eye(3), atol=1e-5)
    # X itself is never modified
    assert X.min() >= 0


def test_snr_estimate_follows_noise():
    rng = np.random.default_rng(2)
    clean = rng.dirichlet(np.ones(3), 2000) @ (rng.random((3, 100)) + 0.5)
    estimates = []
    for sigma in (0.1, 0.01):
        data = clean + sigma * rng.standard_normal(clean.shape)
        mean = data.mean(axis=0)
        singular = np.linalg.svd(data - mean, compute_uv=False)
        estimates.append(estimate_snr(data, singular, mean, 3))
    # Ten times less noise is 20 dB more SNR.
    assert abs(estimates[1] - estimates[0] - 20.0) < 2.0


# -------------------------------------------------------- through signals
def test_signal_decomposition_and_save(eels3, tmp_path):
    import hyperspy.api as hs

    s, truth = eels3
    data_before = s.data.copy()
    s.decomposition(algorithm="VCA", output_dimension=3, random_state=0)
    np.testing.assert_array_equal(s.data, data_before)
    lr = s.learning_results
    assert lr.factors.shape == (s.data.shape[-1], 3)
    assert lr.factors.min() >= 0
    np.testing.assert_allclose(lr.loadings.sum(axis=1), 1.0, atol=1e-8)
    assert sad(truth.endmembers, lr.factors.T).mean() < 0.01
    path = tmp_path / "vca.hspy"
    s.save(path)
    reloaded = hs.load(path)
    np.testing.assert_allclose(reloaded.learning_results.factors, lr.factors)
    np.testing.assert_allclose(reloaded.learning_results.loadings, lr.loadings)
    assert reloaded.learning_results.decomposition_algorithm == "VCA"


def test_lazy_close_to_eager(eels3):
    s, truth = eels3
    s.decomposition(algorithm="VCA", output_dimension=3, random_state=0)
    eager = s.learning_results.factors.T.copy()
    lazy = s.as_lazy()
    lazy.decomposition(algorithm="vca", output_dimension=3, random_state=0)
    factors = np.asarray(lazy.learning_results.factors).T
    assert factors.min() >= 0
    assert sad(eager, factors).mean() < 0.02
    loadings = np.asarray(lazy.learning_results.loadings)
    np.testing.assert_allclose(loadings.sum(axis=1), 1.0, atol=1e-8)


# ---------------------------------------------------------- scikit-learn
# The shared input validation (hspy_unmix._validation.check_spectra) words its
# errors for spectra, not in scikit-learn's exact phrases, and rejects some
# inputs scikit-learn converts; each entry says which.
_SPECTRA_WORDING = "error raised as documented, but not in scikit-learn's wording"
_EXPECTED_FAILED = {
    "check_n_features_in_after_fitting": _SPECTRA_WORDING + " ('X has 1 channels')",
    "check_estimators_empty_data_messages": _SPECTRA_WORDING + " ('X has no channels')",
    "check_fit2d_predict1d": _SPECTRA_WORDING + " ('X must be 2-D')",
    "check_complex_data": "complex spectra raise TypeError, not ValueError",
    "check_dtype_object": "object arrays raise TypeError instead of being converted",
    "check_estimator_sparse_tag": "sparse spectra are rejected without naming sparsity",
    "check_estimator_sparse_array": "sparse spectra are rejected without naming sparsity",
    "check_estimator_sparse_matrix": "sparse spectra are rejected without naming sparsity",
}


# n_components=1: some checks fit two channels, and n_components may not equal
# the number of channels
@parametrize_with_checks(
    [VCA(n_components=1, random_state=0)],
    expected_failed_checks=lambda est: _EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


FLOAT32_FITS = {
    "VCA": lambda: VCA(n_components=3, random_state=0),
    "MinVolume": lambda: MinVolume(n_components=3, random_state=0),
    "HALS": lambda: hspy_unmix.HALS(3, n_starts=2, max_iter=30, random_state=0),
    "NMF_SO": lambda: hspy_unmix.NMF_SO(3, n_starts=1, max_iter=30, random_state=0),
    "BLU": lambda: hspy_unmix.BLU(3, n_burn_in=3, n_samples=3, random_state=0),
}


@pytest.mark.parametrize("name", list(FLOAT32_FITS))
def test_float32_fit_equals_float64_without_a_float64_copy(name, chequerboard3, fit_peak,
                                                           monkeypatch):
    """A float32 sample is fitted as it is: the endmembers of its float64
    copy, and no float64 copy of the sample (traced peak, the sample
    included: 1.6-1.8x its size measured, 3.35x for VCA when the fit
    converted it). HALS and NMF_SO on their compression (the path of the
    large samples they get float32)."""
    from hspy_unmix.unmixing import hals

    monkeypatch.setattr(hals, "COMPRESS_ABOVE", 0)
    s, _ = chequerboard3
    X32 = np.ascontiguousarray(np.tile(s.data.reshape(-1, s.data.shape[-1]), (6, 1)),
                               dtype=np.float32)
    make = FLOAT32_FITS[name]
    assert make()._fits_float32
    ref = make().fit(X32.astype(np.float64))
    est = make()._fit_owned(X32.copy(), owned=True)
    np.testing.assert_allclose(est.components_, ref.components_, rtol=1e-9,
                               atol=1e-9 * np.abs(ref.components_).max())
    assert fit_peak(make(), X32) < 2.5


@pytest.mark.parametrize("name", list(FLOAT32_FITS))
def test_float32_transform_equals_float64_without_a_float64_copy(name, chequerboard3):
    """A float32 chunk is solved as it is: the abundances of its float64 copy
    (the conversion is exact, the products float64 in batches of rows), and
    the traced peak stays below the float64 copy the transform once made
    (2x the chunk)."""
    import tracemalloc

    s, _ = chequerboard3
    X32 = np.ascontiguousarray(np.tile(s.data.reshape(-1, s.data.shape[-1]), (6, 1)),
                               dtype=np.float32)
    est = FLOAT32_FITS[name]().fit(X32[:2000].astype(np.float64))
    ref = est.transform(X32.astype(np.float64))
    got = est.transform(X32[:10])  # compiled before the trace
    tracemalloc.start()
    try:
        got = est.transform(X32)
        peak = tracemalloc.get_traced_memory()[1] / X32.nbytes
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    assert peak < 1.5, peak


def test_lazy_decomposition_samples_float32_for_vca_float64_for_others(eels3):
    """The lazy sample keeps float32 data float32 for VCA (half the memory),
    float64 for an estimator whose fit needs it (MALS)."""
    import hspy_unmix

    s, _ = eels3
    lazy = s.as_lazy()
    lazy.change_dtype("float32")
    seen = []
    for est in (VCA(n_components=3, random_state=0), hspy_unmix.MALS(n_components=3, random_state=0, n_starts=1)):
        original = est._fit_owned

        def spy(X, owned=True, original=original):
            seen.append(X.dtype)
            return original(X, owned)

        est._fit_owned = spy
        lazy.decomposition(algorithm=est, output_dimension=3, print_info=False)
    assert seen == [np.float32, np.float64]
