"""Shared base of the autoencoders trained with the spectral angle (DAEU, MTAEU, CNNAEU).

Scaling
-------
The networks see each spectrum divided by its own mean, so that a model
trained on one spectrum image applies to another acquired with a different
dose or thickness. The spectral angle fixes the decoder's spectra, the
endmembers, only up to one factor each. After training, those factors are
fitted to the data in their own units
(:func:`~hspy_unmix.unmixing.abundances.fit_endmember_scales`: least squares,
alternating with fully constrained abundances), so that
``transform(X) @ components_`` reconstructs ``X`` with abundances that are
non-negative and sum to one; the shapes stay the network's.

``abundances="fcls"`` (the default) solves the abundances of every pixel
against those endmembers; ``"encoder"`` takes the encoder's output instead,
scaled by ``abundance_weights_`` (the encoder splits each spectrum among the
decoder's unit-mean spectra, ``a' w / sum(a' w)`` splits it among the
endmembers ``decoder / w``). The encoder output carries no per-pixel
intensity, so where the brightness of the spectra varies more than their
mixture explains (thickness, a real scene's illumination) it reconstructs
the data less well: measured with DAEU, MTAEU and CNNAEU at their defaults
(seeds 0 and 1), 1.2-1.6 times the RMSE of the fully constrained solve on
the chequerboard SI, 7-13 times on the Samson scene, where the fully
constrained solve gives 0.55-1.8 times VCA's RMSE.

Starts
------
A network's training depends on its random initialisation: on the Samson
scene (95 x 95 pixels, 156 bands, 3 endmembers) DAEU with one start ends at
a mean spectral angle to the reference endmembers of 0.032-0.035 rad at
four seeds of five and at 0.385 rad at the fifth, where its training loss
stays at 0.085 against 0.041-0.042. So ``n_starts`` networks are trained
from the same decoder start (computed once) with different seeds, and the
one with the lowest training loss (the mean spectral angle of the
network's own reconstruction, at the epoch whose weights are kept) is
kept. The starts whose loss is within :data:`_NEAR_OPTIMAL_LOSS` (5 %) of
it give ``endmember_angle_spread_`` (largest angle between each kept
endmember and its match in those starts), stored with the result like
VCA's and the NMF family's. The cost is ``n_starts`` trainings.

The patch networks (MTAEU, CNNAEU) read a whole image: :func:`image_cube`
turns the rows of ``X`` back into it.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from .._progress import NoBar, progress_bar
from ..unmixing._multistart import endmember_spread
from ..unmixing.abundances import fit_endmember_scales, solve_validated
from ._estimator import (
    NeuralUnmixingEstimator,
    compile_model,
    pixel_normalise,
    setup_keras,
)

#: Decoder starts accepted by ``init``.
INITS = ("minvol", "vca", "random")
#: How ``transform`` obtains the abundances (parameter ``abundances``).
ABUNDANCE_MODES = ("fcls", "encoder")
#: How the starts give the endmembers (parameter ``combine_starts``).
COMBINE_MODES = ("lowest_loss", "median")
#: Starts whose training loss is within this fraction of the lowest are
#: near-optimal: the spread of their endmembers is the reported uncertainty.
_NEAR_OPTIMAL_LOSS = 0.05


def normalise_rows(weighted: np.ndarray) -> np.ndarray:
    totals = weighted.sum(axis=1, keepdims=True)
    totals[totals <= 0] = 1.0
    return weighted / totals


def vca_endmembers(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    from ..unmixing.vca import VCA

    return VCA(n_components=n_components, random_state=seed).fit(X).components_


def minvol_endmembers(X: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Minimum-volume simplex of the spectra divided by their mean (scale-free)."""
    from ..unmixing.minvol import MinVolume

    return MinVolume(n_components=n_components, random_state=seed).fit(
        pixel_normalise(X).astype(np.float64)
    ).components_


def median_endmembers(reference: np.ndarray, starts: list[np.ndarray]) -> np.ndarray:
    """Channel-wise median of the starts' endmembers, each scaled to unit mean
    and matched to ``reference``'s order (Hungarian, on the spectral angle);
    unit-mean rows, for :meth:`SpectralAngleUnmixing._finalise`."""
    from scipy.optimize import linear_sum_assignment

    from ..unmixing._multistart import _angles

    aligned = []
    for E in starts:
        _, order = linear_sum_assignment(_angles(reference, E))
        aligned.append(unit_mean_rows(E[order]))
    return unit_mean_rows(np.median(np.stack(aligned), axis=0))


def unit_mean_rows(E: np.ndarray) -> np.ndarray:
    E = np.maximum(np.asarray(E, dtype=np.float64), 0.0)
    means = E.mean(axis=1, keepdims=True)
    means[means <= 0] = 1.0
    return E / means


