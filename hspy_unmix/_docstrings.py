"""Docstring text shared by several estimators and functions, written once.

A docstring line holding only ``%(name)s`` is replaced by the fragment
``name`` of :data:`DOCS`, indented like the placeholder, when the decorator
:func:`fill_doc` runs at import. The rendered docstring (``help()``, Sphinx
with numpydoc, the GUI's parameter help) is therefore complete; only the
source holds the placeholder. An unknown name fails at import.
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)

#: Fragments by name: numpydoc entries (``name`` then its indented
#: description) or doctest lines, without their indentation.
DOCS: dict[str, str] = {}

DOCS["max_partial_fit_samples"] = """\
max_partial_fit_samples
    Upper bound on the pixels a lazy decomposition fits on (a uniform
    random sample; :meth:`partial_fit` keeps the same bound on a stream):
    the memory knob of lazy signals: the sample costs 4 bytes per channel
    and pixel of float32 data for VCA, MinVolume, HALS, NMF_SO and BLU,
    8 for the others."""

DOCS["fit_X_y"] = """\
X : array-like of shape (n_pixels, n_channels)
    Spectra, one per row (the pixels of a spectrum image, unfolded).
y : None
    Ignored; present for scikit-learn's estimator interface."""

DOCS["true_est_spectra"] = """\
true_spectra : array-like, shape (n_true, n_channels)
    Reference spectra, one per row.
est_spectra : array-like, shape (n_est, n_channels)
    Estimated spectra, one per row."""

DOCS["latent_rows"] = """\
X : array-like of shape (n_pixels, n_features)
    One row per pixel (e.g. the latent codes of an autoencoder)."""

#: ``fit`` and ``predict`` of the clustering estimators: ``latent_predict``
#: ends on the type of the labels, which each class then describes.
DOCS["latent_fit"] = """\
Parameters
----------
""" + DOCS["latent_rows"] + """
y : None
    Ignored; present for scikit-learn's estimator interface."""

DOCS["latent_predict"] = """\
Parameters
----------
""" + DOCS["latent_rows"] + """

Returns
-------
numpy.ndarray of int, shape (n_pixels,)"""

DOCS["zlp_spectra_dispersion"] = """\
spectra : array-like, shape (..., channels)
    Spectra along the last axis.
dispersion : float
    Channel width; the result is in the same unit (channels by default)."""

#: The sections of ``zlp_fwhm`` and ``zlp_fwtm``, up to a Gaussian ZLP of
#: FWHM 0.05 sampled every 0.005 (``gaussian``), which their examples measure.
DOCS["zlp_width"] = """\
Parameters
----------
""" + DOCS["zlp_spectra_dispersion"] + """

Returns
-------
numpy.ndarray
    Widths (see :func:`peak_width`).

Examples
--------
>>> import numpy as np
>>> from hspy_unmix.metrics import zlp_fwhm, zlp_fwtm
>>> e = np.arange(-1, 1, 0.005)
>>> gaussian = np.exp(-4 * np.log(2) * (e / 0.05) ** 2)"""

DOCS["abundance_solver"] = """\
abundance_solver
    ``"fcls"`` (non-negative, sum to one) or ``"nnls"`` (non-negative)."""

DOCS["outlier_screen"] = """\
outlier_screen
    ``"auto"`` (the default) or True: spectra with a cosmic-ray spike,
    hot and dead pixels are left out of the endmember search but still
    unmixed (see :mod:`hspy_unmix.unmixing._outliers`); False keeps
    every spectrum."""

DOCS["outlier_mask_"] = """\
outlier_mask_ : numpy.ndarray of bool, shape (n_pixels,)
    Training spectra left out of the endmember search (spikes, hot and
    dead pixels); ``n_outliers_`` counts them."""

# ------------------------------------------------------------ NNLS and FCLS
DOCS["abundance_solver_parameters"] = """\
Parameters
----------
X
    Spectra, shape (n_pixels, n_channels). Integer dtypes are accepted.
    Not modified.
endmembers
    Endmember spectra, shape (K, n_channels), with ``K <= n_channels``.
max_iter
    Maximum number of active-set changes per pixel. A warning says how
    many pixels reached it (their abundances are feasible but may not be
    optimal).
tol
    Tolerance on the Lagrange multipliers, relative to the largest
    correlation between the pixel and the endmembers."""

DOCS["examples_two_endmembers"] = """\
Examples
--------
>>> import numpy as np
>>> from hspy_unmix.unmixing.abundances import fcls_abundances, nnls_abundances
>>> E = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])  # two endmembers, three channels"""

