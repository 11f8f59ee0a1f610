"""The docstrings of the public API pass the numpydoc checks of the docs build.

The build (docs/conf.py, ``numpydoc_validation_checks``) fails on them with
``-W``; this test gives the same answer in seconds, without Sphinx.
"""

import inspect
import pathlib
import runpy

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

CONF = runpy.run_path(str(pathlib.Path(__file__).resolve().parents[2] / "docs" / "conf.py"))
CHECKS = CONF["numpydoc_validation_checks"]

#: The signal methods, documented on their own page (not in an ``__all__``).
SIGNAL_METHODS = [
    "hspy_unmix.signals.decomposition.apply_unmixing",
    "hspy_unmix.signals.restore_zlp.restore_zlp",
    "hspy_unmix.fusion.pan_sharpening.pan_sharpen",
    "hspy_unmix.gui.methods.unmix_gui",
    "hspy_unmix.gui.methods.restore_zlp_gui",
    "hspy_unmix.gui.methods.pan_sharpen_gui",
    "hspy_unmix.gui.methods.estimate_n_components_gui",
]


def _documented():
    """Import paths of the public functions, classes and their own methods."""
    names, missing = CONF["_public_names"]()
    assert not missing
    seen, out = set(), []
    for name, obj in names.items():
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) or id(obj) in seen:
            continue
        seen.add(id(obj))
        out.append(name)
        if inspect.isclass(obj):
            for attr, member in inspect.getmembers(obj):
                if attr.startswith("_") or not callable(member):
                    continue
                if not (getattr(member, "__module__", "") or "").startswith("hspy_unmix"):
                    continue  # scikit-learn's get_params, set_output...: not documented
                out.append(f"{name}.{attr}")
    return out + SIGNAL_METHODS


def test_the_build_checks_sections():
    # a missing Parameters or Returns section, or no docstring, fails the build
    assert {"PR01", "RT01", "GL08", "SS01"} <= CHECKS


@pytest.mark.parametrize("name", _documented())
def test_public_docstring(name):
    errors = [f"{code}: {msg}" for code, msg in numpydoc_validate.validate(name)["errors"]
              if code in CHECKS]
    assert not errors, "\n".join(errors)
