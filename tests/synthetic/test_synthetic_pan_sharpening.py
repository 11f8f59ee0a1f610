"""Tests of the pan-sharpening pair generator, binomial thinning and metrics."""

from __future__ import annotations

import numpy as np
import pytest

import hspy_unmix  # noqa: F401
from hspy_unmix.metrics import mean_spectral_angle, psnr
from hspy_unmix.synthetic import pan_sharpening_pair, thin_counts


def test_pair_shapes_and_truth():
    fine, coarse, truth = pan_sharpening_pair(3, shape=(32, 32), bin_factor=4, random_state=0)
    assert fine.data.shape == (32, 32, 200) and coarse.data.shape == (8, 8, 200)
    assert coarse.axes_manager.navigation_axes[0].scale == pytest.approx(4 * 0.5)
    np.testing.assert_allclose(truth.abundances.sum(-1), 1.0)
    np.testing.assert_allclose(
        truth.coarse_abundances[1, 2], truth.abundances[4:8, 8:12].mean((0, 1))
    )
    np.testing.assert_allclose(truth.clean, truth.abundances @ truth.endmembers)
    # doses: mean counts per channel of the fine SI ~ low_dose, of the coarse ~ high_dose
    assert fine.data.mean() == pytest.approx(2.0, rel=0.05)
    assert coarse.data.mean() == pytest.approx(500.0, rel=0.05)
    # Poisson noise: variance of the fine residual equals the mean
    assert np.var(fine.data - truth.clean) == pytest.approx(truth.clean.mean(), rel=0.05)
    with pytest.raises(ValueError, match="bin_factor"):
        pan_sharpening_pair(3, shape=(30, 30), bin_factor=4)


def test_thin_counts_statistics():
    import hyperspy.api as hs

    rng = np.random.default_rng(0)
    counts = rng.poisson(200.0, size=(40, 40, 64)).astype(np.int16)
    s = hs.signals.Signal1D(counts)
    low = thin_counts(s, 0.1, random_state=0)
    assert low.data.dtype == np.int16
    np.testing.assert_array_equal(s.data, counts)  # input untouched
    assert (low.data <= counts).all()
    # binomial thinning of Poisson(200) is Poisson(20): mean == variance
    assert low.data.mean() == pytest.approx(20.0, rel=0.02)
    assert low.data.var() == pytest.approx(20.0, rel=0.05)
    assert low.metadata.Signal.thinned == 0.1
    # reproducible, and lazy gives the same statistics
    np.testing.assert_array_equal(thin_counts(s, 0.1, random_state=0).data, low.data)
    lazy = thin_counts(s.as_lazy(), 0.1, random_state=0)
    assert lazy._lazy
    assert lazy.data.compute().mean() == pytest.approx(20.0, rel=0.02)


def test_thin_counts_float_and_negative():
    import hyperspy.api as hs

    whole = hs.signals.Signal1D(np.array([[10.0, -10.0, 0.0, 1000.0]]))
    out = thin_counts(whole, 0.5, random_state=1)
    assert out.data.dtype == np.float64
    assert out.data[0, 1] <= 0 and out.data[0, 0] >= 0 and out.data[0, 2] == 0
    assert 400 < out.data[0, 3] < 600
    with pytest.raises(ValueError, match="whole-number"):
        thin_counts(hs.signals.Signal1D(np.array([1.5, 2.0])), 0.5)
    with pytest.raises(ValueError, match="fraction"):
        thin_counts(whole, 0.0)


def test_psnr_and_angle():
    ref = np.array([0.0, 1.0, 2.0, 3.0])
    assert psnr(ref, ref + 0.3) == pytest.approx(20.0)
    assert psnr(ref, ref) == np.inf
    with pytest.raises(ValueError, match="shapes"):
        psnr(ref, ref[:3])
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[3.0, 0.0], [1.0, 0.0]])
    assert mean_spectral_angle(a, b) == pytest.approx(np.pi / 4)
    assert mean_spectral_angle(a, b, degrees=True) == pytest.approx(45.0)
