"""Sphinx configuration of the hspy_unmix documentation.

Builds offline: no intersphinx, every figure comes from the package itself
(sphinx-gallery runs ``../examples``).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pathlib
import re
import sys

os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))  # gallery_defaults, for sphinx-gallery

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
# Autosummary ends a summary at the first period: "(Muto & Shiga eq. 13)"
# would be cut at "eq.".
import sphinx.ext.autosummary as _autosummary  # noqa: E402

_autosummary.WELL_KNOWN_ABBREVIATIONS += (" eq.", " eqs.")
myst_heading_anchors = 3

autosummary_generate = True
# Class pages (templates/autosummary/class.rst) document the methods a class
# inherits from the package's own bases (fit, transform, save, ...), not
# those of scikit-learn, Keras or Python.
templates_path = ["_templates"]
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
# (no "inherited-members" here: a default, even False, overrides the class
# template's option)
autodoc_default_options = {"members": True}
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

#: The real-data examples read files that are not distributed with the
#: package from a ``shared/data/eels`` folder beside the repository. Without
#: it they are left out of the gallery, and its index says so (the
#: ``real_data`` tag, used by an ``only`` directive in the header).
REAL_DATA_EXAMPLES = {
    "plot_real_coreloss_unmixing.py": ["CuZn_coreloss_SI_50x40.hspy"],
    "plot_pan_sharpening_haadf.py": ["CuZn_coreloss_SI_50x40.hspy", "CuZn_HAADF_50x40.hspy"],
}


def _real_data_folder():
    for folder in (HERE, *HERE.parents):
        if (folder / "shared" / "data" / "eels").is_dir():
            return folder / "shared" / "data" / "eels"
    return None


def _missing_real_data(folder) -> list[str]:
    """The real-data examples whose files are not all in ``folder`` (None: all)."""
    return sorted(name for name, files in REAL_DATA_EXAMPLES.items()
                  if folder is None or not all((folder / f).exists() for f in files))


def _gallery_ignore(missing) -> str:
    """sphinx-gallery's ``ignore_pattern``: ``__init__.py`` and ``missing``."""
    return "|".join([r"__init__\.py", *(re.escape(name) for name in missing)])


_MISSING_REAL_DATA = _missing_real_data(_real_data_folder())
if not _MISSING_REAL_DATA and "tags" in globals():  # Sphinx provides ``tags``
    tags.add("real_data")  # noqa: F821

sphinx_gallery_conf = {
    # relative to this folder (absolute paths would end up in the toctrees)
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # real-data examples whose files are missing: not run, not listed
    "ignore_pattern": _gallery_ignore(_MISSING_REAL_DATA),
    "download_all_examples": False,
    "remove_config_comments": True,
    # one section per topic, each a folder of examples/ with a GALLERY_HEADER
    "subsection_order": ["../examples/unmixing", "../examples/restoration",
                         "../examples/fusion", "../examples/large_data"],
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_memory": False,
    # matplotlib's defaults, then readable fonts and no progress bars
    "reset_modules": ("matplotlib", "gallery_defaults.reset"),
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
                    "hspy_unmix.metrics", "hspy_unmix.io", "hspy_unmix.fusion.pan_sharpening")


def _signal_methods():
    """``{name: function}`` of the methods ``import hspy_unmix`` adds to EELS signals."""
    from hspy_unmix.gui.methods import SIGNAL_METHODS

    from exspy.signals import EELSSpectrum

    names = ["decomposition", "apply_unmixing", "restore_zlp", "pan_sharpen", *SIGNAL_METHODS]
    return {f"exspy.signals.EELSSpectrum.{name}": getattr(EELSSpectrum, name)
            for name in names}


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
                  if name.startswith(("hspy_unmix.", "exspy.signals.EELSSpectrum."))}
    documented_ids = {id(_resolve(name)) for name in documented}
    for name, obj in names.items():
        if name not in documented and id(obj) not in documented_ids:
            logger.warning(f"{name} is public (in __all__) but on no page of docs/api/")
    for name in _signal_methods():
        if name not in documented:
            logger.warning(f"the signal method {name} is not on docs/api/signal_methods.rst")


def _skip_inherited_sklearn(app, what, name, obj, skip, options):
    """Leave out what a class inherits from other packages (scikit-learn's
    get_params, set_output, set_*_request; Keras's and Python's methods) and
    methods without a docstring of their own (a Keras layer's ``call`` would
    otherwise show Keras's text)."""
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", "") or ""
    if module.startswith("sklearn.") or "RequestMethod" in qualname:
        return True
    if name.startswith("set_") and name.endswith("_request"):
        return True
    if what == "class" and (inspect.isroutine(obj) or isinstance(obj, property)):
        function = obj.fget if isinstance(obj, property) else obj
        defined_in = getattr(function, "__module__", None) or ""
        if defined_in.split(".")[0] != "hspy_unmix":
            return True
        if getattr(obj, "__doc__", None) is None:
            return True
    return None


#: scikit-learn's pages for the methods every estimator inherits.
_SKLEARN_BASE = "https://scikit-learn.org/stable/modules/generated/sklearn.base.BaseEstimator.html"


def _note_sklearn_methods(app, what, name, obj, options, lines):
    """Say on an estimator's page where get_params / set_params come from."""
    if what != "class" or not name.startswith("hspy_unmix."):
        return
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return
    if not (isinstance(obj, type) and issubclass(obj, BaseEstimator)):
        return
    lines += [
        "",
        ".. rubric:: Methods from scikit-learn",
        "",
        "``get_params`` and ``set_params`` (and ``set_output`` for the unmixing",
        "estimators) are those of every scikit-learn estimator: see",
        f"`sklearn.base.BaseEstimator <{_SKLEARN_BASE}>`__ and the",
        "`estimator API <https://scikit-learn.org/stable/developers/develop.html>`__.",
        "",
    ]


