"""Generator of near-zero-loss training spectra."""

import numpy as np
import pytest

from hspy_unmix.metrics import zlp_fwhm
from hspy_unmix.synthetic import zlp_blur_kernel, zlp_test_signal, zlp_training_spectra


def test_shapes_axis_and_normalisation():
    d, c, e = zlp_training_spectra(50, random_state=0)
    assert d.shape == c.shape == (50, 2048)
    assert e[0] == -2.0 and np.allclose(np.diff(e), 0.005)
    np.testing.assert_allclose(c.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(d.sum(axis=1), 1.0, atol=1e-12)
    assert (c >= 0).all()


def test_clean_zlp_fwhm_is_15_mev_and_at_zero():
    _, c, e = zlp_training_spectra(20, n_peaks=(0, 0), random_state=1)
    np.testing.assert_allclose(zlp_fwhm(c, 0.005), 0.015, atol=0.005)  # within one channel
    assert np.all(e[c.argmax(axis=1)] == 0.0)


def test_distorted_is_broader_and_noise_amplitude():
    d, c, e = zlp_training_spectra(20, n_peaks=(0, 0), noise_amplitude=1e-5,
                                   dark_offset=(0, 0), random_state=2)
    w = zlp_fwhm(d, 0.005)
    assert (w > 0.035).all()  # at least the narrowest PSF
    far = d[:, :100]  # -2 to -1.5 eV: tail ~1e-6, noise 1e-5
    assert 0.7e-5 < np.std(far - far.mean(axis=1, keepdims=True)) < 1.4e-5


def test_peaks_and_random_zlp_position():
    _, c, e = zlp_training_spectra(200, zlp_shift=(-1.0, 1.0), random_state=3,
                                   return_params=False)
    pos = e[c.argmax(axis=1)]
    assert pos.min() < -0.5 and pos.max() > 0.5 and np.abs(pos).max() <= 1.0 + 0.005
    _, c0, _ = zlp_training_spectra(10, n_peaks=(0, 0), random_state=3)
    _, c15, _ = zlp_training_spectra(10, n_peaks=(15, 15), random_state=3)
    # loss peaks add intensity at positive energies relative to the ZLP alone
    assert (c15[:, 600:].sum(axis=1) > 10 * c0[:, 600:].sum(axis=1)).all()


def test_reproducible_and_vectorised_fast():
    import time

    a = zlp_training_spectra(5, random_state=7)[0]
    b = zlp_training_spectra(5, random_state=7)[0]
    np.testing.assert_array_equal(a, b)
    t = time.perf_counter()
    zlp_training_spectra(500, random_state=0)
    assert time.perf_counter() - t < 10.0


def test_blur_kernel_matches_generator():
    # A blurred delta-like ZLP equals the kernel (no noise, no jitter).
    d, c, e, p = zlp_training_spectra(1, n_peaks=(0, 0), n_jitter=0, noise_amplitude=0.0,
                                      dark_offset=(0, 0), zlp_fwhm=1e-4,
                                      psf_fwhm=(0.1, 0.1), random_state=0, return_params=True)
    k = zlp_blur_kernel(0.1, half_width=300)
    seg = d[0, 100:701] / d[0, 100:701].sum()
    np.testing.assert_allclose(seg, k, atol=2e-3 * k.max())
    assert abs(k.sum() - 1) < 1e-12


def test_test_signal():
    s, truth = zlp_test_signal((2, 3), random_state=0)
    assert s.data.shape == truth.data.shape == (2, 3, 2048)
    assert s.metadata.Signal.signal_type == "EELS"
    ax = s.axes_manager.signal_axes[0]
    assert (ax.scale, ax.offset, ax.units) == (0.005, -2.0, "eV")
    np.testing.assert_allclose(truth.data.sum(-1), 1e6)
    sl, _ = zlp_test_signal((2,), lazy=True, random_state=0)
    assert sl._lazy


def test_bad_ranges():
    with pytest.raises(ValueError):
        zlp_training_spectra(2, psf_fwhm=(0.2, 0.1))
