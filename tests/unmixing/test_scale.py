"""Results do not depend on the data's units (x 1e30, x 1e-30)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hspy_unmix
from hspy_unmix.metrics.unmixing import match_components, sad
from hspy_unmix.synthetic import chequerboard_si
from hspy_unmix.unmixing._scale import data_scale


@pytest.fixture(scope="module")
def spectra():
    s, _ = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    return s.data.reshape(-1, s.data.shape[-1]).astype(float)


@pytest.mark.parametrize("factor", [1e30, 1e-30])
@pytest.mark.parametrize("name", ["VCA", "MinVolume"])
def test_same_result_up_to_scale(spectra, name, factor):
    cls = getattr(hspy_unmix, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = cls(3, random_state=0)
        a_ref = reference.fit_transform(spectra)
        scaled = cls(3, random_state=0)
        a = scaled.fit_transform(spectra * factor)
    # equal up to the factor, the order and the choice between equally
    # pure pixels (rounding of the scaled data)
    order = match_components(reference.components_, scaled.components_)
    assert sad(reference.components_, scaled.components_).max() < 0.005
    ratio = scaled.components_[order].sum(axis=1) / reference.components_.sum(axis=1)
    np.testing.assert_allclose(ratio, factor, rtol=0.01)
    assert np.abs(a[:, order] - a_ref).mean() < 0.01
    # transform(X) @ components_ reconstructs X in data units
    rebuilt = scaled.transform(spectra * factor) @ scaled.components_
    rel = np.linalg.norm(rebuilt - spectra * factor) / np.linalg.norm(spectra * factor)
    assert rel < 0.05


def test_data_scale_is_a_power_of_two():
    assert data_scale(np.full((3, 4), 3.0)) == 4.0
    assert data_scale(np.zeros((2, 2))) == 1.0
    assert data_scale(np.full((2, 2), 1e200)) > 0
