"""Marginalised denoising autoencoder (closed form, linear; Chen et al. 2012).

Used by :class:`~hspy_unmix.neural.udas.UDAS` to build its denoised
training targets. Pure NumPy; imports no Keras.
"""

from __future__ import annotations

import numpy as np


def marginalised_denoiser(X: np.ndarray, corruption: float, ridge: float = 1.0) -> np.ndarray:
    """Linear map that best rebuilds each spectrum from randomly dropped channels.

    The expected squared error over all dropout corruptions of rate
    ``corruption`` has the closed-form minimiser ``W = P (Q + ridge I)^-1``
    (with a bias column), so no sampling or training is needed. Since the
    spectra of a spectrum image lie near a low-dimensional subspace, each
    channel is predicted from the correlated others and the noise shrinks.

    Parameters
    ----------
    X
        Spectra, shape (n_pixels, n_channels).
    corruption
        Probability of dropping a channel, in [0, 1).
    ridge
        Ridge term on the weights (not on the bias).

    Returns
    -------
    numpy.ndarray, shape (n_channels, n_channels + 1)
        ``W``: the denoised spectra are ``[X, 1] @ W.T``.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.neural._mda import apply_denoiser, marginalised_denoiser
    >>> X = np.random.default_rng(0).random((100, 5))
    >>> W = marginalised_denoiser(X, corruption=0.0, ridge=0.0)
    >>> bool(np.allclose(apply_denoiser(X, W), X))
    True
    """
    n_channels = X.shape[1]
    augmented = np.hstack([X, np.ones((X.shape[0], 1))])
    scatter = augmented.T @ augmented
    keep = np.full(n_channels + 1, 1.0 - corruption)
    keep[-1] = 1.0
    Q = scatter * np.outer(keep, keep)
    Q[np.diag_indices_from(Q)] = keep * np.diag(scatter)
    P = scatter[:-1, :] * keep[None, :]
    regulariser = ridge * np.eye(n_channels + 1)
    regulariser[-1, -1] = 0.0
    return np.linalg.solve((Q + regulariser).T, P.T).T


def apply_denoiser(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Denoised spectra ``[X, 1] @ W.T``."""
    return X @ W[:, :-1].T + W[:, -1]
