"""Step 4 of pan-sharpening: abundances of every pixel, eager or chunk by chunk.

Non-negative (or fully constrained) least squares against the endmembers,
optionally followed by Jacobi sweeps of Laplacian-regularised least squares on
the navigation grid; lazy signals are solved per dask block with an overlap as
deep as the number of sweeps, so the eager and lazy results agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_finite
from ._energy import EnergyPlan

#: Floor (counts) of the model in the Poisson reduced chi-square denominator.
CHI2_FLOOR = 1.0


@dataclass
class SolvePlan:
    energy: EnergyPlan
    endmembers: np.ndarray  # (K, C_out)
    sum_to_one: bool
    smoothness_weight: float
    iterations: int
    q: np.ndarray  # (C_out, K) orthonormal basis of the weighted endmembers
    r_t: np.ndarray  # (K, K) reduced endmembers: (E W)^T = Q R
    dose_ratio: float
    weights: np.ndarray  # (C_out,) channel weights of the least-squares fit

    def solve(self, Xw):
        from ..unmixing.abundances import fcls_abundances, nnls_abundances

        solver = fcls_abundances if self.sum_to_one else nnls_abundances
        return solver(Xw, self.endmembers * (self.dose_ratio * self.weights))

    def initial(self, raw_flat, name="the signal"):
        """Unregularised abundances (n, K) and reduced data (n, K) of raw spectra."""
        raw_flat = np.asarray(raw_flat)
        check_finite(raw_flat, name)
        Xw = self.energy.apply(raw_flat) * self.weights
        return self.solve(Xw), Xw @ self.q

    def smooth(self, A, Xr, nav_ndim):
        """Jacobi sweeps of Laplacian-regularised least squares on the grid."""
        from ..unmixing.abundances import fcls_abundances, nnls_abundances

        if self.smoothness_weight <= 0 or self.iterations <= 0 or nav_ndim == 0:
            return A
        solver = fcls_abundances if self.sum_to_one else nnls_abundances
        k = A.shape[-1]
        s = np.sqrt(self.smoothness_weight)
        E_aug = np.concatenate([self.r_t * self.dose_ratio, s * np.eye(k)], axis=1)
        shape = A.shape
        Xr_flat = Xr.reshape(-1, k)
        for _ in range(self.iterations):
            mean = neighbour_mean(A, nav_ndim).reshape(-1, k)
            A = solver(np.concatenate([Xr_flat, s * mean], axis=1), E_aug).reshape(shape)
        return A

    def quality(self, raw_flat, A_flat):
        """RMS residual and reduced chi-square per pixel."""
        X = self.energy.apply(np.asarray(raw_flat))
        model = A_flat @ (self.endmembers * self.dose_ratio)
        diff2 = (X - model) ** 2
        rms = np.sqrt(diff2.mean(axis=1))
        dof = max(X.shape[1] - self.endmembers.shape[0], 1)
        chi2 = (diff2 / np.maximum(model, CHI2_FLOOR)).sum(axis=1) / dof
        return rms, chi2


def neighbour_mean(A: np.ndarray, nav_ndim: int) -> np.ndarray:
    """Mean of the 2 * nav_ndim nearest neighbours on the grid (edges replicated).

    ``A`` has shape ``nav_shape + (K,)``.
    """
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
    return acc / (2 * nav_ndim)


def _solve_chunk_overlapped(block, plan, nav_ndim):
    """Block function of the lazy path: abundances of one (overlapped) chunk."""
    shape = block.shape[:-1]
    A, Xr = plan.initial(block.reshape(-1, block.shape[-1]))
    k = A.shape[1]
    A = plan.smooth(A.reshape(shape + (k,)), Xr.reshape(shape + (k,)), nav_ndim)
    return A.reshape(shape + (k,))


def _quality_chunk(block, A, plan, which):
    rms, chi2 = plan.quality(block.reshape(-1, block.shape[-1]), A.reshape(-1, A.shape[-1]))
    out = rms if which == "rms" else chi2
    return out.reshape(block.shape[:-1])


def channel_weights(Xo, weighting) -> np.ndarray:
    """Least-squares weight of each output channel."""
    if weighting == "poisson":
        # Poisson variance grows with the counts: weight channels by
        # 1/sqrt(mean spectrum of other) (pixel-independent part of the
        # Keenan-Kotula normalisation; the pixel part does not change a
        # pixel's own least-squares solution).
        mean_spectrum = np.clip(Xo.mean(0), 0.0, None)
        floor = 1e-3 * mean_spectrum.max() if mean_spectrum.max() > 0 else 1.0
        weights = 1.0 / np.sqrt(np.maximum(mean_spectrum, floor))
        return weights / weights.mean()
    if weighting is None or weighting == "none":
        return np.ones(Xo.shape[1])
    raise ValueError(f"weighting must be 'poisson' or None, got {weighting!r}.")


def make_solve_plan(plan_e, E, sum_to_one, smoothness, iterations, weights, dose_ratio):
    """The solve of step 4 with everything that does not depend on the pixel."""
    k = E.shape[0]
    Ew = E * weights * dose_ratio
    gram_trace = float(np.trace(Ew @ Ew.T))
    q, r = np.linalg.qr(Ew.T)
    return SolvePlan(plan_e, E, sum_to_one, smoothness * gram_trace / k, iterations,
                     q, r.T / dose_ratio, dose_ratio, weights)


def solve_lazy(data, lazy_in, plan, return_report, show_progressbar):
    """Abundances, fused spectra and quality maps as dask arrays, block by block."""
    import dask.array as da

    from ..io.chunks import navigation_chunks

    k, n_out = plan.endmembers.shape
    nav_ndim = data.ndim - 1
    fused_endmembers = plan.endmembers * plan.dose_ratio
    darr = data if lazy_in else da.from_array(np.asarray(data), chunks="auto")
    # Whole spectra in chunks no larger than the package's default size
    # (each block also holds its float64 abundances and fused spectra);
    # smaller chunks of a lazy input are kept.
    target = navigation_chunks(darr.shape, darr.dtype, 1)
    largest = [max(c) for c in darr.chunks]
    if len(darr.chunks[-1]) != 1 or np.prod(largest[:-1]) > np.prod(target[:-1]):
        darr = darr.rechunk(target)
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
    fused = A.map_blocks(
        lambda a: a @ fused_endmembers, chunks=A.chunks[:-1] + ((n_out,),), dtype=np.float64
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
        a, xr = plan.initial(batch)
        return np.concatenate([a, xr], axis=1) if smooth else a

    solved = map_rows(initial, flat, show_progressbar=show_progressbar,
                      description="Pan-sharpening", row_bytes=row_bytes)
    A = solved[:, :k].reshape(nav_shape + (k,))
    if smooth:
        A = plan.smooth(A, solved[:, k:].reshape(nav_shape + (k,)), nav_ndim)
    fused = A @ (plan.endmembers * plan.dose_ratio)
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
