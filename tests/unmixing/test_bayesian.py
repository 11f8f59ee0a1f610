"""Bayesian linear unmixing (BLU): kernels, estimator, signal method."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hspy_unmix import _blu_kernels as kb
from hspy_unmix.bayesian import BLU
from hspy_unmix.metrics import unmixing_scores
from hspy_unmix.vca import VCA

COMPILED_AND_PY = pytest.mark.parametrize("compiled", [True, False], ids=["jit", "py"])


def _kernel(func, compiled):
    return func if compiled else func.py_func


def _seed(compiled, seed):
    # Compiled kernels draw from numba's generator, .py_func from numpy's.
    if compiled:
        kb.seed_generator(seed)
    else:
        np.random.seed(seed)  # noqa: NPY002 (.py_func kernels use the global one)


# ------------------------------------------------------------------ kernels
@COMPILED_AND_PY
@pytest.mark.parametrize(
    "lower, upper",
    [(-1.0, 2.0), (-0.3, 0.4), (1.5, 2.0), (2.0, np.inf), (6.0, 6.5), (-np.inf, -3.0),
     (-np.inf, np.inf)],
)
def test_truncated_normal_matches_scipy(compiled, lower, upper):
    draw = _kernel(kb.truncated_normal, compiled)
    _seed(compiled, 3)
    n = 20000 if compiled else 3000
    mean, sd = 0.5, 1.0
    x = np.array([draw(mean, sd, lower, upper) for _ in range(n)])
    assert np.all(x >= lower) and np.all(x <= upper)
    ref = stats.truncnorm((lower - mean) / sd, (upper - mean) / sd, loc=mean, scale=sd)
    assert abs(x.mean() - ref.mean()) < 5 * ref.std() / np.sqrt(n) + 1e-12
    assert x.std() == pytest.approx(ref.std(), rel=0.1)
    # The Kolmogorov-Smirnov test fails a sampler with the wrong shape.
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3


@COMPILED_AND_PY
def test_truncated_normal_degenerate_intervals(compiled):
    draw = _kernel(kb.truncated_normal, compiled)
    assert draw(0.3, 1.0, 0.2, 0.2) == 0.2  # single point: pinned value
    assert draw(5.0, 0.0, 0.0, 1.0) == 1.0  # zero spread: clipped mean
    assert draw(0.5, np.nan, 0.0, 1.0) == 0.5


def _small_problem(seed=0, n_pixels=1500, sigma=2.0):
    rng = np.random.RandomState(seed)
    n_channels = 40
    U = np.linalg.qr(rng.randn(n_channels, 2))[0]
    ybar = np.full(n_channels, 100.0)
    T = np.array([[-30.0, 30.0, 0.0], [-20.0, -20.0, 35.0]])
    A = rng.dirichlet(np.ones(3), n_pixels)
    Z = A @ T.T + sigma * rng.randn(n_pixels, 2)
    return U, ybar, T, A, Z, sigma


@COMPILED_AND_PY
def test_sample_abundances_recovers_known_abundances(compiled):
    U, ybar, T, A_true, Z, sigma = _small_problem(n_pixels=300 if not compiled else 1500)
    step = _kernel(kb.sample_abundances, compiled)
    _seed(compiled, 1)
    A = np.full_like(A_true, 1.0 / 3.0)
    mean = np.zeros_like(A)
    n_sweeps, n_burn = (40, 10) if not compiled else (200, 50)
    for it in range(n_sweeps):
        step(Z, T, A, sigma**2, it % 3, 1)
        assert np.all(A >= 0)
        np.testing.assert_allclose(A.sum(axis=1), 1.0, atol=1e-12)
        if it >= n_burn:
            mean += A
    mean /= n_sweeps - n_burn
    # Posterior means are unbiased (mean error over pixels ~ 0) and close
    # (the projected noise is small against the simplex).
    assert np.abs((mean - A_true).mean(axis=0)).max() < 0.01
    assert np.abs(mean - A_true).mean() < 0.06


def _dirichlet_chains(compiled, Z, T, sigma2, alpha, n_sweeps, n_burn, seed):
    """Posterior draws of every pixel (each pixel its own chain)."""
    step = _kernel(kb.sample_abundances_dirichlet, compiled)
    _seed(compiled, seed)
    k = T.shape[1]
    A = np.full((Z.shape[0], k), 1.0 / k)
    L = np.log(A)
    draws = []
    for it in range(n_sweeps):
        step(Z, T, A, L, sigma2, alpha, 1)
        assert np.all(A >= 0)
        np.testing.assert_allclose(A.sum(axis=1), 1.0, atol=1e-12)
        if it >= n_burn:
            draws.append(A.copy())
    return np.concatenate(draws)


@COMPILED_AND_PY
def test_sample_abundances_dirichlet_prior(compiled):
    # A flat likelihood leaves the Dirichlet(alpha) prior, whose marginals
    # are Beta(alpha, (K - 1) alpha): alpha < 1 puts most mass near 0 and 1.
    T = np.array([[-30.0, 30.0, 0.0], [-20.0, -20.0, 35.0]])
    n_pixels, n_sweeps = (400, 60) if compiled else (40, 60)
    Z = np.zeros((n_pixels, 2))
    alpha = 0.3
    draws = _dirichlet_chains(compiled, Z, T, 1e12, alpha, n_sweeps, 10, 8)
    ref = stats.beta(alpha, 2 * alpha)
    for i in range(3):
        assert stats.kstest(draws[:, i], ref.cdf).pvalue > 1e-4
    # The mass near the boundary, where the density is unbounded, is sampled
    # at its rate (about 1.3 % below 1e-6), and no draw is stuck at zero.
    rate = np.mean(draws < 1e-6)
    assert 0.5 * ref.cdf(1e-6) < rate < 2 * ref.cdf(1e-6) and np.all(draws > 0)


@COMPILED_AND_PY
def test_sample_abundances_dirichlet_matches_numerical_posterior(compiled):
    # One pixel, known endmembers and noise: the exact posterior mean and
    # variance of the abundances, by integration over a fine simplex grid.
    T = np.array([[-30.0, 30.0, 0.0], [-20.0, -20.0, 35.0]])
    a_true = np.array([0.75, 0.2, 0.05])
    z = T @ a_true + np.array([2.0, -1.5])
    sigma2, alpha = 9.0, 0.5
    n = 1500
    u = (np.arange(n) + 0.5) / n
    a1, a2 = np.meshgrid(u, u, indexing="ij")
    inside = a1 + a2 < 1 - 0.5 / n
    grid = np.stack([a1[inside], a2[inside], 1 - a1[inside] - a2[inside]], axis=1)
    log_post = (-np.sum((grid @ T.T - z) ** 2, axis=1) / (2 * sigma2)
                + (alpha - 1) * np.log(grid).sum(axis=1))
    weight = np.exp(log_post - log_post.max())
    weight /= weight.sum()
    exact_mean = weight @ grid
    exact_sd = np.sqrt(weight @ (grid - exact_mean) ** 2)
    n_pixels, n_sweeps = (2000, 120) if compiled else (24, 60)
    Z = np.repeat(z[None, :], n_pixels, axis=0)
    draws = _dirichlet_chains(compiled, Z, T, sigma2, alpha, n_sweeps, 20, 9)
    # The chains are independent across pixels: a loose 6-sigma bound on the
    # Monte-Carlo error (sweeps of one chain are correlated).
    tolerance = 6 * exact_sd / np.sqrt(n_pixels) + 2e-3
    assert np.all(np.abs(draws.mean(axis=0) - exact_mean) < tolerance)
    np.testing.assert_allclose(draws.std(axis=0), exact_sd, rtol=0.2)
    # The prior matters (exact means 0.037 against 0.053 for the smallest
    # abundance): a sampler of the uniform-prior posterior fails.
    log_uniform = log_post - (alpha - 1) * np.log(grid).sum(axis=1)
    uniform = np.exp(log_uniform - log_uniform.max())
    uniform_mean = (uniform / uniform.sum()) @ grid
    assert abs(exact_mean[2] - uniform_mean[2]) > 0.01
    if compiled:
        assert abs(draws.mean(axis=0)[2] - uniform_mean[2]) > 2 * tolerance[2]


@COMPILED_AND_PY
def test_sample_endmembers_recovers_least_squares(compiled):
    U, ybar, T_true, A, Z, sigma = _small_problem()
    step = _kernel(kb.sample_endmembers, compiled)
    stats_fn = _kernel(kb.abundance_statistics, compiled)
    _seed(compiled, 2)
    G, W = stats_fn(Z, A)
    np.testing.assert_allclose(G, A.T @ A)
    np.testing.assert_allclose(W, A.T @ Z)
    T = T_true + 5.0
    M = ybar + T.T @ U.T
    total = np.zeros_like(T)
    n_sweeps, n_burn = (400, 100) if compiled else (80, 20)
    for it in range(n_sweeps):
        step(T, M, G, W, U, ybar, sigma**2, T_true.copy(), np.full(3, 1e-10))
        if it >= n_burn:
            total += T
    np.testing.assert_allclose(M, ybar + T.T @ U.T, atol=1e-9)
    mean = total / (n_sweeps - n_burn)
    # With a flat prior and fixed abundances the posterior mean is the
    # least-squares solution; its spread is sigma / sqrt(G_rr).
    least_squares = np.linalg.lstsq(A, Z, rcond=None)[0].T
    posterior_sd = sigma / np.sqrt(np.diag(G))
    assert np.all(np.abs(mean - least_squares) < posterior_sd)
    assert np.abs(mean - T_true).max() > 0  # not stuck at the prior mean


@COMPILED_AND_PY
def test_sample_endmembers_respects_positivity(compiled):
    rng = np.random.RandomState(4)
    U = np.linalg.qr(rng.randn(30, 2))[0]
    ybar = np.full(30, 1.0)
    A = rng.dirichlet(np.ones(3), 200)
    # Data pull the endmembers far outside the positive set.
    Z = A @ np.array([[-80.0, 80.0, 0.0], [-60.0, -60.0, 90.0]]).T
    G, W = kb.abundance_statistics(Z, A)
    T = np.zeros((2, 3))
    M = ybar + T.T @ U.T
    step = _kernel(kb.sample_endmembers, compiled)
    _seed(compiled, 5)
    for _ in range(20):
        step(T, M, G, W, U, ybar, 1.0, np.zeros((2, 3)), np.full(3, 1e-10))
        assert M.min() >= -1e-9
    assert M.min() < 0.05  # the bound is active: pressed against zero


@COMPILED_AND_PY
def test_subspace_residual_and_noise_variance(compiled):
    U, ybar, T, A, Z, sigma = _small_problem()
    residual = _kernel(kb.subspace_residual, compiled)(Z, T, A)
    assert residual == pytest.approx(float(np.sum((Z - A @ T.T) ** 2)))
    draw = _kernel(kb.sample_noise_variance, compiled)
    _seed(compiled, 6)
    draws = np.array([draw(residual, Z.size) for _ in range(2000)])
    # IG(n/2, residual/2): mean residual / (n - 2), close to sigma^2 here.
    assert draws.mean() == pytest.approx(residual / (Z.size - 2), rel=0.01)
    assert draws.mean() == pytest.approx(sigma**2, rel=0.1)


@COMPILED_AND_PY
def test_run_gibbs_chunk_bookkeeping(compiled):
    U, ybar, T_true, A_true, Z, sigma = _small_problem(n_pixels=60)
    run = _kernel(kb.run_gibbs_chunk, compiled)
    T = T_true.copy()
    M = ybar + T.T @ U.T
    A = A_true.copy()
    state = np.array([sigma**2])
    T_sum, A_sum, stats_sum = np.zeros_like(T), np.zeros_like(A), np.zeros(1)
    trace = np.full(6, np.nan)
    L = np.log(A)
    run(Z, 0.0, float(Z.size), U, ybar, T, M, A, state, T_true.copy(), np.full(3, 1e-6),
        2, 4, 1, 11, T_sum, A_sum, stats_sum, trace, 2, 0.1, L)
    # The Dirichlet path keeps A = softmax(L).
    np.testing.assert_allclose(A, np.exp(L) / np.exp(L).sum(axis=1, keepdims=True))
    assert np.isnan(trace[:2]).all() and np.isfinite(trace[2:]).all()
    assert state[0] == trace[-1]
    # Three kept sweeps: the summed abundances sum to 3 per pixel.
    np.testing.assert_allclose(A_sum.sum(axis=1), 3.0, atol=1e-9)
    assert stats_sum[0] == pytest.approx(trace[3:].sum())
    np.testing.assert_allclose(M, ybar + T.T @ U.T, atol=1e-9)


# ---------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def chequerboard3_small():
    from hspy_unmix.synthetic import chequerboard_si

    s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    return s.data.reshape(-1, s.data.shape[-1]), truth


def test_blu_accuracy_and_simplex(chequerboard3_small):
    X, truth = chequerboard3_small
    blu = BLU(3, n_burn_in=50, n_samples=50, random_state=0, show_progressbar=False)
    abundances = blu.fit_transform(X)
    assert abundances.shape == (1024, 3)
    assert np.all(abundances >= 0)
    np.testing.assert_allclose(abundances.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(blu.components_ >= 0)
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances,
                             blu.components_, abundances)
    vca = VCA(3, random_state=0)
    vca_abundances = vca.fit_transform(X)
    vca_scores = unmixing_scores(truth.endmembers, truth.flat_abundances,
                                 vca.components_, vca_abundances)
    # Measured: BLU 0.0015 rad / 1.8e-4, VCA-FCLS 0.0036 rad / 4.1e-4. Over
    # chequerboard seeds 0-5 the BLU/VCA SAD ratio was 0.30-0.52: the
    # posterior mean averages the pure pixels where VCA keeps one.
    assert scores["sad_mean"] < 0.004 and scores["nmse_mean"] < 0.001
    assert scores["sad_mean"] <= vca_scores["sad_mean"]
    assert scores["nmse_mean"] <= vca_scores["nmse_mean"]
    # Poisson noise: variance = mean count; the sampler must find it.
    assert blu.noise_variance_ == pytest.approx(X.mean(), rel=0.05)
    assert blu.n_iter_ == 100 and blu.trace_.shape == (100,)
    assert np.all(np.isfinite(blu.trace_))
    # transform = FCLS with the posterior-mean endmembers
    again = blu.transform(X)
    assert np.abs(again - abundances).mean() < 0.01


def test_blu_four_components_vs_vca(chequerboard4_small):
    s, truth = chequerboard4_small
    X = s.data.reshape(-1, s.data.shape[-1])
    blu = BLU(4, n_burn_in=30, n_samples=30, random_state=0, show_progressbar=False)
    abundances = blu.fit_transform(X)
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances,
                             blu.components_, abundances)
    vca = VCA(4, random_state=0).fit(X)
    vca_scores = unmixing_scores(truth.endmembers, truth.flat_abundances,
                                 vca.components_, vca.transform(X))
    # Measured: BLU 0.0095 rad / 4.4e-3, VCA-FCLS 0.0098 rad / 4.4e-3 (on this
    # seed one component has few pure pixels; other seeds give BLU 0.3-0.4x
    # the VCA SAD).
    assert scores["sad_mean"] < 0.02 and scores["nmse_mean"] < 0.008
    assert scores["nmse_mean"] < 2 * vca_scores["nmse_mean"]


def test_blu_uniform_prior_expands_the_simplex(chequerboard3_small):
    # The uniform abundance prior of the reference model (alpha = 1) has no
    # mass at the vertices: noisy pure pixels are explained by a larger
    # simplex, so its posterior mean is less accurate than the default.
    X, truth = chequerboard3_small
    params = dict(n_burn_in=50, n_samples=50, random_state=0, show_progressbar=False)
    sads = {}
    for alpha in (1.0, 0.1):
        blu = BLU(3, abundance_concentration=alpha, **params)
        abundances = blu.fit_transform(X)
        sads[alpha] = unmixing_scores(truth.endmembers, truth.flat_abundances,
                                      blu.components_, abundances)["sad_mean"]
    # Measured: 0.0074 (alpha = 1) against 0.0015 rad.
    assert sads[0.1] < 0.5 * sads[1.0]


def test_blu_deterministic(chequerboard3_small):
    X, _ = chequerboard3_small
    X = X[:256]
    params = dict(n_burn_in=5, n_samples=5, show_progressbar=False)
    a = BLU(3, random_state=7, **params).fit(X)
    b = BLU(3, random_state=7, **params).fit(X)
    c = BLU(3, random_state=8, **params).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.trace_, b.trace_)
    assert not np.array_equal(a.trace_, c.trace_)


def test_blu_does_not_modify_input(chequerboard3_small):
    X, _ = chequerboard3_small
    X = X[:200].copy()
    before = X.copy()
    BLU(3, n_burn_in=2, n_samples=2, random_state=0, show_progressbar=False).fit(X)
    np.testing.assert_array_equal(X, before)


def test_blu_single_component():
    X = np.random.RandomState(0).poisson(50, (40, 12)).astype(float)
    blu = BLU(1, n_burn_in=1, n_samples=1, show_progressbar=False)
    abundances = blu.fit_transform(X)
    np.testing.assert_allclose(abundances, 1.0)
    np.testing.assert_allclose(blu.components_[0], X.mean(axis=0))


@pytest.mark.parametrize(
    "params, error",
    [
        (dict(n_samples=0), ValueError),
        (dict(n_burn_in=-1), ValueError),
        (dict(n_burn_in=1.5), TypeError),
        (dict(abundance_passes=0), ValueError),
        (dict(endmember_prior_variance=-1.0), ValueError),
        (dict(abundance_concentration=0.0), ValueError),
        (dict(abundance_concentration=np.nan), ValueError),
        (dict(abundance_concentration="sparse"), ValueError),
        (dict(n_components=None), ValueError),
    ],
)
def test_blu_bad_parameters(params, error):
    X = np.random.RandomState(0).poisson(50, (40, 12)).astype(float)
    kwargs = dict(n_components=3, show_progressbar=False)
    kwargs.update(params)
    with pytest.raises(error):
        BLU(**kwargs).fit(X)


def test_blu_save_load(tmp_path, chequerboard3_small):
    import hspy_unmix

    X, _ = chequerboard3_small
    blu = BLU(3, n_burn_in=3, n_samples=3, random_state=0, show_progressbar=False).fit(X)
    path = tmp_path / "blu.zip"
    blu.save(path)
    loaded = hspy_unmix.load_estimator(path)
    np.testing.assert_array_equal(loaded.components_, blu.components_)
    np.testing.assert_allclose(loaded.transform(X[:10]), blu.transform(X[:10]))


# ------------------------------------------------------------------- signal
def test_blu_through_signal():
    from hspy_unmix.synthetic import chequerboard_si

    s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=2)
    before = s.data.copy()
    s.decomposition(algorithm="BLU", output_dimension=3, n_burn_in=10, n_samples=10,
                    random_state=0)
    lr = s.learning_results
    assert lr.decomposition_algorithm == "BLU"
    assert lr.factors.shape == (200, 3) and np.all(lr.factors >= 0)
    np.testing.assert_allclose(lr.loadings.sum(axis=1), 1.0, atol=1e-9)
    assert isinstance(s.unmixing_estimator, BLU) and s.unmixing_estimator.n_iter_ == 20
    np.testing.assert_array_equal(s.data, before)
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances, lr.factors.T,
                             lr.loadings)
    assert scores["sad_mean"] < 0.02


def test_blu_lazy_signal_bounded_sample():
    from hspy_unmix.synthetic import chequerboard_si

    s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=2)
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((8, 32, 200))
    estimator = BLU(3, n_burn_in=5, n_samples=5, random_state=0, show_progressbar=False)
    estimator.max_partial_fit_samples = 400  # fit on a bounded pixel sample
    lazy.decomposition(algorithm=estimator, output_dimension=3)
    fitted = lazy.unmixing_estimator
    assert fitted.n_samples_seen_ == 1024
    loadings = np.asarray(lazy.learning_results.loadings)
    assert loadings.shape == (1024, 3)
    np.testing.assert_allclose(loadings.sum(axis=1), 1.0, atol=1e-6)
    scores = unmixing_scores(truth.endmembers, truth.flat_abundances,
                             fitted.components_, loadings)
    assert scores["sad_mean"] < 0.03


def test_fit_makes_no_centred_copy_of_the_sample(chequerboard3, fit_peak):
    """BLU on a float64 sample adds less than half its size (traced peak, the
    sample included: 1.21x measured; its centred copies made it 3.0x)."""
    s, _ = chequerboard3
    X = np.ascontiguousarray(np.tile(s.data.reshape(-1, s.data.shape[-1]), (6, 1)),
                             dtype=np.float64)
    assert fit_peak(BLU(3, n_burn_in=2, n_samples=2, random_state=0), X) < 1.5
