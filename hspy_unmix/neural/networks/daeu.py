"""DAEU network: deep autoencoder for unmixing (Palsson et al. 2018)."""

from __future__ import annotations

from ..._keras import keras

from ..._docstrings import fill_doc
from ..layers.dynamical_soft_threshold import DynamicalSoftThreshold
from ..layers.nonneg_linear_decoder import NonNegativeLinearDecoder
from ..layers.sum_to_one import AbundanceSumToOne

#: Widths of the hidden Dense layers in units of the number of components R.
DAEU_WIDTHS = (9, 6, 3, 1)


@fill_doc
def build_daeu(
    n_channels: int, n_components: int, *, dropout: float = 0.0045,
    negative_slope: float = 0.1, seed: int | None = None,
) -> keras.Model:
    """Build the DAEU network of Brun et al., Table 2.

    Encoder: Dense 9R, 6R, 3R, R (LeakyReLU), batch normalisation, dynamical
    soft thresholding, abundance sum-to-one (layer ``"abundances"``), Gaussian
    dropout. Decoder: one non-negative linear layer without bias whose
    ``(R, B)`` kernel holds the endmembers (layer ``"endmembers"``), each
    row used with unit mean (the spectral-angle loss leaves the scale free).

    %(network_parameters)s
    dropout
        Rate of the Gaussian dropout applied to the abundances while training
        (multiplicative noise of standard deviation ``sqrt(rate / (1 - rate))``).
    negative_slope
        Slope of the LeakyReLU activations for negative inputs.
    seed
        Seed of the dropout noise.

    %(network_spectra_returns)s

    Examples
    --------
    >>> from hspy_unmix.neural.networks.daeu import build_daeu
    >>> model = build_daeu(200, 3, seed=0)
    >>> list(model.get_layer("endmembers").kernel.shape)
    [3, 200]
    """
    inputs = keras.Input(shape=(n_channels,), name="spectra")
    hidden = inputs
    for index, width in enumerate(DAEU_WIDTHS):
        hidden = keras.layers.Dense(width * n_components, name=f"dense_{index}")(hidden)
        hidden = keras.layers.LeakyReLU(negative_slope, name=f"leaky_relu_{index}")(hidden)
    hidden = keras.layers.BatchNormalization(name="batch_norm")(hidden)
    hidden = DynamicalSoftThreshold(name="soft_threshold")(hidden)
    abundances = AbundanceSumToOne(name="abundances")(hidden)
    noisy = keras.layers.GaussianDropout(dropout, seed=seed, name="gaussian_dropout")(
        abundances
    )
    outputs = NonNegativeLinearDecoder(n_channels, unit_mean_rows=True, name="endmembers")(
        noisy
    )
    return keras.Model(inputs, outputs, name="daeu")
