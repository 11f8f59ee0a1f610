"""restore_zlp (Richardson-Lucy path and input checks) and richardson_lucy."""

import subprocess
import sys

import numpy as np
import pytest

import hspy_unmix
from hspy_unmix import richardson_lucy
from hspy_unmix._zlp_kernels import richardson_lucy_step
from hspy_unmix.metrics import zlp_fwhm
from hspy_unmix.synthetic import zlp_blur_kernel, zlp_test_signal


def test_import_does_not_load_tensorflow():
    code = ("import sys, hspy_unmix, hspy_unmix.zlp, hspy_unmix.synthetic, hspy_unmix.metrics;"
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def _blurred_peak():
    x = np.zeros((2, 256))
    x[0, 128] = 1.0
    x[1, 100] = 0.5
    x[1, 140] = 0.5
    psf = np.exp(-0.5 * (np.arange(-20, 21) / 4.0) ** 2)
    psf /= psf.sum()
    blurred = np.stack([np.convolve(r, psf, mode="same") for r in x])
    return x, blurred, psf


def test_richardson_lucy_sharpens_and_conserves_integral():
    x, blurred, psf = _blurred_peak()
    restored = richardson_lucy(blurred, psf, iterations=100)
    assert restored.shape == blurred.shape
    assert (restored >= 0).all()
    np.testing.assert_allclose(restored.sum(axis=1), blurred.sum(axis=1), rtol=1e-6)
    w_b, w_r = zlp_fwhm(blurred[:1]), zlp_fwhm(restored[:1])
    assert w_r < 0.5 * w_b  # blurred FWHM ~9.4 channels
    assert restored[0].argmax() == 128
    # re-blurring the estimate reproduces the data (the RL fixed point)
    reblur = np.convolve(restored[0], psf, mode="same")
    assert np.abs(reblur - blurred[0]).max() < 0.05 * blurred[0].max()
    # the two peaks 40 channels apart are separated again
    assert restored[1, 120] < 0.1 * restored[1, 100]


def test_richardson_lucy_zero_iterations_and_per_spectrum_psf():
    _, blurred, psf = _blurred_peak()
    np.testing.assert_allclose(richardson_lucy(blurred, psf, 0), blurred)
    both = richardson_lucy(blurred, np.stack([psf, psf]), 10)
    np.testing.assert_allclose(both, richardson_lucy(blurred, psf, 10), rtol=1e-10)


def test_richardson_lucy_bad_input():
    _, blurred, psf = _blurred_peak()
    bad = blurred.copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        richardson_lucy(bad, psf)
    with pytest.raises(ValueError, match="non-negative"):
        richardson_lucy(blurred - 0.1, psf, clip_negative=False)
    with pytest.raises(ValueError, match="positive sum"):
        richardson_lucy(blurred, np.zeros(5))


@pytest.mark.parametrize("compiled", [True, False])
def test_kernel_step(compiled):
    _, blurred, psf = _blurred_peak()
    step = richardson_lucy_step if compiled else richardson_lucy_step.py_func
    est = blurred[0].copy()
    for _ in range(5):
        est = step(est, blurred[0], psf, 1e-12)
    np.testing.assert_allclose(est, richardson_lucy(blurred[:1], psf, 5, engine="fft")[0],
                               rtol=1e-6,
                               atol=1e-12)


def test_restore_zlp_rl_on_known_psf_sharpens_generated_zlp():
    s, truth = zlp_test_signal((3,), n_peaks=(0, 0), n_jitter=0, psf_fwhm=(0.1, 0.1),
                               noise_amplitude=1e-6, random_state=0)
    kernel = zlp_blur_kernel(0.1, half_width=300)
    out = s.restore_zlp(method="richardson_lucy", psf=kernel, iterations=50)
    before = zlp_fwhm(s.data, 0.005)
    after = zlp_fwhm(out.data, 0.005)
    assert (after < 0.6 * before).all()
    np.testing.assert_allclose(out.data.sum(-1), s.data.sum(-1), rtol=1e-3)
    rec = out.metadata.Signal.restore_zlp
    assert rec.method == "richardson_lucy" and rec.iterations == 50 and rec.psf == "given"


def test_restore_zlp_rl_measured_psf_new_signal_same_axes():
    s, _ = zlp_test_signal((2, 2), random_state=1)
    before = s.data.copy()
    out = s.restore_zlp(method="richardson_lucy", iterations=10)
    np.testing.assert_array_equal(s.data, before)
    assert out is not s and out.data.shape == s.data.shape
    assert out.axes_manager.signal_axes[0].scale == 0.005
    assert out.axes_manager.signal_axes[0].offset == -2.0
    assert out.metadata.Signal.restore_zlp.psf == "measured ZLP"
    assert "EELS" in type(out).__name__ or out.metadata.Signal.signal_type == "EELS"


def test_restore_zlp_rl_lazy_equals_eager():
    s, _ = zlp_test_signal((3, 2), random_state=2)
    eager = s.restore_zlp(method="richardson_lucy", iterations=5)
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((1, 2, 512))
    out = lazy.restore_zlp(method="richardson_lucy", iterations=5)
    assert out._lazy
    np.testing.assert_allclose(out.data.compute(), eager.data, rtol=1e-12)
    assert s.restore_zlp(method="richardson_lucy", iterations=1, lazy_output=True)._lazy


def test_integer_data_accepted():
    s, _ = zlp_test_signal((2,), random_state=3)
    s.data = np.round(s.data).astype(np.uint32)
    out = s.restore_zlp(method="richardson_lucy", iterations=3)
    assert out.data.dtype == np.float64


def test_bad_input_rl():
    s, _ = zlp_test_signal((2,), random_state=4)
    bad = s.deepcopy()
    bad.data[0, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bad.restore_zlp(method="richardson_lucy")
    neg = s.deepcopy()
    neg.data[0, 1000:] = -0.5 * neg.data[0].sum() / 1048  # 1/3 of |intensity| < 0
    with pytest.raises(ValueError, match="negative-heavy"):
        neg.restore_zlp(method="richardson_lucy")
    zero = s.deepcopy()
    zero.data[1] = 0
    with pytest.raises(ValueError, match="non-positive integral"):
        zero.restore_zlp(method="richardson_lucy")
    with pytest.raises(ValueError, match="method"):
        s.restore_zlp(method="wiener")
    with pytest.raises(ValueError, match="psf"):
        s.restore_zlp(method="richardson_lucy", psf=np.zeros(5))
    # small negatives from noise are fine
    noisy = s.deepcopy()
    noisy.data[:, :50] = -1.0
    noisy.restore_zlp(method="richardson_lucy", iterations=2)


def test_not_a_spectrum_and_non_uniform_axis():
    import exspy
    import hyperspy.api as hs

    img = hs.signals.Signal2D(np.ones((8, 16, 16)))
    with pytest.raises(ValueError, match="signal dimension"):
        hspy_unmix.zlp.restore_zlp(img, method="richardson_lucy")
    with pytest.raises(TypeError):
        hspy_unmix.zlp.restore_zlp(np.ones(10))
    energy = np.r_[np.linspace(-1, 1, 100) ** 3]
    axes = [{"axis": energy, "name": "Energy loss", "units": "eV"}]
    s = exspy.signals.EELSSpectrum(np.exp(-energy**2 / 0.01) + 1.0, axes=axes)
    with pytest.raises(ValueError, match="uniform"):
        s.restore_zlp(method="richardson_lucy")


def test_engines_agree():
    _, blurred, _ = _blurred_peak()
    psf = np.exp(-0.5 * (np.arange(-7, 8) / 2.0) ** 2)
    a = richardson_lucy(blurred, psf, 20, engine="fft")
    b = richardson_lucy(blurred, psf, 20, engine="numba")
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
    with pytest.raises(ValueError, match="odd"):
        richardson_lucy(blurred, np.ones(4), engine="numba")
