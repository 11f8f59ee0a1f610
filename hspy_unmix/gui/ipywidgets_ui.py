"""ipywidgets front end of the hspy_unmix forms (Jupyter, Voila).

Every function here has HyperSpy's GUI registry signature
``f(obj, display=True, **kwargs)``: ``obj`` is the signal. With
``display=False`` it returns ``{"widget": container, "wdict": controls,
"form": model}`` like ``hyperspy_gui_ipywidgets`` does.

The unmixing and zero-loss restoration forms have a live preview
(:mod:`hspy_unmix.gui._previews`), drawn when the form is displayed; with
``display=False`` call ``wdict["preview"].start()`` once the container is
shown.
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
from ._previews import EnergyRangePreview, RestorationPreview, pixel_spectrum

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


#: CSS pixels per inch of a figure on the page, and device pixels per CSS
#: pixel of the PNG (2: sharp on high-density screens as well).
CSS_DPI = 96
PIXEL_RATIO = 2


def figure_png(fig) -> bytes:
    """PNG bytes of a matplotlib ``Figure`` at ``CSS_DPI * PIXEL_RATIO`` dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=CSS_DPI * PIXEL_RATIO, bbox_inches="tight")
    return buffer.getvalue()


def png_css_width(png: bytes) -> int:
    """Width at which a :func:`figure_png` image is shown (no stretching)."""
    width = int.from_bytes(png[16:20], "big")  # IHDR
    return max(1, round(width / PIXEL_RATIO))


def largest_feature(energy, spectrum):
    """Energy of a spectrum's largest feature above a power-law background.

    The background ``A E**-r`` is fitted (log-log least squares) to the
    positive channels, then refitted to the channels lying at or below the
    previous fit until they no longer change: the edges, above the
    background, drop out of the fit, which follows the pre-edge decay. The
    maximum of the spectrum minus that background is where an edge or peak
    stands out most. This is what a microscopist reads on an EELS
    endmember: not the first channel (where the background is highest) but
    the edge.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.gui.ipywidgets_ui import largest_feature
    >>> energy = np.linspace(250, 900, 651)
    >>> edge = np.where(energy >= 532, 0.02 * np.exp(-(energy - 532) / 80), 0)
    >>> largest_feature(energy, 1e7 * energy ** -2.5 + edge)
    532.0
    """
    energy = np.asarray(energy, dtype=float)
    spectrum = np.asarray(spectrum, dtype=float)
    valid = np.isfinite(spectrum)
    positive = valid & (spectrum > 0) & (energy > 0)
    residual = np.where(valid, spectrum, -np.inf)
    keep = positive
    log_energy = np.log(np.where(energy > 0, energy, 1.0))
    log_spectrum = np.log(np.where(positive, spectrum, 1.0))
    for _ in range(30):
        if keep.sum() < 3:
            break
        slope, intercept = np.polyfit(log_energy[keep], log_spectrum[keep], 1)
        background = np.exp(intercept) * np.where(energy > 0, energy, np.nan) ** slope
        residual = np.where(valid & np.isfinite(background), spectrum - background, -np.inf)
        below = positive & (residual <= 0)
        if below.sum() < 3 or np.array_equal(below, keep):
            break
        keep = below
    if not np.isfinite(residual).any():
        return float("nan")
    return float(energy[int(np.argmax(residual))])


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
        # class names for style sheets and for tests driving the page
        for widget, name in ((self.progress, "progress"), (self.progress_label, "progress-label"),
                             (self.status, "status"), (self.table, "table"),
                             (self.image, "figure")):
            widget.add_class(f"hspy-unmix-{name}")
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
        #: Live previews (see :mod:`hspy_unmix.gui._previews`) of the form,
        #: drawn once the form is shown and closed with it.
        self.previews = []

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
        for preview in self.previews:
            preview.close()
        self.widget.close()

    def start_previews(self):
        """Draw the live previews (done when the form is displayed)."""
        for preview in self.previews:
            preview.start()

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
                    form.status = f"{form.status} (no figure: {exc})"
                    return
                self.table.value = table
                if png:
                    self.image.value = png
                    # shown at its own size: one CSS pixel per PIXEL_RATIO
                    # image pixels, narrower on a narrow page, never stretched
                    self.image.layout.width = f"{png_css_width(png)}px"
                    self.image.layout.max_width = "100%"
                    self.image.layout.height = "auto"
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
        widgets.start_previews()
        return None
    return widgets.as_dict()


