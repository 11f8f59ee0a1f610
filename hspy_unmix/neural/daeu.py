"""DAEU: deep autoencoder unmixing with one non-negative linear decoder (Palsson et al. 2018)."""

from __future__ import annotations

import numpy as np

from ._spectral_angle import SpectralAngleUnmixing

_DAEU_ABUNDANCES = ("encoder", "fcls")

class DAEU(SpectralAngleUnmixing):
    """Deep autoencoder unmixing (DAEU, Palsson et al. 2018).

    Encoder (Brun et al., Table 2): Dense 9R, 6R, 3R, R with LeakyReLU, batch
    normalisation, dynamical soft thresholding, abundance sum-to-one, then
    Gaussian dropout feeding a single non-negative linear decoder without
    bias whose weights are the endmembers. The loss is the spectral angle
    between each spectrum and its reconstruction, averaged over the pixels.

    Training, by default:

    * the decoder starts from the minimum-volume simplex of the spectra
      (``init="minvol"``, :class:`~hspy_unmix.unmixing.minvol.MinVolume` on the
      spectra divided by their mean). Where every phase has pure pixels it
      equals the VCA start; where one has none (a thin layer, a small
      particle), VCA would start that endmember at the most extreme mixed
      pixel, and the network does not move it out of the data from there
      (on a chequerboard whose third phase never exceeds 0.6: SAD 0.06-0.10
      from VCA, 0.023-0.029 from the minimum-volume start);
    * warm-up: for the first ``warmup_epochs`` the decoder is frozen and only
      the encoder learns. Training both from the start lets the decoder
      follow the errors of a still random encoder away from its start
      (on the Brun et al. chequerboard, SAD 0.02-0.08 instead of about 0.005);
    * the Gaussian dropout rate is 0.0045, the value of the reference
      implementation of Palsson et al. Its multiplicative noise changes the
      direction of the reconstruction of mixed pixels only, so under the
      spectral angle it favours pure abundances; at a rate of 0.1 (noise of
      standard deviation 0.33) the network under-fits;
    * Adam, learning rate 3e-3, 64 pixels per step, early stopping on the
      loss with a patience of 10 epochs.

    Parameters
    ----------
    n_components
        Number of endmembers R.
    epochs
        Training epochs (passes over all pixels), warm-up included.
    batch_size
        Pixels per gradient step.
    learning_rate
        Adam learning rate.
    init
        ``"minvol"``: the decoder starts from the minimum-volume simplex
        (:class:`~hspy_unmix.unmixing.minvol.MinVolume`); ``"vca"``: from the VCA
        endmembers, as in Palsson et al.; ``"random"``: from uniform random
        non-negative spectra.
    dropout
        Rate of the Gaussian dropout on the abundances while training.
    warmup_epochs
        Epochs, at the start of ``epochs``, during which the decoder is
        frozen at its start and only the encoder trains. Ignored with
        ``init="random"``; 0 trains both from the start.
    abundances
        How ``transform`` (and ``fit_transform``) obtain the abundances:
        ``"encoder"``, the output of the trained encoder (sum-to-one layer,
        no dropout); ``"fcls"``, fully constrained least squares against
        ``components_`` (:func:`~hspy_unmix.unmixing.abundances.fcls_abundances`),
        slower but exact for the learned endmembers.
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
    max_partial_fit_samples
        Upper bound on the pixels :meth:`partial_fit` keeps from a lazy
        signal's stream to fit on (a uniform random sample).

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
        init: str = "minvol",
        dropout: float = 0.0045,
        warmup_epochs: int = 10,
        abundances: str = "encoder",
        early_stopping_patience: int | None = 10,
        validation_split: float = 0.0,
        max_partial_fit_samples: int = 20_000,
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
        self.warmup_epochs = warmup_epochs
        self.abundances = abundances
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.max_partial_fit_samples = max_partial_fit_samples
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _check_params(self):
        super()._check_params()
        self._check_init()
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        self._check_int_param("warmup_epochs", minimum=0)
        if self.abundances not in _DAEU_ABUNDANCES:
            raise ValueError(
                f"abundances must be one of {_DAEU_ABUNDANCES}, got {self.abundances!r}."
            )

    def _fit(self, X: np.ndarray):
        self._check_params()
        from .networks.daeu import build_daeu

        seed, targets, inputs = self._prepare(X)
        model = build_daeu(X.shape[1], self._n_components, dropout=self.dropout, seed=seed)
        decoder_layer = model.get_layer("endmembers")
        warmup = 0
        if self._start_decoder(model, X, seed):
            warmup = min(int(self.warmup_epochs), int(self.epochs))
        if warmup:
            # encoder first, against the fixed initial endmembers
            decoder_layer.trainable = False
            self._compile_and_train(
                model, inputs, targets, description="DAEU warm-up", epochs=warmup
            )
            decoder_layer.trainable = True
        if self.epochs > warmup:
            self._compile_and_train(
                model, inputs, targets, description="DAEU training",
                epochs=int(self.epochs) - warmup, append_history=warmup > 0,
            )
        decoder = self._keep_model(model)
        self._finalise(X, self._run_encoder(inputs), decoder)
        if self.abundances == "fcls":
            self._fit_abundances = self._fcls(X)

    def _fcls(self, X: np.ndarray) -> np.ndarray:
        from ..unmixing.abundances import fcls_abundances

        return fcls_abundances(X, self.components_)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if getattr(self, "abundances", "encoder") == "fcls":
            return self._fcls(X)
        return self._abundances_from_raw(self._run_encoder(self._encoder_inputs(X)))
