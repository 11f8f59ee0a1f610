"""``pan_sharpen`` (SI + SI) under Poisson and read-out noise: the noise model,
the weighting it gives, intensity units and energy axes, all against known truth."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hspy_unmix  # noqa: F401
from hspy_unmix.fusion._energy import energy_plan
from hspy_unmix.fusion._noise import estimate_noise
from hspy_unmix.metrics import mean_spectral_angle, psnr
from hspy_unmix.synthetic import pan_sharpening_pair

#: Detector of the noisy fine SI: units per electron and read-out noise (units).
GAIN, READ_NOISE = 2.5, 6.0


def gain_on(truth, estimate):
    """Least-squares factor ``c`` of ``estimate ~ c * truth``."""
    estimate = np.asarray(getattr(estimate, "data", estimate))
    return float((estimate * truth).sum() / (truth ** 2).sum())


def quiet_pan_sharpen(s, other, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return s.pan_sharpen(other, 3, random_state=0, show_progressbar=False, **kwargs)


@pytest.fixture(scope="module")
def pair():
    """Chequerboard pair (2 electrons per channel fine, 4x4-binned coarse at 500)."""
    return pan_sharpening_pair(3, shape=(48, 48), bin_factor=4, low_dose=2.0,
                               high_dose=500.0, random_state=0, block=6, averaging=1)


@pytest.fixture(scope="module")
def read_noisy(pair):
    """The fine SI through a detector: GAIN units per electron plus read-out noise.

    Per channel the Poisson variance is GAIN**2 * 2 = 12.5 units**2, the
    read-out variance 36: read-out noise dominates, as with short dwells.
    """
    fine, _, truth = pair
    rng = np.random.default_rng(10)
    data = GAIN * rng.poisson(truth.clean) + rng.normal(0, READ_NOISE, truth.clean.shape)
    return fine._deepcopy_with_new_data(data), GAIN * truth.clean


# --- the noise estimate -------------------------------------------------------

@pytest.mark.parametrize("gain, read_noise", [(2.5, 6.0), (1.0, 0.0), (0.5, 1.0)])
def test_estimated_gain_and_read_noise(pair, gain, read_noise):
    """Within 6 % (gain) and 2 % (read-out noise) of the detector that made the SI.

    Core-loss edges, three phases, 2 electrons per channel. Forgetting the
    factor 1.5 of the high-pass filter puts the read-out noise 22 % high;
    the variance across pixels without the high-pass holds the phases'
    differences. Pure Poisson data get no read-out noise at all (under 3
    standard errors is zero).
    """
    _, _, truth = pair
    rng = np.random.default_rng(1)
    X = gain * rng.poisson(truth.clean) + rng.normal(0, read_noise, truth.clean.shape)
    model = estimate_noise(X.reshape(-1, X.shape[-1]))
    assert model.gain == pytest.approx(gain, rel=0.06)
    if read_noise:
        assert model.read_noise == pytest.approx(read_noise, rel=0.02)
    else:
        assert model.read_noise == 0.0
    assert model.n_pixels == 48 * 48


def test_noise_estimate_ignores_sharp_peaks():
    """Peaks one channel wide whose height varies from pixel to pixel.

    Their curvature leaks into the high-pass residual at a few channels;
    the robust fit gives those no weight and stays within 3 % of the truth,
    where an ordinary straight-line fit of the same points is off by more.
    """
    from hspy_unmix.fusion._noise import variance_points

    rng = np.random.default_rng(0)
    c = np.arange(256)
    background = 30 * np.exp(-c / 120.0)
    peaks = sum(np.exp(-0.5 * ((c - p) / 0.8) ** 2) for p in (40, 90, 150, 200))
    mu = (rng.uniform(0.3, 1.5, 2500)[:, None] * background
          + (rng.uniform(0, 1, 2500) ** 2 * 40)[:, None] * peaks)
    X = 2.0 * rng.poisson(mu) + rng.normal(0, 3.0, mu.shape)
    model = estimate_noise(X)
    assert model.gain == pytest.approx(2.0, rel=0.03)
    assert model.read_noise == pytest.approx(3.0, rel=0.03)
    z, v, _ = variance_points(X)
    slope, intercept = np.linalg.lstsq(np.column_stack([z, np.ones_like(z)]), v, rcond=None)[0]
    assert abs(slope / 2.0 - 1) > 0.04


def test_gaussian_noise_only_has_no_gain(pair):
    _, _, truth = pair
    rng = np.random.default_rng(2)
    X = truth.clean + rng.normal(0, 2.0, truth.clean.shape)
    model = estimate_noise(X.reshape(-1, X.shape[-1]))
    assert model.gain < 0.05
    assert model.read_noise == pytest.approx(2.0, rel=0.02)


def test_noise_model_recorded(pair, read_noisy):
    _, coarse, _ = pair
    s, _ = read_noisy
    fused = quiet_pan_sharpen(s, coarse)
    rec = fused.metadata.Signal.pan_sharpen
    assert rec.weighting == "auto"
    assert rec.noise_model.gain == pytest.approx(GAIN, rel=0.06)
    assert rec.noise_model.read_noise == pytest.approx(READ_NOISE, rel=0.02)
    assert 0 < rec.noise_model.gain_error < 0.1 * GAIN
    # the coarse SI: Poisson counts only
    assert rec.other_noise_model.gain == pytest.approx(1.0, rel=0.06)
    assert rec.other_noise_model.read_noise == 0.0


# --- the weighting it gives ---------------------------------------------------

def test_read_noise_aware_weighting_beats_poisson(pair, read_noisy):
    """With read-out noise dominating, "auto" beats "poisson" by at least 0.6 dB.

    Measured: 1.2 to 1.3 dB on four seeds (Poisson weights trust the
    low-count channels as if their variance were their counts). "auto" is
    also at least as good as ordinary least squares, and keeps the
    intensity of the truth within 1 %.
    """
    _, coarse, _ = pair
    s, clean = read_noisy
    auto = quiet_pan_sharpen(s, coarse, weighting="auto")
    poisson = quiet_pan_sharpen(s, coarse, weighting="poisson")
    plain = quiet_pan_sharpen(s, coarse, weighting=None)
    assert psnr(clean, auto) >= psnr(clean, poisson) + 0.6
    assert mean_spectral_angle(clean, auto) < 0.95 * mean_spectral_angle(clean, poisson)
    assert psnr(clean, auto) >= psnr(clean, plain)
    assert gain_on(clean, auto) == pytest.approx(1.0, abs=0.01)


def test_auto_is_poisson_without_read_noise(pair):
    fine, coarse, _ = pair
    auto = quiet_pan_sharpen(fine, coarse, weighting="auto")
    poisson = quiet_pan_sharpen(fine, coarse, weighting="poisson")
    assert auto.metadata.Signal.pan_sharpen.noise_model.read_noise == 0.0
    np.testing.assert_allclose(auto.data, poisson.data, rtol=1e-9, atol=1e-9)


def test_lazy_equals_eager_with_per_pixel_weights(pair, read_noisy):
    _, coarse, _ = pair
    s, _ = read_noisy
    kwargs = dict(smoothness=0.5, smoothing_iterations=2, return_report=True)
    eager = quiet_pan_sharpen(s, coarse, **kwargs)
    lazy_in = s.as_lazy()
    lazy_in.data = lazy_in.data.rechunk((16, 24, -1))
    lazy = quiet_pan_sharpen(lazy_in, coarse, **kwargs)
    assert lazy.fused._lazy
    np.testing.assert_allclose(lazy.fused.data.compute(), eager.fused.data, rtol=1e-9, atol=1e-9)
    chi2 = eager.reduced_chi2.data
    np.testing.assert_allclose(lazy.reduced_chi2.data.compute(), chi2, rtol=1e-9, atol=1e-9)
    # the chi-square under the fitted noise model is about one
    assert 0.8 < np.median(chi2) < 1.2


# --- units and energy axes ----------------------------------------------------

def test_intensity_units_of_self(pair, read_noisy):
    """The fused spectra keep self's units (GAIN per electron), within 1 %."""
    _, coarse, _ = pair
    s, clean = read_noisy
    for weighting in ("auto", "poisson", None):
        assert gain_on(clean, quiet_pan_sharpen(s, coarse, weighting=weighting)) == (
            pytest.approx(1.0, abs=0.01))


