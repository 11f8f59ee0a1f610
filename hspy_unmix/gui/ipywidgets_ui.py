"""ipywidgets front end of the hspy_unmix forms (Jupyter, Voila).

Every function here has HyperSpy's GUI registry signature
``f(obj, display=True, **kwargs)``: ``obj`` is the signal. With
``display=False`` it returns ``{"widget": container, "wdict": controls,
"form": model}`` like ``hyperspy_gui_ipywidgets`` does.
"""

from __future__ import annotations

import html
import io

import numpy as np

try:
    import ipywidgets
except ImportError as exc:  # pragma: no cover - exercised without the gui extra
    raise ImportError(
        "the ipywidgets forms of hspy_unmix need ipywidgets: "
        "pip install 'hspy-unmix[gui]'"
    ) from exc

from . import _models

_WIDE = ipywidgets.Layout(width="auto")
_STYLE = {"description_width": "initial"}


# ----------------------------------------------------------- helpers
def _link(form, name, widget):
    """Two-way link between trait ``name`` of ``form`` and ``widget.value``."""
    widget.value = getattr(form, name)

    def to_form(change):
        if getattr(form, name) != change["new"]:
            setattr(form, name, change["new"])

    def to_widget(event):
        if widget.value != event.new:
            widget.value = event.new

    widget.observe(to_form, names="value")
    form.observe(to_widget, name)
    return widget


