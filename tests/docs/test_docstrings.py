"""The docstrings of the public API pass the numpydoc checks of the docs build,
and every public function, class and signal method has an Examples section.

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


def _public_objects():
    """Import paths of the public functions and classes, and the signal methods."""
    names, missing = CONF["_public_names"]()
    assert not missing
    seen, out = set(), []
    for name, obj in names.items():
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
            seen.add(id(obj))
            out.append(name)
    return out + SIGNAL_METHODS


def _documented():
    """:func:`_public_objects` and the classes' own public methods."""
    names, _ = CONF["_public_names"]()
    out = []
    for name in _public_objects():
        out.append(name)
        obj = names.get(name)
        if inspect.isclass(obj):
            for attr, member in inspect.getmembers(obj):
                if attr.startswith("_") or not callable(member):
                    continue
                if not (getattr(member, "__module__", "") or "").startswith("hspy_unmix"):
                    continue  # scikit-learn's get_params, set_output...: not documented
                out.append(f"{name}.{attr}")
    return out


def test_the_build_checks_sections():
    # a missing Parameters or Returns section, or no docstring, fails the build
    assert {"PR01", "RT01", "GL08", "SS01"} <= CHECKS


@pytest.mark.parametrize("name", _documented())
def test_public_docstring(name):
    errors = [f"{code}: {msg}" for code, msg in numpydoc_validate.validate(name)["errors"]
              if code in CHECKS]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name", _public_objects())
def test_every_public_name_has_an_example(name):
    codes = {code for code, _ in numpydoc_validate.validate(name)["errors"]}
    assert "EX01" not in codes, f"{name} has no Examples section"
