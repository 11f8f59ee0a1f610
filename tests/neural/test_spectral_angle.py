"""Several starts of the spectral-angle networks (DAEU, MTAEU, CNNAEU)."""

from __future__ import annotations

import numpy as np
import pytest

from hspy_unmix.neural import _spectral_angle as sa

from neural_helpers import flat as _flat

pytestmark = pytest.mark.neural

pytest.importorskip("keras")


def _fake_starts(monkeypatch, cls, costs, components):
    """Replace the training of one start by the given loss and endmembers."""
    calls = []

    def fit_start(self, X, seed):
        i = len(calls)
        calls.append((seed, self.__dict__.get("_decoder_start")))
        self.components_ = np.array(components[i], dtype=float)
        self.history_ = {"loss": [costs[i] + 1.0, costs[i]]}
        self.__dict__["_training_cost"] = costs[i]

    monkeypatch.setattr(cls, "_fit_start", fit_start)
    return calls


def _rotated(base, angle):
    """``base`` (2 rows, 3 channels) with its first row turned by ``angle`` rad."""
    out = base.copy()
    out[0] = np.array([np.cos(angle), np.sin(angle), 0.0])
    return out


@pytest.mark.parametrize("costs, kept, near", [
    ([0.085, 0.041, 0.042], 1, [1, 2]),  # a start in a wrong simplex: twice the loss
    ([0.040, 0.060, 0.0415], 0, [0, 2]),
    ([0.05, 0.05, 0.05], 0, [0, 1, 2]),  # ties keep the first
])
def test_lowest_loss_kept_and_spread_over_near_optimal_starts(monkeypatch, costs, kept,
                                                              near):
    from hspy_unmix.neural.daeu import DAEU

    base = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    angles = [0.3, 0.0, 0.02]  # start 0 far off, starts 1 and 2 close together
    components = [_rotated(base, a) for a in angles]
    calls = _fake_starts(monkeypatch, DAEU, costs, components)
    X = np.random.RandomState(0).rand(50, 3) + 0.1
    est = DAEU(2, n_starts=3, init="random", random_state=7).fit(X)
    assert len(calls) == 3 and len({seed for seed, _ in calls}) == 3
    assert est.kept_start_ == kept
    np.testing.assert_array_equal(est.start_costs_, costs)
    # the kept start's endmembers (fit returns them in the data's units)
    unit = est.components_ / np.linalg.norm(est.components_, axis=1, keepdims=True)
    np.testing.assert_allclose(unit, components[kept], atol=1e-12)
    assert est.history_["loss"][-1] == costs[kept]
    assert est.n_near_optimal_starts_ == len(near)
    others = [i for i in near if i != kept]
    expected = max([abs(angles[kept] - angles[i]) for i in others], default=0.0)
    np.testing.assert_allclose(est.endmember_angle_spread_, [expected, 0.0], atol=1e-7)
    # nothing of the per-start bookkeeping is left on the estimator
    assert "_decoder_start" not in est.__dict__


def test_decoder_start_computed_once_and_shared(monkeypatch, chequerboard3):
    from hspy_unmix.neural.daeu import DAEU

    X = _flat(chequerboard3[0])[::16]
    computed = []
    original = sa.SpectralAngleUnmixing._initial_decoder

    def counting(self, X, seed):
        computed.append(seed)
        return original(self, X, seed)

    monkeypatch.setattr(sa.SpectralAngleUnmixing, "_initial_decoder", counting)
    est = DAEU(3, epochs=2, warmup_epochs=2, n_starts=2, random_state=3,
               show_progressbar=False).fit(X)
    assert len(computed) == 1
    # every start trained the encoder only, against the same decoder start
    start = sa.unit_mean_rows(original(est, X, computed[0]))
    kernel = est.model_.get_layer("endmembers").get_weights()[0]
    np.testing.assert_allclose(kernel, start, rtol=1e-5, atol=1e-6)
    assert est.start_costs_.shape == (2,)
    # the kept start's loss is the best epoch of its history
    assert est.start_costs_[est.kept_start_] == min(est.history_["loss"])
    assert est.start_costs_[est.kept_start_] == est.start_costs_.min()


