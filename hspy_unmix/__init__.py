"""hspy_unmix: spectral unmixing and restoration for STEM-EELS in HyperSpy.

``import hspy_unmix`` gives every EELS signal (eager or lazy) the methods

* ``decomposition(algorithm="VCA" | "MinVolume" | "MALS" | "HALS" | ... )``,
* ``apply_unmixing(estimator)``,
* ``restore_zlp(...)``,
* ``pan_sharpen(other, ...)``,

and exposes the estimators as scikit-learn style classes (``hspy_unmix.VCA``,
``hspy_unmix.DAEU``, ...), usable as ``algorithm=`` on any HyperSpy Signal1D.
Keras/TensorFlow are imported only when a neural method runs.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from ._aliases import install as _install_aliases

_install_aliases()

from .io.estimators import load_estimator  # noqa: E402
from ._registry import ALGORITHMS, available_algorithms  # noqa: E402
from .signals.activation import activate  # noqa: E402

activate()

_LAZY = {name: module for module, name in ALGORITHMS.values()}
_LAZY.update(
    {
        "fcls_abundances": "hspy_unmix.unmixing.abundances",
        "nnls_abundances": "hspy_unmix.unmixing.abundances",
        "richardson_lucy": "hspy_unmix.restoration",
        "train_zlp_model": "hspy_unmix.restoration",
        "load_zlp_model": "hspy_unmix.restoration",
        "build_zlp_unet": "hspy_unmix.restoration.unet",
        "estimate_n_components": "hspy_unmix.unmixing.n_components",
        "KMeansClustering": "hspy_unmix.unmixing.clustering",
        "GaussianMixtureClustering": "hspy_unmix.unmixing.clustering",
    }
)
_SUBMODULES = {"synthetic", "metrics", "unmixing", "fusion", "signals", "io", "neural", "restoration",
               "abundances", "vca", "minvol", "sss", "nmf", "bayesian", "zlp",
               "pan_sharpening", "components", "clustering", "cli"}

__all__ = sorted(
    ["activate", "load_estimator", "available_algorithms", "__version__"]
    + list(_LAZY)
    + sorted(_SUBMODULES)
)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"hspy_unmix.{name}")
    raise AttributeError(f"module 'hspy_unmix' has no attribute {name!r}")


def __dir__():
    return __all__
