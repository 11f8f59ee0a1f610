"""HyperSpy's decomposition tests and exspy's EELS tests pass with the plugin.

They run in a subprocess that imports ``hspy_unmix`` first, so every EELS
signal they create carries the added methods and the wrapped
``decomposition``. Tests of those suites that need the network are not among
the modules selected here.
"""

import subprocess
import sys

import pytest

UPSTREAM_MODULES = [
    "hyperspy.tests.learn",
    "exspy.tests.signals.test_eels",
]


@pytest.mark.upstream
@pytest.mark.slow
def test_hyperspy_learn_and_exspy_eels_suites_pass_with_plugin(tmp_path):
    code = (
        "import sys, hspy_unmix, pytest; "
        "assert hasattr(__import__('exspy').signals.EELSSpectrum, 'pan_sharpen'); "
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:xdist', "
        f"'-W', 'ignore', '--pyargs', *{UPSTREAM_MODULES!r}]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
        timeout=1500,
    )
    tail = out.stdout[-3000:] + out.stderr[-2000:]
    assert out.returncode == 0, tail
    assert " passed" in out.stdout and " failed" not in out.stdout, tail
