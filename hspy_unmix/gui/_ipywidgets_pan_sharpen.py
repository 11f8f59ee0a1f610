"""ipywidgets pan-sharpening form: the other signal, K and the algorithm.

:func:`pan_sharpen_ipy` builds the form over
:class:`~hspy_unmix.gui._models.PanSharpenForm`; after a run,
:func:`_pan_sharpen_render` draws the current pixel and the mean spectrum.
"""

from __future__ import annotations

import ipywidgets
import numpy as np

from . import _models
from ._ipywidgets_common import _STYLE, _FormWidgets, _link, _results, _store_as_widget
from ._previews import pixel_spectrum


def _pan_sharpen_render(form):
    """Table, and the spectrum at the current pixel before and after, with the mean."""
    from matplotlib.figure import Figure

    result, signal = form.result, form.signal
    axis = result.axes_manager.signal_axes[0]
    units = axis.units if isinstance(axis.units, str) else ""
    fig = Figure(figsize=(9, 3), layout="constrained")
    pixel_ax, mean_ax = fig.subplots(1, 2)
    raw, indices = pixel_spectrum(signal)
    raw_axis = signal.axes_manager.signal_axes[0]
    pixel_ax.plot(raw_axis.axis, raw, lw=0.8, color="0.6", label="raw (this SI)")
    pixel_ax.plot(axis.axis, pixel_spectrum(result, indices)[0], lw=1.2, color="C1",
                  label="pan-sharpened")
    pixel_ax.set_title(f"Pixel {indices}")
    pixel_ax.legend(fontsize="small")
    mean = np.asarray(result.data, dtype=float).reshape(-1, axis.size).mean(axis=0)
    mean_ax.plot(axis.axis, mean, lw=1, color="C1")
    mean_ax.set_title("Pan-sharpened: mean spectrum")
    for ax in (pixel_ax, mean_ax):
        ax.set_xlabel(f"Energy loss ({units})" if units else "Energy loss")
        ax.set_ylabel("Counts")
    return _results(
        "Pan-sharpened signal", ("Other", "Algorithm", "Shape"),
        [(form.other_labels.get(form.other, form.other), form.algorithm, result.data.shape)],
        fig,
    )


def _other_options(form):
    """``(label, name)`` pairs of the "other" list: what is shown, what is kept."""
    if not form.other_candidates:
        return [("no candidate: pass other_candidates=[...]", "")]
    return [(form.other_labels.get(name, name), name) for name in form.other_names]


def pan_sharpen_ipy(obj, display=True, other_candidates=None, **kwargs):
    """ipywidgets pan-sharpening form (see :meth:`pan_sharpen_gui`).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui.ipywidgets_ui import pan_sharpen_ipy
    >>> s, _ = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)
    >>> reference = s.inav[::2, ::2]
    >>> w = pan_sharpen_ipy(s, display=False, other_candidates={"reference": reference})
    >>> w["wdict"]["other"].value
    'reference'
    >>> print(w["wdict"]["other"].label)
    reference: Synthetic chequerboard SI (3 components) (16x16 px, 200 ch, 250-913.3 eV)
    """
    form = _models.PanSharpenForm(signal=obj, other_candidates=other_candidates, **kwargs)
    other = ipywidgets.Dropdown(
        options=_other_options(form), description="Other (high fidelity)", style=_STYLE,
        layout=ipywidgets.Layout(width="auto", max_width="760px"),
        tooltip="The high spectral fidelity spectrum image, or an ADF/HAADF image, "
                "among your variables (the signal being sharpened is not offered)",
    )
    _link(form, "other", other)
    form.observe(lambda event: setattr(other, "options", _other_options(form)),
                 "other_names")
    n_components = _link(
        form, "n_components",
        ipywidgets.BoundedIntText(min=0, max=10_000, description="Components (0: auto)",
                                  style=_STYLE),
    )
    algorithm = _link(
        form, "algorithm",
        ipywidgets.Dropdown(options=form.algorithms, description="Algorithm", style=_STYLE),
    )
    widgets = _FormWidgets(
        form, {"other": other, "n_components": n_components, "algorithm": algorithm,
               "store_as": _store_as_widget(form)},
        "Pan-sharpening",
    )
    widgets.render = _pan_sharpen_render
    return widgets.finish(display)
