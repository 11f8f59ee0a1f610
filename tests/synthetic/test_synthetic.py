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


@pytest.mark.parametrize("seed", [0, 3])
def test_impure_component_has_no_pure_pixel(seed):
    A = chequerboard_abundances(3, (64, 64), 8, 9, random_state=seed)
    B = chequerboard_abundances(
        3, (64, 64), 8, 9, random_state=seed, impure_components={2: 0.6}
    )
    np.testing.assert_allclose(B.sum(-1), 1.0, atol=1e-12)
    assert B.min() >= 0
    flat = B.reshape(-1, 3)
    # the capped component reaches its cap (block interiors) and no further
    assert flat[:, 2].max() == pytest.approx(0.6, abs=1e-12)
    # the other components keep their pure pixels
    assert np.all(flat[:, :2].max(0) > 0.999)
    # pixels under the cap are untouched, the others lie on the plane a_2 = 0.6
    under = A[..., 2] <= 0.6
    np.testing.assert_array_equal(B[under], A[under])
    np.testing.assert_allclose(B[~under][:, 2], 0.6, atol=1e-12)
    # the excess goes to the others in proportion: a_i' = a_i (1 - c) / (1 - a_2)
    over = ~under & (A[..., 2] < 1.0 - 1e-9)
    assert over.any()
    scale = (1.0 - 0.6) / (1.0 - A[over][:, 2])
    np.testing.assert_allclose(B[over][:, :2], A[over][:, :2] * scale[:, None], atol=1e-12)
    # where the capped component was pure, the excess is shared equally
    pure = A[..., 2] == 1.0
    assert pure.any()
    np.testing.assert_allclose(B[pure], [[0.2, 0.2, 0.6]] * int(pure.sum()), atol=1e-12)


def test_impure_components_keeps_random_stream_and_validates():
    A = chequerboard_abundances(4, (64, 64), 8, 9, random_state=1)
    B = chequerboard_abundances(
        4, (64, 64), 8, 9, random_state=1, impure_components={0: 0.5, 3: 0.7}
    )
    np.testing.assert_allclose(B.sum(-1), 1.0, atol=1e-12)
    flat, ref = B.reshape(-1, 4), A.reshape(-1, 4)
    assert ref[:, 0].max() > 0.5 and ref[:, 3].max() > 0.7
    np.testing.assert_allclose(flat[:, [0, 3]].max(0), [0.5, 0.7], atol=1e-12)
    # the uncapped components only gain
    assert np.all(flat[:, 1:3] >= ref[:, 1:3])
    # same block assignment: the pure pixels of the uncapped components agree
    for j in (1, 2):
        np.testing.assert_array_equal(A[..., j] == 1.0, B[..., j] == 1.0)
    # a cap of 1 changes nothing
    C = chequerboard_abundances(4, (64, 64), 8, 9, random_state=1, impure_components={1: 1.0})
    np.testing.assert_array_equal(C, A)
    # the spectrum image: same maps as the abundance function, clean data =
    # capped maps x endmembers
    _, truth = chequerboard_si(3, impure_components={2: 0.6}, random_state=5)
    np.testing.assert_array_equal(
        truth.abundances,
        chequerboard_abundances(3, (64, 64), 8, 9, random_state=5, impure_components={2: 0.6}),
    )
    assert truth.abundances[..., 2].max() == pytest.approx(0.6)
    np.testing.assert_allclose(truth.clean, truth.abundances @ truth.endmembers)
    for bad, match in [
        ({3: 0.6}, "out of range"),
        ({-1: 0.6}, "out of range"),
        ({2: 0.0}, r"\(0, 1\]"),
        ({2: 1.5}, r"\(0, 1\]"),
        ({0: 0.5, 1: 0.5, 2: 0.5}, "uncapped"),
        ({"2": 0.6}, "integers"),
        ([0.6], "dict"),
    ]:
        with pytest.raises(ValueError, match=match):
            chequerboard_abundances(3, (64, 64), random_state=0, impure_components=bad)
    with pytest.raises(ValueError, match="max_abundance"):
        chequerboard_si(3, max_abundance=0.7, impure_components={2: 0.6}, random_state=0)
