"""The accuracy thresholds are not met by guessing.

The guess (tests/random_guess.py): K random pixels as endmembers, NNLS
abundances scaled to sum to one, on the very data each accuracy test uses.
"""

from __future__ import annotations

import numpy as np
import pytest

from hspy_unmix.synthetic import chequerboard_si

from random_guess import N_DRAWS, THRESHOLDS, guess_draws, n_passing


@pytest.fixture(scope="module")
def small3_draws():
    """The 32x32 set of tests/unmixing/test_nmf_base.py (every second channel)."""
    s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    X = s.data.reshape(-1, s.data.shape[-1])[:, ::2]
    return guess_draws(X, truth.endmembers[:, ::2], truth.flat_abundances)


@pytest.fixture(scope="module")
def chequerboard3_draws(chequerboard3):
    """The 64x64x200 set of tests/neural/test_udas_cnnaeu.py."""
    s, truth = chequerboard3
    X = s.data.reshape(-1, s.data.shape[-1])
    return guess_draws(X, truth.endmembers, truth.flat_abundances)


def test_guess_passed_the_former_bounds(small3_draws, chequerboard3_draws):
    # What the accuracy tests asserted alone before: 7 and 3 of 20 draws pass.
    assert n_passing(small3_draws, 0.4, 0.45) == 7
    assert n_passing(chequerboard3_draws, 0.15, 0.2) == 3
    assert np.median([d["sad_mean"] for d in chequerboard3_draws]) < 0.15


def test_guess_fails_mals_bounds(small3_draws):
    sad_max, nmse_max = THRESHOLDS["MALS"]
    assert n_passing(small3_draws, sad_max, nmse_max) == 0
    # Best draw on each score: 0.074 rad (SAD) and 0.102 (NMSE), not both
    # below the bounds in any draw; the NMSE bound alone is failed by all.
    assert min(d["nmse_mean"] for d in small3_draws) > nmse_max


def test_guess_fails_cnnaeu_bounds(chequerboard3_draws):
    sad_max, nmse_max = THRESHOLDS["CNNAEU"]
    # With 4096 pixels and pure blocks, 2 of 20 draws hit three pure pixels of
    # different phases (0.029 rad / 0.046 and 0.042 / 0.139): a single noisy
    # pure pixel per phase. Every other draw fails, the median by far.
    assert n_passing(chequerboard3_draws, sad_max, nmse_max) <= 2
    assert np.median([d["sad_mean"] for d in chequerboard3_draws]) > 1.2 * sad_max
    assert np.median([d["nmse_mean"] for d in chequerboard3_draws]) > 3 * nmse_max
    assert len(chequerboard3_draws) == N_DRAWS
