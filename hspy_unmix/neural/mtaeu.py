"""MTAEU: multitask autoencoder unmixing of pixel neighbourhoods (Palsson et al. 2019)."""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._parameters import estimator_init
from ._estimator import training_parameters
from ._spectral_angle import PatchUnmixing


def _centred_patches(padded: np.ndarray, size: int, rows: np.ndarray, cols: np.ndarray):
    """``size`` x ``size`` patches of an edge-padded cube centred on pixels ``(rows, cols)``."""
    offsets = np.arange(size)
    r = rows[:, None, None] + offsets[None, :, None]
    c = cols[:, None, None] + offsets[None, None, :]
    return padded[r, c]


@fill_doc
class MTAEU(PatchUnmixing):
    """Multitask autoencoder unmixing (MTAEU, Palsson et al. 2019).

    Spectral-spatial unmixing by multitask learning: the network reads a
    ``patch_size`` x ``patch_size`` neighbourhood and each of its pixels is
    one task. Shared Dense layers (LeakyReLU, batch normalisation, dropout)
    see the whole patch; small task-specific layers then give the abundances
    of every pixel of the patch (softmax with temperature: non-negative, sum
    to one); one shared non-negative linear decoder, whose weights are the
    endmembers, reconstructs each pixel (see
    :func:`~hspy_unmix.neural.networks.mtaeu.build_mtaeu`). The loss is the
    spectral angle per pixel, averaged over the tasks and the patches.

    Training uses the patch centred on every pixel (edge padding at the
    borders; a random subset of ``max_patches`` patches on large images).
    ``transform`` unmixes the whole image: the abundances of a pixel are
    those of the centre task of the patch centred on it.

    %(patch_network_note)s

    Parameters
    ----------
    %(patch_network_sizes)s
    patch_size
        Side of the neighbourhood (odd): ``patch_size**2`` tasks.
    shared_units
        Widths of the shared Dense layers.
    temperature
        Softmax temperature of the abundances.
    max_patches
        Upper bound on the training patches (a random subset of the pixels
        above it), which bounds memory to ``2 * max_patches * patch_size**2``
        spectra.
    dropout
        Dropout rate after each shared layer while training.
    %(patch_training)s

    %(spectral_angle_attributes)s

    %(examples_chequerboard)s
    >>> s.decomposition(algorithm="MTAEU", output_dimension=3, epochs=20,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    >>> s.learning_results.loadings.shape  # doctest: +SKIP
    (4096, 3)
    """

    _name = "MTAEU"

    __init__ = estimator_init(
        n_components=None, image_shape=None, patch_size=3, shared_units=(64, 32),
        temperature=1.0, max_patches=16384, dropout=0.1, epochs=40, batch_size=64,
        learning_rate=3e-3, init="vca", n_starts=3, combine_starts="lowest_loss", abundances="fcls",
        **training_parameters(),
    )

    def _check_params(self):
        super()._check_params()
        self._check_init()
        self._check_int_param("patch_size")
        self._check_int_param("max_patches")
        if self.patch_size % 2 == 0:
            raise ValueError(
                f"patch_size must be odd (a centre pixel), got {self.patch_size}."
            )
        shared = tuple(int(u) for u in np.atleast_1d(self.shared_units))
        if not shared or min(shared) < 1:
            raise ValueError(f"shared_units must be positive, got {self.shared_units!r}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature!r}.")
        return shared

    def _padded(self, cube: np.ndarray) -> np.ndarray:
        half = self.patch_size // 2
        return np.pad(cube, ((half, half), (half, half), (0, 0)), mode="edge")

    def _fit_start(self, X: np.ndarray, seed: int):
        """Train one network from ``seed`` (see :meth:`_fit`)."""
        shared = self._check_params()
        cube_shape = self._cube_shape(X)
        from .networks.mtaeu import build_mtaeu

        targets, inputs = self._prepare(X, seed)
        pixels = np.arange(X.shape[0])
        if pixels.size > self.max_patches:
            rng = np.random.RandomState(seed)
            pixels = np.sort(rng.choice(pixels.size, self.max_patches, replace=False))
        rows, cols = np.divmod(pixels, cube_shape[1])
        size = int(self.patch_size)
        input_patches = _centred_patches(
            self._padded(inputs.reshape(cube_shape)), size, rows, cols
        )
        target_patches = _centred_patches(
            self._padded(targets.reshape(cube_shape)), size, rows, cols
        ).reshape(pixels.size, size * size, X.shape[1])
        model = build_mtaeu(
            X.shape[1], self._n_components, patch_size=size, shared_units=shared,
            dropout=self.dropout, temperature=self.temperature, seed=seed,
        )
        self._start_decoder(model)
        self._compile_and_train(
            model, input_patches, target_patches, description="MTAEU training"
        )
        del input_patches, target_patches
        decoder = self._keep_model(model)
        self._finalise(X, self._raw_image_abundances(inputs, cube_shape), decoder)

    def _raw_image_abundances(self, inputs: np.ndarray, cube_shape) -> np.ndarray:
        """Centre-task encoder output for every pixel, in batches of patches."""
        from ..io.chunks import map_rows

        size = int(self.patch_size)
        padded = self._padded(inputs.reshape(cube_shape))
        pixels = np.arange(cube_shape[0] * cube_shape[1])

        def centre_tasks(batch):
            rows, cols = np.divmod(batch, cube_shape[1])
            tasks = self._run_encoder(_centred_patches(padded, size, rows, cols))
            return tasks[:, (size * size) // 2]

        # the patches of a batch of pixels are built per batch (bounded copies)
        patch_bytes = size * size * cube_shape[2] * inputs.itemsize
        return map_rows(centre_tasks, pixels, row_bytes=patch_bytes)
