"""Step 4 of pan-sharpening: abundances of every pixel, eager or chunk by chunk.

Non-negative (or fully constrained) least squares against the endmembers,
optionally followed by Jacobi sweeps of Laplacian-regularised least squares on
the navigation grid; lazy signals are solved per dask block with an overlap as
deep as the number of sweeps, so the eager and lazy results agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._non_finite import non_finite_rows
from ..io.chunks import DEFAULT_CHUNK_MB, navigation_chunks
from ._energy import EnergyPlan

#: Floor (counts) of the model in the Poisson reduced chi-square denominator.
CHI2_FLOOR = 1.0


@dataclass
class LevelFit:
    """The least-squares fit of one channel weighting (one intensity level)."""

    weights: np.ndarray  # (C_out,) channel weights, mean 1
    q: np.ndarray  # (C_out, K) orthonormal basis of the weighted endmembers
    r_t: np.ndarray  # (K, K) reduced endmembers: (E W)^T = Q R, divided by the dose ratio
    smoothness_weight: float  # lambda * trace((E W)(E W)^T) / K
    # (K, C_out) weighted endmembers E W (times the dose ratio) over ``scale``,
    # their data_scale (a power of two)
    weighted_scaled: np.ndarray
    scale: float
    # (C_out, 2K): a spectrum x times this is [x W (E W / scale)^T, x W Q]: the
    # products of the least-squares solve and the reduced data, in one product
    projection: np.ndarray


#: Intensity levels per octave of the per-pixel weights of ``weighting="auto"``.
LEVELS_PER_OCTAVE = 4
#: Below this ratio of Poisson to read-out variance (at the brightest channel)
#: a pixel's weights are those of the read-out noise alone, up to 1 %.
POISSON_NEGLIGIBLE = 0.01


@dataclass
class SolvePlan:
    energy: EnergyPlan
    endmembers: np.ndarray  # (K, C_out)
    sum_to_one: bool
    smoothness: float  # lambda, relative to the mean weighted endmember energy
    iterations: int
    dose_ratio: float
    weights: np.ndarray  # (C_out,) channel weights of a pixel of mean intensity
    noise: object = None  # NoiseModel: per-pixel weights of weighting="auto"
    mean_spectrum: np.ndarray | None = None  # (C_out,) expected spectrum of self
    _fits: dict = field(default_factory=dict, repr=False)

    @property
    def smoothness_weight(self) -> float:
        return self.fit(0).smoothness_weight

    @property
    def per_pixel(self) -> bool:
        """Whether the weights depend on the pixel's intensity (Poisson and read-out noise)."""
        n = self.noise
        return n is not None and n.gain > 0 and n.read_noise > 0 and self.mean_spectrum is not None

    def levels(self, X) -> np.ndarray:
        """Intensity level of each spectrum (n,) on the output channels.

        Level ``j`` stands for ``s = 2**(j / LEVELS_PER_OCTAVE)`` times the mean
        spectrum, ``s`` the pixel's total over the mean total; 0 for every pixel
        when the weights do not depend on the pixel.
        """
        if not self.per_pixel:
            return np.zeros(X.shape[0], dtype=np.int64)
        total = float(np.clip(self.mean_spectrum, 0.0, None).sum())
        s = (np.clip(X.sum(1, dtype=np.float64), 0.0, None) / total if total > 0
             else np.ones(X.shape[0]))
        top = float(np.clip(self.mean_spectrum, 0.0, None).max())
        s_min = POISSON_NEGLIGIBLE * self.noise.read_noise ** 2 / (self.noise.gain * top) if top > 0 else 1.0
        j_min = int(np.floor(LEVELS_PER_OCTAVE * np.log2(min(s_min, 1.0))))
        with np.errstate(divide="ignore"):
            j = np.round(LEVELS_PER_OCTAVE * np.log2(np.maximum(s, 2.0 ** (j_min / LEVELS_PER_OCTAVE))))
        return np.maximum(j, j_min).astype(np.int64)

    def fit(self, level: int) -> LevelFit:
        """Weights, reduced basis and penalty weight of one intensity level (cached)."""
        fit = self._fits.get(level)
        if fit is None:
            if self.per_pixel:
                scale = 2.0 ** (level / LEVELS_PER_OCTAVE)
                weights = weights_of_variance(self.noise.variance(scale * self.mean_spectrum))
            else:
                weights = self.weights
            from ..unmixing._scale import data_scale

            Ew = self.endmembers * weights * self.dose_ratio
            k = Ew.shape[0]
            q, r = np.linalg.qr(Ew.T)
            scale = data_scale(Ew)
            Ew_scaled = Ew / scale
            projection = np.concatenate([(Ew_scaled * weights).T, weights[:, None] * q], axis=1)
            fit = LevelFit(weights, q, r.T / self.dose_ratio,
                           self.smoothness * float(np.trace(Ew @ Ew.T)) / k,
                           Ew_scaled, scale, np.ascontiguousarray(projection))
            self._fits[level] = fit
        return fit

    def groups(self, levels):
        """(level, pixel indices) of every level present."""
        if levels.size and levels.min() == levels.max():
            return [(int(levels[0]), slice(None))]
        order = np.argsort(levels, kind="stable")
        values, starts = np.unique(levels[order], return_index=True)
        bounds = list(starts[1:]) + [levels.size]
        return [(int(v), np.sort(order[a:b])) for v, a, b in zip(values, starts, bounds)]

    def initial(self, raw_flat):
        """Unregularised abundances (n, K), reduced data (n, K) and levels (n,) of raw spectra.

        One product per intensity level with the level's ``projection`` gives
        both the least-squares products and the reduced data, so the spectra
        (float32 stays float32) are neither copied to float64 nor weighted.
        A spectrum that holds NaN or inf gets NaN abundances (and zero
        reduced data); :meth:`smooth` keeps them NaN.
        """
        from ..io.chunks import matmul_rows
        from ..unmixing.abundances import solve_products

        raw_flat = np.asarray(raw_flat)
        bad = non_finite_rows(raw_flat)
        if bad.any():  # a copy for the batches that hold one only
            raw_flat = np.where(bad[:, None], np.zeros((), raw_flat.dtype), raw_flat)
        X = raw_flat[:, self.energy.self_slice]
        levels = self.levels(X)
        k = self.endmembers.shape[0]
        A = np.empty((X.shape[0], k))
        Xr = np.empty((X.shape[0], k))
        for level, idx in self.groups(levels):
            fit = self.fit(level)
            P = matmul_rows(X[idx], fit.projection)
            A[idx] = solve_products(P[:, :k] / fit.scale, fit.weighted_scaled, self.sum_to_one)
            Xr[idx] = P[:, k:]
        A[bad] = np.nan
        return A, Xr, levels

    def smooth(self, A, Xr, levels, nav_ndim):
        """Jacobi sweeps of Laplacian-regularised least squares on the grid."""
        from ..unmixing.abundances import fcls_abundances, nnls_abundances

        if self.smoothness <= 0 or self.iterations <= 0 or nav_ndim == 0:
            return A
        solver = fcls_abundances if self.sum_to_one else nnls_abundances
        k = A.shape[-1]
        shape = A.shape
        Xr_flat = Xr.reshape(-1, k)
        groups = self.groups(np.asarray(levels).reshape(-1))
        bad = np.isnan(A.reshape(-1, k)[:, 0])  # spectra with NaN/inf: no data, stay NaN
        for _ in range(self.iterations):
            mean = neighbour_mean(A, nav_ndim).reshape(-1, k)
            if bad.any():
                # a pixel whose neighbours are all bad is pulled to itself
                mean = np.where(np.isnan(mean), A.reshape(-1, k), mean)
                mean[bad] = 0.0
            new = np.empty_like(mean)
            for level, idx in groups:
                fit = self.fit(level)
                s = np.sqrt(fit.smoothness_weight)
                E_aug = np.concatenate([fit.r_t * self.dose_ratio, s * np.eye(k)], axis=1)
                new[idx] = solver(np.concatenate([Xr_flat[idx], s * mean[idx]], axis=1), E_aug)
            new[bad] = np.nan
            A = new.reshape(shape)
        return A

    def quality(self, raw_flat, A_flat):
        """RMS residual and reduced chi-square per pixel.

        The chi-square divides by the modelled variance: ``max(x_hat, 1)``
        (Poisson, counts), or with a noise model
        ``gain * max(x_hat, 1) + read_noise**2`` (1 detected electron as floor).
        """
        X = self.energy.apply(np.asarray(raw_flat))
        model = A_flat @ (self.endmembers * self.dose_ratio)
        diff2 = (X - model) ** 2
        rms = np.sqrt(diff2.mean(axis=1))
        dof = max(X.shape[1] - self.endmembers.shape[0], 1)
        n = self.noise
        if n is not None and (n.gain > 0 or n.read_noise > 0):
            variance = n.gain * np.maximum(model, CHI2_FLOOR) + n.read_noise ** 2
        else:
            variance = np.maximum(model, CHI2_FLOOR)
        chi2 = (diff2 / variance).sum(axis=1) / dof
        return rms, chi2


