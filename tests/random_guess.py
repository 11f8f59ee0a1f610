"""The random-pixel guess: the floor that an unmixing accuracy threshold must clear.

Three (K) pixels drawn at random are taken as the endmembers, the abundances
are their non-negative least-squares weights, scaled to sum to one as the
estimators' are. On the chequerboard sets, whose endmembers are only
0.12-0.46 rad apart and which have pure pixels, a lucky draw is already a
fair answer, so a threshold that such a guess meets says little.

``THRESHOLDS`` holds the (SAD, NMSE) bounds the accuracy tests assert;
``tests/test_random_guess.py`` shows that the guess fails them on the same data.
"""

from __future__ import annotations

import numpy as np

from hspy_unmix.metrics.unmixing import unmixing_scores
from hspy_unmix.unmixing.abundances import nnls_abundances, sum_to_one_scales

#: (mean SAD in rad, mean NMSE) asserted by the accuracy tests.
THRESHOLDS = {
    # tests/unmixing/test_nmf_base.py, 32x32 set, every second channel; MALS measured 0.088 / 0.069
    "MALS": (0.12, 0.10),
    # tests/neural/test_udas_cnnaeu.py, 64x64x200 set; CNNAEU measured 0.087 / 0.126
    "CNNAEU": (0.11, 0.145),
}

N_DRAWS = 20


def random_pixel_guess(X, endmembers, abundances, seed):
    """Scores of one draw: (SAD, NMSE, ...) dict plus its reconstruction ``cost``."""
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    spectra = X[rng.choice(len(X), len(endmembers), replace=False)]
    weights = nnls_abundances(X, spectra)
    d = sum_to_one_scales(weights)
    scores = unmixing_scores(endmembers, abundances, spectra / d[:, None], weights * d)
    scores["cost"] = 0.5 * np.sum((X - weights @ spectra) ** 2)
    return scores


def guess_draws(X, endmembers, abundances, n_draws=N_DRAWS):
    """``n_draws`` random-pixel guesses (seeds 0 .. n_draws - 1)."""
    return [random_pixel_guess(X, endmembers, abundances, seed) for seed in range(n_draws)]


def n_passing(draws, sad_max, nmse_max):
    """How many draws meet both bounds."""
    return sum(d["sad_mean"] < sad_max and d["nmse_mean"] < nmse_max for d in draws)
