"""Module paths from before the layout by capability still import, as the same modules."""

import importlib
import sys

import pytest

import hspy_unmix
from hspy_unmix._aliases import MODULE_ALIASES


@pytest.mark.parametrize("old", sorted(set(MODULE_ALIASES) - {"hspy_unmix.neural.models"}))
def test_old_path_is_the_new_module(old):
    module = importlib.import_module(old)
    assert module is importlib.import_module(MODULE_ALIASES[old])
    assert module.__spec__.name == MODULE_ALIASES[old]


def test_old_names_import():
    from hspy_unmix.abundances import fcls_abundances, nnls_abundances  # noqa: F401
    from hspy_unmix.components import estimate_n_components  # noqa: F401
    from hspy_unmix.nmf import HALS
    from hspy_unmix.pan_sharpening import pan_sharpen  # noqa: F401
    from hspy_unmix.vca import VCA

    assert VCA is hspy_unmix.VCA and HALS is hspy_unmix.HALS
    assert hspy_unmix.vca is sys.modules["hspy_unmix.unmixing.vca"]


def test_old_neural_paths_do_not_import_keras():
    import subprocess

    code = ("import sys; from hspy_unmix.neural.autoencoders import DAEU, AE; "
            "import hspy_unmix.neural.models; "
            "print('keras' in sys.modules or 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
