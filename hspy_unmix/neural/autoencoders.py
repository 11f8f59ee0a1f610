"""Autoencoder unmixing of spectrum images (Keras 3).

Estimators (scikit-learn style, also ``s.decomposition(algorithm=NAME)``):

* :class:`DAEU` -- deep autoencoder with a single non-negative linear decoder
  (Palsson et al. 2018), spectral-angle loss;
* :class:`AE` -- plain autoencoder whose latent codes are the loadings, for
  latent-space clustering (see :mod:`hspy_unmix.clustering`).

This module does not import Keras; it is imported when a neural method runs.
Training uses TensorFlow (the default Keras backend), on a GPU when
TensorFlow sees one. ``random_state`` seeds Python, NumPy and the backend, so
two fits on the CPU give the same result.

Scaling
-------
The spectral-angle network (DAEU) sees each spectrum divided
by its own mean, so that a model trained on one spectrum image applies to
another acquired with a different dose or thickness. The spectral angle
fixes each reconstruction only up to a factor; after training the scale of
every endmember is restored (:func:`~hspy_unmix.neural._estimator.sum_to_one_weights`)
so that ``transform(X) @ components_`` approximates ``X`` with abundances
that are non-negative and sum to one. AE works on standardised channels (see
:class:`AE`).
"""

from __future__ import annotations

import numpy as np

from ._estimator import (
    NeuralUnmixingEstimator,
    compile_model,
    pixel_normalise,
    setup_keras,
    sum_to_one_weights,
)

__all__ = ["DAEU", "AE"]

_INITS = ("vca", "random")


def _normalise_rows(weighted: np.ndarray) -> np.ndarray:
    totals = weighted.sum(axis=1, keepdims=True)
    totals[totals <= 0] = 1.0
    return weighted / totals


