"""Old module paths kept importable after the package was laid out by capability.

``import hspy_unmix.vca`` (or ``from hspy_unmix.nmf import HALS``) returns the
module that now lives at ``hspy_unmix.unmixing.vca``: the very same module
object, so attributes, ``isinstance`` checks and monkeypatching behave as
before. One meta-path finder serves every alias; submodules of an aliased
package follow it (``hspy_unmix.neural.models.daeu`` ->
``hspy_unmix.neural.networks.daeu``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: Old dotted path -> new dotted path.
MODULE_ALIASES: dict[str, str] = {
    "hspy_unmix.vca": "hspy_unmix.unmixing.vca",
    "hspy_unmix.minvol": "hspy_unmix.unmixing.minvol",
    "hspy_unmix.nmf": "hspy_unmix.unmixing.nmf",
    "hspy_unmix.sss": "hspy_unmix.unmixing.sss",
    "hspy_unmix.bayesian": "hspy_unmix.unmixing.bayesian",
    "hspy_unmix.abundances": "hspy_unmix.unmixing.abundances",
    "hspy_unmix.components": "hspy_unmix.unmixing.n_components",
    "hspy_unmix.clustering": "hspy_unmix.unmixing.clustering",
    "hspy_unmix._base": "hspy_unmix.unmixing._base",
    "hspy_unmix._nmf_kernels": "hspy_unmix.unmixing._nmf_kernels",
    "hspy_unmix._abundance_kernels": "hspy_unmix.unmixing._abundance_kernels",
    "hspy_unmix._blu_kernels": "hspy_unmix.unmixing._blu_kernels",
    "hspy_unmix.pan_sharpening": "hspy_unmix.fusion.pan_sharpening",
    "hspy_unmix._activation": "hspy_unmix.signals.activation",
    "hspy_unmix._decomposition": "hspy_unmix.signals.decomposition",
    "hspy_unmix._persistence": "hspy_unmix.io.estimators",
    "hspy_unmix._lazy": "hspy_unmix.io.lazy",
    "hspy_unmix.neural.models": "hspy_unmix.neural.networks",
    "hspy_unmix.zlp": "hspy_unmix.restoration",
    "hspy_unmix._zlp_kernels": "hspy_unmix.restoration._rl_kernels",
    "hspy_unmix.neural.unet": "hspy_unmix.restoration.unet",
    "hspy_unmix.neural.layers.zlp_asinh_output": "hspy_unmix.restoration.layers.zlp_asinh_output",
    "hspy_unmix.neural.layers.zlp_input_features": "hspy_unmix.restoration.layers.zlp_input_features",
}


def resolve(name: str) -> str | None:
    """New dotted path of ``name`` if it is an old one, else None."""
    if name in MODULE_ALIASES:
        return MODULE_ALIASES[name]
    head = name.rpartition(".")[0]
    while head:
        if head in MODULE_ALIASES:
            return MODULE_ALIASES[head] + name[len(head):]
        head = head.rpartition(".")[0]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module):
        # the import system stamped the old name's spec on the module: put back
        # the module's own one (the module itself is already executed)
        module.__spec__ = self.own_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = resolve(fullname) if fullname.startswith("hspy_unmix.") else None
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Put the alias finder first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
