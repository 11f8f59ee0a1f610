"""Parameter panels: one typed trait per parameter of a registered estimator.

The controls are generated from the estimator itself: ``get_params()`` gives
the names and defaults, the ``__init__`` annotations and the numpydoc
"Parameters" section give the kind of control (dropdown, bounded number,
automatic switch for ``None``, text) and its help.
"""

from __future__ import annotations

import ast
import inspect
import math
import re

from traits.api import Bool, Dict, Enum, Float, HasTraits, Int, Str

#: Estimator parameters that the forms set themselves (or that the
#: decomposition wrapper sets) and therefore do not show per algorithm.
SHARED_PARAMETERS = frozenset(
    {"n_components", "random_state", "show_progressbar", "image_shape", "verbose"}
)

def parameter_docs(cls) -> dict[str, str]:
    """``{name: description}`` from the numpydoc "Parameters" section of ``cls``."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    lines = doc.splitlines()
    out, name, text, inside = {}, None, [], False
    for i, line in enumerate(lines):
        if not inside:
            inside = line.strip() == "Parameters" and i + 1 < len(lines) and (
                lines[i + 1].strip().startswith("---"))
            continue
        if line.strip().startswith("---"):
            continue
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line and not line[0].isspace():
            if following.startswith("---"):  # next section
                break
            if name is not None:
                out[name] = " ".join(text)
            name, text = line.split(":")[0].strip(), []
        elif name is not None and line.strip():
            text.append(line.strip())
    if name is not None:
        out[name] = " ".join(text)
    return out


def _annotation(cls, name) -> str:
    try:
        parameter = inspect.signature(cls.__init__).parameters.get(name)
    except (TypeError, ValueError):  # pragma: no cover
        return ""
    if parameter is None or parameter.annotation is inspect.Parameter.empty:
        return ""
    annotation = parameter.annotation
    return annotation if isinstance(annotation, str) else getattr(
        annotation, "__name__", str(annotation))


def _quoted_choices(description: str) -> list[str]:
    seen = []
    for choice in re.findall(r'``"([^"`]+)"``', description):
        if choice not in seen:
            seen.append(choice)
    return seen


def parameter_kind(default, annotation: str = "", description: str = "") -> str:
    """Kind of control for an estimator parameter.

    ``"bool"``, ``"int"``, ``"float"``, ``"choice"`` (a string among the
    values quoted in its description), ``"str"``, ``"optional_int"`` and
    ``"optional_float"`` (``None`` meaning automatic), ``"sequence"`` (numbers
    separated by commas) or ``"literal"`` (a Python literal typed as text).

    Examples
    --------
    >>> from hspy_unmix.gui._models import parameter_kind
    >>> parameter_kind("fcls", "str", '``"fcls"`` or ``"nnls"``')
    'choice'
    >>> parameter_kind(None, "float | None")
    'optional_float'
    """
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "choice" if len(set(_quoted_choices(description)) | {default}) > 1 else "str"
    if default is None and "bool" not in annotation:
        if "int" in annotation and "float" not in annotation:
            return "optional_int"
        if "float" in annotation or "int" in annotation:
            return "optional_float"
    if isinstance(default, tuple) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in default
    ):
        return "sequence"
    return "literal"


def clean_float(value: float) -> float:
    """``value`` rounded to 10 significant digits (1.000000000000001 -> 1.0)."""
    return float(f"{value:.10g}")


class ParameterSpec:
    """What a form shows for one estimator parameter.

    Attributes: ``name``, ``kind`` (see :func:`parameter_kind`),
    ``default``, ``choices`` (for ``"choice"``), ``low``/``high`` bounds of
    numbers (None: unbounded) and ``help`` (the numpydoc description).
    """

    def __init__(self, name, kind, default, choices=(), low=None, high=None, help=""):
        self.name, self.kind, self.default = name, kind, default
        self.choices, self.low, self.high, self.help = list(choices), low, high, help

    def __repr__(self):
        return f"ParameterSpec({self.name!r}, {self.kind!r}, default={self.default!r})"


_POSITIVE_INT = re.compile(
    r"^(n_|max_)|^(epochs|batch_size|filters|max_patches)$|_size$|_units$|_passes$")


def parameter_specs(algorithm: str) -> dict[str, ParameterSpec]:
    """The form's description of each parameter of a registered algorithm."""
    from .._registry import estimator_class, normalise_name

    if normalise_name(algorithm) is None:
        return {}  # HyperSpy's own algorithm: its options are the form's own
    cls = estimator_class(algorithm)
    docs = parameter_docs(cls)
    specs = {}
    for name, default in sorted(cls().get_params(deep=False).items()):
        if name in SHARED_PARAMETERS:
            continue
        help_text = docs.get(name, "")
        kind = parameter_kind(default, _annotation(cls, name), help_text)
        low = high = None
        choices = ()
        if kind == "choice":
            choices = _quoted_choices(help_text)
            if default not in choices:
                choices.insert(0, default)
        elif kind in ("int", "optional_int"):
            if default is None or default >= 0:
                low = 1 if (_POSITIVE_INT.search(name) and (default or 1) >= 1) else 0
        elif kind in ("float", "optional_float"):
            if default is None or default >= 0:
                low = 0.0
            text = help_text.lower()
            if "fraction" in text or "rate of" in text or name in ("dropout",):
                high = 1.0
        specs[name] = ParameterSpec(name, kind, default, choices, low, high, help_text)
    return specs


