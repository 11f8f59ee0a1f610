"""Noise model of the spectrum image being sharpened: Poisson plus read-out noise.

The variance of one channel of one spectrum is modelled as

    variance = gain * mean + read_noise**2

where ``mean`` is the expected value in the signal's own units. ``gain`` is
the detector's conversion factor (signal units per detected electron: 1 for
electron counts; the variance of ``g * Poisson(m / g)`` is ``g * m``) and
``read_noise`` the standard deviation of the signal-independent part (CCD or
CMOS read-out, dark noise), in signal units. Short dwells make the second
term dominate the low-count channels, where Poisson weights (variance
proportional to the mean) would trust them far too much.

Both numbers are estimated from the spectrum image itself
(:func:`estimate_noise`):

1. a sample of at most :data:`MAX_PIXELS` spectra and :data:`MAX_SAMPLE_MB`
   of float32 (an even subsample of the scan, whole rows in evenly spaced
   runs: the same pixels eager or lazy);
2. a high-pass residual across channels,
   ``r_c = x_c - (x_{c-1} + x_{c+1}) / 2``, which removes the smooth part of
   each spectrum; with noise independent between channels
   ``var(r_c) = v_c + (v_{c-1} + v_{c+1}) / 4``, linear in the same gain and
   read-noise as ``v``;
3. the pixels binned by intensity (total counts) into :data:`N_GROUPS`
   groups; in each group and channel the variance of ``r`` over the group's
   pixels (its spread, so the curvature the group's spectra share cancels)
   against the same combination of the group's mean spectrum;
4. a robust straight-line fit of those variances (Tukey biweight on
   residuals in units of their sampling error, non-negative slope and
   intercept): channels where the spectra's own curvature varies between
   pixels (edge onsets, sharp peaks) lie above the line and are given no
   weight.

The estimate assumes noise independent between neighbouring channels; a
detector whose point-spread function correlates them (scintillator-coupled
CCDs) gives a lower gain than its true conversion factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: At most this many spectra enter the estimate (an even subsample of the scan).
MAX_PIXELS = 16384
#: ... and at most this many MiB of them as float32 (8192 spectra of 2048
#: channels: the sample is the largest array ``pan_sharpen`` holds besides
#: one block; the gain's standard error grows by about sqrt(2) against 16384).
MAX_SAMPLE_MB = 64
#: The sample of a 2D scan takes its rows in at least this many evenly spaced
#: runs of consecutive rows (each run at most one ``load_lazy`` chunk of rows).
MIN_ROW_RUNS = 8
#: Channels of one intensity bin converted to float64 at a time.
CHANNEL_BLOCK = 256
#: Intensity bins of the pixels (fewer when there are fewer than MIN_GROUP_PIXELS each).
N_GROUPS = 8
#: Smallest number of pixels of an intensity bin.
MIN_GROUP_PIXELS = 32
#: Fewest spectra of ``other`` whose noise is estimated (else Poisson weights).
MIN_NOISE_SPECTRA = 3 * MIN_GROUP_PIXELS
#: Tukey biweight constant, in robust standard deviations of the residuals.
TUKEY_C = 4.685
#: A gain or read-out variance below this many standard errors is taken as zero.
SIGNIFICANCE = 3.0


@dataclass
class NoiseModel:
    """Per-channel variance ``gain * mean + read_noise**2`` of a spectrum image."""

    gain: float
    read_noise: float
    n_pixels: int  # spectra used in the estimate
    n_points: int  # (intensity bin, channel) points given weight by the robust fit
    gain_error: float = 0.0  # standard error of the gain
    read_noise_error: float = 0.0  # standard error of the read-out noise (upper bound when 0)

    def variance(self, mean):
        """Modelled variance of channels whose expected values are ``mean``."""
        return self.gain * np.clip(mean, 0.0, None) + self.read_noise ** 2

    def as_dict(self) -> dict:
        return {"gain": float(self.gain), "read_noise": float(self.read_noise),
                "gain_error": float(self.gain_error),
                "read_noise_error": float(self.read_noise_error),
                "n_pixels": int(self.n_pixels), "n_points": int(self.n_points)}


def sample_size(n_channels: int) -> int:
    """Spectra of the noise sample: :data:`MAX_PIXELS`, fewer where they would
    hold more than :data:`MAX_SAMPLE_MB` of float32 (at least ``N_GROUPS *
    MIN_GROUP_PIXELS * 4``).

    >>> sample_size(300), sample_size(2048), sample_size(4096)
    (16384, 8192, 4096)
    """
    fit = (MAX_SAMPLE_MB << 20) // (4 * max(int(n_channels), 1))
    return int(min(MAX_PIXELS, max(fit, 4 * N_GROUPS * MIN_GROUP_PIXELS)))


def sample_spectra(data, lazy: bool, max_pixels: int | None = None) -> np.ndarray:
    """An even subsample of at most ``max_pixels`` spectra, (n, channels).

    ``max_pixels=None``: :func:`sample_size` of the data's channels.

    Float32 data stay float32 (the estimate works on a float64 copy of one
    intensity bin at a time), other types become float64. Of a scan with two
    navigation axes, whole rows (the last, fastest axis) are kept, in
    evenly spaced runs of consecutive rows: as many rows as a navigation
    chunk of :func:`~hspy_unmix.io.chunks.navigation_chunks`' default size
    holds (what :func:`~hspy_unmix.io.load_lazy` reads a store in), fewer
    when that would give less than :data:`MIN_ROW_RUNS` runs, so a lazy SI
    chunked that way reads about one chunk per run. Of a scan with more
    axes, whole rows every ``step``-th along the others (the same ``step``
    each); of a line scan, every ``step``-th spectrum. The sample depends on
    the shape and type only: the same for an eager array and its lazy copy.
    """
    if max_pixels is None:
        max_pixels = sample_size(data.shape[-1])
    nav_shape = data.shape[:-1]
    n = int(np.prod(nav_shape)) if nav_shape else 1
    index = ()
    if n > max_pixels:
        whole_rows = len(nav_shape) >= 2 and nav_shape[-1] <= max_pixels
        if whole_rows and len(nav_shape) == 2:
            index = (_row_runs(data.shape, data.dtype, max_pixels // nav_shape[-1]),
                     slice(None))
        else:
            outer = nav_shape[:-1] if whole_rows else nav_shape
            per_step = nav_shape[-1] if whole_rows else 1
            step = 1
            while int(np.prod([-(-m // step) for m in outer])) * per_step > max_pixels:
                step += 1
            index = tuple(slice(None, None, step) for _ in outer)
            index += (slice(None),) * (len(nav_shape) - len(outer))
    dtype = np.float32 if np.dtype(data.dtype) == np.float32 else np.float64
    if lazy and nav_shape:
        from ..io.chunks import sample_spectra as take_spectra

        # the kept pixels' flat indices; each chunk holding some is read once
        # and its spectra copied into the sample
        rows = np.arange(n, dtype=np.int64).reshape(nav_shape)[index].ravel()
        return take_spectra(data, None, index=rows, dtype=dtype)[0]
    sub = data[index] if index else data
    return np.asarray(sub, dtype=dtype).reshape(-1, data.shape[-1])


def _row_runs(shape, dtype, n_rows: int) -> np.ndarray:
    """``n_rows`` or fewer row indices of a 2D scan ``shape``, in evenly spaced
    runs of consecutive rows (see :func:`sample_spectra`)."""
    from ..io.chunks import navigation_chunks

    total = shape[0]
    chunk_rows = navigation_chunks(shape, dtype)[0]
    run = max(1, min(chunk_rows, n_rows // MIN_ROW_RUNS))  # <= n_rows
    n_runs = n_rows // run
    # starts spaced more than ``run`` apart (n_rows < total), aligned to ``run``
    starts = (np.arange(n_runs) * total // n_runs) // run * run
    return (starts[:, None] + np.arange(run)).ravel()


def finite_sample_spectra(data, lazy: bool, max_pixels: int | None = None) -> np.ndarray:
    """:func:`sample_spectra` without its spectra that hold a NaN or an inf
    (the solves refuse those themselves, when computed for a lazy signal)."""
    from .._non_finite import drop_non_finite

    return drop_non_finite(sample_spectra(data, lazy, max_pixels))[0]


def _highpass(X):
    return X[:, 1:-1] - 0.5 * (X[:, :-2] + X[:, 2:])


def _spread_of(M):
    """What the high-pass does to a variance: ``v_c + (v_{c-1} + v_{c+1}) / 4``."""
    return M[..., 1:-1] + 0.25 * (M[..., :-2] + M[..., 2:])


#: sum of the squared high-pass coefficients (1 + 1/4 + 1/4)
_HIGHPASS_POWER = 1.5


def variance_points(X):
    """Per (intensity bin, channel): variance of the high-pass residual, predictor, pixels.

    Returns ``(z, v, n)``: ``v`` the variance over the bin's pixels of ``r_c``,
    ``z`` the same combination of the bin's mean spectrum (so that
    ``v = gain * z + 1.5 * read_noise**2``), ``n`` the bin's number of pixels.
    """
    n_pix = X.shape[0]
    n_groups = max(1, min(N_GROUPS, n_pix // MIN_GROUP_PIXELS))
    order = np.argsort(X.sum(1, dtype=np.float64), kind="stable")
    zs, vs, ns = [], [], []
    n_channels = X.shape[1]
    for idx in np.array_split(order, n_groups):
        if idx.size < 3:
            continue
        v = np.empty(n_channels - 2)
        z = np.empty(n_channels - 2)
        # one bin and CHANNEL_BLOCK channels (plus the two neighbours the
        # high-pass needs) in float64 at a time
        for c in range(0, n_channels - 2, CHANNEL_BLOCK):
            stop = min(c + CHANNEL_BLOCK, n_channels - 2)
            block = np.asarray(X[idx, c:stop + 2], dtype=np.float64)
            v[c:stop] = _highpass(block).var(0, ddof=1)
            z[c:stop] = _spread_of(block.mean(0))
        vs.append(v)
        zs.append(z)
        ns.append(np.full(v.size, idx.size))
    return np.concatenate(zs), np.concatenate(vs), np.concatenate(ns)


def nnls_two_columns(A, y) -> np.ndarray:
    """Exact non-negative least squares ``min ||A x - y||, x >= 0`` for ``A`` (m, 2).

    The optimum of a convex problem in two variables is the unconstrained
    one when it is feasible, else the best of the faces ``x_0 = 0``,
    ``x_1 = 0`` (each the one-variable fit, clipped at zero): three
    candidates from the 2 x 2 normal equations of the column-scaled ``A``,
    O(m) work against an active-set solver's iterations over ``A``.
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    norms = np.sqrt((A * A).sum(axis=0))
    x = np.zeros(2)
    live = norms > 0
    if not live.any():
        return x
    As = A[:, live] / norms[live]
    G = As.T @ As
    r = As.T @ y

    def cost(u):
        return float(u @ G @ u - 2.0 * r @ u)

    candidates = [np.zeros(live.sum())]
    for i in range(G.shape[0]):
        u = np.zeros(G.shape[0])
        u[i] = max(r[i] / G[i, i], 0.0)
        candidates.append(u)
    if G.shape[0] == 2 and G[0, 0] * G[1, 1] - G[0, 1] ** 2 > 1e-12 * G[0, 0] * G[1, 1]:
        u = np.linalg.solve(G, r)
        if (u >= 0).all():
            candidates.append(u)
    best = min(candidates, key=cost)
    x[live] = best / norms[live]
    return x


