"""Tests of the minimum-volume simplex on chequerboards with and without pure pixels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

# same input validation as VCA, so the same documented deviations
from test_vca import _EXPECTED_FAILED as VCA_EXPECTED_FAILED

from hspy_unmix.metrics.unmixing import sad, unmixing_scores
from hspy_unmix.minvol import MinVolume
from hspy_unmix.vca import VCA


def flat(signal):
    return signal.data.reshape(-1, signal.data.shape[-1])


@pytest.fixture(scope="module")
def impure3():
    """One component (C) never exceeds 0.6: no pure pixel for it."""
    from hspy_unmix.synthetic import chequerboard_si

    return chequerboard_si(n_components=3, impure_components={2: 0.6}, random_state=0)


def _fit_both(signal, truth):
    """Scores of VCA and of MinVolume (seed 0), the fitted MinVolume and its abundances."""
    X = flat(signal)
    results = []
    for estimator in (VCA(3, random_state=0), MinVolume(3, random_state=0)):
        A = estimator.fit_transform(X)
        results.append(unmixing_scores(truth.endmembers, truth.flat_abundances,
                                       estimator.components_, A))
    return results[0], results[1], estimator, A


def test_recovers_missing_vertex(impure3):
    vca, scores, mv, A = _fit_both(*impure3)
    # VCA takes a facet pixel (0.6 C + 0.4 Co) for C: SAD about 0.17 on it.
    assert vca["sad"].max() > 0.15 and vca["nmse_mean"] > 0.1
    assert scores["sad"].max() < 0.02
    assert scores["sad_mean"] < 0.01
    assert scores["nmse_mean"] < 0.005
    assert A.min() >= 0
    np.testing.assert_allclose(A.sum(axis=1), 1.0, atol=1e-8)
    assert mv.components_.min() >= 0
    # The simplex grew to reach the missing vertex.
    assert mv.volume_ratio_ > 1.3
    np.testing.assert_array_equal(mv.vca_components_.shape, mv.components_.shape)


def test_agrees_with_vca_when_pure_pixels_exist(chequerboard3):
    vca, scores, mv, _ = _fit_both(*chequerboard3)
    assert scores["sad_mean"] < 0.005
    assert scores["sad_mean"] <= 1.2 * vca["sad_mean"]
    assert scores["nmse_mean"] < 0.002
    assert 0.9 < mv.volume_ratio_ < 1.1


def test_penalty_sets_how_much_noise_is_enclosed(impure3):
    X = flat(impure3[0])
    tight = MinVolume(3, penalty=1.0, random_state=0).fit(X)
    loose = MinVolume(3, penalty=300.0, random_state=0).fit(X)
    # A weak penalty leaves noisy pixels outside: a smaller simplex.
    assert tight.volume_ratio_ < loose.volume_ratio_


def test_scale_free(impure3):
    """The penalty is measured in noise units: scaling the data (counts to
    electrons, say) scales the endmembers and leaves the fit as good."""
    s, truth = impure3
    X = flat(s)
    first = MinVolume(3, random_state=0).fit(X)
    second = MinVolume(3, random_state=0).fit(10.0 * X)
    from hspy_unmix.metrics.unmixing import match_components

    order = match_components(first.components_, second.components_)
    assert sad(first.components_, second.components_[order], match=False).max() < 0.01
    ratio = second.components_[order].sum(axis=1) / first.components_.sum(axis=1)
    np.testing.assert_allclose(ratio, 10.0, rtol=0.05)
    assert sad(truth.endmembers, second.components_).mean() < 0.01


def test_deterministic_and_input_untouched(impure3):
    X = np.round(flat(impure3[0])).astype(np.uint32)
    before = X.copy()
    first = MinVolume(3, random_state=3).fit(X)
    second = MinVolume(3, random_state=3).fit(X)
    np.testing.assert_array_equal(first.components_, second.components_)
    np.testing.assert_array_equal(X, before)


def test_transform_matches_fit_transform(impure3):
    X = flat(impure3[0])
    mv = MinVolume(3, random_state=0)
    A = mv.fit_transform(X)
    np.testing.assert_allclose(mv.transform(X[:100]), A[:100], atol=1e-10)


def test_save_load_round_trip(impure3, tmp_path):
    import hspy_unmix

    X = flat(impure3[0])
    mv = MinVolume(3, random_state=0).fit(X)
    mv.save(tmp_path / "minvol.zip")
    loaded = hspy_unmix.load_estimator(tmp_path / "minvol.zip")
    assert isinstance(loaded, MinVolume) and loaded.penalty == mv.penalty
    np.testing.assert_array_equal(loaded.components_, mv.components_)
    assert loaded.volume_ratio_ == mv.volume_ratio_
    np.testing.assert_array_equal(loaded.transform(X[:50]), mv.transform(X[:50]))


def test_one_component():
    X = np.random.default_rng(0).random((50, 10)) + 1
    mv = MinVolume(1, random_state=0).fit(X)
    assert mv.components_.shape == (1, 10)
    np.testing.assert_allclose(mv.transform(X), 1.0)


def test_max_iter_warning(impure3):
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        MinVolume(3, max_iter=2, random_state=0).fit(flat(impure3[0]))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"penalty": 0}, "penalty"),
        ({"penalty": np.nan}, "penalty"),
        ({"penalty": True}, "penalty"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"abundance_solver": "lsq"}, "abundance_solver"),
    ],
)
def test_bad_parameters(params, match):
    X = np.random.default_rng(0).random((30, 8))
    with pytest.raises(ValueError, match=match):
        MinVolume(2, **params).fit(X)


def test_signal_decomposition_and_save(impure3, tmp_path):
    import hyperspy.api as hs

    s, truth = impure3
    s = s.deepcopy()
    before = s.data.copy()
    s.decomposition(algorithm="MinVolume", output_dimension=3, random_state=0)
    np.testing.assert_array_equal(s.data, before)
    lr = s.learning_results
    assert lr.factors.shape == (s.data.shape[-1], 3)
    np.testing.assert_allclose(lr.loadings.sum(axis=1), 1.0, atol=1e-8)
    assert sad(truth.endmembers, lr.factors.T).mean() < 0.01
    path = tmp_path / "minvol.hspy"
    s.save(path)
    reloaded = hs.load(path)
    np.testing.assert_allclose(reloaded.learning_results.factors, lr.factors)
    assert reloaded.learning_results.decomposition_algorithm == "MINVOLUME"


def test_lazy_close_to_eager(impure3):
    s, truth = impure3
    lazy = s.as_lazy()
    lazy.decomposition(algorithm="minvolume", output_dimension=3, random_state=0)
    factors = np.asarray(lazy.learning_results.factors).T
    assert sad(truth.endmembers, factors).mean() < 0.01


@parametrize_with_checks(
    [MinVolume(n_components=1, random_state=0)],
    # n_components=1 (the checks' data have too few channels for more): one
    # endmember is a point, nothing is iterated (n_iter_ = 0)
    expected_failed_checks=lambda est: {
        **VCA_EXPECTED_FAILED, "check_transformer_n_iter": "one endmember: no iterations",
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
