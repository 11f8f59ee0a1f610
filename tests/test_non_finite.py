"""Spectra with NaN/inf values: found in one pass, given NaN abundances,
filled from the nearest finite pixel for patch-based fits."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from hspy_unmix._non_finite import (
    FiniteRowsTransform,
    drop_non_finite,
    nearest_finite_filled,
    non_finite_rows,
)


def test_rows_with_nan_or_inf_are_found_and_overflowing_sums_are_not():
    X = np.ones((5, 4))
    X[1, 2] = np.nan
    X[2, 0] = -np.inf
    X[3] = 1e308  # finite values whose sum overflows
    X[4, 1:3] = [np.inf, -np.inf]  # their sum is NaN
    np.testing.assert_array_equal(non_finite_rows(X), [False, True, True, False, True])
    assert non_finite_rows(np.ones((3, 2), dtype=np.float32)).tolist() == [False] * 3


def _finite_only(X):
    assert np.isfinite(X).all(), "transform was given a non-finite spectrum"
    return np.stack([X.sum(axis=1), X[:, 0]], axis=1)


def test_transform_sees_the_finite_rows_only_and_bad_rows_get_nan():
    X = np.arange(12.0).reshape(4, 3)
    X[2, 1] = np.nan
    out = pickle.loads(pickle.dumps(FiniteRowsTransform(_finite_only, 2)))(X)
    np.testing.assert_array_equal(out[[0, 1, 3]], [[3, 0], [12, 3], [30, 9]])
    assert np.isnan(out[2]).all()
    assert np.isnan(FiniteRowsTransform(_finite_only, 2)(np.full((2, 3), np.inf))).all()


def test_each_bad_pixel_takes_the_spectrum_of_its_nearest_finite_pixel():
    data = np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2)
    bad = np.zeros((3, 4), dtype=bool)
    bad[:, 0] = bad[2, 3] = True  # nearest: (r, 1) for the column, (1, 3) or (2, 2)
    data[bad] = np.nan
    before = data.copy()
    out = nearest_finite_filled(data, bad)
    np.testing.assert_array_equal(data, before)  # not in place
    np.testing.assert_array_equal(out[:, 0], data[:, 1])
    assert any(np.array_equal(out[2, 3], data[p]) for p in ((1, 3), (2, 2)))
    np.testing.assert_array_equal(out[~bad], data[~bad])


def test_drop_non_finite_keeps_the_finite_rows_counts_and_refuses_nothing_left():
    X = np.arange(12.0).reshape(4, 3)
    same, n = drop_non_finite(X, "this")
    assert same is X and n == 0
    X[1, 0], X[3, 2] = np.nan, np.inf
    kept, n = drop_non_finite(X, "this")
    assert n == 2
    np.testing.assert_array_equal(kept, X[[0, 2]])
    with pytest.raises(ValueError, match="every spectrum .* this has nothing"):
        drop_non_finite(np.full((2, 3), np.nan), "this")
    assert drop_non_finite(np.full((2, 3), np.nan))[0].shape == (0, 3)