# ------------------------------------------------------------ unmixing
def _short_help(text, limit=300):
    text = " ".join(str(text).replace("``", "").split())
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + "..."


def _parameter_widgets(params, name):
    """Widget(s) for one parameter of an :class:`AlgorithmParameters`."""
    spec = params.specs[name]
    kind = spec.kind
    tip = _short_help(spec.help) or name
    common = {"description": name, "style": _STYLE, "tooltip": tip}
    if kind == "bool":
        return [_link(params, name, ipywidgets.Checkbox(**common))]
    if kind == "choice":
        return [_link(params, name, ipywidgets.Dropdown(options=spec.choices, **common))]
    if kind in ("int", "float", "optional_int", "optional_float"):
        integer = kind.endswith("int")
        low = spec.low if spec.low is not None else -1e300
        high = spec.high if spec.high is not None else 1e300
        if integer:
            cls = ipywidgets.BoundedIntText
            low, high = int(max(low, -(2**62))), int(min(high, 2**62))
        else:
            cls = ipywidgets.BoundedFloatText
        number = _link(params, name, cls(min=low, max=high, **common))
        if kind.startswith("optional"):
            auto = ipywidgets.Checkbox(description="automatic", indent=False,
                                       tooltip="None: the estimator chooses")
            _link(params, f"{name}_auto", auto)

            def follow(change=None, number=number, auto=auto):
                number.disabled = auto.value

            follow()
            auto.observe(follow, names="value")
            return [ipywidgets.HBox([number, auto])], {name: number, f"{name}_auto": auto}
        return [number]
    placeholder = "numbers separated by commas" if kind == "sequence" else "None"
    return [_link(params, name, ipywidgets.Text(placeholder=placeholder, **common))]


def _algorithm_options(form):
    from .._registry import normalise_name

    return [
        (name if normalise_name(name) else f"{name} (HyperSpy)", name)
        for name in form.algorithms
    ]


def _help_html(params):
    from .._registry import estimator_class, normalise_name

    if normalise_name(params.algorithm) is None:
        return (f"<p><b>{html.escape(params.algorithm)}</b> is one of HyperSpy's own "
                "decomposition algorithms: see <code>s.decomposition</code>. Its "
                "results are not constrained to be non-negative unless it is NMF.</p>")
    doc = (estimator_class(params.algorithm).__doc__ or "").strip().split("\n\n")[0]
    items = "".join(
        f"<li><b>{html.escape(name)}</b>: {html.escape(_short_help(spec.help, 600))}</li>"
        for name, spec in params.specs.items()
    )
    return (f"<p><b>{html.escape(params.algorithm)}</b>: "
            f"{html.escape(_short_help(doc, 600))}</p><ul>{items}</ul>")


