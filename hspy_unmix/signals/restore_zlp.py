"""The ``s.restore_zlp()`` signal method: checks, planning, then one block function.

The numerics live in :mod:`hspy_unmix.restoration`; this module checks the
signal, measures its ZLP and chooses the resampling (before any Keras import),
applies the block function to the eager array or to every dask block, and
records what was done in the result's metadata.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["restore_zlp"]

_METHODS = ("unet", "richardson_lucy")


def _check_signal(signal):
    from hyperspy.signals import BaseSignal

    from .._validation import check_spectral_signal

    if not isinstance(signal, BaseSignal):
        raise TypeError(f"restore_zlp needs a HyperSpy signal, got {type(signal).__name__}.")
    check_spectral_signal(signal, "restore_zlp")
    if signal.data.dtype.kind not in "fiu":
        raise TypeError(f"restore_zlp needs real numbers, got dtype {signal.data.dtype}.")
    axis = signal.axes_manager.signal_axes[0]
    if not getattr(axis, "is_uniform", True):
        raise ValueError(
            "restore_zlp needs a uniform energy axis; convert it first (for "
            "example with s.interpolate_on_axis on a UniformDataAxis)."
        )
    if axis.scale <= 0:
        raise ValueError("restore_zlp needs an increasing energy axis (positive scale).")
    if axis.size < 16:
        raise ValueError(f"restore_zlp needs at least 16 channels, got {axis.size}.")
    return axis


def _axis_text(axis) -> str:
    units = axis.units if isinstance(axis.units, str) and axis.units else ""
    last = axis.offset + axis.scale * (axis.size - 1)
    return f" (energy axis {axis.offset:g} to {last:g} {units})".replace(" )", ")")


def restore_zlp(
    self,
    model=None,
    method: str = "unet",
    *,
    iterations: int = 50,
    psf=None,
    psf_half_width: float | None = None,
    batch_size: int = 128,
    resample: bool | float = True,
    keep_integral: bool = True,
    show_progressbar: bool | None = None,
    lazy_output: bool | None = None,
):
    """Restore near-zero-loss spectra: remove jitter, PSF blur and noise.

    ``method="unet"`` runs an EELSpecNet-style U-net trained on broad
    generated spectra (:func:`hspy_unmix.train_zlp_model`);
    ``"richardson_lucy"`` deconvolves by a known PSF or, by default, by each
    spectrum's own ZLP.

    Parameters
    ----------
    model
        ``None`` (the model shipped with the package, loaded once and
        cached), a path to a ``.keras`` file, or a Keras model. Ignored by
        Richardson-Lucy.
    method
        ``"unet"`` or ``"richardson_lucy"``.
    iterations
        Richardson-Lucy iterations.
    psf
        Richardson-Lucy kernel (1-D, centre at ``len(psf) // 2``); ``None``
        takes each spectrum's ZLP: the channels within ``psf_half_width`` of
        its maximum, tapered by a Hann window.
    psf_half_width
        Half width of the measured-ZLP kernel, in the energy axis' units;
        ``None``: three measured ZLP widths (FWHM).
    batch_size
        Spectra per network call.
    resample
        ``True`` (default): measure the ZLP width (FWHM, in channels) on a
        sample of spectra and, when it lies outside the range the model was
        trained for, resample the energy axis so that it lies inside,
        restore, and resample back. ``False``: never resample. A number:
        this factor (model channels per data channel).
    keep_integral
        Scale each U-net spectrum to the input's integral (deconvolution
        keeps the counts; default). ``False`` keeps the network's integral,
        which leaves out a dark pedestal the network removed.
    show_progressbar
        Progress bar over spectra (eager signals; ``None``: HyperSpy's
        preference).
    lazy_output
        Return a lazy signal; default: the same as the input.

    Returns
    -------
    EELSSpectrum or LazyEELSSpectrum
        A new signal on the same axes, in the input's intensity units.
        ``metadata.Signal.restore_zlp`` records the method, the model, the
        measured ZLP width and the resampling factor, and ``flags``: one code
        per spectrum (0 restored; 1 no counts and 2 NaN/inf, both returned
        as zeros; 3 negative-heavy, restored). The input is not modified.

    Raises
    ------
    hspy_unmix.restoration.NoZeroLossPeakError
        (a ``ValueError``) when the spectra show no zero-loss peak (core-loss
        data, a window without the ZLP) or a ZLP narrower than 1.5 channels,
        for both methods and before any network is loaded.

    Notes
    -----
    The network works in channels: it restores a spectrum whose measured
    ZLP spans 5 to 40 channels to a quasi-Dirac ZLP 3 channels wide, whatever
    the dispersion. Data with a narrower ZLP (non-monochromated spectra at
    0.1-1 eV/channel) are interpolated onto a finer grid first, data with a
    wider one (1-2 meV/channel) are binned; the restored ZLP is then
    ``3 / factor`` data channels wide. A few bad spectra never fail the
    signal: they are counted in one warning and flagged. Integer data are
    restored as float64.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import zlp_test_signal
    >>> s, truth = zlp_test_signal((2, 2), random_state=0)
    >>> restored = s.restore_zlp()  # doctest: +SKIP
    >>> rl = s.restore_zlp(method="richardson_lucy", iterations=50)
    >>> rl.metadata.Signal.restore_zlp.method
    'richardson_lucy'
    """
    from hyperspy.signals import BaseSignal

    from .._compat import copy_with_new_data
    from .._progress import progress_bar
    from ..restoration.engine import (
        output_dtype,
        restore_block_rl,
        restore_block_unet,
        spectrum_flags,
    )
    from ..restoration.model_io import resolve_model
    from ..restoration.planning import plan_resampling, sample_spectra

    method = str(method).lower().replace("-", "_")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    if iterations < 0:
        raise ValueError("iterations must be >= 0.")
    axis = _check_signal(self)
    lazy_in = bool(getattr(self, "_lazy", False))
    lazy_out = lazy_in if lazy_output is None else bool(lazy_output)
    meta = resolve_model(model)[0] if method == "unet" else {}
    plan = plan_resampling(sample_spectra(self.data), meta, axis_description=_axis_text(axis))
    record = {"method": method, "measured_zlp_fwhm_channels": plan["measured_fwhm_channels"]}
    if method == "unet":
        meta, loader, model_name = resolve_model(model)
        if resample is True:
            factor = plan["factor"]
        elif resample is False:
            factor = 1.0
        else:
            factor = float(resample)
            if not factor > 0:
                raise ValueError("resample must be True, False or a positive factor.")
        record.update(model=model_name, resampling_factor=factor,
                      restored_zlp_fwhm_channels=float(meta.get("truth_fwhm_channels", 3.0))
                      / factor)

        record["keep_integral"] = bool(keep_integral)

        def func(block, bar=None):
            return restore_block_unet(block, loader, factor, keep_integral, batch_size, bar)
    else:
        kernel = None
        if psf is not None:
            kernel = np.asarray(psf, dtype=np.float64)
            if kernel.ndim != 1 or not np.isfinite(kernel).all() or kernel.sum() <= 0:
                raise ValueError("psf must be a finite 1-D kernel with a positive sum.")
        if psf_half_width is None:
            half_width = max(3, int(np.ceil(3 * plan["measured_fwhm_channels"])))
        else:
            half_width = max(2, int(round(psf_half_width / abs(axis.scale))))
        record.update(iterations=int(iterations),
                      psf="given" if kernel is not None else "measured ZLP",
                      psf_half_width_channels=int(half_width))

        def func(block, bar=None):
            return restore_block_rl(block, kernel, iterations, half_width, bar)

    data = self.data
    if lazy_in:
        data = data.rechunk(data.chunks[:-1] + (data.shape[-1],))
        import uuid

        # named here, so that dask never pickles a Keras model to hash the function
        new = data.map_blocks(func, dtype=output_dtype(data.dtype),
                              name=f"restore_zlp-{uuid.uuid4().hex}")
        flags = data.map_blocks(spectrum_flags, drop_axis=data.ndim - 1, dtype=np.uint8)
        if not lazy_out:
            import dask

            from .._progress import resolve_show_progressbar
            from ..io.chunks import dask_progress

            # one pass: the restoration and the flags share the chunk reads
            with dask_progress(resolve_show_progressbar(show_progressbar)):
                new, flags = dask.compute(new, flags)
    else:
        arr = np.asarray(data)
        flags = spectrum_flags(arr)
        n_spectra = int(np.prod(arr.shape[:-1]))
        with progress_bar(n_spectra, f"restore_zlp ({method})", show_progressbar) as bar:
            new = func(arr, bar)
    if not (lazy_in and lazy_out):
        _warn_flagged(flags)
    out = copy_with_new_data(self, new)
    if lazy_out and not lazy_in:
        out = out.as_lazy()
    flag_signal = BaseSignal(flags.reshape(flags.shape or (1,))).T
    if lazy_in and lazy_out:
        flag_signal = flag_signal.as_lazy()
    flag_signal.metadata.General.title = (
        "restore_zlp flags (0 restored, 1 no counts, 2 NaN/inf, 3 negative-heavy)")
    record["flags"] = flag_signal
    out.metadata.set_item("Signal.restore_zlp", record)
    title = self.metadata.get_item("General.title", "")
    out.metadata.set_item("General.title", f"{title} (ZLP restored)".strip())
    return out


def _warn_flagged(flags) -> None:
    """One warning counting the spectra that were not restored as they were."""
    counts = {code: int((flags == code).sum()) for code in (1, 2, 3)}
    if any(counts.values()):
        warnings.warn(
            f"restore_zlp: of {flags.size} spectra, {counts[1]} without counts and "
            f"{counts[2]} with NaN/inf were returned as zeros, {counts[3]} "
            "negative-heavy ones were restored; their codes are in "
            "metadata.Signal.restore_zlp.flags.", UserWarning, stacklevel=3)
