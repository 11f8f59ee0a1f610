"""What every file command shares: opening and checking inputs and outputs, the dask
scheduler and the progress-bar preference for one command."""

from __future__ import annotations

import os

def _open(path, lazy, chunk_mb, signal_type=None):
    """Load a spectrum image: lazily with navigation chunks, or in memory.

    A signal that is not EELS (cathodoluminescence, EDS, an untyped
    ``Signal1D``) is refused unless ``signal_type="EELS"`` says to treat it
    as EELS.
    """
    from .._validation import check_spectral_signal
    from ..io.lazy import _pick_spectral, load_lazy

    if lazy:
        s = load_lazy(path, target_mb=chunk_mb)
    else:
        import hyperspy.api as hs

        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file")
        try:
            s = _pick_spectral(hs.load(path), path)
        except Exception as exc:
            if isinstance(exc, (ValueError, TypeError)):
                raise
            raise ValueError(f"could not read {path}: the file looks truncated or corrupt "
                             f"({type(exc).__name__}: {exc})") from exc
    check_spectral_signal(s, "this command")
    found = s.metadata.get_item("Signal.signal_type", "") or ""
    if found != "EELS":
        if signal_type != "EELS":
            axis = s.axes_manager.signal_axes[0]
            raise ValueError(
                f"{path} holds a {found or 'untyped'} signal (signal_type "
                f"{found!r}, energy axis in {axis.units or 'no units'}), not EELS; "
                "pass --signal-type EELS to treat it as EELS anyway.")
        s.set_signal_type("EELS")
    return s


#: Formats the commands write (HyperSpy's own, which keep learning_results).
OUTPUT_SUFFIXES = (".hspy", ".zspy")


def _check_algorithm(name):
    """``ValueError`` for a name neither the package nor HyperSpy knows."""
    from .._registry import HYPERSPY_ALGORITHMS, available_algorithms, normalise_name

    if normalise_name(name) is None and str(name).upper() not in HYPERSPY_ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {name!r}; choose one of "
            f"{', '.join(available_algorithms())} or HyperSpy's "
            f"{', '.join(HYPERSPY_ALGORITHMS)}")


def _check_positive(**values):
    for name, value in values.items():
        if value is not None and not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {value}")


def _check_out(out, overwrite):
    """Refuse an output HyperSpy would not write (or would overwrite) before any work."""
    suffix = os.path.splitext(str(out))[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"--out {out}: the output must be a {' or '.join(OUTPUT_SUFFIXES)} "
                         "file (HyperSpy's formats, which keep learning_results)")
    if os.path.exists(out) and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it.")


class _progress:
    """Set HyperSpy's ``show_progressbar`` preference for one command."""

    def __init__(self, show):
        self.show = show

    def __enter__(self):
        from hyperspy.defaults_parser import preferences

        self._old = preferences.General.show_progressbar
        if self.show is not None:
            preferences.General.show_progressbar = bool(self.show)
        return self

    def __exit__(self, *exc):
        from hyperspy.defaults_parser import preferences

        preferences.General.show_progressbar = self._old
        return False


class _scheduler:
    """Context manager choosing the dask scheduler: threads, processes,
    synchronous or the address of a dask.distributed scheduler."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self._ctx = None
        self._client = None

    def __enter__(self):
        import dask

        if self.scheduler in (None, "threads", "processes", "synchronous"):
            self._ctx = dask.config.set(scheduler=self.scheduler or "threads")
        else:
            try:
                from distributed import Client
            except ImportError as exc:  # pragma: no cover
                raise ImportError("--scheduler ADDRESS needs the 'distributed' package "
                                  "(pip install distributed)") from exc

            self._client = Client(self.scheduler)
            self._ctx = dask.config.set(scheduler=self._client.get)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        if self._client is not None:
            self._client.close()
        return False
