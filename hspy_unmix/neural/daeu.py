"""DAEU: deep autoencoder unmixing with one non-negative linear decoder (Palsson et al. 2018)."""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._parameters import estimator_init
from ._estimator import training_parameters
from ._spectral_angle import SpectralAngleUnmixing


@fill_doc
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
      loss with a patience of 10 epochs;
    * three networks from different seeds (``n_starts=3``), the one with the
      lowest loss kept: on the Samson scene one seed in five ends in a wrong
      simplex with twice the loss of the others (0.085 against 0.041).

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
    %(neural_init)s
    %(neural_starts)s
    dropout
        Rate of the Gaussian dropout on the abundances while training.
    warmup_epochs
        Epochs, at the start of ``epochs``, during which the decoder is
        frozen at its start and only the encoder trains. Ignored with
        ``init="random"``; 0 trains both from the start.
    %(neural_abundances)s
    %(neural_training)s

    %(spectral_angle_attributes)s

    %(examples_chequerboard)s
    >>> est = hspy_unmix.DAEU(3, epochs=20, random_state=0)
    >>> abundances = est.fit_transform(s.data.reshape(-1, 200))  # doctest: +SKIP

    Through the signal:

    >>> s.decomposition(algorithm="DAEU", output_dimension=3, epochs=20,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    """

    _name = "DAEU"

    __init__ = estimator_init(
        n_components=None, epochs=40, batch_size=64, learning_rate=3e-3, init="minvol",
        n_starts=3, combine_starts="lowest_loss", dropout=0.0045, warmup_epochs=10,
        abundances="fcls", **training_parameters(),
    )

    def _check_params(self):
        super()._check_params()
        self._check_init()
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        self._check_int_param("warmup_epochs", minimum=0)

    def _fit_start(self, X: np.ndarray, seed: int):
        """Train one network from ``seed`` (see :meth:`_fit`)."""
        from .networks.daeu import build_daeu

        targets, inputs = self._prepare(X, seed)
        model = build_daeu(X.shape[1], self._n_components, dropout=self.dropout, seed=seed)
        decoder_layer = model.get_layer("endmembers")
        warmup = 0
        if self._start_decoder(model):
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
