"""Background runs of the forms: a worker thread with progress and Stop.

Progress bars created through :mod:`hspy_unmix._progress` inside the worker
are routed to the job (iterations, starts or epochs), and ``stop()`` raises
``KeyboardInterrupt`` inside the worker, exactly like Ctrl-C: the
decomposition wrapper then restores ``learning_results`` as they were.
"""

from __future__ import annotations

import ctypes
import threading
import time


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
