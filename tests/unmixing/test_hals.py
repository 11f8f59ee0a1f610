"""HALS and NMF_SO (hspy_unmix.unmixing.hals) on known truth."""

from __future__ import annotations

import numpy as np
import pytest

from hspy_unmix.metrics.unmixing import unmixing_scores
from hspy_unmix.nmf import HALS, NMF_SO
from hspy_unmix.synthetic import chequerboard_si


def test_hals_multistart_keeps_lowest_cost_and_cost_never_increases(small3):
    X = small3[0]
    model = HALS(3, n_starts=3, max_iter=40, tol=0, random_state=1).fit(X)
    assert model.start_costs_.shape == (3,)
    assert model.cost_history_[-1] == model.start_costs_.min()
    assert model.n_iter_ == 40 and not model.converged_
    steps = np.diff(model.cost_history_)
    assert np.all(steps <= 1e-10 * model.cost_history_[0])
    # The reported error is the true residual of the fitted factors.
    A = model._fit_abundances if hasattr(model, "_fit_abundances") else None
    assert A is not None
    resid = np.linalg.norm(X - A @ model.components_)
    # Abundances are re-solved by NNLS with the final spectra: never worse.
    assert model.reconstruction_err_ * 0.95 <= resid <= model.reconstruction_err_


def test_nmf_so_with_zero_weight_is_hals(small3):
    X = small3[0]
    plain = HALS(3, n_starts=2, max_iter=25, tol=0, random_state=3).fit(X)
    # the polish (debias_iter) would add HALS iterations beyond max_iter
    so = NMF_SO(3, w=0.0, debias_iter=0, n_starts=2, max_iter=25, tol=0,
                random_state=3).fit(X)
    np.testing.assert_allclose(so.components_, plain.components_, rtol=1e-7)


def _disjoint_overlapping_problem(seed=0):
    """Muto and Shiga, Fig. 3 situation: disjoint regions, strongly overlapping spectra."""
    rng = np.random.default_rng(seed)
    energy = np.linspace(0, 1, 120)
    background = 3.0 * np.exp(-3.0 * energy)
    peaks = [0.45, 0.5, 0.55]
    spectra = np.array(
        [background + np.exp(-0.5 * ((energy - p) / 0.06) ** 2) for p in peaks]
    )
    labels = np.repeat(np.arange(3), 20)[None, :].repeat(24, axis=0).ravel()
    maps = np.eye(3)[labels]  # 24x60 pixels in three vertical stripes
    clean = maps @ spectra * 200.0
    X = rng.poisson(clean).astype(np.float64)
    return X, spectra, maps


def test_nmf_so_separates_disjoint_components_better_than_hals():
    X, spectra, maps = _disjoint_overlapping_problem()
    hals = HALS(3, n_starts=2, max_iter=200, random_state=0)
    so = NMF_SO(3, w=0.5, n_starts=2, max_iter=200, random_state=0)
    score_hals = unmixing_scores(spectra, maps, hals.components_ if False else
                                 hals.fit(X).components_, hals.transform(X))
    score_so = unmixing_scores(spectra, maps, so.fit(X).components_, so.transform(X))
    assert score_so["sad_mean"] < 0.05
    assert score_so["sad_mean"] < 0.5 * score_hals["sad_mean"]
    assert score_so["nmse_mean"] < 0.5 * score_hals["nmse_mean"]


def test_nmf_so_polish_removes_the_penalty_bias_of_the_reconstruction():
    # the penalty pushes the maps of the mixed pixels apart and biases the
    # spectra; 10 unpenalised HALS iterations give the components the data's
    # least-squares fit back (RMSE 1.54 -> 1.04 x VCA's measured here)
    s, _ = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    fits = {d: NMF_SO(3, debias_iter=d, n_starts=1, max_iter=100,
                      random_state=0).fit(X) for d in (0, 10)}
    resid = {d: np.linalg.norm(X - f.transform(X) @ f.components_)
             for d, f in fits.items()}
    assert resid[10] < 0.85 * resid[0], resid
    # the reported error is the polished model's; NNLS abundances never worse
    f = fits[10]
    assert resid[10] <= f.reconstruction_err_ * (1 + 1e-9)
    with pytest.raises(ValueError, match="debias_iter"):
        NMF_SO(3, debias_iter=-1).fit(X)


@pytest.mark.slow
def test_signal_decomposition_hals_non_negative():
    s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    s.decomposition(algorithm="HALS", output_dimension=3, n_starts=2, max_iter=60,
                    random_state=0)
    factors = s.learning_results.factors
    loadings = s.learning_results.loadings
    assert factors.shape == (200, 3) and loadings.shape == (1024, 3)
    assert factors.min() >= 0 and loadings.min() >= 0
    assert isinstance(s.unmixing_estimator, HALS)


def test_fit_makes_no_copy_of_the_sample(chequerboard3, fit_peak):
    """HALS on a float64 sample adds less than half its size (traced peak,
    the sample included: 1.17x measured; its squared copy for the cost made
    it 2.0x)."""
    s, _ = chequerboard3
    X = np.ascontiguousarray(np.tile(s.data.reshape(-1, s.data.shape[-1]), (6, 1)),
                             dtype=np.float64)
    assert fit_peak(HALS(3, n_starts=1, max_iter=20, random_state=0), X) < 1.5


def test_large_sample_iterates_on_its_compression(chequerboard3, monkeypatch):
    """Above COMPRESS_ABOVE values the iterations multiply a rank K + 10
    compression (its products equal the explicit matrix's); the endmembers
    and the reconstruction stay those of the uncompressed fit."""
    from hspy_unmix.metrics.unmixing import sad
    from hspy_unmix.unmixing import hals

    s, _ = chequerboard3
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    full = HALS(3, n_starts=1, random_state=0).fit(X)
    seen = []
    original = HALS._one_start

    def spy(self, data, *args):
        seen.append(type(data).__name__)
        return original(self, data, *args)

    monkeypatch.setattr(HALS, "_one_start", spy)
    monkeypatch.setattr(hals, "COMPRESS_ABOVE", X.size - 1)
    small = HALS(3, n_starts=1, random_state=0).fit(X)
    assert seen == ["LowRank"]
    assert np.max(sad(full.components_, small.components_)) < 0.005
    assert abs(small.reconstruction_err_ / full.reconstruction_err_ - 1) < 1e-3
    monkeypatch.setattr(hals, "COMPRESS_ABOVE", X.size)
    HALS(3, n_starts=1, random_state=0).fit(X)
    assert seen == ["LowRank", "ndarray"]
    low = hals.compressed(X, 3)
    dense = low.L @ low.V.T
    M, C = np.random.default_rng(0).random((200, 3)), np.random.default_rng(1).random((4096, 3))
    np.testing.assert_allclose(low @ M, dense @ M, rtol=1e-10)
    np.testing.assert_allclose(low.T @ C, dense.T @ C, rtol=1e-10)
