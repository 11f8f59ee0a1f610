"""Signal methods that open the hspy_unmix forms.

They are added to exspy's ``EELSSpectrum`` (and its lazy twin) on
``import hspy_unmix``, through :data:`SIGNAL_METHODS`. Each goes through
HyperSpy's GUI registry, so ``display`` and ``toolkit`` behave as in
HyperSpy's own ``gui`` methods.
"""

from __future__ import annotations

import sys

from .._docstrings import fill_doc


def _caller_namespace():
    """Globals of the code that called a ``*_gui`` method (a notebook's variables)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        ("hspy_unmix.gui", "hyperspy.")
    ):
        frame = frame.f_back
    return frame.f_globals if frame is not None else None


def _gui(signal, toolkey, display, toolkit, **kwargs):
    from hyperspy.ui_registry import get_gui

    from ._toolkits import usable_toolkits

    # Choose before HyperSpy's registry imports a toolkit: traitsui on a
    # server without a display would abort the process (Qt), so it is left
    # out there and ipywidgets shows the form.
    toolkits = usable_toolkits(toolkit, display)
    return get_gui(
        signal, toolkey=f"hspy_unmix.EELSSpectrum.{toolkey}", display=display,
        toolkit=toolkits, **kwargs,
    )


@fill_doc
def unmix_gui(self, display=True, toolkit=None, **kwargs):
    """Form to unmix the spectrum image with an hspy_unmix algorithm.

    The form offers every name of :func:`hspy_unmix.available_algorithms`
    (VCA first, the default) and HyperSpy's own decomposition algorithms
    (SVD, NMF, MLPCA, ORPCA...), each package algorithm with its own
    parameters (from the estimator's ``get_params()``: dropdowns for
    choices, bounded numbers, help from its docstring), the number of
    components K (the number-of-components form's suggestion once it has
    run on this signal), the random seed, Poisson normalisation, the energy
    range and navigation/signal masks (boolean arrays among the caller's
    variables). Run calls ``decomposition(algorithm=..., output_dimension=K,
    ...)`` in the background, shows the progress and the endmembers and
    abundance maps; Stop interrupts it and leaves ``learning_results`` as
    they were.

    %(gui_parameters)s
    **kwargs
        Initial values: ``algorithm``, ``n_components``, ``random_state``,
        ``normalize_poissonian_noise``, ``energy_start``, ``energy_end``;
        ``masks`` (dict name -> boolean array or signal offered as masks) and
        ``namespace`` (default: the caller's global variables).

    %(gui_returns)s
    >>> w = s.unmix_gui(display=False, toolkit="ipywidgets")["ipywidgets"]
    >>> w["wdict"]["algorithm"].value = "VCA"
    >>> w["wdict"]["run"].click()
    >>> w["form"].wait()
    'done'
    >>> s.learning_results.factors.shape
    (200, 3)
    """
    kwargs.setdefault("namespace", _caller_namespace())
    return _gui(self, "unmix", display, toolkit, **kwargs)


@fill_doc
def restore_zlp_gui(self, display=True, toolkit=None, **kwargs):
    """Form to restore the near-zero-loss region (U-net or Richardson-Lucy).

    Run calls :meth:`restore_zlp` with the chosen method and number of
    iterations and shows the spectrum at the current navigation position
    before and after restoration. The restored signal is stored as a
    variable of the notebook (or script) that opened the form, under the
    name in "Store as" (``s_restored`` by default; empty: not stored), and
    is also ``form.result`` of the form model (``display=False``).

    %(gui_parameters)s
    **kwargs
        Initial values: ``method``, ``iterations``, ``store_as``;
        ``namespace``, the dict the result is stored in (default: the
        caller's global variables).

    %(gui_returns)s
    >>> w = s.restore_zlp_gui(display=False, toolkit="ipywidgets")["ipywidgets"]
    >>> w["form"].method
    'unet'
    """
    kwargs.setdefault("namespace", _caller_namespace())
    return _gui(self, "restore_zlp", display, toolkit, **kwargs)


@fill_doc
def pan_sharpen_gui(self, display=True, toolkit=None, other_candidates=None, **kwargs):
    """Form to pan-sharpen this signal with a high spectral fidelity one.

    %(gui_parameters)s
    other_candidates : dict, list of signals or None
        Signals offered as ``other``: a dict ``{name: signal}`` or a list.
        None offers the spectrum images and ADF/HAADF images among the
        variables of the notebook (or script) that opened the form. The
        list shows each as "name: title (shape, channels, energy range)";
        the signal being sharpened is never offered.
    **kwargs
        Initial values: ``n_components`` (0 lets the method choose),
        ``algorithm``, ``store_as`` (the variable that receives the
        pan-sharpened signal, ``s_pansharpened`` by default; it is also
        ``form.result``); ``namespace`` as in :meth:`restore_zlp_gui`.

    %(gui_returns)s
    >>> hifi, _ = chequerboard_si(n_components=3, random_state=1)
    >>> w = s.pan_sharpen_gui(display=False, toolkit="ipywidgets",
    ...                       other_candidates={"hifi": hifi})["ipywidgets"]
    >>> w["form"].other
    'hifi'
    """
    kwargs.setdefault("namespace", _caller_namespace())
    return _gui(
        self, "pan_sharpen", display, toolkit, other_candidates=other_candidates, **kwargs
    )


@fill_doc
def estimate_n_components_gui(self, display=True, toolkit=None, **kwargs):
    """Form to estimate the number of components of the spectrum image.

    Run calls :func:`hspy_unmix.estimate_n_components` and shows its plot
    and the suggested number of components.

    %(gui_parameters)s
    **kwargs
        Initial values: ``max_components``.

    %(gui_returns)s
    >>> w = s.estimate_n_components_gui(display=False, toolkit="ipywidgets")
    >>> w["ipywidgets"]["form"].max_components
    10
    """
    return _gui(self, "estimate_n_components", display, toolkit, **kwargs)


#: Methods added to exspy's EELS signal classes on ``import hspy_unmix``.
SIGNAL_METHODS = {
    "unmix_gui": unmix_gui,
    "restore_zlp_gui": restore_zlp_gui,
    "pan_sharpen_gui": pan_sharpen_gui,
    "estimate_n_components_gui": estimate_n_components_gui,
}
