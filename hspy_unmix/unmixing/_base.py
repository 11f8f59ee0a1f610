"""Base class shared by every unmixing estimator of the package.

Subclasses follow scikit-learn conventions: ``__init__`` only stores
parameters, ``fit`` validates, seeds and sets the fitted attributes
(``components_`` shaped ``(n_components, n_channels)``), ``transform`` returns
abundances shaped ``(n_pixels, n_components)``.

Subclasses implement

* ``_fit(X)``: fit on validated float64 data, set ``components_`` and may set
  ``_fit_abundances`` (the abundances of the training pixels, returned by
  ``fit_transform`` without a second solve);
* ``_transform(X)``: abundances of validated data with the fitted model.

Units
-----
``fit`` divides the data by a power of two close to their root mean square
(:func:`~hspy_unmix.unmixing._scale.data_scale`; exact in floating point, so
data already near 1 are unchanged bit for bit) before ``_fit`` and multiplies
the fitted attributes that carry data units back (``_unit_attributes``: the
endmembers, and what a subclass adds). Results are therefore the same up to
that factor for spectra in counts, in electrons per second or normalised to
1e-30. ``transform`` receives the data in their own units: the abundance
solvers and the networks normalise internally.

Bounded-memory learning (lazy signals)
--------------------------------------
HyperSpy streams a lazy signal through ``partial_fit`` chunk by chunk. Every
estimator here keeps a uniform random sample of at most
``max_partial_fit_samples`` pixels across all chunks (reservoir sampling,
seeded by ``random_state``); :meth:`~UnmixingEstimator.finish_partial_fit`
then fits on that sample and sets ``components_`` (``s.decomposition`` calls
it when HyperSpy's stream ends; reading an attribute never fits).
``transform`` then runs chunk by chunk over all pixels, so memory is bounded
by the sample size and one chunk, whatever the size of the spectrum image.

The default cap, 20 000 pixels, keeps the sample of a 2048-channel SI at
330 MB (float64; 160 MB for the float32 reservoir of ``partial_fit``). The
sample is the fit's own (:meth:`UnmixingEstimator._fit_owned`): it is scaled
and its outlier spectra left out in place, so the fit adds only its bounded
sub-samples to it. A phase is represented by about 20 000 times
its pixel fraction in the sample: raise the cap for rare phases (memory grows
by about 8 bytes per channel and pixel, 12 through HyperSpy's streaming
loop), lower it for very long spectra.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._docstrings import fill_doc
from .._validation import (
    check_int,
    check_n_components,
    check_rank,
    check_spectra,
    warn_zero_rows,
)
from ._outliers import screened_rows
from ._scale import data_scale


class UnmixingEstimator(TransformerMixin, BaseEstimator):
    """Common machinery of the unmixing estimators (not used directly)."""

    #: ``"clip"`` for methods that need non-negative data, ``"allow"`` otherwise.
    _negative = "clip"
    #: Whether the abundances of the method sum to one.
    _sum_to_one = False
    #: Whether chunks of a lazy signal may be transformed on dask workers
    #: (False keeps ``transform`` in this process, e.g. for Keras models).
    _parallel_transform = True
    #: Whether the estimator reads image patches and needs ``image_shape``.
    _spatial = False
    #: Whether ``outlier_screen="auto"`` screens spikes and hot or dead
    #: pixels out of the endmember search (the classical estimators).
    _screens_outliers = True
    #: The fit and ``transform`` take float32 spectra as they are (products
    #: a batch of rows at a time in float64): a float32 lazy sample costs half
    #: the memory, and ``transform`` of a float32 chunk makes no float64 copy.
    _fits_float32 = False
    #: Fitted attributes in data units: name -> power of the data scale they
    #: carry (see "Units" in the module documentation).
    _unit_attributes = {"components_": 1}
    # ------------------------------------------------------------------ fit
    @fill_doc
    def fit(self, X, y=None):
        """Fit the model to spectra ``X`` of shape (n_pixels, n_channels).

        Parameters
        ----------
        %(fit_X_y)s

        Returns
        -------
        self : object
            The fitted estimator (``components_`` set).
        """
        return self._fit_owned(X, owned=False)

    def _fit_owned(self, X, owned: bool = True):
        """:meth:`fit`; with ``owned`` the fit may overwrite ``X``, a private
        array of the caller (the lazy sample): the scaling and the outlier
        screen's selection of rows then work in place instead of on copies of
        the whole sample."""
        X = self._check_fit_input(X)
        self._clear_partial_state()
        self.__dict__.pop("n_samples_seen_", None)
        self._fit_abundances = None
        scale = data_scale(X)
        if scale != 1.0:
            if owned:
                X /= scale
            else:
                X, owned = X / scale, True
        rows = screened_rows(self, X)
        if rows is None:
            self._fit(X)
        else:
            # Endmembers from the screened spectra; every spectrum unmixed.
            self._fit(_compact_rows(X, rows) if owned else X[rows])
            self._fit_abundances = None
            indices = self.__dict__.get("pure_pixel_indices_")
            if indices is not None:
                self.pure_pixel_indices_ = rows[indices]
        self._to_data_units(scale)
        self.n_features_in_ = X.shape[1]
        return self

    def _to_data_units(self, scale: float) -> None:
        """Multiply the fitted attributes that carry data units by ``scale``."""
        if scale == 1.0:
            return
        for name, power in self._data_units().items():
            value = self.__dict__.get(name)
            if value is not None:
                setattr(self, name, value * scale**power)

    def _data_units(self) -> dict:
        """Fitted attributes in data units and their power of the data scale."""
        return self._unit_attributes

    @fill_doc
    def fit_transform(self, X, y=None):
        """Fit the model and return the abundances of ``X``.

        Parameters
        ----------
        %(fit_X_y)s

        Returns
        -------
        abundances : numpy.ndarray of shape (n_pixels, n_components)
            Abundances of each spectrum: those of the fit itself where the
            method computes them while fitting, otherwise ``transform(X)``.
        """
        self.fit(X)
        abundances = self.__dict__.pop("_fit_abundances", None)
        if abundances is None:
            return self.transform(X)
        return abundances

    def transform(self, X):
        """Abundances of spectra ``X`` (n_pixels, n_channels) -> (n_pixels, K).

        Parameters
        ----------
        X : array-like of shape (n_pixels, n_channels)
            Spectra, one per row, with the channels of the fitted data.

        Returns
        -------
        abundances : numpy.ndarray of shape (n_pixels, n_components)
            Abundance of each fitted component (row of ``components_``) in
            each spectrum.
        """
        check_is_fitted(self, "components_")
        components = self.components_
        X = check_spectra(
            X, name="X", negative=self._negative, n_features=components.shape[1],
            keep_float32=self._fits_float32,
        )
        return self._transform(X)

    def inverse_transform(self, abundances):
        """Spectra reconstructed from abundances: ``abundances @ components_``.

        Parameters
        ----------
        abundances : array-like of shape (n_pixels, n_components)
            Abundances, e.g. the output of :meth:`transform`.

        Returns
        -------
        spectra : numpy.ndarray of shape (n_pixels, n_channels)
            The modelled spectra.
        """
        check_is_fitted(self, "components_")
        return np.asarray(abundances, dtype=np.float64) @ self.components_

    # ------------------------------------------------- bounded-memory learning
    def partial_fit(self, X, y=None):
        """Add a chunk of spectra to the bounded training sample.

        The model itself is fitted on the sample by :meth:`finish_partial_fit`
        after the last chunk (see the module documentation). An interruption
        (Ctrl-C) while a chunk is added is remembered, so that the fit is never
        finished on an incomplete sample.

        Parameters
        ----------
        X : array-like of shape (n_pixels, n_channels)
            One chunk of spectra, one per row; every chunk has the same
            channels.
        y : None
            Ignored; present for scikit-learn's estimator interface.

        Returns
        -------
        self : object
            The estimator, not fitted until :meth:`finish_partial_fit`.
        """
        try:
            self._add_to_reservoir(X)
        except KeyboardInterrupt:
            self.__dict__["_interrupted"] = True
            raise
        return self

    def _add_to_reservoir(self, X):
        X = check_spectra(X, name="X", negative=self._negative)
        n = X.shape[0]
        state = self.__dict__.get("_partial")
        if state is not None and state["n_features"] != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} channels; earlier chunks had {state['n_features']}."
            )
        if state is None:
            state = {
                "rng": check_random_state(getattr(self, "random_state", None)),
                "keys": np.empty(0),
                "sample": np.empty((0, X.shape[1]), dtype=np.float32),
                "n_features": X.shape[1],
                "n_seen": 0,
                # float32 holds the sample in units near 1 (no overflow at 1e30)
                "scale": data_scale(X),
            }
            self.__dict__["_partial"] = state
            self.__dict__.pop("_interrupted", None)
        keys = state["rng"].random_sample(n)
        all_keys = np.concatenate([state["keys"], keys])
        scaled = (X / state["scale"]).astype(np.float32)
        all_rows = np.concatenate([state["sample"], scaled])
        cap = check_int(self.max_partial_fit_samples, "max_partial_fit_samples", minimum=1)
        if all_keys.size > cap:
            keep = np.argpartition(all_keys, cap - 1)[:cap]
            keep.sort()
            all_keys, all_rows = all_keys[keep], all_rows[keep]
        state["keys"], state["sample"] = all_keys, all_rows
        state["n_seen"] += n
        self.__dict__.pop("components_", None)
        self.n_features_in_ = X.shape[1]

    def finish_partial_fit(self):
        """Fit the model on the sample kept by :meth:`partial_fit`.

        Sets ``components_`` and ``n_samples_seen_`` (the pixels streamed).
        Does nothing when no chunk is pending; raises ``KeyboardInterrupt``
        when the stream was interrupted (HyperSpy's lazy loop swallows Ctrl-C;
        a partial sample is never fitted).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if self.__dict__.get("_interrupted"):
            self.__dict__.pop("_partial", None)
            raise KeyboardInterrupt("partial_fit was interrupted")
        state = self.__dict__.pop("_partial", None)
        if state is None:
            return self
        sample = state.pop("sample").astype(np.float64)  # the float32 one is freed
        sample *= state["scale"]
        self._fit_owned(sample)
        del sample
        self.__dict__.pop("_fit_abundances", None)
        self.n_samples_seen_ = state["n_seen"]
        return self

    def _clear_partial_state(self):
        self.__dict__.pop("_partial", None)
        self.__dict__.pop("_interrupted", None)

    # ------------------------------------------------------------- helpers
    def _check_fit_input(self, X):
        X = check_spectra(X, name="X", negative=self._negative,
                          keep_float32=self._fits_float32)
        warn_zero_rows(X, name="X")
        self._n_components = check_n_components(self.n_components, X)
        check_rank(X, self._required_rank(self._n_components), self._n_components)
        return X

    def _required_rank(self, n_components: int) -> int:
        """Rank the data need for ``n_components`` endmembers (see ``check_rank``)."""
        return n_components

    @property
    def n_components_(self) -> int:
        """Number of fitted components."""
        return int(self.components_.shape[0])

    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_positive_X": self._negative == "raise"}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self._negative == "raise"
        return tags

    # ---------------------------------------------------------- persistence
    def save(self, path):
        """Save the fitted estimator to one file (reload with
        :func:`hspy_unmix.load_estimator`).

        Classical estimators are stored as a zip holding their parameters (JSON)
        and fitted arrays (``.npz``); neural ones as a Keras ``.keras`` file with
        the same two extra members.

        Parameters
        ----------
        path : str or path-like
            File to write (replaced atomically if it exists). Only a fitted
            estimator can be saved.
        """
        from ..io.estimators import save_estimator

        save_estimator(self, path)

    def _fitted_arrays(self) -> dict:
        """Fitted numpy attributes to store (names ending with ``_``)."""
        out = {}
        for key, value in vars(self).items():
            if key.endswith("_") and not key.startswith("_"):
                if isinstance(value, np.ndarray):
                    out[key] = value
                elif isinstance(value, (int, float, np.integer, np.floating, bool)):
                    out[key] = np.asarray(value)
        return out

    def _restore_arrays(self, arrays: dict):
        for key, value in arrays.items():
            setattr(self, key, value.item() if value.ndim == 0 else value)


def _compact_rows(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``X[rows]`` for increasing ``rows``, written into the first rows of
    ``X`` (no copy of the array; ``X`` is overwritten)."""
    for i, r in enumerate(rows.tolist()):
        if i != r:
            X[i] = X[r]
    return X[: rows.size]
