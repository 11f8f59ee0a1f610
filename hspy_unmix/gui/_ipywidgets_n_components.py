"""ipywidgets number-of-components form: how far to look, and the suggestion.

:func:`n_components_ipy` builds the form over
:class:`~hspy_unmix.gui._models.NComponentsForm`; after a run,
:func:`_n_components_render` shows the suggested K and the estimate's plot.
"""

from __future__ import annotations

import ipywidgets

from .._docstrings import fill_doc
from . import _models
from ._ipywidgets_common import _STYLE, _FormWidgets, _link, _results


def _n_components_render(form):
    result = form.result
    suggested = getattr(result, "n_components", None)
    rows = [("Suggested number of components", suggested)]
    for name in ("method", "max_components"):
        if hasattr(result, name):
            rows.append((name, getattr(result, name)))
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.5))
    result.plot(fig=figure)
    return _results("Number of components", ("Quantity", "Value"), rows, figure)


@fill_doc
def n_components_ipy(obj, display=True, **kwargs):
    """ipywidgets number-of-components helper (see :meth:`estimate_n_components_gui`).

    %(examples_chequerboard)s
    >>> from hspy_unmix.gui.ipywidgets_ui import n_components_ipy
    >>> n_components_ipy(s, display=False)["wdict"]["max_components"].value
    10
    """
    form = _models.NComponentsForm(signal=obj, **kwargs)
    max_components = _link(
        form, "max_components",
        ipywidgets.BoundedIntText(min=1, max=1000, description="Up to", style=_STYLE),
    )
    widgets = _FormWidgets(form, {"max_components": max_components},
                           "Number of components")
    widgets.render = _n_components_render
    return widgets.finish(display)
