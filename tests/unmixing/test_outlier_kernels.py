"""Kernels of the outlier screen, compiled and as plain Python (``py_func``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.ndimage import median_filter

from hspy_unmix.unmixing import _outlier_kernels as kernels


def _reference_residuals(X):
    """scipy's running median of 5 (clamped ends), in float32."""
    block = np.asarray(X, dtype=np.float32)
    return block - median_filter(block, size=(1, 5), mode="nearest")


@pytest.mark.parametrize("compiled", [True, False])
def test_median_of_five_is_the_median_of_every_order(compiled):
    median5 = kernels._median5 if compiled else kernels._median5.py_func
    for values in itertools.permutations([1.0, 2.0, 3.0, 4.0, 5.0]):
        assert median5(*values) == 3.0
    rng = np.random.default_rng(0)
    for values in rng.integers(0, 3, size=(200, 5)).astype(float):  # ties
        assert median5(*values) == np.median(values)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("channels", [5, 6, 7, 40])
def test_residuals_equal_scipys_running_median(compiled, channels):
    residuals = kernels.median5_residuals if compiled else kernels.median5_residuals.py_func
    rng = np.random.default_rng(channels)
    X = rng.poisson(50.0, size=(30, channels)).astype(np.float64)
    X[3, 0] += 1e4  # spikes at both ends and inside
    X[4, -1] += 1e4
    X[5, channels // 2] += 1e4
    rows = np.array([0, 3, 4, 5, 29])
    np.testing.assert_array_equal(residuals(X, rows), _reference_residuals(X)[rows])


@pytest.mark.parametrize("compiled", [True, False])
def test_largest_scaled_residual_is_the_vectorised_score(compiled):
    largest = (kernels.largest_scaled_residual if compiled
               else kernels.largest_scaled_residual.py_func)
    rng = np.random.default_rng(1)
    X = rng.poisson(200.0, size=(60, 25)).astype(np.float64)
    X[10, 12] += 5e3
    center = rng.normal(size=25).astype(np.float32)
    spread = rng.uniform(1.0, 3.0, size=25).astype(np.float32)
    expected = ((_reference_residuals(X) - center) / spread).max(axis=1)
    scores = largest(X, center, spread)
    np.testing.assert_array_equal(scores, expected.astype(np.float64))
    assert int(np.argmax(scores)) == 10
