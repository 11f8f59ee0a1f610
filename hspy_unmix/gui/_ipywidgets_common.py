"""Widget machinery shared by the ipywidgets forms of hspy_unmix.

The two-way link between a form model's traits and its widgets, the PNG
rendering of result figures (:func:`figure_png`, shown at its own size by
:func:`png_css_width`), the HTML results table, and :class:`_FormWidgets`:
the Run/Stop/Close buttons, progress bar, status line and result area every
form has. The per-form builders (``_ipywidgets_*.py``) assemble their
controls on top of it; :mod:`hspy_unmix.gui.ipywidgets_ui` gathers them.
"""

from __future__ import annotations

import html
import io

try:
    import ipywidgets
except ImportError as exc:  # pragma: no cover - exercised without the gui extra
    raise ImportError(
        "the ipywidgets forms of hspy_unmix need ipywidgets: "
        "pip install 'hspy-unmix[gui]'"
    ) from exc

_STYLE = {"description_width": "initial"}


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


def _results(caption, header, rows, figure):
    """``(table_html, png_bytes)`` of a finished form: what ``render`` returns."""
    return _html_table(caption, header, rows, "hspy-unmix-results"), figure_png(figure)


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

    def finish(self, display):
        """Show the form and draw its previews (``display``), or return :meth:`as_dict`."""
        if display:
            from IPython.display import display as show

            show(self.widget)
            self.start_previews()
            return None
        return self.as_dict()


def _store_as_widget(form):
    return _link(form, "store_as", ipywidgets.Text(
        description="Store as", placeholder="variable name (empty: not stored)",
        tooltip="The result is stored under this variable name in the notebook "
                "that opened the form (and stays in form.result)",
        style=_STYLE,
    ))
