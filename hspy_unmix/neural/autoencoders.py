"""Autoencoder unmixing of spectrum images (Keras 3).

Estimators (scikit-learn style, also ``s.decomposition(algorithm=NAME)``):

* :class:`DAEU` -- deep autoencoder with a single non-negative linear decoder
  (Palsson et al. 2018), spectral-angle loss;
* :class:`MTAEU` -- multitask autoencoder (Palsson et al. 2019): each pixel
  of a small neighbourhood is a task, shared encoder layers and decoder,
  spectral-angle loss averaged over the tasks;
* :class:`CNNAEU` -- convolutional autoencoder on image patches (Palsson et
  al. 2021), spectral-angle loss, whole image unmixed at once;
* :class:`UDAS` -- untied denoising autoencoder with sparsity (Qu & Qi
  2018): shallow encoder, decoder solved by alternating least squares;
* :class:`AE` -- plain autoencoder whose latent codes are the loadings, for
  latent-space clustering (see :mod:`hspy_unmix.clustering`).

This module does not import Keras; it is imported when a neural method runs.
Training uses TensorFlow (the default Keras backend), on a GPU when
TensorFlow sees one. ``random_state`` seeds Python, NumPy and the backend, so
two fits on the CPU give the same result.

Scaling
-------
The spectral-angle network (DAEU) sees each spectrum divided
by its own mean, so that a model trained on one spectrum image applies to
another acquired with a different dose or thickness. The spectral angle
fixes each reconstruction only up to a factor; after training the scale of
every endmember is restored (:func:`~hspy_unmix.neural._estimator.sum_to_one_weights`)
so that ``transform(X) @ components_`` approximates ``X`` with abundances
that are non-negative and sum to one. AE works on standardised channels (see
:class:`AE`).
"""

from __future__ import annotations

import numpy as np

from ._estimator import (
    NeuralUnmixingEstimator,
    abundance_outputs,
    compile_model,
    pixel_normalise,
    setup_keras,
    sum_to_one_weights,
)

__all__ = ["DAEU", "MTAEU", "CNNAEU", "UDAS", "AE"]

_INITS = ("minvol", "vca", "random")
_DAEU_ABUNDANCES = ("encoder", "fcls")


def _normalise_rows(weighted: np.ndarray) -> np.ndarray:
    totals = weighted.sum(axis=1, keepdims=True)
    totals[totals <= 0] = 1.0
    return weighted / totals