# ----------------------------------------------------------------- NMF family
DOCS["nmf_starts"] = """\
init
    ``"vca"`` (default): the first start is VCA's endmembers, the others are
    random, and the VCA start is kept unless a random one ends with a cost
    more than 5 % lower (NMF's equal-cost solutions differ from seed to seed;
    the one anchored on pure pixels does not). ``"random"``: every start is
    random and the lowest final cost is kept. See
    :mod:`hspy_unmix.unmixing._nmf_base`.
n_starts
    Number of starts (multi-start), the VCA start included. The starts
    within 5 % of the kept one's cost give ``endmember_angle_spread_``.
max_iter
    Maximum number of iterations per start.
tol
    Convergence threshold on the relative change of the cost between
    two iterations."""

DOCS["nmf_common"] = """\
abundance_scaling
    ``"sum_to_one"`` or ``"unit_spectra"`` (see
    :mod:`hspy_unmix.unmixing._nmf_base`).
random_state
    Seed or ``numpy.random.RandomState`` for the random starts.
show_progressbar
    Progress bar over the starts; ``None`` follows HyperSpy's preference.
""" + DOCS["max_partial_fit_samples"]

DOCS["nmf_attributes"] = """\
Attributes
----------
components_ : ndarray (K, n_channels)
    Non-negative endmember spectra.
cost_history_ : ndarray
    ``0.5 ||X - C S^T||_F^2`` after each iteration of the best start.
n_iter_ : int
    Iterations of the best start.
converged_ : bool
    Whether the best start met ``tol`` before ``max_iter``.
start_costs_ : ndarray (n_starts,)
    Final cost of every start (the VCA start first with ``init="vca"``).
kept_start_ : int
    Index of the kept start.
init_ : str
    The start actually used: ``"random"`` when VCA could not start.
n_near_optimal_starts_ : int
    Starts within 5 % of the kept one's cost, the kept one included.
endmember_angle_spread_ : ndarray (K,)
    Per endmember, the largest angle (rad) to its match in the other
    near-optimal starts: 0 when they all agree.
reconstruction_err_ : float
    Frobenius norm ``||X - C S^T||_F`` of the returned model (the kept
    start, after the unpenalised polish where there is one)."""

DOCS["debias_iter"] = """\
debias_iter
    Iterations of plain HALS run before the result is returned, from the
    penalised spectra and their NNLS maps
    (:func:`~hspy_unmix.unmixing.hals.polished`; 0: none). The penalty
    biases the factorisation: without the polish the endmembers reconstruct
    the 3-phase chequerboard SI with 1.46 times VCA + NNLS's RMSE.
    Measured (``benchmarks/bench_debias.py``) on ARD_SO_NMF / NMF_SO
    (``random_state=0``), endmember SAD
    (rad) at 0 / 10 / 300 iterations: 3-phase chequerboard 0.024 /
    0.009-0.010 / 0.006-0.009 (RMSE 1.46 / 1.04 / 0.99 x VCA's), without
    pure pixels 0.115 / 0.099-0.100 / 0.090, 4 phases 0.050-0.051 /
    0.023-0.024 / 0.008-0.011 (RMSE 1.75 / 1.11 / 1.00 x), the Samson
    scene 0.094 / 0.085 / 0.130 (ARD) and 0.086 / 0.079 / 0.125 (NMF_SO;
    0.098 for both at 30): a long polish reaches plain HALS's
    least-squares fit, which on Samson lies further from the reference
    endmembers (HALS: 0.114). 10 was chosen looking at both, so Samson is
    not held out for this choice."""

# --------------------------------------------------------------------- neural
DOCS["neural_init"] = """\
init
    ``"minvol"``: the decoder starts from the minimum-volume simplex
    (:class:`~hspy_unmix.unmixing.minvol.MinVolume`); ``"vca"``: from the VCA
    endmembers, as in Palsson et al.; ``"random"``: from uniform random
    non-negative spectra."""

DOCS["neural_starts"] = """\
n_starts
    Networks trained, each from its own seed (the decoder start is
    computed once); the one with the lowest training loss is kept, and the
    starts within 5 % of that loss give ``endmember_angle_spread_`` (see
    :mod:`hspy_unmix.neural._spectral_angle`). Each start costs one
    training: the default of 3 triples the time of one; 1 trains one network.
combine_starts
    ``"lowest_loss"`` (default): the endmembers of the lowest-loss start.
    ``"median"``: the channel-wise median of every start's endmembers
    (each scaled to unit mean, matched to the lowest-loss start's), scaled
    to the data as a single start's are; needs ``abundances="fcls"``
    (``model_`` stays the lowest-loss network). The training loss ranks the
    starts poorly; CNNAEU, seeds 0-4, mean SAD / seed spread (rad) with the
    lowest loss of 3 starts, the median of 3, the median of 5: 3-phase
    chequerboard SI 0.0918 / 0.0158, 0.0884 / 0.0093, 0.0876 / 0.0054;
    Samson 0.1032 / 0.0167, 0.0982 / 0.0246, 0.0978 / 0.0160. A lower mean
    on both, a smaller spread on the chequerboard only: not the default."""

