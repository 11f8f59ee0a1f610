"""Non-negative matrix factorisation for spectrum images (Muto & Shiga).

The model, the four estimators and the scaling of the result are described in
:mod:`~hspy_unmix.unmixing._nmf_base`.

The estimators live in :mod:`~hspy_unmix.unmixing.mals`,
:mod:`~hspy_unmix.unmixing.hals` (HALS, NMF_SO) and
:mod:`~hspy_unmix.unmixing.ard_so_nmf` over the shared
:mod:`~hspy_unmix.unmixing._nmf_base`; this module gathers them.
"""

from ._nmf_base import sum_to_one_scales  # noqa: F401  (importable here before the split)
from .ard_so_nmf import ARD_SO_NMF
from .hals import HALS, NMF_SO
from .mals import MALS

__all__ = ["MALS", "HALS", "NMF_SO", "ARD_SO_NMF"]
