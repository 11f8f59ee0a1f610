"""Toolkit-independent models of the hspy_unmix forms.

Each form (unmixing, zero-loss restoration, pan-sharpening, number of
components) is a traits ``HasTraits`` object holding the values the user
edits and a ``run`` method. The ipywidgets and traitsui front ends only link
their controls to these traits, so both toolkits behave the same way.

Runs happen in a worker thread (:class:`BackgroundJob`) so that the widgets
stay responsive: progress bars created through :mod:`hspy_unmix._progress`
inside the worker are routed to the form (iterations, starts or epochs), and
``stop()`` raises ``KeyboardInterrupt`` inside the worker, exactly like Ctrl-C:
the decomposition wrapper then restores ``learning_results`` as they were.
"""

from __future__ import annotations

import ast
import ctypes
import inspect
import math
import re
import threading
import time
import weakref

from traits.api import (
    Any,
    Bool,
    Button,
    Dict,
    Enum,
    Float,
    HasTraits,
    Instance,
    Int,
    List,
    Str,
)

#: Estimator parameters that the forms set themselves (or that the
#: decomposition wrapper sets) and therefore do not show per algorithm.
SHARED_PARAMETERS = frozenset(
    {"n_components", "random_state", "show_progressbar", "image_shape", "verbose"}
)

class BackgroundJob:
    """Run ``function()`` in a worker thread with progress and interruption.

    Parameters
    ----------
    function
        Callable without arguments doing the work; its return value is kept
        in :attr:`result`.
    on_progress
        Called as ``on_progress(job)`` whenever a progress bar of the worker
        advances (read :attr:`progress`).
    on_finish
        Called as ``on_finish(job)`` once the job is done, stopped or failed
        (read :attr:`state`, :attr:`result`, :attr:`error`).

    Examples
    --------
    >>> from hspy_unmix.gui._models import BackgroundJob
    >>> job = BackgroundJob(lambda: 6 * 7)
    >>> job.start().wait()
    'done'
    >>> job.result
    42
    """

    def __init__(self, function, on_progress=None, on_finish=None):
        self.function = function
        self.on_progress = on_progress
        self.on_finish = on_finish
        self.state = "idle"
        self.result = None
        self.error = None
        #: ``(description, n, total)`` of the latest progress report.
        self.progress = ("", 0, None)
        self.elapsed = 0.0
        self._thread = None
        self._lock = threading.Lock()
        self._function_returned = False
        self._stop_sent = False
        self._done = threading.Event()

    # ---------------------------------------------------------- control
    def start(self, background: bool = True) -> BackgroundJob:
        """Start the job (in a daemon thread, or here if ``background=False``)."""
        if self.state != "idle":
            raise RuntimeError("a BackgroundJob runs once; create a new one.")
        self.state = "running"
        if background:
            self._thread = threading.Thread(
                target=self._target, name="hspy_unmix-gui", daemon=True
            )
            self._thread.start()
        else:
            self._target()
        return self

    def stop(self) -> bool:
        """Interrupt the worker as Ctrl-C would; True if an interrupt was sent.

        ``KeyboardInterrupt`` is raised asynchronously in the worker thread at
        its next Python instruction (after the current compiled kernel or
        Keras batch returns).
        """
        with self._lock:
            thread = self._thread
            if (
                self._stop_sent
                or self._function_returned
                or thread is None
                or not thread.is_alive()
            ):
                return False
            self._stop_sent = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
            )
        return True

    def wait(self, timeout: float | None = None) -> str:
        """Block until the job ends (or ``timeout`` s pass); return its state."""
        self._done.wait(timeout)
        return self.state

    @property
    def running(self) -> bool:
        return self.state == "running"

    # ---------------------------------------------------------- worker
    def _target(self):
        from .._progress import progress_listener

        listener = progress_listener(self._report)
        listener.__enter__()
        outcome = ("stopped", None, None)
        start = time.perf_counter()
        try:
            try:
                value = self.function()
                outcome = ("done", value, None)
            except KeyboardInterrupt:
                outcome = ("stopped", None, None)
            except Exception as exc:  # reported in the form, not raised
                outcome = ("failed", None, exc)
            with self._lock:
                self._function_returned = True
        except KeyboardInterrupt:
            # An interrupt that arrived just after the work returned: the
            # outcome recorded above stands.
            with self._lock:
                self._function_returned = True
        finally:
            listener.__exit__(None, None, None)
        self.elapsed = time.perf_counter() - start
        self.state, self.result, self.error = outcome
        try:
            if self.on_finish is not None:
                self.on_finish(self)
        finally:
            self._done.set()

    def _report(self, desc, n, total):
        self.progress = (desc, n, total)
        if self.on_progress is not None:
            self.on_progress(self)


