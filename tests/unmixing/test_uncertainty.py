"""Uncertainty stored with the decomposition result and saved with the signal."""

from __future__ import annotations

import numpy as np
import pytest

from hspy_unmix.synthetic import chequerboard_si
from hspy_unmix.unmixing._uncertainty import NODE, plot_endmember_spread


def test_vca_spread_saved_with_the_signal(tmp_path):
    hs = pytest.importorskip("hyperspy.api")
    s, _ = chequerboard_si(n_components=3, random_state=0)
    s.decomposition(algorithm="VCA", output_dimension=3, random_state=0, print_info=False)
    stored = s.metadata.Signal[NODE]
    spread = np.asarray(stored["endmember_angle_spread"])
    assert spread.shape == (3,)
    assert np.array_equal(spread, s.unmixing_estimator.endmember_angle_spread_)
    assert np.asarray(stored["start_volumes"]).shape == (50,)
    assert stored["n_outliers"] == 0
    path = tmp_path / "vca.hspy"
    s.save(path)
    loaded = hs.load(path)
    assert np.allclose(loaded.metadata.Signal[NODE]["endmember_angle_spread"], spread)

    import matplotlib

    matplotlib.use("Agg")
    ax = plot_endmember_spread(loaded)
    assert len(ax.patches) == 3


def test_no_stale_uncertainty_after_another_algorithm():
    s, _ = chequerboard_si(n_components=3, random_state=0)
    s.decomposition(
        algorithm="MALS", output_dimension=3, n_starts=2, max_iter=20,
        random_state=0, print_info=False,
    )
    stored = s.metadata.Signal[NODE]
    assert np.asarray(stored["endmember_angle_spread"]).shape == (3,)
    assert np.asarray(stored["start_costs"]).shape == (2,)
    # MinVolume has no starts: nothing of MALS's may stay behind
    s.decomposition(algorithm="MinVolume", output_dimension=3, print_info=False)
    stored = s.metadata.Signal[NODE]
    assert "endmember_angle_spread" not in stored
    assert "start_costs" not in stored
    with pytest.raises(ValueError, match="no endmember spread"):
        plot_endmember_spread(s)
