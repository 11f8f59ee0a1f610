"""richardson_lucy and its numba kernels (compiled and through .py_func)."""

import numpy as np
import pytest

from hspy_unmix.metrics import zlp_fwhm
from hspy_unmix.restoration import richardson_lucy
from hspy_unmix.restoration._rl_kernels import richardson_lucy_step


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


@pytest.mark.parametrize("per_spectrum", [False, True])
def test_fft_engine_in_batches_equals_each_spectrum_alone(per_spectrum, monkeypatch):
    """The FFT engine iterates a batch of spectra at a time (bounded
    temporaries); every spectrum comes out as when it is deconvolved alone,
    with its own kernel, also for leading axes that are not flat."""
    import importlib

    module = importlib.import_module("hspy_unmix.restoration.richardson_lucy")

    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 1.0, (3, 7, 200))
    widths = rng.uniform(2.0, 6.0, (3, 7, 1)) if per_spectrum else np.array([4.0])
    psf = np.exp(-0.5 * (np.arange(-30, 31) / widths) ** 2)  # even engine: 61 > 31
    blurred = x + 0.0
    monkeypatch.setattr(module, "_FFT_BATCH_MB", 4096 * 8 / 2**20)  # 8 rows
    batched = richardson_lucy(blurred, psf, 15, engine="fft")
    for i, j in np.ndindex(3, 7):
        kernel = psf[i, j] if per_spectrum else psf
        alone = richardson_lucy(blurred[i, j], kernel, 15, engine="fft")
        np.testing.assert_allclose(batched[i, j], alone, rtol=1e-12, atol=1e-15)


def test_fft_engine_temporaries_stay_a_few_mib():
    """256 spectra of 2048 channels (4 MiB in float64), each with its own
    61-channel kernel: the kernels' transforms and the iterations' arrays
    of a 64-row batch, not of all 256 rows (52 MiB then)."""
    import tracemalloc

    rng = np.random.default_rng(4)
    x = rng.gamma(2.0, 50.0, (256, 2048))
    psf = np.exp(-0.5 * (np.arange(-30, 31) / rng.uniform(3, 6, (256, 1))) ** 2)
    richardson_lucy(x[:2], psf[:2], 1)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        richardson_lucy(x, psf, 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the result and the data's copy (8 MiB) plus a batch's arrays
    assert peak < 24 * 2**20, peak / 2**20


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


def test_engines_agree():
    _, blurred, _ = _blurred_peak()
    psf = np.exp(-0.5 * (np.arange(-7, 8) / 2.0) ** 2)
    a = richardson_lucy(blurred, psf, 20, engine="fft")
    b = richardson_lucy(blurred, psf, 20, engine="numba")
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
    with pytest.raises(ValueError, match="odd"):
        richardson_lucy(blurred, np.ones(4), engine="numba")
