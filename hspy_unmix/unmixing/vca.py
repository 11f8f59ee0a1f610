"""Vertex component analysis (VCA) with fully constrained abundances.

VCA (Nascimento & Bioucas-Dias 2005) assumes that every endmember appears
pure in at least one pixel. It projects the data onto the K-dimensional
signal subspace, then finds the pure pixels one by one as the extreme of the
data along a random direction orthogonal to the endmembers already found.
The abundances are then solved by fully constrained least squares
(:func:`hspy_unmix.unmixing.abundances.fcls_abundances`), the VCA-FCLS combination
compared in Brun et al. for STEM-EELS.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from .._docstrings import fill_doc
from .._parameters import MAX_PARTIAL_FIT_SAMPLES, estimator_init
from .._validation import check_int
from ._base import UnmixingEstimator
from ._multistart import best_of_starts, endmember_spread, near_optimal
from .abundances import solve_validated

__all__ = ["VCA"]

_SOLVERS = ("fcls", "nnls")
#: Seed of the subspace estimate (pixel sample and randomized SVD), fixed so
#: that the endmembers do not move with ``random_state``.
_SUBSPACE_SEED = 0


@fill_doc
class VCA(UnmixingEstimator):
    """Vertex component analysis followed by an abundance solver.

    Parameters
    ----------
    n_components
        Number of endmembers K.
    snr_input
        Signal-to-noise ratio in dB used to choose the projection. ``None``
        estimates it from the data (Nascimento & Bioucas-Dias 2005, eq. 13).
        Below ``15 + 10 log10(K)`` dB the data are projected onto the
        (K-1)-dimensional affine subspace of principal components (robust to
        noise); above it, onto the K-dimensional subspace followed by the
        projective projection (robust to scale variations, e.g. thickness).
    random_state
        Seed of the random directions of the pure-pixel search (the
        subspace is estimated with a fixed seed, see Notes).
    %(abundance_solver)s
    %(max_partial_fit_samples)s
    n_starts
        Number of pure-pixel searches (random directions) on the same
        projection; the one whose pure pixels span the largest simplex is
        kept (see :mod:`hspy_unmix.unmixing._multistart`). The subspace is
        computed once and each start is K products of the projected data
        with a direction, so 50 starts cost little more than one (Samson,
        9025 x 156: about 0.1 s a fit with 10, 30 or 100 starts). On Samson
        stored row by row, one start gives SAD 0.068 at most seeds and
        0.263-0.268 rad at about one in six (which ones depends on the
        machine). Ten starts still found two or three different pixel sets
        over seeds 0-9 on the Angadi 45 x 22 and CuZn core-loss SIs, 30 and
        100 one.
    %(outlier_screen)s

    Attributes
    ----------
    start_volumes_ : numpy.ndarray, shape (n_starts,)
        Simplex volume of each start relative to the kept (largest) one.
    endmember_angle_spread_ : numpy.ndarray, shape (K,)
        Uncertainty of each endmember: the largest angle (rad) between it and
        its match in the starts within 90 % of the largest volume
        (``n_near_optimal_starts_`` of them, the kept one included); 0 when
        they all agree.
    %(outlier_mask_)s
    components_ : numpy.ndarray, shape (K, n_channels)
        Endmember spectra: the data of the selected pure pixels (non-negative
        for non-negative data).
    pure_pixel_indices_ : numpy.ndarray, shape (K,)
        Row of the training data of each endmember (outliers included in
        the numbering), in increasing order: the components come in the
        same order whatever the seed when the same pixels are found.
    snr_estimate_ : float
        Estimated signal-to-noise ratio in dB (computed even when
        ``snr_input`` is given).

    Notes
    -----
    The signal subspace is estimated on a uniform random sample of at most
    :attr:`max_subspace_samples` pixels with a randomized truncated SVD
    (range finder with power iterations): a K-dim subspace of a spectrum
    image is captured by far fewer pixels than a spectrum image holds, and
    this keeps the cost linear in the number of pixels. All pixels are then
    projected and searched for the pure pixels. The SNR estimate also uses
    that sample. The sample and the SVD use a fixed seed, not
    ``random_state``: the endmembers are the pure pixels projected onto the
    subspace, so a subspace drawn anew at every seed moved them by up to
    0.0005 rad between seeds even where every seed found the same pixels
    (the Samson scene, 9025 pixels). ``random_state`` seeds the pure-pixel
    search only, and the pure pixels are returned in row order: the NMF
    family starts from them, and NMF_SO ended at 0.075 or 0.086 rad on
    Samson depending on the order the search had found them in.

    References
    ----------
    J. M. P. Nascimento and J. M. Bioucas-Dias, "Vertex component analysis: a
    fast algorithm to unmix hyperspectral data", IEEE Transactions on
    Geoscience and Remote Sensing 43(4), 898-910 (2005).
    doi:10.1109/TGRS.2005.844293

    %(examples_chequerboard)s
    >>> vca = hspy_unmix.VCA(n_components=3, random_state=0)
    >>> abundances = vca.fit_transform(s.data.reshape(-1, s.data.shape[-1]))
    >>> abundances.shape, vca.components_.shape
    ((4096, 3), (3, 200))

    Through the signal:

    >>> s.decomposition(algorithm="VCA", output_dimension=3)  # doctest: +SKIP
    """

    _negative = "clip"
    _fits_float32 = True
    #: Upper bound on the pixels used to estimate the signal subspace.
    max_subspace_samples = 8192
    #: Power iterations of the randomized SVD.
    _power_iterations = 1
    #: Extra random directions of the randomized SVD.
    _oversampling = 10

    __init__ = estimator_init(
        n_components=None, snr_input=None, max_partial_fit_samples=MAX_PARTIAL_FIT_SAMPLES,
        random_state=None, abundance_solver="fcls", outlier_screen="auto", n_starts=50,
    )

    @property
    def _sum_to_one(self) -> bool:
        return self.abundance_solver == "fcls"

    # ------------------------------------------------------------------ fit
    def _fit(self, X: np.ndarray):
        check_abundance_solver(self.abundance_solver)
        self._find_endmembers(X, self._n_components)
        self._fit_abundances = self._solve(X)

    def _find_endmembers(self, X: np.ndarray, n_components: int):
        """Set ``components_``, ``pure_pixel_indices_`` and ``snr_estimate_``
        (no abundances: a start for other methods, e.g. MinVolume)."""
        from ..io.chunks import matmul_rows

        snr_input = self.snr_input
        if snr_input is not None:
            snr_input = float(snr_input)
            if np.isnan(snr_input):
                raise ValueError("snr_input must be a number in dB, got NaN.")
        rng = check_random_state(self.random_state)
        n_pixels, n_channels = X.shape

        # the subspace does not depend on random_state (see Notes)
        subspace_rng = np.random.RandomState(_SUBSPACE_SEED)
        centred, mean = _centred_sample(X, self.max_subspace_samples, subspace_rng)
        basis_c, singular_c = self._top_subspace(centred, n_components, subspace_rng)
        if basis_c.shape[1] < n_components - 1:
            raise ValueError(
                f"the spectra span only {basis_c.shape[1] + 1} affine dimension(s), "
                f"too few for {n_components} endmembers; lower n_components."
            )
        snr = _snr_from_power(
            centred.sum_of_squares() / centred.shape[0] + float(mean @ mean),
            singular_c, mean, n_components, centred.shape)
        self.snr_estimate_ = float(snr)
        snr_used = snr if snr_input is None else snr_input
        threshold = 15.0 + 10.0 * np.log10(n_components)

        if snr_used < threshold and n_components > 1:
            # Affine (K-1)-dim projection plus a constant coordinate.
            basis = basis_c[:, : n_components - 1]
            offset = mean
            reduced = matmul_rows(X, basis) - mean @ basis
            height = np.sqrt((reduced**2).sum(axis=1).max())
            projected = np.empty((n_pixels, n_components))
            projected[:, :-1] = reduced
            projected[:, -1] = height
        else:
            basis = _uncentred_subspace(centred, mean, basis_c, n_components)
            offset = np.zeros(n_channels)
            reduced = matmul_rows(X, basis)
            direction = reduced.mean(axis=0)
            denominators = reduced @ direction
            floor = 1e-12 * np.abs(denominators).max()
            valid = denominators > floor
            projected = np.zeros_like(reduced)
            projected[valid] = reduced[valid] / denominators[valid, None]

        n_starts = check_int(self.n_starts, "n_starts", minimum=1)
        indices, all_indices, volumes = best_of_starts(
            lambda data, r: search_pure_pixels(data, n_components, r),
            projected,
            n_starts,
            rng,
        )
        # in row order: the search finds the same pixels in a seed-dependent
        # order, and the NMF family started from them depends on that order
        indices = np.sort(indices)
        self.pure_pixel_indices_ = indices
        self.start_volumes_ = volumes / max(float(volumes.max()), np.finfo(float).tiny)

        # As in the paper, the endmembers are the pure pixels projected onto
        # the signal subspace: this removes most of their noise.
        def endmembers(rows):
            return np.maximum((X[rows] - offset) @ basis @ basis.T + offset, 0.0)

        self.components_ = endmembers(indices)
        close = near_optimal(volumes)
        self.n_near_optimal_starts_ = int(close.size)
        self.endmember_angle_spread_ = endmember_spread(
            self.components_, [endmembers(all_indices[i]) for i in close]
        )

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self._solve(X)

    # ------------------------------------------------------------- helpers
    def _solve(self, X: np.ndarray) -> np.ndarray:
        components = self.components_
        if not np.any(components != 0, axis=1).all():
            raise ValueError(
                "a selected pure pixel is an all-zero spectrum; remove all-zero "
                "spectra (e.g. with navigation_mask) before running VCA."
            )
        return solve_validated(X, components, self._sum_to_one)

    def _top_subspace(self, data: np.ndarray, rank: int, rng):
        return top_right_singular_vectors(
            data, rank, rng, self._oversampling, self._power_iterations
        )


def check_abundance_solver(name) -> None:
    """Raise a clear error unless ``name`` is an abundance solver of the package."""
    if name not in _SOLVERS:
        raise ValueError(f"abundance_solver must be one of {_SOLVERS}, got {name!r}.")


def _uncentred_subspace(centred, mean, centred_basis, rank):
    """Leading ``rank``-dim subspace of the uncentred data.

    It lies (up to noise) in the span of the mean and the ``rank`` leading
    centred principal directions, so an exact SVD of the sample reduced to
    that (rank + 1)-dim span gives it without another pass of the randomized
    SVD.
    """
    span = _orthonormal_columns(np.column_stack([mean, centred_basis]))
    _, _, vt = np.linalg.svd(centred @ span + mean @ span, full_matrices=False)
    return span @ vt[:rank].T


def _centred_sample(X: np.ndarray, max_samples: int, rng) -> tuple[CentredRows, np.ndarray]:
    """A uniform random sample of at most ``max_samples`` rows of ``X`` minus
    its mean (a :class:`CentredRows`, no copy of the rows), and the mean."""
    n_pixels = X.shape[0]
    rows = (None if n_pixels <= max_samples
            else np.sort(rng.choice(n_pixels, size=max_samples, replace=False)))
    centred = CentredRows(X, rows)
    return centred, centred.mean


class RowBlocks:
    """The rows ``X[rows]`` of a sample (all rows when ``rows`` is None) as a
    float64 matrix that is only multiplied, never copied.

    Products with it (``A @ M``, ``A.T @ Q``), its sum of squares and its row
    blocks are computed a block of ``block_rows`` rows at a time, converted
    to float64 as they are used: a float32 sample of 20 000 spectra of 2048
    channels costs one 4 MiB block beside itself instead of a 312 MiB float64
    copy. ``np.asarray`` gives the full matrix.
    :class:`CentredRows` subtracts the rows' mean.
    """

    def __init__(self, X: np.ndarray, rows: np.ndarray | None = None, block_rows: int = 256):
        self._X, self._rows, self._block = X, rows, int(block_rows)
        n = X.shape[0] if rows is None else rows.size
        self.shape = (n, X.shape[1])
        #: What :meth:`blocks` subtracts from each row.
        self.mean = np.zeros(X.shape[1])

    def _raw_blocks(self):
        for start in range(0, self.shape[0], self._block):
            stop = min(start + self._block, self.shape[0])
            yield start, (self._X[start:stop] if self._rows is None
                          else self._X[self._rows[start:stop]])

    def blocks(self):
        """``(start, block)`` pairs: consecutive float64 row blocks, minus
        :attr:`mean` (new arrays)."""
        for start, block in self._raw_blocks():
            yield start, block - self.mean

    def __matmul__(self, matrix: np.ndarray) -> np.ndarray:
        out = np.empty((self.shape[0], matrix.shape[1]))
        for start, block in self.blocks():
            out[start:start + block.shape[0]] = block @ matrix
        return out

    #: ``ndarray @ RowBlocks`` calls :meth:`__rmatmul__` instead of
    #: converting this to an array.
    __array_ufunc__ = None

    @property
    def T(self):  # noqa: N802 (numpy's name)
        """The transpose, for products ``A.T @ Q`` only."""
        return _TransposedRows(self)

    def rmatmul_transposed(self, matrix: np.ndarray) -> np.ndarray:
        """``A.T @ matrix`` for ``matrix`` of shape (n_rows, k)."""
        out = np.zeros((self.shape[1], matrix.shape[1]))
        for start, block in self.blocks():
            out += block.T @ matrix[start:start + block.shape[0]]
        return out

    def __rmatmul__(self, matrix: np.ndarray) -> np.ndarray:
        """``matrix @ A`` for ``matrix`` of shape (k, n_rows)."""
        return self.rmatmul_transposed(matrix.T).T

    def sum_of_squares(self) -> float:
        return float(sum(np.einsum("ij,ij->", b, b) for _, b in self.blocks()))

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape)
        for start, block in self.blocks():
            out[start:start + block.shape[0]] = block
        return out if dtype is None else out.astype(dtype, copy=False)


class CentredRows(RowBlocks):
    """The matrix ``X[rows] - mean(X[rows])`` without its copy (a
    :class:`RowBlocks` whose :attr:`mean` is the rows' mean): a sample of
    8192 spectra of 2048 channels costs one block beside ``X`` instead of a
    centred copy of itself (128 MiB in float64).
    """

    def __init__(self, X: np.ndarray, rows: np.ndarray | None = None, block_rows: int = 256):
        super().__init__(X, rows, block_rows)
        total = np.zeros(X.shape[1])
        for _, block in self._raw_blocks():
            total += block.sum(axis=0, dtype=np.float64)
        self.mean = total / max(self.shape[0], 1)


class _TransposedRows:
    """``RowBlocks.T``: only ``A.T @ Q``."""

    def __init__(self, rows: RowBlocks):
        self._rows = rows
        self.shape = rows.shape[::-1]

    def __matmul__(self, matrix: np.ndarray) -> np.ndarray:
        return self._rows.rmatmul_transposed(matrix)


def top_right_singular_vectors(
    data: np.ndarray, rank: int, rng, oversampling: int = 10, power_iterations: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Leading right singular vectors (n_channels, rank) and singular values.

    ``data`` is an array or a :class:`CentredRows` (only multiplied, never
    copied). A randomized range finder (Halko, Martinsson & Tropp 2011) with power
    iterations; an exact SVD when the matrix is small. Tall matrices are only
    touched by matrix products (BLAS 3), and orthonormalised through their
    small Gram matrix, which is much faster than a LAPACK QR of a tall matrix
    on a busy machine.
    """
    n_rows, n_cols = data.shape
    width = rank + oversampling
    if min(n_rows, n_cols) <= 2 * width:
        _, singular, vt = np.linalg.svd(np.asarray(data), full_matrices=False)
        return vt[:rank].T.copy(), singular[:rank].copy()
    q = _orthonormal_columns(data @ rng.standard_normal((n_cols, width)))
    for _ in range(power_iterations):
        q = _orthonormal_columns(data @ _orthonormal_columns(data.T @ q))
    small = q.T @ data  # (width, n_cols): data ~= q @ small
    eigenvalues, left = np.linalg.eigh(small @ small.T)
    order = np.argsort(eigenvalues)[::-1][:rank]
    singular = np.sqrt(np.maximum(eigenvalues[order], 0.0))
    right = small.T @ left[:, order]
    right /= np.maximum(np.linalg.norm(right, axis=0), np.finfo(float).tiny)
    return right, singular


def _orthonormal_columns(matrix: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of a tall matrix (Cholesky-QR
    through an eigendecomposition of the Gram matrix, applied twice for
    accuracy)."""
    for _ in range(2):
        eigenvalues, vectors = np.linalg.eigh(matrix.T @ matrix)
        keep = eigenvalues > eigenvalues[-1] * 1e-14
        matrix = matrix @ (vectors[:, keep] / np.sqrt(eigenvalues[keep]))
    return matrix


def estimate_snr(
    data: np.ndarray, centred_singular: np.ndarray, mean: np.ndarray, rank: int
) -> float:
    """SNR in dB of ``data`` for a ``rank``-dim signal (Nascimento 2005, eq. 13).

    ``centred_singular`` are the leading singular values of the centred data.
    """
    power_data = float(np.einsum("ij,ij->", data, data)) / data.shape[0]
    return _snr_from_power(power_data, centred_singular, mean, rank, data.shape)


def _snr_from_power(power_data, centred_singular, mean, rank, shape) -> float:
    """:func:`estimate_snr` from the mean power of the rows (``shape`` of the data)."""
    n_rows, n_channels = shape
    power_signal = float(np.sum(centred_singular[:rank] ** 2)) / n_rows + float(
        mean @ mean
    )
    noise = power_data - power_signal
    signal = power_signal - rank / n_channels * power_data
    if noise <= 0:
        return np.inf
    if signal <= 0:
        return -np.inf
    return 10.0 * np.log10(signal / noise)


def search_pure_pixels(projected: np.ndarray, n_components: int, rng) -> np.ndarray:
    """Indices of the K pure pixels in projected data (n_pixels, K).

    Each step takes the pixel with the largest absolute projection on a
    random direction orthogonal to the pixels found so far (plus the first
    coordinate axis at the start).
    """
    vertices = np.zeros((n_components, n_components))
    vertices[n_components - 1, 0] = 1.0
    indices = np.zeros(n_components, dtype=np.int64)
    for i in range(n_components):
        weights = rng.standard_normal(n_components)
        direction = weights - vertices @ (np.linalg.pinv(vertices) @ weights)
        norm = np.linalg.norm(direction)
        if norm <= 1e-12 * np.linalg.norm(weights):
            # Only when K == 1: every direction is in the span found so far.
            direction = weights
            norm = np.linalg.norm(weights)
        direction /= norm
        indices[i] = int(np.argmax(np.abs(projected @ direction)))
        vertices[:, i] = projected[indices[i]]
    return indices
