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

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_spectral_signal
from ..unmixing.n_components import parallel_analysis_n_components
from ._endmembers import dose_ratio_of, fit_endmembers, restrict_endmembers, sum_to_one_scaling
from ._energy import energy_plan
from .haadf import IMAGE_KEYWORDS as _IMAGE_KEYWORDS
from ._output import fused_result
from ._solve import (  # noqa: F401  (neighbour_mean: public before the split)
    channel_weights,
    make_solve_plan,
    neighbour_mean,
    solve_eager,
    solve_lazy,
)

__all__ = ["pan_sharpen", "PanSharpenResult", "estimate_n_components_pan"]

#: The number-of-components estimate of pan-sharpening, under its former name.
estimate_n_components_pan = parallel_analysis_n_components


@dataclass
class PanSharpenResult:
    """Everything :func:`pan_sharpen` computes with ``return_report=True``.

    Each parameter is an attribute of the same name.

    Parameters
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
        The fitted estimator that gave the endmembers (``None`` for given
        endmembers).
    si_only_abundances : hyperspy.signals.BaseSignal or None
        Image mode only: the abundances of the spectrum image alone (weighted
        NNLS per pixel, the start of the fusion) on its own grid.
    """

    fused: Any
    abundances: Any
    endmembers: Any
    residual: Any
    reduced_chi2: Any
    estimator: Any
    si_only_abundances: Any = None


def _check_signals(self, other):
    from hyperspy.signal import BaseSignal

    if not isinstance(other, BaseSignal):
        raise TypeError(
            f"other must be a HyperSpy signal (the high-fidelity spectrum image), "
            f"got {type(other).__name__}."
        )
    check_spectral_signal(self, "pan_sharpen")
    check_spectral_signal(other, "pan_sharpen (other)")


# ------------------------------------------------------------ public method
def pan_sharpen(
    self,
    other,
    n_components: int | None = None,
    algorithm="NMF",
    *,
    sum_to_one: bool = False,
    smoothness: float | None = None,
    smoothing_iterations: int = 10,
    weighting: str | None = "poisson",
    random_state=None,
    show_progressbar: bool | None = None,
    lazy_output: bool | None = None,
    return_report: bool = False,
    **algorithm_params,
):
    """Fuse this SI with a high-fidelity SI, or with an ADF/HAADF image.

    The mode follows ``other``: a spectrum image (signal dimension 1) is
    fused as described below; a ``Signal2D`` image (HAADF/ADF, on this SI's
    scan grid or an integer factor finer) guides the abundance maps through
    a fitted forward model of the image
    (:func:`hspy_unmix.fusion.haadf.pan_sharpen_image`, whose keywords
    ``gamma``, ``image_weight``, ``regularization``, ``huber_delta``,
    ``passes``, ``max_iter``, ``tile_size``, ``check_registration`` and
    ``endmember_pixels`` apply to that mode only).

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
        ``None``: 0 for a spectrum image (no penalty), 1 for an image (see
        :func:`~hspy_unmix.fusion.haadf.pan_sharpen_image`).
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
    from .._validation import check_spectra

    if _is_image(other):
        from .haadf import pan_sharpen_image

        if sum_to_one:
            raise ValueError("sum_to_one is not available with an image: the image "
                             "model needs the amounts, not fractions.")
        return pan_sharpen_image(
            self, other, n_components, algorithm, smoothness=smoothness,
            weighting=weighting, random_state=random_state,
            show_progressbar=show_progressbar, lazy_output=lazy_output,
            return_report=return_report, **algorithm_params)
    image_only = sorted(set(algorithm_params) & set(_IMAGE_KEYWORDS))
    if image_only:
        raise TypeError(f"{image_only} apply only when other is an image (Signal2D).")
    smoothness = 0.0 if smoothness is None else smoothness
    _check_signals(self, other)
    smoothing_iterations = _check_smoothing(smoothness, smoothing_iterations)
    lazy_in = bool(self._lazy)
    lazy = lazy_in if lazy_output is None else bool(lazy_output)

    # 1. energy axes
    plan_e = energy_plan(self, other)
    other_data = other.data.compute() if other._lazy else other.data
    n_other_channels = other.axes_manager.signal_size
    Xo_full = np.asarray(other_data).reshape(-1, n_other_channels)
    negative = "clip" if (isinstance(algorithm, str) and algorithm.strip().upper() == "NMF") else "allow"
    Xo = check_spectra(Xo_full[:, plan_e.other_slice], name="other", negative=negative)

    # 2-3. number of components and endmembers, from other
    estimator, E, k, name, estimated = fit_endmembers(
        Xo, n_components, algorithm, random_state, show_progressbar, algorithm_params
    )
    E = restrict_endmembers(E, plan_e, n_other_channels, Xo.shape[1], k)
    dose_ratio = 1.0
    if sum_to_one:
        E = sum_to_one_scaling(estimator, E, Xo)
        dose_ratio = dose_ratio_of(self.data, lazy_in, plan_e, Xo)

    # 4. abundances of every pixel of self (and the quality report)
    weights = channel_weights(Xo, weighting)
    plan = make_solve_plan(plan_e, E, bool(sum_to_one), smoothness, smoothing_iterations,
                           weights, dose_ratio)
    solve = solve_lazy if lazy else solve_eager
    A, fused_data, rms, chi2 = solve(self.data, lazy_in, plan, return_report, show_progressbar)

    # 5. output signals
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
    fused, report = fused_result(self, other, plan_e, record, fused_data, A, rms, chi2,
                                 lazy, return_report)
    if not return_report:
        return fused
    return PanSharpenResult(fused=fused, estimator=estimator, **report)


def _is_image(other) -> bool:
    """``other`` is a 2-D image (the image mode), not a spectrum image."""
    from hyperspy.signal import BaseSignal

    if not isinstance(other, BaseSignal):
        return False
    am = other.axes_manager
    return am.signal_dimension == 2 and am.navigation_dimension == 0


def _check_smoothing(smoothness, smoothing_iterations) -> int:
    if smoothness < 0 or not np.isfinite(smoothness):
        raise ValueError(f"smoothness must be a finite number >= 0, got {smoothness}.")
    if isinstance(smoothing_iterations, bool) or int(smoothing_iterations) != smoothing_iterations or smoothing_iterations < 0:
        raise ValueError(f"smoothing_iterations must be an integer >= 0, got {smoothing_iterations}.")
    return int(smoothing_iterations)
