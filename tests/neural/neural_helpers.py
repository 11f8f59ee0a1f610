"""Helpers shared by the neural estimator tests."""

import numpy as np

from hspy_unmix.metrics import unmixing_scores


def flat(signal):
    """Spectra of a signal as a float64 (pixels, channels) array."""
    return signal.data.reshape(-1, signal.data.shape[-1]).astype(np.float64)


def assert_simplex(abundances, n_pixels, n_components):
    """Abundances are non-negative and sum to one for every pixel."""
    assert abundances.shape == (n_pixels, n_components)
    assert (abundances >= 0).all()
    np.testing.assert_allclose(abundances.sum(axis=1), 1.0, atol=1e-6)


def scores(truth, components, abundances):
    """SAD/NMSE of a result against the chequerboard ground truth."""
    return unmixing_scores(truth.endmembers, truth.flat_abundances, components, abundances)