def _vca_endmembers(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    from ..vca import VCA

    return VCA(n_components=n_components, random_state=seed).fit(X).components_


def _minvol_endmembers(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Minimum-volume simplex of the spectra divided by their mean (scale-free)."""
    from ..minvol import MinVolume

    return MinVolume(n_components=n_components, random_state=seed).fit(
        pixel_normalise(X).astype(np.float64)
    ).components_


def _unit_mean_rows(E: np.ndarray) -> np.ndarray:
    E = np.maximum(np.asarray(E, dtype=np.float64), 0.0)
    means = E.mean(axis=1, keepdims=True)
    means[means <= 0] = 1.0
    return E / means


class _SpectralAngleUnmixing(NeuralUnmixingEstimator):
    """Shared fit/transform of the networks trained with the spectral angle."""

    _name = "network"

    def _check_init(self):
        if self.init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {self.init!r}.")

    def _initial_decoder(self, X: np.ndarray, seed: int) -> np.ndarray | None:
        """Initial endmembers scaled to unit mean, or None for the random start."""
        if self.init == "vca":
            return _unit_mean_rows(_vca_endmembers(X, self._n_components, seed))
        if self.init == "minvol":
            return _unit_mean_rows(_minvol_endmembers(X, self._n_components, seed))
        return None

    def _set_channel_standardisation(self, normalised: np.ndarray):
        self.channel_mean_ = normalised.mean(axis=0).astype(np.float64)
        std = normalised.std(axis=0).astype(np.float64)
        self.channel_std_ = np.where(std > 0, std, 1.0)

    def _encoder_inputs(self, X: np.ndarray) -> np.ndarray:
        """Spectra divided by their mean, then standardised channel by channel.

        The standardisation lets the encoder see the edges, weak on top of the
        background; the decoder still reconstructs the mean-normalised spectra.
        """
        normalised = pixel_normalise(X)
        return ((normalised - self.channel_mean_) / self.channel_std_).astype(np.float32)

    def _finalise(self, X: np.ndarray, raw_abundances: np.ndarray, decoder: np.ndarray):
        weights = sum_to_one_weights(X, raw_abundances, decoder)
        self.abundance_weights_ = weights
        self.components_ = decoder / weights[:, None]
        self._fit_abundances = _normalise_rows(raw_abundances * weights)

    def _abundances_from_raw(self, raw_abundances: np.ndarray) -> np.ndarray:
        return _normalise_rows(raw_abundances * self.abundance_weights_)

    def _prepare(self, X: np.ndarray):
        """Seed Keras; return the seed, the targets and the encoder inputs."""
        seed = self._resolve_seed()
        setup_keras(seed)
        targets = pixel_normalise(X)
        self._set_channel_standardisation(targets)
        return seed, targets, self._encoder_inputs(X)

    def _start_decoder(self, model, X: np.ndarray, seed: int) -> bool:
        """Set the decoder to the initial endmembers (False for a random start)."""
        initial = self._initial_decoder(X, seed)
        if initial is None:
            return False
        model.get_layer("endmembers").set_weights([initial.astype(np.float32)])
        return True

    def _compile_and_train(self, model, inputs, targets, **train_kwargs):
        from .losses import SpectralAngleLoss

        compile_model(model, self.learning_rate, SpectralAngleLoss())
        self._train(model, inputs, targets, **train_kwargs)

    def _keep_model(self, model) -> np.ndarray:
        """Store the trained network; return its decoder scaled to unit mean."""
        self.model_ = model
        return _unit_mean_rows(model.get_layer("endmembers").get_weights()[0])


class _PatchUnmixing(_SpectralAngleUnmixing):
    """Networks reading neighbourhoods: ``X`` holds a whole image."""

    def _cube_shape(self, X: np.ndarray) -> tuple:
        return _image_cube(X, self.image_shape, self._name).shape

    def _transform(self, X: np.ndarray) -> np.ndarray:
        raw = self._raw_image_abundances(self._encoder_inputs(X), self._cube_shape(X))
        return self._abundances_from_raw(raw)


class DAEU(_SpectralAngleUnmixing):
    """Deep autoencoder unmixing (DAEU, Palsson et al. 2018).

    Encoder (Brun et al., Table 2): Dense 9R, 6R, 3R, R with LeakyReLU, batch
    normalisation, dynamical soft thresholding, abundance sum-to-one, then
    Gaussian dropout feeding a single non-negative linear decoder without
    bias whose weights are the endmembers. The loss is the spectral angle
    between each spectrum and its reconstruction, averaged over the pixels.

    Training, by default:

    * the decoder starts from the minimum-volume simplex of the spectra
      (``init="minvol"``, :class:`~hspy_unmix.minvol.MinVolume` on the
      spectra divided by their mean). Where every phase has pure pixels it
      equals the VCA start; where one has none (a thin layer, a small
      particle), VCA would start that endmember at the most extreme mixed
      pixel, and the network does not move it out of the data from there
      (on a chequerboard whose third phase never exceeds 0.6: SAD 0.06-0.10
      from VCA, 0.023-0.029 from the minimum-volume start);
    * warm-up: for the first ``warmup_epochs`` the decoder is frozen and only
      the encoder learns. Training both from the start lets the decoder
      follow the errors of a still random encoder away from its start
      (on the Brun et al. chequerboard, SAD 0.02-0.08 instead of about 0.005);
    * the Gaussian dropout rate is 0.0045, the value of the reference
      implementation of Palsson et al. Its multiplicative noise changes the
      direction of the reconstruction of mixed pixels only, so under the
      spectral angle it favours pure abundances; at a rate of 0.1 (noise of
      standard deviation 0.33) the network under-fits;
    * Adam, learning rate 3e-3, 64 pixels per step, early stopping on the
      loss with a patience of 10 epochs.

    Parameters
    ----------
    n_components
        Number of endmembers R.
    epochs
        Training epochs (passes over all pixels), warm-up included.
    batch_size
        Pixels per gradient step.
    learning_rate
        Adam learning rate.
    init
        ``"minvol"``: the decoder starts from the minimum-volume simplex
        (:class:`~hspy_unmix.minvol.MinVolume`); ``"vca"``: from the VCA
        endmembers, as in Palsson et al.; ``"random"``: from uniform random
        non-negative spectra.
    dropout
        Rate of the Gaussian dropout on the abundances while training.
    warmup_epochs
        Epochs, at the start of ``epochs``, during which the decoder is
        frozen at its start and only the encoder trains. Ignored with
        ``init="random"``; 0 trains both from the start.
    abundances
        How ``transform`` (and ``fit_transform``) obtain the abundances:
        ``"encoder"``, the output of the trained encoder (sum-to-one layer,
        no dropout); ``"fcls"``, fully constrained least squares against
        ``components_`` (:func:`~hspy_unmix.abundances.fcls_abundances`),
        slower but exact for the learned endmembers.
    early_stopping_patience
        Stop when the loss (validation loss if ``validation_split > 0``) has
        not improved for this many epochs, keeping the best weights;
        ``None`` trains for all ``epochs``.
    validation_split
        Fraction of pixels held out to monitor the loss.
    random_state
        Seed (int) or :class:`numpy.random.RandomState`; ``None`` draws one.
    show_progressbar
        Progress bar over epochs; ``None`` follows HyperSpy's preference.
    verbose
        Keras' own training log (0 silent, 1 progress, 2 one line per epoch).

    Attributes
    ----------
    components_ : numpy.ndarray, shape (R, n_channels)
        Endmembers (non-negative), scaled so that ``transform(X) @
        components_`` approximates ``X``.
    abundance_weights_ : numpy.ndarray, shape (R,)
        Factors turning the encoder output into abundances (see module notes).
    history_ : dict of list
        Loss per epoch (``"loss"``, and ``"val_loss"`` with a validation split).
    model_ : keras.Model
        The trained network (stored as ``.keras`` by :meth:`save`).

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.decomposition(algorithm="DAEU", output_dimension=3, epochs=20,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    >>> est = hspy_unmix.DAEU(3, epochs=20, random_state=0)
    >>> abundances = est.fit_transform(s.data.reshape(-1, 200))  # doctest: +SKIP
    """

    _name = "DAEU"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        epochs: int = 40,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        init: str = "minvol",
        dropout: float = 0.0045,
        warmup_epochs: int = 10,
        abundances: str = "encoder",
        early_stopping_patience: int | None = 10,
        validation_split: float = 0.0,
        random_state=None,
        show_progressbar: bool | None = None,
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.init = init
        self.dropout = dropout
        self.warmup_epochs = warmup_epochs
        self.abundances = abundances
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _check_daeu_params(self):
        self._check_training_params()
        self._check_init()
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        self._check_positive_int("warmup_epochs", minimum=0)
        if self.abundances not in _DAEU_ABUNDANCES:
            raise ValueError(
                f"abundances must be one of {_DAEU_ABUNDANCES}, got {self.abundances!r}."
            )

    def _fit(self, X: np.ndarray):
        self._check_daeu_params()
        from .models.daeu import build_daeu

        seed, targets, inputs = self._prepare(X)
        model = build_daeu(X.shape[1], self._n_components, dropout=self.dropout, seed=seed)
        decoder_layer = model.get_layer("endmembers")
        warmup = 0
        if self._start_decoder(model, X, seed):
            warmup = min(int(self.warmup_epochs), int(self.epochs))
        if warmup:
            # encoder first, against the fixed initial endmembers
            decoder_layer.trainable = False
            self._compile_and_train(
                model, inputs, targets, description="DAEU warm-up", epochs=warmup
            )
            decoder_layer.trainable = True
        if self.epochs > warmup:
            self._compile_and_train(
                model, inputs, targets, description="DAEU training",
                epochs=int(self.epochs) - warmup, append_history=warmup > 0,
            )
        decoder = self._keep_model(model)
        self._finalise(X, self._run_encoder(inputs), decoder)
        if self.abundances == "fcls":
            self._fit_abundances = self._fcls(X)

    def _fcls(self, X: np.ndarray) -> np.ndarray:
        from ..abundances import fcls_abundances

        return fcls_abundances(X, self.components_)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if getattr(self, "abundances", "encoder") == "fcls":
            return self._fcls(X)
        return self._abundances_from_raw(self._run_encoder(self._encoder_inputs(X)))


def _image_cube(X: np.ndarray, image_shape, name: str) -> np.ndarray:
    """Rows of ``X`` (row-major pixel order) as an image (rows, cols, channels)."""
    if image_shape is None:
        raise ValueError(
            f"{name} works on image patches: set image_shape=(rows, columns), the "
            "navigation shape of the spectrum image (s.decomposition sets it)."
        )
    shape = tuple(int(v) for v in np.atleast_1d(image_shape))
    if len(shape) == 1:
        shape = (1, shape[0])  # a line scan is an image of one row
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"image_shape must be (rows, columns), got {image_shape!r}.")
    if shape[0] * shape[1] != X.shape[0]:
        raise ValueError(
            f"image_shape {shape} holds {shape[0] * shape[1]} pixels; X has {X.shape[0]} "
            "rows. Pass all the pixels of the image, in row-major order."
        )
    return X.reshape(shape + (X.shape[1],))


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


class CNNAEU(_PatchUnmixing):
    """Convolutional autoencoder unmixing (CNNAEU, Palsson et al. 2021).

    A fully convolutional encoder (see
    :func:`~hspy_unmix.neural.models.cnnaeu.build_cnnaeu`) turns each pixel
    and its neighbours into abundances (softmax with temperature); a 1 x 1
    convolution with non-negative weights, the endmembers, reconstructs the
    spectra. The loss is the spectral angle per pixel. Training uses
    overlapping square patches of the image; ``transform`` unmixes the whole
    image at once (zero padding beyond the borders), so ``X`` must hold all
    the pixels of an image of shape ``image_shape``, in row-major order.
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
    epochs, batch_size
        Passes over the patches and patches per gradient step.
    learning_rate, init, early_stopping_patience, validation_split,
    random_state, show_progressbar, verbose
        As for :class:`DAEU`.

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
    >>> s.decomposition(algorithm="CNNAEU", output_dimension=3, epochs=40,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    >>> est = hspy_unmix.CNNAEU(3, image_shape=(64, 64), random_state=0)
    >>> abundances = est.fit_transform(s.data.reshape(-1, 200))  # doctest: +SKIP
    """

    _name = "CNNAEU"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        image_shape=None,
        patch_size: int = 16,
        patch_stride: int | None = None,
        max_patches: int = 512,
        filters: int = 48,
        kernel_size: int = 3,
        temperature: float = 3.5,
        dropout: float = 0.2,
        epochs: int = 60,
        batch_size: int = 8,
        learning_rate: float = 3e-3,
        init: str = "vca",
        early_stopping_patience: int | None = 15,
        validation_split: float = 0.0,
        random_state=None,
        show_progressbar: bool | None = None,
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.image_shape = image_shape
        self.patch_size = patch_size
        self.patch_stride = patch_stride
        self.max_patches = max_patches
        self.filters = filters
        self.kernel_size = kernel_size
        self.temperature = temperature
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.init = init
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _check_cnn_params(self):
        self._check_training_params()
        self._check_init()
        for name in ("patch_size", "max_patches", "filters", "kernel_size"):
            self._check_positive_int(name)
        if self.patch_stride is not None:
            self._check_positive_int("patch_stride")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature!r}.")

    def _fit(self, X: np.ndarray):
        self._check_cnn_params()
        cube_shape = self._cube_shape(X)
        from .models.cnnaeu import build_cnnaeu

        seed, targets, inputs = self._prepare(X)
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
        self._start_decoder(model, X, seed)
        self._compile_and_train(
            model, input_patches, target_patches, description="CNNAEU training"
        )
        decoder = self._keep_model(model)
        self._finalise(X, self._raw_image_abundances(inputs, cube_shape), decoder)

    def _raw_image_abundances(self, inputs: np.ndarray, cube_shape) -> np.ndarray:
        raw = self._run_encoder(inputs.reshape((1,) + tuple(cube_shape)))
        return raw.reshape(-1, raw.shape[-1])


def _centred_patches(padded: np.ndarray, size: int, rows: np.ndarray, cols: np.ndarray):
    """``size`` x ``size`` patches of an edge-padded cube centred on pixels ``(rows, cols)``."""
    offsets = np.arange(size)
    r = rows[:, None, None] + offsets[None, :, None]
    c = cols[:, None, None] + offsets[None, None, :]
    return padded[r, c]


class MTAEU(_PatchUnmixing):
    """Multitask autoencoder unmixing (MTAEU, Palsson et al. 2019).

    Spectral-spatial unmixing by multitask learning: the network reads a
    ``patch_size`` x ``patch_size`` neighbourhood and each of its pixels is
    one task. Shared Dense layers (LeakyReLU, batch normalisation, dropout)
    see the whole patch; small task-specific layers then give the abundances
    of every pixel of the patch (softmax with temperature: non-negative, sum
    to one); one shared non-negative linear decoder, whose weights are the
    endmembers, reconstructs each pixel (see
    :func:`~hspy_unmix.neural.models.mtaeu.build_mtaeu`). The loss is the
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
    #: Spectra per encoder call in ``transform`` (bounds the patch copies).
    _inference_spectra = 1 << 21

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
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _check_mtaeu_params(self):
        self._check_training_params()
        self._check_init()
        self._check_positive_int("patch_size")
        self._check_positive_int("max_patches")
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
        shared = self._check_mtaeu_params()
        cube_shape = self._cube_shape(X)
        from .models.mtaeu import build_mtaeu

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
        """Centre-task encoder output for every pixel, in chunks of patches."""
        size = int(self.patch_size)
        padded = self._padded(inputs.reshape(cube_shape))
        n_pixels = cube_shape[0] * cube_shape[1]
        chunk = max(1, self._inference_spectra // (size * size * cube_shape[2]))
        raw = []
        for start in range(0, n_pixels, chunk):
            pixels = np.arange(start, min(start + chunk, n_pixels))
            rows, cols = np.divmod(pixels, cube_shape[1])
            tasks = self._run_encoder(_centred_patches(padded, size, rows, cols))
            raw.append(tasks[:, (size * size) // 2])
        return np.concatenate(raw)


def _nonnegative_decoder(abundances: np.ndarray, targets: np.ndarray, ridge: float = 1e-9):
    """``argmin_{E >= 0} ||targets - abundances @ E||^2``, channel by channel.

    Works on the (K, K) Gram matrix: with ``G = A^T A = L L^T`` each channel is
    a K-variable non-negative least-squares problem ``||L^T e - L^-1 A^T t||``,
    so the cost does not grow with the number of pixels.
    """
    from scipy.linalg import cholesky, solve_triangular
    from scipy.optimize import nnls

    gram = abundances.T @ abundances
    gram += ridge * max(np.trace(gram), 1e-30) * np.eye(gram.shape[0])
    lower = cholesky(gram, lower=True)
    projected = solve_triangular(lower, abundances.T @ targets, lower=True)
    endmembers = np.empty((gram.shape[0], targets.shape[1]))
    for channel in range(targets.shape[1]):
        endmembers[:, channel], _ = nnls(lower.T, projected[:, channel])
    return endmembers


class UDAS(NeuralUnmixingEstimator):
    """Untied denoising autoencoder with sparsity (uDAS, Qu & Qi 2018).

    A shallow network, close to a regularised inverse problem:

    * denoising: a marginalised denoising autoencoder (closed-form linear
      map, :func:`~hspy_unmix.neural._mda.marginalised_denoiser`) stacked
      ``denoise_layers`` times gives denoised spectra, the reconstruction
      targets;
    * encoder: one linear layer from the raw spectra, ReLU, division by the
      sum (abundances non-negative, summing to one), with an l2,1 penalty
      grouping the weights of each endmember (a component the data do not
      need is switched off as a whole); it is untied from the decoder;
    * decoder: non-negative endmembers;
    * start: VCA endmembers of the denoised spectra, FCLS abundances, and the
      encoder set to the least-squares map from the spectra to these
      abundances, so that the network starts at the VCA + FCLS solution;
    * training alternates one epoch of Adam on the encoder (decoder fixed,
      mean squared error to the denoised spectra) with an exact
      non-negative least-squares update of the decoder.

    The data are divided by their global mean intensity (``scale_``) so the
    weights stay of order one; ``components_`` are in the units of the data
    and ``transform(X) @ components_`` approximates ``X``.

    Parameters
    ----------
    n_components
        Number of endmembers R.
    epochs
        Alternations (one encoder epoch plus one decoder update each).
    batch_size
        Pixels per gradient step of the encoder.
    learning_rate
        Adam learning rate of the encoder.
    sparsity
        Strength of the l2,1 penalty on the encoder weights, relative to the
        mean squared error of spectra scaled to unit mean intensity. Values
        much above 1e-6 shrink the encoder towards zero and mix the
        abundances.
    denoise_corruption
        Channel dropout rate of the marginalised denoiser; 0 keeps the
        spectra as they are. Rates of 0.1 and more shrink every spectrum
        towards the mean spectrum (contrast lost).
    denoise_layers
        Number of stacked denoising maps (0: no denoising).
    early_stopping_patience, validation_split, random_state, show_progressbar,
    verbose
        As for :class:`DAEU`.

    Attributes
    ----------
    components_ : numpy.ndarray, shape (R, n_channels)
        Endmembers (non-negative).
    scale_ : float
        Global mean intensity the data are divided by.
    initial_components_ : numpy.ndarray, shape (R, n_channels)
        The VCA endmembers the decoder started from (units of the data).
    history_ : dict of list
    model_ : keras.Model

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.decomposition(algorithm="UDAS", output_dimension=3, epochs=20,
    ...                 random_state=0, print_info=False)  # doctest: +SKIP
    >>> s.learning_results.loadings.sum(axis=1)[:3]  # doctest: +SKIP
    array([1., 1., 1.])
    """

    _name = "UDAS"

    def __init__(
        self,
        n_components: int | None = None,
        *,
        epochs: int = 30,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        sparsity: float = 1e-8,
        denoise_corruption: float = 0.01,
        denoise_layers: int = 1,
        early_stopping_patience: int | None = 10,
        validation_split: float = 0.0,
        random_state=None,
        show_progressbar: bool | None = None,
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.sparsity = sparsity
        self.denoise_corruption = denoise_corruption
        self.denoise_layers = denoise_layers
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _check_udas_params(self):
        self._check_training_params()
        if not self.sparsity >= 0:
            raise ValueError(f"sparsity must be >= 0, got {self.sparsity!r}.")
        if not 0.0 <= self.denoise_corruption < 1.0:
            raise ValueError(
                f"denoise_corruption must be in [0, 1), got {self.denoise_corruption!r}."
            )
        self._check_positive_int("denoise_layers", minimum=0)

    def denoise(self, X: np.ndarray) -> np.ndarray:
        """The denoised spectra (training targets) of ``X``, in the units of ``X``."""
        from ._mda import apply_denoiser, marginalised_denoiser

        scaled = np.asarray(X, dtype=np.float64) / self.scale_
        for _ in range(int(self.denoise_layers)):
            W = marginalised_denoiser(scaled, float(self.denoise_corruption))
            scaled = apply_denoiser(scaled, W)
        return scaled * self.scale_

    def _fit(self, X: np.ndarray):
        self._check_udas_params()
        seed = self._resolve_seed()
        setup_keras(seed)
        from ..abundances import fcls_abundances
        from ._callbacks import AlternatingDecoderStep
        from .models.udas import build_udas

        mean = float(X.mean())
        self.scale_ = mean if mean > 0 else 1.0
        scaled = X / self.scale_
        targets = self.denoise(X) / self.scale_
        endmembers = np.maximum(_vca_endmembers(targets, self._n_components, seed), 0.0)
        start = fcls_abundances(targets, endmembers)
        # encoder = least-squares map spectra -> FCLS abundances (ridge-stabilised)
        gram = scaled.T @ scaled
        gram += 1e-8 * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
        encoder = np.linalg.solve(gram, scaled.T @ start)
        model = build_udas(X.shape[1], self._n_components, sparsity=self.sparsity)
        model.get_layer("encoder").set_weights([encoder.astype(np.float32)])
        model.get_layer("endmembers").set_weights([endmembers.astype(np.float32)])
        self.initial_components_ = endmembers * self.scale_
        inputs = scaled.astype(np.float32)
        targets32 = targets.astype(np.float32)

        def decoder_step(network):
            abundances = abundance_outputs(network, inputs)
            solved = _nonnegative_decoder(abundances, targets)
            network.get_layer("endmembers").set_weights([solved.astype(np.float32)])

        compile_model(model, self.learning_rate, "mse")
        self._extra_callbacks = (AlternatingDecoderStep(decoder_step),)
        try:
            self._train(model, inputs, targets32, description="uDAS training")
        finally:
            del self._extra_callbacks
        self.model_ = model
        decoder = np.asarray(model.get_layer("endmembers").get_weights()[0], np.float64)
        self.components_ = decoder * self.scale_
        self._fit_abundances = _normalise_rows(self._run_encoder(inputs))

    def _scaled_inputs(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) / self.scale_).astype(np.float32)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return _normalise_rows(self._run_encoder(self._scaled_inputs(X)))


class AE(NeuralUnmixingEstimator):
    """Plain autoencoder: the latent codes are the loadings.

    A Dense encoder (LeakyReLU hidden layers, linear latent layer of
    ``n_components`` units) and a linear decoder without bias, trained with
    the mean squared error on the spectra standardised channel by channel
    (mean removed, divided by the standard deviation), so that weak edges
    count as much as the strong background. Meant
    for latent-space clustering: ``s.decomposition(algorithm="AE",
    output_dimension=L)`` then ``s.cluster_analysis("decomposition", ...)``
    with :class:`hspy_unmix.clustering.KMeansClustering` or
    :class:`~hspy_unmix.clustering.GaussianMixtureClustering`.

    ``transform`` returns the latent codes (n_pixels, L); ``components_`` are
    the linear-decoder weights times the channel standard deviations, so that
    ``channel_mean_ + transform(X) @ components_`` is the reconstruction of ``X``
    (``inverse_transform``). Unlike the
    unmixing methods, codes and components may be negative and the codes do
    not sum to one.

    Parameters
    ----------
    n_components
        Latent dimension L.
    hidden_units
        Widths of the hidden encoder layers.
    epochs, batch_size, learning_rate, early_stopping_patience, validation_split,
    random_state, show_progressbar, verbose
        As for :class:`DAEU`.

    Attributes
    ----------
    components_ : numpy.ndarray, shape (L, n_channels)
    channel_mean_ : numpy.ndarray, shape (n_channels,)
        Mean spectrum removed before the encoder.
    channel_std_ : numpy.ndarray, shape (n_channels,)
        Channel standard deviations the centred spectra are divided by.
    history_ : dict of list
    model_ : keras.Model

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.clustering import GaussianMixtureClustering
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.decomposition(algorithm="AE", output_dimension=2, random_state=0,
    ...                 print_info=False)  # doctest: +SKIP
    >>> s.cluster_analysis("decomposition", number_of_components=2,
    ...     algorithm=GaussianMixtureClustering(3, random_state=0))  # doctest: +SKIP
    """

    _negative = "allow"
    _sum_to_one = False

    def __init__(
        self,
        n_components: int | None = None,
        *,
        hidden_units=(64, 16),
        epochs: int = 60,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
        early_stopping_patience: int | None = 10,
        validation_split: float = 0.0,
        random_state=None,
        show_progressbar: bool | None = None,
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.hidden_units = hidden_units
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping_patience = early_stopping_patience
        self.validation_split = validation_split
        self.random_state = random_state
        self.show_progressbar = show_progressbar
        self.verbose = verbose

    def _fit(self, X: np.ndarray):
        self._check_training_params()
        hidden = tuple(int(h) for h in self.hidden_units)
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden_units must be positive, got {self.hidden_units!r}.")
        seed = self._resolve_seed()
        setup_keras(seed)
        from .models.latent_autoencoder import build_latent_autoencoder

        self.channel_mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.channel_std_ = np.where(std > 0, std, 1.0)
        inputs = self._standardise(X)
        model = build_latent_autoencoder(X.shape[1], self._n_components, hidden_units=hidden)
        compile_model(model, self.learning_rate, "mse")
        self._train(model, inputs, inputs, description="AE training")
        self.model_ = model
        kernel = np.asarray(model.get_layer("decoder").get_weights()[0], np.float64)
        self.components_ = kernel * self.channel_std_
        self._fit_abundances = self._run_encoder(inputs)

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.channel_mean_) / self.channel_std_).astype(np.float32)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self._run_encoder(self._standardise(X))

    def inverse_transform(self, abundances):
        """Spectra reconstructed from latent codes: ``channel_mean_ + codes @ components_``."""
        return super().inverse_transform(abundances) + self.channel_mean_

