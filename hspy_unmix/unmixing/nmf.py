"""Non-negative matrix factorisation for spectrum images (Muto & Shiga).

The data matrix ``X`` (pixels x channels) is factorised as ``C @ S.T`` with
non-negative abundance maps ``C`` (pixels x K) and spectra ``S`` (channels x
K); ``components_`` is ``S.T``. Four estimators:

* :class:`MALS`: ridge-weighted alternating least squares (review eqs. 7-8)
  with the ridge weights driven by the negativity of the unconstrained
  solution.
* :class:`HALS`: hierarchical ALS (eqs. 11-12), column-wise closed-form
  updates done by numba kernels.
* :class:`NMF_SO`: HALS with the soft-orthogonal penalty on the maps
  (eq. 13), for spatially separated phases with overlapping spectra.
* :class:`ARD_SO_NMF`: NMF-SO with automatic relevance determination: starts
  from a generous number of components and prunes the irrelevant ones.

Scaling of the result
---------------------
NMF only fixes the product ``C @ S.T``: each pair (map, spectrum) may be
rescaled by ``d`` and ``1/d``. With ``abundance_scaling="sum_to_one"`` (the
default) the scales ``d >= 0`` are the non-negative least-squares solution of
``C @ d ~ 1``, so that the abundances of every pixel sum as close to one as
the fitted maps allow and the spectra carry the counts; with
``"unit_spectra"`` every spectrum has unit l2 norm (the normalisation the
review recommends) and the maps carry the counts. ``transform`` solves the
abundances with the fitted ``components_`` fixed, so it uses the same
scaling.

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
