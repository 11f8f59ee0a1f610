import numpy as np
import pytest

from hspy_unmix.synthetic import (
    ENDMEMBER_SETS,
    chequerboard_abundances,
    chequerboard_si,
    eels_endmembers,
)


@pytest.mark.parametrize("k, channels", [(3, 200), (4, 903)])
def test_endmember_sets(k, channels):
    energy, E, names = eels_endmembers(k)
    assert E.shape == (k, channels) == (len(names), energy.size)
    assert ENDMEMBER_SETS[k]["channels"] == channels
    assert np.all(E > 0)
    # power-law background: every spectrum falls by > 3x over the window
    assert np.all(E[:, :5].mean(1) > 3 * E[:, -5:].mean(1))


def test_edges_sit_at_their_onsets():
    energy, E, names = eels_endmembers(3)
    co = E[names.index("Co")]
    # Co L3 white line just above 779 eV: a local maximum far above the pre-edge
    pre = co[(energy > 740) & (energy < 770)].mean()
    white = co[(energy > 775) & (energy < 795)].max()
    assert white > 3 * pre
    carbon = E[names.index("C support")]
    assert carbon[(energy > 285) & (energy < 300)].max() > 1.5 * carbon[energy < 280].max()


def test_chequerboard_protocol():
    A = chequerboard_abundances(3, (64, 64), 8, 9, random_state=0)
    assert A.shape == (64, 64, 3)
    np.testing.assert_allclose(A.sum(-1), 1.0, atol=1e-12)
    assert A.min() >= 0
    # every component has pure pixels in block interiors, and mixing exists
    assert np.all(A.reshape(-1, 3).max(0) > 0.999)
    assert ((A.max(-1) < 0.99).mean()) > 0.2
    B = chequerboard_abundances(3, (64, 64), 8, 9, max_abundance=0.7, random_state=0)
    assert B.max() <= 0.7 + 1e-12
    np.testing.assert_allclose(B.sum(-1), 1.0, atol=1e-12)
    with pytest.raises(ValueError):
        chequerboard_abundances(3, (60, 64), 8)


def test_chequerboard_si_is_poisson_and_deterministic():
    s, truth = chequerboard_si(3, random_state=4)
    s2, _ = chequerboard_si(3, random_state=4)
    np.testing.assert_array_equal(s.data, s2.data)
    assert s.metadata.Signal.signal_type == "EELS"
    ax = s.axes_manager.signal_axes[0]
    assert ax.units == "eV" and ax.offset == pytest.approx(truth.energy[0])
    resid = s.data - truth.clean
    # Poisson: variance equals the mean
    ratio = resid.var() / truth.clean.mean()
    assert 0.9 < ratio < 1.1
    assert np.all(s.data == np.round(s.data))
    clean, _ = chequerboard_si(3, noise=False, random_state=4)
    np.testing.assert_allclose(clean.data, truth.clean)
