"""uDAS: untied denoising autoencoder with sparsity (Qu & Qi 2018)."""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._parameters import estimator_init
from ._estimator import (
    NeuralUnmixingEstimator,
    abundance_outputs,
    compile_model,
    setup_keras,
    training_parameters,
)
from ._spectral_angle import normalise_rows, vca_endmembers


def _nonnegative_decoder(abundances: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``argmin_{E >= 0} ||targets - abundances @ E||^2``, channel by channel.

    Each channel is a K-variable non-negative least-squares problem whose
    "endmembers" are the abundance maps, solved in K-space by the package's
    one NNLS solver, so the cost does not grow with the number of pixels.
    """
    from ..unmixing.abundances import solve_validated

    return solve_validated(
        np.ascontiguousarray(targets.T, dtype=np.float64),
        np.ascontiguousarray(abundances.T, dtype=np.float64), False,
    ).T


@fill_doc
class UDAS(NeuralUnmixingEstimator):
    """Untied denoising autoencoder with sparsity (uDAS, Qu & Qi 2018).

    A shallow network, close to a regularised inverse problem:

    * denoising: a marginalised denoising autoencoder (closed-form linear
      map, :func:`~hspy_unmix.neural._mda.marginalised_denoiser`) stacked
      ``denoise_layers`` times gives denoised spectra, the reconstruction
      targets;
    * encoder: one linear layer from the raw spectra, ReLU, division by the
      sum (abundances non-negative, summing to one), with an l2,1 penalty
      grouping the weights of each endmember (a component the data do not
      need is switched off as a whole); it is untied from the decoder;
    * decoder: non-negative endmembers;
    * start: VCA endmembers of the denoised spectra, each rescaled
      (:func:`~hspy_unmix.unmixing.abundances.fit_endmember_scales`) so that
      their FCLS abundances rebuild the spectra (a pure pixel may be a dim
      one: the right shape at the wrong brightness), the FCLS abundances, and
      the encoder set to the least-squares map from the spectra to these
      abundances, so that the network starts near the VCA + FCLS solution;
    * training alternates one epoch of Adam on the encoder (decoder fixed,
      mean squared error to the denoised spectra) with an exact
      non-negative least-squares update of the decoder.

    The data are divided by their global mean intensity (``scale_``) so the
    weights stay of order one; ``components_`` are in the units of the data
    and ``transform(X) @ components_`` approximates ``X``.

    Parameters
    ----------
    n_components
        Number of endmembers R.
    epochs
        Alternations (one encoder epoch plus one decoder update each).
    batch_size
        Pixels per gradient step of the encoder.
    learning_rate
        Adam learning rate of the encoder. Small, because the decoder is
        re-solved exactly after every encoder epoch: at 1e-3 the encoder's
        noisy steps carried the endmembers away from a correct VCA start
        to wherever early stopping caught them (4-phase chequerboard SI:
        mean SAD 0.0062 rad at the start, 0.14-0.26 rad after training
        depending on the seed); at 1e-4, 0.0083 on average over seeds 0-4
        (max - min 0.0065).
    sparsity
        Strength of the l2,1 penalty on the encoder weights, relative to the
        mean squared error of spectra scaled to unit mean intensity. Values
        much above 1e-6 shrink the encoder towards zero and mix the
        abundances.
    denoise_corruption
        Channel dropout rate of the marginalised denoiser; 0 keeps the
        spectra as they are. Rates of 0.1 and more shrink every spectrum
        towards the mean spectrum (contrast lost).
    denoise_layers
        Number of stacked denoising maps (0: no denoising).
    %(neural_training)s

    Attributes
    ----------
    components_ : numpy.ndarray, shape (R, n_channels)
        Endmembers (non-negative).
    scale_ : float
        Global mean intensity the data are divided by.
    initial_components_ : numpy.ndarray, shape (R, n_channels)
        The VCA endmembers the decoder started from (units of the data).
    history_ : dict of list
    model_ : keras.Model

    %(examples_chequerboard)s
    >>> s.decomposition(algorithm="UDAS", output_dimension=3, epochs=20,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    >>> s.learning_results.loadings.sum(axis=1)[:3]  # doctest: +SKIP
    array([1., 1., 1.])
    """

    _name = "UDAS"
    _unit_attributes = {"components_": 1, "initial_components_": 1, "scale_": 1}

    __init__ = estimator_init(
        n_components=None, epochs=30, batch_size=64, learning_rate=1e-4, sparsity=1e-8,
        denoise_corruption=0.01, denoise_layers=1, **training_parameters(),
    )

    def _check_params(self):
        super()._check_params()
        if not self.sparsity >= 0:
            raise ValueError(f"sparsity must be >= 0, got {self.sparsity!r}.")
        if not 0.0 <= self.denoise_corruption < 1.0:
            raise ValueError(
                f"denoise_corruption must be in [0, 1), got {self.denoise_corruption!r}."
            )
        self._check_int_param("denoise_layers", minimum=0)

    def denoise(self, X: np.ndarray) -> np.ndarray:
        """The denoised spectra (training targets) of ``X``, in the units of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_pixels, n_channels)
            Spectra, one per row.

        Returns
        -------
        numpy.ndarray of shape (n_pixels, n_channels)
            ``X`` after ``denoise_layers`` marginalised denoising layers.
        """
        from ._mda import apply_denoiser, marginalised_denoiser

        scaled = np.asarray(X, dtype=np.float64) / self.scale_
        for _ in range(int(self.denoise_layers)):
            W = marginalised_denoiser(scaled, float(self.denoise_corruption))
            scaled = apply_denoiser(scaled, W)
        return scaled * self.scale_

    def _fit(self, X: np.ndarray):
        self._check_params()
        seed = self._resolve_seed()
        setup_keras(seed)
        from ..unmixing.abundances import fit_endmember_scales
        from ._callbacks import AlternatingDecoderStep
        from .networks.udas import build_udas

        mean = float(X.mean())
        self.scale_ = mean if mean > 0 else 1.0
        scaled = X / self.scale_
        targets = self.denoise(X) / self.scale_
        # the denoised spectra may dip below zero; VCA would clip them itself, but
        # its warning would then be about these internal spectra, not the data
        start_spectra = np.maximum(targets, 0.0)
        directions = np.maximum(
            vca_endmembers(start_spectra, self._n_components, seed), 0.0
        )
        # VCA's pure pixels have the right shapes but not always the right
        # brightness (a dim pixel of a phase); sum-to-one abundances need both
        endmembers, start = fit_endmember_scales(targets, directions)
        # encoder = least-squares map spectra -> FCLS abundances (ridge-stabilised)
        gram = scaled.T @ scaled
        gram += 1e-8 * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
        encoder = np.linalg.solve(gram, scaled.T @ start)
        model = build_udas(X.shape[1], self._n_components, sparsity=self.sparsity)
        model.get_layer("encoder").set_weights([encoder.astype(np.float32)])
        model.get_layer("endmembers").set_weights([endmembers.astype(np.float32)])
        self.initial_components_ = endmembers * self.scale_
        inputs = scaled.astype(np.float32)
        targets32 = targets.astype(np.float32)

        def decoder_step(network):
            abundances = abundance_outputs(network, inputs)
            solved = _nonnegative_decoder(abundances, targets)
            network.get_layer("endmembers").set_weights([solved.astype(np.float32)])

        compile_model(model, self.learning_rate, "mse")
        self._extra_callbacks = (AlternatingDecoderStep(decoder_step),)
        try:
            self._train(model, inputs, targets32, description="uDAS training")
        finally:
            del self._extra_callbacks
        self.model_ = model
        decoder = np.asarray(model.get_layer("endmembers").get_weights()[0], np.float64)
        self.components_ = decoder * self.scale_
        self._fit_abundances = normalise_rows(self._run_encoder(inputs))

    def _scaled_inputs(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) / self.scale_).astype(np.float32)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return normalise_rows(self._run_encoder(self._scaled_inputs(X)))
