"""Unmixing metrics of Brun et al.: spectral angle distance and NMSE.

Components found by an unsupervised method come in arbitrary order and
scale; :func:`match_components` pairs them with the ground truth by the
assignment that minimises the total spectral angle (Hungarian algorithm).
"""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from scipy.optimize import linear_sum_assignment


def _as_2d(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (n_components, n_channels).")
    return x


def spectral_angle(a, b):
    """Angle in radians between spectra (rows of ``a`` and ``b``, broadcast).

    ``SAD(a, b) = arccos(a.b / (|a| |b|))``. Zero vectors give ``pi/2``.

    Parameters
    ----------
    a, b : array-like, shape (..., n_channels)
        Spectra along the last axis; the other axes broadcast.

    Returns
    -------
    numpy.ndarray or float
        Angles in radians, shape of the broadcast leading axes.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import spectral_angle
    >>> float(spectral_angle([1.0, 0.0], [2.0, 0.0]))
    0.0
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = np.sum(a * b, axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return np.arccos(np.clip(cos, -1.0, 1.0))


@fill_doc
def sad_matrix(true_spectra, est_spectra):
    """Pairwise spectral angles, shape (n_true, n_est).

    Parameters
    ----------
    %(true_est_spectra)s

    Returns
    -------
    numpy.ndarray, shape (n_true, n_est)
        Angle in radians between ``true_spectra[i]`` and ``est_spectra[j]``.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import sad_matrix
    >>> sad_matrix([[1.0, 0.0]], [[0.0, 1.0], [2.0, 0.0]]).round(4).tolist()
    [[1.5708, 0.0]]
    """
    t = _as_2d(true_spectra, "true_spectra")
    e = _as_2d(est_spectra, "est_spectra")
    if t.shape[1] != e.shape[1]:
        raise ValueError(
            f"spectra lengths differ: {t.shape[1]} (truth) vs {e.shape[1]} (estimate)."
        )
    return spectral_angle(t[:, None, :], e[None, :, :])


@fill_doc
def match_components(true_spectra, est_spectra):
    """Index of the estimated component matched to each true one.

    Returns an integer array ``perm`` of length ``n_true`` such that
    ``est_spectra[perm[i]]`` is paired with ``true_spectra[i]`` and the sum of
    spectral angles is minimal. Needs ``n_est >= n_true``.

    Parameters
    ----------
    %(true_est_spectra)s

    Returns
    -------
    numpy.ndarray of int, shape (n_true,)
        ``perm``: the estimated component paired with each true one.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import match_components
    >>> true = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> match_components(true, true[::-1]).tolist()
    [1, 0]
    """
    m = sad_matrix(true_spectra, est_spectra)
    if m.shape[1] < m.shape[0]:
        raise ValueError(
            f"{m.shape[1]} estimated components cannot be matched to {m.shape[0]} true ones."
        )
    rows, cols = linear_sum_assignment(m)
    perm = np.empty(m.shape[0], dtype=int)
    perm[rows] = cols
    return perm


def sad(true_spectra, est_spectra, match=True):
    """Spectral angle distance of each true endmember to its estimate (radians).

    Parameters
    ----------
    true_spectra, est_spectra : array-like, shape (K, n_channels)
        Ground truth and estimated endmembers (rows).
    match : bool
        Pair the components by :func:`match_components` first; otherwise row
        ``i`` is compared with row ``i``.

    Returns
    -------
    numpy.ndarray, shape (K,)
        Angles in radians, in the order of ``true_spectra``.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import sad
    >>> true = np.array([[1.0, 0, 0], [0, 1.0, 1.0]])
    >>> sad(true, true[::-1] * 3).round(6).tolist()
    [0.0, 0.0]
    """
    t = _as_2d(true_spectra, "true_spectra")
    e = _as_2d(est_spectra, "est_spectra")
    if match:
        e = e[match_components(t, e)]
    elif e.shape != t.shape:
        raise ValueError("without matching, both sets need the same shape.")
    return spectral_angle(t, e)


def nmse(true_abundances, est_abundances):
    """Normalised mean squared error of each abundance map (Brun et al.).

    ``NMSE(Z, Z') = ||Z - Z'||_F^2 / ||Z||_F^2`` per component, with maps as
    the last axis (``(..., K)``, e.g. ``(ny, nx, K)`` or ``(n_pixels, K)``),
    already in matching order (see :func:`unmixing_scores`).

    Parameters
    ----------
    true_abundances : array-like, shape (..., K)
        Reference abundance maps, components last.
    est_abundances : array-like, shape (..., K)
        Estimated maps, same shape and component order.

    Returns
    -------
    numpy.ndarray, shape (K,)
        0 for a perfect map; 1 for a map that is zero everywhere.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.metrics import nmse
    >>> nmse([[1.0, 0.0], [0.0, 1.0]], [[0.9, 0.1], [0.0, 1.0]]).round(3).tolist()
    [0.01, 0.01]
    """
    z = np.asarray(true_abundances, dtype=np.float64)
    zh = np.asarray(est_abundances, dtype=np.float64)
    if z.shape != zh.shape:
        raise ValueError(f"abundance shapes differ: {z.shape} vs {zh.shape}.")
    z = z.reshape(-1, z.shape[-1])
    zh = zh.reshape(-1, zh.shape[-1])
    return np.sum((z - zh) ** 2, axis=0) / np.sum(z**2, axis=0)


def unmixing_scores(true_spectra, true_abundances, est_spectra, est_abundances):
    """SAD and NMSE of an unmixing result against ground truth.

    Components are matched by spectral angle, then abundance maps compared
    in that order.

    Parameters
    ----------
    true_spectra, est_spectra : array-like, shape (K, n_channels)
        Reference and estimated endmembers, one per row (any order).
    true_abundances, est_abundances : array-like, shape (..., K)
        Pixels first, components last; same pixel order.

    Returns
    -------
    dict
        ``sad`` (per component, radians), ``sad_mean``, ``nmse`` (per
        component), ``nmse_mean`` and ``permutation`` (estimated index of each
        true component).

    Examples
    --------
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.metrics import unmixing_scores
    >>> s, truth = chequerboard_si(n_components=3, noise=False, random_state=0)
    >>> scores = unmixing_scores(truth.endmembers, truth.abundances,
    ...                          truth.endmembers, truth.abundances)
    >>> round(scores["sad_mean"], 6), round(scores["nmse_mean"], 6)
    (0.0, 0.0)
    """
    t = _as_2d(true_spectra, "true_spectra")
    e = _as_2d(est_spectra, "est_spectra")
    perm = match_components(t, e)
    a_true = np.asarray(true_abundances, dtype=np.float64)
    a_est = np.asarray(est_abundances, dtype=np.float64)
    a_true = a_true.reshape(-1, a_true.shape[-1])
    a_est = a_est.reshape(-1, a_est.shape[-1])
    if a_true.shape[0] != a_est.shape[0]:
        raise ValueError(
            f"{a_true.shape[0]} true pixels vs {a_est.shape[0]} estimated pixels."
        )
    sads = spectral_angle(t, e[perm])
    nmses = nmse(a_true, a_est[:, perm])
    return {
        "sad": sads,
        "sad_mean": float(sads.mean()),
        "nmse": nmses,
        "nmse_mean": float(nmses.mean()),
        "permutation": perm,
    }
