"""CNNAEU: convolutional autoencoder unmixing on image patches (Palsson et al. 2021)."""

from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._parameters import estimator_init
from ._estimator import training_parameters
from ._spectral_angle import PatchUnmixing


def _image_patches(cube: np.ndarray, size: int, stride: int, max_patches: int, rng):
    """Overlapping ``size`` x ``size`` patches, at most ``max_patches`` (random subset)."""
    rows, cols = cube.shape[:2]
    size_r, size_c = min(size, rows), min(size, cols)
    starts_r = np.unique(np.r_[np.arange(0, rows - size_r + 1, stride), rows - size_r])
    starts_c = np.unique(np.r_[np.arange(0, cols - size_c + 1, stride), cols - size_c])
    corners = np.array([(r, c) for r in starts_r for c in starts_c])
    if corners.shape[0] > max_patches:
        corners = corners[np.sort(rng.choice(corners.shape[0], max_patches, replace=False))]
    return np.stack([cube[r : r + size_r, c : c + size_c] for r, c in corners])


@fill_doc
class CNNAEU(PatchUnmixing):
    """Convolutional autoencoder unmixing (CNNAEU, Palsson et al. 2021).

    A fully convolutional encoder (see
    :func:`~hspy_unmix.neural.networks.cnnaeu.build_cnnaeu`) turns each pixel
    and its neighbours into abundances (softmax with temperature); a 1 x 1
    convolution with non-negative weights, the endmembers, reconstructs the
    spectra. The loss is the spectral angle per pixel. Training uses
    overlapping square patches of the image; ``transform`` unmixes the whole
    image at once (zero padding beyond the borders).

    %(patch_network_note)s

    Parameters
    ----------
    %(patch_network_sizes)s
    patch_size
        Side of the training patches (pixels).
    patch_stride
        Step between patches; ``None`` is ``patch_size // 4``.
    max_patches
        Upper bound on the training patches (a random subset above it),
        which bounds memory to ``max_patches * patch_size**2`` spectra.
    filters, kernel_size, temperature
        Encoder width, spatial kernel and softmax temperature.
    dropout
        Spatial dropout rate while training.
    %(patch_training)s

    %(spectral_angle_attributes)s

    %(examples_chequerboard)s
    >>> est = hspy_unmix.CNNAEU(3, image_shape=(64, 64), epochs=40, random_state=0)
    >>> abundances = est.fit_transform(s.data.reshape(-1, 200))  # doctest: +SKIP
    >>> abundances.sum(axis=1)[:3]  # doctest: +SKIP
    array([1., 1., 1.])
    """

    _name = "CNNAEU"

    __init__ = estimator_init(
        n_components=None, image_shape=None, patch_size=16, patch_stride=None,
        max_patches=512, filters=48, kernel_size=3, temperature=3.5, dropout=0.2,
        epochs=60, batch_size=8, learning_rate=3e-3, init="vca", n_starts=3,
        combine_starts="lowest_loss", abundances="fcls",
        **training_parameters(early_stopping_patience=15),
    )

    def _check_params(self):
        super()._check_params()
        self._check_init()
        for name in ("patch_size", "max_patches", "filters", "kernel_size"):
            self._check_int_param(name)
        if self.patch_stride is not None:
            self._check_int_param("patch_stride")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature!r}.")

    def _fit_start(self, X: np.ndarray, seed: int):
        """Train one network from ``seed`` (see :meth:`_fit`)."""
        cube_shape = self._cube_shape(X)
        from .networks.cnnaeu import build_cnnaeu

        targets, inputs = self._prepare(X, seed)
        stride = self.patch_stride or max(1, self.patch_size // 4)
        rng = np.random.RandomState(seed)
        input_patches = _image_patches(
            inputs.reshape(cube_shape), self.patch_size, stride, self.max_patches, rng
        )
        rng = np.random.RandomState(seed)
        target_patches = _image_patches(
            targets.reshape(cube_shape), self.patch_size, stride, self.max_patches, rng
        )
        model = build_cnnaeu(
            X.shape[1], self._n_components, filters=self.filters,
            kernel_size=self.kernel_size, dropout=self.dropout,
            temperature=self.temperature, seed=seed,
        )
        self._start_decoder(model)
        self._compile_and_train(
            model, input_patches, target_patches, description="CNNAEU training"
        )
        decoder = self._keep_model(model)
        self._finalise(X, self._raw_image_abundances(inputs, cube_shape), decoder)

    def _raw_image_abundances(self, inputs: np.ndarray, cube_shape) -> np.ndarray:
        raw = self._run_encoder(inputs.reshape((1,) + tuple(cube_shape)))
        return raw.reshape(-1, raw.shape[-1])
