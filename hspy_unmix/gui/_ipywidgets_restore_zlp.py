"""ipywidgets zero-loss restoration form: method, iterations, live preview.

:func:`restore_zlp_ipy` builds the form over
:class:`~hspy_unmix.gui._models.RestoreZLPForm`; after a run,
:func:`_restore_zlp_render` draws the current pixel before and after.
"""

from __future__ import annotations

import ipywidgets
import numpy as np

from .._docstrings import fill_doc
from . import _models
from ._ipywidgets_common import _STYLE, _FormWidgets, _link, _results, _store_as_widget
from ._form import axis_units
from ._previews import _energy_label, pixel_spectrum
from ._restoration_preview import RestorationPreview


def _restore_zlp_render(form):
    """Table, and the current pixel before and after: whole range, and the
    zero-loss region on a log scale."""
    from matplotlib.figure import Figure

    before, after = form.signal, form.result
    axis = before.axes_manager.signal_axes[0]
    units = axis_units(axis)
    # the result at the pixel shown for the input (the result's own
    # navigator starts at the first pixel)
    raw, indices = pixel_spectrum(before)
    restored = pixel_spectrum(after, indices)[0]
    after_axis = np.asarray(after.axes_manager.signal_axes[0].axis, dtype=float)
    fig = Figure(figsize=(9, 3), layout="constrained")
    whole, zoom = fig.subplots(1, 2)
    for ax in (whole, zoom):
        ax.plot(axis.axis, raw, label="before", lw=1)
        ax.plot(after_axis, restored, label="after", lw=1)
        ax.set_xlabel(_energy_label(axis))
    whole.set_ylabel("Counts")
    whole.set_title(f"restore_zlp ({form.method}), pixel {indices}",
                    fontsize="medium")
    whole.legend(fontsize="small")
    peak = float(axis.axis[int(np.nanargmax(raw))])
    if units == "eV":
        zoom.set_xlim(max(axis.axis.min(), peak - 1.5), min(axis.axis.max(), peak + 4.5))
    top = float(np.nanmax([np.nanmax(raw), np.nanmax(restored)]))
    if np.isfinite(top) and top > 0:
        zoom.set_yscale("log")
        zoom.set_ylim(top * 1e-4, top * 2)
    zoom.set_ylabel("Counts (log)")
    zoom.set_title("Zero-loss region", fontsize="medium")
    return _results(
        "Restored signal", ("Method", "Iterations", "Shape"),
        [(form.method, form.iterations if form.method == "richardson_lucy" else "n/a (U-net)",
          after.data.shape)],
        fig,
    )


@fill_doc
def restore_zlp_ipy(obj, display=True, **kwargs):
    """ipywidgets zero-loss restoration form (see :meth:`restore_zlp_gui`).

    %(examples_chequerboard)s
    >>> from hspy_unmix.gui.ipywidgets_ui import restore_zlp_ipy
    >>> restore_zlp_ipy(s, display=False)["wdict"]["method"].options
    ('unet', 'richardson_lucy')
    """
    form = _models.RestoreZLPForm(signal=obj, **kwargs)
    method = _link(
        form, "method",
        ipywidgets.ToggleButtons(options=("unet", "richardson_lucy"), description="Method",
                                 style=_STYLE),
    )
    iterations = _link(
        form, "iterations",
        ipywidgets.BoundedIntText(min=1, max=100_000, description="Iterations (RL)",
                                  style=_STYLE),
    )

    def iterations_enabled(event=None):
        iterations.disabled = form.method != "richardson_lucy"

    iterations_enabled()
    form.observe(iterations_enabled, "method")
    preview = RestorationPreview(form)
    widgets = _FormWidgets(
        form, {"method": method, "iterations": iterations,
               "store_as": _store_as_widget(form), "preview": preview.widget},
        "Zero-loss restoration",
    )
    widgets.previews.append(preview)
    widgets.wdict["preview"] = preview
    widgets.render = _restore_zlp_render
    return widgets.finish(display)
