"""Live previews of the ipywidgets forms.

Like HyperSpy's own forms (background removal, smoothing), two forms show
what a choice does before Run:

- the unmixing form draws the SI's mean spectrum with the energy range in
  use shaded and the channels of the signal mask greyed; with ipympl the
  range can be dragged on the figure (a span selector, as in HyperSpy's
  background removal), and editing the range boxes moves the shading;
- the zero-loss restoration form restores the spectrum at the current
  navigation position with the current method and iterations and draws it
  over the raw one; it follows the navigator of ``s.plot()`` and every
  change of method or iterations, in a background thread.

The figures are ipympl canvases (the ``%matplotlib widget`` backend's
widget, installed with HyperSpy's ipywidgets GUI): zoom, pan and the span
selector work in the page. Where ipympl cannot be imported the same figure
is drawn as a PNG and redrawn after each change (no dragging: the range is
typed in the boxes).

The figure and the pixel helpers are here with the energy range preview;
the restoration preview is :mod:`hspy_unmix.gui._restoration_preview`'s
(still importable from here).
"""

from __future__ import annotations

import html
import threading
import warnings

import ipywidgets
import numpy as np

from ._ipywidgets_common import CSS_DPI, figure_png, png_css_width
from ._form import axis_units
from ._parameters import clean_float


def ipympl_available() -> bool:
    """Whether the ipympl canvas can be used for interactive previews."""
    try:
        import ipympl.backend_nbagg  # noqa: F401
    except Exception:  # ImportError, or a broken installation
        return False
    return True


class LiveFigure:
    """A matplotlib figure inside a form, redrawn on demand.

    Parameters
    ----------
    figsize
        Size in inches; shown at 96 CSS pixels per inch either way.
    interactive
        None: an ipympl canvas when ipympl is available, else a PNG image.
    toolbar
        Show ipympl's zoom/pan toolbar (when the mouse is over the figure).
    """

    def __init__(self, figsize, interactive=None, toolbar=False):
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, dpi=CSS_DPI, layout="constrained")
        self.interactive = ipympl_available() if interactive is None else bool(interactive)
        self.lock = threading.RLock()
        if self.interactive:
            from ipympl.backend_nbagg import Canvas, FigureManager

            canvas = Canvas(self.figure)
            with warnings.catch_warnings():
                # ipympl's toolbar passes its canvas on to traitlets, which
                # warns about it; nothing to act on here
                warnings.simplefilter("ignore", DeprecationWarning)
                FigureManager(canvas, 0)
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.resizable = False
            canvas.toolbar_visible = "fade-in-fade-out" if toolbar else False
            self.widget = canvas
        else:
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            FigureCanvasAgg(self.figure)
            self.widget = ipywidgets.Image(format="png")
        self.widget.add_class("hspy-unmix-preview-figure")
        #: Number of redraws (for tests and front ends).
        self.draws = 0

    def draw(self) -> None:
        """Send the figure's current state to the page."""
        with self.lock:
            if self.interactive:
                self.figure.canvas.draw_idle()
            else:
                png = figure_png(self.figure)
                self.widget.value = png
                self.widget.layout.width = f"{png_css_width(png)}px"
                self.widget.layout.max_width = "100%"
            self.draws += 1

    def close(self) -> None:
        if self.interactive:
            self.widget.close()


def _energy_label(axis) -> str:
    units = axis_units(axis)
    return f"Energy loss ({units})" if units else "Energy loss"


def _array_index(signal, indices) -> tuple:
    """Index into ``signal.data`` of the navigation position ``indices``
    (HyperSpy's natural order, that of ``axes_manager.indices``)."""
    index = [slice(None)] * signal.axes_manager.navigation_dimension
    index += [slice(None)] * signal.axes_manager.signal_dimension
    for axis, i in zip(signal.axes_manager.navigation_axes, indices):
        index[axis.index_in_array] = int(i)
    return tuple(index)


def pixel_spectrum(signal, indices=None) -> tuple[np.ndarray, tuple]:
    """The spectrum at ``indices`` (default: the current position) as floats.

    Read from ``signal.data`` by index, never by ``signal.inav``: HyperSpy's
    slicing empties the signal it slices for a moment (its data and
    ``learning_results`` are set aside while it copies the rest), and a run
    in another thread may be reading that signal meanwhile. Returns the
    spectrum and the indices used.
    """
    if indices is None:
        indices = tuple(signal.axes_manager.indices)
    data = signal.data[_array_index(signal, indices)] if indices else signal.data
    if hasattr(data, "compute"):
        data = data.compute()
    return np.asarray(data, dtype=float).ravel(), tuple(indices)


def pixel_signal(signal, spectrum):
    """A new one-spectrum EELS signal holding ``spectrum`` on ``signal``'s
    energy axis (built without slicing ``signal``, see :func:`pixel_spectrum`)."""
    from .._compat import eels_classes

    axis = signal.axes_manager.signal_axes[0].get_axis_dictionary()
    title = signal.metadata.get_item("General.title", "")
    return eels_classes()[0](np.array(spectrum), axes=[axis],
                             metadata={"General": {"title": title},
                                       "Signal": {"signal_type": "EELS"}})


