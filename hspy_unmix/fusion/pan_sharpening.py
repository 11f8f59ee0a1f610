"""Pan-sharpening of EELS spectrum images: ``s.pan_sharpen(other)``.

Two acquisitions of the same region (or material) are fused: ``s`` has the
fine spatial sampling but few counts per spectrum, ``other`` the high
spectral fidelity (long dwell, coarser grid or fewer pixels). Endmember
spectra are extracted from ``other`` (NMF by default), the abundances of
every pixel of ``s`` are solved against them by non-negative (or fully
constrained) least squares, and the fused spectrum image is
``abundances @ endmembers`` on ``s``'s navigation grid and ``other``'s energy
axis (restricted to the overlap of the two energy ranges).

Steps, each documented on :func:`pan_sharpen`:

1. energy axes: overlap, linear interpolation of ``s`` onto ``other``'s
   channels, rescaling of counts by the dispersion ratio;
2. number of components: given, or estimated on ``other`` by parallel
   analysis of its Poisson-normalised principal components;
3. endmembers: scikit-learn NMF, any hspy_unmix algorithm name, or an
   estimator object;
4. abundances: :func:`hspy_unmix.unmixing.abundances.nnls_abundances` or
   :func:`~hspy_unmix.unmixing.abundances.fcls_abundances`, optionally followed by a
   few Jacobi sweeps of Laplacian-regularised least squares on the
   navigation grid (``smoothness``);
5. quality report: per-pixel RMS residual and reduced chi-square under
   Poisson noise.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..signals.decomposition import check_spectral_signal

__all__ = ["pan_sharpen", "PanSharpenResult", "estimate_n_components_pan"]

#: Minimum fraction of the narrower energy range the overlap must cover.
MIN_OVERLAP_FRACTION = 0.5
#: Floor (counts) of the model in the Poisson reduced chi-square denominator.
CHI2_FLOOR = 1.0
#: Pixels per block of the eager solve (bounds the interpolated copy).
_BLOCK_PIXELS = 65536
#: Largest number of components the automatic estimate returns.
_MAX_AUTO_COMPONENTS = 20


@dataclass
class PanSharpenResult:
    """Everything :func:`pan_sharpen` computes with ``return_report=True``.

    Attributes
    ----------
    fused : exspy.signals.EELSSpectrum
        The pan-sharpened spectrum image (also returned alone by default).
    abundances : hyperspy.signals.BaseSignal
        Abundance maps: navigation axis "Component index" (K), signal axes the
        navigation axes of ``s`` (a ``Signal2D`` stack for a 2-D map).
    endmembers : exspy.signals.EELSSpectrum
        The K endmember spectra on the output energy axis.
    residual : hyperspy.signals.BaseSignal
        Root-mean-square residual ``sqrt(mean((x - x_hat)^2))`` per pixel of
        ``s`` (counts per output channel), same axes as one abundance map.
    reduced_chi2 : hyperspy.signals.BaseSignal
        ``sum((x - x_hat)^2 / max(x_hat, 1)) / (channels - K)`` per pixel:
        close to 1 where the endmembers explain ``s`` up to Poisson noise,
        large where ``s`` holds something ``other`` lacks (a missing phase).
    estimator : object
        The fitted estimator that gave the endmembers.
    """

    fused: Any
    abundances: Any
    endmembers: Any
    residual: Any
    reduced_chi2: Any
    estimator: Any


# ------------------------------------------------------------ energy axes
@dataclass
class _EnergyPlan:
    """How ``s``'s channels map onto the output (``other``'s) channels."""

    other_slice: slice
    energy: np.ndarray  # output channel energies
    index0: np.ndarray | None  # left neighbour in s for each output channel
    weight: np.ndarray | None  # linear weight of the right neighbour
    ratio: float  # dispersion ratio other/s
    interpolation: str  # "none" or "linear"
    take: np.ndarray | None  # channels of s used directly when no interpolation

    def apply(self, flat: np.ndarray) -> np.ndarray:
        """Spectra of ``s`` (n, C_s) on the output channels (n, C_out), float64."""
        flat = np.asarray(flat, dtype=np.float64)
        if self.take is not None:
            return flat[:, self.take]
        left = flat[:, self.index0]
        right = flat[:, self.index0 + 1]
        return (left + self.weight * (right - left)) * self.ratio


def _uniform_axis(signal, name):
    ax = signal.axes_manager.signal_axes[0]
    if not ax.is_uniform:
        raise ValueError(
            f"the energy axis of {name} is not uniform; pan_sharpen needs uniform "
            "energy axes (offset + scale * index). Convert it first, e.g. "
            "with axis.convert_to_uniform_axis()."
        )
    if not ax.scale > 0:
        raise ValueError(f"the energy axis of {name} must increase (scale {ax.scale}).")
    return float(ax.offset), float(ax.scale), int(ax.size)


def _energy_plan(self, other) -> _EnergyPlan:
    o1, d1, n1 = _uniform_axis(self, "the signal")
    o2, d2, n2 = _uniform_axis(other, "other")
    lo1, hi1 = o1, o1 + d1 * (n1 - 1)
    lo2, hi2 = o2, o2 + d2 * (n2 - 1)
    lo, hi = max(lo1, lo2), min(hi1, hi2)
    narrower = min(hi1 - lo1, hi2 - lo2)
    overlap = hi - lo
    if overlap <= 0 or overlap < MIN_OVERLAP_FRACTION * narrower:
        raise ValueError(
            f"the energy ranges overlap too little: signal {lo1:g}-{hi1:g}, other "
            f"{lo2:g}-{hi2:g}; the overlap ({max(overlap, 0):g}) must cover at least "
            f"{MIN_OVERLAP_FRACTION:.0%} of the narrower range ({narrower:g})."
        )
    tol = 1e-6 * min(d1, d2)
    energy_other = o2 + d2 * np.arange(n2)
    inside = np.flatnonzero((energy_other >= lo - tol) & (energy_other <= hi + tol))
    sl = slice(int(inside[0]), int(inside[-1]) + 1)
    energy = energy_other[sl]
    pos = (energy - o1) / d1
    ratio = d2 / d1
    if abs(ratio - 1.0) < 1e-9 and np.allclose(pos, np.round(pos), atol=1e-6, rtol=0):
        take = np.clip(np.round(pos).astype(np.intp), 0, n1 - 1)
        return _EnergyPlan(sl, energy, None, None, 1.0, "none", take)
    index0 = np.clip(np.floor(pos + 1e-9).astype(np.intp), 0, max(n1 - 2, 0))
    weight = np.clip(pos - index0, 0.0, 1.0)
    if n1 == 1:
        raise ValueError("the signal has a single energy channel.")
    return _EnergyPlan(sl, energy, index0, weight, ratio, "linear", None)


# ------------------------------------------------------------ validation
def _check_finite_block(block, name):
    if not np.isfinite(block).all():
        n_bad = int(block.size - np.isfinite(block).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); all values must be "
            "finite. Replace them first, e.g. with numpy.nan_to_num."
        )


def _check_signals(self, other):
    from hyperspy.signal import BaseSignal

    if not isinstance(other, BaseSignal):
        raise TypeError(
            f"other must be a HyperSpy signal (the high-fidelity spectrum image), "
            f"got {type(other).__name__}."
        )
    check_spectral_signal(self, "pan_sharpen")
    check_spectral_signal(other, "pan_sharpen (other)")


# ------------------------------------------------------------ components
def estimate_n_components_pan(X, random_state=None, max_components: int = _MAX_AUTO_COMPONENTS) -> int:
    """Number of spectral components in ``X`` by parallel analysis.

    The spectra are normalised for Poisson noise (each value divided by the
    square root of the product of the mean spectrum and the mean image,
    Keenan & Kotula 2004, as HyperSpy's ``normalize_poissonian_noise``) and
    centred. The eigenvalues of their covariance (the explained variance of
    each principal component) are compared with the largest eigenvalue of the
    same data with every channel shuffled independently across pixels, which
    keeps each channel's variance but destroys the correlations that
    components create (Horn's parallel analysis). Components above that
    level are signal; the estimate adds one for the mean spectrum removed by
    centring (non-negative endmembers are not centred).

    Parameters
    ----------
    X
        Spectra, shape (n_pixels, n_channels), non-negative.
    random_state
        Seed of the shuffles.
    max_components
        Upper bound of the estimate.

    Returns
    -------
    int
        Estimated K, between 1 and ``min(max_components, n_pixels, n_channels)``.

    Examples
    --------
    >>> from hspy_unmix.synthetic import pan_sharpening_pair
    >>> from hspy_unmix.fusion.pan_sharpening import estimate_n_components_pan
    >>> fine, coarse, truth = pan_sharpening_pair(n_components=3, random_state=0)
    >>> estimate_n_components_pan(coarse.data.reshape(-1, coarse.data.shape[-1]), random_state=0)
    3
    """
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    X = np.asarray(X, dtype=np.float64)
    n, c = X.shape
    upper = max(1, min(max_components, n, c))
    if n < 2:
        return 1
    Xp = np.clip(X, 0.0, None)
    spec = Xp.mean(0)
    image = Xp.mean(1)
    scale = np.sqrt(np.outer(np.where(image > 0, image, 1.0), np.where(spec > 0, spec, 1.0)))
    Z = X / scale
    Z = Z - Z.mean(0)
    eig = np.linalg.svd(Z, compute_uv=False) ** 2
    null = np.empty(3)
    for t in range(null.size):
        order = np.argsort(rng.random_sample((n, c)), axis=0)
        shuffled = np.take_along_axis(Z, order, axis=0)
        null[t] = np.linalg.svd(shuffled, compute_uv=False)[0] ** 2
    n_signal = int(np.sum(eig > null.max()))
    return int(min(max(n_signal + 1, 1), upper))


def _fit_endmembers(Xo, n_components, algorithm, random_state, show_progressbar, algorithm_params):
    """Fitted estimator, endmembers (K, C_out), K, algorithm name, K estimated?"""
    from .._registry import estimator_class, normalise_name

    estimated = False
    if isinstance(algorithm, str):
        if n_components is None:
            n_components = estimate_n_components_pan(Xo, random_state=random_state)
            estimated = True
        _check_k(n_components, Xo)
        key = algorithm.strip().upper()
        if key == "NMF":
            from sklearn.decomposition import NMF

            params = {"init": "nndsvda", "max_iter": 1000, "tol": 1e-5}
            params.update(algorithm_params)
            estimator = NMF(n_components=n_components, random_state=random_state, **params)
            name = "NMF"
        else:
            name = normalise_name(algorithm)
            cls = estimator_class(algorithm)  # clear error for unknown names
            accepted = set(cls().get_params(deep=False))
            unknown = sorted(set(algorithm_params) - accepted)
            if unknown:
                raise TypeError(
                    f"pan_sharpen(algorithm={name!r}) got unknown parameter(s) {unknown}."
                )
            params = dict(algorithm_params)
            if "random_state" in accepted:
                params.setdefault("random_state", random_state)
            if "show_progressbar" in accepted:
                params.setdefault("show_progressbar", show_progressbar)
            estimator = cls(n_components=n_components, **params)
        estimator.fit(Xo)
        return estimator, np.asarray(estimator.components_, dtype=np.float64), n_components, name, estimated

    if algorithm_params:
        raise TypeError(
            f"parameters {sorted(algorithm_params)} cannot be combined with an estimator "
            "object: set them on the estimator instead."
        )
    if not hasattr(algorithm, "fit") and not hasattr(algorithm, "components_"):
        raise TypeError(
            "algorithm must be 'NMF', an hspy_unmix algorithm name or an estimator "
            f"object with fit/components_; got {type(algorithm).__name__}."
        )
    name = type(algorithm).__name__
    if hasattr(algorithm, "components_"):
        E = np.asarray(algorithm.components_, dtype=np.float64)
        if n_components is not None and int(n_components) != E.shape[0]:
            raise ValueError(
                f"n_components={n_components} differs from the {E.shape[0]} components "
                "of the fitted estimator."
            )
        return algorithm, E, E.shape[0], name, False
    from sklearn.base import clone

    estimator = clone(algorithm)
    if n_components is not None:
        estimator.set_params(n_components=int(n_components))
    k = estimator.get_params().get("n_components")
    if k is None:
        k = estimate_n_components_pan(Xo, random_state=random_state)
        estimator.set_params(n_components=k)
        estimated = True
    _check_k(k, Xo)
    estimator.fit(Xo)
    E = np.asarray(estimator.components_, dtype=np.float64)
    return estimator, E, E.shape[0], name, estimated


def _check_k(k, Xo):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"n_components must be a positive integer, got {k!r}.")
    if k > Xo.shape[0]:
        raise ValueError(
            f"other has {Xo.shape[0]} pixel(s), fewer than n_components={k}: the "
            "endmembers cannot be extracted from it."
        )


def _sum_to_one_scaling(estimator, E, Xo):
    """Rescale endmembers so that ``other``'s abundances best sum to one.

    With ``W`` the abundances of ``other`` (``estimator.transform``), the
    scales ``c >= 0`` minimise ``||W c - 1||^2``; endmember k becomes
    ``E_k / c_k`` so that its abundances are ``W_k c_k``.
    """
    from scipy.optimize import nnls

    try:
        W = np.asarray(estimator.transform(Xo), dtype=np.float64)
    except Exception:
        from ..unmixing.abundances import nnls_abundances

        W = nnls_abundances(Xo, E)
    c, _ = nnls(W, np.ones(W.shape[0]))
    c = np.where(c > 0, c, 1.0)
    return E / c[:, None]


# ------------------------------------------------------------ the solve
@dataclass
class _SolvePlan:
    energy: _EnergyPlan
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
        _check_finite_block(raw_flat, name)
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


# ------------------------------------------------------------ signals
def _nav_dicts(signal):
    return [
        ax.get_axis_dictionary() for ax in signal.axes_manager._axes if ax.navigate
    ]


def _map_signal(data, nav_dicts, title, lazy):
    """Signal whose signal axes are the navigation axes of ``s``."""
    import hyperspy.api as hs

    axes = [dict(d, navigate=False) for d in nav_dicts]
    nd = len(axes)
    if lazy:
        from hyperspy.signals import LazySignal1D, LazySignal2D

        cls = {1: LazySignal1D, 2: LazySignal2D}.get(nd)
        if cls is None:
            from hyperspy._signals.lazy import LazySignal as cls
    else:
        cls = {1: hs.signals.Signal1D, 2: hs.signals.Signal2D}.get(nd, hs.signals.BaseSignal)
    for d in axes:
        d.pop("_type", None)
    s = cls(data, axes=axes) if nd else cls(data)
    s.metadata.General.title = title
    return s


def _stack_signal(data, nav_dicts, title, lazy):
    """Abundance maps: navigation axis "Component index", signal axes = grid."""
    import hyperspy.api as hs

    moved = np.moveaxis(data, -1, 0) if not lazy else data.transpose(
        (data.ndim - 1,) + tuple(range(data.ndim - 1)))
    axes = [{"size": data.shape[-1], "name": "Component index", "navigate": True}]
    axes += [dict(d, navigate=False) for d in nav_dicts]
    for d in axes:
        d.pop("_type", None)
    nd = len(nav_dicts)
    if lazy:
        from hyperspy.signals import LazySignal1D, LazySignal2D

        cls = {1: LazySignal1D, 2: LazySignal2D}.get(nd)
    else:
        cls = {1: hs.signals.Signal1D, 2: hs.signals.Signal2D}.get(nd)
    if cls is None:
        cls = hs.signals.BaseSignal
        axes = None
    s = cls(moved, axes=axes) if axes else cls(moved)
    s.metadata.General.title = title
    return s


def _spectra_signal(data, nav_dicts, energy_dict, metadata, lazy):
    import hyperspy.api as hs

    axes = [dict(d) for d in nav_dicts] + [dict(energy_dict)]
    for d in axes:
        d.pop("_type", None)
    if lazy:
        from hyperspy.signals import LazySignal1D

        s = LazySignal1D(data, axes=axes, metadata=metadata)
    else:
        s = hs.signals.Signal1D(data, axes=axes, metadata=metadata)
    s.set_signal_type(metadata.get("Signal", {}).get("signal_type", "EELS") or "EELS")
    return s


# ------------------------------------------------------------ public method
def pan_sharpen(
    self,
    other,
    n_components: int | None = None,
    algorithm="NMF",
    *,
    sum_to_one: bool = False,
    smoothness: float = 0.0,
    smoothing_iterations: int = 10,
    weighting: str | None = "poisson",
    random_state=None,
    show_progressbar: bool | None = None,
    lazy_output: bool | None = None,
    return_report: bool = False,
    **algorithm_params,
):
    """Fuse this noisy, finely sampled SI with a high-fidelity one.

    ``self`` has many pixels and few counts each; ``other`` (same region at a
    coarser step, or fewer pixels of the same material) has many counts per
    spectrum. Endmembers are extracted from ``other``; the abundances of
    every pixel of ``self`` are solved against them; the result is
    ``abundances @ endmembers`` on ``self``'s navigation axes and ``other``'s
    energy axis restricted to the overlap of the two energy ranges.

    Parameters
    ----------
    other
        High spectral fidelity spectrum image (any navigation shape; no
        spatial registration is needed or done). Not modified.
    n_components
        Number of endmembers K. ``None``: estimated on ``other`` by
        :func:`estimate_n_components_pan` (parallel analysis of the explained
        variance of its Poisson-normalised principal components); taken from
        the estimator when ``algorithm`` is a fitted estimator.
    algorithm
        ``"NMF"`` (default): scikit-learn's ``NMF`` (Frobenius loss,
        ``init="nndsvda"``, ``max_iter=1000``, ``tol=1e-5``; override with
        keyword arguments). Any hspy_unmix name ("VCA", "MALS", "HALS",
        "NMF_SO", ...; case-insensitive). Or an estimator object: fitted
        (``components_`` present, on ``other``'s full energy axis or on the
        overlap channels) it is used as is; unfitted it is cloned and fitted
        on ``other``.
    sum_to_one
        Solve fully constrained abundances (non-negative, summing to one;
        :func:`~hspy_unmix.unmixing.abundances.fcls_abundances`) instead of
        non-negative ones. The endmembers are first rescaled so that
        ``other``'s own abundances best sum to one (least squares) and then
        by the dose ratio ``mean counts per pixel of self / of other``
        (one extra pass over ``self`` when it is lazy).
    smoothness
        Weight ``lambda >= 0`` of a Laplacian penalty
        ``lambda * t * sum_i ||a_i - mean of a over i's neighbours||^2`` on the
        navigation grid, ``t = trace(E E^T) / K`` (so the value is relative to
        the mean endmember energy and independent of the dose). ``0``: pixels
        are independent. The penalised problem is solved by
        ``smoothing_iterations`` Jacobi sweeps: each sweep re-solves every
        pixel's NNLS/FCLS with the neighbour mean of the previous sweep as a
        prior (edges replicated; 2, 4 or 6 neighbours for 1, 2 or 3
        navigation axes). Useful at very low dose; it blurs sharp interfaces.
    smoothing_iterations
        Number of Jacobi sweeps when ``smoothness > 0``. Lazy signals are
        processed with a halo of this many pixels around each chunk, so the
        lazy result equals the eager one.
    weighting
        ``"poisson"`` (default): the per-pixel least-squares fit weights
        channel c by ``1 / sqrt(m_c)``, ``m`` the mean spectrum of ``other``
        (floored at 1e-3 of its maximum), so that channels count by their
        Poisson signal-to-noise ratio rather than by their intensity (the
        pre-edge background would otherwise dominate). ``None``: ordinary
        least squares.
    random_state
        Seed of the endmember extraction and of the K estimate.
    show_progressbar
        Progress bar over pixel blocks of the eager solve. ``None`` follows
        HyperSpy's preference.
    lazy_output
        ``None``: lazy if ``self`` is lazy. A lazy result is solved chunk by
        chunk over the navigation chunks of ``self`` (``dask`` blocks; the
        signal axis of a chunk is read whole) when computed, with the
        endmembers fitted eagerly on ``other``; memory stays bounded by the
        chunk size. NaN/inf in a lazy ``self`` raise when computed.
    return_report
        Return a :class:`PanSharpenResult` (fused signal, abundance maps,
        endmembers, residual and reduced chi-square maps, estimator) instead
        of the fused signal alone.
    **algorithm_params
        Passed to the estimator of ``algorithm``.

    Returns
    -------
    exspy.signals.EELSSpectrum or PanSharpenResult
        A new signal: ``self``'s navigation axes and metadata (title prefixed
        "Pan-sharpened"), the output energy axis, data in counts per output
        channel at ``self``'s dose. ``metadata.Signal.pan_sharpen`` records
        ``algorithm``, ``n_components``, ``n_components_estimated``,
        ``energy_overlap`` (eV range), ``interpolation`` ("none" or
        "linear"), ``dispersion_ratio``, ``sum_to_one``, ``smoothness``,
        ``other_title`` and ``endmembers`` (K x channels array).

    Raises
    ------
    TypeError
        Signal dimension other than 1, ``other`` not a signal, unknown
        parameters.
    ValueError
        Non-uniform energy axes, overlap below 50 % of the narrower energy
        range or fewer than ``2 K`` output channels, NaN/inf, ``other`` with
        fewer pixels than K.

    Notes
    -----
    Energy axes. The overlap ``[max(lo), min(hi)]`` of the two ranges is
    used; the output channels are ``other``'s channels inside it. When both
    axes share the dispersion and channel grid, ``self``'s channels are
    taken as they are ("none"). Otherwise each spectrum of ``self`` is
    linearly interpolated at the output energies and multiplied by the
    dispersion ratio ``scale(other) / scale(self)``, which keeps counts per
    channel comparable (a channel twice as wide collects twice the counts).
    When ``other`` is much coarser than ``self``, rebinning ``self`` first
    (``s.rebin``) uses all its counts; interpolation samples them.

    Quality. With ``x`` the (interpolated) spectrum of ``self`` and
    ``x_hat`` the fused one, the RMS residual and the reduced chi-square
    ``sum((x - x_hat)^2 / max(x_hat, 1)) / (channels - K)`` are returned by
    ``return_report=True``. Under Poisson noise in counts the chi-square is
    about 1 where the endmembers explain the pixel; a phase missing from
    ``other`` shows as a region of high values. Interpolation correlates
    neighbouring channels, so values below 1 are expected then.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import pan_sharpening_pair
    >>> fine, coarse, truth = pan_sharpening_pair(n_components=3, random_state=0)
    >>> fused = fine.pan_sharpen(coarse, n_components=3, random_state=0)
    >>> fused.data.shape == fine.data.shape
    True
    >>> fused.metadata.Signal.pan_sharpen.n_components
    3
    """
    import dask.array as da

    from .._progress import progress_bar
    from .._validation import check_spectra

    _check_signals(self, other)
    if smoothness < 0 or not np.isfinite(smoothness):
        raise ValueError(f"smoothness must be a finite number >= 0, got {smoothness}.")
    if isinstance(smoothing_iterations, bool) or int(smoothing_iterations) != smoothing_iterations or smoothing_iterations < 0:
        raise ValueError(f"smoothing_iterations must be an integer >= 0, got {smoothing_iterations}.")
    smoothing_iterations = int(smoothing_iterations)
    lazy_in = bool(self._lazy)
    lazy = lazy_in if lazy_output is None else bool(lazy_output)

    plan_e = _energy_plan(self, other)
    other_data = other.data
    if other._lazy:
        other_data = other_data.compute()
    n_other_channels = other.axes_manager.signal_size
    Xo_full = np.asarray(other_data).reshape(-1, n_other_channels)
    negative = "clip" if (isinstance(algorithm, str) and algorithm.strip().upper() == "NMF") else "allow"
    Xo = check_spectra(Xo_full[:, plan_e.other_slice], name="other", negative=negative)
    n_out = Xo.shape[1]

    estimator, E, k, name, estimated = _fit_endmembers(
        Xo, n_components, algorithm, random_state, show_progressbar, algorithm_params
    )
    if E.shape[1] == n_other_channels and n_other_channels != n_out:
        E = E[:, plan_e.other_slice]
    if E.shape[1] != n_out:
        raise ValueError(
            f"the estimator's endmembers have {E.shape[1]} channels; other has "
            f"{n_other_channels} and the energy overlap {n_out}."
        )
    if not np.isfinite(E).all():
        raise ValueError("the endmembers extracted from other contain NaN or inf.")
    if n_out < 2 * k:
        raise ValueError(
            f"the energy overlap holds {n_out} channels of other; at least 2 * K = "
            f"{2 * k} are needed."
        )

    # data of self as an array (dask when the output is lazy)
    data = self.data
    nav_shape = tuple(data.shape[:-1])
    nav_ndim = len(nav_shape)
    dose_ratio = 1.0
    if sum_to_one:
        E = _sum_to_one_scaling(estimator, E, Xo)
        if lazy_in:
            mean_self = float(plan_e.apply(data.reshape((-1, data.shape[-1])).mean(0).compute()[None])[0].sum())
        else:
            mean_self = float(plan_e.apply(np.asarray(data).reshape(-1, data.shape[-1]).mean(0)[None])[0].sum())
        mean_other = float(Xo.sum(1).mean())
        dose_ratio = mean_self / mean_other if mean_other > 0 else 1.0

    if weighting == "poisson":
        # Poisson variance grows with the counts: weight channels by
        # 1/sqrt(mean spectrum of other) (pixel-independent part of the
        # Keenan-Kotula normalisation; the pixel part does not change a
        # pixel's own least-squares solution).
        mean_spectrum = np.clip(Xo.mean(0), 0.0, None)
        floor = 1e-3 * mean_spectrum.max() if mean_spectrum.max() > 0 else 1.0
        weights = 1.0 / np.sqrt(np.maximum(mean_spectrum, floor))
        weights /= weights.mean()
    elif weighting is None or weighting == "none":
        weights = np.ones(n_out)
    else:
        raise ValueError(f"weighting must be 'poisson' or None, got {weighting!r}.")
    Ew = E * weights * dose_ratio
    gram_trace = float(np.trace(Ew @ Ew.T))
    q, r = np.linalg.qr(Ew.T)
    plan = _SolvePlan(
        plan_e, E, bool(sum_to_one), smoothness * gram_trace / k, smoothing_iterations,
        q, r.T / dose_ratio, dose_ratio, weights,
    )

    if lazy:
        from ..io.lazy import navigation_chunks

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
        fused_data = A.map_blocks(
            lambda a: a @ (E * dose_ratio), chunks=A.chunks[:-1] + ((n_out,),), dtype=np.float64
        )
        if return_report:
            rms = da.map_blocks(_quality_chunk, darr, A, plan, "rms", drop_axis=nav_ndim, dtype=np.float64)
            chi2 = da.map_blocks(_quality_chunk, darr, A, plan, "chi2", drop_axis=nav_ndim, dtype=np.float64)
    else:
        if lazy_in:
            data = data.compute()
        flat = np.asarray(data).reshape(-1, data.shape[-1])
        n_pix = flat.shape[0]
        A = np.empty((n_pix, k))
        Xr = np.empty((n_pix, k)) if plan.smoothness_weight > 0 and nav_ndim else None
        with progress_bar(n_pix, "Pan-sharpening", show_progressbar) as bar:
            for start in range(0, n_pix, _BLOCK_PIXELS):
                stop = min(start + _BLOCK_PIXELS, n_pix)
                a, xr = plan.initial(flat[start:stop])
                A[start:stop] = a
                if Xr is not None:
                    Xr[start:stop] = xr
                bar.update(stop - start)
        if Xr is not None:
            A = plan.smooth(A.reshape(nav_shape + (k,)), Xr.reshape(nav_shape + (k,)), nav_ndim)
        A = A.reshape(nav_shape + (k,))
        fused_data = A @ (E * dose_ratio)
        if return_report:
            rms = np.empty(n_pix)
            chi2 = np.empty(n_pix)
            Af = A.reshape(-1, k)
            for start in range(0, n_pix, _BLOCK_PIXELS):
                stop = min(start + _BLOCK_PIXELS, n_pix)
                rms[start:stop], chi2[start:stop] = plan.quality(flat[start:stop], Af[start:stop])
            rms = rms.reshape(nav_shape)
            chi2 = chi2.reshape(nav_shape)

    # ---- output signals
    energy_ax = other.axes_manager.signal_axes[0]
    energy_dict = energy_ax.get_axis_dictionary()
    energy_dict.update(offset=float(plan_e.energy[0]), size=n_out, navigate=False)
    metadata = copy.deepcopy(self.metadata.as_dictionary())
    title = metadata.get("General", {}).get("title", "") or "spectrum image"
    metadata.setdefault("General", {})["title"] = f"Pan-sharpened {title}"
    record = {
        "algorithm": name,
        "n_components": int(k),
        "n_components_estimated": bool(estimated),
        "energy_overlap": [float(plan_e.energy[0]), float(plan_e.energy[-1])],
        "interpolation": plan_e.interpolation,
        "dispersion_ratio": float(plan_e.ratio),
        "sum_to_one": bool(sum_to_one),
        "smoothness": float(smoothness),
        "weighting": str(weighting),
        "smoothing_iterations": smoothing_iterations if smoothness > 0 else 0,
        "other_title": str(other.metadata.get_item("General.title", "")),
        "endmembers": E * dose_ratio,
    }
    metadata.setdefault("Signal", {})["pan_sharpen"] = record
    nav_dicts = _nav_dicts(self)
    fused = _spectra_signal(fused_data, nav_dicts, energy_dict, metadata, lazy)
    if not return_report:
        return fused
    endmember_signal = _spectra_signal(
        E * dose_ratio,
        [{"size": k, "name": "Component index", "navigate": True}],
        energy_dict,
        {"General": {"title": f"Pan-sharpening endmembers ({name})"},
         "Signal": {"signal_type": metadata.get("Signal", {}).get("signal_type", "EELS")}},
        False,
    )
    return PanSharpenResult(
        fused=fused,
        abundances=_stack_signal(A, nav_dicts, "Pan-sharpening abundances", lazy),
        endmembers=endmember_signal,
        residual=_map_signal(rms, nav_dicts, "Pan-sharpening RMS residual", lazy),
        reduced_chi2=_map_signal(chi2, nav_dicts, "Pan-sharpening reduced chi-square", lazy),
        estimator=estimator,
    )