def figure_png(fig) -> bytes:
    """PNG bytes of a matplotlib ``Figure`` (object API, thread safe)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()


def _html_table(caption, header, rows, css_class):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="{css_class}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


class _FormWidgets:
    """Run/Stop buttons, progress bar, status line and result area of a form."""

    def __init__(self, form, controls: dict, title: str):
        self.form = form
        self.run_button = ipywidgets.Button(
            description="Run", button_style="primary", icon="play", tooltip="Run"
        )
        self.stop_button = ipywidgets.Button(
            description="Stop", button_style="danger", icon="stop", disabled=True,
            tooltip="Interrupt the run; the signal keeps its previous results",
        )
        self.close_button = ipywidgets.Button(
            description="Close", icon="times",
            tooltip="Close the form (a running job is stopped first)",
        )
        self.progress = ipywidgets.FloatProgress(value=0.0, min=0.0, max=1.0)
        self.progress_label = ipywidgets.Label()
        self.status = ipywidgets.HTML(value=html.escape(form.status))
        self.table = ipywidgets.HTML()
        self.image = ipywidgets.Image(format="png")
        self.image.layout.display = "none"
        self.run_button.on_click(self._click_run)
        self.stop_button.on_click(lambda _button: form.stop())
        self.close_button.on_click(self._click_close)
        form.progress_callbacks.append(self._show_progress)
        form.finish_callbacks.append(self._show_finish)
        form.observe(lambda event: setattr(self.status, "value", html.escape(event.new)),
                     "status")
        self.wdict = dict(controls)
        self.wdict.update(
            run=self.run_button, stop=self.stop_button, close=self.close_button,
            progress=self.progress,
            progress_label=self.progress_label, status=self.status,
            table=self.table, image=self.image,
        )
        self.widget = ipywidgets.VBox(
            [
                ipywidgets.HTML(f"<b>{html.escape(title)}</b>"),
                *[w for w in controls.values() if isinstance(w, ipywidgets.Widget)],
                ipywidgets.HBox([self.run_button, self.stop_button, self.close_button]),
                ipywidgets.HBox([self.progress, self.progress_label]),
                self.status,
                self.table,
                self.image,
            ]
        )
        self.widget.add_class("hspy-unmix-form")
        #: Builds ``(table_html, png_bytes)`` from the finished form.
        self.render = None

    def _click_run(self, _button=None):
        # the buttons change before the job starts: a fast job may end (and
        # re-enable Run) before form.run returns
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self.progress.value = 0.0
        self.progress_label.value = ""
        # the previous run's results must not pass for this run's
        self.table.value = ""
        self.image.layout.display = "none"
        try:
            self.form.run(background=True)
        except Exception as exc:  # invalid input: say so in the form
            self.form.status = f"Cannot run: {exc}"
            self.run_button.disabled = False
            self.stop_button.disabled = True
            return
    def _click_close(self, _button=None):
        self.form.stop()
        self.form.wait(10)
        self.widget.close()

    def _show_progress(self, form):
        self.progress.value = form.progress_fraction
        self.progress_label.value = form.progress_text

    def _show_finish(self, form):
        self.run_button.disabled = False
        self.stop_button.disabled = True
        if form.outcome == "done":
            self.progress.value = 1.0
            self.progress_label.value = form.progress_text
            if self.render is not None:
                try:
                    table, png = self.render(form)
                except Exception as exc:  # results are kept even if a plot fails
                    form.status = f"{form.status} (no preview: {exc})"
                    return
                self.table.value = table
                if png:
                    self.image.value = png
                    self.image.layout.display = ""

    def as_dict(self):
        return {"widget": self.widget, "wdict": self.wdict, "form": self.form}


def _store_as_widget(form):
    return _link(form, "store_as", ipywidgets.Text(
        description="Store as", placeholder="variable name (empty: not stored)",
        tooltip="The result is stored under this variable name in the notebook "
                "that opened the form (and stays in form.result)",
        style=_STYLE,
    ))


def _finish(widgets, display):
    if display:
        from IPython.display import display as show

        show(widgets.widget)
        return None
    return widgets.as_dict()


# ------------------------------------------------------------ unmixing
def _parameter_widget(kind, name, value):
    if kind == "bool":
        return ipywidgets.Checkbox(value=value, description=name, style=_STYLE)
    if kind == "int":
        return ipywidgets.IntText(value=value, description=name, style=_STYLE)
    if kind == "float":
        return ipywidgets.FloatText(value=value, description=name, style=_STYLE)
    return ipywidgets.Text(
        value=str(value), description=name, placeholder="None", style=_STYLE
    )


def _unmixing_render(form):
    signal = form.signal
    lr = signal.learning_results
    factors, loadings = np.asarray(lr.factors), np.asarray(lr.loadings)
    energy = signal.axes_manager.signal_axes[0].axis
    units = signal.axes_manager.signal_axes[0].units
    rows = []
    for i in range(factors.shape[1]):
        peak = energy[int(np.argmax(factors[:, i]))]
        rows.append(
            (f"Endmember {i}", f"{peak:.4g} {units}", f"{loadings[:, i].mean():.3f}",
             f"{loadings[:, i].max():.3f}")
        )
    table = _html_table(
        f"{lr.decomposition_algorithm}: factors {factors.shape}, loadings {loadings.shape}",
        ("Component", "Maximum at", "Mean abundance", "Max abundance"),
        rows,
        "hspy-unmix-results",
    )
    from matplotlib.figure import Figure

    k = factors.shape[1]
    nav_shape = signal.axes_manager.navigation_shape
    n_maps = min(k, 6) if len(nav_shape) == 2 else 0
    fig = Figure(figsize=(3.2 * (1 + n_maps) if n_maps else 5, 2.8))
    axes = fig.subplots(1, 1 + n_maps, squeeze=False)[0]
    for i in range(k):
        axes[0].plot(energy, factors[:, i], label=f"{i}")
    axes[0].set_xlabel(f"Energy ({units})" if units else "Energy")
    axes[0].set_title("Endmembers")
    axes[0].legend(fontsize="small")
    for i in range(n_maps):
        image = loadings[:, i].reshape(nav_shape[::-1])
        axes[1 + i].imshow(image, cmap="viridis")
        axes[1 + i].set_title(f"Abundance {i}")
        axes[1 + i].set_axis_off()
    return table, figure_png(fig)


def unmixing_ipy(obj, display=True, **kwargs):
    """ipywidgets unmixing form for ``obj`` (see :meth:`unmix_gui`).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui.ipywidgets_ui import unmixing_ipy
    >>> s, _ = chequerboard_si(n_components=3, random_state=0)
    >>> sorted(unmixing_ipy(s, display=False))
    ['form', 'wdict', 'widget']
    """
    form = _models.UnmixingForm(signal=obj, **kwargs)
    algorithm = _link(
        form, "algorithm",
        ipywidgets.Dropdown(options=form.algorithms, description="Algorithm", style=_STYLE),
    )
    n_components = _link(
        form, "n_components",
        ipywidgets.BoundedIntText(min=1, max=10_000, description="Components (K)",
                                  style=_STYLE),
    )
    random_state = _link(
        form, "random_state", ipywidgets.IntText(description="random_state", style=_STYLE)
    )
    parameters_box = ipywidgets.VBox()
    parameters_box.add_class("hspy-unmix-parameters")
    parameter_widgets = {}

    def build_parameters(event=None):
        parameter_widgets.clear()
        params = form.parameters
        children = []
        for name, kind in params.kinds.items():
            widget = _link(params, name, _parameter_widget(kind, name, getattr(params, name)))
            parameter_widgets[name] = widget
            children.append(widget)
        if not children:
            children = [ipywidgets.Label(f"{params.algorithm} has no further parameters.")]
        parameters_box.children = [ipywidgets.HTML(f"<i>{params.algorithm} parameters</i>"),
                                   *children]

    build_parameters()
    form.observe(build_parameters, "parameters")
    controls = {
        "algorithm": algorithm,
        "n_components": n_components,
        "random_state": random_state,
        "parameters_box": parameters_box,
    }
    widgets = _FormWidgets(form, controls, "Spectral unmixing")
    widgets.wdict["parameters"] = parameter_widgets
    widgets.render = _unmixing_render
    return _finish(widgets, display)


# --------------------------------------------------------- restore_zlp
def _current_spectrum(signal):
    indices = signal.axes_manager.indices
    data = signal.inav[indices].data if indices else signal.data
    return np.asarray(data, dtype=float).ravel()


def _restore_zlp_render(form):
    from matplotlib.figure import Figure

    before, after = form.signal, form.result
    axis = before.axes_manager.signal_axes[0]
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    ax.plot(axis.axis, _current_spectrum(before), label="before", lw=1)
    after_axis = after.axes_manager.signal_axes[0].axis
    ax.plot(after_axis, _current_spectrum(after), label="after", lw=1)
    ax.set_xlabel(f"Energy loss ({axis.units})" if axis.units else "Energy loss")
    ax.set_title(f"restore_zlp ({form.method}), pixel {before.axes_manager.indices}")
    ax.legend()
    table = _html_table(
        "Restored signal", ("Method", "Iterations", "Shape"),
        [(form.method, form.iterations, after.data.shape)], "hspy-unmix-results",
    )
    return table, figure_png(fig)


def restore_zlp_ipy(obj, display=True, **kwargs):
    """ipywidgets zero-loss restoration form (see :meth:`restore_zlp_gui`).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui.ipywidgets_ui import restore_zlp_ipy
    >>> s, _ = chequerboard_si(n_components=3, random_state=0)
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
    widgets = _FormWidgets(
        form, {"method": method, "iterations": iterations,
               "store_as": _store_as_widget(form)},
        "Zero-loss restoration",
    )
    widgets.render = _restore_zlp_render
    return _finish(widgets, display)