# ------------------------------------------------------- upstream references
# The build has no network, so no intersphinx inventory can be fetched. The
# names of HyperSpy, exspy, scikit-learn, dask and Keras that the pages use in
# roles ({class}`exspy.signals.EELSSpectrum`, :meth:`...`) are linked to
# their upstream pages through this table; an upstream name missing from it
# is a warning, so that it is added rather than left as plain text.
_HS = "https://hyperspy.org/hyperspy-doc/current/"
_HS_BASE = _HS + "reference/api.signals/BaseSignal.html#hyperspy.api.signals.BaseSignal."
_SK = "https://scikit-learn.org/stable/modules/generated/"
_DASK = "https://docs.dask.org/en/stable/"
UPSTREAM_LINKS = {
    # HyperSpy
    "hyperspy.api.load": _HS + "reference/api.html#hyperspy.api.load",
    "hyperspy.api.signals.BaseSignal": _HS + "reference/api.signals/BaseSignal.html",
    "hyperspy.api.signals.Signal1D": _HS + "reference/api.signals/Signal1D.html",
    "hyperspy.api.signals.Signal2D": _HS + "reference/api.signals/Signal2D.html",
    **{f"hyperspy.api.signals.BaseSignal.{m}": _HS_BASE + m for m in (
        "decomposition", "blind_source_separation", "cluster_analysis",
        "get_decomposition_factors", "get_decomposition_loadings",
        "get_decomposition_model", "plot_decomposition_results",
        "plot_explained_variance_ratio", "save", "rebin", "as_lazy",
        "set_signal_type")},
    "hyperspy.learn.mva.LearningResults":
        _HS + "reference/base_classes/machine_learning.html",
    # exspy
    "exspy.signals.EELSSpectrum":
        "https://hyperspy.org/exspy/reference/signals.html#exspy.signals.EELSSpectrum",
    "exspy.signals.LazyEELSSpectrum":
        "https://hyperspy.org/exspy/reference/signals.html#exspy.signals.LazyEELSSpectrum",
    # scikit-learn
    "sklearn.base.BaseEstimator": _SK + "sklearn.base.BaseEstimator.html",
    "sklearn.base.TransformerMixin": _SK + "sklearn.base.TransformerMixin.html",
    "sklearn.decomposition.NMF": _SK + "sklearn.decomposition.NMF.html",
    "sklearn.cluster.KMeans": _SK + "sklearn.cluster.KMeans.html",
    "sklearn.mixture.GaussianMixture": _SK + "sklearn.mixture.GaussianMixture.html",
    # dask
    "dask.array.Array": _DASK + "generated/dask.array.Array.html",
    "dask.array.Array.rechunk": _DASK + "generated/dask.array.Array.rechunk.html",
    "distributed.Client": "https://distributed.dask.org/en/stable/client.html",
    "distributed.LocalCluster":
        "https://distributed.dask.org/en/stable/api.html#distributed.LocalCluster",
    "dask_jobqueue": "https://jobqueue.dask.org/en/latest/",
    # Keras
    "keras.Model": "https://keras.io/api/models/model/",
    "keras.layers.Layer": "https://keras.io/api/layers/base_layer/",
}
#: Packages whose names must be in UPSTREAM_LINKS when a page refers to them.
_UPSTREAM_PACKAGES = ("hyperspy", "exspy", "sklearn", "dask", "distributed",
                      "dask_jobqueue", "keras")


_DOCUMENTED_BY_ID: dict = {}


def _package_alias(app, env, node, contnode):
    """A reference to another public name of a documented object
    (``hspy_unmix.estimate_n_components``, documented under its module)."""
    from sphinx.util.nodes import make_refnode

    objects = env.get_domain("py").objects
    if not _DOCUMENTED_BY_ID:
        for name in objects:
            if name.startswith(("hspy_unmix.", "exspy.signals.EELSSpectrum.")):
                obj = _resolve(name)
                if obj is not None:
                    _DOCUMENTED_BY_ID.setdefault(id(obj), name)
    obj = _resolve(node.get("reftarget", ""))
    name = _DOCUMENTED_BY_ID.get(id(obj)) if obj is not None else None
    if name is None:
        return None
    entry = objects[name]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id,
                        contnode, name)


def _upstream_reference(app, env, node, contnode):
    """Resolve a reference to a public alias of a documented object, or to an
    upstream name through UPSTREAM_LINKS."""
    from docutils import nodes
    from sphinx.util import logging

    target = node.get("reftarget", "")
    if node.get("refdomain") != "py":
        return None
    if target.startswith("hspy_unmix."):
        return _package_alias(app, env, node, contnode)
    url = UPSTREAM_LINKS.get(target)
    if url is None:
        if target.split(".")[0] in _UPSTREAM_PACKAGES:
            logging.getLogger(__name__).warning(
                f"no upstream link for {target!r}: add it to UPSTREAM_LINKS in docs/conf.py",
                location=node)
        return None
    reference = nodes.reference("", "", internal=False, refuri=url, reftitle=target)
    reference += contnode
    return reference


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
    # after numpydoc (priority 500) has turned the docstring into reST
    app.connect("autodoc-process-docstring", _note_sklearn_methods, priority=600)
    app.connect("missing-reference", _upstream_reference)
    app.connect("env-check-consistency", _check_api_coverage)
