"""Base of the custom layers whose output has the shape of their input."""

from __future__ import annotations

from ..._keras import keras


class ShapePreservingLayer(keras.layers.Layer):
    """A layer with its input's output shape and scalar constructor options.

    Subclasses name their constructor options in ``_config_keys``;
    :meth:`get_config` returns them beside Keras' own entries, so that every
    constructor argument survives ``.keras`` saving and ``from_config``.
    """

    #: Constructor options stored as attributes of the same names.
    _config_keys: tuple[str, ...] = ()

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config