def test_fractional_offset_gives_self_axis_and_units(pair):
    """Other offset by 0.4 channel: the result is on self's full axis, gain within 1 %."""
    fine, coarse, truth = pair
    energy = truth.energy
    step = energy[1] - energy[0]
    shifted = energy + 0.4 * step
    rng = np.random.default_rng(4)
    E_shifted = np.stack([np.interp(shifted, energy, e) for e in truth.endmembers])
    clean_coarse = truth.coarse_abundances @ E_shifted * (500.0 / 2.0)
    other = coarse._deepcopy_with_new_data(rng.poisson(clean_coarse).astype(float))
    other.axes_manager.signal_axes[0].offset = float(shifted[0])
    fused = quiet_pan_sharpen(fine, other)
    rec = fused.metadata.Signal.pan_sharpen
    assert rec.interpolation == "linear"
    assert fused.data.shape == fine.data.shape
    np.testing.assert_allclose(fused.axes_manager.signal_axes[0].axis, energy)
    assert gain_on(truth.clean, fused) == pytest.approx(1.0, abs=0.01)
    assert psnr(truth.clean, fused) > psnr(truth.clean, fine) + 10


def test_energy_maps_keep_counts_per_ev():
    """Linear interpolation of counts per eV and summation over wider channels."""
    import hyperspy.api as hs

    def si(offset, scale, n):
        s = hs.signals.Signal1D(np.zeros((2, n)))
        ax = s.axes_manager.signal_axes[0]
        ax.offset, ax.scale, ax.units = offset, scale, "eV"
        return s

    def integral(a, b):  # of the density 1 + 0.01 e (counts per eV)
        return (b - a) + 0.005 * (b ** 2 - a ** 2)

    other = si(100.0, 0.5, 400)
    e_o = other.axes_manager.signal_axes[0].axis
    counts_o = integral(e_o - 0.25, e_o + 0.25)
    # self 0.3 channel off, twice as wide: counts summed over each channel
    s = si(100.15, 1.0, 190)
    plan = energy_plan(s, other)
    assert plan.interpolation == "rebin" and plan.ratio == pytest.approx(0.5)
    e_s = s.axes_manager.signal_axes[0].axis[plan.self_slice]
    assert e_s[0] == pytest.approx(100.15)  # starts below other's first channel edge
    counts = plan.from_other(counts_o[plan.other_slice][None])[0]
    np.testing.assert_allclose(counts[1:], integral(e_s - 0.5, e_s + 0.5)[1:], rtol=1e-12)
    # [99.65, 100.65]: other's first channel (its density extended below
    # 99.75 eV, 0.6 eV in all) and 0.4 eV of the second
    assert counts[0] == pytest.approx(1.2 * counts_o[0] + 0.8 * counts_o[1], rel=1e-12)
    # self four times narrower: a linear density is interpolated exactly
    s = si(101.05, 0.125, 1400)
    plan = energy_plan(s, other)
    assert plan.interpolation == "linear" and plan.ratio == pytest.approx(4.0)
    e_s = s.axes_manager.signal_axes[0].axis[plan.self_slice]
    assert e_s.size == 1400
    np.testing.assert_allclose(plan.from_other(counts_o[plan.other_slice][None])[0],
                               integral(e_s - 0.0625, e_s + 0.0625), rtol=1e-12)