# --------------------------------------------------------- pan_sharpen
def _pan_sharpen_render(form):
    from matplotlib.figure import Figure

    result = form.result
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    axis = result.axes_manager.signal_axes[0]
    mean = np.asarray(result.data, dtype=float).reshape(-1, axis.size).mean(axis=0)
    ax.plot(axis.axis, mean, lw=1)
    ax.set_title("Pan-sharpened: mean spectrum")
    table = _html_table(
        "Pan-sharpened signal", ("Other", "Algorithm", "Shape"),
        [(form.other, form.algorithm, result.data.shape)], "hspy-unmix-results",
    )
    return table, figure_png(fig)


def pan_sharpen_ipy(obj, display=True, other_candidates=None, **kwargs):
    """ipywidgets pan-sharpening form (see :meth:`pan_sharpen_gui`).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui.ipywidgets_ui import pan_sharpen_ipy
    >>> s, _ = chequerboard_si(n_components=3, random_state=0)
    >>> w = pan_sharpen_ipy(s, display=False, other_candidates={"reference": s})
    >>> w["wdict"]["other"].options
    ('reference',)
    """
    form = _models.PanSharpenForm(signal=obj, other_candidates=other_candidates, **kwargs)
    other = ipywidgets.Dropdown(options=form.other_names, description="Other (high fidelity)",
                                style=_STYLE)
    _link(form, "other", other)
    form.observe(lambda event: setattr(other, "options", event.new), "other_names")
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
    return _finish(widgets, display)


# ------------------------------------------------- number of components
def _n_components_render(form):
    result = form.result
    suggested = getattr(result, "n_components", None)
    rows = [("Suggested number of components", suggested)]
    for name in ("method", "max_components"):
        if hasattr(result, name):
            rows.append((name, getattr(result, name)))
    table = _html_table("Number of components", ("", "Value"), rows, "hspy-unmix-results")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.5))
    result.plot(fig=figure)
    return table, figure_png(figure)


def n_components_ipy(obj, display=True, **kwargs):
    """ipywidgets number-of-components helper (see :meth:`estimate_n_components_gui`).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui.ipywidgets_ui import n_components_ipy
    >>> s, _ = chequerboard_si(n_components=3, random_state=0)
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
    return _finish(widgets, display)
