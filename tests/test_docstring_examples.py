"""The Examples sections of the package's docstrings run and show what they print.

Every module of the package is searched (objects defined in it, as
``pytest --doctest-modules`` does); examples marked ``# doctest: +SKIP`` (a
network fit of minutes, a window) are the only ones left out.
"""

from __future__ import annotations

import doctest
import importlib
import io
import os
import pkgutil

import pytest

import hspy_unmix

#: Modules whose examples open Qt windows: they need a display or Qt's
#: offscreen platform (``QT_QPA_PLATFORM=offscreen``, as CI sets).
NEEDS_QT = {"hspy_unmix.gui.traitsui_ui"}


def _modules():
    return sorted(info.name for info in pkgutil.walk_packages(hspy_unmix.__path__, "hspy_unmix.")
                  if not info.name.endswith("__main__"))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    if name in NEEDS_QT and not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")):
        pytest.skip("its examples open Qt windows: no display and no QT_QPA_PLATFORM")
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()
