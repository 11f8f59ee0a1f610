"""MTAEU: multitask autoencoder unmixing of pixel neighbourhoods (Palsson et al. 2019)."""

from __future__ import annotations

import numpy as np

from ._spectral_angle import PatchUnmixing

def _centred_patches(padded: np.ndarray, size: int, rows: np.ndarray, cols: np.ndarray):
    """``size`` x ``size`` patches of an edge-padded cube centred on pixels ``(rows, cols)``."""
    offsets = np.arange(size)
    r = rows[:, None, None] + offsets[None, :, None]
    c = cols[:, None, None] + offsets[None, None, :]
    return padded[r, c]


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
    those of the centre task of the patch centred on it, so ``X`` must hold
    all the pixels of an image of shape ``image_shape``, in row-major order.
    Scaling and the restoration of the abundance scale are as for
    :class:`DAEU`.

    Parameters
    ----------
    n_components
        Number of endmembers R.
    image_shape
        ``(rows, columns)`` of the spectrum image the rows of ``X`` come from
        (set by ``s.decomposition`` and ``s.apply_unmixing``).
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
    epochs, batch_size
        Passes over the patches and patches per gradient step.
    learning_rate, init, early_stopping_patience, validation_split,
    random_state, show_progressbar, verbose
        As for :class:`DAEU`.
    max_partial_fit_samples
        Upper bound on the pixels :meth:`partial_fit` keeps from a lazy
        signal's stream to fit on (a uniform random sample).

    Attributes
    ----------
    components_ : numpy.ndarray, shape (R, n_channels)
    abundance_weights_ : numpy.ndarray, shape (R,)
    history_ : dict of list
    model_ : keras.Model

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.decomposition(algorithm="MTAEU", output_dimension=3, epochs=20,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    >>> est = hspy_unmix.MTAEU(3, image_shape=(64, 64), random_state=0)
    >>> abundances = est.fit_transform(s.data.reshape(-1, 200))  # doctest: +SKIP
    """

    _name = "MTAEU"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        image_shape=None,
        patch_size: int = 3,
        shared_units=(64, 32),
        temperature: float = 1.0,
        max_patches: int = 16384,
        dropout: float = 0.1,
        epochs: int = 40,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        init: str = "vca",
        early_stopping_patience: int | None = 10,
        validation_split: float = 0.0,
        max_partial_fit_samples: int = 20_000,
        random_state=None,
        show_progressbar: bool | None = None,
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.image_shape = image_shape
        self.patch_size = patch_size
        self.shared_units = shared_units
        self.temperature = temperature
        self.max_patches = max_patches
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.init = init
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.max_partial_fit_samples = max_partial_fit_samples
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

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

    def _fit(self, X: np.ndarray):
        shared = self._check_params()
        cube_shape = self._cube_shape(X)
        from .networks.mtaeu import build_mtaeu

        seed, targets, inputs = self._prepare(X)
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
        self._start_decoder(model, X, seed)
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
