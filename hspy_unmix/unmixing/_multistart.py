"""Several starts of a pure-pixel search, and the spread between them.

VCA's random directions decide which extreme pixels it finds: on the Samson
scene (95 x 95 pixels, 156 bands, stored row by row) a single VCA run takes
a pixel of about 77 % water as the soil endmember at about one seed in six
(SAD 0.263-0.268 rad instead of 0.068; which seeds depends on the machine's
floating point). The search itself is cheap (K products of the projected data with a
direction) once the signal subspace is known, so it is repeated
``n_starts`` times on the same projection and the start whose pure pixels
span the simplex of largest volume is kept: the criterion VCA approximates
(Winter's N-FINDR), computed exactly on the candidates. The starts that come
within ``_NEAR_OPTIMAL`` of that volume give the endmembers' uncertainty.
"""

from __future__ import annotations

import numpy as np

#: Starts whose simplex volume reaches this fraction of the best are
#: "near-optimal": the spread of their endmembers is the reported uncertainty.
_NEAR_OPTIMAL = 0.9


def simplex_volume(projected: np.ndarray, indices: np.ndarray) -> float:
    """Volume (up to a constant) of the simplex of the rows ``indices`` of the
    projected data (n_pixels, K): ``|det|`` of the K x K vertex matrix."""
    vertices = projected[np.asarray(indices)]
    return float(abs(np.linalg.det(vertices)))


def best_of_starts(search, projected: np.ndarray, n_starts: int, rng):
    """Run ``search(projected, rng)`` ``n_starts`` times; keep the largest
    simplex.

    Returns
    -------
    best : numpy.ndarray of int, shape (K,)
        Indices of the kept start.
    all_indices : numpy.ndarray of int, shape (n_starts, K)
    volumes : numpy.ndarray, shape (n_starts,)
    """
    all_indices = np.stack([search(projected, rng) for _ in range(n_starts)])
    volumes = np.array([simplex_volume(projected, idx) for idx in all_indices])
    best = all_indices[int(np.argmax(volumes))]
    return best, all_indices, volumes


def _angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) between every row of ``a`` and every row of ``b``."""
    na = np.linalg.norm(a, axis=1)[:, None]
    nb = np.linalg.norm(b, axis=1)[None, :]
    cos = (a @ b.T) / np.maximum(na * nb, np.finfo(float).tiny)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def endmember_spread(best: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """Largest angle (rad) between each endmember of ``best`` (K, C) and its
    match (Hungarian, on the angle) in each of ``others``."""
    from scipy.optimize import linear_sum_assignment

    spread = np.zeros(best.shape[0])
    for other in others:
        angles = _angles(best, other)
        rows, cols = linear_sum_assignment(angles)
        spread[rows] = np.maximum(spread[rows], angles[rows, cols])
    return spread


def near_optimal(volumes: np.ndarray) -> np.ndarray:
    """Indices of the starts within ``_NEAR_OPTIMAL`` of the largest volume."""
    top = float(volumes.max())
    return np.flatnonzero(volumes >= _NEAR_OPTIMAL * top)
