"""s.restore_zlp(): checks, bad spectra, no-ZLP refusal, eager/lazy (Richardson-Lucy path).

The U-net path is tested in test_unet.py; the checks here run before any
network is loaded, so no test in this file imports Keras.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import hspy_unmix
from hspy_unmix.metrics import zlp_fwhm
from hspy_unmix.restoration import NoZeroLossPeakError
from hspy_unmix.synthetic import zlp_blur_kernel, zlp_test_signal

from conftest import shared_file


def test_import_does_not_load_tensorflow():
    code = ("import sys, hspy_unmix, hspy_unmix.restoration, hspy_unmix.synthetic, "
            "hspy_unmix.metrics; print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_rl_on_known_psf_sharpens_generated_zlp():
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
    assert rec.flags.data.tolist() == [0, 0, 0]


def test_rl_measured_psf_new_signal_same_axes():
    s, _ = zlp_test_signal((2, 2), random_state=1)
    before = s.data.copy()
    out = s.restore_zlp(method="richardson_lucy", iterations=10)
    np.testing.assert_array_equal(s.data, before)
    assert out is not s and out.data.shape == s.data.shape
    assert out.axes_manager.signal_axes[0].scale == 0.005
    assert out.axes_manager.signal_axes[0].offset == -2.0
    rec = out.metadata.Signal.restore_zlp
    assert rec.psf == "measured ZLP"
    # default kernel half width: three measured widths, in channels
    assert rec.psf_half_width_channels == int(np.ceil(3 * rec.measured_zlp_fwhm_channels))
    assert "EELS" in type(out).__name__ or out.metadata.Signal.signal_type == "EELS"


def test_rl_lazy_equals_eager_flags_included():
    s, _ = zlp_test_signal((3, 2), random_state=2)
    s.data[1, 1] = 0.0
    with pytest.warns(UserWarning, match="1 without counts"):
        eager = s.restore_zlp(method="richardson_lucy", iterations=5)
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((1, 2, 512))
    out = lazy.restore_zlp(method="richardson_lucy", iterations=5)
    assert out._lazy
    np.testing.assert_allclose(out.data.compute(), eager.data, rtol=1e-12)
    flags = out.metadata.Signal.restore_zlp.flags
    assert flags._lazy
    np.testing.assert_array_equal(np.asarray(flags.data), eager.metadata.Signal.restore_zlp.flags.data)
    assert s.restore_zlp(method="richardson_lucy", iterations=1, lazy_output=True)._lazy


def test_lazy_input_eager_output_reads_each_chunk_once_and_warns(counting_lazy):
    s, _ = zlp_test_signal((4, 3), random_state=6)
    s.data[2, 1] = 0.0
    with pytest.warns(UserWarning, match="of 12 spectra, 1 without counts"):
        eager = s.restore_zlp(method="richardson_lucy", iterations=3)
    counted, reads = counting_lazy(s.data, (1, 3, s.data.shape[-1]))
    lazy = s.as_lazy()
    lazy.data = counted.data
    from hspy_unmix.restoration.planning import sample_spectra

    sample_spectra(lazy.data)
    planning, reads["n"] = reads["n"], 0
    with pytest.warns(UserWarning, match="of 12 spectra, 1 without counts"):
        out = lazy.restore_zlp(method="richardson_lucy", iterations=3, lazy_output=False)
    # the planning sample, then the 4 chunks once for the spectra and the flags together
    assert reads["n"] == planning + 4
    assert not out._lazy and not out.metadata.Signal.restore_zlp.flags._lazy
    np.testing.assert_allclose(out.data, eager.data, rtol=1e-12)
    np.testing.assert_array_equal(out.metadata.Signal.restore_zlp.flags.data,
                                  eager.metadata.Signal.restore_zlp.flags.data)


def test_integer_data_accepted():
    s, _ = zlp_test_signal((2,), random_state=3)
    s.data = np.round(s.data).astype(np.uint32)
    out = s.restore_zlp(method="richardson_lucy", iterations=3)
    assert out.data.dtype == np.float64


def test_bad_spectra_never_fail_the_signal():
    s, _ = zlp_test_signal((6,), random_state=4)
    s.data[0, 10] = np.nan
    s.data[1] = 0.0
    s.data[2, 1000:] = -0.4 * s.data[2].sum() / 1048  # over 20 % of |intensity| below zero
    s.data[3, 5] = np.inf
    before = s.data.copy()
    with pytest.warns(UserWarning, match=r"of 6 spectra, 1 without counts and 2 with NaN/inf"):
        out = s.restore_zlp(method="richardson_lucy", iterations=5, psf_half_width=0.4)
    np.testing.assert_array_equal(s.data, before)  # input untouched, NaN included
    assert out.metadata.Signal.restore_zlp.flags.data.tolist() == [2, 1, 3, 2, 0, 0]
    assert (out.data[[0, 1, 3]] == 0).all()
    assert np.isfinite(out.data).all()
    # the good spectra are restored exactly as on their own
    alone = s.inav[4:].restore_zlp(method="richardson_lucy", iterations=5, psf_half_width=0.4)
    np.testing.assert_allclose(out.data[4:], alone.data, rtol=1e-12)
    # small negatives from noise raise no warning
    noisy, _ = zlp_test_signal((2,), random_state=5)
    noisy.data[:, :50] = -1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        noisy.restore_zlp(method="richardson_lucy", iterations=2)


def test_argument_errors():
    s, _ = zlp_test_signal((2,), random_state=4)
    with pytest.raises(ValueError, match="method"):
        s.restore_zlp(method="wiener")
    with pytest.raises(ValueError, match="psf"):
        s.restore_zlp(method="richardson_lucy", psf=np.zeros(5))
    with pytest.raises(ValueError, match="iterations"):
        s.restore_zlp(method="richardson_lucy", iterations=-1)


def test_not_a_spectrum_and_non_uniform_axis():
    import exspy
    import hyperspy.api as hs

    from hspy_unmix.signals.restore_zlp import restore_zlp

    img = hs.signals.Signal2D(np.ones((8, 16, 16)))
    with pytest.raises(TypeError, match="signal dimension"):
        restore_zlp(img, method="richardson_lucy")
    with pytest.raises(TypeError):
        restore_zlp(np.ones(10))
    energy = np.r_[np.linspace(-1, 1, 100) ** 3]
    axes = [{"axis": energy, "name": "Energy loss", "units": "eV"}]
    s = exspy.signals.EELSSpectrum(np.exp(-energy**2 / 0.01) + 1.0, axes=axes)
    with pytest.raises(ValueError, match="uniform"):
        s.restore_zlp(method="richardson_lucy")


_CORE_LOSS = """
import numpy as np, exspy
e = 300.0 + np.arange(1024) * 0.5
bg = 1e9 * e**-3.0
edge = 3e-3 * bg.max() * (e > 532) * np.exp(-(e - 532) / 80.0)
core = exspy.signals.EELSSpectrum(
    np.random.default_rng(0).poisson(bg + edge, (3, 4, 1024)).astype(float))