# --- memory: the sample of a large SI ------------------------------------------

def test_noise_sample_reads_whole_rows_in_runs_one_chunk_each(counting_lazy):
    """Whole rows in 8 evenly spaced runs: the same pixels eager and lazy,
    float32 kept; a lazy SI chunked in runs' rows reads one chunk per run
    (every 4th row, the same number of pixels, would read 16 chunks)."""
    from hspy_unmix.fusion import _noise
    from hspy_unmix.fusion._noise import sample_spectra

    data = np.random.default_rng(0).poisson(5.0, (64, 32, 50)).astype(np.float32)
    rows = [r for start in range(0, 64, 8) for r in (start, start + 1)]
    lazy, reads = counting_lazy(data, (1, 32, 50))
    eager = sample_spectra(data, False, max_pixels=512)
    sample = sample_spectra(lazy.data, True, max_pixels=512)
    assert sample.dtype == np.float32 and eager.dtype == np.float32
    np.testing.assert_array_equal(eager, data[rows].reshape(-1, 50))
    np.testing.assert_array_equal(sample, eager)
    assert reads["n"] == 16  # of 64 one-row chunks: only the rows taken
    # chunks of 2 rows (one run each): 8 reads of 32 chunks
    assert _noise._row_runs(data.shape, data.dtype, 16).tolist() == rows
    lazy, reads = counting_lazy(data, (2, 32, 50))
    np.testing.assert_array_equal(sample_spectra(lazy.data, True, max_pixels=512), eager)
    assert reads["n"] == 8
    # integers become float64; a line scan and a 3D scan are strided
    assert sample_spectra(data.astype(np.uint16), False, 512).dtype == np.float64
    line = data.reshape(-1, 50)
    np.testing.assert_array_equal(sample_spectra(line, False, 512), line[::4])
    cube = data.reshape(4, 16, 32, 50)
    np.testing.assert_array_equal(sample_spectra(cube, False, 512),
                                  cube[::2, ::2].reshape(-1, 50))