def robust_line(z, v, n, iterations: int = 30):
    """Non-negative slope and intercept of ``v = a z + b`` (Tukey biweight, relative errors).

    The sampling error of a variance estimated from ``n`` pixels is about
    ``prediction * sqrt(2 / (n - 1))``; residuals are measured in that unit,
    their robust scale from the median absolute deviation. A coefficient
    below :data:`SIGNIFICANCE` standard errors is set to zero and the other
    refitted alone (pure Poisson data get no read-out noise, pure Gaussian
    data no gain).

    Returns ``(a, b, standard error of a, standard error of b, points kept)``.
    """
    ok = np.isfinite(z) & np.isfinite(v)
    z, v, n = z[ok], v[ok], n[ok]
    rel = np.sqrt(2.0 / np.maximum(n - 1, 1))
    tiny = 1e-12 * max(float(np.abs(v).max(initial=0.0)), 1e-300)
    design_full = np.column_stack([z, np.ones_like(z)])
    weight = np.ones_like(v)
    pred = np.maximum(v, tiny)
    coef = np.zeros(2)
    scale = 1.0
    for _ in range(iterations):
        w = np.sqrt(weight) / (np.maximum(pred, tiny) * rel)
        if not np.any(w > 0):
            break
        new = nnls_two_columns(design_full * w[:, None], v * w)
        pred = design_full @ new
        t = (v - pred) / (np.maximum(pred, tiny) * rel)
        kept = weight > 0
        scale = max(1.4826 * float(np.median(np.abs(t[kept]))) if kept.any() else 1.0, 1e-12)
        u = t / (TUKEY_C * scale)
        weight = np.where(np.abs(u) < 1, (1 - u ** 2) ** 2, 0.0)
        converged = np.allclose(new, coef, rtol=1e-8, atol=0)
        coef = new
        if converged:
            break
    # standard errors of the weighted fit, in units of the robust scale
    w = np.sqrt(weight) / (np.maximum(pred, tiny) * rel)
    design = design_full * w[:, None]
    try:
        cov = np.linalg.inv(design.T @ design) * scale ** 2
        err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        err = np.full(2, np.inf)
    for i in (1, 0):  # the intercept (read-out noise) first
        if coef[i] < SIGNIFICANCE * err[i]:
            other = 1 - i
            col = design[:, other]
            denom = float(col @ col)
            coef = np.zeros(2)
            if denom > 0:
                coef[other] = max(float(col @ (v * w)) / denom, 0.0)
                err[other] = scale / np.sqrt(denom)
            break
    return float(coef[0]), float(coef[1]), float(err[0]), float(err[1]), int(np.count_nonzero(weight > 0))


