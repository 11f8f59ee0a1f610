"""Outlier screen before the endmember search: spikes, hot and dead pixels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hspy_unmix
from hspy_unmix.metrics.unmixing import sad
from hspy_unmix.synthetic import chequerboard_si
from hspy_unmix.unmixing._outliers import screen_outliers

from conftest import shared_file

#: CuZn core-loss SI: pixel (y=42, x=11) holds a one-channel cosmic-ray spike.
_CUZN_SPIKE = 42 * 40 + 11
_CUZN_SPIKE_CHANNEL = 47  # 1076 eV


def _spiky_chequerboard():
    s, truth = chequerboard_si(n_components=3, random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1]).astype(float)
    rng = np.random.default_rng(1)
    spikes = rng.choice(X.shape[0], size=12, replace=False)
    channels = rng.integers(20, X.shape[1] - 20, size=spikes.size)
    X[spikes, channels] += 20.0 * X.max()
    hot, dead = 5, 4000
    X[hot] *= 40.0
    X[dead] = 0.0
    injected = np.concatenate([spikes, [hot, dead]])
    return X, truth, injected


def _spike_like(components, channel, factor=1.5):
    """Whether a component has a one-channel peak at ``channel``."""
    beside = np.concatenate(
        [components[:, channel - 3 : channel], components[:, channel + 1 : channel + 4]],
        axis=1,
    )
    return components[:, channel] > factor * np.median(beside, axis=1)


def test_clean_data_flag_nothing():
    for n in (3, 4):
        s, _ = chequerboard_si(n_components=n, random_state=0)
        X = s.data.reshape(-1, s.data.shape[-1]).astype(float)
        assert screen_outliers(X).n_flagged == 0


def test_injected_spikes_hot_and_dead_pixels_are_flagged():
    X, _, injected = _spiky_chequerboard()
    mask = screen_outliers(X).mask
    assert set(np.flatnonzero(mask)) == set(injected)


@pytest.mark.parametrize("seed", range(5))
def test_vca_never_picks_an_injected_outlier(seed):
    X, truth, injected = _spiky_chequerboard()
    with pytest.warns(UserWarning, match="14 of 4096 spectra look like outliers"):
        vca = hspy_unmix.VCA(n_components=3, random_state=seed)
        abundances = vca.fit_transform(X)
    assert vca.n_outliers_ == 14
    assert set(np.flatnonzero(vca.outlier_mask_)) == set(injected)
    assert not set(vca.pure_pixel_indices_) & set(injected)
    # every spectrum is still unmixed
    assert abundances.shape == (X.shape[0], 3)
    assert np.allclose(abundances[injected[:-1]].sum(axis=1), 1.0, atol=1e-6)
    assert sad(truth.endmembers, vca.components_).mean() < 0.05


def test_screen_off_keeps_every_spectrum():
    X, _, injected = _spiky_chequerboard()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        picked = set()
        for seed in range(5):
            vca = hspy_unmix.VCA(3, random_state=seed, outlier_screen=False).fit(X)
            picked |= set(vca.pure_pixel_indices_)
    # without the screen the spikes are what VCA finds: the test has teeth
    assert picked & set(injected)
    with pytest.raises(ValueError, match="outlier_screen"):
        hspy_unmix.VCA(3, outlier_screen="yes").fit(X)


def test_minvolume_and_mals_are_not_pulled_by_spikes():
    X, truth, injected = _spiky_chequerboard()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mv = hspy_unmix.MinVolume(n_components=3, random_state=0).fit(X)
        mals = hspy_unmix.MALS(n_components=3, n_starts=1, random_state=0).fit(X)
    assert mv.n_outliers_ == mals.n_outliers_ == injected.size
    assert sad(truth.endmembers, mv.components_).mean() < 0.05
    clean = np.delete(X, injected, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = hspy_unmix.MALS(n_components=3, n_starts=1, random_state=0).fit(
            clean
        )
    assert sad(truth.endmembers, mals.components_).mean() <= (
        sad(truth.endmembers, reference.components_).mean() + 0.01
    )


@pytest.fixture(scope="module")
def cuzn_spectra():
    hs = pytest.importorskip("hyperspy.api")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = hs.load(shared_file("eels/CuZn_coreloss_SI_50x40.hspy"))
    return s.data.reshape(-1, s.data.shape[-1]).astype(float)


def test_cuzn_spike_pixel_is_flagged(cuzn_spectra):
    screen = screen_outliers(cuzn_spectra)
    assert screen.mask[_CUZN_SPIKE]
    assert screen.n_flagged <= 5


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("name", ["VCA", "MinVolume"])
def test_cuzn_spike_never_an_endmember(cuzn_spectra, name, k):
    for seed in range(5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = getattr(hspy_unmix, name)(n_components=k, random_state=seed)
            est.fit(cuzn_spectra)
        if name == "VCA":
            assert _CUZN_SPIKE not in est.pure_pixel_indices_
        assert not _spike_like(est.components_, _CUZN_SPIKE_CHANNEL).any(), seed


@pytest.mark.parametrize("k", [3, 4])
def test_cuzn_spike_not_a_mals_component(cuzn_spectra, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mals = hspy_unmix.MALS(
            n_components=k, n_starts=1, max_iter=150, random_state=0,
            show_progressbar=False,
        ).fit(cuzn_spectra)
    assert mals.outlier_mask_[_CUZN_SPIKE]
    assert not _spike_like(mals.components_, _CUZN_SPIKE_CHANNEL).any()



def test_auto_screen_is_on_for_classical_and_off_for_network_estimators():
    from hspy_unmix.unmixing._outliers import screened_rows

    X = np.random.default_rng(0).random((200, 30)) + 1.0
    X[7, 12] = 500.0  # a one-channel spike
    with pytest.warns(UserWarning, match="1 of 200 spectra look like outliers"):
        rows = screened_rows(hspy_unmix.VCA(3), X)
    assert rows.size == 199 and 7 not in rows
    assert screened_rows(hspy_unmix.DAEU(3), X) is None  # networks learn from every spectrum


@pytest.mark.parametrize("block", [7, 256, 1000])
def test_residual_statistics_by_channel_blocks_equal_the_whole_computation(block):
    from scipy.ndimage import median_filter

    from hspy_unmix.unmixing._outliers import _residual_statistics

    rng = np.random.default_rng(1)
    X = rng.poisson(50.0, (300, 601)).astype(np.float32)
    X[5, 0] = X[9, 600] = X[11, 300] = 900.0  # spikes at both ends and inside
    rows = np.arange(0, 300, 3)
    residual = X[rows] - median_filter(X[rows], size=(1, 5), mode="nearest")
    center = np.median(residual, axis=0)
    deviation = np.abs(residual - center)
    got_center, got_spread, got_mean = _residual_statistics(X, rows, block=block)
    np.testing.assert_array_equal(got_center, center)
    np.testing.assert_array_equal(got_spread, 1.4826 * np.median(deviation, axis=0))
    np.testing.assert_allclose(got_mean, deviation.astype(np.float64).mean(), rtol=1e-12)
