import numpy as np
import pytest

from hspy_unmix.metrics import match_components, nmse, sad, spectral_angle, unmixing_scores


def test_spectral_angle_known_values():
    assert spectral_angle([1.0, 0.0], [0.0, 3.0]) == pytest.approx(np.pi / 2)
    assert spectral_angle([1.0, 1.0], [1.0, 0.0]) == pytest.approx(np.pi / 4)
    assert spectral_angle([2.0, 2.0], [5.0, 5.0]) == pytest.approx(0.0, abs=1e-7)


def test_matching_undoes_permutation_and_scale(rng):
    E = rng.random((4, 50))
    perm = np.array([2, 0, 3, 1])
    est = E[perm] * rng.uniform(0.5, 3.0, size=(4, 1))
    m = match_components(E, est)
    np.testing.assert_array_equal(perm[m], np.arange(4))
    np.testing.assert_allclose(sad(E, est), 0.0, atol=1e-7)
    assert sad(E, est, match=False).mean() > 0.1


def test_nmse_definition(rng):
    Z = rng.random((100, 3))
    Zh = Z.copy()
    Zh[:, 1] *= 1.1
    out = nmse(Z, Zh)
    np.testing.assert_allclose(out, [0.0, 0.01, 0.0], atol=1e-12)


def test_unmixing_scores_pairs_maps_with_spectra(rng):
    E = rng.random((3, 30))
    A = rng.dirichlet(np.ones(3), size=200)
    perm = [1, 2, 0]
    scores = unmixing_scores(E, A, E[perm], A[:, perm])
    assert scores["sad_mean"] == pytest.approx(0.0, abs=1e-7)
    assert scores["nmse_mean"] == pytest.approx(0.0, abs=1e-12)
    wrong = unmixing_scores(E, A, E[perm], A)
    assert wrong["nmse_mean"] > 0.1


def test_shape_errors():
    with pytest.raises(ValueError):
        sad(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError):
        match_components(np.ones((3, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError):
        nmse(np.ones((3, 2)), np.ones((3, 3)))
