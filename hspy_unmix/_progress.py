"""Progress bars that follow HyperSpy's ``show_progressbar`` preference."""

from __future__ import annotations

from contextlib import contextmanager


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
def progress_bar(total: int | None, desc: str, show_progressbar: bool | None = None):
    """Yield a tqdm bar (or a no-op stand-in when progress bars are off)."""
    if resolve_show_progressbar(show_progressbar):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, leave=False)
        try:
            yield bar
        finally:
            bar.close()
    else:
        yield _NoBar()


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass
