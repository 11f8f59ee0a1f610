"""Tests of the numba kernels of the NMF family, compiled and as Python."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls

from hspy_unmix._nmf_kernels import (
    hals_rows_sweep,
    negative_mass,
    soft_orthogonal_hals_step,
)


def _compiled_and_python(kernel):
    return pytest.mark.parametrize(
        "impl", [kernel, kernel.py_func], ids=["compiled", "py_func"]
    )


def _problem(seed=0, n=60, c=25, k=3):
    rng = np.random.default_rng(seed)
    spectra = rng.random((c, k)) + 0.1
    maps = rng.random((n, k))
    X = maps @ spectra.T + 0.01 * rng.random((n, c))
    return X, maps, spectra


@pytest.mark.parametrize("kernel", [hals_rows_sweep, hals_rows_sweep.py_func])
def test_hals_rows_sweep_converges_to_nnls(kernel):
    X, _, spectra = _problem()
    cross = X @ spectra
    gram = spectra.T @ spectra
    factor = np.zeros((X.shape[0], spectra.shape[1]))
    for _ in range(300):
        change = kernel(factor, cross, gram)
    assert change < 1e-16
    expected = np.array([nnls(spectra, x)[0] for x in X])
    np.testing.assert_allclose(factor, expected, atol=1e-7)


@pytest.mark.parametrize("kernel", [hals_rows_sweep, hals_rows_sweep.py_func])
def test_hals_rows_sweep_matches_columnwise_formula(kernel):
    # Eq. 11: C_k = [X^(k) S_k]_+ / ||S_k||^2 column after column.
    X, maps, spectra = _problem(seed=1)
    expected = maps.copy()
    for k in range(maps.shape[1]):
        residual_k = X - expected @ spectra.T + np.outer(expected[:, k], spectra[:, k])
        expected[:, k] = np.maximum(residual_k @ spectra[:, k], 0) / (
            spectra[:, k] @ spectra[:, k]
        )
    factor = maps.copy()
    kernel(factor, X @ spectra, spectra.T @ spectra)
    np.testing.assert_allclose(factor, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel", [hals_rows_sweep, hals_rows_sweep.py_func])
def test_hals_rows_sweep_never_increases_cost_and_stays_non_negative(kernel):
    X, maps, spectra = _problem(seed=2)
    factor = maps * 3.0
    cost = [np.sum((X - factor @ spectra.T) ** 2)]
    for _ in range(5):
        kernel(factor, X @ spectra, spectra.T @ spectra)
        cost.append(np.sum((X - factor @ spectra.T) ** 2))
    assert np.all(np.diff(cost) <= 1e-9 * cost[0])
    assert factor.min() >= 0.0


@pytest.mark.parametrize("kernel", [hals_rows_sweep, hals_rows_sweep.py_func])
def test_hals_rows_sweep_zero_gram_column_gives_zero(kernel):
    X, maps, spectra = _problem(seed=3)
    spectra[:, 1] = 0.0
    factor = maps.copy()
    kernel(factor, X @ spectra, spectra.T @ spectra)
    assert np.all(factor[:, 1] == 0.0)
    assert np.all(np.isfinite(factor))


@pytest.mark.parametrize(
    "kernel", [soft_orthogonal_hals_step, soft_orthogonal_hals_step.py_func]
)
def test_soft_orthogonal_step_with_zero_weight_equals_hals(kernel):
    X, maps, spectra = _problem(seed=4)
    plain = maps.copy()
    hals_rows_sweep.py_func(plain, X @ spectra, spectra.T @ spectra)
    so = maps.copy()
    kernel(so, X @ spectra, spectra.T @ spectra, 0.0, np.zeros(3))
    np.testing.assert_allclose(so, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kernel", [soft_orthogonal_hals_step, soft_orthogonal_hals_step.py_func]
)
def test_soft_orthogonal_step_matches_projection_formula(kernel):
    # Eq. 13 solved for one column: y - w (c.y / c.c) c, clipped at zero.
    X, maps, spectra = _problem(seed=5)
    spectra /= np.linalg.norm(spectra, axis=0)
    w = 0.4
    expected = maps.copy()
    for k in range(3):
        residual_k = X - expected @ spectra.T + np.outer(expected[:, k], spectra[:, k])
        y = residual_k @ spectra[:, k]
        others = expected.sum(axis=1) - expected[:, k]
        expected[:, k] = np.maximum(y - w * (others @ y) / (others @ others) * others, 0)
    got = maps.copy()
    kernel(got, X @ spectra, spectra.T @ spectra, w, np.zeros(3))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "kernel", [soft_orthogonal_hals_step, soft_orthogonal_hals_step.py_func]
)
def test_full_orthogonal_weight_reduces_overlap(kernel):
    X, maps, spectra = _problem(seed=6)
    spectra /= np.linalg.norm(spectra, axis=0)

    def overlap(m):
        m = m / np.linalg.norm(m, axis=0)
        g = m.T @ m
        return g[np.triu_indices(3, 1)].sum()

    plain, ortho = maps.copy(), maps.copy()
    for _ in range(30):
        kernel(plain, X @ spectra, spectra.T @ spectra, 0.0, np.zeros(3))
        kernel(ortho, X @ spectra, spectra.T @ spectra, 1.0, np.zeros(3))
    assert overlap(ortho) < 0.5 * overlap(plain)


@pytest.mark.parametrize(
    "kernel", [soft_orthogonal_hals_step, soft_orthogonal_hals_step.py_func]
)
def test_shrinkage_is_subtracted_before_clipping(kernel):
    X, maps, spectra = _problem(seed=7)
    spectra /= np.linalg.norm(spectra, axis=0)
    base, shrunk = maps.copy(), maps.copy()
    kernel(base, X @ spectra, spectra.T @ spectra, 0.0, np.zeros(3))
    huge = np.array([0.0, 1e6, 0.0])
    kernel(shrunk, X @ spectra, spectra.T @ spectra, 0.0, huge)
    assert np.all(shrunk[:, 1] == 0.0)
    np.testing.assert_allclose(shrunk[:, 0], base[:, 0])


@pytest.mark.parametrize("kernel", [negative_mass, negative_mass.py_func])
def test_negative_mass(kernel):
    values = np.array([[1.0, -2.0], [-0.5, 3.0]])
    assert kernel(values) == pytest.approx(2.5)
    assert kernel(np.abs(values)) == 0.0
