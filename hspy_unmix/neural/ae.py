"""AE: plain autoencoder whose latent codes are the loadings (latent-space clustering)."""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._parameters import estimator_init
from ._estimator import (
    NeuralUnmixingEstimator,
    compile_model,
    setup_keras,
    training_parameters,
)


@fill_doc
class AE(NeuralUnmixingEstimator):
    """Plain autoencoder: the latent codes are the loadings.

    A Dense encoder (LeakyReLU hidden layers, linear latent layer of
    ``n_components`` units) and a linear decoder without bias, trained with
    the mean squared error on the spectra standardised channel by channel
    (mean removed, divided by the standard deviation), so that weak edges
    count as much as the strong background. Meant
    for latent-space clustering: ``s.decomposition(algorithm="AE",
    output_dimension=L)`` then ``s.cluster_analysis("decomposition", ...)``
    with :class:`hspy_unmix.unmixing.clustering.KMeansClustering` or
    :class:`~hspy_unmix.unmixing.clustering.GaussianMixtureClustering`.

    ``transform`` returns the latent codes (n_pixels, L); ``components_`` are
    the linear-decoder weights times the channel standard deviations, so that
    ``channel_mean_ + transform(X) @ components_`` is the reconstruction of ``X``
    (``inverse_transform``). Unlike the
    unmixing methods, codes and components may be negative and the codes do
    not sum to one.

    The latent basis is the reconstruction's own
    (``hspy_unmix.neural.ae.canonical_latent_basis``): components
    orthonormal in standardised units, in decreasing order of the variance
    they carry, codes the reconstruction's coordinates along them. The network alone fixes its
    latent space only up to an invertible linear map, which changed with the
    seed (on the Samson scene, the mean spectral angle of the components to
    the reference spread over 0.656 rad across seeds 0-4; in this basis
    0.0088 rad).

    Parameters
    ----------
    n_components
        Latent dimension L.
    hidden_units
        Widths of the hidden encoder layers.
    epochs, batch_size
        Passes over all pixels and pixels per gradient step.
    learning_rate
        Adam learning rate.
    %(neural_training)s

    Attributes
    ----------
    components_ : numpy.ndarray, shape (L, n_channels)
    channel_mean_ : numpy.ndarray, shape (n_channels,)
        Mean spectrum removed before the encoder.
    channel_std_ : numpy.ndarray, shape (n_channels,)
        Channel standard deviations the centred spectra are divided by.
    latent_rotation_ : numpy.ndarray, shape (L, L)
        Map from the network's latent codes to the returned ones.
    history_ : dict of list
    model_ : keras.Model

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.unmixing.clustering import GaussianMixtureClustering
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.decomposition(algorithm="AE", output_dimension=2, random_state=0,
    ...                 print_info=False)  # doctest: +SKIP
    >>> s.cluster_analysis("decomposition", number_of_components=2,
    ...     algorithm=GaussianMixtureClustering(3, random_state=0))  # doctest: +SKIP
    """

    _negative = "allow"
    _sum_to_one = False
    _unit_attributes = {"components_": 1, "channel_mean_": 1, "channel_std_": 1}

    __init__ = estimator_init(
        n_components=None, hidden_units=(64, 16), epochs=60, batch_size=64,
        learning_rate=2e-3, **training_parameters(),
    )

    def _check_params(self):
        super()._check_params()
        hidden = tuple(int(h) for h in self.hidden_units)
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden_units must be positive, got {self.hidden_units!r}.")
        return hidden

    def _fit(self, X: np.ndarray):
        hidden = self._check_params()
        seed = self._resolve_seed()
        setup_keras(seed)
        from .networks.latent_autoencoder import build_latent_autoencoder

        self.channel_mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.channel_std_ = np.where(std > 0, std, 1.0)
        inputs = self._standardise(X)
        model = build_latent_autoencoder(X.shape[1], self._n_components, hidden_units=hidden)
        compile_model(model, self.learning_rate, "mse")
        self._train(model, inputs, inputs, description="AE training")
        self.model_ = model
        kernel = np.asarray(model.get_layer("decoder").get_weights()[0], np.float64)
        codes = np.asarray(self._run_encoder(inputs), np.float64)
        self.latent_rotation_, kernel = canonical_latent_basis(codes, kernel)
        self.components_ = kernel * self.channel_std_
        self._fit_abundances = codes @ self.latent_rotation_

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.channel_mean_) / self.channel_std_).astype(np.float32)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        codes = self._run_encoder(self._standardise(X))
        rotation = self.__dict__.get("latent_rotation_")  # absent in files saved before it
        return codes if rotation is None else np.asarray(codes, np.float64) @ rotation

    def inverse_transform(self, abundances):
        """Spectra reconstructed from latent codes: ``channel_mean_ + codes @ components_``.

        Parameters
        ----------
        abundances : array-like of shape (n_pixels, n_components)
            Latent codes, e.g. the output of :meth:`transform`.

        Returns
        -------
        spectra : numpy.ndarray of shape (n_pixels, n_channels)
            The decoded spectra, in the units of the fitted data.
        """
        return super().inverse_transform(abundances) + self.channel_mean_


def canonical_latent_basis(codes: np.ndarray, kernel: np.ndarray):
    """The latent basis that does not depend on the network's initialisation.

    A linear decoder fixes its latent space only up to an invertible linear
    map (``codes @ T`` with ``inv(T) @ kernel`` decodes the same spectra), so
    two trainings that learn the same reconstruction can return unrelated
    codes and components. This basis is the reconstruction's own: the
    principal directions of ``codes @ kernel`` (the reconstructed
    standardised spectra, whose mean is about zero), in decreasing order of
    their variance,
    each with the sign that makes its largest channel positive. The new
    components are orthonormal (in standardised units), the new codes the
    reconstruction's coordinates along them, so Euclidean distances between
    codes are distances between reconstructed standardised spectra.

    Parameters
    ----------
    codes
        (n_pixels, L) latent codes of the training spectra.
    kernel
        (L, n_channels) decoder weights.

    Returns
    -------
    rotation : numpy.ndarray, shape (L, L)
        New codes are ``codes @ rotation``.
    kernel : numpy.ndarray, shape (L, n_channels)
        The decoder weights in the new basis (``codes @ rotation @ kernel``
        equals ``codes @ kernel``).
    """
    q, r = np.linalg.qr(np.asarray(kernel, np.float64).T)  # kernel = r.T @ q.T
    _, _, vt = np.linalg.svd(np.asarray(codes, np.float64) @ r.T, full_matrices=False)
    rotation = r.T @ vt.T
    new_kernel = vt @ q.T
    peak = np.abs(new_kernel).argmax(axis=1)
    sign = np.where(new_kernel[np.arange(len(new_kernel)), peak] < 0, -1.0, 1.0)
    return rotation * sign, new_kernel * sign[:, None]
