"""Plain autoencoder whose latent codes summarise each spectrum."""

from __future__ import annotations

from ..._keras import keras


def build_latent_autoencoder(
    n_channels: int,
    latent_dim: int,
    *,
    hidden_units: tuple[int, ...] = (64, 16),
    negative_slope: float = 0.1,
) -> keras.Model:
    """Dense encoder to ``latent_dim`` linear codes, linear decoder without bias.

    Encoder: Dense layers of ``hidden_units`` (LeakyReLU), then a linear Dense
    layer of ``latent_dim`` units (layer ``"abundances"``: the latent codes).
    Decoder: one linear Dense layer without bias (layer ``"decoder"``), so that
    a spectrum is reconstructed as ``codes @ kernel``: the kernel rows are the
    spectra of the latent directions.

    Parameters
    ----------
    n_channels
        Spectrum length.
    latent_dim
        Dimension of the latent space.
    hidden_units
        Widths of the hidden encoder layers.
    negative_slope
        Slope of the LeakyReLU activations for negative inputs.

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> from hspy_unmix.neural.networks.latent_autoencoder import (
    ...     build_latent_autoencoder)
    >>> model = build_latent_autoencoder(200, 2)
    >>> tuple(model.get_layer("decoder").kernel.shape)
    (2, 200)
    """
    inputs = keras.Input(shape=(n_channels,), name="spectra")
    hidden = inputs
    for index, width in enumerate(hidden_units):
        hidden = keras.layers.Dense(int(width), name=f"dense_{index}")(hidden)
        hidden = keras.layers.LeakyReLU(negative_slope, name=f"leaky_relu_{index}")(hidden)
    codes = keras.layers.Dense(latent_dim, name="abundances")(hidden)
    outputs = keras.layers.Dense(n_channels, use_bias=False, name="decoder")(codes)
    return keras.Model(inputs, outputs, name="latent_autoencoder")
