"""uDAS network: untied denoising autoencoder with sparsity (Qu & Qi 2018)."""

from __future__ import annotations

from ..._keras import keras

from ..._docstrings import fill_doc
from ..layers.nonneg_linear_decoder import NonNegativeLinearDecoder
from ..layers.sum_to_one import AbundanceSumToOne
from ..regularizers import GroupSparsity


@fill_doc
def build_udas(n_channels: int, n_components: int, *, sparsity: float = 1e-8) -> keras.Model:
    """Build the shallow untied autoencoder of uDAS.

    Encoder: one Dense layer without bias (layer ``"encoder"``, kernel
    ``(B, R)``, l2,1 penalty over the weights of each endmember), then the
    abundance sum-to-one constraint (ReLU then division by the sum, layer
    ``"abundances"``). Decoder: one non-negative linear layer (layer
    ``"endmembers"``, kernel ``(R, B)``), untied from the encoder and frozen
    for gradient training: the estimator updates it by non-negative least
    squares between the encoder epochs (alternating optimisation).

    %(network_parameters)s
    sparsity
        Strength of the l2,1 penalty on the encoder kernel.

    %(network_spectra_returns)s

    Examples
    --------
    >>> from hspy_unmix.neural.networks.udas import build_udas
    >>> model = build_udas(200, 3)
    >>> tuple(model.get_layer("encoder").kernel.shape), model.get_layer("endmembers").trainable
    ((200, 3), False)
    """
    inputs = keras.Input(shape=(n_channels,), name="spectra")
    hidden = keras.layers.Dense(
        n_components,
        use_bias=False,
        kernel_regularizer=GroupSparsity(sparsity),
        name="encoder",
    )(inputs)
    abundances = AbundanceSumToOne(name="abundances")(hidden)
    decoder = NonNegativeLinearDecoder(n_channels, name="endmembers")
    decoder.trainable = False
    outputs = decoder(abundances)
    return keras.Model(inputs, outputs, name="udas")
