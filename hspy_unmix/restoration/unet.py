"""Small 1-D U-net for near-zero-loss EELS restoration (EELSpecNet style)."""

from __future__ import annotations

from .._optional import import_keras


def build_zlp_unet(
    channels: int | None = 2048,
    depth: int = 5,
    base_filters: int = 8,
    max_filters: int = 64,
    kernel_size: int = 7,
    convs_per_level: int = 1,
    activation: str = "relu",
    linear_scale: float = 10.0,
    asinh_eps: float = 1e-5,
    seed: int | None = 0,
    name: str = "zlp_unet",
):
    """Build a 1-D U-net mapping distorted to restored near-zero-loss spectra.

    The network is fully convolutional: ``depth`` encoder levels (convolution
    then max-pooling by 2), a bottleneck, and ``depth`` decoder levels
    (transposed convolution by 2, concatenation with the encoder skip, then
    convolution). The input is an integral-normalised spectrum of shape
    ``(channels, 1)``, first expanded by
    :class:`~hspy_unmix.neural.layers.zlp_input_features.ZLPInputFeatures` to a
    linear and a log-like view; the last convolution predicts the log-like
    view of the restored spectrum, mapped back to intensities by
    :class:`~hspy_unmix.neural.layers.zlp_asinh_output.ZLPAsinhOutput`
    (same units as the input).

    Parameters
    ----------
    channels
        Spectrum length, a multiple of ``2 ** depth``; ``None`` builds a model
        that accepts any such length (used by the shipped model, trained on
        crops and applied to whole spectra).
    depth
        Number of down-sampling levels.
    base_filters, max_filters
        Filters of the first level, doubled at each level up to ``max_filters``.
    kernel_size
        Convolution kernel length.
    convs_per_level
        Convolutions per encoder/decoder level.
    activation
        Hidden activation.
    linear_scale, asinh_eps
        Parameters of the input feature layer.
    seed
        Seed of the weight initialisers (reproducible models).
    name
        Model name.

    Returns
    -------
    keras.Model
        An uncompiled functional model.

    Examples
    --------
    >>> from hspy_unmix import build_zlp_unet
    >>> model = build_zlp_unet(256, depth=3, base_filters=4)
    >>> tuple(model.output_shape)
    (None, 256, 1)
    """
    keras = import_keras()
    from .layers.zlp_asinh_output import ZLPAsinhOutput
    from .layers.zlp_input_features import ZLPInputFeatures

    if depth < 1:
        raise ValueError("depth must be >= 1.")
    if channels is not None and channels % (2**depth):
        raise ValueError(
            f"channels ({channels}) must be a multiple of 2**depth ({2**depth})."
        )
    layers = keras.layers
    seeds = iter(range(10_000)) if seed is None else iter(range(seed, seed + 10_000))

    def init():
        return keras.initializers.HeNormal(seed=None if seed is None else next(seeds))

    def conv_block(x, filters, prefix):
        for i in range(convs_per_level):
            x = layers.Conv1D(filters, kernel_size, padding="same", activation=activation,
                              kernel_initializer=init(), name=f"{prefix}_conv{i}")(x)
        return x

    filters = [min(base_filters * 2**i, max_filters) for i in range(depth + 1)]
    inputs = keras.Input(shape=(channels, 1), name="spectrum")
    x = ZLPInputFeatures(linear_scale, asinh_eps, name="features")(inputs)
    skips = []
    for level in range(depth):
        x = conv_block(x, filters[level], f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling1D(2, name=f"pool{level}")(x)
    x = conv_block(x, filters[depth], "bottleneck")
    for level in reversed(range(depth)):
        x = layers.Conv1DTranspose(filters[level], 2, strides=2, activation=activation,
                                   kernel_initializer=init(), name=f"up{level}")(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = conv_block(x, filters[level], f"dec{level}")
    x = layers.Conv1D(1, 1, kernel_initializer=keras.initializers.GlorotUniform(
        seed=None if seed is None else next(seeds)), name="head")(x)
    outputs = ZLPAsinhOutput(asinh_eps, name="restored")(x)
    return keras.Model(inputs, outputs, name=name)