def _vca_endmembers(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    from ..vca import VCA

    return VCA(n_components=n_components, random_state=seed).fit(X).components_


def _unit_mean_rows(E: np.ndarray) -> np.ndarray:
    E = np.maximum(np.asarray(E, dtype=np.float64), 0.0)
    means = E.mean(axis=1, keepdims=True)
    means[means <= 0] = 1.0
    return E / means


class _SpectralAngleUnmixing(NeuralUnmixingEstimator):
    """Shared fit/transform of the networks trained with the spectral angle."""

    _name = "network"

    def _check_init(self):
        if self.init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {self.init!r}.")

    def _initial_decoder(self, X: np.ndarray, seed: int) -> np.ndarray | None:
        """VCA endmembers scaled to unit mean, or None for the random start."""
        if self.init == "vca":
            return _unit_mean_rows(_vca_endmembers(X, self._n_components, seed))
        return None

    def _set_channel_standardisation(self, normalised: np.ndarray):
        self.channel_mean_ = normalised.mean(axis=0).astype(np.float64)
        std = normalised.std(axis=0).astype(np.float64)
        self.channel_std_ = np.where(std > 0, std, 1.0)

    def _encoder_inputs(self, X: np.ndarray) -> np.ndarray:
        """Spectra divided by their mean, then standardised channel by channel.

        The standardisation lets the encoder see the edges, weak on top of the
        background; the decoder still reconstructs the mean-normalised spectra.
        """
        normalised = pixel_normalise(X)
        return ((normalised - self.channel_mean_) / self.channel_std_).astype(np.float32)

    def _finalise(self, X: np.ndarray, raw_abundances: np.ndarray, decoder: np.ndarray):
        weights = sum_to_one_weights(X, raw_abundances, decoder)
        self.abundance_weights_ = weights
        self.components_ = decoder / weights[:, None]
        self._fit_abundances = _normalise_rows(raw_abundances * weights)

    def _abundances_from_raw(self, raw_abundances: np.ndarray) -> np.ndarray:
        return _normalise_rows(raw_abundances * self.abundance_weights_)


class DAEU(_SpectralAngleUnmixing):
    """Deep autoencoder unmixing (DAEU, Palsson et al. 2018).

    Encoder (seed 000, Table 2): Dense 9R, 6R, 3R, R with LeakyReLU, batch
    normalisation, dynamical soft thresholding, abundance sum-to-one, then
    Gaussian dropout feeding a single non-negative linear decoder without
    bias whose weights are the endmembers. The loss is the spectral angle
    between each spectrum and its reconstruction, averaged over the pixels.

    Parameters
    ----------
    n_components
        Number of endmembers R.
    epochs
        Training epochs (passes over all pixels).
    batch_size
        Pixels per gradient step.
    learning_rate
        Adam learning rate.
    init
        ``"vca"``: the decoder starts from the VCA endmembers;
        ``"random"``: from uniform random non-negative spectra.
    dropout
        Rate of the Gaussian dropout on the abundances while training.
    early_stopping_patience
        Stop when the loss (validation loss if ``validation_split > 0``) has
        not improved for this many epochs, keeping the best weights;
        ``None`` trains for all ``epochs``.
    validation_split
        Fraction of pixels held out to monitor the loss.
    random_state
        Seed (int) or :class:`numpy.random.RandomState`; ``None`` draws one.
    show_progressbar
        Progress bar over epochs; ``None`` follows HyperSpy's preference.
    verbose
        Keras' own training log (0 silent, 1 progress, 2 one line per epoch).

    Attributes
    ----------
    components_ : numpy.ndarray, shape (R, n_channels)
        Endmembers (non-negative), scaled so that ``transform(X) @
        components_`` approximates ``X``.
    abundance_weights_ : numpy.ndarray, shape (R,)
        Factors turning the encoder output into abundances (see module notes).
    history_ : dict of list
        Loss per epoch (``"loss"``, and ``"val_loss"`` with a validation split).
    model_ : keras.Model
        The trained network (stored as ``.keras`` by :meth:`save`).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.decomposition(algorithm="DAEU", output_dimension=3, epochs=20,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    >>> est = hspy_unmix.DAEU(3, epochs=20, random_state=0)
    >>> abundances = est.fit_transform(s.data.reshape(-1, 200))  # doctest: +SKIP
    """

    _name = "DAEU"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        epochs: int = 40,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        init: str = "vca",
        dropout: float = 0.1,
        early_stopping_patience: int | None = 10,
        validation_split: float = 0.0,
        random_state=None,
        show_progressbar: bool | None = None,
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.init = init
        self.dropout = dropout
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _fit(self, X: np.ndarray):
        self._check_training_params()
        self._check_init()
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        seed = self._resolve_seed()
        setup_keras(seed)
        from .losses import SpectralAngleLoss
        from .models.daeu import build_daeu

        targets = pixel_normalise(X)
        self._set_channel_standardisation(targets)
        inputs = self._encoder_inputs(X)
        model = build_daeu(X.shape[1], self._n_components, dropout=self.dropout, seed=seed)
        initial = self._initial_decoder(X, seed)
        if initial is not None:
            model.get_layer("endmembers").set_weights([initial.astype(np.float32)])
        compile_model(model, self.learning_rate, SpectralAngleLoss())
        self._train(model, inputs, targets, description="DAEU training")
        self.model_ = model
        decoder = _unit_mean_rows(model.get_layer("endmembers").get_weights()[0])
        self._finalise(X, self._run_encoder(inputs), decoder)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self._abundances_from_raw(self._run_encoder(self._encoder_inputs(X)))


class AE(NeuralUnmixingEstimator):
    """Plain autoencoder: the latent codes are the loadings.

    A Dense encoder (LeakyReLU hidden layers, linear latent layer of
    ``n_components`` units) and a linear decoder without bias, trained with
    the mean squared error on the spectra standardised channel by channel
    (mean removed, divided by the standard deviation), so that weak edges
    count as much as the strong background. Meant
    for latent-space clustering: ``s.decomposition(algorithm="AE",
    output_dimension=L)`` then ``s.cluster_analysis("decomposition", ...)``
    with :class:`hspy_unmix.clustering.KMeansClustering` or
    :class:`~hspy_unmix.clustering.GaussianMixtureClustering`.

    ``transform`` returns the latent codes (n_pixels, L); ``components_`` are
    the linear-decoder weights times the channel standard deviations, so that
    ``channel_mean_ + transform(X) @ components_`` is the reconstruction of ``X``
    (``inverse_transform``). Unlike the
    unmixing methods, codes and components may be negative and the codes do
    not sum to one.

    Parameters
    ----------
    n_components
        Latent dimension L.
    hidden_units
        Widths of the hidden encoder layers.
    epochs, batch_size, learning_rate, early_stopping_patience, validation_split,
    random_state, show_progressbar, verbose
        As for :class:`DAEU`.

    Attributes
    ----------
    components_ : numpy.ndarray, shape (L, n_channels)
    channel_mean_ : numpy.ndarray, shape (n_channels,)
        Mean spectrum removed before the encoder.
    channel_std_ : numpy.ndarray, shape (n_channels,)
        Channel standard deviations the centred spectra are divided by.
    history_ : dict of list
    model_ : keras.Model

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.clustering import GaussianMixtureClustering
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.decomposition(algorithm="AE", output_dimension=2, random_state=0,
    ...                 print_info=False)  # doctest: +SKIP
    >>> s.cluster_analysis("decomposition", number_of_components=2,
    ...     algorithm=GaussianMixtureClustering(3, random_state=0))  # doctest: +SKIP
    """

    _negative = "allow"
    _sum_to_one = False

    def __init__(
        self,
        n_components: int | None = None,
        *,
        hidden_units=(64, 16),
        epochs: int = 60,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
        early_stopping_patience: int | None = 10,
        validation_split: float = 0.0,
        random_state=None,
        show_progressbar: bool | None = None,
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.hidden_units = hidden_units
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _fit(self, X: np.ndarray):
        self._check_training_params()
        hidden = tuple(int(h) for h in self.hidden_units)
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden_units must be positive, got {self.hidden_units!r}.")
        seed = self._resolve_seed()
        setup_keras(seed)
        from .models.latent_autoencoder import build_latent_autoencoder

        self.channel_mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.channel_std_ = np.where(std > 0, std, 1.0)
        inputs = self._standardise(X)
        model = build_latent_autoencoder(X.shape[1], self._n_components, hidden_units=hidden)
        compile_model(model, self.learning_rate, "mse")
        self._train(model, inputs, inputs, description="AE training")
        self.model_ = model
        kernel = np.asarray(model.get_layer("decoder").get_weights()[0], np.float64)
        self.components_ = kernel * self.channel_std_
        self._fit_abundances = self._run_encoder(inputs)

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.channel_mean_) / self.channel_std_).astype(np.float32)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self._run_encoder(self._standardise(X))

    def inverse_transform(self, abundances):
        """Spectra reconstructed from latent codes: ``channel_mean_ + codes @ components_``."""
        return super().inverse_transform(abundances) + self.channel_mean_

