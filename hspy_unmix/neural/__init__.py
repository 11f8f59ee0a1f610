"""Neural unmixing estimators (Keras 3), one estimator per module.

* :mod:`~hspy_unmix.neural.daeu`, :mod:`~hspy_unmix.neural.mtaeu`,
  :mod:`~hspy_unmix.neural.cnnaeu` -- autoencoders trained with the spectral
  angle (shared base in ``_spectral_angle``);
* :mod:`~hspy_unmix.neural.udas` -- untied denoising autoencoder;
* :mod:`~hspy_unmix.neural.ae` -- plain autoencoder for latent-space clustering;
* ``_estimator`` -- the base class (training loop, seeding, saving);
* ``networks/`` -- the Keras model builders, one per module;
* ``layers/`` -- the custom Keras layers, one per module; ``losses``,
  ``regularizers``.

Importing this package, or any estimator module, does not import Keras: the
network builders and layers do, and they are imported only when a fit runs.
Training uses TensorFlow (the default Keras backend), on a GPU when
TensorFlow sees one. ``random_state`` seeds Python, NumPy and the backend, so
two fits on the CPU give the same result.
"""
