"""Clustering estimators used by ``cluster_analysis`` on latent codes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from hspy_unmix.clustering import GaussianMixtureClustering, KMeansClustering

#: Latent positions of three pure phases (the scale of AE codes).
VERTICES = np.array([[3.8, -10.6], [7.2, 5.0], [-12.9, 7.2]])


@pytest.fixture(scope="module")
def mixed_codes():
    """Codes of a chequerboard SI: a mixing continuum, 12.5 % pure pixels."""
    from hspy_unmix.synthetic import chequerboard_si

    _, truth = chequerboard_si(n_components=3, random_state=0)
    abundances = truth.flat_abundances
    rng = np.random.default_rng(0)
    codes = abundances @ VERTICES + rng.normal(0.0, 0.1, (abundances.shape[0], 2))
    pure = abundances.max(axis=1) > 0.99
    return codes, pure, abundances.argmax(axis=1)[pure]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gmm_default_recovers_phases_of_mixed_pixel_codes(mixed_codes, seed):
    codes, pure, labels_true = mixed_codes
    model = GaussianMixtureClustering(3, random_state=seed).fit(codes)
    assert adjusted_rand_score(labels_true, model.labels_[pure]) > 0.95
    # each mean sits near one phase
    distances = np.linalg.norm(model.cluster_centers_[:, None] - VERTICES[None], axis=2)
    assert sorted(distances.argmin(axis=1).tolist()) == [0, 1, 2]
    np.testing.assert_allclose(model.probabilities_.sum(axis=1), 1.0)


def test_gmm_full_covariance_merges_phases_on_a_continuum(mixed_codes):
    # why the default is "tied": per-component full covariances stretch
    # along the mixing lines, and more restarts do not help
    codes, pure, labels_true = mixed_codes
    full = GaussianMixtureClustering(3, covariance_type="full", n_init=10,
                                     random_state=0).fit(codes)
    assert adjusted_rand_score(labels_true, full.labels_[pure]) < 0.9


def test_gmm_seeded_and_predict_consistent(mixed_codes):
    codes, _, _ = mixed_codes
    first = GaussianMixtureClustering(3, random_state=5).fit(codes)
    second = GaussianMixtureClustering(3, random_state=5).fit(codes)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_array_equal(first.predict(codes), first.labels_)


def test_gmm_reg_covar_is_relative_to_feature_scale(mixed_codes):
    # codes scaled by 1e-4 cluster exactly as the originals
    codes, pure, labels_true = mixed_codes
    model = GaussianMixtureClustering(3, random_state=0).fit(codes * 1e-4)
    assert adjusted_rand_score(labels_true, model.labels_[pure]) > 0.95


def test_kmeans_recovers_phases(mixed_codes):
    codes, pure, labels_true = mixed_codes
    model = KMeansClustering(3, random_state=0).fit(codes)
    assert adjusted_rand_score(labels_true, model.labels_[pure]) > 0.95
    assert model.cluster_centers_.shape == (3, 2)


def test_bad_parameters():
    X = np.random.default_rng(0).random((20, 2))
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixtureClustering(2, covariance_type="round").fit(X)
    with pytest.raises(ValueError, match="init_params"):
        GaussianMixtureClustering(2, init_params="pca").fit(X)
    with pytest.raises(ValueError, match="reg_covar"):
        GaussianMixtureClustering(2, reg_covar=-1.0).fit(X)
    with pytest.raises(TypeError, match="n_clusters"):
        KMeansClustering(2.5).fit(X)
    with pytest.raises(ValueError, match="n_clusters"):
        GaussianMixtureClustering(30).fit(X)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KMeansClustering(2).fit(bad)
