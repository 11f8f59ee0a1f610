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

    def _make_work(self):
        if self.iterations < 1:
            raise ValueError("iterations must be at least 1.")
        signal, method = self.signal, self.method
        kwargs = {"method": method}
        function = type(signal).restore_zlp
        for name, value in (("iterations", int(self.iterations)), ("show_progressbar", True)):
            if _accepts(function, name):
                kwargs[name] = value
        return lambda: signal.restore_zlp(**kwargs)