def unmixing_figure(form):
    """Endmembers and abundance maps (with colour bars) of a finished run."""
    from matplotlib.figure import Figure

    signal = form.signal
    lr = signal.learning_results
    factors, loadings = np.asarray(lr.factors), np.asarray(lr.loadings)
    axis = signal.axes_manager.signal_axes[0]
    units = axis.units if isinstance(axis.units, str) else ""
    k = factors.shape[1]
    nav_shape = signal.axes_manager.navigation_shape
    n_maps = min(k, 6) if len(nav_shape) == 2 else 0
    fig = Figure(figsize=(4.2 + 2.9 * n_maps, 2.9), layout="constrained")
    axes = fig.subplots(1, 1 + n_maps, squeeze=False)[0]
    for i in range(k):
        axes[0].plot(axis.axis, factors[:, i], label=f"{i}", lw=1)
    axes[0].set_xlabel(f"Energy loss ({units})" if units else "Energy loss")
    axes[0].set_ylabel("Intensity")
    axes[0].set_title("Endmembers")
    axes[0].legend(fontsize="small")
    for i in range(n_maps):
        image = loadings[:, i].reshape(nav_shape[::-1])
        shown = axes[1 + i].imshow(image, cmap="viridis")
        axes[1 + i].set_title(f"Abundance {i}")
        axes[1 + i].set_axis_off()
        fig.colorbar(shown, ax=axes[1 + i], shrink=0.8)
    return fig


def _unmixing_render(form):
    signal = form.signal
    lr = signal.learning_results
    factors, loadings = np.asarray(lr.factors), np.asarray(lr.loadings)
    axis = signal.axes_manager.signal_axes[0]
    units = axis.units if isinstance(axis.units, str) else ""
    rows = []
    for i in range(factors.shape[1]):
        feature = largest_feature(axis.axis, factors[:, i])
        rows.append(
            (f"Endmember {i}", f"{feature:.4g} {units}".strip(),
             f"{np.nanmean(loadings[:, i]):.3f}", f"{np.nanmax(loadings[:, i]):.3f}")
        )
    table = _html_table(
        f"{lr.decomposition_algorithm}: factors {factors.shape}, loadings {loadings.shape}",
        ("Component", "Largest feature above background at", "Mean abundance",
         "Max abundance"),
        rows,
        "hspy-unmix-results",
    )
    return table, figure_png(unmixing_figure(form))


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
    algorithm = ipywidgets.Dropdown(options=_algorithm_options(form), description="Algorithm",
                                    style=_STYLE)
    _link(form, "algorithm", algorithm)
    n_components = _link(
        form, "n_components",
        ipywidgets.BoundedIntText(min=1, max=10_000, description="Components (K)",
                                  style=_STYLE),
    )
    k_source = ipywidgets.HTML()

    def show_k_source(event=None):
        k_source.value = f"<i>{html.escape(form.n_components_source)}</i>"

    show_k_source()
    form.observe(show_k_source, "n_components_source")
    random_state = _link(
        form, "random_state",
        ipywidgets.IntText(description="Random seed", style=_STYLE,
                           tooltip="random_state: the same seed gives the same result"),
    )
    poisson = _link(form, "normalize_poissonian_noise", ipywidgets.Checkbox(
        description="Poisson normalisation", style=_STYLE, indent=False,
        tooltip="Weight the counts by their Poisson noise (HyperSpy's "
                "normalize_poissonian_noise); usual for raw EELS counts",
    ))
    axis = obj.axes_manager.signal_axes[0]
    low, high = sorted((float(axis.axis[0]), float(axis.axis[-1])))
    units = axis.units if isinstance(axis.units, str) and axis.units else ""
    energy_start = _link(form, "energy_start", ipywidgets.BoundedFloatText(
        min=low, max=high, description=f"Energy from ({units})" if units else "Energy from",
        style=_STYLE, tooltip="Channels outside the range are masked (signal_mask)"))
    energy_end = _link(form, "energy_end", ipywidgets.BoundedFloatText(
        min=low, max=high, description="to", style=_STYLE))
    navigation_mask = _link(form, "navigation_mask", ipywidgets.Dropdown(
        options=[("none", "")] + [(n, n) for n in form.mask_names[1:]],
        description="Navigation mask", style=_STYLE,
        tooltip="A boolean array of the navigation shape among your variables: "
                "True pixels are left out"))
    signal_mask = _link(form, "signal_mask", ipywidgets.Dropdown(
        options=[("none", "")] + [(n, n) for n in form.mask_names[1:]],
        description="Signal mask", style=_STYLE,
        tooltip="A boolean array of the signal shape: True channels are left out"))
    parameters_box = ipywidgets.VBox()
    parameters_box.add_class("hspy-unmix-parameters")
    help_html = ipywidgets.HTML()
    help_box = ipywidgets.Accordion(children=[help_html])
    help_box.set_title(0, "Help")
    help_box.selected_index = None
    parameter_widgets = {}

    def build_parameters(event=None):
        parameter_widgets.clear()
        params = form.parameters
        children = []
        for name in params.kinds:
            made = _parameter_widgets(params, name)
            if isinstance(made, tuple):
                rows, named = made
                parameter_widgets.update(named)
            else:
                rows = made
                parameter_widgets[name] = made[0]
            children.extend(rows)
        if not children:
            children = [ipywidgets.Label(f"{params.algorithm}: no further parameters here.")]
        parameters_box.children = [ipywidgets.HTML(f"<i>{params.algorithm} parameters</i>"),
                                   *children]
        help_html.value = _help_html(params)

    build_parameters()
    form.observe(build_parameters, "parameters")
    preview = EnergyRangePreview(form)
    controls = {
        "algorithm": algorithm,
        "n_components": n_components,
        "n_components_source": k_source,
        "random_state": random_state,
        "normalize_poissonian_noise": poisson,
        "energy_range": ipywidgets.HBox([energy_start, energy_end]),
        "navigation_mask": navigation_mask,
        "signal_mask": signal_mask,
        "preview": preview.widget,
        "parameters_box": parameters_box,
        "help": help_box,
    }
    widgets = _FormWidgets(form, controls, "Spectral unmixing")
    widgets.previews.append(preview)
    widgets.wdict["preview"] = preview
    widgets.wdict["parameters"] = parameter_widgets
    widgets.wdict.update(energy_start=energy_start, energy_end=energy_end)
    widgets.render = _unmixing_render
    return _finish(widgets, display)


