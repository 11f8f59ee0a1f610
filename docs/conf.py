"""Sphinx configuration of the hspy_unmix documentation.

Builds offline: no intersphinx, every figure comes from the package itself
(sphinx-gallery runs ``../examples``).
"""

from __future__ import annotations

import importlib
import os
import pathlib
import sys

os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

import hspy_unmix  # noqa: E402

project = "hspy_unmix"
author = "The hspy-unmix developers"
copyright = "2026, The hspy-unmix developers"
release = version = hspy_unmix.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "user_guide/_algorithm_table.md", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "**/*.md5",
                    "**/*.codeobj.json"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

html_theme = "pydata_sphinx_theme"
html_title = f"hspy_unmix {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": str(HERE / "auto_examples"),
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_memory": False,
    "reset_modules": ("matplotlib",),
}

# ------------------------------------------------------------------ API page
#: Submodules documented on their own page section rather than as one entry.
_MODULE_SECTIONS = ("synthetic", "metrics")


def _public_objects():
    """Public names of ``hspy_unmix.__all__`` that resolve to functions/classes."""
    names, missing = [], []
    for name in hspy_unmix.__all__:
        if name.startswith("__"):
            continue
        try:
            obj = getattr(hspy_unmix, name)
        except Exception as exc:  # a public name that does not import
            missing.append((name, exc))
            continue
        if callable(obj) and not isinstance(obj, type(hspy_unmix)):
            names.append(name)
    return sorted(names, key=str.lower), missing


def _write_api_page(app, config=None):
    names, missing = _public_objects()
    lines = [
        "API reference",
        "=============",
        "",
        "Everything below is importable from ``hspy_unmix`` (estimators,",
        "functions) or from its ``synthetic`` and ``metrics`` subpackages.",
        "The signal methods (``decomposition``, ``apply_unmixing``,",
        "``restore_zlp``, ``pan_sharpen`` and the ``*_gui`` forms) are listed",
        "in :doc:`signal_methods`.",
        "",
        ".. toctree::",
        "   :hidden:",
        "",
        "   signal_methods",
        "",
        "Estimators and functions",
        "------------------------",
        "",
        ".. currentmodule:: hspy_unmix",
        "",
        ".. autosummary::",
        "   :toctree: generated",
        "   :nosignatures:",
        "",
        *[f"   {name}" for name in names],
        "",
    ]
    for module in _MODULE_SECTIONS:
        mod = importlib.import_module(f"hspy_unmix.{module}")
        lines += [
            f"``hspy_unmix.{module}``",
            "-" * (len(module) + 15),
            "",
            f".. automodule:: hspy_unmix.{module}",
            "   :no-members:",
            "",
            f".. currentmodule:: hspy_unmix.{module}",
            "",
            ".. autosummary::",
            "   :toctree: generated",
            "   :nosignatures:",
            "",
            *[f"   {name}" for name in sorted(mod.__all__, key=str.lower)],
            "",
        ]
    target = HERE / "api" / "index.rst"
    text = "\n".join(lines)
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    # A warning, so that ``-W`` fails while a public name does not import;
    # HSPY_UNMIX_DOCS_ALLOW_MISSING=1 reports them without failing.
    report = logger.info if os.environ.get("HSPY_UNMIX_DOCS_ALLOW_MISSING") else logger.warning
    for name, exc in missing:
        report(f"hspy_unmix.{name} is in __all__ but does not import: {exc}")


def _skip_inherited_sklearn(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generic methods (set_output, set_*_request, ...)."""
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", "") or ""
    if module.startswith("sklearn.") or "RequestMethod" in qualname:
        return True
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _write_algorithm_table(app, config=None):
    """The user guide's table of algorithm names, from the package's registry."""
    from hspy_unmix._registry import markdown_algorithm_table

    path = os.path.join(os.path.dirname(__file__), "user_guide", "_algorithm_table.md")
    with open(path, "w") as fh:
        fh.write(markdown_algorithm_table())


def setup(app):
    app.connect("config-inited", _write_algorithm_table)
    app.connect("autodoc-skip-member", _skip_inherited_sklearn)
    # Before autosummary generates its stub pages (at builder-inited).
    app.connect("config-inited", _write_api_page)