def _runs(mask: np.ndarray):
    """``(first, last)`` index pairs of the True runs of a 1-D mask."""
    padded = np.concatenate(([False], mask, [False])).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2] - 1))


class EnergyRangePreview:
    """The unmixing form's energy range and signal mask, on the SI's spectrum.

    Eager SIs show their mean spectrum; a lazy SI shows the spectrum at the
    current navigation position (the mean would read the whole file).
    """

    def __init__(self, form, interactive=None):
        self.form = form
        signal = form.signal
        self.axis = signal.axes_manager.signal_axes[0]
        self.energies = np.asarray(self.axis.axis, dtype=float)
        if getattr(signal, "_lazy", False):
            spectrum, indices = pixel_spectrum(signal)
            what = f"spectrum at pixel {indices}"
        else:
            data = np.asarray(signal.data, dtype=float).reshape(-1, self.energies.size)
            spectrum, what = np.nanmean(data, axis=0), "mean spectrum"
        self.live = LiveFigure((6.4, 2.3), interactive)
        fig = self.live.figure
        self.ax = ax = fig.subplots()
        ax.plot(self.energies, spectrum, lw=1, color="C0", label=what)
        ax.set_xlabel(_energy_label(self.axis))
        ax.set_ylabel("Counts")
        ax.set_xlim(self.energies.min(), self.energies.max())
        ax.set_title("Energy range used" + (" (drag to select)" if self.live.interactive else ""),
                     fontsize="medium")
        self._span = None
        self._masked = []
        self.selector = None
        if self.live.interactive:
            from matplotlib.widgets import SpanSelector

            self.selector = SpanSelector(
                ax, self.select, "horizontal", useblit=False, minspan=abs(self.axis.scale)
                if hasattr(self.axis, "scale") else 0.0,
                props={"alpha": 0.25, "facecolor": "C1"},
            )
        self.caption = ipywidgets.HTML()
        self.caption.add_class("hspy-unmix-preview-caption")
        self.widget = ipywidgets.VBox([self.caption, self.live.widget])
        self.widget.add_class("hspy-unmix-preview")
        #: False until :meth:`start` (the form is displayed): no drawing before.
        self.active = False
        self._holding = False
        for name in ("energy_start", "energy_end", "signal_mask"):
            form.observe(self.refresh, name)

    def select(self, xmin, xmax) -> None:
        """Use ``[xmin, xmax]`` (snapped to channels) as the energy range."""
        if xmax < xmin:
            xmin, xmax = xmax, xmin
        inside = (self.energies >= xmin) & (self.energies <= xmax)
        if inside.sum() < 2:
            return
        chosen = self.energies[inside]
        # both ends first, then one redraw: no intermediate range on show
        self._holding = True
        try:
            self.form.energy_start = clean_float(float(chosen.min()))
            self.form.energy_end = clean_float(float(chosen.max()))
        finally:
            self._holding = False
        self.refresh()

    def channels(self) -> np.ndarray:
        """Boolean array of the channels the unmixing uses."""
        start, end = sorted((self.form.energy_start, self.form.energy_end))
        used = (self.energies >= start - 1e-9 * max(1.0, abs(start))) & (
            self.energies <= end + 1e-9 * max(1.0, abs(end)))
        name = self.form.signal_mask
        if name:
            from hyperspy.signal import BaseSignal

            mask = self.form.masks.get(name)
            mask = mask.data if isinstance(mask, BaseSignal) else mask
            mask = np.asarray(mask, dtype=bool).ravel()
            if mask.size == used.size:
                used &= ~mask
        return used

    def refresh(self, event=None) -> None:
        if not self.active or self._holding:
            return
        start, end = sorted((self.form.energy_start, self.form.energy_end))
        used = self.channels()
        with self.live.lock:
            if self._span is not None:
                self._span.remove()
            for patch in self._masked:
                patch.remove()
            self._span = self.ax.axvspan(start, end, alpha=0.18, color="C1", lw=0)
            self._masked = []
            if self.form.signal_mask:
                step = abs(float(np.median(np.diff(self.energies)))) if self.energies.size > 1 else 0
                mask_runs = _runs(~used & (self.energies >= start) & (self.energies <= end))
                for first, last in mask_runs:
                    self._masked.append(self.ax.axvspan(
                        self.energies[first] - step / 2, self.energies[last] + step / 2,
                        color="0.6", alpha=0.5, lw=0))
        self.live.draw()
        units = axis_units(self.axis)
        masked = f"; signal mask <i>{html.escape(self.form.signal_mask)}</i>" if (
            self.form.signal_mask) else ""
        self.caption.value = (
            f"Energy range {start:.4g} to {end:.4g} {units}: {int(used.sum())} of "
            f"{used.size} channels used{masked}."
        )

    def start(self) -> None:
        """Draw the preview and follow the form from now on."""
        self.active = True
        self.refresh()

    def close(self) -> None:
        self.active = False
        for name in ("energy_start", "energy_end", "signal_mask"):
            self.form.observe(self.refresh, name, remove=True)
        self.live.close()


def __getattr__(name):
    # RestorationPreview lives in _restoration_preview, which imports this
    # module: re-exported on first access, whichever module is imported first
    if name == "RestorationPreview":
        from ._restoration_preview import RestorationPreview

        return RestorationPreview
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
