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


def test_a_signal_with_nan_or_inf_spectra_is_estimated_from_the_others():
    s, _ = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    holed = s.deepcopy()
    holed.data[0, 0, 5] = np.nan
    holed.data[7, 9] = np.inf
    with pytest.warns(UserWarning, match="2 of 1024 spectra hold NaN or infinite values: "
                                         "estimate_n_components left them out"):
        result = estimate_n_components(holed, method="scree", max_components=10)
    keep = np.ones(1024, dtype=bool)
    keep[[0, 7 * 32 + 9]] = False
    alone = estimate_n_components(s.data.reshape(1024, -1)[keep], method="scree",
                                  max_components=10)
    np.testing.assert_array_equal(result.explained_variance_ratio,
                                  alone.explained_variance_ratio)
    assert result.scree_n_components == 3
    with pytest.raises(ValueError, match="NaN or infinite"):  # arrays stay strict
        estimate_n_components(holed.data.reshape(1024, -1), method="scree")
    holed.data[...] = np.nan
    with pytest.raises(ValueError, match="every spectrum .* NaN or infinite"):
        estimate_n_components(holed, method="scree")
