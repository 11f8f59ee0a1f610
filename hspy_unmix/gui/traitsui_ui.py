"""traitsui front end of the hspy_unmix forms (desktop Qt windows).

Every function here has HyperSpy's GUI registry signature
``f(obj, display=True, **kwargs)``: ``obj`` is the signal. With
``display=False`` it returns the form model (a ``HasTraits`` object; its
``edit_traits()`` opens the window), like ``hyperspy_gui_traitsui`` does.
When traitsui, a GUI backend or a display is missing, ``display=True``
raises ``NotImplementedError`` before importing traitsui (whose import
starts Qt, which aborts the process without a display); HyperSpy's
registry reads it as "this toolkit is not available here" and skips.

traitsui is imported only inside the functions, so that HyperSpy can import
this module (to look the functions up) where traitsui is not installed.
"""

from __future__ import annotations

from .._docstrings import fill_doc
from . import _models


def _check_toolkit():
    """Raise NotImplementedError unless traitsui can open a window here.

    Decided before anything imports traitsui, pyface or Qt (see
    :mod:`hspy_unmix.gui._toolkits`): on a server without a display Qt
    would abort the process instead of raising.
    """
    from ._toolkits import traitsui_unavailable

    reason = traitsui_unavailable(display=True)
    if reason is not None:
        raise NotImplementedError(reason)


def _status_group():
    from traitsui.api import HGroup, Item, VGroup

    return VGroup(
        HGroup(
            Item("run_button", show_label=False, enabled_when="not running"),
            Item("stop_button", show_label=False, enabled_when="running"),
        ),
        Item("progress_text", style="readonly", label="Progress"),
        Item("status", style="readonly", show_label=False),
        Item("summary", style="readonly", label="Result"),
    )


def parameters_view(parameters):
    """traitsui View of an :class:`~hspy_unmix.gui._models.AlgorithmParameters`."""
    from traitsui.api import HGroup, Item, View

    items = []
    for name, spec in parameters.specs.items():
        tip = " ".join(spec.help.replace("``", "").split())[:400]
        if spec.kind.startswith("optional"):
            items.append(HGroup(
                Item(name, tooltip=tip, enabled_when=f"not {name}_auto"),
                Item(f"{name}_auto", label="automatic"),
            ))
        else:
            items.append(Item(name, tooltip=tip))
    return View(*items)


def form_view(form):
    """The traitsui ``View`` of a form model.

    Examples
    --------
    >>> from hspy_unmix.gui._models import RestoreZLPForm
    >>> from hspy_unmix.gui.traitsui_ui import form_view
    >>> form_view(RestoreZLPForm()).title
    'Zero-loss restoration'
    """
    from traitsui.api import EnumEditor, InstanceEditor, Item, VGroup, View
    from traitsui.menu import Action

    if isinstance(form, _models.UnmixingForm):
        controls = VGroup(
            Item("algorithm"),
            Item("n_components", label="Components (K)"),
            Item("n_components_source", style="readonly", show_label=False),
            Item("random_state", label="Random seed"),
            Item("normalize_poissonian_noise", label="Poisson normalisation"),
            Item("energy_start", label="Energy from"),
            Item("energy_end", label="to"),
            Item("navigation_mask"),
            Item("signal_mask"),
            Item("parameters", style="custom", show_label=False, editor=InstanceEditor()),
            label="Algorithm",
            show_border=True,
        )
        title = "Spectral unmixing"
    elif isinstance(form, _models.RestoreZLPForm):
        controls = VGroup(
            Item("method"),
            Item("iterations", label="Iterations (RL)",
                 enabled_when="method == 'richardson_lucy'"),
            Item("store_as", label="Store as"),
        )
        title = "Zero-loss restoration"
    elif isinstance(form, _models.PanSharpenForm):
        controls = VGroup(
            # the list shows name, title, shape and energy range of each
            Item("other", label="Other (high fidelity)",
                 editor=EnumEditor(name="object.other_menu")),
            Item("n_components", label="Components (0: auto)"),
            Item("algorithm"),
            Item("store_as", label="Store as"),
        )
        title = "Pan-sharpening"
    elif isinstance(form, _models.NComponentsForm):
        controls = VGroup(Item("max_components", label="Up to"))
        title = "Number of components"
    else:  # pragma: no cover - every form is listed above
        raise TypeError(f"no traitsui view for {type(form).__name__}")
    # one top-level group: several would become tabs and hide Run/Stop
    return View(
        VGroup(controls, _status_group()), title=title, resizable=True,
        buttons=[Action(name="Close", action="_on_close")],
    )


def _show(form, display):
    if not display:
        return form
    _check_toolkit()
    form.edit_traits(view=form_view(form))
    return None


@fill_doc
def unmixing_traitsui(obj, display=True, **kwargs):
    """traitsui unmixing form for ``obj`` (see :meth:`unmix_gui`).

    %(examples_chequerboard)s
    >>> from hspy_unmix.gui.traitsui_ui import unmixing_traitsui
    >>> unmixing_traitsui(s, display=False, algorithm="VCA").algorithm
    'VCA'
    """
    return _show(_models.UnmixingForm(signal=obj, **kwargs), display)


def restore_zlp_traitsui(obj, display=True, **kwargs):
    """traitsui zero-loss restoration form (see :meth:`restore_zlp_gui`)."""
    return _show(_models.RestoreZLPForm(signal=obj, **kwargs), display)


def pan_sharpen_traitsui(obj, display=True, other_candidates=None, **kwargs):
    """traitsui pan-sharpening form (see :meth:`pan_sharpen_gui`)."""
    form = _models.PanSharpenForm(signal=obj, other_candidates=other_candidates, **kwargs)
    return _show(form, display)


def n_components_traitsui(obj, display=True, **kwargs):
    """traitsui number-of-components form (see :meth:`estimate_n_components_gui`)."""
    return _show(_models.NComponentsForm(signal=obj, **kwargs), display)
