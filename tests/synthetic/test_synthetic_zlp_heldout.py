"""The held-out ZLP generator: its own families, and kernels that are exact."""

import numpy as np
import pytest
from scipy.signal import fftconvolve

from hspy_unmix.metrics import peak_width
from hspy_unmix.synthetic.zlp_heldout import (
    HELDOUT_PSF_FAMILIES,
    _psf,
    zlp_heldout_spectra,
)


def test_shapes_truth_and_normalisation():
    d, c, e, k = zlp_heldout_spectra(12, 1e-5, random_state=0)
    assert d.shape == c.shape == (12, 2048) and k.shape == (12, 1023)
    np.testing.assert_allclose(c.sum(1), 1.0)
    np.testing.assert_allclose(k.sum(1), 1.0)
    assert e[0] == -2.0 and e[1] - e[0] == pytest.approx(0.005)
    # the truth ZLP is the paper's 3-channel quasi-Dirac at 0 eV
    np.testing.assert_allclose(peak_width(c), 3.0, rtol=0.05)
    assert (np.abs(e[c.argmax(1)]) < 0.006).all()


@pytest.mark.parametrize("family", [f for f in HELDOUT_PSF_FAMILIES if f != "emg"])
def test_psf_families_have_the_fwhm_asked(family):
    ek = 0.005 * np.arange(-511, 512)
    p = _psf(family, ek, 0.1, np.random.default_rng(0))
    assert p.sum() == pytest.approx(1.0)
    assert peak_width(p, 0.5, 0.005) == pytest.approx(0.1, rel=0.03)


def test_kernels_are_exact():
    # noise-free: the distorted spectrum is the truth convolved by the kernel
    d, c, e, k = zlp_heldout_spectra(6, 1e-12, random_state=1)
    for row_d, row_c, kern in zip(d, c, k):
        again = fftconvolve(row_c, kern, mode="same")
        again /= again.sum()
        assert np.abs(again - row_d).max() < 0.02 * row_d.max()


def test_zlp_only_and_noise_level():
    d, c, e, _ = zlp_heldout_spectra(50, 1e-4, peaks=False, random_state=2)
    far = (e > 6.0)
    # Gaussian noise of the level asked, with a non-negative dark mean of up to half of it
    resid = d[:, far] - c[:, far]
    np.testing.assert_allclose(resid.std(axis=1).mean(), 1e-4, rtol=0.05)
    assert 0.0 <= resid.mean() <= 0.5e-4
