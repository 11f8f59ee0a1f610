"""Base class of the form models: status, progress, Run/Stop, "Store as"."""

from __future__ import annotations

import inspect

from traits.api import Any, Bool, Button, Float, HasTraits, Instance, List, Str

from ._job import BackgroundJob


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
            elif not desc:
                # no steps reported (a one-pass algorithm): the full bar
                # still needs a label
                self.progress_text = "completed"
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


def axis_units(axis) -> str:
    """The units of a HyperSpy axis, "" when it has none (HyperSpy's ``<undefined>``)."""
    return axis.units if isinstance(axis.units, str) and axis.units != "<undefined>" else ""


def _accepts(function, name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