# ------------------------------------------------------- parameter panels
#: HyperSpy's own decomposition algorithms, offered beside the package's.
HYPERSPY_ALGORITHMS = (
    "SVD", "MLPCA", "sklearn_pca", "NMF", "sparse_pca", "mini_batch_sparse_pca",
    "RPCA", "ORPCA", "ORNMF",
)
#: The algorithm a new unmixing form starts with: non-negative, sum-to-one
#: abundances, fast, deterministic for a given seed.
DEFAULT_ALGORITHM = "VCA"


def unmixing_algorithms() -> list[str]:
    """The unmixing form's list: the package's registry, then HyperSpy's.

    Examples
    --------
    >>> from hspy_unmix.gui._models import unmixing_algorithms
    >>> names = unmixing_algorithms()
    >>> names[0], "SVD" in names, "NMF" in names
    ('VCA', True, True)
    """
    from .._registry import ALGORITHMS

    return [*ALGORITHMS, *HYPERSPY_ALGORITHMS]


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


# ------------------------------------------------------------ base form
class Form(HasTraits):
    """Shared state of every form: status line, progress and the job."""

    signal = Any()
    status = Str("Ready.")
    progress_description = Str()
    progress_fraction = Float(0.0)
    progress_text = Str()
    running = Bool(False)
    #: "idle", "running", "done", "stopped" or "failed".
    outcome = Str("idle")
    error = Any()
    result = Any()
    job = Instance(BackgroundJob)
    #: One-line description of the result once a run is done.
    summary = Str()
    #: Front-end callbacks ``f(form)`` run when a job ends.
    finish_callbacks = List()
    progress_callbacks = List()
    #: Name of the variable that receives :attr:`result` after a run, in
    #: :attr:`namespace` ("" stores nothing; the result stays in ``result``).
    store_as = Str()
    #: Where ``store_as`` is written: the namespace of the code that opened
    #: the form (a notebook's variables), by default HyperSpy's interactive
    #: namespace.
    namespace = Any()
    #: Buttons of the traitsui view (the ipywidgets view has its own).
    run_button = Button("Run")
    stop_button = Button("Stop")

    def _run_button_fired(self):
        try:
            self.run(background=True)
        except Exception as exc:  # invalid input: say so in the form
            self.status = f"Cannot run: {exc}"

    def _stop_button_fired(self):
        self.stop()

    def default_traits_view(self):
        from .traitsui_ui import form_view

        return form_view(self)

    def run(self, background: bool = True) -> BackgroundJob:
        """Run the form's action; returns the :class:`BackgroundJob`."""
        if self.running:
            raise RuntimeError("a run is already in progress; stop it first.")
        self._check_store_as()
        work = self._make_work()  # validation errors surface here, synchronously
        self.running = True
        self.outcome = "running"
        self.error = None
        self.progress_fraction = 0.0
        self.progress_text = ""
        self.status = f"Running {self._describe()}..."
        self.job = BackgroundJob(work, on_progress=self._on_progress, on_finish=self._on_finish)
        return self.job.start(background=background)

    def stop(self) -> bool:
        """Interrupt a running job (the signal keeps its previous results)."""
        if self.job is None or not self.job.running:
            return False
        self.status = "Stopping..."
        return self.job.stop()

    def wait(self, timeout: float | None = None) -> str:
        """Wait for the current job; return its outcome."""
        if self.job is not None:
            self.job.wait(timeout)
        return self.outcome

    def _check_store_as(self):
        import keyword

        name = self.store_as.strip()
        if name and (not name.isidentifier() or keyword.iskeyword(name)):
            raise ValueError(
                f"'store as' needs a Python variable name (letters, digits, _), got {name!r}."
            )

    def store(self) -> str | None:
        """Write :attr:`result` into :attr:`namespace` as :attr:`store_as`.

        Returns the name used, or None when ``store_as`` is empty or there is
        no result yet.
        """
        name = self.store_as.strip()
        if not name or self.result is None:
            return None
        namespace = self.namespace
        if namespace is None:
            from hyperspy.misc.ipython_tools import get_interactive_ns

            namespace = self.namespace = get_interactive_ns()
        namespace[name] = self.result
        return name

    # hooks -------------------------------------------------------------
    def _make_work(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _describe(self) -> str:
        return "..."

    def _summarize(self) -> str:
        result = self.result
        if hasattr(result, "data"):
            return f"{type(result).__name__} of shape {result.data.shape}"
        return repr(result)

    def _on_progress(self, job):
        desc, n, total = job.progress
        self.progress_description = desc
        if total:
            self.progress_fraction = min(1.0, n / total)
            self.progress_text = f"{desc}: {n}/{total}"
        else:
            self.progress_text = f"{desc}: {n}"
        for callback in list(self.progress_callbacks):
            callback(self)

    def _on_finish(self, job):
        self.outcome = job.state
        if job.state == "done":
            self.result = job.result
            self.progress_fraction = 1.0
            desc, n, total = job.progress
            if desc and total and n < total:
                # converged before the largest number of steps: say so, so
                # that the full bar and the label agree
                self.progress_text = f"{desc}: converged after {n} of at most {total}"
            try:
                self.summary = self._summarize()
            except Exception:  # a summary must never hide a finished result
                self.summary = ""
            status = f"Done: {self._describe()} in {job.elapsed:.1f} s."
            try:
                stored = self.store()
            except Exception as exc:  # the result stays in form.result
                stored, status = None, f"{status} Not stored: {exc}"
            if stored:
                status = f"{status} Stored as the variable {stored}."
            self.status = status
        elif job.state == "stopped":
            self.status = "Stopped; the signal keeps its previous results."
        else:
            self.error = job.error
            self.status = f"Failed: {type(job.error).__name__}: {job.error}"
        self.running = False
        for callback in list(self.finish_callbacks):
            callback(self)


def _accepts(function, name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


# ------------------------------------------------------------ unmixing
class UnmixingForm(Form):
    """Model of the unmixing form: ``signal.decomposition(algorithm=...)``.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> from hspy_unmix.gui._models import UnmixingForm
    >>> s, _ = chequerboard_si(n_components=3, random_state=0)
    >>> form = UnmixingForm(signal=s, algorithm="VCA", n_components=3)
    >>> form.run(background=False).state
    'done'
    >>> s.learning_results.decomposition_algorithm
    'VCA'
    """

    algorithms = List(Str)
    algorithm = Enum(values="algorithms")
    n_components = Int(3)
    random_state = Int(0)
    parameters = Instance(AlgorithmParameters)
    #: Poisson normalisation of the counts (HyperSpy's
    #: ``normalize_poissonian_noise``), recommended for EELS counts.
    normalize_poissonian_noise = Bool(False)
    #: Energy range used (signal axis units); the channels outside it are
    #: masked (HyperSpy's ``signal_mask``).
    energy_start = Float()
    energy_end = Float()
    #: Names of boolean masks offered (from the caller's variables), "" none.
    mask_names = List(Str)
    navigation_mask = Enum(values="mask_names")
    signal_mask = Enum(values="mask_names")
    masks = Dict(Str, Any)
    #: Where the suggested K came from ("" when K is the default).
    n_components_source = Str()

    def __init__(self, **traits):
        algorithms = traits.pop("algorithms", None) or unmixing_algorithms()
        namespace = traits.pop("namespace", None)
        masks = traits.pop("masks", None)
        traits.setdefault(
            "algorithm", DEFAULT_ALGORITHM if DEFAULT_ALGORITHM in algorithms else algorithms[0]
        )
        explicit_k = "n_components" in traits
        super().__init__(algorithms=algorithms, namespace=namespace, **traits)
        if self.parameters is None:
            self.parameters = AlgorithmParameters(self.algorithm)
        if self.signal is not None:
            axis = self.signal.axes_manager.signal_axes[0]
            if "energy_start" not in traits:
                self.energy_start = clean_float(float(axis.axis[0]))
            if "energy_end" not in traits:
                self.energy_end = clean_float(float(axis.axis[-1]))
            suggested = suggested_n_components(self.signal)
            if suggested is not None and not explicit_k:
                self.n_components = suggested
                self.n_components_source = "from the number-of-components estimate"
            _UNMIXING_FORMS.add(self)
        self.set_masks(masks)

    def set_masks(self, masks=None) -> None:
        """Offer these boolean masks (dict name -> array or signal).

        None offers the boolean arrays and signals of :attr:`namespace`
        whose shape is the navigation or the signal shape of the signal.
        """
        if masks is None:
            masks = {}
            if self.signal is not None and isinstance(self.namespace, dict):
                shapes = {
                    tuple(self.signal.axes_manager.navigation_shape[::-1]),
                    tuple(self.signal.axes_manager.signal_shape[::-1]),
                }
                from hyperspy.signal import BaseSignal

                for name, value in self.namespace.items():
                    # (a numpy array's own .data is its buffer, not the values)
                    data = value.data if isinstance(value, BaseSignal) else value
                    if (not name.startswith("_") and getattr(data, "dtype", None) is not None
                            and data.dtype == bool and tuple(data.shape) in shapes):
                        masks[name] = value
        self.masks = dict(masks)
        self.mask_names = ["", *self.masks]

    def _algorithm_changed(self, new):
        if self.traits_inited():
            self.parameters = AlgorithmParameters(new)

    def _n_components_changed(self):
        self.n_components_source = ""  # the user's own choice from now on

    def _describe(self):
        return f"{self.algorithm} with {self.n_components} components"

    def _summarize(self):
        lr = self.signal.learning_results
        return (
            f"{lr.decomposition_algorithm}: factors {lr.factors.shape}, "
            f"loadings {lr.loadings.shape}"
        )

    def _energy_mask(self):
        axis = self.signal.axes_manager.signal_axes[0]
        energies = axis.axis
        start, end = sorted((self.energy_start, self.energy_end))
        tolerance = abs(axis.scale) * 1e-6 if hasattr(axis, "scale") else 0.0
        inside = (energies >= start - tolerance) & (energies <= end + tolerance)
        if inside.all():
            return None
        if inside.sum() < max(2, int(self.n_components)):
            raise ValueError(
                f"the energy range {start:g} to {end:g} keeps {int(inside.sum())} channels; "
                f"it needs at least K = {self.n_components}."
            )
        return ~inside

    def _make_work(self):
        import numpy as np

        from .._registry import normalise_name

        if self.n_components < 1:
            raise ValueError("the number of components must be at least 1.")
        kwargs = self.parameters.as_kwargs()
        signal = self.signal
        algorithm, n_components = self.algorithm, int(self.n_components)
        options = {"print_info": False}
        if self.normalize_poissonian_noise:
            options["normalize_poissonian_noise"] = True
        signal_mask = self._energy_mask()
        if self.signal_mask:
            from hyperspy.signal import BaseSignal

            chosen = self.masks[self.signal_mask]
            chosen = np.asarray(chosen.data if isinstance(chosen, BaseSignal) else chosen,
                                dtype=bool)
            signal_mask = chosen if signal_mask is None else (signal_mask | chosen)
        if signal_mask is not None:
            options["signal_mask"] = signal_mask
        if self.navigation_mask:
            options["navigation_mask"] = self.masks[self.navigation_mask]
        if normalise_name(algorithm) is not None:
            kwargs["random_state"] = int(self.random_state)
            # The decomposition wrapper hands this to estimators that report
            # progress and drops it for the others.
            kwargs["show_progressbar"] = True
        elif algorithm not in ("SVD", "MLPCA", "RPCA", "ORPCA", "ORNMF"):
            kwargs["random_state"] = int(self.random_state)  # scikit-learn's

        def work():
            signal.decomposition(
                algorithm=algorithm, output_dimension=n_components, **options, **kwargs
            )
            return signal.learning_results

        return work


#: Numbers of components suggested by the number-of-components form, by
#: signal (weak references: a deleted signal is forgotten).
_SUGGESTED = weakref.WeakKeyDictionary()
_UNMIXING_FORMS = weakref.WeakSet()


def suggested_n_components(signal) -> int | None:
    """The K the number-of-components form suggested for ``signal``, if run."""
    try:
        return _SUGGESTED.get(signal)
    except TypeError:  # pragma: no cover - an unhashable signal
        return None


def _remember_suggestion(signal, n_components) -> None:
    try:
        _SUGGESTED[signal] = int(n_components)
    except TypeError:  # pragma: no cover
        return
    for form in list(_UNMIXING_FORMS):
        # open unmixing forms of this signal follow the new estimate unless
        # the user chose K there
        if form.signal is signal and not form.running and (
            form.n_components_source or form.n_components == 3
        ):
            form.n_components = int(n_components)
            form.n_components_source = "from the number-of-components estimate"


# --------------------------------------------------------- restore_zlp
class RestoreZLPForm(Form):
    """Model of the zero-loss restoration form: ``signal.restore_zlp(...)``.

    Examples
    --------
    >>> from hspy_unmix.gui._models import RestoreZLPForm
    >>> RestoreZLPForm().method
    'unet'
    """

    method = Enum("unet", "richardson_lucy")
    iterations = Int(50)
    store_as = Str("s_restored")

    def _describe(self):
        return f"restore_zlp ({self.method})"

    def _make_work(self):
        if self.iterations < 1:
            raise ValueError("iterations must be at least 1.")
        signal, method = self.signal, self.method
        kwargs = {"method": method}
        function = type(signal).restore_zlp
        for name, value in (("iterations", int(self.iterations)), ("show_progressbar", True)):
            if _accepts(function, name):
                kwargs[name] = value
        return lambda: signal.restore_zlp(**kwargs)


# --------------------------------------------------------- pan_sharpen
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


# ------------------------------------------------- number of components
class NComponentsForm(Form):
    """Model of the number-of-components helper.

    Runs :func:`hspy_unmix.estimate_n_components` on the signal.

    Examples
    --------
    >>> from hspy_unmix.gui._models import NComponentsForm
    >>> NComponentsForm().max_components
    10
    """

    max_components = Int(10)
    #: Seed of the estimate (ARD-SO-NMF): the same run gives the same answer.
    random_state = Int(0)

    def _describe(self):
        return f"estimate_n_components (up to {self.max_components})"

    def _summarize(self):
        suggested = getattr(self.result, "n_components", None)
        if suggested is not None and self.signal is not None:
            _remember_suggestion(self.signal, suggested)
        return f"suggested number of components: {suggested if suggested is not None else '?'}"

    def _make_work(self):
        if self.max_components < 1:
            raise ValueError("max_components must be at least 1.")
        from ..unmixing.n_components import estimate_n_components

        signal, max_components = self.signal, int(self.max_components)
        kwargs = {}
        for name, value in (("show_progressbar", True),
                            ("random_state", int(self.random_state))):
            if _accepts(estimate_n_components, name):
                kwargs[name] = value
        return lambda: estimate_n_components(signal, max_components=max_components, **kwargs)
