"""CNNAEU network: convolutional autoencoder for unmixing (Palsson et al. 2021)."""

from __future__ import annotations

from ..._keras import keras

from ..._docstrings import fill_doc
from ..layers.nonneg_linear_decoder import NonNegativeLinearDecoder
from ..layers.softmax_temperature import SoftmaxTemperature


@fill_doc
def build_cnnaeu(
    n_channels: int, n_components: int, *, filters: int = 48, kernel_size: int = 3,
    dropout: float = 0.2, temperature: float = 3.5, negative_slope: float = 0.02,
    seed: int | None = None,
) -> keras.Model:
    """Build the fully convolutional unmixing autoencoder.

    Encoder: Conv2D (``filters``, ``kernel_size``, LeakyReLU), batch
    normalisation, spatial dropout, Conv2D (R, 1 x 1, LeakyReLU), batch
    normalisation, spatial dropout, softmax with temperature (layer
    ``"abundances"``). Decoder: a 1 x 1 convolution without bias whose
    non-negative (R, B) kernel holds the endmembers (layer ``"endmembers"``),
    rows used with unit mean. Inputs of any height and width ("same"
    padding: zeros beyond the borders), so the model trained on patches
    unmixes the whole image in one pass.

    %(network_parameters)s
    filters
        Feature maps of the first convolution.
    kernel_size
        Spatial size of the first convolution.
    dropout
        Spatial dropout rate (whole feature maps) while training.
    temperature
        Softmax temperature of the abundance layer.
    %(network_leaky_seed)s

    Returns
    -------
    keras.Model
        Maps images (batch, H, W, B) to reconstructions (batch, H, W, B).

    Examples
    --------
    Any image size, the kernel of the endmembers being (R, B):

    >>> import numpy as np
    >>> from hspy_unmix.neural.networks.cnnaeu import build_cnnaeu
    >>> model = build_cnnaeu(200, 3, seed=0)
    >>> tuple(model(np.zeros((1, 5, 7, 200), "float32")).shape)
    (1, 5, 7, 200)
    >>> tuple(model.get_layer("endmembers").kernel.shape)
    (3, 200)
    """
    inputs = keras.Input(shape=(None, None, n_channels), name="image")
    hidden = keras.layers.Conv2D(filters, kernel_size, padding="same", name="conv_0")(inputs)
    hidden = keras.layers.LeakyReLU(negative_slope, name="leaky_relu_0")(hidden)
    hidden = keras.layers.BatchNormalization(name="batch_norm_0")(hidden)
    hidden = keras.layers.SpatialDropout2D(dropout, seed=seed, name="dropout_0")(hidden)
    hidden = keras.layers.Conv2D(n_components, 1, padding="same", name="conv_1")(hidden)
    hidden = keras.layers.LeakyReLU(negative_slope, name="leaky_relu_1")(hidden)
    hidden = keras.layers.BatchNormalization(name="batch_norm_1")(hidden)
    hidden = keras.layers.SpatialDropout2D(dropout, seed=seed, name="dropout_1")(hidden)
    abundances = SoftmaxTemperature(temperature, name="abundances")(hidden)
    outputs = NonNegativeLinearDecoder(n_channels, unit_mean_rows=True, name="endmembers")(
        abundances
    )
    return keras.Model(inputs, outputs, name="cnnaeu")
