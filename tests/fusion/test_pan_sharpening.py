"""Tests of ``s.pan_sharpen``: quality against ground truth, axes, lazy, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import hspy_unmix  # noqa: F401
from hspy_unmix.metrics import mean_spectral_angle, psnr
from hspy_unmix.pan_sharpening import (
    PanSharpenResult,
    estimate_n_components_pan,
    neighbour_mean,
)
from hspy_unmix.synthetic import pan_sharpening_pair

from conftest import shared_file

DOSE = 2.0


@pytest.fixture(scope="module")
def pair():
    """Sharp 6-pixel features on a 48x48 grid; high-dose copy binned 4x4."""
    return pan_sharpening_pair(
        3, shape=(48, 48), bin_factor=4, low_dose=DOSE, high_dose=500.0,
        random_state=0, block=6, averaging=1,
    )


@pytest.fixture(scope="module")
def report(pair):
    fine, coarse, _ = pair
    return fine.pan_sharpen(coarse, random_state=0, return_report=True)


def test_beats_baselines(pair, report):
    fine, coarse, truth = pair
    fused = report.fused
    ups = np.repeat(np.repeat(coarse.data, 4, 0), 4, 1) * DOSE / 500.0
    pca = fine.deepcopy()
    pca.decomposition(output_dimension=3, print_info=False)
    pca_model = pca.get_decomposition_model(3).data
    p_fused = psnr(truth.clean, fused)
    a_fused = mean_spectral_angle(truth.clean, fused)
    for baseline, margin in ((fine.data, 10.0), (ups, 3.0), (pca_model, 3.0)):
        assert p_fused >= psnr(truth.clean, baseline) + margin
        assert a_fused < 0.9 * mean_spectral_angle(truth.clean, baseline)


def test_result_axes_and_metadata(pair, report):
    fine, coarse, _ = pair
    fused = report.fused
    assert type(fused).__name__ == "EELSSpectrum"
    assert fused.data.shape == fine.data.shape
    nav_f = fused.axes_manager.navigation_axes
    nav_s = fine.axes_manager.navigation_axes
    assert [a.scale for a in nav_f] == [a.scale for a in nav_s]
    rec = fused.metadata.Signal.pan_sharpen
    assert rec.algorithm == "NMF"
    assert rec.n_components == 3 and rec.n_components_estimated
    assert rec.interpolation == "none"
    np.testing.assert_allclose(rec.energy_overlap, [250.0, 250.0 + 199 * 10 / 3])
    assert rec.endmembers.shape == (3, 200)
    assert fused.metadata.General.title.startswith("Pan-sharpened")
    assert isinstance(report, PanSharpenResult)
    assert report.abundances.data.shape == (3, 48, 48)
    assert report.abundances.axes_manager.signal_shape == (48, 48)
    assert report.endmembers.data.shape == (3, 200)
    assert report.reduced_chi2.data.shape == (48, 48)
    np.testing.assert_allclose(
        np.moveaxis(report.abundances.data, 0, -1) @ report.endmembers.data, fused.data,
        rtol=1e-10, atol=1e-10,
    )
    # Poisson noise only: the reduced chi-square is of order one
    assert 0.5 < np.median(report.reduced_chi2.data) < 1.5


def test_input_not_modified(pair):
    fine, coarse, _ = pair
    before = fine.data.copy(), coarse.data.copy()
    fine.pan_sharpen(coarse, n_components=3, random_state=1)
    np.testing.assert_array_equal(fine.data, before[0])
    np.testing.assert_array_equal(coarse.data, before[1])


def test_estimate_n_components(pair):
    _, coarse, _ = pair
    X = coarse.data.reshape(-1, 200)
    assert estimate_n_components_pan(X, random_state=0) == 3
    f4, c4, _ = pan_sharpening_pair(4, shape=(32, 32), random_state=1)
    assert estimate_n_components_pan(c4.data.reshape(-1, 903), random_state=0) == 4


def test_different_energy_axes(pair):
    fine, coarse, truth = pair
    # offset and length: self starts 20 channels later and stops 10 earlier
    cropped = fine.isig[20:190]
    out = cropped.pan_sharpen(coarse, n_components=3, random_state=0)
    rec = out.metadata.Signal.pan_sharpen
    assert out.data.shape[-1] == 170 and rec.interpolation == "none"
    assert psnr(truth.clean[..., 20:190], out) > psnr(truth.clean[..., 20:190], cropped) + 10
    # dispersion: other rebinned 2x along energy; the output stays on self's axis
    coarse2 = coarse.rebin(scale=(1, 1, 2))
    out2 = fine.pan_sharpen(coarse2, n_components=3, random_state=0)
    rec2 = out2.metadata.Signal.pan_sharpen
    assert rec2.interpolation == "linear" and rec2.dispersion_ratio == pytest.approx(2.0)
    assert out2.axes_manager.signal_axes[0].scale == pytest.approx(10 / 3)
    np.testing.assert_allclose(out2.axes_manager.signal_axes[0].axis, truth.energy)
    assert psnr(truth.clean, out2) > psnr(truth.clean, fine) + 10
    assert mean_spectral_angle(truth.clean, out2) < 0.2 * mean_spectral_angle(truth.clean, fine)
    # self rebinned 2x along energy: other's channels summed onto self's
    fine2 = fine.rebin(scale=(1, 1, 2))
    out3 = fine2.pan_sharpen(coarse, n_components=3, random_state=0)
    rec3 = out3.metadata.Signal.pan_sharpen
    assert rec3.interpolation == "rebin" and rec3.dispersion_ratio == pytest.approx(0.5)
    assert out3.data.shape == fine2.data.shape
    np.testing.assert_allclose(out3.axes_manager.signal_axes[0].axis,
                               fine2.axes_manager.signal_axes[0].axis)
    ref = truth.clean.reshape(48, 48, 100, 2).sum(-1)
    assert psnr(ref, out3) > psnr(ref, fine2) + 10
    assert mean_spectral_angle(ref, out3) < 0.2 * mean_spectral_angle(ref, fine2)


def test_lazy_equals_eager(pair):
    fine, coarse, _ = pair
    kwargs = dict(n_components=3, random_state=0, smoothness=0.5, smoothing_iterations=3)
    eager = fine.pan_sharpen(coarse, return_report=True, **kwargs)
    lazy_in = fine.as_lazy()
    lazy_in.data = lazy_in.data.rechunk((16, 20, -1))
    lazy = lazy_in.pan_sharpen(coarse, return_report=True, **kwargs)
    assert lazy.fused._lazy and lazy.reduced_chi2._lazy
    assert lazy.fused.data.numblocks[:2] == (3, 3)  # the halo joins 9 chunks
    np.testing.assert_allclose(lazy.fused.data.compute(), eager.fused.data, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        lazy.reduced_chi2.data.compute(), eager.reduced_chi2.data, rtol=1e-9, atol=1e-9
    )
    # smoothing changed the result, so the halo mattered
    plain = fine.pan_sharpen(coarse, n_components=3, random_state=0)
    assert np.abs(plain.data - eager.fused.data).max() > 1e-3
    forced = fine.pan_sharpen(coarse, n_components=3, random_state=0, lazy_output=True)
    assert forced._lazy
    np.testing.assert_allclose(forced.data.compute(), plain.data, rtol=1e-9, atol=1e-9)


def test_lazy_solve_keeps_chunks_up_to_the_limit_and_splits_larger(pair, monkeypatch):
    """A lazy SI is solved in its own chunks when they hold at most
    SOLVE_CHUNK_MB of spectra (no rechunk in the graph), in smaller ones
    otherwise; the result is the eager one either way."""
    import dask.array as da

    import hspy_unmix.fusion._solve as solve

    fine, coarse, _ = pair
    row_mb = fine.data[0].nbytes / 2**20  # one row of 48 spectra
    monkeypatch.setattr(solve, "SOLVE_CHUNK_MB", 16 * row_mb)
    eager = fine.pan_sharpen(coarse, n_components=3, random_state=0)
    for rows, blocks, rechunked in ((16, 3, False), (48, 3, True), (8, 6, False)):
        lazy_in = fine.as_lazy()
        lazy_in.data = da.from_array(fine.data, chunks=(rows, 48, -1))
        fused = lazy_in.pan_sharpen(coarse, n_components=3, random_state=0)
        layers = fused.data.__dask_graph__().layers
        assert any(name.startswith("rechunk") for name in layers) is rechunked
        assert fused.data.numblocks[0] == blocks
        np.testing.assert_allclose(fused.data.compute(), eager.data, rtol=1e-9, atol=1e-9)


def test_missing_phase_shows_in_chi2(pair):
    fine, coarse, truth = pair
    rng = np.random.default_rng(3)
    data = truth.clean.copy()
    channels = np.arange(200)
    new_phase = 0.5 * truth.endmembers[0] + 10.0 * DOSE * np.exp(-0.5 * ((channels - 120) / 5.0) ** 2)
    region = np.zeros((48, 48), bool)
    region[10:22, 26:38] = True
    data[region] = new_phase
    s = fine._deepcopy_with_new_data(rng.poisson(data).astype(float))
    rep = s.pan_sharpen(coarse, n_components=3, random_state=0, return_report=True)
    chi2 = rep.reduced_chi2.data
    assert chi2[region].min() > 2.0 * np.percentile(chi2[~region], 99)
    flagged = chi2 > 0.5 * (np.median(chi2[region]) + np.median(chi2[~region]))
    iou = (flagged & region).sum() / (flagged | region).sum()
    assert iou > 0.9
    assert rep.residual.data[region].mean() > 2 * rep.residual.data[~region].mean()


def test_lazy_sum_to_one_reads_each_chunk_twice_and_equals_eager(pair, counting_lazy):
    fine, coarse, _ = pair
    kwargs = dict(n_components=3, random_state=0, sum_to_one=True)
    eager = fine.pan_sharpen(coarse, **kwargs)
    counted, reads = counting_lazy(fine.data, (16, 16, -1))
    lazy_in = fine.as_lazy()  # fine's axes, the counted chunks
    lazy_in.data = counted.data
    fused = lazy_in.pan_sharpen(coarse, lazy_output=False, **kwargs)
    # the even subsample (mean counts for the dose ratio and the noise model;
    # the 48 x 48 SI is smaller than it: all 9 chunks) and the solve; the dose
    # ratio once took a pass of its own
    assert reads["n"] == 2 * 9
    np.testing.assert_allclose(fused.data, eager.data, rtol=1e-9, atol=1e-9)


def test_sum_to_one(pair):
    fine, coarse, truth = pair
    rep = fine.pan_sharpen(coarse, n_components=3, sum_to_one=True, random_state=0,
                           return_report=True)
    np.testing.assert_allclose(rep.abundances.data.sum(0), 1.0, atol=1e-8)
    assert psnr(truth.clean, rep.fused) > psnr(truth.clean, fine) + 10


def test_package_algorithm_and_fitted_estimator(pair):
    fine, coarse, truth = pair
    from sklearn.decomposition import NMF

    out = fine.pan_sharpen(coarse, 3, algorithm="vca", random_state=0)
    assert out.metadata.Signal.pan_sharpen.algorithm == "VCA"
    assert psnr(truth.clean, out) > psnr(truth.clean, fine) + 10
    est = NMF(3, init="nndsvda", max_iter=1000, random_state=0).fit(coarse.data.reshape(-1, 200))
    out2 = fine.pan_sharpen(coarse, algorithm=est)
    assert out2.metadata.Signal.pan_sharpen.n_components == 3
    assert psnr(truth.clean, out2) > psnr(truth.clean, fine) + 10
    unfitted = NMF(init="nndsvda", max_iter=1000, random_state=0)
    out3 = fine.pan_sharpen(coarse, 3, algorithm=unfitted, weighting=None)
    assert not hasattr(unfitted, "components_")  # cloned, not fitted in place
    out2_plain = fine.pan_sharpen(coarse, algorithm=est, weighting=None)
    np.testing.assert_allclose(out3.data, out2_plain.data, rtol=1e-6, atol=1e-6)
    # weighted: an estimator fitted here sees other's channels in units of their
    # noise; one fitted beforehand is used as it is
    weighted = fine.pan_sharpen(coarse, 3, algorithm=unfitted, weighting="poisson")
    X = coarse.data.reshape(-1, 200)
    w = 1 / np.sqrt(np.maximum(X.mean(0), 1e-3 * X.mean(0).max()))
    est_w = NMF(3, init="nndsvda", max_iter=1000, random_state=0).fit(X * w / (w.mean()))
    expected = fine.pan_sharpen(coarse, algorithm=est_w, weighting="poisson")
    rec = expected.metadata.Signal.pan_sharpen
    np.testing.assert_allclose(weighted.metadata.Signal.pan_sharpen.endmembers,
                               rec.endmembers / (w / w.mean()), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="differs"):
        fine.pan_sharpen(coarse, 4, algorithm=est)
    with pytest.raises(ValueError, match="Unknown algorithm"):
        fine.pan_sharpen(coarse, 3, algorithm="nope")


def test_neighbour_mean():
    A = np.arange(12.0).reshape(3, 4, 1)
    m = neighbour_mean(A, 2)
    # interior pixel (1, 1): neighbours 1, 9, 4, 6
    assert m[1, 1, 0] == pytest.approx((1 + 9 + 4 + 6) / 4)
    # corner (0, 0): replicated edges: 0 (up), 4 (down), 0 (left), 1 (right)
    assert m[0, 0, 0] == pytest.approx((0 + 4 + 0 + 1) / 4)
    # a NaN pixel (no spectrum) is left out of its neighbours' means
    A[1, 2] = np.nan
    m = neighbour_mean(A, 2)
    assert m[1, 1, 0] == pytest.approx((1 + 9 + 4) / 3)
    assert m[1, 2, 0] == pytest.approx((2 + 10 + 5 + 7) / 4)
    A[:, :] = np.nan
    assert np.isnan(neighbour_mean(A, 2)).all()


@pytest.mark.parametrize("smoothness", [0.0, 0.1])
def test_spectra_with_nan_or_inf_are_left_out_counted_and_said(pair, smoothness):
    import warnings

    fine, coarse, _ = pair
    holed, holed_other = fine.deepcopy(), coarse.deepcopy()
    holes = [(0, 0), (10, 10), (10, 11), (30, 47)]
    for row, col in holes:
        holed.data[row, col, 5 + row] = np.nan
    holed.data[10, 10] = np.inf
    holed_other.data[2, 3, 7] = np.nan
    before = holed.data.copy()
    kwargs = dict(n_components=3, random_state=0, smoothness=smoothness,
                  show_progressbar=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = holed.pan_sharpen(holed_other, **kwargs)
    np.testing.assert_array_equal(holed.data, before)
    assert any("4 of 2304 spectra hold NaN or infinite values" in str(w.message)
               for w in caught)
    record = out.metadata.Signal.pan_sharpen
    assert record.n_non_finite == 4 and record.n_non_finite_other == 1
    missing = np.zeros((48, 48), dtype=bool)
    missing[tuple(np.array(holes).T)] = True
    assert np.isnan(out.data[missing]).all() and np.isfinite(out.data[~missing]).all()
    # other's bad spectrum is left out of the endmembers: the same as without it
    other_rows = coarse.data.reshape(-1, coarse.data.shape[-1])
    keep = np.ones(len(other_rows), dtype=bool)
    keep[2 * coarse.data.shape[1] + 3] = False
    reference = fine.pan_sharpen(coarse._deepcopy_with_new_data(other_rows[keep][:, None]),
                                 **kwargs)
    far = np.ones((48, 48), dtype=bool)
    for row, col in holes:  # the smoothing reaches 2 * iterations pixels at most
        far[max(row - 20, 0):row + 21, max(col - 20, 0):col + 21] = False
    np.testing.assert_allclose(out.data[far], reference.data[far], rtol=1e-9, atol=1e-9)
    lazy = holed.as_lazy().pan_sharpen(holed_other, **kwargs)
    lazy.compute(show_progressbar=False)
    np.testing.assert_allclose(lazy.data, out.data, rtol=1e-9, atol=1e-9)


def test_bad_input(pair):
    import hyperspy.api as hs

    fine, coarse, _ = pair
    with pytest.raises(TypeError, match="signal dimension 1"):
        fine.pan_sharpen(hs.signals.Signal2D(np.ones((4, 8, 8))))
    img = fine.as_signal2D((0, 1))
    with pytest.raises(TypeError, match="signal dimension 1"):
        hspy_unmix.pan_sharpening.pan_sharpen(img, coarse)
    with pytest.raises(TypeError, match="HyperSpy signal"):
        fine.pan_sharpen(coarse.data)
    shifted = coarse.deepcopy()
    shifted.axes_manager.signal_axes[0].offset += 550.0  # overlap 113 of 663 eV
    with pytest.raises(ValueError, match="overlap too little"):
        fine.pan_sharpen(shifted, 3)
    with pytest.raises(ValueError, match="2 \\* K"):
        fine.pan_sharpen(coarse.isig[100:104], 3)
    bad = fine.deepcopy()
    bad.data[...] = np.nan  # one NaN pixel is left out (test below)
    with pytest.raises(ValueError, match="every spectrum .* NaN or infinite"):
        bad.pan_sharpen(coarse, 3)
    bad_other = coarse.deepcopy()
    bad_other.data[..., 0] = np.inf
    with pytest.raises(ValueError, match="every spectrum .* NaN or infinite"):
        fine.pan_sharpen(bad_other, 3)
    with pytest.raises(ValueError, match="fewer than n_components"):
        fine.pan_sharpen(coarse.inav[0:2, 0], 3)
    nonuni = coarse.deepcopy()
    nonuni.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
    with pytest.raises(ValueError, match="not uniform"):
        fine.pan_sharpen(nonuni, 3)
    with pytest.raises(ValueError, match="smoothness"):
        fine.pan_sharpen(coarse, 3, smoothness=-1)


@pytest.mark.slow
def test_real_cuzn_thinned():
    """Real CuZn SI thinned to 5 %, sharpened with a 2x2-binned full-dose copy.

    Compared in full-dose units: the thinned SI and the fused result are
    multiplied by 1 / 0.05 and their MSE to the full-dose original is
    computed (the original's own noise is common to both comparisons).
    K = 8: the automatic estimate gives 3 on this SI, which underfits it
    (MSE above the thinned SI's); 8 components describe it.
    """
    import hyperspy.api as hs

    from hspy_unmix.synthetic import thin_counts

    s = hs.load(shared_file("eels/CuZn_coreloss_SI_50x40.hspy"))
    s.set_signal_type("EELS")
    low = thin_counts(s, 0.05, random_state=0)
    binned = s.rebin(scale=(2, 2, 1))
    fused = low.pan_sharpen(binned, 8, random_state=0)
    full = s.data.astype(float)
    mse_low = np.mean((low.data / 0.05 - full) ** 2)
    mse_fused = np.mean((fused.data / 0.05 - full) ** 2)
    assert mse_fused < 0.5 * mse_low
    assert psnr(full, fused.data / 0.05) > psnr(full, low.data / 0.05) + 3


# --- energy units and calibration ---------------------------------------------

def _pair():
    from hspy_unmix.synthetic.pan_sharpening import pan_sharpening_pair

    pair = pan_sharpening_pair(random_state=0)
    return pair[0], pair[1]


@pytest.mark.parametrize("units, factor", [("keV", 1e-3), ("meV", 1e3)])
def test_pan_sharpen_converts_energy_units(units, factor):
    fine, clean = _pair()
    expected = fine.pan_sharpen(clean, n_components=3, random_state=0)
    other = clean.deepcopy()
    ax = other.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = ax.offset * factor, ax.scale * factor, units
    fused = fine.pan_sharpen(other, n_components=3, random_state=0)
    np.testing.assert_allclose(fused.data, expected.data, rtol=1e-6, atol=1e-9)
    out = fused.axes_manager.signal_axes[0]
    assert out.units == "eV"  # self's axis, in self's units
    np.testing.assert_allclose(out.axis, expected.axes_manager.signal_axes[0].axis)
    converted = fine.deepcopy()
    ax = converted.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = ax.offset * factor, ax.scale * factor, units
    fused = converted.pan_sharpen(clean, n_components=3, random_state=0)
    np.testing.assert_allclose(fused.data, expected.data, rtol=1e-6, atol=1e-9)
    out = fused.axes_manager.signal_axes[0]
    assert out.units == units
    np.testing.assert_allclose(out.axis, expected.axes_manager.signal_axes[0].axis * factor)


def test_pan_sharpen_refuses_an_uncalibrated_axis():
    fine, clean = _pair()
    other = clean.deepcopy()
    ax = other.axes_manager.signal_axes[0]
    import traits.api as t

    ax.offset, ax.scale, ax.units = 0.0, 1.0, t.Undefined
    with pytest.raises(ValueError, match="uncalibrated"):
        fine.pan_sharpen(other, n_components=3, random_state=0)


def test_pan_sharpen_refuses_a_non_energy_axis():
    fine, clean = _pair()
    other = clean.deepcopy()
    other.axes_manager.signal_axes[0].units = "nm"
    with pytest.raises(ValueError, match="not an energy"):
        fine.pan_sharpen(other, n_components=3, random_state=0)


def test_float32_si_fused_in_float32_with_the_weighted_nnls_abundances(pair):
    """A float32 SI gives float32 fused spectra, eager equal to lazy; the
    abundances are each pixel's NNLS with Poisson channel weights (scipy as
    reference: weights ``1 / sqrt(max(m, 1e-3 max m))``, ``m`` the coarse SI's
    mean spectrum)."""
    from scipy.optimize import nnls

    fine, coarse, _ = pair
    s32 = fine.deepcopy()
    s32.change_dtype("float32")
    kwargs = dict(n_components=3, random_state=0, weighting="poisson", return_report=True)
    eager = s32.pan_sharpen(coarse, **kwargs)
    lazy_in = s32.as_lazy()
    lazy_in.data = lazy_in.data.rechunk((16, 20, -1))
    lazy = lazy_in.pan_sharpen(coarse, **kwargs)
    assert eager.fused.data.dtype == np.float32 and lazy.fused.data.dtype == np.float32
    np.testing.assert_allclose(lazy.fused.data.compute(), eager.fused.data, rtol=1e-6, atol=1e-6)
    assert fine.pan_sharpen(coarse, n_components=3, random_state=0).data.dtype == np.float64
    m = np.asarray(coarse.data, np.float64).reshape(-1, coarse.data.shape[-1]).mean(0)
    w = 1.0 / np.sqrt(np.maximum(m, 1e-3 * m.max()))
    E = eager.endmembers.data
    X = np.asarray(s32.data, np.float64).reshape(-1, E.shape[1])
    A = np.moveaxis(eager.abundances.data, 0, -1).reshape(-1, 3)
    for i in np.random.default_rng(0).choice(X.shape[0], 40, replace=False):
        ref = nnls((E * w).T, X[i] * w)[0]
        np.testing.assert_allclose(A[i], ref, rtol=1e-6, atol=1e-8 * np.abs(ref).max())


def test_lazy_solve_takes_load_lazy_chunks_as_they_are():
    """An SI in load_lazy's chunks (navigation_chunks' default, 16 MiB) is
    solved in them, not split again; a larger chunk is split into those."""
    import dask.array as da

    from hspy_unmix.fusion._solve import solve_chunks
    from hspy_unmix.io.chunks import navigation_chunks

    shape = (12, 512, 2048)  # 48 MiB of float32
    chunks = navigation_chunks(shape, np.float32)
    assert chunks == (4, 512, 2048)
    darr = da.zeros(shape, dtype=np.float32, chunks=chunks)
    assert solve_chunks(darr) is darr
    whole = da.zeros(shape, dtype=np.float32, chunks=(12, 512, 2048))
    assert solve_chunks(whole).chunks == darr.chunks
    # a chunk split along the channels is joined into whole spectra
    split = da.zeros(shape, dtype=np.float32, chunks=(2, 512, 1024))
    assert solve_chunks(split).chunks[-1] == (2048,)
