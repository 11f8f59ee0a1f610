"""Progress bars that follow HyperSpy's ``show_progressbar`` preference.

A thread may also register a listener (:func:`progress_listener`): the GUI
forms use it to show the progress of a run in the form instead of a console
bar.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_LOCAL = threading.local()


def resolve_show_progressbar(show_progressbar: bool | None) -> bool:
    """``None`` means HyperSpy's preference ``General.show_progressbar``."""
    if show_progressbar is not None:
        return bool(show_progressbar)
    try:
        from hyperspy.defaults_parser import preferences

        return bool(preferences.General.show_progressbar)
    except Exception:  # pragma: no cover - HyperSpy always present in practice
        return True


@contextmanager
def progress_listener(callback):
    """Send the progress of bars opened in this thread to ``callback``.

    ``callback(desc, n, total)`` is called when a bar opens and each time it
    advances; no console bar is drawn meanwhile.
    """
    previous = getattr(_LOCAL, "callback", None)
    _LOCAL.callback = callback
    try:
        yield
    finally:
        _LOCAL.callback = previous


@contextmanager
def progress_bar(total: int | None, desc: str, show_progressbar: bool | None = None):
    """Yield a tqdm bar (or a no-op stand-in when progress bars are off)."""
    callback = getattr(_LOCAL, "callback", None)
    if callback is not None:
        yield _ListenerBar(total, desc, callback)
    elif resolve_show_progressbar(show_progressbar):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, leave=False)
        try:
            yield bar
        finally:
            bar.close()
    else:
        yield NoBar()


class NoBar:
    """A bar that counts and shows nothing."""

    n = 0

    def update(self, n=1):
        self.n += n

    def set_postfix(self, *args, **kwargs):
        pass


class _ListenerBar(NoBar):
    def __init__(self, total, desc, callback):
        self.total, self.desc, self.callback = total, desc, callback
        callback(desc, 0, total)

    def update(self, n=1):
        super().update(n)
        self.callback(self.desc, self.n, self.total)
