"""ZLP restoration metrics on analytic cases."""

import numpy as np
import pytest

from hspy_unmix.metrics import (
    offpeak_noise_variance,
    peak_width,
    spectral_mse,
    ssim_1d,
    width_recovery_rate,
    width_relative_error,
    zlp_fwhm,
    zlp_fwtm,
    zlp_restoration_scores,
)

E = np.arange(-2, 2, 0.005)


def gaussian(fwhm, centre=0.0):
    return np.exp(-4 * np.log(2) * ((E - centre) / fwhm) ** 2)


@pytest.mark.parametrize("fwhm", [0.015, 0.05, 0.2])
@pytest.mark.parametrize("centre", [0.0, 0.0021, -0.7])
def test_gaussian_widths_within_a_channel(fwhm, centre):
    g = gaussian(fwhm, centre)
    assert abs(zlp_fwhm(g, 0.005) - fwhm) < 0.005
    fwtm = fwhm * np.sqrt(np.log(10) / np.log(2))
    assert abs(zlp_fwtm(g, 0.005) - fwtm) < 0.005


def test_width_accuracy_for_wide_gaussian():
    g = gaussian(0.2)
    assert abs(zlp_fwhm(g, 0.005) - 0.2) < 1e-3  # linear interpolation, 40 channels


def test_width_nan_when_not_crossing():
    assert np.isnan(peak_width(np.ones(10)))
    x = np.r_[np.linspace(1, 0, 10)]
    assert np.isnan(peak_width(x))


def test_batched_shapes():
    g = np.stack([gaussian(0.05), gaussian(0.1)])
    assert zlp_fwhm(g[None], 0.005).shape == (1, 2)


def test_recovery_and_error():
    assert width_recovery_rate(0.015, 0.1, 0.015) == 1.0
    assert width_recovery_rate(0.1, 0.1, 0.015) == 0.0
    assert width_relative_error(0.03, 0.015) == 1.0


def test_ssim():
    rng = np.random.default_rng(0)
    x = rng.random((3, 200))
    np.testing.assert_allclose(ssim_1d(x, x), 1.0)
    y = x + rng.normal(0, 0.3, x.shape)
    s = ssim_1d(y, x)
    assert (s < 0.9).all() and (s > -1).all()
    assert (ssim_1d(x + rng.normal(0, 0.01, x.shape), x) > s).all()
    with pytest.raises(ValueError):
        ssim_1d(x, x[:, :10])


def test_mse():
    assert spectral_mse(np.zeros(3), np.ones(3)) == 1.0


def test_noise_variance_detrends_tail():
    rng = np.random.default_rng(1)
    tail = 1e-3 / (1 + (E / 0.1) ** 2)
    noise = rng.normal(0, 1e-5, (50, E.size))
    v = offpeak_noise_variance(tail + noise, E, window=(-1.9, -1.0))
    assert np.median(v) == pytest.approx(1e-10, rel=0.15)
    # without detrending the smooth tail dominates
    v0 = offpeak_noise_variance(tail + noise, E, window=(-1.9, -0.3), detrend_order=-1)
    assert np.median(v0) > 3 * np.median(v)
    with pytest.raises(ValueError):
        offpeak_noise_variance(noise, E, window=(5, 6))


def test_scores_perfect_restoration():
    from hspy_unmix.synthetic import zlp_training_spectra

    d, c, e = zlp_training_spectra(4, n_peaks=(0, 0), random_state=0)
    s = zlp_restoration_scores(c, d, c, e)
    np.testing.assert_allclose(s["fwhm_recovery"], 1.0)
    np.testing.assert_allclose(s["fwtm_error"], 0.0)
    np.testing.assert_allclose(s["ssim"], 1.0)
    assert (s["mse"] == 0).all() and (s["noise_variance"] < 1e-30).all()
    assert (s["noise_variance_distorted"] > 0).all()
