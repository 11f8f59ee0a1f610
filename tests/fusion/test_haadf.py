"""Tests of ``s.pan_sharpen(image)``: HAADF-guided fusion with known truth."""

from __future__ import annotations

import numpy as np
import pytest

import hspy_unmix  # noqa: F401
from hspy_unmix.fusion._haadf_model import block_mean, image_noise_sigma, replicate

FACTOR = 2


def _pair(seed=0, ny=16, dose=5.0, gamma=1.7):
    """Two phases (Z 13 and 47), particles finer than the SI pixel, low-dose SI."""
    import hyperspy.api as hs

    rng = np.random.default_rng(seed)
    n = ny * FACTOR
    yy, xx = np.mgrid[:n, :n]
    frac = np.zeros((n, n, 2))
    frac[..., 0] = 1
    for _ in range(8):
        cy, cx = rng.uniform(0, n, 2)
        frac[(yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(1, 3) ** 2] = [0, 1]
    e = np.arange(120.0)
    E = np.stack([np.exp(-e / 60) + 0.6 * (e > 40) * np.exp(-(e - 40) / 50),
                  np.exp(-e / 60) + 0.8 * (e > 80) * np.exp(-(e - 80) / 40)])
    E = E / E.sum(1, keepdims=True) * 120
    X = rng.poisson(block_mean(frac @ E * dose, FACTOR)).astype(float)
    haadf = 2000 * (frac @ np.array([13.0, 47.0]) ** gamma) / 47 ** gamma + 100
    s = hs.signals.Signal1D(X)
    s.set_signal_type("EELS")
    for ax in s.axes_manager.navigation_axes:
        ax.scale, ax.units = 1.0, "nm"
    image = hs.signals.Signal2D(rng.poisson(haadf).astype(float))
    for ax in image.axes_manager.signal_axes:
        ax.scale, ax.units = 1.0 / FACTOR, "nm"
    return s, image, frac, E


def _fractions(stack):
    a = np.moveaxis(np.asarray(stack.data), 0, -1)
    return a / np.maximum(a.sum(-1, keepdims=True), 1e-12)


@pytest.fixture(scope="module")
def pair():
    return _pair()


@pytest.fixture(scope="module")
def report(pair):
    s, image, _, E = pair
    return s.pan_sharpen(image, algorithm=E, random_state=0, return_report=True,
                         show_progressbar=False)


def test_fused_maps_beat_si_alone(pair, report):
    _, _, frac, _ = pair
    fused = np.sqrt(((_fractions(report.abundances) - frac) ** 2).mean())
    si = np.sqrt(((replicate(_fractions(report.si_only_abundances), FACTOR) - frac) ** 2).mean())
    assert fused < si / 1.5  # measured: 0.077 against 0.137


def test_wrong_forward_model_is_worse(pair, report):
    s, image, frac, E = pair
    wrong = s.pan_sharpen(image, algorithm=E, gamma=0.4, return_report=True,
                          show_progressbar=False)
    err = lambda r: np.sqrt(((_fractions(r.abundances) - frac) ** 2).mean())  # noqa: E731
    assert err(wrong) > 1.05 * err(report)  # measured: 0.085 against 0.077


def test_fitted_model_and_outputs(pair, report):
    s, image, _, E = pair
    rec = report.fused.metadata.Signal.pan_sharpen
    assert rec.mode == "image" and rec.factor == FACTOR
    assert abs(rec.image_model.gamma - 1.7) < 0.4
    assert rec.image_model.r_squared > 0.95
    assert 0.8 < rec.reduced_chi2 < 1.3
    assert report.fused.data.shape == image.data.shape + (E.shape[1],)
    assert report.fused.axes_manager.navigation_axes[0].scale == pytest.approx(0.5)
    # the mean of the fused spectra over an SI pixel is that pixel's model
    model = block_mean(np.asarray(report.fused.data), FACTOR)
    assert np.allclose(model.sum(), s.data.sum(), rtol=0.02)


def test_eager_equals_lazy(pair, report):
    s, image, _, E = pair
    lazy = s.as_lazy().pan_sharpen(image, algorithm=E, return_report=True,
                                   show_progressbar=False)
    assert lazy.fused._lazy
    np.testing.assert_allclose(lazy.fused.data.compute(), report.fused.data, rtol=1e-6,
                               atol=1e-8)


def test_tiles_match_one_tile(pair, report):
    s, image, frac, E = pair
    tiled = s.pan_sharpen(image, algorithm=E, tile_size=8, return_report=True,
                          show_progressbar=False)
    a, b = _fractions(tiled.abundances), _fractions(report.abundances)
    assert np.sqrt(((a - b) ** 2).mean()) < 0.02


def test_endmembers_from_an_algorithm(pair):
    s, image, frac, _ = pair
    fused = s.pan_sharpen(image, n_components=2, random_state=0, show_progressbar=False)
    assert fused.metadata.Signal.pan_sharpen.algorithm == "NMF"
    assert np.isfinite(fused.data).all()


def test_same_grid(pair):
    import hyperspy.api as hs

    s, image, _, E = pair
    same = hs.signals.Signal2D(block_mean(image.data, FACTOR))
    fused = s.pan_sharpen(same, algorithm=E, show_progressbar=False)
    assert fused.data.shape == s.data.shape
    assert fused.metadata.Signal.pan_sharpen.factor == 1


def test_clear_errors(pair):
    import hyperspy.api as hs

    s, image, _, E = pair
    with pytest.raises(ValueError, match="integer multiple"):
        s.pan_sharpen(hs.signals.Signal2D(image.data[:-3]), algorithm=E)
    with pytest.raises(ValueError, match="one factor"):
        s.pan_sharpen(hs.signals.Signal2D(np.repeat(image.data, 2, 1)), algorithm=E)
    with pytest.raises(ValueError, match="pixel sizes"):
        bad = image.deepcopy()
        bad.axes_manager.signal_axes[0].scale = 0.3
        s.pan_sharpen(bad, algorithm=E)
    with pytest.raises(ValueError, match="misregistered"):
        bad = image.deepcopy()
        bad.axes_manager.signal_axes[0].offset = 3.0
        s.pan_sharpen(bad, algorithm=E)
    with pytest.raises(ValueError, match="misregistered"):  # found from the data
        shifted = hs.signals.Signal2D(np.roll(image.data, 2 * FACTOR, axis=1))
        s.pan_sharpen(shifted, algorithm=E, show_progressbar=False)
    with pytest.raises(TypeError, match="signal dimension 1"):  # a stack of images
        s.pan_sharpen(hs.signals.Signal2D(np.stack([image.data] * 2)), algorithm=E)
    with pytest.raises(ValueError, match="gamma"):
        s.pan_sharpen(image, algorithm=E, gamma=-1.0)
    with pytest.raises(TypeError, match="only when other is an image"):
        s.pan_sharpen(s, gamma=1.0)


def test_noise_estimate_ignores_scan_line_offsets():
    rng = np.random.default_rng(1)
    img = rng.normal(0, 2.0, (64, 64)) + rng.normal(0, 20, (64, 1))
    assert image_noise_sigma(img) == pytest.approx(2.0, rel=0.1)
