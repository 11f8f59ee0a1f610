"""Model of the pan-sharpening form: ``signal.pan_sharpen(other, ...)``."""

from __future__ import annotations

from traits.api import Any, Dict, Enum, Int, List, Str

from ._form import Form, _accepts


def signal_label(signal, index: int) -> str:
    """A readable, unique-ish label for a candidate signal."""
    title = str(signal.metadata.get_item("General.title", "") or "")
    shape = "x".join(str(n) for n in signal.axes_manager.navigation_shape) or "1"
    return f"{index}: {title or 'untitled'} ({shape}, {signal.axes_manager.signal_size} ch)"


def ipython_candidates(exclude):
    """Spectrum signals of the running IPython session except ``exclude``."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with HyperSpy
        return {}
    shell = get_ipython()
    if shell is None:
        return {}
    from hyperspy.signal import BaseSignal

    out = {}
    for name, value in shell.user_ns.items():
        if (
            not name.startswith("_")
            and isinstance(value, BaseSignal)
            and value is not exclude
            and value.axes_manager.signal_dimension == 1
        ):
            out[name] = value
    return out


class PanSharpenForm(Form):
    """Model of the pan-sharpening form: ``signal.pan_sharpen(other, ...)``.

    ``other_candidates`` maps labels to the signals offered as ``other`` (the
    high spectral fidelity SI). ``n_components = 0`` lets the method choose.

    Examples
    --------
    >>> from hspy_unmix.gui._models import PanSharpenForm
    >>> form = PanSharpenForm()
    >>> form.n_components
    0
    """

    other_candidates = Dict(Str, Any)
    other_names = List(Str)
    other = Enum(values="other_names")
    n_components = Int(0)
    algorithms = List(Str)
    algorithm = Enum(values="algorithms")
    store_as = Str("s_pansharpened")

    def __init__(self, **traits):
        from .._registry import available_algorithms

        candidates = traits.pop("other_candidates", None)
        super().__init__(algorithms=["NMF", *available_algorithms()], **traits)
        self.set_candidates(candidates)

    def set_candidates(self, candidates) -> None:
        """Offer these signals as ``other`` (dict label -> signal, or a list)."""
        if candidates is None:
            candidates = ipython_candidates(exclude=self.signal)
        if not isinstance(candidates, dict):
            candidates = {signal_label(s, i): s for i, s in enumerate(candidates)}
        self.other_candidates = dict(candidates)
        self.other_names = list(candidates) or [""]

    def _describe(self):
        k = self.n_components or "automatic number of"
        return f"pan_sharpen with {self.other} ({self.algorithm}, {k} components)"

    def _make_work(self):
        if self.other not in self.other_candidates:
            raise ValueError(
                "choose the high spectral fidelity signal (other); no candidate is "
                "available: pass other_candidates=[...]."
            )
        if self.n_components < 0:
            raise ValueError("n_components must be 0 (automatic) or positive.")
        signal, other = self.signal, self.other_candidates[self.other]
        kwargs = {
            "n_components": int(self.n_components) or None,
            "algorithm": self.algorithm,
        }
        if _accepts(type(signal).pan_sharpen, "show_progressbar"):
            kwargs["show_progressbar"] = True
        return lambda: signal.pan_sharpen(other, **kwargs)
