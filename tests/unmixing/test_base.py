"""The shared fit of the unmixing estimators: in-place work on a private sample."""

import tracemalloc

import numpy as np
import pytest

from hspy_unmix import VCA, MinVolume
from hspy_unmix.unmixing._base import _compact_rows


def _spiky_mixtures(n=3000, channels=256, seed=0):
    rng = np.random.default_rng(seed)
    energy = np.linspace(0.0, 1.0, channels)
    endmembers = np.stack([np.exp(-((energy - c) / 0.08) ** 2) + 0.1 for c in (0.2, 0.5, 0.8)])
    abundances = rng.dirichlet(np.ones(3), n)
    X = rng.poisson(2000.0 * abundances @ endmembers).astype(np.float64)
    X[17, 100] += 5e5  # a cosmic-ray spike the outlier screen removes
    X[2500, 30] += 5e5  # (n >= 2501)
    return X


def test_compact_rows_equals_fancy_indexing_and_reuses_the_array():
    rng = np.random.default_rng(1)
    X = rng.random((50, 7))
    rows = np.sort(rng.choice(50, size=31, replace=False))
    expected = X[rows].copy()
    out = _compact_rows(X, rows)
    np.testing.assert_array_equal(out, expected)
    assert np.shares_memory(out, X)


@pytest.mark.parametrize("cls", [VCA, MinVolume])
def test_owned_fit_gives_the_fit_of_the_same_data(cls):
    # Counts scaled to 1e6 (data_scale != 1) with spikes (the screen selects rows):
    # both in-place paths run and must change nothing but memory.
    X = _spiky_mixtures() * 1e6
    with pytest.warns(UserWarning, match="outliers"):
        reference = cls(n_components=3, random_state=0).fit(X.copy())
    owned = X.copy()
    model = cls(n_components=3, random_state=0)
    with pytest.warns(UserWarning, match="outliers"):
        model._fit_owned(owned)
    assert reference.n_outliers_ == model.n_outliers_ == 2
    np.testing.assert_array_equal(model.components_, reference.components_)
    if cls is VCA:
        np.testing.assert_array_equal(model.pure_pixel_indices_, reference.pure_pixel_indices_)
    assert not np.array_equal(owned, X)  # it was worked on in place


def test_public_fit_leaves_the_data_alone():
    X = _spiky_mixtures() * 1e6
    before = X.copy()
    VCA(n_components=3, random_state=0).fit(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("cls", [VCA, MinVolume])
def test_owned_fit_allocates_less_than_half_a_copy_of_the_sample(cls):
    # Dividing by the data scale or selecting the screened rows out of place
    # each allocates one copy of the sample (what the lazy decomposition's
    # fit did); so did centring VCA's subspace sample twice, and MinVolume's
    # residual. What remains is bounded (the subspace sample of 8192 spectra,
    # the screen's statistics over 4096), a fifth of these data. Allocations are counted by tracemalloc (numpy reports them).
    X = _spiky_mixtures(n=40000, channels=128) * 1e6
    model = cls(n_components=3, random_state=0)  # more pixels than its subspace sample
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        with pytest.warns(UserWarning, match="outliers"):
            model._fit_owned(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base < 0.5 * X.nbytes, (peak - base) / X.nbytes
