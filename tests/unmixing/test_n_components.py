"""Tests of estimate_n_components (scree elbow and ARD count)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from hspy_unmix.components import NComponentsResult, estimate_n_components, scree_elbow
from hspy_unmix.synthetic import chequerboard_si


def test_scree_elbow_on_known_curve():
    curve = np.array([0.9, 0.05, 0.04, 1e-4, 9e-5, 8e-5, 7e-5, 6e-5])
    assert scree_elbow(curve) == 3


@pytest.mark.parametrize("k", [3, 4])
def test_scree_finds_true_number_on_signal(k):
    s, _ = chequerboard_si(n_components=k, shape=(32, 32), random_state=0)
    result = estimate_n_components(s, method="scree", max_components=10)
    assert result.scree_n_components == k
    assert result.explained_variance_ratio.shape == (10,)
    assert np.all(np.diff(result.explained_variance_ratio) <= 0)
    assert result.ard_n_components is None


@pytest.mark.slow
def test_ard_and_plot_on_array():
    s, _ = chequerboard_si(n_components=3, shape=(32, 32), averaging=1, counts=200,
                           random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1])[:, ::4]
    result = estimate_n_components(X, max_components=8, random_state=0)
    assert isinstance(result, NComponentsResult)
    assert result.ard_n_components == 3
    assert result.ard_relevances.shape == (8,)
    fig = result.plot()
    assert len(fig.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_bad_arguments():
    X = np.random.default_rng(0).random((50, 20))
    with pytest.raises(ValueError, match="method"):
        estimate_n_components(X, method="guess")
    with pytest.raises(ValueError, match="max_components"):
        estimate_n_components(X, max_components=30)
    with pytest.raises(TypeError, match="max_components"):
        estimate_n_components(X, max_components=2.5)
    with pytest.raises(ValueError, match="2-D"):
        estimate_n_components(X[0])
