"""Signal subspace sampling (SSS) before vertex component analysis.

Spiegelberg et al. (2017), as summarised by Muto & Shiga (2020): VCA needs a
pure pixel for every endmember. When the data have none, the K-dimensional
signal subspace found by PCA still contains the true sources, and every point
of it that is non-negative is a candidate. Random scores are drawn in the
subspace, the reconstructed vectors that are non-negative are kept
("artificial pure pixels"), and VCA is run on the data plus these samples.
Its vertices are the extreme rays of the non-negative part of the subspace,
which are the sources when each source has a part of the domain that no
other source covers.

Two sides can be sampled (the factorisation ``X = A E`` is symmetric):

* ``sample_side="spectrum"``: samples are spectra ``V w`` (``V`` the right
  singular vectors), kept when non-negative in every channel. Recovers the
  endmembers without pure pixels when every endmember has channels where the
  others vanish (separated peaks on a low background, as in EDXS).
* ``sample_side="abundance"``: samples are maps ``U w`` (``U`` the left
  singular vectors), kept when non-negative in every pixel; the endmembers
  are then solved from the maps. This is the variant proposed for EELS, whose
  spectra overlap everywhere (a shared power-law background) so that the
  spectrum side has no vertices to find. It needs every map to vanish where
  the others are present, i.e. pure pixels in the sense of the map supports;
  it then uses whole maps instead of single noisy pixels.

Identifiability
---------------
Neither side can recover endmembers that the data do not identify. In
particular, mixing every pixel towards the centre of the simplex
(``chequerboard_si(max_abundance=0.7)``) is an affine change of the abundances
that the data cannot tell from pure maps with mixed spectra; the abundance
side then returns those mixed spectra, like VCA. The spectrum side recovers
the true spectra when they have private channels.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linprog
from sklearn.utils import check_random_state

from .._docstrings import fill_doc
from .._parameters import MAX_PARTIAL_FIT_SAMPLES, estimator_init
from .._validation import check_int
from ._base import UnmixingEstimator
from .abundances import solve_validated, sum_to_one_scales
from ._multistart import best_of_starts, endmember_spread, near_optimal
from .vca import search_pure_pixels, top_right_singular_vectors

__all__ = ["SSS_VCA"]

_SIDES = ("abundance", "spectrum")
#: Entries of the (constraints x samples) work matrix handled at once.
_WORK_ENTRIES = 2_000_000
#: Draws allowed per requested sample before giving up.
_MAX_DRAWS_PER_SAMPLE = 100


@fill_doc
class SSS_VCA(UnmixingEstimator):
    """Signal subspace sampling followed by vertex component analysis.

    Parameters
    ----------
    n_components
        Number of endmembers K.
    n_samples
        Number of non-negative subspace samples ("artificial pure pixels") to
        keep. More samples place the vertices more precisely.
    sample_side
        ``"abundance"`` (sample maps; the EELS variant) or ``"spectrum"``
        (sample spectra; needs endmembers with private channels, e.g. EDXS).
    noise_tolerance
        Non-negativity is tested up to this many noise standard deviations of
        the reconstructed value (the noise is estimated from the residual of
        the rank-K reconstruction, per pixel or per channel). ``None`` uses
        ``sqrt(2 ln m)`` for ``m`` constraints, the typical largest of ``m``
        Gaussian deviations, so that noise alone rarely rejects a sample.
        ``0`` tests strict non-negativity.
    random_state
        Seed of the subspace estimate, the samples and the VCA directions.
    n_starts
        Number of VCA pure-pixel searches on the data and the samples; the
        one whose vertices span the largest simplex is kept (as in
        :class:`~hspy_unmix.unmixing.vca.VCA`), passing over starts that give
        an all-zero endmember. On Samson one search refused at seed 0 and
        left 0.0063 rad between seeds 1-4; ten refuse at no seed and leave
        0.0073 rad between seeds 0-4 (see :doc:`/benchmarks/real_data`).
        Each start within 90 % of the largest volume costs one more solve
        of the endmembers, for ``endmember_angle_spread_``.
    %(max_partial_fit_samples)s

    Attributes
    ----------
    components_ : numpy.ndarray, shape (K, n_channels)
        Endmember spectra, non-negative, scaled so that the abundances of the
        data sum to one.
    n_valid_samples_ : int
        Number of subspace samples kept (non-negative); at most ``n_samples``.
    n_draws_ : int
        Number of subspace samples drawn.
    start_volumes_ : numpy.ndarray, shape (n_starts,)
        Simplex volume of each start relative to the largest one.
    kept_start_ : int
        Index of the kept start.
    endmember_angle_spread_ : numpy.ndarray, shape (K,)
        Largest angle (rad) between each endmember and its match in the
        other starts within 90 % of the largest volume
        (``n_near_optimal_starts_`` of them, the kept one included).

    Notes
    -----
    Scores are drawn uniformly on the slice ``w . u = 1`` of the subspace
    (``u`` the mean direction of the data), inside the exact bounding box of
    its non-negative region (linear programs). Every kept sample is then
    extended along the ray from the data centroid to the boundary of the
    non-negative region: vertices lie on that boundary, so this places the
    samples where VCA looks for them without changing which region is
    sampled. The VCA pure-pixel search then runs on the data and the samples
    in these coordinates. Abundances (``transform``) are fully constrained
    least squares.

    References
    ----------
    J. Spiegelberg, S. Muto, M. Ohtsuka, K. Pelckmans and J. Rusz, "Unmixing
    hyperspectral data by using signal subspace sampling", Ultramicroscopy
    182, 205-211 (2017). doi:10.1016/j.ultramic.2017.07.004

    %(examples_chequerboard_X)s
    >>> sss = hspy_unmix.SSS_VCA(n_components=3, random_state=0)
    >>> abundances = sss.fit_transform(X)
    >>> sss.components_.shape, abundances.shape
    ((3, 200), (4096, 3))
    """

    _negative = "clip"
    _sum_to_one = True
    #: Pixels used to estimate the signal subspace (uniform random sample).
    max_subspace_samples = 8192

    __init__ = estimator_init(
        n_components=None, n_samples=5000, sample_side="abundance", noise_tolerance=None,
        max_partial_fit_samples=MAX_PARTIAL_FIT_SAMPLES, random_state=None, n_starts=10,
    )

    # ------------------------------------------------------------------ fit
    def _check_params(self):
        if self.sample_side not in _SIDES:
            raise ValueError(
                f"sample_side must be one of {_SIDES}, got {self.sample_side!r}."
            )
        n = self.n_samples
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"n_samples must be an integer, got {n!r}.")
        if n < 1:
            raise ValueError(f"n_samples must be at least 1, got {n}.")
        tol = self.noise_tolerance
        if tol is not None:
            tol = float(tol)
            if not np.isfinite(tol) or tol < 0:
                raise ValueError(
                    f"noise_tolerance must be a finite number >= 0 or None, got {tol}."
                )
        return int(n), tol

    def _fit(self, X: np.ndarray):
        n_samples, tolerance = self._check_params()
        rng = check_random_state(self.random_state)
        k = self._n_components
        n_pixels, n_channels = X.shape
        self.n_draws_ = 0
        self.n_valid_samples_ = 0
        if k == 1:
            # One endmember: every pixel is that endmember at abundance one.
            self.components_ = X.mean(axis=0, keepdims=True)
            self._fit_abundances = np.ones((n_pixels, 1))
            return

        sample = X
        if n_pixels > self.max_subspace_samples:
            rows = np.sort(rng.choice(n_pixels, self.max_subspace_samples, replace=False))
            sample = X[rows]
        basis, singular = top_right_singular_vectors(sample, k, rng)
        singular = singular * np.sqrt(n_pixels / sample.shape[0])
        if not np.all(singular > 1e-12 * singular[0]):
            raise ValueError(
                f"the data have rank {int(np.sum(singular > 1e-12 * singular[0]))} "
                f"< n_components={k}; reduce n_components."
            )
        scores = X @ basis  # (n_pixels, K)
        if self.sample_side == "abundance":
            constraints = scores / singular  # maps U w must be >= 0 per pixel
            points = basis * singular  # channels in the same coordinates
            residual = np.maximum(
                np.einsum("ij,ij->i", X, X) - np.einsum("ij,ij->i", scores, scores), 0.0
            )
            noise = np.sqrt(residual / max(n_channels - k, 1))
        else:
            constraints = basis  # spectra V w must be >= 0 per channel
            points = scores
            reconstructed_sq = np.einsum("ck,kl,cl->c", basis, scores.T @ scores, basis)
            residual = np.maximum(np.einsum("ij,ij->j", X, X) - reconstructed_sq, 0.0)
            noise = np.sqrt(residual / max(n_pixels - k, 1))
        if tolerance is None:
            tolerance = np.sqrt(2.0 * np.log(max(constraints.shape[0], 2)))
        noise = tolerance * noise

        direction = points.sum(axis=0)
        direction /= np.linalg.norm(direction)
        heights = points @ direction
        keep = heights > 1e-12 * np.abs(heights).max()
        points = points[keep] / heights[keep, None]
        slice_basis = np.linalg.svd(direction[None, :])[2][1:].T  # (K, K-1)

        samples = self._sample(
            constraints, noise, singular, direction, slice_basis, points, n_samples, rng
        )
        candidates = np.concatenate([points, samples]) if samples.size else points
        _, all_indices, volumes = best_of_starts(
            lambda data, r: search_pure_pixels(data, k, r), candidates,
            check_int(self.n_starts, "n_starts", minimum=1), rng)
        # the largest simplex whose endmembers are all non-zero
        for kept in np.argsort(-volumes, kind="stable").tolist():
            endmembers = self._endmembers(X, constraints, basis, candidates[all_indices[kept]])
            if endmembers is not None:
                break
        else:
            raise ValueError(
                f"SSS_VCA found an all-zero endmember at every start; the data do "
                f"not support {k} components with sample_side={self.sample_side!r}."
            )
        # one solve per distinct vertex set: searches often find the same one
        kept_set = tuple(sorted(all_indices[kept].tolist()))
        solved, n_close = {kept_set: endmembers}, 1
        for i in near_optimal(volumes).tolist():
            if i != kept:
                vertex_set = tuple(sorted(all_indices[i].tolist()))
                if vertex_set not in solved:
                    solved[vertex_set] = self._endmembers(
                        X, constraints, basis, candidates[list(vertex_set)])
                if solved[vertex_set] is not None:
                    n_close += 1
        others = [e for key, e in solved.items() if key != kept_set and e is not None]
        self.start_volumes_ = volumes / max(float(volumes.max()), np.finfo(float).tiny)
        self.kept_start_ = kept
        self.n_near_optimal_starts_ = n_close
        self.components_ = np.ascontiguousarray(endmembers)
        self.endmember_angle_spread_ = endmember_spread(self.components_, others)
        self._fit_abundances = self._transform(X)

    def _endmembers(self, X, constraints, basis, vertices):
        """Endmember spectra of the subspace ``vertices`` (K, K); None if one is zero."""
        if self.sample_side == "abundance":
            maps = np.maximum(constraints @ vertices.T, 0.0)
            maps = maps * sum_to_one_scales(maps)
            endmembers = solve_validated(
                np.ascontiguousarray(X.T), np.ascontiguousarray(maps.T), False
            ).T
        else:
            directions = np.maximum(vertices @ basis.T, 0.0)
            if not np.all(np.any(directions > 0, axis=1)):
                return None
            # X = sum_j (A_j / c_j) (c_j d_j): weights A_j / c_j sum to 1 / c_j.
            weights = solve_validated(X, directions, False)
            endmembers = directions / sum_to_one_scales(weights)[:, None]
        return endmembers if np.all(np.any(endmembers > 0, axis=1)) else None

    def _transform(self, X: np.ndarray) -> np.ndarray:
        # Fully constrained least squares on the fitted endmembers (no refit).
        return solve_validated(X, self.components_, True)

    def _sample(self, constraints, noise, singular, direction, slice_basis, points,
                n_samples, rng):
        """Non-negative subspace samples on the slice ``w . u = 1`` (n, K)."""
        k = direction.size
        centre = points.mean(axis=0)
        low, high = _bounding_box(
            constraints, 2.0 * noise * np.linalg.norm(centre / singular), direction,
            slice_basis, points,
        )
        batch = int(max(64, min(8192, _WORK_ENTRIES // constraints.shape[0])))
        max_draws = _MAX_DRAWS_PER_SAMPLE * n_samples
        kept, n_kept, n_draws = [], 0, 0
        while n_kept < n_samples and n_draws < max_draws:
            offsets = low + (high - low) * rng.random_sample((batch, k - 1))
            w = direction + offsets @ slice_basis.T
            n_draws += batch
            tol = noise[:, None] * np.linalg.norm(w / singular, axis=1)[None, :]
            valid = np.all(constraints @ w.T >= -tol, axis=0)
            if valid.any():
                kept.append(w[valid])
                n_kept += int(valid.sum())
        self.n_draws_ = int(n_draws)
        if not kept:
            warnings.warn(
                f"none of {n_draws} subspace samples was non-negative; SSS_VCA "
                "falls back to plain VCA on the data.",
                UserWarning,
                stacklevel=4,
            )
            return np.empty((0, k))
        samples = np.concatenate(kept)[:n_samples]
        self.n_valid_samples_ = int(samples.shape[0])
        return _extend_to_boundary(samples, centre, constraints, noise, singular, batch)


def _bounding_box(constraints, tol, direction, slice_basis, points):
    """Exact bounds of the non-negative region on the slice, per coordinate."""
    a_ub = -(constraints @ slice_basis)
    b_ub = constraints @ direction + tol
    n = slice_basis.shape[1]
    low, high = np.empty(n), np.empty(n)
    data = points @ slice_basis
    spread = np.ptp(data, axis=0) + 1e-12
    for j in range(n):
        cost = np.zeros(n)
        cost[j] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            result = linprog(sign * cost, A_ub=a_ub, b_ub=b_ub,
                             bounds=[(None, None)] * n, method="highs")
            bounds.append(sign * result.fun if result.status == 0 else None)
        # An unbounded or failed program leaves a wide box around the data.
        low[j] = bounds[0] if bounds[0] is not None else data[:, j].min() - 10 * spread[j]
        high[j] = bounds[1] if bounds[1] is not None else data[:, j].max() + 10 * spread[j]
    return low, high


def _extend_to_boundary(samples, centre, constraints, noise, singular, batch):
    """Move each sample along the ray from ``centre`` to the region's boundary."""
    tol_centre = noise * np.linalg.norm(centre / singular)
    slack = constraints @ centre + tol_centre
    if np.any(slack <= 0):
        return samples  # the centre is not strictly inside: keep the raw samples
    out = np.empty_like(samples)
    for start in range(0, samples.shape[0], batch):
        chunk = samples[start : start + batch]
        steps = chunk - centre
        rates = constraints @ steps.T  # (m, b): change of each constraint per unit
        with np.errstate(divide="ignore"):
            limits = np.where(rates < 0, slack[:, None] / np.where(rates < 0, -rates, 1.0),
                              np.inf)
        reach = limits.min(axis=0)
        reach = np.where(np.isfinite(reach) & (reach >= 1.0), reach, 1.0)
        out[start : start + batch] = centre + reach[:, None] * steps
    return out
