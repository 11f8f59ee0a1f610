"""ipywidgets front end of the hspy_unmix forms (Jupyter, Voila).

Every function here has HyperSpy's GUI registry signature
``f(obj, display=True, **kwargs)``: ``obj`` is the signal. With
``display=False`` it returns ``{"widget": container, "wdict": controls,
"form": model}`` like ``hyperspy_gui_ipywidgets`` does.

The unmixing and zero-loss restoration forms have a live preview
(:mod:`hspy_unmix.gui._previews`), drawn when the form is displayed; with
``display=False`` call ``wdict["preview"].start()`` once the container is
shown.

This is the module ``hyperspy_extension.yaml`` names; it gathers the forms,
each built in its own module (``_ipywidgets_unmixing``,
``_ipywidgets_restore_zlp``, ``_ipywidgets_pan_sharpen``,
``_ipywidgets_n_components``) over the widgets they share
(``_ipywidgets_common``).
"""

from __future__ import annotations

# re-exported: the registry's entry points, and the helpers that tests and
# scripts import from here
from ._ipywidgets_common import (  # noqa: F401
    CSS_DPI,
    PIXEL_RATIO,
    figure_png,
    png_css_width,
)
from ._ipywidgets_n_components import _n_components_render, n_components_ipy  # noqa: F401
from ._ipywidgets_pan_sharpen import _pan_sharpen_render, pan_sharpen_ipy  # noqa: F401
from ._ipywidgets_restore_zlp import _restore_zlp_render, restore_zlp_ipy  # noqa: F401
from ._ipywidgets_unmixing import (  # noqa: F401
    _unmixing_render,
    largest_feature,
    unmixing_figure,
    unmixing_ipy,
)
