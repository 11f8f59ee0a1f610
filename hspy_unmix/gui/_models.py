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
import threading
import time

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
def parameter_kind(default) -> str:
    """Kind of control for an estimator parameter with this default value.

    ``"bool"``, ``"int"``, ``"float"``, ``"str"``, or ``"literal"`` (a Python
    literal typed as text, empty meaning ``None``).
    """
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    return "literal"


class AlgorithmParameters(HasTraits):
    """The parameters of one algorithm, one trait each, from ``get_params()``.

    Parameters
    ----------
    algorithm
        An algorithm name of :func:`hspy_unmix.available_algorithms`.

    Examples
    --------
    >>> from hspy_unmix.gui._models import AlgorithmParameters
    >>> p = AlgorithmParameters("HALS")
    >>> p.max_iter = 50
    >>> p.as_kwargs()["max_iter"]
    50
    """

    algorithm = Str()
    #: name -> kind (see :func:`parameter_kind`), in display order.
    kinds = Dict(Str, Str)
    defaults = Dict()

    def __init__(self, algorithm: str, **traits):
        from .._registry import estimator_class

        super().__init__(algorithm=algorithm, **traits)
        params = estimator_class(algorithm)().get_params(deep=False)
        kinds, defaults = {}, {}
        for name in sorted(params):
            if name in SHARED_PARAMETERS:
                continue
            default = params[name]
            kind = parameter_kind(default)
            trait = {
                "bool": Bool, "int": Int, "float": Float, "str": Str, "literal": Str,
            }[kind]
            value = "" if default is None else (repr(default) if kind == "literal" else default)
            self.add_trait(name, trait(value))
            setattr(self, name, value)
            kinds[name], defaults[name] = kind, default
        self.kinds, self.defaults = kinds, defaults

    def default_traits_view(self):
        from .traitsui_ui import parameters_view

        return parameters_view(self)

    @property
    def names(self) -> list[str]:
        return list(self.kinds)

    def as_kwargs(self) -> dict:
        """Values to pass to the estimator (only those changed from defaults)."""
        out = {}
        for name, kind in self.kinds.items():
            value = getattr(self, name)
            if kind == "literal":
                text = str(value).strip()
                try:
                    value = None if text in ("", "None") else ast.literal_eval(text)
                except (ValueError, SyntaxError) as exc:
                    raise ValueError(
                        f"{self.algorithm} parameter {name!r}: {text!r} is not a "
                        "Python literal (number, string in quotes, tuple, None)."
                    ) from exc
            if value != self.defaults[name]:
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

    def __init__(self, **traits):
        from .._registry import available_algorithms

        algorithms = traits.pop("algorithms", None) or available_algorithms()
        super().__init__(algorithms=algorithms, **traits)
        if self.parameters is None:
            self.parameters = AlgorithmParameters(self.algorithm)

    def _algorithm_changed(self, new):
        if self.traits_inited():
            self.parameters = AlgorithmParameters(new)

    def _describe(self):
        return f"{self.algorithm} with {self.n_components} components"

    def _summarize(self):
        lr = self.signal.learning_results
        return (
            f"{lr.decomposition_algorithm}: factors {lr.factors.shape}, "
            f"loadings {lr.loadings.shape}"
        )

    def _make_work(self):
        if self.n_components < 1:
            raise ValueError("the number of components must be at least 1.")
        kwargs = self.parameters.as_kwargs()
        signal = self.signal
        algorithm, n_components = self.algorithm, int(self.n_components)
        kwargs["random_state"] = int(self.random_state)
        # The decomposition wrapper hands this to estimators that report
        # progress and drops it for the others.
        kwargs["show_progressbar"] = True

        def work():
            signal.decomposition(
                algorithm=algorithm,
                output_dimension=n_components,
                print_info=False,
                **kwargs,
            )
            return signal.learning_results

        return work


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
        return f"suggested number of components: {getattr(self.result, 'n_components', '?')}"

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
