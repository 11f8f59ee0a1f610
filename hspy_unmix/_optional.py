"""Imports of heavy optional dependencies, done only when a method needs them."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile

#: TensorFlow's start-up notices (C++ INFO lines such as "oneDNN custom
#: operations are on", and absl's note that precedes them). TensorFlow 2.21
#: writes some of them before its logging reads TF_CPP_MIN_LOG_LEVEL.
_TF_STARTUP_NOTICE = re.compile(
    r"I\d{4} [\d:. ]+\d+ \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow"
)


@contextlib.contextmanager
def _without_tensorflow_startup_notices():
    """Hold back TensorFlow's start-up notices while it is first imported.

    The C++ library writes to file descriptor 2 directly, so the descriptor
    is pointed at a temporary file for the import; every other line written
    meanwhile (a warning, an error) is passed on to stderr afterwards.
    """
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable descriptor 2
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [line for line in text.splitlines(keepends=True)
                    if not _TF_STARTUP_NOTICE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_keras():
    """Import and return :mod:`keras` (Keras 3), with a clear error if missing.

    TensorFlow is the default backend; set ``KERAS_BACKEND`` to ``"jax"`` or
    ``"torch"`` before the first neural call to use another one.
    """
    # TensorFlow's C++ start-up messages are noise for users of a plugin
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with _without_tensorflow_startup_notices():
            keras = importlib.import_module("keras")
    except ImportError as exc:  # pragma: no cover - keras is a dependency
        raise ImportError(
            "This method needs Keras 3 and a backend (TensorFlow by default): "
            "pip install keras tensorflow-cpu"
        ) from exc
    major = int(keras.__version__.split(".")[0])
    if major < 3:  # pragma: no cover
        raise ImportError(f"Keras >= 3 is required, found {keras.__version__}.")
    return keras