def test_one_start_reproduces_a_single_training(chequerboard3):
    from hspy_unmix.neural.daeu import DAEU

    X = _flat(chequerboard3[0])[::16]
    one = DAEU(3, epochs=3, n_starts=1, random_state=4, show_progressbar=False).fit(X)
    three = DAEU(3, epochs=3, n_starts=3, random_state=4, show_progressbar=False).fit(X)
    # start 0 of the three has the seed of the single start
    assert three.start_costs_[0] == pytest.approx(one.start_costs_[0], rel=1e-5)
    assert one.n_near_optimal_starts_ == 1
    np.testing.assert_array_equal(one.endmember_angle_spread_, np.zeros(3))


@pytest.mark.parametrize("n_starts", [0, -1])
def test_bad_n_starts(n_starts):
    from hspy_unmix.neural.daeu import DAEU

    X = np.random.RandomState(0).rand(40, 5) + 0.1
    with pytest.raises(ValueError, match="n_starts"):
        DAEU(2, epochs=1, n_starts=n_starts).fit(X)


def test_outlier_warning_of_the_start_speaks_of_the_network(chequerboard3):
    from hspy_unmix.neural.daeu import DAEU

    X = _flat(chequerboard3[0])[::16].copy()
    X[5, 100] *= 50.0  # a one-channel spike
    with pytest.warns(UserWarning, match="look like outliers") as record:
        DAEU(3, epochs=1, n_starts=1, random_state=0, show_progressbar=False).fit(X)
    texts = [str(w.message) for w in record if "outliers" in str(w.message)]
    assert texts and all(t.startswith("DAEU: 1 of 256 spectra") for t in texts)
    assert not any("outlier_screen" in t or "MinVolume" in t for t in texts)


def test_median_of_starts_matches_scales_and_resists_one_wrong_start(monkeypatch):
    from hspy_unmix.neural.daeu import DAEU

    base = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    angles = [0.3, 0.0, 0.02]  # start 0 far off
    components = [_rotated(base, a) for a in angles]
    components[2] = 5.0 * components[2][::-1]  # another order and scale
    costs = [0.040, 0.041, 0.042]  # the wrong start has the lowest loss
    _fake_starts(monkeypatch, DAEU, costs, components)
    X = np.random.RandomState(0).rand(50, 3) + 0.1
    est = DAEU(2, n_starts=3, init="random", random_state=7,
               combine_starts="median").fit(X)
    assert est.kept_start_ == 0
    np.testing.assert_array_equal(est.start_costs_, costs)
    # channel-wise median of the first rows, each scaled to unit mean
    rows = np.array([[np.cos(a), np.sin(a), 0.0] for a in angles])
    rows /= rows.mean(axis=1, keepdims=True)
    expected = np.median(rows, axis=0)
    got = est.components_[0] / est.components_[0].mean()
    np.testing.assert_allclose(got, expected / expected.mean(), rtol=1e-12)
    angle = np.arctan2(got[1], got[0])
    assert angle < 0.03  # the lowest-loss start alone: 0.3 rad
    np.testing.assert_allclose(est.components_[1] / est.components_[1].max(), base[1],
                               atol=1e-12)
    # the spread is over every start, measured against the returned endmembers
    assert 0.25 < est.endmember_angle_spread_[0] < 0.3
    # one start: the median is that start
    _fake_starts(monkeypatch, DAEU, costs, components)
    one = DAEU(2, n_starts=1, init="random", random_state=7, combine_starts="median").fit(X)
    _fake_starts(monkeypatch, DAEU, costs, components)
    ref = DAEU(2, n_starts=1, init="random", random_state=7).fit(X)
    np.testing.assert_array_equal(one.components_, ref.components_)


def test_median_of_starts_refuses_encoder_abundances_and_unknown_modes():
    from hspy_unmix.neural.daeu import DAEU

    X = np.random.RandomState(0).rand(50, 3) + 0.1
    with pytest.raises(ValueError, match="needs abundances='fcls'"):
        DAEU(2, epochs=1, combine_starts="median", abundances="encoder").fit(X)
    with pytest.raises(ValueError, match="combine_starts must be one of"):
        DAEU(2, epochs=1, combine_starts="mean").fit(X)
