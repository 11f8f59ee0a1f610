"""HAADF-guided pan-sharpening: ``s.pan_sharpen(image)`` with an ADF/HAADF image.

The spectrum image ``s`` (coarse grid, few counts per channel) and an
annular dark-field image recorded with it (same scan or an integer factor
``f`` finer, many counts per pixel) are fused into abundance maps and
spectra on the image's grid: Poisson spectra, a fitted forward model of
the image and an edge-preserving penalty, solved tile by tile (the model
and its solver: :mod:`hspy_unmix.fusion._haadf_model`). This module is the
signal-level driver: the grid checks between SI and image, the options,
the endmembers, the passes over the tiles and the quality figures.

The fused spectra are ``A_q @ E``: the spectrum an SI pixel made of the
material of image pixel ``q`` would have (``s``'s intensity units: the mean
of the fused spectra over an SI pixel is the model of that pixel).
"""

from __future__ import annotations

import numpy as np

from ._haadf_model import (
    FusionProblem,
    block_mean,
    fit_image_model,
    image_noise_sigma,
    registration_shift,
    replicate,
    solve_tile,
    thickness_weight,
    tiles,
    total_weights,
)

#: Relative tolerance on the pixel size (scale) of image and SI.
SCALE_RTOL = 1e-3


# ------------------------------------------------------------------ grids
def image_factor(si, image) -> int:
    """Integer factor between the SI's navigation grid and the image's grid.

    Raises a clear error for a stack of images, a wrong-size image, a
    non-integer or anisotropic factor and calibrated axes that disagree
    (pixel size or origin).
    """
    am_s, am_i = si.axes_manager, image.axes_manager
    if am_i.signal_dimension != 2 or am_i.navigation_dimension != 0:
        raise ValueError(
            "the image must be a single 2-D image (Signal2D without navigation axes), "
            f"got signal dimension {am_i.signal_dimension} and navigation dimension "
            f"{am_i.navigation_dimension}."
        )
    if am_s.navigation_dimension != 2:
        raise ValueError(
            "HAADF-guided pan-sharpening needs a spectrum image with 2 navigation axes, "
            f"got {am_s.navigation_dimension}."
        )
    nav = [ax for ax in am_s._axes if ax.navigate]  # numpy order (y, x)
    sig = [ax for ax in am_i._axes if not ax.navigate]
    factors = []
    for a_s, a_i in zip(nav, sig):
        ratio = a_i.size / a_s.size
        if a_i.size % a_s.size:
            raise ValueError(
                f"the image ({sig[0].size} x {sig[1].size} pixels, rows x columns) is not "
                f"an integer multiple of the spectrum image's grid ({nav[0].size} x "
                f"{nav[1].size}): factor {ratio:.4g} along '{a_i.name}'. Crop or rebin "
                "the image so that each SI pixel covers f x f image pixels."
            )
        factors.append(a_i.size // a_s.size)
    if factors[0] != factors[1]:
        raise ValueError(
            f"the image is {factors[0]} x finer along the rows and {factors[1]} x along "
            "the columns; one factor for both axes is needed."
        )
    f = factors[0]
    for a_s, a_i in zip(nav, sig):
        if not _calibrated(a_s) or not _calibrated(a_i):
            continue
        if not np.isclose(a_i.scale * f, a_s.scale, rtol=SCALE_RTOL):
            raise ValueError(
                f"pixel sizes disagree along '{a_s.name}': SI {a_s.scale:g} {a_s.units}, "
                f"image {a_i.scale:g} {a_i.units} x {f} = {a_i.scale * f:g}."
            )
        # same origin, or the image's first pixel centred in the SI's first
        # pixel's first sub-pixel; within half an image pixel
        centred = a_s.offset - (a_s.scale - a_i.scale) / 2
        if min(abs(a_i.offset - a_s.offset), abs(a_i.offset - centred)) > a_i.scale / 2:
            raise ValueError(
                f"the image is misregistered with the SI along '{a_s.name}': origin "
                f"{a_i.offset:g} {a_i.units} against {a_s.offset:g} {a_s.units}. Crop or "
                "shift the image so that both cover the same scan."
            )
    return int(f)


def _calibrated(ax) -> bool:
    """Axis with a physical calibration (units set, not pixels)."""
    units = str(getattr(ax, "units", "") or "")
    return units not in ("", "<undefined>", "<Undefined>", "px", "pixel", "pixels")


# ----------------------------------------------------------- the method
#: Keywords of the image mode (the spectrum-image mode refuses them).
IMAGE_KEYWORDS = ("gamma", "image_weight", "regularization", "huber_delta",
                  "thickness_smoothness", "passes", "max_iter", "tile_size",
                  "check_registration", "endmember_pixels")
#: Default weight of the edge-preserving penalty (see ``pan_sharpen_image``).
DEFAULT_SMOOTHNESS = 1.0


def pan_sharpen_image(
    self,
    image,
    n_components=None,
    algorithm="NMF",
    *,
    gamma: float | None = None,
    image_weight: float = 1.0,
    regularization: str | None = "huber",
    smoothness: float | None = None,
    huber_delta: float = 0.05,
    thickness_smoothness: float | None = None,
    passes: int = 3,
    max_iter: int = 300,
    tile_size: int = 64,
    check_registration: bool = True,
    endmember_pixels: int = 20000,
    weighting: str | None = "poisson",
    random_state=None,
    show_progressbar: bool | None = None,
    lazy_output: bool | None = None,
    return_report: bool = False,
    **algorithm_params,
):
    """Fuse a spectrum image with an ADF/HAADF image recorded with it.

    Called by :meth:`pan_sharpen` when ``other`` is a ``Signal2D``; the
    parameters shared with the spectrum-image mode are documented there.

    Parameters
    ----------
    image
        ``Signal2D`` without navigation axes, on the SI's scan grid or an
        integer factor ``f`` finer (each SI pixel covers ``f x f`` image
        pixels, the same ``f`` for both axes). Calibrated axes must agree in
        pixel size (``f * image scale = SI scale``) and origin (within half an
        image pixel; either the same offset or pixel centres). Not modified.
    algorithm
        As in the SI mode (endmembers extracted from ``self``), or the
        endmembers themselves: an array (K, channels) or an ``EELSSpectrum``
        with K navigation positions on ``self``'s energy axis.
    gamma
        ``None`` (default): the exponent of the image model is fitted (within
        0.3-3). A number fixes it (1: image linear in the amounts, as for
        thin samples under incoherent Rutherford-like scattering).
    image_weight
        Multiplies the image's log-likelihood. 1 (default): the image counts
        with its own noise, estimated from the image (Immerkaer's estimator,
        blind to scan-line offsets). Below 1 trusts the image model less.
    regularization
        ``"huber"`` (default; quadratic for differences below ``huber_delta``
        times the mean total abundance, linear above, so that interfaces
        stay sharp), ``"tv"`` (total variation, smoothed at 1e-3) or
        ``None``.
    smoothness
        Weight of the penalty in units of the Poisson log-likelihood of one
        spectrum. ``None``: 1, a prior that matters where an SI pixel holds
        only a few counts per channel and fades as the dose grows.
    huber_delta
        Threshold of the Huber penalty relative to the mean total abundance
        (0.05: differences below 5 % of the mean are treated as noise).
    thickness_smoothness
        Weight of a Gaussian prior on the differences between neighbouring
        image pixels of the total amount of material in the beam (thickness
        times density): the abundances weighted by their endmembers'
        integrals, so that the scale each endmember was given does not
        matter; in units of the log-likelihood, the total in units of its
        mean.
        ``None`` (default): estimated from the SI
        (:func:`~hspy_unmix.fusion._haadf_model.thickness_weight`): strong
        when the SI's total varies no more than its noise (a lamella or a
        wedge, where a change of the image inside an SI pixel is then read
        as a change of composition, not of thickness), near 0 when the SI
        shows the total varying (particles on a support, holes). ``0``
        switches it off. The weight used is recorded in the metadata.
    passes
        Number of passes of (solve all tiles, refit the image model). 3
        (default): the model's parameters change by well under 1 % after
        the third.
    max_iter
        L-BFGS-B iterations per tile and pass.
    tile_size
        Side of a tile in SI pixels; each tile is solved with a halo of 4 SI
        pixels, memory is bounded by one tile of the SI (lazy or not).
    check_registration
        Refuse an image that a shift of one SI pixel explains clearly better
        (R^2 up by more than 0.05) than no shift.
    endmember_pixels
        At most this many spectra are used to extract the endmembers (bounded
        memory for a large lazy SI): an even subset of the one subsample of
        the scan (runs of whole rows, read once) that also gives the noise
        model. Beyond the chunks that hold it, the SI is read ``passes + 1``
        times: for the SI-only abundances, then once a pass (the last one
        also gives the reduced chi-square).
    weighting
        ``"auto"`` (:meth:`pan_sharpen`'s default): the SI's noise model
        (``variance = gain * mean + read_noise**2``, estimated from the SI as
        in the spectrum-image mode) weights the channels of the SI-only
        start and sets the Poisson term's gain ``g = (gain * m +
        read_noise**2) / m`` at the SI's mean channel level ``m``: the
        spectra are Poisson counts of ``x / g``, so that a detector with
        several signal units per electron does not count its spectra ``g``
        times over against the image and the penalties. ``"poisson"`` (this
        function's default when called directly) or ``None``: ``g = 1``
        (electron counts).

    Returns
    -------
    exspy.signals.EELSSpectrum or PanSharpenResult
        Spectra on the image's grid (navigation axes: the image's axes),
        ``self``'s energy axis and intensity units; see the module notes.
        ``metadata.Signal.pan_sharpen`` records ``mode="image"``, ``factor``,
        the fitted ``image_model`` (offset, weights, gamma, noise sigma,
        R^2), ``gain``, ``reduced_chi2`` of the fused and of the SI-only
        abundances (residuals against the variance ``gain * model``),
        and the endmembers.
    """
    from .._progress import progress_bar
    from .._validation import check_finite, check_spectral_signal
    from ..unmixing.abundances import nnls_abundances
    from ._solve import channel_weights

    from hyperspy.signal import BaseSignal

    if not isinstance(image, BaseSignal):
        raise TypeError(f"image must be a HyperSpy Signal2D, got {type(image).__name__}.")
    check_spectral_signal(self, "pan_sharpen")
    f = image_factor(self, image)
    smoothness = DEFAULT_SMOOTHNESS if smoothness is None else float(smoothness)
    _check_options(gamma, image_weight, regularization, smoothness, huber_delta, passes,
                   max_iter, tile_size, endmember_pixels, thickness_smoothness)
    lazy_in = bool(self._lazy)
    lazy = lazy_in if lazy_output is None else bool(lazy_output)
    data = self.data
    ny, nx, n_ch = data.shape
    h = np.asarray(image.data.compute() if image._lazy else image.data, dtype=np.float64)
    check_finite(h, "the image")

    # one subsample of the scan (runs of whole rows, one read of the chunks
    # that hold them) gives the endmembers (an even subset of at most
    # ``endmember_pixels`` of its spectra), the channel weights' mean spectrum
    # and the noise model: no pass over the whole SI of their own
    from ._noise import finite_sample_spectra, noise_or_none, sample_size

    sample = finite_sample_spectra(data, lazy_in, max(int(endmember_pixels), sample_size(n_ch)))
    E, estimator, name, k, estimated = _endmembers(
        sample, n_ch, n_components, algorithm, endmember_pixels, random_state,
        show_progressbar, algorithm_params)
    mean_spectrum = sample.mean(0, dtype=np.float64) if len(sample) else np.zeros(n_ch)
    noise = None
    if weighting == "auto":  # Poisson and read-out noise estimated from the SI
        noise = noise_or_none(sample)
    w_ch = channel_weights(mean_spectrum[None], "poisson" if noise is None and weighting == "auto"
                           else weighting, noise)
    gain = effective_gain(noise, mean_spectrum)

    def read(sl):
        block = data[sl[0], sl[1]]
        return np.asarray(block.compute() if lazy_in else block, dtype=np.float64)

    from .._non_finite import (
        FiniteRowsTransform,
        nearest_finite_filled,
        refuse_all,
        warn_left_out,
    )

    si_only = FiniteRowsTransform(lambda X: nnls_abundances(X * w_ch, E * w_ch), len(E))

    halo = 4
    tile_list = list(tiles(ny, nx, int(tile_size), halo))
    A0 = np.zeros((ny, nx, k))
    rms, chi2, chi2_si = (np.zeros((ny, nx)) for _ in range(3))
    with progress_bar(len(tile_list) * (passes + 1), "Pan-sharpening (image)",
                      show_progressbar) as bar:
        for core, _ in tile_list:  # SI-only abundances (weighted NNLS per pixel)
            X = read(core)
            A0[core] = si_only(X.reshape(-1, n_ch)).reshape(X.shape[:2] + (k,))
            bar.update(1)
        # SI pixels without a spectrum (NaN/inf): their nearest measured
        # neighbour's SI-only abundances start the fit and enter the image
        # model's fit; the fused solve has no spectral term there
        missing = np.isnan(A0[..., 0])
        n_missing = int(missing.sum())
        refuse_all(n_missing, missing.size, "pan_sharpen")
        A_start = nearest_finite_filled(A0, missing) if n_missing else A0
        if check_registration:
            _check_registration(A_start, block_mean(h, f))
        sigma = image_noise_sigma(h)
        model = fit_image_model(replicate(A_start, f), h, gamma, sigma, f)
        scale = float(np.mean(A_start.sum(-1))) or 1.0
        w_t = (thickness_weight(A_start, E, f, gain) if thickness_smoothness is None
               else float(thickness_smoothness))
        c_t = total_weights(A_start, E, scale)
        U = replicate(A_start, f) / scale
        del A_start
        for p in range(passes):
            problem = FusionProblem(E, f, scale, model, float(image_weight), regularization,
                                    smoothness, float(huber_delta), int(max_iter), w_t, c_t,
                                    gain)
            U_new = np.empty_like(U)
            for core, outer in tile_list:
                fo = tuple(slice(s.start * f, s.stop * f) for s in outer)
                X = read(outer)
                sol = solve_tile(X, h[fo], U[fo], problem)
                inner = tuple(slice((c.start - o.start) * f, (c.stop - o.start) * f)
                              for c, o in zip(core, outer))
                U_new[tuple(slice(c.start * f, c.stop * f) for c in core)] = sol[inner]
                if p == passes - 1:  # the quality figures from the block just read
                    own = tuple(slice(c.start - o.start, c.stop - o.start)
                                for c, o in zip(core, outer))
                    for out, value in zip((rms, chi2, chi2_si), _tile_quality(
                            X[own], sol[inner] * scale, A0[core], E, f, gain)):
                        out[core] = value
                bar.update(1)
            U = U_new
            if p < passes - 1:
                model = fit_image_model(U * scale, h, gamma, sigma, f)
        A = U * scale

    record = {
        "mode": "image",
        "factor": int(f),
        "algorithm": name,
        "n_components": int(k),
        "n_components_estimated": bool(estimated),
        "image_model": model.as_dict(),
        "regularization": str(regularization),
        "smoothness": float(smoothness),
        "thickness_smoothness": float(w_t),
        "thickness_smoothness_estimated": thickness_smoothness is None,
        "image_weight": float(image_weight),
        "gain": float(gain),
        "passes": int(passes),
        "reduced_chi2": float(np.nanmean(chi2)),
        "reduced_chi2_si_only": float(np.nanmean(chi2_si)),
        "n_non_finite": n_missing,
        "image_title": str(image.metadata.get_item("General.title", "")),
        "endmembers": E,
    }
    warn_left_out(n_missing, missing.size, "the spectral fit of pan_sharpen",
                  result="SI-only abundances and quality figures", marked_by=None)
    from ._image_output import image_mode_result

    return image_mode_result(self, image, record, A, A0, E, rms, chi2, estimator, lazy,
                             int(tile_size) * f, return_report)


def _check_options(gamma, image_weight, regularization, smoothness, huber_delta, passes,
                   max_iter, tile_size, endmember_pixels, thickness_smoothness):
    if thickness_smoothness is not None and not (
            np.isfinite(thickness_smoothness) and thickness_smoothness >= 0):
        raise ValueError("thickness_smoothness must be None or a finite number >= 0, got "
                         f"{thickness_smoothness}.")
    if gamma is not None and not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be None or a number > 0, got {gamma}.")
    for value, label in ((image_weight, "image_weight"), (smoothness, "smoothness")):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{label} must be a finite number >= 0, got {value}.")
    if regularization not in ("huber", "tv", None):
        raise ValueError(f"regularization must be 'huber', 'tv' or None, got {regularization!r}.")
    if not (np.isfinite(huber_delta) and huber_delta > 0):
        raise ValueError(f"huber_delta must be a number > 0, got {huber_delta}.")
    for value, label in ((passes, "passes"), (max_iter, "max_iter"), (tile_size, "tile_size"),
                         (endmember_pixels, "endmember_pixels")):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{label} must be an integer >= 1, got {value}.")


def _check_registration(A0, image_coarse):
    shift, r2_best, r2_zero = registration_shift(A0, image_coarse)
    if shift != (0, 0) and r2_best - r2_zero > 0.05:
        raise ValueError(
            f"the image looks misregistered with the spectrum image: shifted by {shift} "
            f"SI pixels (rows, columns) it is explained with R^2 = {r2_best:.2f} against "
            f"{r2_zero:.2f} as given. Align the image to the SI's scan (for example crop "
            "both to the common area) or pass check_registration=False."
        )


def _endmembers(sample, n_ch, n_components, algorithm, max_pixels, random_state,
                show_progressbar, algorithm_params):
    """Endmembers given, or fitted on an even subset of at most ``max_pixels``
    spectra of ``sample``: ``(E, estimator, name, K, K estimated?)``."""
    from hyperspy.signal import BaseSignal

    from .._validation import check_finite, check_spectra
    from ._endmembers import fit_endmembers

    if isinstance(algorithm, (np.ndarray, list, BaseSignal)):
        E = algorithm.data if isinstance(algorithm, BaseSignal) else algorithm
        E = np.asarray(E.compute() if hasattr(E, "compute") else E, dtype=np.float64)
        E = np.atleast_2d(E).reshape(-1, E.shape[-1]) if E.ndim else E
        if E.ndim != 2 or E.shape[1] != n_ch:
            raise ValueError(f"given endmembers must be (K, {n_ch}), got shape {np.shape(E)}.")
        if n_components is not None and int(n_components) != E.shape[0]:
            raise ValueError(f"n_components={n_components} differs from the {E.shape[0]} "
                             "given endmembers.")
        check_finite(E, "the given endmembers")
        if (E < 0).any():
            raise ValueError("given endmembers must be non-negative (Poisson model).")
        return E, None, "given", E.shape[0], False
    n = sample.shape[0]
    idx = np.unique(np.linspace(0, n - 1, min(n, int(max_pixels))).astype(int))
    sample = np.asarray(sample[idx], dtype=np.float64)
    negative = "clip" if (isinstance(algorithm, str) and algorithm.strip().upper() == "NMF") else "allow"
    sample = check_spectra(sample, name="the spectrum image", negative=negative)
    estimator, E, k, name, estimated = fit_endmembers(
        sample, n_components, algorithm, random_state, show_progressbar, algorithm_params)
    if E.shape[1] != n_ch:
        raise ValueError(f"the estimator's endmembers have {E.shape[1]} channels, the "
                         f"spectrum image {n_ch}.")
    check_finite(E, "the endmembers")
    # the Poisson model needs non-negative spectra
    return np.clip(E, 0.0, None), estimator, name, k, estimated


def effective_gain(noise, mean_spectrum) -> float:
    """Signal units per detected electron for the Poisson term: 1 without a
    noise model, else the modelled variance over the mean at the SI's mean
    channel level, ``(gain * m + read_noise**2) / m`` (the read-out noise
    folded in where the counts are typical)."""
    if noise is None:
        return 1.0
    m = float(np.mean(mean_spectrum))
    if not m > 0:
        return 1.0
    g = float(noise.variance(m)) / m
    return g if np.isfinite(g) and g > 0 else 1.0


def _tile_quality(X, A_fine, A0, E, f, gain=1.0):
    """RMS residual and reduced chi-square per SI pixel of a tile ``X`` (fused
    abundances ``A_fine`` on the image's grid, SI-only ``A0``), against the
    variance ``gain * max(model, 1)``."""
    k, n_ch = E.shape
    dof = max(n_ch - k, 1)

    def squares_and_chi2(abundances):
        M = abundances @ E
        d2 = (X - M) ** 2
        return d2, (d2 / (gain * np.maximum(M, 1.0))).sum(-1) / dof

    d2, chi2 = squares_and_chi2(block_mean(A_fine, f))
    return np.sqrt(d2.mean(-1)), chi2, squares_and_chi2(A0)[1]
