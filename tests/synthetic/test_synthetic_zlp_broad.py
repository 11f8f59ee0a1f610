"""The broad channel-unit training generator of the ZLP U-net."""

import numpy as np
import pytest

from hspy_unmix.metrics import peak_width
from hspy_unmix.synthetic.zlp_broad import BROAD_RANGES, zlp_broad_spectra


def test_shapes_normalisation_and_truth_width():
    x, y, p = zlp_broad_spectra(256, random_state=0, return_params=True)
    assert x.shape == y.shape == (256, 512) and x.dtype == np.float32
    np.testing.assert_allclose(x.sum(1), 1.0, rtol=1e-4)
    # the restored truth is a 3-channel quasi-Dirac ZLP wherever it sits
    inside = (p["zlp_position"] > 8) & (p["zlp_position"] < 504)
    np.testing.assert_allclose(np.nanmedian(peak_width(y[inside])), 3.0, rtol=0.05)
    # the measured (distorted) ZLP spans a few to about 50 channels
    w = peak_width(x)
    assert np.nanpercentile(w, 5) < 6 and np.nanpercentile(w, 90) > 30
    assert set(np.unique(p["psf_family"])) == {0, 1, 2, 3}
    assert (p["psf_fwhm"] >= 2.0).all() and (p["psf_fwhm"] <= 45.0).all()


def test_seeded_and_ranges_override():
    a = zlp_broad_spectra(8, random_state=3)
    b = zlp_broad_spectra(8, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    _, _, p = zlp_broad_spectra(64, ranges={"psf_fwhm": (10.0, 10.0)}, random_state=1,
                                return_params=True)
    np.testing.assert_allclose(p["psf_fwhm"], 10.0)
    assert BROAD_RANGES["psf_fwhm"] == (2.0, 45.0)  # the override did not leak


def test_fixed_position_and_gaussian_noise_scale():
    x, y, p = zlp_broad_spectra(64, channels=1024, zlp_position=100.0, noise_scale=1e-4,
                                ranges={"n_narrow": (0, 0), "n_plasmons": (0, 0),
                                        "dark_mean": (0.0, 0.0)},
                                random_state=2, return_params=True)
    assert (np.abs(y.argmax(1) - 100) <= 1).all()
    assert np.isinf(p["counts"]).all()
    # far from the ZLP only the noise is left: its standard deviation is the one asked
    # (divided by the window's sum, 1 up to the noise)
    far = x[:, 700:] - y[:, 700:]
    np.testing.assert_allclose(far.std(), 1e-4, rtol=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError):
        zlp_broad_spectra(-1)
    with pytest.raises(ValueError):
        zlp_broad_spectra(4, channels=8)
