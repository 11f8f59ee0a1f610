"""Classical unmixing estimators, their abundance solvers and numba kernels.

One module per algorithm family, scikit-learn style estimators over one base
(:class:`~hspy_unmix.unmixing._base.UnmixingEstimator`):

* :mod:`~hspy_unmix.unmixing.vca` -- VCA (pure-pixel simplex vertices);
* :mod:`~hspy_unmix.unmixing.minvol` -- minimum-volume simplex (no pure pixels needed);
* :mod:`~hspy_unmix.unmixing.nmf` -- MALS (``mals``), HALS and NMF_SO (``hals``),
  ARD_SO_NMF (``ard_so_nmf``) over ``_nmf_base``;
* :mod:`~hspy_unmix.unmixing.sss` -- SSS_VCA (simplex sampling with uncertainty);
* :mod:`~hspy_unmix.unmixing.bayesian` -- BLU (Gibbs sampler, posterior spread);
* :mod:`~hspy_unmix.unmixing.abundances` -- the one NNLS/FCLS solver and
  sum-to-one scaling that every estimator uses;
* :mod:`~hspy_unmix.unmixing.n_components` -- how many components to extract;
* :mod:`~hspy_unmix.unmixing.clustering` -- k-means and Gaussian mixtures for
  HyperSpy's ``cluster_analysis`` on latent codes.

The numba kernels are the private ``_*_kernels`` modules beside them.
Importing this package imports none of its modules.
"""
