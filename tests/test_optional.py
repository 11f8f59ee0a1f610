"""Heavy optional imports: TensorFlow starts without its C++ notices."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

NOTICE = ("I0000 00:00:1796169342.721200    2102 port.cc:153] oneDNN custom operations "
          "are on. You may see slightly different numerical results.\n")


def _run(code):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=600)


def test_startup_notices_are_dropped_and_other_lines_kept():
    # what the C++ library does: write straight to descriptor 2 during the import
    code = (
        "import os, sys\n"
        "from hspy_unmix._optional import _without_tensorflow_startup_notices as quiet\n"
        "print('before', file=sys.stderr, flush=True)\n"
        "with quiet():\n"
        f"    os.write(2, {NOTICE!r}.encode())\n"
        "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called "
        "are written to STDERR\\n')\n"
        "    os.write(2, b'E0000 00:00:1.5 7 op.cc:1] a real error\\n')\n"
        "    print('a Python warning', file=sys.stderr)\n"
        "print('after', file=sys.stderr)\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [
        "before", "E0000 00:00:1.5 7 op.cc:1] a real error", "a Python warning", "after"]


@pytest.mark.neural
@pytest.mark.slow
def test_import_keras_prints_nothing():
    out = _run("from hspy_unmix._optional import import_keras; import_keras(); "
               "import tensorflow")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""


@pytest.mark.neural
@pytest.mark.slow
def test_a_neural_fit_and_the_keras_modules_print_no_tensorflow_notices():
    # the network builders are imported before the estimator sets Keras up
    out = _run(
        "import hspy_unmix\n"
        "from hspy_unmix.synthetic import chequerboard_si\n"
        "s, _ = chequerboard_si(n_components=3, shape=(8, 8), block=4, averaging=3, "
        "random_state=0)\n"
        "s.decomposition(algorithm='DAEU', output_dimension=3, epochs=1, "
        "show_progressbar=False, print_info=False, random_state=0)\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    out = _run("import hspy_unmix.neural.losses, hspy_unmix.restoration.layers.zlp_asinh_output")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
