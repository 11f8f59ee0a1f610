"""Tests of the FCLS and NNLS abundance solvers and their numba kernels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import nnls

from hspy_unmix import _abundance_kernels as kernels
from hspy_unmix.abundances import fcls_abundances, nnls_abundances


# ------------------------------------------------------------ references
def exact_constrained_ls(x, E, sum_to_one):
    """Brute force over supports: the optimum of a convex QP is the best
    feasible stationary point of some support (exact for small K)."""
    K = E.shape[0]
    best, best_value = None, np.inf
    for size in range(1, K + 1):
        for support in itertools.combinations(range(K), size):
            Es = E[list(support)]
            if sum_to_one:
                # a = e_first + N z keeps sum(a) = 1; least squares on the
                # design matrix itself (not the normal equations) for accuracy.
                first = Es[0]
                design = (Es[1:] - first).T
                z = np.linalg.lstsq(design, x - first, rcond=None)[0]
                sol = np.concatenate([[1.0 - z.sum()], z])
            else:
                sol = np.linalg.lstsq(Es.T, x, rcond=None)[0]
            if np.any(sol < -1e-9 * np.abs(sol).max()):
                continue
            a = np.zeros(K)
            a[list(support)] = np.maximum(sol, 0)
            if sum_to_one:
                a /= a.sum()
            value = objective(x, E, a)
            if value < best_value:
                best, best_value = a, value
    if not sum_to_one and objective(x, E, np.zeros(K)) < best_value:
        best = np.zeros(K)
    return best


def objective(x, E, a):
    return 0.5 * float(np.sum((x - a @ E) ** 2))


def eels_like_endmembers(n_channels=400, spread=0.005, seed=0):
    """Power-law backgrounds with close exponents plus weak edges: nearly
    collinear, as real core-loss endmembers are."""
    rng = np.random.default_rng(seed)
    energy = np.linspace(300, 900, n_channels)
    rows = []
    for k, onset in enumerate((400, 530, 640, 710)):
        r = 3.0 + spread * k
        background = 1e4 * (energy / 300) ** -r
        edge = 0.002 * background[0] * (energy > onset) * (energy / onset) ** -2
        rows.append(background + edge * rng.uniform(0.5, 1.5))
    return np.array(rows)


def mixed_pixels(E, n_pixels, seed, outside=0.3, noise=0.01):
    """Mixtures (some with negative or > 1 weights, i.e. outside the
    simplex, so that constraints are active) plus relative noise."""
    rng = np.random.default_rng(seed)
    K = E.shape[0]
    weights = rng.dirichlet(np.ones(K), n_pixels)
    weights += outside * rng.standard_normal((n_pixels, K))
    X = weights @ E
    return X + noise * np.abs(X).mean() * rng.standard_normal(X.shape)


# ----------------------------------------------------------- FCLS / NNLS
@pytest.mark.parametrize("case", ["random", "eels_like", "duplicated"])
def test_fcls_constraints_and_optimality(case):
    rng = np.random.default_rng(1)
    if case == "random":
        E = rng.random((4, 60))
    elif case == "eels_like":
        E = eels_like_endmembers()
        assert np.linalg.cond(E @ E.T) > 1e6  # the test is about ill-conditioning
    else:
        E = rng.random((3, 40))
        E = np.vstack([E, E[1]])  # exactly singular Gram matrix
    X = mixed_pixels(E, 200, seed=2)
    A = fcls_abundances(X, E)
    assert A.shape == (200, 4) and A.dtype == np.float64
    assert A.min() >= 0.0
    np.testing.assert_allclose(A.sum(axis=1), 1.0, atol=1e-8)
    for x, a in zip(X[:60], A[:60]):
        reference = exact_constrained_ls(x, E, sum_to_one=True)
        f_ref, f_ours = objective(x, E, reference), objective(x, E, a)
        assert f_ours <= f_ref + 1e-8 * (1.0 + f_ref)
        if case == "random":
            np.testing.assert_allclose(a, reference, atol=1e-8)


def test_fcls_recovers_exact_mixtures():
    E = eels_like_endmembers(spread=0.1)
    truth = np.random.default_rng(3).dirichlet(np.ones(4), 100)
    np.testing.assert_allclose(fcls_abundances(truth @ E, E), truth, atol=1e-6)


@pytest.mark.parametrize("case", ["random", "eels_like"])
def test_nnls_matches_scipy(case):
    rng = np.random.default_rng(4)
    E = rng.random((5, 80)) if case == "random" else eels_like_endmembers(spread=0.1)
    X = mixed_pixels(E, 150, seed=5, outside=0.5)
    A = nnls_abundances(X, E)
    assert A.min() >= 0.0
    n_active = 0
    for x, a in zip(X, A):
        reference = nnls(E.T, x)[0]
        n_active += int(np.any(reference == 0))
        f_ref, f_ours = objective(x, E, reference), objective(x, E, a)
        assert f_ours <= f_ref + 1e-9 * (1.0 + f_ref)
        if case == "random":
            np.testing.assert_allclose(a, reference, atol=1e-8)
    assert n_active > 10  # the constraints were really exercised
    # No sum constraint: sums differ from one where the data say so.
    assert np.abs(A.sum(axis=1) - 1).max() > 0.1


def test_nnls_vs_exact_reference_and_zero_solution():
    E = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    X = np.array([[-1.0, -2.0, 5.0], [3.0, -1.0, 0.0], [0.5, 0.25, 9.0]])
    expected = np.array([[0.0, 0.0], [3.0, 0.0], [0.5, 0.25]])
    np.testing.assert_allclose(nnls_abundances(X, E), expected, atol=1e-14)
    # FCLS of the same pixels: closest point of the segment between e1 and e2.
    np.testing.assert_allclose(
        fcls_abundances(X, E), [[1.0, 0.0], [1.0, 0.0], [0.625, 0.375]], atol=1e-12
    )


def test_single_endmember():
    E = np.array([[1.0, 2.0, 3.0]])
    X = np.array([[2.0, 4.0, 6.0], [-1.0, -2.0, -3.0]])
    np.testing.assert_allclose(fcls_abundances(X, E), [[1.0], [1.0]])
    np.testing.assert_allclose(nnls_abundances(X, E), [[2.0], [0.0]])


def test_integer_input_and_no_modification():
    rng = np.random.default_rng(6)
    E = rng.integers(1, 50, (3, 30)).astype(np.uint16)
    X = rng.integers(0, 200, (40, 30)).astype(np.uint16)
    X_before, E_before = X.copy(), E.copy()
    A_int = fcls_abundances(X, E)
    A_float = fcls_abundances(X.astype(float), E.astype(float))
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(E, E_before)
    np.testing.assert_allclose(A_int, A_float)
    Xf = X.astype(np.float64)
    Xf_before = Xf.copy()
    nnls_abundances(Xf, E)
    np.testing.assert_array_equal(Xf, Xf_before)


def test_max_iter_reached_warns():
    E = np.eye(4, 6)
    X = np.array([[1.0, -1.0, -1.0, -1.0, 0.0, 0.0]])
    with pytest.warns(UserWarning, match="max_iter"):
        A = nnls_abundances(X, E, max_iter=1)
    assert A.min() >= 0


@pytest.mark.parametrize(
    "X, E, error, match",
    [
        (np.array([[1.0, np.nan]]), np.eye(2), ValueError, "NaN"),
        (np.ones((2, 2)), np.array([[1.0, np.inf], [0, 1]]), ValueError, "finite"),
        (np.ones(3), np.ones((1, 3)), ValueError, "2-D"),
        (np.ones((2, 3)), np.ones(3), ValueError, "2-D"),
        (np.ones((2, 3)), np.ones((2, 4)), ValueError, "channels"),
        (np.ones((2, 2)), np.ones((3, 2)), ValueError, "more endmembers"),
        (np.ones((2, 3)), np.array([[1.0, 1, 1], [0, 0, 0]]), ValueError, "all zero"),
        (np.array([["a", "b"]]), np.eye(2), TypeError, "numbers"),
    ],
)
@pytest.mark.parametrize("solver", [fcls_abundances, nnls_abundances])
def test_bad_input(solver, X, E, error, match):
    with pytest.raises(error, match=match):
        solver(X, E)


@pytest.mark.parametrize("options, error", [
    ({"max_iter": 0}, ValueError),
    ({"max_iter": 2.5}, TypeError),
    ({"tol": -1.0}, ValueError),
    ({"tol": np.nan}, ValueError),
])
def test_bad_options(options, error):
    with pytest.raises(error):
        fcls_abundances(np.ones((2, 3)), np.ones((1, 3)), **options)


# ----------------------------------------------------------------- kernels
def _small_problem(sum_to_one, seed=7):
    rng = np.random.default_rng(seed)
    E = rng.random((3, 12))
    X = mixed_pixels(E, 9, seed=seed, outside=0.6)
    norms = np.linalg.norm(E, axis=1)
    G = (E @ E.T) / np.outer(norms, norms)
    B = (X @ E.T) / norms
    return X, E, G, B, 1.0 / norms, norms


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("sum_to_one", [True, False])
def test_kernels_compiled_and_python(compiled, sum_to_one):
    X, E, G, B, c, norms = _small_problem(sum_to_one)
    chunks = kernels.solve_qp_chunks if compiled else kernels.solve_qp_chunks.py_func
    pixel = kernels.solve_qp_pixel if compiled else kernels.solve_qp_pixel.py_func
    out = np.empty_like(B)
    n_iter = np.empty(len(B), dtype=np.int64)
    chunks(G, B, c, sum_to_one, 50, 1e-12, out, n_iter)
    assert (n_iter > 0).all()
    one = np.empty(3)
    pixel(G, B[0], c, sum_to_one, 50, 1e-12, one, np.empty(3, dtype=np.int64),
          np.zeros((3, 3)), np.empty((5, 3)))
    np.testing.assert_allclose(one, out[0])
    for x, u in zip(X, out):
        a = np.maximum(u / norms, 0)
        reference = exact_constrained_ls(x, E, sum_to_one)
        np.testing.assert_allclose(a, reference, atol=1e-9)


@pytest.mark.parametrize("compiled", [True, False])
def test_cholesky_kernels(compiled):
    factor = kernels.cholesky_subset if compiled else kernels.cholesky_subset.py_func
    solve = kernels.cholesky_solve if compiled else kernels.cholesky_solve.py_func
    rng = np.random.default_rng(8)
    M = rng.random((5, 5))
    G = M @ M.T + 5 * np.eye(5)
    idx = np.array([4, 1, 3, 0, 2])
    L = np.zeros((5, 5))
    assert factor(G, idx, 3, L)
    sub = G[np.ix_(idx[:3], idx[:3])]
    np.testing.assert_allclose(L[:3, :3] @ L[:3, :3].T, sub, atol=1e-12)
    rhs = rng.random(5)
    out = np.zeros(5)
    solve(L, 3, rhs, out)
    np.testing.assert_allclose(out[:3], np.linalg.solve(sub, rhs[:3]))
    assert not factor(-np.eye(5), idx, 2, L)


def test_solve_products_equals_the_solvers_and_skips_dead_endmembers():
    """From ``B = X @ (E / scale).T / scale`` and ``E / scale`` alone: the abundances of the
    solvers (scipy's NNLS as reference), float32 X as its float64 copy, data
    scaled by 2**200 solved in the same numbers, a zero endmember at zero."""
    from hspy_unmix.unmixing._scale import data_scale
    from hspy_unmix.unmixing.abundances import solve_products, solve_validated

    rng = np.random.default_rng(3)
    E = rng.uniform(0.0, 1.0, (3, 40))
    X = (rng.dirichlet(np.ones(3), 25) @ E + 0.05 * rng.standard_normal((25, 40)))
    for factor in (1.0, 2.0 ** 200):
        Ef = E * factor
        scale = data_scale(Ef)
        B = X @ (Ef / scale).T * (factor / scale)
        A = solve_products(B, Ef / scale, False)
        ref = np.array([nnls(Ef.T, x * factor)[0] for x in X])
        np.testing.assert_allclose(A, ref, rtol=1e-8, atol=1e-10 / factor)
        np.testing.assert_allclose(solve_products(B, Ef / scale, True),
                                   fcls_abundances(X * factor, Ef), rtol=1e-9, atol=1e-12)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(solve_validated(X32, E, False),
                                  solve_validated(X32.astype(np.float64), E, False))
    dead = np.vstack([E[:1], np.zeros((1, 40)), E[1:]])
    scale = data_scale(dead)
    A = solve_products(X @ (dead / scale).T / scale, dead / scale, False)
    assert np.all(A[:, 1] == 0)
    np.testing.assert_allclose(A[:, [0, 2, 3]], nnls_abundances(X, E), rtol=1e-9, atol=1e-12)