def test_noise_points_by_channel_blocks_equal_the_whole_bin():
    """The bin statistics computed CHANNEL_BLOCK channels at a time equal the
    textbook formulas on the whole bin (600 channels: a partial last block)."""
    from hspy_unmix.fusion import _noise

    rng = np.random.default_rng(1)
    X = rng.poisson(rng.uniform(5, 50, (400, 1)) * np.linspace(1, 3, 600)).astype(np.float32)
    z, v, n = _noise.variance_points(X)
    order = np.argsort(X.astype(np.float64).sum(1), kind="stable")
    zs, vs = [], []
    for idx in np.array_split(order, _noise.N_GROUPS):
        G = X[idx].astype(np.float64)
        R = G[:, 1:-1] - 0.5 * (G[:, :-2] + G[:, 2:])
        vs.append(((R - R.mean(0)) ** 2).sum(0) / (len(idx) - 1))
        m = G.mean(0)
        zs.append(m[1:-1] + 0.25 * (m[:-2] + m[2:]))
    np.testing.assert_allclose(v, np.concatenate(vs), rtol=1e-12)
    np.testing.assert_allclose(z, np.concatenate(zs), rtol=1e-12)
    assert n.tolist() == [50] * (8 * 598)


def test_two_column_nnls_equals_scipy_nnls():
    from scipy.optimize import nnls

    from hspy_unmix.fusion._noise import nnls_two_columns

    rng = np.random.default_rng(0)
    faces = set()
    for trial in range(300):
        m = int(rng.integers(3, 60))
        A = np.column_stack([rng.uniform(0, 10.0 ** rng.uniform(-3, 4), m), np.ones(m)])
        truth = rng.normal(0, 1, 2) * [10.0 ** rng.uniform(-2, 2), 1.0]
        y = A @ truth + rng.normal(0, 0.3, m)
        x = nnls_two_columns(A, y)
        reference, _ = nnls(A, y)
        faces.add(tuple(reference > 0))
        assert (x >= 0).all()
        # the same optimum: equal residuals (the arithmetic of both is float64)
        np.testing.assert_allclose(np.linalg.norm(A @ x - y), np.linalg.norm(A @ reference - y),
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(x, reference, rtol=1e-6, atol=1e-9 * np.abs(reference).max())
    assert faces == {(True, True), (True, False), (False, True), (False, False)}
    # a zero column keeps its coefficient at zero
    A = np.column_stack([np.zeros(5), np.ones(5)])
    np.testing.assert_allclose(nnls_two_columns(A, np.full(5, 2.0)), [0.0, 2.0])
    np.testing.assert_array_equal(nnls_two_columns(np.zeros((4, 2)), np.ones(4)), [0.0, 0.0])


def test_noise_sample_runs_follow_load_lazy_chunks_of_a_large_scan():
    """A 512 x 512 scan of 2048 float32 channels: load_lazy's 16 MiB chunks
    hold 4 rows; the 8192 spectra sampled (64 MiB) are 16 rows in 8 runs of
    2, each within one chunk."""
    from hspy_unmix.fusion._noise import _row_runs, sample_size

    assert sample_size(2048) == 8192  # 64 MiB of float32
    rows = _row_runs((512, 512, 2048), np.float32, sample_size(2048) // 512)
    assert rows.size == 16 and np.unique(rows).size == 16
    assert np.unique(rows // 4).size == 8  # chunks read
    # runs evenly spaced over the scan
    np.testing.assert_array_equal(rows[::2], np.arange(0, 512, 64))


def test_noise_sample_is_bounded_in_memory(monkeypatch):
    """The sample holds at most MAX_SAMPLE_MB of float32, whole rows, eager = lazy."""
    import dask.array as da

    from hspy_unmix.fusion import _noise

    monkeypatch.setattr(_noise, "MAX_SAMPLE_MB", 1)
    data = np.random.default_rng(0).random((64, 64, 512), dtype=np.float32)
    n = _noise.sample_size(512)
    assert n == 1024  # the floor: 1 MiB holds 512 spectra of 512 channels
    eager = _noise.sample_spectra(data, False)
    lazy = _noise.sample_spectra(da.from_array(data, chunks=(4, 64, 512)), True)
    assert eager.shape == (n, 512) and eager.dtype == np.float32
    np.testing.assert_array_equal(eager, lazy)
    # whole rows of the scan
    first = eager[:64]
    assert any(np.array_equal(first, data[r]) for r in range(64))
    monkeypatch.setattr(_noise, "MAX_SAMPLE_MB", 64)
    assert _noise.sample_spectra(data, False).shape == (4096, 512)  # all, under both bounds