def neighbour_mean(A: np.ndarray, nav_ndim: int) -> np.ndarray:
    """Mean of the 2 * nav_ndim nearest neighbours on the grid (edges replicated).

    ``A`` has shape ``nav_shape + (K,)``. Pixels whose abundances are NaN
    (spectra with NaN/inf) are left out of their neighbours' means; a pixel
    with no finite neighbour gets NaN.
    """
    missing = np.isnan(A[..., :1])
    if not missing.any():
        return _neighbour_sum(A, nav_ndim) / (2 * nav_ndim)
    count = _neighbour_sum((~missing).astype(A.dtype), nav_ndim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _neighbour_sum(np.where(missing, 0.0, A), nav_ndim) / count


def _neighbour_sum(A, nav_ndim):
    """Sum of the 2 * nav_ndim nearest neighbours (edges replicated)."""
    acc = np.zeros_like(A)
    for ax in range(nav_ndim):
        n = A.shape[ax]
        if n == 1:
            acc += 2 * A
            continue
        # previous neighbour: A[i-1] (A[0] at the edge); next: A[i+1] (A[-1])
        prev = np.concatenate(
            [np.take(A, [0], axis=ax), np.take(A, np.arange(n - 1), axis=ax)], axis=ax
        )
        nxt = np.concatenate(
            [np.take(A, np.arange(1, n), axis=ax), np.take(A, [n - 1], axis=ax)], axis=ax
        )
        acc += prev + nxt
    return acc


def _solve_chunk_overlapped(block, plan, nav_ndim):
    """Block function of the lazy path: abundances of one (overlapped) chunk."""
    shape = block.shape[:-1]
    A, Xr, levels = plan.initial(block.reshape(-1, block.shape[-1]))
    k = A.shape[1]
    A = plan.smooth(A.reshape(shape + (k,)), Xr.reshape(shape + (k,)), levels, nav_ndim)
    return A.reshape(shape + (k,))


def _quality_chunk(block, A, plan, which):
    rms, chi2 = plan.quality(block.reshape(-1, block.shape[-1]), A.reshape(-1, A.shape[-1]))
    out = rms if which == "rms" else chi2
    return out.reshape(block.shape[:-1])


#: Weightings of the per-pixel least-squares fit (see ``pan_sharpen``).
WEIGHTINGS = ("auto", "poisson", None)

#: Floor of the modelled variance (or Poisson mean), relative to its largest value.
VARIANCE_FLOOR = 1e-3


def channel_weights(spectra, weighting, noise=None) -> np.ndarray:
    """Least-squares weight of each output channel, normalised to mean 1.

    ``spectra`` (n, C): their mean spectrum is the expected value of the
    channels (``other``'s for ``"poisson"``, ``self``'s for ``"auto"``,
    whose ``noise`` is a :class:`~hspy_unmix.fusion._noise.NoiseModel`).
    """
    if weighting is None or weighting == "none":
        return np.ones(np.shape(spectra)[1])
    mean_spectrum = np.asarray(spectra, dtype=np.float64).mean(0)
    if weighting == "poisson":
        # Poisson variance grows with the counts: weight channels by
        # 1/sqrt(mean spectrum) (pixel-independent part of the
        # Keenan-Kotula normalisation; the pixel part does not change a
        # pixel's own least-squares solution).
        variance = np.clip(mean_spectrum, 0.0, None)
    elif weighting == "auto":
        if noise is None:
            raise ValueError("weighting='auto' needs the noise model of the signal.")
        variance = noise.variance(mean_spectrum)
    else:
        raise ValueError(
            f"weighting must be 'auto', 'poisson' or None, got {weighting!r}.")
    return weights_of_variance(variance)


def weights_of_variance(variance) -> np.ndarray:
    """``1 / sqrt(variance)`` (floored at VARIANCE_FLOOR of its largest value), mean 1."""
    variance = np.asarray(variance, dtype=np.float64)
    top = variance.max() if variance.size else 0.0
    if not top > 0:
        return np.ones(variance.size)
    weights = 1.0 / np.sqrt(np.maximum(variance, VARIANCE_FLOOR * top))
    return weights / weights.mean()


def make_solve_plan(plan_e, E, sum_to_one, smoothness, iterations, weights, dose_ratio,
                    noise=None, mean_spectrum=None):
    """The solve of step 4 with everything that does not depend on the pixel.

    With a ``noise`` model that has both a gain and a read-out noise, and the
    expected spectrum ``mean_spectrum`` of the signal, each pixel is weighted
    by its own variance ``gain * s * mean_spectrum + read_noise**2``, ``s`` its
    total over the mean total, quantised to LEVELS_PER_OCTAVE levels per
    octave (weights within 9 % of the exact ones; each level is solved as one
    batch).
    """
    plan = SolvePlan(plan_e, np.asarray(E, dtype=np.float64), bool(sum_to_one),
                     float(smoothness), int(iterations), float(dose_ratio),
                     np.asarray(weights, dtype=np.float64), noise,
                     None if mean_spectrum is None else np.asarray(mean_spectrum, dtype=np.float64))
    plan.fit(0)
    return plan


def output_dtype(dtype) -> np.dtype:
    """Type of the fused spectra: float32 for float32 (or 8/16-bit) data, else float64.

    The fused spectra carry the precision of the data they sharpen; a float64
    copy of a float32 SI would double what is written and held.
    """
    return np.result_type(dtype, np.float32)


def fused_spectra(A, endmembers, dtype):
    """``A @ endmembers`` computed in ``dtype``.

    Each value is a sum of K products, so float32 arithmetic loses nothing
    against a float32 result, and no float64 copy of the fused spectra is made.
    """
    return np.matmul(np.asarray(A, dtype=dtype), np.asarray(endmembers, dtype=dtype))


#: Largest navigation chunk of the lazy solve (MiB of input spectra): the
#: size of ``load_lazy``'s chunks, so that a lazily loaded SI is solved in its
#: own chunks and not rechunked first. A block's work arrays are small beside
#: it (the spectra are converted to float64 a few MiB at a time by
#: ``matmul_rows``; abundances and reduced data are K values per pixel). The
#: scale benchmark's case (SI + SI, fused SI written to .zspy, 2 cores, 8 GiB,
#: warm-up excluded) took 29.0 s with 16 MiB chunks against 34.0 s with the
#: input rechunked to 4 MiB (7.1-7.3 s for one read; 23.2-25.8 s for a copy
#: of the SI to a new store), peaking at 583 and 579 MiB.
SOLVE_CHUNK_MB = DEFAULT_CHUNK_MB


def solve_chunks(darr):
    """``darr`` in whole spectra, chunks of at most SOLVE_CHUNK_MB (each
    block also holds its fused spectra); smaller chunks are kept as they are."""
    target = navigation_chunks(darr.shape, darr.dtype, 1, SOLVE_CHUNK_MB)
    largest = [max(c) for c in darr.chunks]
    if len(darr.chunks[-1]) != 1 or np.prod(largest[:-1]) > np.prod(target[:-1]):
        return darr.rechunk(target)
    return darr


def solve_lazy(data, lazy_in, plan, return_report, show_progressbar):
    """Abundances, fused spectra and quality maps as dask arrays, block by block."""
    import dask.array as da

    k, n_out = plan.endmembers.shape
    nav_ndim = data.ndim - 1
    fused_endmembers = plan.endmembers * plan.dose_ratio
    darr = solve_chunks(data if lazy_in else da.from_array(np.asarray(data), chunks="auto"))
    depth = plan.iterations if plan.smoothness_weight > 0 and nav_ndim else 0
    if depth:
        depth_map = {i: depth for i in range(nav_ndim)}
        depth_map[nav_ndim] = 0
        ov = da.overlap.overlap(darr, depth=depth_map, boundary="none")
        A_ov = ov.map_blocks(
            _solve_chunk_overlapped, plan, nav_ndim,
            chunks=ov.chunks[:-1] + ((k,),), dtype=np.float64,
        )
        A = da.overlap.trim_internal(A_ov, depth_map, boundary="none")
    else:
        A = darr.map_blocks(
            _solve_chunk_overlapped, plan, nav_ndim,
            chunks=darr.chunks[:-1] + ((k,),), dtype=np.float64,
        )
    out = output_dtype(data.dtype)
    fused = A.map_blocks(
        fused_spectra, fused_endmembers, out, chunks=A.chunks[:-1] + ((n_out,),), dtype=out
    )
    rms = chi2 = None
    if return_report:
        rms = da.map_blocks(_quality_chunk, darr, A, plan, "rms", drop_axis=nav_ndim, dtype=np.float64)
        chi2 = da.map_blocks(_quality_chunk, darr, A, plan, "chi2", drop_axis=nav_ndim, dtype=np.float64)
    return A, fused, rms, chi2


def solve_eager(data, lazy_in, plan, return_report, show_progressbar):
    """Abundances, fused spectra and quality maps in memory, in batches of pixels."""
    from ..io.chunks import map_rows

    if lazy_in:
        data = data.compute()
    k = plan.endmembers.shape[0]
    nav_shape = tuple(data.shape[:-1])
    nav_ndim = len(nav_shape)
    flat = np.asarray(data).reshape(-1, data.shape[-1])
    smooth = plan.smoothness_weight > 0 and nav_ndim
    # a batch holds float64 copies of its spectra (interpolated energy axis)
    row_bytes = 8 * flat.shape[1]

    def initial(batch):
        a, xr, levels = plan.initial(batch)
        return np.concatenate([a, xr, levels[:, None]], axis=1) if smooth else a

    solved = map_rows(initial, flat, show_progressbar=show_progressbar,
                      description="Pan-sharpening", row_bytes=row_bytes)
    A = solved[:, :k].reshape(nav_shape + (k,))
    if smooth:
        A = plan.smooth(A, solved[:, k:2 * k].reshape(nav_shape + (k,)),
                        solved[:, 2 * k].astype(np.int64), nav_ndim)
    fused = fused_spectra(A, plan.endmembers * plan.dose_ratio, output_dtype(data.dtype))
    rms = chi2 = None
    if return_report:
        Af = A.reshape(-1, k)
        report = map_rows(
            lambda rows: np.column_stack(plan.quality(flat[rows], Af[rows])),
            np.arange(flat.shape[0]), row_bytes=row_bytes,
        )
        rms = report[:, 0].reshape(nav_shape)
        chi2 = report[:, 1].reshape(nav_shape)
    return A, fused, rms, chi2