def estimate_noise(X) -> NoiseModel:
    """Gain and read-out noise of spectra ``X`` (n, channels) in their own units.

    See the module notes for the method. Needs at least 5 channels and
    3 spectra; spectra without noise give zero gain and read-out noise.
    Float32 spectra are not copied whole (each intensity bin is converted
    to float64 in turn).
    """
    X = _floating(X)
    if X.shape[1] < 5 or X.shape[0] < 3:
        raise ValueError(
            f"weighting='auto' needs at least 3 spectra of 5 channels to estimate the "
            f"noise, got {X.shape[0]} of {X.shape[1]}."
        )
    z, v, n = variance_points(X)
    gain, intercept, gain_err, intercept_err, n_points = robust_line(z, v, n)
    read_noise = float(np.sqrt(max(intercept, 0.0) / _HIGHPASS_POWER))
    # d(read_noise) = d(intercept) / (2 * 1.5 * read_noise)
    read_noise_err = (intercept_err / (2 * _HIGHPASS_POWER * read_noise) if read_noise > 0
                      else float(np.sqrt(max(intercept_err, 0.0) / _HIGHPASS_POWER)))
    return NoiseModel(gain, read_noise, X.shape[0], n_points, gain_err, read_noise_err)


def noise_or_none(X):
    """:func:`estimate_noise` of spectra ``X``, or None when they are fewer than
    :data:`MIN_NOISE_SPECTRA` (or have fewer than 5 channels)."""
    X = _floating(X)
    if X.shape[0] < MIN_NOISE_SPECTRA or X.shape[1] < 5:
        return None
    return estimate_noise(X)


def _floating(X) -> np.ndarray:
    """``X`` as float32 (kept) or float64 (any other type)."""
    X = np.asarray(X)
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
