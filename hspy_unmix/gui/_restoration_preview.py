"""Live preview of the zero-loss restoration form: the current pixel restored.

:class:`RestorationPreview` restores the spectrum at the current navigation
position with the form's method and iterations, in a background thread,
and draws it over the raw one on a :class:`~hspy_unmix.gui._previews.LiveFigure`.
"""

from __future__ import annotations

import html
import threading
import time

import ipywidgets
import numpy as np

from ._form import axis_units
from ._previews import LiveFigure, _energy_label, pixel_signal, pixel_spectrum


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
        if axis_units(self.axis) != "eV" or not np.isfinite(spectrum).any():
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
