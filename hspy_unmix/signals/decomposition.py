"""``decomposition`` and ``apply_unmixing`` for EELS signals.

Thin wrappers: the estimators do the work and the results go to
``learning_results``. In memory, HyperSpy's own decomposition feeds the
estimator. A lazy signal is read in two passes (:func:`lazy_decomposition`):
one that keeps a uniform random sample of at most
``max_partial_fit_samples`` spectra, on which the estimator is fitted, and
one that solves the abundances of every pixel, chunk by chunk on the active
dask scheduler. Options that change the data HyperSpy feeds (Poisson
normalisation, masks, centring, ``reproject``) go through HyperSpy's lazy
loop instead, which streams ``partial_fit`` and reads the data three times.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

from .._registry import estimator_class, normalise_name
from .._compat import FACTORS, LOADINGS, flat_spectra, navigation_shape_in_array
from .._non_finite import drop_non_finite, left_out, non_finite_rows, refuse_all, warn_left_out
from .._validation import check_spectral_signal  # noqa: F401  (public here before)

#: Attribute of the signal that holds the fitted estimator after
#: ``decomposition`` or ``apply_unmixing`` with an hspy_unmix algorithm.
ESTIMATOR_ATTRIBUTE = "unmixing_estimator"


def algorithm_name(estimator) -> str:
    """Registry name of ``estimator`` (its class name if it is not ours)."""
    from .._registry import ALGORITHMS

    cls = type(estimator)
    for key, (module, name) in ALGORITHMS.items():
        if cls.__name__ == name and cls.__module__ == module:
            return key
    return cls.__name__


def _snapshot(signal):
    return copy.deepcopy(signal.learning_results.__dict__)


def _restore(signal, snapshot):
    signal.learning_results.__dict__.clear()
    signal.learning_results.__dict__.update(snapshot)


def _check_all_pixels_learned(signal, estimator, navigation_mask, n_left_out=0):
    """HyperSpy's lazy loop swallows Ctrl-C and goes on with the chunks seen so
    far; treat a sample that missed pixels as the interruption it was."""
    seen = estimator.__dict__.get("n_samples_seen_")
    if seen is None:
        return
    expected = (signal.axes_manager.navigation_size or 1) - n_left_out
    if navigation_mask is not None:
        mask = getattr(navigation_mask, "data", navigation_mask)
        expected -= int(np.asarray(mask).sum())
    if seen < expected:
        raise KeyboardInterrupt(
            f"decomposition was interrupted after {seen} of {expected} spectra"
        )


class _StreamToFit:
    """What HyperSpy's lazy decomposition talks to for one of our estimators.

    HyperSpy streams the chunks through ``partial_fit`` and then reads
    ``components_``; the estimator is fitted on its sample at that point by
    :meth:`~hspy_unmix.unmixing._base.UnmixingEstimator.finish_partial_fit`,
    so the estimator itself never fits on attribute access. Spectra with
    NaN/inf values are left out of the sample (counted in ``n_left_out``)
    and get NaN abundances.
    """

    def __init__(self, estimator):
        self.estimator = estimator
        self.n_left_out = 0

    def partial_fit(self, X, y=None):
        X, n_bad = drop_non_finite(X)
        self.n_left_out += n_bad
        if X.shape[0]:
            self.estimator.partial_fit(X)
        return self

    def fit(self, X, y=None):
        self.estimator.fit(X)
        return self

    def transform(self, X):
        from .._non_finite import FiniteRowsTransform

        n_components = np.asarray(self.estimator.components_).shape[0]
        return FiniteRowsTransform(self.estimator.transform, n_components)(X)

    @property
    def components_(self):
        return self.estimator.finish_partial_fit().components_

    def __repr__(self):
        return repr(self.estimator)


#: ``decomposition`` arguments under which a lazy signal takes the two-pass
#: path, with the values that allow it.
_TWO_PASS_DEFAULTS = {"normalize_poissonian_noise": False, "centre": None,
                      "signal_mask": None, "navigation_mask": None, "reproject": None}


def _two_pass(arguments) -> bool:
    # ``is`` first: a mask given as an array has no truth value
    return all(arguments.get(k, v) is v or (v is not None and arguments.get(k, v) == v)
               for k, v in _TWO_PASS_DEFAULTS.items())


def lazy_decomposition(signal, estimator, *, show_progressbar=None, get=None,
                       sample_chunks=None):
    """Fit ``estimator`` on a lazy signal in two passes and store the results.

    Pass 1 (:func:`hspy_unmix.io.chunks.sample_spectra`) reads each chunk
    that holds sampled pixels once and keeps at most the estimator's
    ``max_partial_fit_samples`` spectra (a uniform sample seeded by its
    ``random_state``; all pixels when there are fewer; float32 for float32
    data and an estimator whose fit takes float32: VCA, MinVolume, HALS,
    NMF_SO and BLU; else float64); the estimator is fitted on them. Pass 2
    (:func:`hspy_unmix.io.chunks.lazy_transform`) solves the abundances of
    every pixel. Both run on the active dask
    scheduler (or ``get``), one progress bar each. With ``sample_chunks``
    the sample is drawn from about that fraction of the navigation chunks
    (:func:`hspy_unmix.io.chunks.chunk_subset_index`) and pass 1 reads only
    them.

    Parameters
    ----------
    signal
        A lazy spectrum image.
    estimator
        An unfitted hspy_unmix estimator.
    show_progressbar
        ``None`` follows HyperSpy's preference.
    get
        A dask scheduler ``get`` function (default: the active scheduler).
    sample_chunks
        ``None`` (default): a uniform sample over all pixels, every chunk
        read. A fraction in (0, 1]: the share of the chunks pass 1 reads.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, _ = chequerboard_si(n_components=3, random_state=0)
    >>> s = s.as_lazy()
    >>> s.decomposition(algorithm="VCA", output_dimension=3, print_info=False,
    ...                 show_progressbar=False)
    >>> s.learning_results.loadings.shape
    (4096, 3)
    """
    import contextlib

    import dask

    from .._progress import resolve_show_progressbar
    from ..io.chunks import lazy_transform, sample_spectra

    show = resolve_show_progressbar(show_progressbar)
    n_pixels = signal.axes_manager.navigation_size or 1
    cap = getattr(estimator, "max_partial_fit_samples", None) or n_pixels
    with dask.config.set(scheduler=get) if get is not None else contextlib.nullcontext():
        # float32 data stay float32 for the estimators whose fit takes them
        # (half the memory of the sample); float64 for the others
        keep = getattr(estimator, "_fits_float32", False) and signal.data.dtype == np.float32
        sample, _ = sample_spectra(signal.data, cap, getattr(estimator, "random_state", None),
                                   dtype=np.float32 if keep else np.float64,
                                   show_progressbar=show, chunk_fraction=sample_chunks)
        sample, _ = drop_non_finite(sample, "decomposition (its sample)")
        n_fitted = sample.shape[0]
        fit_owned = getattr(estimator, "_fit_owned", None)
        if fit_owned is not None:
            fit_owned(sample)  # scaled and screened in place: no further copies
        else:
            estimator.fit(sample)
        del sample
        estimator.__dict__.pop("_fit_abundances", None)
        estimator.n_samples_seen_ = n_pixels
        estimator.n_samples_fitted_ = int(n_fitted)
        n_components = np.asarray(estimator.components_).shape[0]
        loadings = lazy_transform(estimator, signal.data, n_components, show_progressbar=show,
                                  parallel=getattr(estimator, "_parallel_transform", True))
    _store_results(signal, estimator, loadings, left_out(loadings, "decomposition"))


def _store_results(signal, estimator, loadings, navigation_mask=None):
    """``learning_results`` of an unmixing: endmembers as factors, abundances
    as loadings, no centring, signal mask or Poisson scaling; the navigation
    mask marks the pixels left out (flat, in the order of the loadings)."""
    components = np.asarray(estimator.components_)
    lr = signal.learning_results
    lr.factors = components.T.copy()
    lr.loadings = np.asarray(loadings, dtype=np.float64)
    lr.decomposition_algorithm = algorithm_name(estimator)
    lr.output_dimension = components.shape[0]
    lr.explained_variance = None
    lr.explained_variance_ratio = None
    lr.number_significant_components = components.shape[0]
    lr.poissonian_noise_normalized = False
    lr.centre = None
    lr.mean = None
    lr.unfolded = False
    lr.navigation_mask = (None if navigation_mask is None else
                          navigation_mask.reshape(navigation_shape_in_array(signal)))
    lr.signal_mask = None
    lr.unmixing_matrix = None
    lr.bss_algorithm = None
    lr.bss_factors = None
    lr.bss_loadings = None


def run_decomposition(signal, parent, args, kwargs):
    """Run ``parent`` (HyperSpy's decomposition) with an hspy_unmix estimator.

    ``args``/``kwargs`` are the user's arguments to ``decomposition``. HyperSpy's
    own algorithm names go straight to ``parent``.
    """
    sig = inspect.signature(parent)
    bound = sig.bind_partial(*args, **kwargs)
    arguments = dict(bound.arguments)
    extra = dict(arguments.pop("kwargs", {}))
    algorithm = arguments.get("algorithm", "SVD")
    key = normalise_name(algorithm)
    from ..unmixing._base import UnmixingEstimator

    if key is None and not isinstance(algorithm, UnmixingEstimator):
        return parent(*args, **kwargs)

    check_spectral_signal(signal, "decomposition")
    output_dimension = arguments.get("output_dimension")
    show_progressbar = extra.pop("show_progressbar", None)
    from ..io.chunks import check_chunk_fraction

    sample_chunks = check_chunk_fraction(extra.pop("sample_chunks", None))
    if key is not None:
        cls = estimator_class(key)
        params = set(cls().get_params(deep=False))
        unknown = sorted(set(extra) - params)
        if unknown:
            raise TypeError(
                f"decomposition(algorithm={key!r}) got unknown parameter(s) "
                f"{unknown}; {key} accepts {sorted(params - {'n_components'})}."
            )
        if "show_progressbar" in params:
            extra["show_progressbar"] = show_progressbar
        estimator = cls(n_components=output_dimension, **extra)
    else:
        if extra:
            raise TypeError(
                f"parameters {sorted(extra)} cannot be combined with an estimator "
                "object: set them on the estimator instead."
            )
        estimator = algorithm
        key = algorithm_name(estimator)
        if output_dimension is None:
            output_dimension = estimator.n_components
        elif estimator.n_components != output_dimension:
            estimator.set_params(n_components=output_dimension)
    spatial = getattr(estimator, "_spatial", False)
    if spatial:
        if arguments.get("navigation_mask") is not None:
            raise ValueError(f"{key} works on image patches: navigation_mask is not supported.")
        if signal._lazy:
            # a bounded random sample of pixels has no image layout left
            raise ValueError(
                f"{key} learns from image patches and cannot train on a lazy signal's "
                "pixel sample. Train it on an in-memory signal (s.compute(), or a "
                "cropped region with s.inav[...]) and use apply_unmixing on the rest."
            )
        estimator.set_params(image_shape=tuple(signal.data.shape[:-1]))

    if signal._lazy and _two_pass(arguments):
        snapshot = _snapshot(signal)
        try:
            lazy_decomposition(signal, estimator, show_progressbar=show_progressbar,
                               get=arguments.get("get"), sample_chunks=sample_chunks)
        except BaseException:
            _restore(signal, snapshot)
            raise
        if arguments.get("print_info", True):
            print(f"Decomposition info:\n  algorithm={key}\n  output_dimension="
                  f"{signal.learning_results.output_dimension}\n  lazy, 2 passes: fitted on "
                  f"{estimator.n_samples_fitted_} of {estimator.n_samples_seen_} spectra")
        return _finish(signal, estimator, key, kwargs)
    if signal._lazy and sample_chunks is not None:
        raise ValueError(
            "sample_chunks applies to the two-pass lazy decomposition only; "
            "normalize_poissonian_noise, navigation_mask, signal_mask, centre and "
            "reproject stream every chunk through HyperSpy's loop instead."
        )
    arguments["algorithm"] = _StreamToFit(estimator) if signal._lazy else estimator
    arguments["output_dimension"] = output_dimension
    arguments["return_info"] = True
    if signal._lazy and arguments.get("get") is None:
        # HyperSpy's learn loop always uses the threaded scheduler unless
        # given ``get``: follow the active one (processes, distributed Client).
        from ..io.chunks import scheduler_get

        arguments["get"] = scheduler_get()
    bad = None if signal._lazy else non_finite_rows(flat_spectra(signal))
    n_bad = 0 if bad is None else int(bad.sum())
    refuse_all(n_bad, 0 if bad is None else bad.size, "decomposition")
    if n_bad and not spatial:
        # left out as HyperSpy leaves out masked pixels: NaN loadings, marked
        # in learning_results.navigation_mask
        from .._compat import flat_navigation_mask, navigation_mask_signal

        user_mask = arguments.get("navigation_mask")
        mask = bad if user_mask is None else bad | flat_navigation_mask(user_mask)
        arguments["navigation_mask"] = navigation_mask_signal(mask, signal)
    snapshot = _snapshot(signal)
    original_data = signal.data
    try:
        if n_bad and spatial:
            # image patches need every pixel: each bad spectrum is replaced
            # by its nearest finite one for the fit (the user's array is put back)
            from .._non_finite import nearest_finite_filled

            signal.data = nearest_finite_filled(
                original_data, bad.reshape(navigation_shape_in_array(signal)))
        elif not np.issubdtype(original_data.dtype, np.floating):
            # Camera data (uint16/uint32): HyperSpy refuses integer arrays; the
            # estimators work in float64 anyway. The user's array is put back.
            signal.data = original_data.astype(np.float64)
        from .._compat import quiet_lazy_progressbars
        from .._progress import resolve_show_progressbar

        with quiet_lazy_progressbars(resolve_show_progressbar(show_progressbar)):
            parent(**arguments)
        if signal._lazy:
            n_bad = arguments["algorithm"].n_left_out
            refuse_all(n_bad, signal.axes_manager.navigation_size or 1, "decomposition")
            _check_all_pixels_learned(signal, estimator, arguments.get("navigation_mask"),
                                      n_left_out=n_bad)
    except BaseException:
        _restore(signal, snapshot)
        raise
    finally:
        signal.data = original_data
    lr = signal.learning_results
    if lr.__dict__.get("_object") in (estimator, arguments["algorithm"]):
        # HyperSpy's lazy decomposition keeps the estimator object in
        # learning_results, which no file format can store (RosettaSciIO logs
        # an error on every save); it stays reachable as ``unmixing_estimator``.
        del lr.__dict__["_object"]
    if lr.number_significant_components is None and lr.factors is not None:
        # every extracted endmember is significant; HyperSpy's cluster_analysis
        # on "decomposition" reads this number
        lr.number_significant_components = np.asarray(lr.factors).shape[1]
    for attr in (FACTORS, LOADINGS):
        value = getattr(lr, attr)
        if value is not None and not isinstance(value, np.ndarray):
            setattr(lr, attr, np.asarray(value))
    if n_bad and (spatial or signal._lazy):
        if spatial:
            lr.loadings[bad] = np.nan
        lr.navigation_mask = np.isnan(lr.loadings).any(axis=1)
    if lr.navigation_mask is not None:
        # HyperSpy stores it in the shape of the unfolded signal (flat)
        lr.navigation_mask = np.asarray(lr.navigation_mask).reshape(
            navigation_shape_in_array(signal))
    warn_left_out(n_bad, signal.axes_manager.navigation_size or 1, "decomposition")
    return _finish(signal, estimator, key, kwargs)


def _finish(signal, estimator, key, kwargs):
    signal.learning_results.decomposition_algorithm = key
    setattr(signal, ESTIMATOR_ATTRIBUTE, estimator)
    from ..unmixing._uncertainty import store_uncertainty

    store_uncertainty(signal, estimator)
    if kwargs.get("return_info", False):
        return estimator
    return None


def apply_unmixing(self, estimator, show_progressbar=None, print_info=True):
    """Unmix this spectrum image with an already fitted estimator.

    The estimator's endmembers are kept; only the abundances of the pixels of
    this signal are solved (no training). Typical use: train a DAEU or VCA on
    the first spectrum image of a session and apply it to the next ones.

    Parameters
    ----------
    estimator
        A fitted hspy_unmix estimator (or any fitted object with
        ``components_`` and ``transform``), e.g. from
        ``s1.unmixing_estimator`` or :func:`hspy_unmix.load_estimator`.
    show_progressbar
        Show a progress bar over chunks (lazy signals). ``None`` follows
        HyperSpy's preference.
    print_info
        Print a short summary.

    Returns
    -------
    None
        The results are stored in ``self.learning_results`` as by
        ``decomposition``: ``factors`` (channels x K) are the endmembers,
        ``loadings`` (pixels x K) the abundances; NaN for the spectra that
        hold NaN or inf values, which ``navigation_mask`` marks (a warning
        gives their number; only a signal with no finite spectrum raises).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s1, _ = chequerboard_si(n_components=3, random_state=0)
    >>> s2, _ = chequerboard_si(n_components=3, random_state=1)
    >>> s1.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    >>> s2.apply_unmixing(s1.unmixing_estimator, print_info=False)
    >>> s2.learning_results.loadings.shape
    (4096, 3)
    """
    from .._progress import resolve_show_progressbar

    check_spectral_signal(self, "apply_unmixing")
    if not hasattr(estimator, "components_") or not hasattr(estimator, "transform"):
        raise TypeError(
            "apply_unmixing needs a fitted estimator with components_ and transform; "
            f"got {type(estimator).__name__}."
        )
    components = np.asarray(estimator.components_)
    n_channels = self.axes_manager.signal_size
    if components.shape[1] != n_channels:
        raise ValueError(
            f"the estimator was fitted on spectra of {components.shape[1]} channels; "
            f"this signal has {n_channels}. Crop or interpolate the energy axis first."
        )
    key = algorithm_name(estimator)
    spatial = getattr(estimator, "_spatial", False)
    if spatial and getattr(estimator, "image_shape", None) != tuple(self.data.shape[:-1]):
        estimator = copy.copy(estimator)
        estimator.image_shape = tuple(self.data.shape[:-1])
    n_pixels = self.axes_manager.navigation_size or 1
    loadings = np.empty((n_pixels, components.shape[0]))
    if self._lazy and not spatial:
        # Chunk by chunk on the active dask scheduler; Keras models stay here.
        from ..io.chunks import lazy_transform

        parallel = getattr(estimator, "_parallel_transform", True)
        lazy_transform(
            estimator, self.data, components.shape[0],
            show_progressbar=resolve_show_progressbar(show_progressbar), parallel=parallel,
            out=loadings,
        )
    else:
        _transform_in_memory(self, estimator, spatial, loadings, n_channels, show_progressbar)
    mask = left_out(loadings, "apply_unmixing")
    snapshot = _snapshot(self)
    try:
        _store_results(self, estimator, loadings, mask)
        self.learning_results.decomposition_algorithm = key
    except BaseException:
        _restore(self, snapshot)
        raise
    setattr(self, ESTIMATOR_ATTRIBUTE, estimator)
    if print_info:
        print(f"Unmixed {n_pixels} spectra with a fitted {key} ({components.shape[0]} components).")


def _transform_in_memory(signal, estimator, spatial, loadings, n_channels, show_progressbar):
    from .._non_finite import FiniteRowsTransform, nearest_finite_filled
    from .._progress import progress_bar

    n_pixels = loadings.shape[0]
    with progress_bar(n_pixels, "Unmixing", show_progressbar) as bar:
        if spatial:
            data = np.asarray(signal.data)
            bad = non_finite_rows(data.reshape((-1, n_channels)))
            refuse_all(int(bad.sum()), bad.size, "apply_unmixing")
            if bad.any():
                # patches need every pixel: nearest finite spectrum, NaN result
                data = nearest_finite_filled(data, bad.reshape(data.shape[:-1]))
            loadings[:] = estimator.transform(data.reshape((-1, n_channels)))
            loadings[bad] = np.nan
            bar.update(n_pixels)
        else:
            transform = FiniteRowsTransform(estimator.transform, loadings.shape[1])
            loadings[:] = transform(flat_spectra(signal))
            bar.update(n_pixels)