class SpectralAngleUnmixing(NeuralUnmixingEstimator):
    """Shared fit/transform of the networks trained with the spectral angle."""

    _name = "network"
    #: The encoder output times abundance_weights_ gives the abundances, so
    #: the weights carry the inverse units of the endmembers.
    _unit_attributes = {"components_": 1, "abundance_weights_": -1}

    def _fit(self, X: np.ndarray):
        """Train ``n_starts`` networks (:meth:`_fit_start`); keep the lowest loss."""
        self._check_params()
        n_starts = self._check_int_param("n_starts")
        seeds = self._resolve_seeds(n_starts)
        self.__dict__["_decoder_start"] = self._initial_decoder(X, seeds[0])
        states = []
        try:
            bars = (progress_bar(n_starts, f"{self._name} starts", self.show_progressbar)
                    if n_starts > 1 else contextlib.nullcontext(NoBar()))
            with bars as bar:
                for seed in seeds:
                    self._fit_start(X, seed)
                    states.append(dict(self.__dict__))
                    bar.update(1)
        finally:
            self.__dict__.pop("_decoder_start", None)
        costs = np.array([state["_training_cost"] for state in states])
        kept = int(np.argmin(costs))
        self.__dict__.clear()
        self.__dict__.update(states[kept])
        self.__dict__.pop("_decoder_start", None)
        near = np.flatnonzero(costs <= (1.0 + _NEAR_OPTIMAL_LOSS) * costs[kept])
        self.start_costs_ = costs
        self.kept_start_ = kept
        self.n_near_optimal_starts_ = int(near.size)
        if self.combine_starts == "median" and n_starts > 1:
            starts = [state["components_"] for state in states]
            self._finalise(X, None, median_endmembers(self.components_, starts))
            self.endmember_angle_spread_ = endmember_spread(self.components_, starts)
        else:
            self.endmember_angle_spread_ = endmember_spread(
                self.components_, [states[i]["components_"] for i in near if i != kept])

    def _check_init(self):
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}.")
        self._abundance_mode()

    def _abundance_mode(self) -> str:
        mode = getattr(self, "abundances", "fcls")
        if mode not in ABUNDANCE_MODES:
            raise ValueError(
                f"abundances must be one of {ABUNDANCE_MODES}, got {mode!r}."
            )
        combine = getattr(self, "combine_starts", "lowest_loss")
        if combine not in COMBINE_MODES:
            raise ValueError(
                f"combine_starts must be one of {COMBINE_MODES}, got {combine!r}."
            )
        if combine == "median" and mode == "encoder":
            raise ValueError(
                "combine_starts='median' needs abundances='fcls': the encoder "
                "belongs to one network, whose decoder the median replaces."
            )
        return mode

    def _initial_decoder(self, X: np.ndarray, seed: int) -> np.ndarray | None:
        """Initial endmembers scaled to unit mean, or None for the random start."""
        starts = {"vca": vca_endmembers, "minvol": minvol_endmembers}
        if self.init not in starts:
            return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            endmembers = starts[self.init](X, self._n_components, seed)
        for warning in caught:
            self._rewarn_start(warning)
        return unit_mean_rows(endmembers)

    def _rewarn_start(self, warning) -> None:
        """Say an outlier warning of the decoder's start in this network's terms
        (the start's estimator and its options are not the user's)."""
        text = str(warning.message)
        if "look like outliers" in text:
            text = (f"{self._name}: {text.split(': they are left out')[0]}: they are "
                    f"left out of the decoder's start (init={self.init!r}); the "
                    "network trains on every spectrum. Remove spikes first "
                    "(spikes_removal_tool) to change the start.")
        warnings.warn(text, warning.category, stacklevel=5)

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
        """Endmembers in data units from the unit-mean ``decoder`` (see the module
        documentation) and the abundances of the training pixels."""
        endmembers, abundances = fit_endmember_scales(X, decoder)
        self.components_ = endmembers
        sums = endmembers.sum(axis=1)
        self.abundance_weights_ = np.divide(
            decoder.sum(axis=1), sums, out=np.ones_like(sums), where=sums > 0
        )
        if self._abundance_mode() == "fcls":
            self._fit_abundances = abundances
        else:
            self._fit_abundances = self._abundances_from_raw(raw_abundances)

    def _abundances_from_raw(self, raw_abundances: np.ndarray) -> np.ndarray:
        return normalise_rows(raw_abundances * self.abundance_weights_)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if self._abundance_mode() == "fcls":
            return solve_validated(X, self.components_, True)
        return self._encoder_abundances(X)

    def _encoder_abundances(self, X: np.ndarray) -> np.ndarray:
        """Abundances from the encoder's output (``abundances="encoder"``)."""
        return self._abundances_from_raw(self._run_encoder(self._encoder_inputs(X)))

    def _prepare(self, X: np.ndarray, seed: int):
        """Seed Keras with ``seed``; return the targets and the encoder inputs."""
        setup_keras(seed)
        targets = pixel_normalise(X)
        self._set_channel_standardisation(targets)
        return targets, self._encoder_inputs(X)

    def _start_decoder(self, model) -> bool:
        """Set the decoder to the initial endmembers (False for a random start)."""
        initial = self.__dict__.get("_decoder_start")  # set by _fit, once
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
        return unit_mean_rows(model.get_layer("endmembers").get_weights()[0])


class PatchUnmixing(SpectralAngleUnmixing):
    """Networks reading neighbourhoods: ``X`` holds a whole image."""

    _spatial = True

    def _cube_shape(self, X: np.ndarray) -> tuple:
        return image_cube(X, self.image_shape, self._name).shape

    def _transform(self, X: np.ndarray) -> np.ndarray:
        self._cube_shape(X)  # X must be the whole image in either mode
        return super()._transform(X)

    def _encoder_abundances(self, X: np.ndarray) -> np.ndarray:
        raw = self._raw_image_abundances(self._encoder_inputs(X), self._cube_shape(X))
        return self._abundances_from_raw(raw)


def image_cube(X: np.ndarray, image_shape, name: str) -> np.ndarray:
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
