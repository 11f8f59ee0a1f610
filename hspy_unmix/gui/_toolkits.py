"""Which GUI toolkit can show a form here, decided without importing Qt.

``import traitsui.api`` lets pyface create a Qt application; on a Linux
server without a display Qt then aborts the whole process (a Jupyter or
Voila kernel dies). Everything here therefore looks only at installed
packages, environment variables and the running IPython kernel, and probes Qt
in a child process when it cannot tell otherwise. traitsui is used only once
these checks pass; otherwise the forms fall back to ipywidgets.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

#: Qt platforms that need no display server.
_HEADLESS_QT_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs")
_QT_BINDINGS = ("PyQt5", "PyQt6", "PySide6", "PySide2")

_PROBE_CACHE: dict[tuple, str | None] = {}


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_package(toolkit: str) -> str | None:
    """The pip package a toolkit's forms lack here, or None if installed.

    Examples
    --------
    >>> from hspy_unmix.gui._toolkits import missing_package
    >>> missing_package("ipywidgets") is None
    True
    """
    if toolkit == "ipywidgets":
        return None if _installed("ipywidgets") else "ipywidgets"
    if toolkit == "traitsui":
        if not _installed("traitsui"):
            return "traitsui"
        if not any(_installed(name) for name in _QT_BINDINGS):
            return "pyqt5"
        return None
    return None


def _qt_application_exists() -> bool:
    """True if this process already runs a Qt application (no import)."""
    for binding in _QT_BINDINGS:
        widgets = sys.modules.get(f"{binding}.QtWidgets")
        if widgets is not None:
            try:
                if widgets.QApplication.instance() is not None:
                    return True
            except Exception:  # pragma: no cover - a broken binding
                pass
    return False


def _kernel_without_qt() -> bool:
    """True inside a Jupyter kernel whose event loop is not Qt.

    A traitsui window there would not respond (and on a server has no
    display); HyperSpy's traitsui forms make the same choice by reading the
    matplotlib backend.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover
        return False
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    loop = str(getattr(shell, "active_eventloop", "") or "").lower()
    if "qt" in loop:
        return False
    return "qt" not in _matplotlib_backend()


def _matplotlib_backend() -> str:
    """The matplotlib backend set so far, lower case ("" if none yet).

    Read from the raw rcParams: the ordinary lookup would resolve (and
    start) a default backend.
    """
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is None:
        return ""
    value = dict.get(matplotlib.rcParams, "backend", "")
    return value.lower() if isinstance(value, str) else ""


def _probe_qt() -> str | None:
    """Start a Qt application in a child process; None if it worked."""
    key = tuple(os.environ.get(name) for name in
                ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XAUTHORITY"))
    if key in _PROBE_CACHE:
        return _PROBE_CACHE[key]
    code = (
        "import sys\n"
        "for name in ('PyQt5', 'PyQt6', 'PySide6', 'PySide2'):\n"
        "    try:\n"
        "        module = __import__(name + '.QtWidgets', fromlist=['QApplication'])\n"
        "    except ImportError:\n"
        "        continue\n"
        "    module.QApplication([])\n"
        "    sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                              timeout=30, text=True)
        if done.returncode == 0:
            reason = None
        else:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            detail = lines[0] if lines else f"exit status {done.returncode}"
            reason = f"Qt cannot start here ({detail})"
    except (OSError, subprocess.SubprocessError) as exc:
        reason = f"Qt cannot start here ({exc})"
    _PROBE_CACHE[key] = reason
    return reason


def traitsui_unavailable(display: bool = True) -> str | None:
    """Why traitsui cannot show a window here, or None if it can.

    Nothing of traitsui, pyface or Qt is imported. ``display=False`` only
    asks for the packages (the form model needs no window).

    Examples
    --------
    >>> from hspy_unmix.gui._toolkits import traitsui_unavailable
    >>> isinstance(traitsui_unavailable(display=False), (str, type(None)))
    True
    """
    package = missing_package("traitsui")
    if package is not None:
        return f"the traitsui forms need {package} (pip install 'hspy-unmix[gui]')"
    if not display:
        return None
    from traits.etsconfig.api import ETSConfig

    ets = (ETSConfig.toolkit or os.environ.get("ETS_TOOLKIT", "")).split(".")[0]
    if ets == "null":
        return "traitsui has no GUI backend (ETS toolkit 'null')"
    if _qt_application_exists():
        return None
    if _kernel_without_qt():
        return ("this Jupyter kernel has no Qt event loop (run %gui qt or "
                "%matplotlib qt first to use traitsui windows)")
    if ets == "wx":
        return None
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].lower()
    if platform in _HEADLESS_QT_PLATFORMS:
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display for traitsui windows (DISPLAY and WAYLAND_DISPLAY are unset)"
    return _probe_qt()


def usable_toolkits(requested, display: bool) -> list[str]:
    """The toolkits to use for a ``*_gui(toolkit=requested)`` call.

    ``requested=None`` takes the toolkits enabled in HyperSpy's preferences
    and silently leaves out those that cannot work here (traitsui without a
    display or inside a kernel without Qt). A toolkit named explicitly must
    work: a missing package raises ``ImportError`` naming it, a missing
    display raises ``RuntimeError``.
    """
    if requested is None:
        from hyperspy.defaults_parser import preferences

        enabled = [
            name for name in ("ipywidgets", "traitsui")
            if getattr(preferences.GUIs, f"enable_{name}_gui", False)
        ]
        if not enabled:
            raise ValueError(
                "No toolkit available: the ipywidgets and traitsui toolkits are "
                "disabled in HyperSpy's preferences (hs.preferences.GUIs); enable "
                "one or pass toolkit='ipywidgets'."
            )
        chosen = []
        for name in enabled:
            if name == "ipywidgets" and missing_package(name) is None:
                chosen.append(name)
            elif name == "traitsui" and traitsui_unavailable(display) is None:
                chosen.append(name)
        if not chosen:
            reasons = []
            if "ipywidgets" in enabled:
                reasons.append("ipywidgets is not installed")
            if "traitsui" in enabled:
                reasons.append(traitsui_unavailable(display))
            if "ipywidgets" in enabled and missing_package("ipywidgets"):
                raise ImportError(
                    "the hspy_unmix forms need ipywidgets here (" + "; ".join(reasons)
                    + "): pip install 'hspy-unmix[gui]'", name="ipywidgets",
                )
            raise RuntimeError("no GUI toolkit can show a form here: " + "; ".join(reasons))
        return chosen
    names = (requested,) if isinstance(requested, str) else tuple(requested)
    for name in names:
        package = missing_package(name)
        if package is not None:
            raise ImportError(
                f"toolkit={name!r} needs the {package} package: pip install "
                f"'hspy-unmix[gui]'" + (" pyqt5" if package == "pyqt5" else ""),
                name=package,
            )
        if name == "traitsui":
            reason = traitsui_unavailable(display)
            if reason is not None:
                raise RuntimeError(
                    f"toolkit='traitsui' cannot open a window: {reason}. Use "
                    "toolkit='ipywidgets' in Jupyter, or set QT_QPA_PLATFORM=offscreen "
                    "for windows that are never shown."
                )
    return list(names)
