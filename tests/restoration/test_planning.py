"""ZLP detection, the choice of resampling, and the resampling itself."""

import numpy as np
import pytest

from hspy_unmix.metrics import zlp_fwhm
from hspy_unmix.restoration import NoZeroLossPeakError, measure_zlp, plan_resampling
from hspy_unmix.restoration.planning import from_model_grid, to_model_grid

META = {"native_fwhm_channels": [5.0, 40.0], "truth_fwhm_channels": 3.0}


def _zlp(fwhm_channels, n=4, channels=1024, centre=200, tail=1e-3):
    x = np.arange(channels, dtype=float)
    sigma = fwhm_channels / 2.3548
    peak = np.exp(-0.5 * ((x - centre) / sigma) ** 2)
    plasmon = 0.05 / (1 + ((x - centre - 20 * fwhm_channels) / (8 * fwhm_channels)) ** 2)
    return np.tile(peak + plasmon + tail, (n, 1))


def test_measure_zlp_low_loss_versus_core_loss():
    low = _zlp(10.0)
    x = np.arange(1024.0)
    core = 1e4 * (x + 50.0) ** -3.0 + 1e-3 * (x > 500) * np.exp(-(x - 500) / 200.0)
    white_line = core + 5e-4 * np.exp(-0.5 * ((x - 600) / 3.0) ** 2)
    got = measure_zlp(np.vstack([low, core[None], white_line[None]]))
    assert got["has_zlp"].tolist() == [True] * 4 + [False, False]
    np.testing.assert_allclose(got["fwhm"][:4], 10.0, rtol=0.02)


@pytest.mark.parametrize(
    ("fwhm", "factor"),
    [(2.0, 4.0), (4.0, 2.0), (5.5, 1.0), (20.0, 1.0), (39.0, 1.0), (80.0, 0.375)],
)
def test_plan_resampling_brings_the_zlp_into_the_native_range(fwhm, factor):
    plan = plan_resampling(_zlp(fwhm, channels=4096, centre=600), META)
    assert plan["factor"] == pytest.approx(factor, rel=0.03)
    assert 5.0 <= plan["model_fwhm_channels"] <= 40.0
    assert plan["restored_fwhm_channels"] == pytest.approx(3.0 / plan["factor"])


def test_plan_refuses_missing_or_sampling_limited_zlp():
    x = np.arange(512.0)
    core = np.tile(1e4 * (x + 50.0) ** -3.0, (8, 1))
    with pytest.raises(NoZeroLossPeakError, match="core-loss"):
        plan_resampling(core, META, axis_description=" (energy axis 300 to 811 eV)")
    with pytest.raises(NoZeroLossPeakError, match="sampling limit"):
        plan_resampling(_zlp(1.2), META)
    with pytest.raises(NoZeroLossPeakError):
        plan_resampling(np.zeros((4, 512)), META)
    assert issubclass(NoZeroLossPeakError, ValueError)


@pytest.mark.parametrize("factor", [4.0, 2.5, 0.5, 0.375])
def test_resampling_keeps_integral_and_width(factor):
    x = _zlp(12.0, n=2)
    y = to_model_grid(x, factor)
    # counts per model channel: the integral is kept
    np.testing.assert_allclose(y.sum(-1), x.sum(-1), rtol=2e-3)
    # binning onto a coarser grid widens a peak by sqrt(1 + h^2 / (12 sigma^2))
    h, sigma = max(1.0, 1.0 / factor), 12.0 / 2.3548
    widening = np.sqrt(1 + h**2 / (12 * sigma**2))
    np.testing.assert_allclose(zlp_fwhm(y), 12.0 * factor * widening, rtol=0.025)
    back = from_model_grid(y, factor, x.shape[-1])
    np.testing.assert_allclose(back.sum(-1), x.sum(-1), rtol=2e-3)
    # a smooth spectrum comes back where it was, up to the interpolation error
    # h^2 f''/8 and the binning h^2 f''/24 of a step h (f'' = 1/sigma^2 at the top)
    bound = 1.3 * (h**2 / 6) / sigma**2 + 0.005
    assert np.abs(back - x)[:, 4:-4].max() < bound * x.max()  # interpolation edges aside
    assert back.argmax(-1).tolist() == x.argmax(-1).tolist()


def test_resampling_identity():
    x = _zlp(12.0, n=2)
    assert to_model_grid(x, 1.0) is x and from_model_grid(x, 1.0, x.shape[-1]) is x

