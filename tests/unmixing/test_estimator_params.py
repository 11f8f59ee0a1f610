"""Every tuning knob of the estimators is an ``__init__`` parameter that
``decomposition(...)``, ``clone``, ``get_params`` and ``save``/``load_estimator``
keep; ``components_`` is set by ``fit`` (or ``finish_partial_fit``), never by
reading it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

import hspy_unmix
from hspy_unmix import _registry

CLASSICAL = ["VCA", "MINVOLUME", "SSS_VCA", "MALS", "HALS", "NMF_SO", "ARD_SO_NMF", "BLU"]


@pytest.mark.parametrize("name", sorted(_registry.ALGORITHMS))
def test_max_partial_fit_samples_is_a_parameter(name):
    cls = _registry.estimator_class(name)
    est = cls(max_partial_fit_samples=123)
    assert est.get_params()["max_partial_fit_samples"] == 123
    assert clone(est).max_partial_fit_samples == 123
    assert cls().max_partial_fit_samples == 20_000


def test_decomposition_passes_max_partial_fit_samples(eels3):
    s, _ = eels3
    lazy = s.as_lazy()
    hspy_unmix.io.rechunk_navigation(lazy, target_mb=0.2)
    lazy.decomposition(algorithm="VCA", output_dimension=3, max_partial_fit_samples=300,
                       random_state=0, print_info=False)
    est = lazy.unmixing_estimator
    assert est.max_partial_fit_samples == 300
    assert est.n_samples_seen_ == 64 * 64


@pytest.mark.parametrize("name", ["VCA", "HALS"])
def test_save_load_keeps_max_partial_fit_samples(name, tmp_path, eels3):
    s, _ = eels3
    X = s.data.reshape(-1, s.data.shape[-1])[::8]
    params = {"n_starts": 1, "max_iter": 20} if name == "HALS" else {}
    est = _registry.estimator_class(name)(3, max_partial_fit_samples=777, random_state=0,
                                           **params).fit(X)
    est.save(tmp_path / "est.zip")
    back = hspy_unmix.load_estimator(tmp_path / "est.zip")
    assert back.max_partial_fit_samples == 777
    np.testing.assert_allclose(back.components_, est.components_)


def test_components_are_set_by_finish_partial_fit_not_by_reading(eels3):
    s, _ = eels3
    X = s.data.reshape(-1, s.data.shape[-1])
    est = hspy_unmix.VCA(3, random_state=0, max_partial_fit_samples=500)
    est.partial_fit(X[:2000])
    est.partial_fit(X[2000:])
    assert not hasattr(est, "components_")
    assert est.finish_partial_fit() is est
    assert est.components_.shape == (3, X.shape[1])
    assert est.n_samples_seen_ == X.shape[0]
    # nothing pending: a second call changes nothing
    before = est.components_.copy()
    np.testing.assert_array_equal(est.finish_partial_fit().components_, before)
