"""ARD_SO_NMF (hspy_unmix.unmixing.ard_so_nmf): the number of components it keeps."""

from __future__ import annotations

import numpy as np
import pytest

from hspy_unmix.metrics.unmixing import sad_matrix
from hspy_unmix.nmf import ARD_SO_NMF
from hspy_unmix.synthetic import chequerboard_si


@pytest.mark.slow
@pytest.mark.parametrize("counts", [200.0, 2000.0])
def test_ard_recovers_number_of_components(counts):
    s, truth = chequerboard_si(n_components=3, shape=(32, 32), averaging=1,
                               counts=counts, random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1])[:, ::4]
    model = ARD_SO_NMF(8, w=0.1, max_iter=2000, random_state=0).fit(X)
    assert model.converged_
    assert model.n_components_kept_ == 3
    assert model.components_.shape == (3, X.shape[1])
    assert model.relevances_.shape == (8,)
    assert model.relevance_history_.shape == (model.n_iter_, 8)
    angles = sad_matrix(truth.endmembers[:, ::4], model.components_)
    assert np.all(angles.min(axis=1) < 0.03)
