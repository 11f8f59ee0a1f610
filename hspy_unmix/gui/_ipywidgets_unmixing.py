"""ipywidgets unmixing form: algorithm, K, masks, parameters, results.

:func:`unmixing_ipy` builds the form over
:class:`~hspy_unmix.gui._models.UnmixingForm`, with the estimator's own
parameters (:func:`_parameter_widgets`), its help, the energy-range preview
and, after a run, the endmembers and abundance maps
(:func:`unmixing_figure`) with a table placing each endmember's largest
feature (:func:`largest_feature`).
"""

from __future__ import annotations

import html

import ipywidgets
import numpy as np

from .._docstrings import fill_doc
from . import _models
from ._ipywidgets_common import _STYLE, _FormWidgets, _link, _results
from ._previews import EnergyRangePreview


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


def _learning_results(signal):
    """``(learning_results, factors, loadings, signal axis, its units)``."""
    lr = signal.learning_results
    axis = signal.axes_manager.signal_axes[0]
    units = axis.units if isinstance(axis.units, str) else ""
    return lr, np.asarray(lr.factors), np.asarray(lr.loadings), axis, units


def unmixing_figure(form):
    """Endmembers and abundance maps (with colour bars) of a finished run."""
    from matplotlib.figure import Figure

    signal = form.signal
    _, factors, loadings, axis, units = _learning_results(signal)
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
    lr, factors, loadings, axis, units = _learning_results(form.signal)
    rows = []
    for i in range(factors.shape[1]):
        feature = largest_feature(axis.axis, factors[:, i])
        rows.append(
            (f"Endmember {i}", f"{feature:.4g} {units}".strip(),
             f"{np.nanmean(loadings[:, i]):.3f}", f"{np.nanmax(loadings[:, i]):.3f}")
        )
    return _results(
        f"{lr.decomposition_algorithm}: factors {factors.shape}, loadings {loadings.shape}",
        ("Component", "Largest feature above background at", "Mean abundance",
         "Max abundance"),
        rows,
        unmixing_figure(form),
    )


@fill_doc
def unmixing_ipy(obj, display=True, **kwargs):
    """ipywidgets unmixing form for ``obj`` (see :meth:`unmix_gui`).

    %(examples_chequerboard)s
    >>> from hspy_unmix.gui.ipywidgets_ui import unmixing_ipy
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
    return widgets.finish(display)