DOCS["neural_abundances"] = """\
abundances
    How ``transform`` (and ``fit_transform``) obtain the abundances:
    ``"fcls"``, fully constrained least squares against ``components_``
    (:func:`~hspy_unmix.unmixing.abundances.fcls_abundances`), which
    reconstructs the spectra in their own units; ``"encoder"``, the output of
    the trained encoder (sum to one, no dropout) scaled by
    ``abundance_weights_``, which carries no per-pixel intensity (see
    :mod:`hspy_unmix.neural._spectral_angle`)."""

DOCS["neural_training"] = """\
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
""" + DOCS["max_partial_fit_samples"]

DOCS["patch_training"] = """\
epochs, batch_size
    Passes over the patches and patches per gradient step.
learning_rate
    Adam learning rate.
""" + "\n".join(DOCS[name] for name in (
    "neural_init", "neural_starts", "neural_abundances", "neural_training"))

DOCS["patch_network_note"] = """\
``X`` must hold all the pixels of an image of shape ``image_shape``, in
row-major order, also with ``abundances="fcls"``. Scaling and the
endmembers' scale are as for :class:`DAEU`."""

DOCS["patch_network_sizes"] = """\
n_components
    Number of endmembers R.
image_shape
    ``(rows, columns)`` of the spectrum image the rows of ``X`` come from
    (set by ``s.decomposition`` and ``s.apply_unmixing``)."""

DOCS["spectral_angle_attributes"] = """\
Attributes
----------
components_ : numpy.ndarray, shape (R, n_channels)
    Endmembers (non-negative): the decoder's spectra, each scaled so that
    their fully constrained abundances reconstruct ``X`` in its units.
abundance_weights_ : numpy.ndarray, shape (R,)
    Factors turning the encoder output into abundances (see
    :mod:`hspy_unmix.neural._spectral_angle`).
history_ : dict of list
    Loss per epoch of the kept start (``"loss"``, and ``"val_loss"`` with a
    validation split).
model_ : keras.Model
    The kept start's network (stored as ``.keras`` by :meth:`save`).
start_costs_ : numpy.ndarray, shape (n_starts,)
    Training loss of every start.
kept_start_ : int
    Index of the kept start (lowest loss).
n_near_optimal_starts_ : int
    Starts within 5 % of the kept one's loss, the kept one included.
endmember_angle_spread_ : numpy.ndarray, shape (R,)
    Per endmember, the largest angle (rad) to its match in the other
    near-optimal starts (in every start with ``combine_starts="median"``):
    0 when they all agree or with one start."""

DOCS["network_parameters"] = """\
Parameters
----------
n_channels
    Spectrum length B.
n_components
    Number of endmembers R."""

DOCS["network_leaky_seed"] = """\
negative_slope
    Slope of the LeakyReLU activations for negative inputs.
seed
    Seed of the dropout masks."""

DOCS["network_spectra_returns"] = """\
Returns
-------
keras.Model
    Maps spectra (batch, B) to reconstructed spectra (batch, B)."""

# ------------------------------------------------------------------- examples
DOCS["examples_chequerboard"] = """\
Examples
--------
>>> import hspy_unmix
>>> from hspy_unmix.synthetic import chequerboard_si
>>> s, truth = chequerboard_si(n_components=3, random_state=0)"""

DOCS["examples_chequerboard_X"] = DOCS["examples_chequerboard"] + """
>>> X = s.data.reshape(-1, s.data.shape[-1])"""

# ---------------------------------------------------------------------- forms
DOCS["gui_parameters"] = """\
Parameters
----------
display : bool
    If True (default), show the form. If False, return a dictionary
    ``{toolkit: widgets}``: for ipywidgets a dict with the container
    (``"widget"``), the controls by name (``"wdict"``) and the form
    model (``"form"``); for traitsui the form model (a ``HasTraits``
    object whose ``edit_traits()`` shows it).
toolkit : str, iterable of str or None
    None (default) uses every toolkit enabled in HyperSpy's
    preferences that can work here: traitsui only where a display is
    usable (and, in a Jupyter kernel, a Qt event loop runs), otherwise
    the ipywidgets form alone. ``"ipywidgets"`` or ``"traitsui"``
    selects one; it raises ``ImportError`` naming the missing package,
    or ``RuntimeError`` for traitsui without a display."""

DOCS["gui_returns"] = """\
Returns
-------
dict or None
    None when the form is shown; with ``display=False``, the widgets by
    toolkit (see ``display``).

""" + DOCS["examples_chequerboard"]


def fill_doc(obj):
    """Replace the ``%(name)s`` lines of ``obj.__doc__`` by their fragments; return ``obj``."""
    doc = obj.__doc__
    if doc:  # None under python -OO

        def fragment(match) -> str:
            indent = match["indent"]
            lines = DOCS[match["name"]].splitlines()
            return "\n".join(indent + line if line else line for line in lines)

        obj.__doc__ = _PLACEHOLDER.sub(fragment, doc)
    return obj
