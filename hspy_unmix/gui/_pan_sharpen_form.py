"""Model of the pan-sharpening form: ``signal.pan_sharpen(other, ...)``.

The "other" list offers the signals ``pan_sharpen`` accepts as ``other``:
spectrum images (the high spectral fidelity SI) and single images (an
ADF/HAADF image guiding the abundance maps). Each is shown with its
variable name, title, shape and energy range, so that two SIs of the same
region can be told apart; the SI being sharpened is never offered.
"""

from __future__ import annotations

from traits.api import Any, Dict, Enum, Int, List, Str

from ._form import Form, _accepts, axis_units


def _number(value) -> str:
    return f"{float(value):.4g}"


def describe_signal(signal) -> str:
    """Title, shape and energy range of a signal, as the "other" list shows it.

    Examples
    --------
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui._models import describe_signal
    >>> s, _ = chequerboard_si(n_components=3, shape=(32, 16), random_state=0)
    >>> s.metadata.General.title = "Core loss"
    >>> describe_signal(s)
    'Core loss (16x32 px, 200 ch, 250-913.3 eV)'
    >>> describe_signal(s.T.inav[100])
    'Core loss (image 16x32)'
    """
    am = signal.axes_manager
    title = str(signal.metadata.get_item("General.title", "") or "") or "untitled"
    parts = []
    nav = "x".join(str(n) for n in am.navigation_shape)
    if am.signal_dimension == 1:
        axis = am.signal_axes[0]
        parts.append(f"{nav} px" if nav else "one spectrum")
        parts.append(f"{axis.size} ch")
        units = axis_units(axis)
        low, high = sorted((float(axis.axis[0]), float(axis.axis[-1])))
        parts.append(f"{_number(low)}-{_number(high)} {units}".strip())
    elif am.signal_dimension == 2:
        shape = "x".join(str(n) for n in am.signal_shape)
        parts.append(f"image {shape}" + (f", {nav} images" if nav else ""))
    else:
        parts.append("shape " + "x".join(str(n) for n in signal.data.shape))
    if getattr(signal, "_lazy", False):
        parts.append("lazy")
    return f"{title} ({', '.join(parts)})"


def candidate_label(name: str, signal) -> str:
    """``"name: title (shape, channels, energy range)"`` for the "other" list."""
    return f"{name}: {describe_signal(signal)}"


def signal_label(signal, index: int) -> str:
    """Label of the ``index``-th signal of a list of candidates."""
    return candidate_label(str(index), signal)


def is_candidate(value, exclude=None) -> bool:
    """Whether ``value`` can be ``other`` of ``exclude.pan_sharpen``.

    A spectrum image (signal dimension 1 with navigation axes: a single
    spectrum cannot give endmembers) or a single image (signal dimension 2,
    no navigation axes), and not ``exclude`` itself.
    """
    from hyperspy.signal import BaseSignal

    if not isinstance(value, BaseSignal) or value is exclude:
        return False
    am = value.axes_manager
    if am.signal_dimension == 1:
        return am.navigation_dimension >= 1
    return am.signal_dimension == 2 and am.navigation_dimension == 0


def namespace_candidates(namespace, exclude=None) -> dict:
    """The possible ``other`` signals among the variables of ``namespace``.

    Variables whose name starts with ``_`` (IPython's output history) are
    left out, and so is ``exclude``, the signal being sharpened, under any
    name.
    """
    return {
        name: value for name, value in dict(namespace or {}).items()
        if isinstance(name, str) and not name.startswith("_") and is_candidate(value, exclude)
    }


def ipython_candidates(exclude):
    """Possible ``other`` signals of the running IPython session except ``exclude``."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with HyperSpy
        return {}
    shell = get_ipython()
    if shell is None:
        return {}
    return namespace_candidates(shell.user_ns, exclude)


class PanSharpenForm(Form):
    """Model of the pan-sharpening form: ``signal.pan_sharpen(other, ...)``.

    ``other_candidates`` maps names to the signals offered as ``other`` (the
    high spectral fidelity SI, or an ADF/HAADF image); ``other_labels`` maps
    the same names to what the list shows (name, title, shape, energy
    range). ``n_components = 0`` lets the method choose.

    Examples
    --------
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui._models import PanSharpenForm
    >>> s, _ = chequerboard_si(n_components=3, shape=(16, 16), random_state=0)
    >>> hifi = s.inav[::2, ::2]
    >>> form = PanSharpenForm(signal=s, namespace={"s": s, "hifi": hifi})
    >>> form.other_names, form.n_components
    (['hifi'], 0)
    >>> form.other_labels["hifi"]  # doctest: +ELLIPSIS
    'hifi: ... (8x8 px, 200 ch, 250-913.3 eV)'
    """

    other_candidates = Dict(Str, Any)
    other_names = List(Str)
    #: name -> label shown in the list.
    other_labels = Dict(Str, Str)
    #: The same labels for traitsui's list, in order: traitsui sorts a
    #: dict's labels and hides a common ``"NNN:"`` prefix.
    other_menu = Dict(Str, Str)
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

    def set_candidates(self, candidates=None) -> None:
        """Offer these signals as ``other`` (dict name -> signal, or a list).

        None offers the spectrum images and images among the variables of
        :attr:`namespace` (the notebook that opened the form), or of the
        running IPython session. The signal being sharpened is left out in
        every case.
        """
        if candidates is None:
            if isinstance(self.namespace, dict):
                candidates = namespace_candidates(self.namespace, exclude=self.signal)
            else:
                candidates = ipython_candidates(exclude=self.signal)
        if not isinstance(candidates, dict):
            candidates = {str(i): s for i, s in enumerate(candidates)}
        candidates = {
            str(name): value for name, value in candidates.items()
            if self.signal is None or value is not self.signal
        }
        labels = {name: candidate_label(name, value) for name, value in candidates.items()}
        self.other_candidates = candidates
        self.other_labels = labels
        self.other_menu = {name: f"{i:04d}:{label}" for i, (name, label) in
                           enumerate(labels.items())}
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
