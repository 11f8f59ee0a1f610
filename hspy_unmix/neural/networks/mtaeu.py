"""MTAEU network: multitask autoencoder for unmixing (Palsson et al. 2019)."""

from __future__ import annotations

from ..._keras import keras

from ..._docstrings import fill_doc
from ..layers.nonneg_linear_decoder import NonNegativeLinearDecoder
from ..layers.softmax_temperature import SoftmaxTemperature


@fill_doc
def build_mtaeu(
    n_channels: int, n_components: int, *, patch_size: int = 3,
    shared_units: tuple[int, ...] = (64, 32), task_units: int | None = None,
    dropout: float = 0.1, temperature: float = 1.0, negative_slope: float = 0.1,
    seed: int | None = None,
) -> keras.Model:
    """Build the multitask unmixing autoencoder.

    The input is a ``patch_size`` x ``patch_size`` patch of spectra; each of
    its ``T = patch_size**2`` pixels is one task.

    * Shared encoder: the flattened patch goes through Dense layers of
      ``shared_units`` (LeakyReLU, batch normalisation, dropout), so every
      task sees the spectra of the whole neighbourhood.
    * Task-specific encoder: for each task its own Dense layer of
      ``task_units`` (LeakyReLU) then its own Dense layer of R units; batch
      normalisation (statistics per component, over the batch and the tasks)
      and softmax with temperature give the abundances of that
      pixel (layer ``"abundances"``, shape ``(batch, T, R)``, row-major order
      within the patch). The per-task weights are held by
      :class:`keras.layers.EinsumDense` layers with a task axis.
    * Shared decoder: one non-negative linear layer without bias whose
      ``(R, B)`` kernel holds the endmembers (layer ``"endmembers"``, rows
      used with unit mean), applied to every task.

    %(network_parameters)s
    patch_size
        Side of the square neighbourhood (odd; the centre task is the pixel
        the patch is centred on).
    shared_units
        Widths of the shared Dense layers.
    task_units
        Width of the hidden layer of each task; ``None`` is ``3 * R``.
    dropout
        Dropout rate after each shared layer while training.
    temperature
        Softmax temperature of the abundances.
    %(network_leaky_seed)s

    Returns
    -------
    keras.Model
        Maps patches (batch, P, P, B) to reconstructed spectra (batch, T, B).

    Examples
    --------
    >>> from hspy_unmix.neural.networks.mtaeu import build_mtaeu
    >>> model = build_mtaeu(200, 3, seed=0)
    >>> tuple(model.get_layer("endmembers").kernel.shape)
    (3, 200)
    >>> tuple(model.get_layer("abundances").output.shape)
    (None, 9, 3)
    """
    n_tasks = int(patch_size) ** 2
    task_units = 3 * n_components if task_units is None else int(task_units)
    inputs = keras.Input(shape=(patch_size, patch_size, n_channels), name="patch")
    hidden = keras.layers.Flatten(name="flatten")(inputs)
    for index, width in enumerate(shared_units):
        hidden = keras.layers.Dense(int(width), name=f"shared_dense_{index}")(hidden)
        hidden = keras.layers.LeakyReLU(negative_slope, name=f"shared_leaky_relu_{index}")(
            hidden
        )
        hidden = keras.layers.BatchNormalization(name=f"shared_batch_norm_{index}")(hidden)
        hidden = keras.layers.Dropout(dropout, seed=seed, name=f"shared_dropout_{index}")(
            hidden
        )
    tasks = keras.layers.EinsumDense(
        "bf,tfh->bth", output_shape=(n_tasks, task_units), bias_axes="th", name="task_dense"
    )(hidden)
    tasks = keras.layers.LeakyReLU(negative_slope, name="task_leaky_relu")(tasks)
    logits = keras.layers.EinsumDense(
        "bth,thr->btr", output_shape=(n_tasks, n_components), bias_axes="tr",
        name="task_logits",
    )(tasks)
    logits = keras.layers.BatchNormalization(name="task_batch_norm")(logits)
    abundances = SoftmaxTemperature(temperature, name="abundances")(logits)
    outputs = NonNegativeLinearDecoder(n_channels, unit_mean_rows=True, name="endmembers")(
        abundances
    )
    return keras.Model(inputs, outputs, name="mtaeu")
