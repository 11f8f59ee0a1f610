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
"""

from __future__ import annotations

import html
import threading
import time
import warnings

import ipywidgets
import numpy as np

from ._ipywidgets_common import CSS_DPI, figure_png, png_css_width
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


def _units(axis) -> str:
    return axis.units if isinstance(axis.units, str) and axis.units != "<undefined>" else ""


def _energy_label(axis) -> str:
    units = _units(axis)
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
        units = _units(self.axis)
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


class RestorationPreview:
    """The zero-loss restoration of the spectrum at the current pixel.

    Recomputed (in a background thread, the newest request winning) when
    the method, the iterations or the navigation position change. While a
    run of the form goes on, a change is kept and previewed once the run
    ends: the run has the processors, and it reads the signal meanwhile.
    """

    def __init__(self, form, interactive=None):
        self.form = form
        signal = form.signal
        self.axis = signal.axes_manager.signal_axes[0]
        self.energies = np.asarray(self.axis.axis, dtype=float)
        self.live = LiveFigure((6.4, 2.5), interactive, toolbar=True)
        self.ax = ax = self.live.figure.subplots()
        (self.raw_line,) = ax.plot(self.energies, np.ones_like(self.energies), lw=1,
                                   label="raw")
        (self.restored_line,) = ax.plot(self.energies, np.full_like(self.energies, np.nan),
                                        lw=1, label="restored (preview)")
        ax.set_xlabel(_energy_label(self.axis))
        ax.set_yscale("log")
        ax.set_ylabel("Counts (log)")
        ax.legend(fontsize="small", loc="upper right")
        self.caption = ipywidgets.HTML()
        self.caption.add_class("hspy-unmix-preview-caption")
        self.widget = ipywidgets.VBox([self.caption, self.live.widget])
        self.widget.add_class("hspy-unmix-preview")
        self._generation = 0
        self._thread = None
        #: False until :meth:`start` (the form is displayed): nothing is
        #: computed before.
        self.active = False
        #: ``(method, iterations, indices)`` of the preview on show, or None.
        self.shown = None
        self.error = None
        #: A change arrived during a run: preview it when the run ends.
        self.pending = False
        form.observe(self.refresh, "method")
        form.observe(self.refresh, "iterations")
        form.finish_callbacks.append(self._after_run)
        self._events = signal.axes_manager.events.indices_changed
        self._events.connect(self.refresh, [])

    def _zoom(self, *spectra) -> None:
        """Show the zero-loss region: from 1.5 eV below its peak to 4.5 eV above.

        Counts on a log scale (four decades below the highest point), so that
        the narrow restored peak and the raw tails both show.
        """
        spectrum = spectra[0]
        if _units(self.axis) != "eV" or not np.isfinite(spectrum).any():
            low, high = self.energies.min(), self.energies.max()
        else:
            peak = self.energies[int(np.nanargmax(spectrum))]
            low = max(self.energies.min(), peak - 1.5)
            high = min(self.energies.max(), peak + 4.5)
        self.ax.set_xlim(low, high)
        inside = (self.energies >= low) & (self.energies <= high)
        tops = [np.nanmax(np.where(inside, s, np.nan)) for s in spectra
                if s.shape == inside.shape and np.isfinite(np.where(inside, s, np.nan)).any()]
        top = max(tops) if tops else np.nan
        if np.isfinite(top) and top > 0:
            self.ax.set_ylim(top * 1e-4, top * 2)

    def refresh(self, event=None, wait: bool = False) -> None:
        """Compute the preview for the current choices (``wait``: block until shown)."""
        if not self.active:
            return
        if getattr(event, "name", None) == "iterations" and self.form.method != "richardson_lucy":
            return  # the U-net has no iterations
        if self.form.running:
            self.pending = True
            self.caption.value = "Preview: waits for the run to end."
            return
        self._generation += 1
        generation = self._generation
        form = self.form
        method, iterations = form.method, int(form.iterations)
        what = method if method != "richardson_lucy" else f"{method}, {iterations} iterations"
        spectrum, indices = pixel_spectrum(form.signal)
        with self.live.lock:
            self.raw_line.set_ydata(spectrum)
            self.restored_line.set_ydata(np.full_like(spectrum, np.nan))
            self.ax.set_title(f"Pixel {indices}: raw and restored ({what})", fontsize="medium")
            self._zoom(spectrum)
        self.live.draw()
        self.caption.value = f"Preview at pixel {indices} ({html.escape(what)}): computing..."

        def compute():
            start = time.perf_counter()
            try:
                one = pixel_signal(form.signal, spectrum)
                kwargs = form.restore_kwargs(one, show_progressbar=False)
                restored = one.restore_zlp(**kwargs)
                values = restored.data
                if hasattr(values, "compute"):
                    values = values.compute()
                values = np.asarray(values, dtype=float).ravel()
                energies = np.asarray(restored.axes_manager.signal_axes[0].axis, dtype=float)
                error = None
            except Exception as exc:  # shown in the caption, never raised
                values, energies, error = None, None, exc
            if generation != self._generation:
                return  # a newer request supersedes this one
            if error is not None:
                self.error = error
                self.caption.value = (f"Preview at pixel {indices}: failed: "
                                      f"{html.escape(f'{type(error).__name__}: {error}')}")
                return
            with self.live.lock:
                if energies.shape == self.energies.shape:
                    self.restored_line.set_ydata(values)
                    self._zoom(spectrum, values)
                else:
                    self.restored_line.set_data(energies, values)
            self.live.draw()
            self.error = None
            self.shown = (method, iterations if method == "richardson_lucy" else None, indices)
            self.caption.value = (f"Preview at pixel {indices} ({html.escape(what)}): "
                                  f"ready in {time.perf_counter() - start:.2f} s.")

        thread = threading.Thread(target=compute, name="hspy_unmix-preview", daemon=True)
        self._thread = thread
        thread.start()
        if wait:
            thread.join()

    def _after_run(self, form) -> None:
        if self.pending:
            self.pending = False
            self.refresh()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the latest preview computation."""
        if self._thread is not None:
            self._thread.join(timeout)

    def start(self) -> None:
        """Compute the first preview and follow the form from now on."""
        self.active = True
        self.refresh()

    def close(self) -> None:
        self.active = False
        self._generation += 1
        self.form.observe(self.refresh, "method", remove=True)
        self.form.observe(self.refresh, "iterations", remove=True)
        if self._after_run in self.form.finish_callbacks:
            self.form.finish_callbacks.remove(self._after_run)
        try:
            self._events.disconnect(self.refresh)
        except Exception:  # already disconnected
            pass
        self.live.close()