class AlgorithmParameters(HasTraits):
    """The parameters of one algorithm, one trait each, from ``get_params()``.

    Choices are ``Enum`` traits (dropdowns), numbers are bounded where the
    parameter says so, an optional number (``None`` by default) has an
    ``<name>_auto`` switch beside it, and every parameter carries the help
    text of the estimator's docstring (:attr:`specs`).

    Parameters
    ----------
    algorithm
        An algorithm name of :func:`hspy_unmix.available_algorithms` (or
        one of HyperSpy's, which has no parameters here).

    Examples
    --------
    >>> from hspy_unmix.gui._models import AlgorithmParameters
    >>> p = AlgorithmParameters("HALS")
    >>> p.max_iter = 50
    >>> p.as_kwargs()["max_iter"]
    50
    >>> AlgorithmParameters("ARD_SO_NMF").a
    1.0
    """

    algorithm = Str()
    #: name -> kind (see :func:`parameter_kind`), in display order.
    kinds = Dict(Str, Str)
    defaults = Dict()
    specs = Dict()

    def __init__(self, algorithm: str, **traits):
        super().__init__(algorithm=algorithm, **traits)
        specs = parameter_specs(algorithm)
        kinds, defaults = {}, {}
        for name, spec in specs.items():
            kind, default = spec.kind, spec.default
            if kind == "choice":
                self.add_trait(name, Enum(*spec.choices))
                value = default
            elif kind in ("optional_int", "optional_float"):
                number = Int if kind == "optional_int" else Float
                low = spec.low if spec.low is not None else 0
                value = number(low if kind == "optional_float" else max(low, 1)).default_value
                self.add_trait(name, number(value))
                self.add_trait(f"{name}_auto", Bool(True))
                setattr(self, f"{name}_auto", True)
            elif kind == "float":
                value = clean_float(default)
                self.add_trait(name, Float(value))
            elif kind == "sequence":
                value = ", ".join(repr(v) for v in default)
                self.add_trait(name, Str(value))
            elif kind == "literal":
                value = "" if default is None else repr(default)
                self.add_trait(name, Str(value))
            else:
                trait = {"bool": Bool, "int": Int, "str": Str}[kind]
                value = default
                self.add_trait(name, trait(value))
            setattr(self, name, value)
            kinds[name], defaults[name] = kind, default
        self.kinds, self.defaults, self.specs = kinds, defaults, specs

    def default_traits_view(self):
        from .traitsui_ui import parameters_view

        return parameters_view(self)

    @property
    def names(self) -> list[str]:
        return list(self.kinds)

    def _value(self, name, kind):
        value = getattr(self, name)
        if kind in ("optional_int", "optional_float"):
            return None if getattr(self, f"{name}_auto") else value
        if kind == "sequence":
            text = str(value).strip().strip("()[]")
            try:
                items = [ast.literal_eval(v.strip()) for v in text.split(",") if v.strip()]
                if not all(isinstance(v, (int, float)) for v in items):
                    raise ValueError
            except (ValueError, SyntaxError) as exc:
                raise ValueError(
                    f"{self.algorithm} parameter {name!r}: {value!r} is not a list of "
                    "numbers separated by commas (for example 64, 32)."
                ) from exc
            return tuple(items)
        if kind == "literal":
            text = str(value).strip()
            try:
                return None if text in ("", "None") else ast.literal_eval(text)
            except (ValueError, SyntaxError) as exc:
                raise ValueError(
                    f"{self.algorithm} parameter {name!r}: {text!r} is not a "
                    "Python literal (number, string in quotes, tuple, None)."
                ) from exc
        spec = self.specs[name]
        if kind in ("int", "float") and (
            (spec.low is not None and value < spec.low)
            or (spec.high is not None and value > spec.high)
        ):
            raise ValueError(
                f"{self.algorithm} parameter {name!r} must lie in "
                f"[{spec.low}, {spec.high if spec.high is not None else 'inf'}], got {value}."
            )
        return value

    def as_kwargs(self) -> dict:
        """Values to pass to the estimator (only those changed from defaults)."""
        out = {}
        for name, kind in self.kinds.items():
            value = self._value(name, kind)
            default = self.defaults[name]
            if kind == "float" and math.isclose(value, default, rel_tol=1e-9, abs_tol=0.0):
                continue
            if value != default:
                out[name] = value
        return out