ax = core.axes_manager.signal_axes[0]
ax.offset, ax.scale, ax.units = 300.0, 0.5, "eV"
"""


@pytest.mark.parametrize("method", ["unet", "richardson_lucy"])
def test_no_zlp_refused_before_any_network_import(method):
    code = _CORE_LOSS + f"""
import sys, hspy_unmix
from hspy_unmix.restoration import NoZeroLossPeakError
try:
    core.restore_zlp(method="{method}")
except NoZeroLossPeakError as exc:
    print("refused", "300 to 811.5 eV" in str(exc), "keras" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["refused", "True", "False"], out.stderr[-2000:]


def test_zlp_cropped_out_refused():
    s, _ = zlp_test_signal((2,), random_state=6)
    cropped = s.isig[1.0:]  # the window starts 1 eV past the ZLP
    with pytest.raises(NoZeroLossPeakError):
        cropped.restore_zlp(method="richardson_lucy")


@pytest.mark.parametrize("name", ["eels/CuZn_coreloss_SI_50x40.hspy",
                                  "eels/LSMO_coreloss_linescan_40.hspy",
                                  "eels/angadi_coreloss_SI_16x16_0.5eV_28-540eV.dm3",
                                  "eels/rsciio_EELS_SI_2x2x2048.dm4"])
def test_real_core_loss_files_refused(name):
    import hyperspy.api as hs

    s = hs.load(shared_file(name))
    with pytest.raises(NoZeroLossPeakError):
        s.restore_zlp(method="richardson_lucy")


def test_restore_zlp_reachable_from_old_module_path():
    assert hspy_unmix.zlp.restore_zlp is hspy_unmix.signals.restore_zlp.restore_zlp
