"""Pan-sharpening of EELS spectrum images: ``s.pan_sharpen(other)``.

Two acquisitions of the same region (or material) are fused: ``s`` has the
fine spatial sampling but few counts per spectrum, ``other`` the high
spectral fidelity (long dwell, coarser grid or fewer pixels). Endmember
spectra are extracted from ``other`` (NMF by default), the abundances of
every pixel of ``s`` are solved against them by weighted non-negative (or
fully constrained) least squares, and the fused spectrum image is
``abundances @ endmembers`` on ``s``'s navigation grid, ``s``'s energy axis
and in ``s``'s intensity units.

Steps, each documented on :func:`pan_sharpen`:

1. energy axes: ``s``'s channels inside ``other``'s range are the output;
   ``other``'s spectra are carried onto them (linear interpolation of counts
   per eV, or summation over ``s``'s wider channels);
2. noise: the variance of ``s`` modelled as ``gain * mean + read_noise**2``,
   both estimated from ``s`` itself (:mod:`hspy_unmix.fusion._noise`), and
   the same for ``other``;
3. number of components: given, or estimated on ``other`` by parallel
   analysis of its Poisson-normalised principal components;
4. endmembers: scikit-learn NMF, any hspy_unmix algorithm name, or an
   estimator object, fitted on ``other`` with every channel in units of
   its noise;
5. abundances: :func:`hspy_unmix.unmixing.abundances.nnls_abundances` or
   :func:`~hspy_unmix.unmixing.abundances.fcls_abundances` with channel
   weights ``1 / sqrt(variance)``, optionally followed by a few Jacobi
   sweeps of Laplacian-regularised least squares on the navigation grid
   (``smoothness``);
6. quality report: per-pixel RMS residual and reduced chi-square under the
   noise model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_spectral_signal
from ..unmixing.n_components import parallel_analysis_n_components
from ._endmembers import (
    dose_ratio_of,
    fit_endmembers,
    output_endmembers,
    restrict_endmembers,
    sum_to_one_scaling,
)
from ._energy import energy_plan
from ._noise import finite_sample_spectra, noise_or_none
from .._non_finite import left_out, non_finite_rows, refuse_all
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

    Examples
    --------
    >>> import numpy as np
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import pan_sharpening_pair
    >>> fine, coarse, truth = pan_sharpening_pair(n_components=3, random_state=0)
    >>> report = fine.pan_sharpen(coarse, n_components=3, random_state=0,
    ...                           return_report=True, show_progressbar=False)
    >>> report.abundances.data.shape, report.endmembers.data.shape
    ((3, 64, 64), (3, 200))
    >>> bool(np.median(report.reduced_chi2.data) < 1.5)  # Poisson-limited fit
    True
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
    weighting: str | None = "auto",
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
    ``thickness_smoothness``, ``passes``, ``max_iter``, ``tile_size``,
    ``check_registration`` and ``endmember_pixels`` apply to that mode only).

    ``self`` has many pixels and few counts each; ``other`` (same region at a
    coarser step, or fewer pixels of the same material) has many counts per
    spectrum. Endmembers are extracted from ``other``; the abundances of
    every pixel of ``self`` are solved against them; the result is
    ``abundances @ endmembers`` on ``self``'s navigation axes, ``self``'s
    energy axis (its channels inside ``other``'s energy range) and
    ``self``'s intensity units (counts per channel of ``self``, at its
    dose).

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
        channels of ``other`` that reach the output) it is used as is;
        unfitted it is cloned and fitted on ``other``. An estimator fitted
        here sees ``other`` with each channel divided by its noise standard
        deviation (see ``weighting``) and its components are multiplied
        back: the Frobenius loss then weighs channels by their
        signal-to-noise ratio instead of by their counts, which keeps the
        weak channels of the endmembers as accurate as the strong ones.
    sum_to_one
        Solve fully constrained abundances (non-negative, summing to one;
        :func:`~hspy_unmix.unmixing.abundances.fcls_abundances`) instead of
        non-negative ones. The endmembers are first rescaled so that
        ``other``'s own abundances best sum to one (least squares) and then
        by the dose ratio ``mean counts per pixel of self / of other``
        (self's mean over the even subsample of at most 16 384 spectra (and
        64 MiB of float32) that
        the noise model also uses: whole rows in evenly spaced runs, so a
        lazy ``self`` is read about one chunk per run, once for both).
    smoothness
        ``None``: 0 for a spectrum image (no penalty), 1 for an image (see
        :func:`~hspy_unmix.fusion.haadf.pan_sharpen_image`).
        Weight ``lambda >= 0`` of a Laplacian penalty
        ``lambda * t * sum_i ||a_i - mean of a over i's neighbours||^2`` on the
        navigation grid, ``t = trace((E W)(E W)^T) / K`` with ``W`` the
        pixel's channel weights (so the value is relative to the mean
        weighted endmember energy and independent of the dose). ``0``: pixels
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
        Noise model of the least-squares fits (the per-pixel abundances of
        ``self`` and the endmember fit on ``other``); channel c of a pixel is
        weighted by ``1 / sqrt(variance_c)``.

        ``"auto"`` (default): Poisson and read-out noise,
        ``variance = gain * mean + read_noise**2`` in the signal's own units,
        with ``gain`` (units per detected electron) and ``read_noise``
        (standard deviation of the signal-independent noise) estimated from
        ``self`` itself: the variance of the high-pass residual
        ``x_c - (x_{c-1} + x_{c+1}) / 2`` across channels, for pixels binned
        by intensity, against the same combination of the bin's mean
        spectrum, by a robust straight-line fit (channels where the spectra's
        own curvature varies, such as edge onsets, get no weight); a
        coefficient under 3 standard errors is taken as zero. At most 16384
        spectra and 64 MiB of float32 are used (an even subsample of the
        scan: whole rows in evenly spaced runs, so a lazy SI reads about one
        chunk per run; the same
        pixels for a lazy signal). ``mean`` is ``other``'s mean spectrum on
        ``self``'s channels scaled to ``self``'s mean total, times each pixel's total
        over the mean total (in 4 levels per octave), so that a faint pixel,
        whose variance is mostly read-out noise, is weighted almost
        uniformly and a bright one almost by Poisson statistics. ``other``
        gets its own estimate for the endmember fit (Poisson weights when it
        holds fewer than 96 spectra; ``self`` with fewer than 96 spectra is
        solved with ``"poisson"``, which the metadata then record). With no read-out noise detected this
        is ``"poisson"`` exactly. The default because it is never worse
        than ``"poisson"`` in the benchmark
        (``docs/benchmarks/pan_sharpening.md``) and much better with
        read-out noise, where Poisson weights trust the low-count channels
        far too much. The estimate assumes noise independent between
        neighbouring channels; a detector point-spread correlating them
        gives a lower gain.

        ``"poisson"``: variance proportional to ``other``'s mean spectrum
        (floored at 1e-3 of its maximum), the same for every pixel: channels
        count by their Poisson signal-to-noise ratio rather than by their
        intensity (the pre-edge background would otherwise dominate).

        ``None``: ordinary least squares everywhere (the plain NMF + NNLS
        reference of the benchmark).
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
        chunk size. ``weighting="auto"`` reads its sample of ``self`` (at
        most 16384 spectra and 64 MiB, only those kept) when called.
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
        "Pan-sharpened"), ``self``'s energy axis (its channels inside
        ``other``'s range), data in ``self``'s units per channel at
        ``self``'s dose, float32 for float32 (or 8- and 16-bit integer)
        data and float64 otherwise. ``metadata.Signal.pan_sharpen`` records
        ``algorithm``, ``n_components``, ``n_components_estimated``,
        ``energy_overlap`` (first and last output energy, ``self``'s units),
        ``interpolation`` ("none", "linear" or "rebin": how ``other``'s
        channels reach ``self``'s), ``dispersion_ratio``, ``sum_to_one``,
        ``smoothness``, ``weighting``, ``other_title``, ``endmembers``
        (K x channels array), ``n_non_finite_other`` and, for an in-memory
        result, ``n_non_finite`` (see "Bad pixels" below) and, with
        ``weighting="auto"``,
        ``noise_model`` and ``other_noise_model`` (``gain``, ``read_noise``,
        their standard errors ``gain_error`` and ``read_noise_error``,
        ``n_pixels`` used, ``n_points`` kept by the robust fit; absent for
        ``other`` when it is too small to estimate).

    Raises
    ------
    TypeError
        Signal dimension other than 1, ``other`` not a signal, unknown
        parameters.
    ValueError
        Non-uniform energy axes, overlap below 50 % of the narrower energy
        range or fewer than ``2 K`` output channels, ``other`` with fewer
        (finite) pixels than K, an unknown ``weighting``, no finite spectrum
        in ``self`` or ``other``.

    Notes
    -----
    Energy axes. The output channels are ``self``'s channels whose centres
    lie less than one channel of ``other`` beyond ``other``'s first and last
    channel centres (the two ranges must overlap by half the narrower one).
    ``self``'s spectra are used as they are, never interpolated, so their
    noise stays independent between channels. ``other``'s mean spectrum and
    the endmembers are carried onto ``self``'s channels: unchanged when the
    two axes share the dispersion and channel grid ("none"); linearly
    interpolated as counts per eV and multiplied by ``self``'s dispersion
    when ``other``'s channels are as wide or wider ("linear": a fractional
    channel offset, a coarser ``other``); summed over the part of each of
    ``other``'s channels inside each of ``self``'s when ``other``'s are
    narrower ("rebin"). Beyond ``other``'s last channels its edge values are
    extended. Counts per eV are kept, so the fused spectra are in
    ``self``'s units whatever the dispersions.

    Bad pixels. Spectra of ``other`` that hold NaN or inf are left out of
    the endmembers and of its noise model (``n_non_finite_other`` in the
    metadata). Those of ``self`` get NaN abundances and NaN fused spectra,
    and the smoothing leaves them out of their neighbours' means; an
    in-memory result counts them in ``n_non_finite`` and says how many in a
    ``UserWarning`` (a lazy result shows them as NaN when computed). With
    an image as ``other``, such SI pixels have no spectral term in the fused
    fit: their fused abundances and spectra come from the image and the
    regularisers alone (the image is measured there), their SI-only
    abundances and quality figures are NaN, and ``n_non_finite`` counts
    them; the image itself must be finite.

    Quality. With ``x`` the spectrum of ``self`` and ``x_hat`` the fused
    one, the RMS residual and the reduced chi-square
    ``sum((x - x_hat)^2 / variance) / (channels - K)`` are returned by
    ``return_report=True``, with ``variance = max(x_hat, 1)`` (Poisson, in
    counts) or, with ``weighting="auto"``,
    ``gain * max(x_hat, 1) + read_noise**2``. The chi-square is about 1
    where the endmembers explain the pixel up to its noise; a phase missing
    from ``other`` shows as a region of high values.

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

    # 1. energy axes: the output channels are self's
    plan_e = energy_plan(self, other)
    other_data = other.data.compute() if other._lazy else other.data
    n_other_channels = other.axes_manager.signal_size
    Xo_full = np.asarray(other_data).reshape(-1, n_other_channels)
    bad_other = non_finite_rows(Xo_full[:, plan_e.other_slice])
    n_bad_other = int(bad_other.sum())
    if n_bad_other:  # left out of the endmembers and of other's noise model
        refuse_all(n_bad_other, bad_other.size, "pan_sharpen (other)")
        Xo_full = Xo_full[~bad_other]
    negative = "clip" if (isinstance(algorithm, str) and algorithm.strip().upper() == "NMF") else "allow"
    Xo = check_spectra(Xo_full[:, plan_e.other_slice], name="other", negative=negative)
    weighting = _check_weighting(weighting)

    # 2-3. number of components and endmembers, from other (each channel in units
    # of its noise), onto self's channels
    other_noise = None
    if weighting == "auto":
        other_noise = noise_or_none(Xo_full[:, plan_e.other_slice])
    fit_weights = None
    if weighting is not None:
        fit_weights = channel_weights(Xo, "poisson" if other_noise is None else "auto", other_noise)
    estimator, E, k, name, estimated = fit_endmembers(
        Xo, n_components, algorithm, random_state, show_progressbar, algorithm_params,
        fit_weights=None if _prefitted(algorithm) else fit_weights,
    )
    E = restrict_endmembers(E, plan_e, n_other_channels, Xo.shape[1])
    if sum_to_one:
        E = sum_to_one_scaling(estimator, E, Xo,
                               None if _prefitted(algorithm) else fit_weights)
    E = output_endmembers(E, plan_e, k)
    # an even subsample of self (_noise.sample_size spectra, about one chunk
    # read per run of rows) gives its mean counts and its noise model
    sample = None
    if sum_to_one or weighting == "auto":
        sample = finite_sample_spectra(self.data, lazy_in)
    dose_ratio = 1.0
    if sum_to_one and len(sample):
        dose_ratio = dose_ratio_of(sample.mean(0, dtype=np.float64), plan_e, Xo)

    # 4. noise model and abundances of every pixel of self (and the quality report)
    noise = mean_self = None
    if weighting == "auto":
        sample = sample[:, plan_e.self_slice]
        noise = noise_or_none(sample)
        if noise is None:  # too few spectra to estimate the noise
            weighting = "poisson"
    if noise is not None:
        # expected spectrum of self: other's mean spectrum (the better determined
        # shape, as for "poisson") at self's mean total
        mean_self = plan_e.from_other(Xo.mean(0)[None])[0]
        total = float(mean_self.sum())
        if total > 0:
            mean_self = mean_self * (float(sample.sum(dtype=np.float64)) / len(sample) / total)
        weights = channel_weights(mean_self[None], weighting, noise)
    else:
        weights = channel_weights(plan_e.from_other(Xo.mean(0)[None]), weighting)
    plan = make_solve_plan(plan_e, E, bool(sum_to_one), smoothness, smoothing_iterations,
                           weights, dose_ratio, noise, mean_self)
    solve = solve_lazy if lazy else solve_eager
    A, fused_data, rms, chi2 = solve(self.data, lazy_in, plan, return_report, show_progressbar)
    n_bad = None
    if not lazy:
        bad = left_out(A, "pan_sharpen", result="fused spectra and abundances", marked_by=None)
        n_bad = 0 if bad is None else int(bad.sum())

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
        "n_non_finite_other": n_bad_other,
    }
    if n_bad is not None:
        record["n_non_finite"] = n_bad
    if noise is not None:
        record["noise_model"] = noise.as_dict()
    if other_noise is not None:
        record["other_noise_model"] = other_noise.as_dict()
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


def _prefitted(algorithm) -> bool:
    """An estimator object that is already fitted (used as it is)."""
    return not isinstance(algorithm, str) and hasattr(algorithm, "components_")


def _check_weighting(weighting):
    if isinstance(weighting, str) and weighting.strip().lower() in ("auto", "poisson", "none"):
        weighting = weighting.strip().lower()
        return None if weighting == "none" else weighting
    if weighting is None:
        return None
    raise ValueError(f"weighting must be 'auto', 'poisson' or None, got {weighting!r}.")


def _check_smoothing(smoothness, smoothing_iterations) -> int:
    if smoothness < 0 or not np.isfinite(smoothness):
        raise ValueError(f"smoothness must be a finite number >= 0, got {smoothness}.")
    if isinstance(smoothing_iterations, bool) or int(smoothing_iterations) != smoothing_iterations or smoothing_iterations < 0:
        raise ValueError(f"smoothing_iterations must be an integer >= 0, got {smoothing_iterations}.")
    return int(smoothing_iterations)