# --------------------------------------------------------- restore_zlp
def _restore_zlp_render(form):
    """Table, and the current pixel before and after: whole range, and the
    zero-loss region on a log scale."""
    from matplotlib.figure import Figure

    before, after = form.signal, form.result
    axis = before.axes_manager.signal_axes[0]
    units = axis.units if isinstance(axis.units, str) and axis.units != "<undefined>" else ""
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
        ax.set_xlabel(f"Energy loss ({units})" if units else "Energy loss")
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
    table = _html_table(
        "Restored signal", ("Method", "Iterations", "Shape"),
        [(form.method, form.iterations if form.method == "richardson_lucy" else "n/a (U-net)",
          after.data.shape)],
        "hspy-unmix-results",
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
    preview = RestorationPreview(form)
    widgets = _FormWidgets(
        form, {"method": method, "iterations": iterations,
               "store_as": _store_as_widget(form), "preview": preview.widget},
        "Zero-loss restoration",
    )
    widgets.previews.append(preview)
    widgets.wdict["preview"] = preview
    widgets.render = _restore_zlp_render
    return _finish(widgets, display)


# --------------------------------------------------------- pan_sharpen
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
    table = _html_table(
        "Pan-sharpened signal", ("Other", "Algorithm", "Shape"),
        [(form.other_labels.get(form.other, form.other), form.algorithm, result.data.shape)],
        "hspy-unmix-results",
    )
    return table, figure_png(fig)


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
    return _finish(widgets, display)


# ------------------------------------------------- number of components
def _n_components_render(form):
    result = form.result
    suggested = getattr(result, "n_components", None)
    rows = [("Suggested number of components", suggested)]
    for name in ("method", "max_components"):
        if hasattr(result, name):
            rows.append((name, getattr(result, name)))
    table = _html_table("Number of components", ("Quantity", "Value"), rows, "hspy-unmix-results")
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
