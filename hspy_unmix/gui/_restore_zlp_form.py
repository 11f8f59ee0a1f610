"""Model of the zero-loss restoration form: ``signal.restore_zlp(...)``."""

from __future__ import annotations

from traits.api import Enum, Int, Str

from ._form import Form, _accepts


class RestoreZLPForm(Form):
    """Model of the zero-loss restoration form: ``signal.restore_zlp(...)``.

    Examples
    --------
    >>> from hspy_unmix.gui._models import RestoreZLPForm
    >>> RestoreZLPForm().method
    'unet'
    """

    method = Enum("unet", "richardson_lucy")
    iterations = Int(50)
    store_as = Str("s_restored")

    def _describe(self):
        return f"restore_zlp ({self.method})"

    def restore_kwargs(self, signal=None, show_progressbar=True) -> dict:
        """Keywords of ``restore_zlp`` for the current choices.

        ``signal`` (default: the form's) is the one they are meant for; the
        live preview passes the spectrum at the current pixel.
        """
        if self.iterations < 1:
            raise ValueError("iterations must be at least 1.")
        signal = self.signal if signal is None else signal
        kwargs = {"method": self.method}
        function = type(signal).restore_zlp
        for name, value in (("iterations", int(self.iterations)),
                            ("show_progressbar", show_progressbar)):
            if _accepts(function, name):
                kwargs[name] = value
        return kwargs

    def _make_work(self):
        signal, kwargs = self.signal, self.restore_kwargs()
        return lambda: signal.restore_zlp(**kwargs)
