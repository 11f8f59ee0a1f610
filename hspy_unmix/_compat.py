"""Every private or version-dependent use of HyperSpy and exspy, in one place.

HyperSpy is moving (``decomposition`` towards a separate hyperspy-ml package,
``factors``/``loadings`` towards ``components``/``scores``): code elsewhere
calls these helpers, so that a change upstream is answered here only.
"""

from __future__ import annotations

import warnings

import numpy as np


def eels_classes():
    """exspy's ``EELSSpectrum`` and ``LazyEELSSpectrum``."""
    # exspy 0.3 imports HyperSpy's lazy classes from deprecated locations and
    # warns about it on import; that is exspy's internal business, not the
    # user's, so keep it quiet here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Importing `Lazy", category=Warning)
        from exspy.signals import EELSSpectrum, LazyEELSSpectrum

    return EELSSpectrum, LazyEELSSpectrum


def lazy_base_signal_class():
    """HyperSpy's generic lazy signal class (no public name in HyperSpy 2.x)."""
    from hyperspy._signals.lazy import LazySignal

    return LazySignal


def copy_with_new_data(signal, data):
    """A deep copy of ``signal`` (axes, metadata) holding ``data`` instead of its own:
    lazy when ``data`` is a dask array, in memory otherwise."""
    import dask.array as da

    out = signal._deepcopy_with_new_data(data)
    if out._lazy and not isinstance(data, da.Array):
        out._lazy = False
        out._assign_subclass()
    return out


def lazy_metadata_signals(signal) -> list[str]:
    """Paths (``"Signal.restore_zlp.flags"``) of the lazy signals held in ``signal.metadata``.

    RosettaSciIO 0.15 writes such a signal after the data with a progress bar
    of its own, whatever ``show_progressbar`` the save was given (its writer
    does not pass the setting down to signals in metadata).
    """
    from hyperspy.misc.utils import DictionaryTreeBrowser

    found = []

    def walk(node, prefix):
        for key, value in node:
            if isinstance(value, DictionaryTreeBrowser):
                walk(value, f"{prefix}{key}.")
            elif getattr(value, "_lazy", False):
                found.append(f"{prefix}{key}")

    walk(signal.metadata, "")
    return found


def navigation_axis_dicts(signal) -> list[dict]:
    """Axis dictionaries of the navigation axes, in array (numpy) order."""
    return [ax.get_axis_dictionary() for ax in signal.axes_manager._axes if ax.navigate]


def flat_spectra(signal) -> np.ndarray:
    """The spectra of an in-memory signal as (n_pixels, n_channels), navigation
    in HyperSpy's pixel order (that of ``learning_results.loadings``)."""
    n_channels = signal.axes_manager.signal_size
    return np.asarray(signal._data_aligned_with_axes).reshape((-1, n_channels))


#: Names of the decomposition results in ``learning_results`` (HyperSpy 2.x);
#: upstream plans ``components``/``scores``.
FACTORS, LOADINGS = "factors", "loadings"


def quiet_lazy_progressbars(show: bool):
    """Context manager: HyperSpy's lazy decomposition bars ("Learn", "Project")
    drawn only when ``show`` is true (HyperSpy 2.5 draws them whatever its
    ``show_progressbar`` preference says)."""
    import contextlib

    if show:
        return contextlib.nullcontext()
    import hyperspy._signals.lazy as lazy_module

    original = lazy_module.progressbar

    @contextlib.contextmanager
    def patched():
        def quiet(*args, **kwargs):
            kwargs["disable"] = True
            return original(*args, **kwargs)

        lazy_module.progressbar = quiet
        try:
            yield
        finally:
            lazy_module.progressbar = original

    return patched()


def navigation_shape_in_array(signal) -> tuple:
    """The navigation shape in array order (that of ``learning_results.navigation_mask``)."""
    return tuple(signal.axes_manager._navigation_shape_in_array)


def navigation_mask_signal(flat_mask, signal):
    """``flat_mask`` (True = left out, pixels in the order of the loadings) as a
    ``navigation_mask`` for HyperSpy's ``decomposition``."""
    from hyperspy.signals import BaseSignal

    shape = navigation_shape_in_array(signal)
    return BaseSignal(np.asarray(flat_mask, dtype=bool).reshape(shape)).T


def flat_navigation_mask(mask) -> np.ndarray:
    """A user's ``navigation_mask`` as HyperSpy's ``decomposition`` reads it, as a
    flat boolean array in the order of the loadings: a signal's data as they
    are, an array (numpy or dask) transposed first (HyperSpy takes arrays in
    its display order)."""
    if hasattr(mask, "axes_manager"):
        values = np.asarray(mask.data)
    else:
        values = np.asarray(mask).T
    return values.astype(bool).ravel()
