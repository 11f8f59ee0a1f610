"""Toolkit choice: never abort on a server without a display."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types

import pytest

pytest.importorskip("ipywidgets")

from hspy_unmix.gui import _toolkits  # noqa: E402

_HEADLESS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import IPython.display
    shown = []
    IPython.display.display = lambda *objs, **kw: shown.extend(objs)
    import hspy_unmix
    from hspy_unmix.synthetic import chequerboard_si
    s, _ = chequerboard_si(n_components=3, shape=(16, 16), random_state=0)
    for method in ("unmix_gui", "restore_zlp_gui", "pan_sharpen_gui",
                   "estimate_n_components_gui"):
        getattr(s, method)()
    try:
        s.unmix_gui(toolkit="traitsui")
        explicit = "no error"
    except RuntimeError as exc:
        explicit = str(exc)
    print(json.dumps({
        "shown": [type(obj).__module__ + "." + type(obj).__name__ for obj in shown],
        "classes": [sorted(getattr(obj, "_dom_classes", ())) for obj in shown],
        "qt_imported": sorted(m for m in sys.modules
                              if m.startswith(("PyQt5.QtWidgets", "traitsui.api",
                                               "pyface.qt"))),
        "explicit": explicit,
    }))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland display check")
def test_default_toolkit_survives_without_display(tmp_path):
    """No DISPLAY and no QT_QPA_PLATFORM: the process lives, ipywidgets shows."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "ETS_TOOLKIT",
                        "MPLBACKEND")}
    script = tmp_path / "headless.py"
    script.write_text(_HEADLESS_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["shown"] == ["ipywidgets.widgets.widget_box.VBox"] * 4
    assert all("hspy-unmix-form" in classes for classes in report["classes"])
    assert report["qt_imported"] == []
    assert "cannot open a window" in report["explicit"]
    assert "DISPLAY" in report["explicit"]


def test_no_display_means_no_traitsui(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "ETS_TOOLKIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(_toolkits, "_qt_application_exists", lambda: False)
    assert "no display" in _toolkits.traitsui_unavailable()
    assert _toolkits.traitsui_unavailable(display=False) is None
    assert _toolkits.usable_toolkits(None, display=True) == ["ipywidgets"]
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert _toolkits.traitsui_unavailable() is None


def test_jupyter_kernel_without_qt_uses_ipywidgets(monkeypatch):
    import IPython

    shell = types.SimpleNamespace(kernel=object(), active_eventloop=None)
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(_toolkits, "_qt_application_exists", lambda: False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(_toolkits, "_matplotlib_backend", lambda: "module://matplotlib_inline")
    assert "Qt event loop" in _toolkits.traitsui_unavailable()
    assert _toolkits.usable_toolkits(None, display=True) == ["ipywidgets"]
    shell.active_eventloop = "qt5"
    assert _toolkits.traitsui_unavailable() is None


@pytest.mark.parametrize(("toolkit", "package", "absent"), [
    ("traitsui", "traitsui", {"traitsui"}),
    ("traitsui", "pyqt5", {"PyQt5", "PyQt6", "PySide6", "PySide2"}),
    ("ipywidgets", "ipywidgets", {"ipywidgets"}),
])
def test_requested_toolkit_missing_names_the_package(monkeypatch, eels3, toolkit, package,
                                                     absent):
    installed = _toolkits._installed
    monkeypatch.setattr(_toolkits, "_installed", lambda name: name not in absent
                        and installed(name))
    s, _ = eels3
    with pytest.raises(ImportError, match=package) as info:
        s.unmix_gui(display=False, toolkit=toolkit)
    assert info.value.name == package


def test_default_toolkit_leaves_out_missing_traitsui(monkeypatch, eels3):
    installed = _toolkits._installed
    monkeypatch.setattr(_toolkits, "_installed",
                        lambda name: name != "traitsui" and installed(name))
    s, _ = eels3
    assert set(s.unmix_gui(display=False)) == {"ipywidgets"}
