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
# Docstring checks of numpydoc, run on every documented object; a failure is
# a warning, so an error with ``-W`` (codes: numpydoc's validation docs).
# The set keeps what a reader needs and the package satisfies: a docstring
# (GL08) with a one-line summary (SS01), every parameter documented (PR01),
# described (PR07) and existing (PR02), "name : type" spelled with its space
# (PR10), a Returns section when something is returned (RT01) and a
# description of each returned value (RT03), sections known (GL06) and in
# order (GL07). Style checks (capitalisation, periods, verb mood) are left out.
numpydoc_validation_checks = {
    "GL06", "GL07", "GL08", "SS01", "PR01", "PR02", "PR07", "PR10", "RT01", "RT03",
}
# __init__: the class docstring documents its parameters (numpydoc's rule).
numpydoc_validation_exclude = {r"\.__init__$"}

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
    # No sg_execution_times.rst in the sources: it would rewrite a file beside
    # the pages on every build, and its table loads scripts from CDNs.
    "write_computation_times": False,
}

# ------------------------------------------------------------------ API pages
# The reference pages under ``api/`` are written by hand (the build writes
# nothing into tracked files). So that they cannot fall behind the package,
# every public name is checked against the objects the build documented: a
# name of ``__all__`` on no reference page is a warning (an error with
# ``-W``). An object public under two names (``hspy_unmix.richardson_lucy``
# is ``hspy_unmix.restoration.richardson_lucy``) is documented once, under
# either: two entries for one object would break the source links of
# ``viewcode``.

#: Packages whose ``__all__`` must be documented.
_PUBLIC_PACKAGES = ("hspy_unmix", "hspy_unmix.restoration", "hspy_unmix.synthetic",
                    "hspy_unmix.metrics")


def _public_names():
    """``{dotted name: object}`` of every public function, class or constant,
    and the ``(dotted name, error)`` of names that do not import."""
    names, missing = {}, []
    for package in _PUBLIC_PACKAGES:
        mod = importlib.import_module(package)
        for name in mod.__all__:
            if name.startswith("__"):
                continue
            try:
                obj = getattr(mod, name)
            except Exception as exc:  # a public name that does not import
                missing.append((f"{package}.{name}", exc))
                continue
            if isinstance(obj, type(hspy_unmix)):  # a submodule
                continue
            names[f"{package}.{name}"] = obj
    return names, missing


def _resolve(dotted):
    """The object a documented dotted name refers to (``None``: unknown)."""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _check_api_coverage(app, env):
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    names, missing = _public_names()
    # HSPY_UNMIX_DOCS_ALLOW_MISSING=1 reports names that do not import
    # without failing.
    report = logger.info if os.environ.get("HSPY_UNMIX_DOCS_ALLOW_MISSING") else logger.warning
    for name, exc in missing:
        report(f"{name} is in __all__ but does not import: {exc}")
    documented = {name for name in env.get_domain("py").objects
                  if name.startswith("hspy_unmix.")}
    documented_ids = {id(_resolve(name)) for name in documented}
    for name, obj in names.items():
        if name not in documented and id(obj) not in documented_ids:
            logger.warning(f"{name} is public (in __all__) but on no page of docs/api/")


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

    # An ignored file; rewritten only when the registry changed, so that the
    # page including it is not re-read on every build.
    path = HERE / "user_guide" / "_algorithm_table.md"
    text = markdown_algorithm_table()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def setup(app):
    app.connect("config-inited", _write_algorithm_table)
    app.connect("autodoc-skip-member", _skip_inherited_sklearn)
    app.connect("env-check-consistency", _check_api_coverage)
