"""Graphical forms for the hspy_unmix methods (ipywidgets and traitsui).

The forms are opened from a signal, like HyperSpy's own ``gui`` methods::

    s.unmix_gui()                       # decomposition with an hspy_unmix algorithm
    s.restore_zlp_gui()                 # zero-loss restoration with a preview
    s.pan_sharpen_gui(other_candidates=[s_hifi])
    s.estimate_n_components_gui()

``display=False`` returns the widgets instead of showing them and
``toolkit="ipywidgets"`` or ``"traitsui"`` picks the toolkit, both through
HyperSpy's GUI registry (``hyperspy.ui_registry``). The toolkit-independent
form models live in :mod:`hspy_unmix.gui._models`.
"""

from .methods import (
    SIGNAL_METHODS,
    estimate_n_components_gui,
    pan_sharpen_gui,
    restore_zlp_gui,
    unmix_gui,
)

__all__ = [
    "SIGNAL_METHODS",
    "estimate_n_components_gui",
    "pan_sharpen_gui",
    "restore_zlp_gui",
    "unmix_gui",
]
