"""Model of the number-of-components form: :func:`estimate_n_components`."""

from __future__ import annotations

from traits.api import Int

from ._form import Form, _accepts
from ._k_suggestion import _remember_suggestion


class NComponentsForm(Form):
    """Model of the number-of-components helper.

    Runs :func:`hspy_unmix.estimate_n_components` on the signal.

    Examples
    --------
    >>> from hspy_unmix.gui._models import NComponentsForm
    >>> NComponentsForm().max_components
    10
    """

    max_components = Int(10)
    #: Seed of the estimate (ARD-SO-NMF): the same run gives the same answer.
    random_state = Int(0)

    def _describe(self):
        return f"estimate_n_components (up to {self.max_components})"

    def _summarize(self):
        suggested = getattr(self.result, "n_components", None)
        if suggested is not None and self.signal is not None:
            _remember_suggestion(self.signal, suggested)
        return f"suggested number of components: {suggested if suggested is not None else '?'}"

    def _make_work(self):
        if self.max_components < 1:
            raise ValueError("max_components must be at least 1.")
        from ..unmixing.n_components import estimate_n_components

        signal, max_components = self.signal, int(self.max_components)
        kwargs = {}
        for name, value in (("show_progressbar", True),
                            ("random_state", int(self.random_state))):
            if _accepts(estimate_n_components, name):
                kwargs[name] = value
        return lambda: estimate_n_components(signal, max_components=max_components, **kwargs)
