"""Help choosing the number of components: scree plot and ARD-SO-NMF.

The review of Muto & Shiga advises cross-checking the number of components
given by ARD-SO-NMF with the classical scree plot of the singular values;
:func:`estimate_n_components` returns both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_spectra

_METHODS = ("scree", "ard")


@dataclass
class NComponentsResult:
    """Estimates of the number of components.

    Returned by :func:`~hspy_unmix.estimate_n_components`; each parameter is
    an attribute of the same name.

    Parameters
    ----------
    explained_variance_ratio
        Fraction of the total (uncentred, Poisson-weighted) variance carried
        by each of the first ``max_components`` singular components.
    scree_n_components
        Elbow of the scree plot (``None`` if the scree was not computed).
    ard_n_components
        Components kept by :class:`~hspy_unmix.unmixing.nmf.ARD_SO_NMF` started from
        ``max_components`` (``None`` if ARD was not run).
    ard_relevances
        Final relevances of the ``max_components`` starting components,
        sorted decreasingly.
    """

    explained_variance_ratio: np.ndarray | None = None
    scree_n_components: int | None = None
    ard_n_components: int | None = None
    ard_relevances: np.ndarray | None = field(default=None)

    @property
    def n_components(self) -> int | None:
        """Suggested number of components: the scree elbow, else the ARD count.

        The scree elbow is preferred because ARD keeps extra components at high
        counts, where its prior shrinks weakly (see the user guide).
        """
        if self.scree_n_components is not None:
            return self.scree_n_components
        return self.ard_n_components

    def plot(self, fig=None):
        """Scree plot and ARD relevances side by side.

        Parameters
        ----------
        fig : matplotlib.figure.Figure, optional
            Figure to draw into (a new pyplot figure by default).

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn into.
        """
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(9, 3.5))
        ax_scree, ax_ard = fig.subplots(1, 2)
        if self.explained_variance_ratio is not None:
            ratio = self.explained_variance_ratio
            index = np.arange(1, ratio.size + 1)
            ax_scree.semilogy(index, ratio, "o-")
            if self.scree_n_components is not None:
                ax_scree.axvline(self.scree_n_components, color="C1", ls="--",
                                 label=f"elbow: {self.scree_n_components}")
                ax_scree.legend()
        ax_scree.set(xlabel="component", ylabel="explained variance ratio",
                     title="Scree plot")
        if self.ard_relevances is not None:
            rel = self.ard_relevances / max(self.ard_relevances.max(), np.finfo(float).tiny)
            ax_ard.bar(np.arange(1, rel.size + 1), rel)
            ax_ard.set_title(f"ARD relevances (kept: {self.ard_n_components})")
        else:
            ax_ard.set_title("ARD relevances (not computed)")
        ax_ard.set(xlabel="component", ylabel="relative relevance")
        fig.tight_layout()
        return fig


def scree_elbow(explained_variance_ratio: np.ndarray) -> int:
    """Number of components at the elbow of a (log) scree plot.

    The elbow is the point of the log-variance curve farthest below the chord
    joining its first and last points (the "knee" criterion).
    """
    values = np.log10(np.maximum(explained_variance_ratio, np.finfo(float).tiny))
    n = values.size
    if n < 3:
        return n
    x = np.arange(n, dtype=float)
    chord = values[0] + (values[-1] - values[0]) * x / (n - 1)
    # The farthest point is the first one on the noise floor; its 0-based
    # index is the number of components above the floor.
    return max(int(np.argmax(chord - values)), 1)


def poisson_normalised(X: np.ndarray) -> np.ndarray:
    """``X`` divided by ``sqrt(mean image x mean spectrum)`` (Keenan & Kotula 2004).

    As HyperSpy's ``normalize_poissonian_noise``: the noise of counting data
    becomes homoscedastic before a principal component analysis. The means
    are taken over the non-negative part of ``X``; empty rows or channels are
    left unscaled.
    """
    Xp = np.clip(X, 0.0, None)
    spec = Xp.mean(0)
    image = Xp.mean(1)
    scale = np.sqrt(np.outer(np.where(image > 0, image, 1.0), np.where(spec > 0, spec, 1.0)))
    return X / scale


def estimate_n_components(
    signal_or_X,
    *,
    max_components: int = 10,
    method: str | tuple[str, ...] = ("scree", "ard"),
    random_state=None,
) -> NComponentsResult:
    """Estimate the number of components of a spectrum image.

    Parameters
    ----------
    signal_or_X
        An EELS (or any Signal1D) signal, whose data are used (spectra that
        hold NaN or inf left out, with a warning giving their number), or a
        2-D array (n_pixels, n_channels), which must be finite.
    max_components
        Largest number considered: length of the scree curve and starting
        number of ARD-SO-NMF.
    method
        ``"scree"``, ``"ard"`` or both.
    random_state
        Seed of ARD-SO-NMF.

    Returns
    -------
    NComponentsResult
        The suggested numbers of components of each method, the scree curve
        and, with ``"ard"``, the components ARD-SO-NMF kept; its ``plot()``
        draws them.

    Examples
    --------
    >>> from hspy_unmix import estimate_n_components
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> result = estimate_n_components(s, method="scree")
    >>> result.scree_n_components
    3
    """
    methods = (method,) if isinstance(method, str) else tuple(method)
    unknown = [m for m in methods if m not in _METHODS]
    if unknown or not methods:
        raise ValueError(f"method must be among {_METHODS}, got {method!r}.")
    check_int(max_components, "max_components")
    data = signal_or_X
    if hasattr(signal_or_X, "axes_manager"):
        from .._non_finite import drop_non_finite, warn_left_out

        data = np.asarray(signal_or_X.data)
        n_total = data.size // data.shape[-1]
        # a few bad pixels do not stop a signal's estimate
        data, n_bad = drop_non_finite(data.reshape(n_total, -1), "estimate_n_components")
        warn_left_out(n_bad, n_total, "estimate_n_components", result=None)
    X = check_spectra(data, name="data", negative="clip")
    if max_components < 2 or max_components > min(X.shape):
        raise ValueError(
            f"max_components must lie in [2, {min(X.shape)}] for data of shape "
            f"{X.shape}, got {max_components}."
        )
    result = NComponentsResult()
    if "scree" in methods:
        weighted = poisson_normalised(X)
        eig = np.linalg.eigvalsh(weighted.T @ weighted)[::-1]
        eig = np.maximum(eig, 0.0)
        ratio = eig / eig.sum()
        result.explained_variance_ratio = ratio[:max_components]
        result.scree_n_components = scree_elbow(ratio[:max_components])
    if "ard" in methods:
        from .nmf import ARD_SO_NMF

        # only the number and the relevances are reported: no refit
        model = ARD_SO_NMF(max_components, random_state=random_state, refit=False,
                           show_progressbar=False).fit(X)
        result.ard_n_components = model.n_components_kept_
        result.ard_relevances = np.sort(model.relevances_)[::-1]
    return result


def parallel_analysis_n_components(X, random_state=None, max_components: int = 20) -> int:
    """Number of spectral components in ``X`` by parallel analysis.

    The spectra are normalised for Poisson noise (each value divided by the
    square root of the product of the mean spectrum and the mean image,
    Keenan & Kotula 2004, as HyperSpy's ``normalize_poissonian_noise``) and
    centred. The eigenvalues of their covariance (the explained variance of
    each principal component) are compared with the largest eigenvalue of the
    same data with every channel shuffled independently across pixels, which
    keeps each channel's variance but destroys the correlations that
    components create (Horn's parallel analysis). Components above that
    level are signal; the estimate adds one for the mean spectrum removed by
    centring (non-negative endmembers are not centred).

    Parameters
    ----------
    X
        Spectra, shape (n_pixels, n_channels), non-negative.
    random_state
        Seed of the shuffles.
    max_components
        Upper bound of the estimate.

    Returns
    -------
    int
        Estimated K, between 1 and ``min(max_components, n_pixels, n_channels)``.

    Examples
    --------
    >>> from hspy_unmix.synthetic import pan_sharpening_pair
    >>> from hspy_unmix.unmixing.n_components import parallel_analysis_n_components
    >>> fine, coarse, truth = pan_sharpening_pair(n_components=3, random_state=0)
    >>> parallel_analysis_n_components(coarse.data.reshape(-1, coarse.data.shape[-1]), random_state=0)
    3
    """
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    X = np.asarray(X, dtype=np.float64)
    n, c = X.shape
    upper = max(1, min(max_components, n, c))
    if n < 2:
        return 1
    Z = poisson_normalised(X)
    Z = Z - Z.mean(0)
    eig = np.linalg.svd(Z, compute_uv=False) ** 2
    null = np.empty(3)
    for t in range(null.size):
        order = np.argsort(rng.random_sample((n, c)), axis=0)
        shuffled = np.take_along_axis(Z, order, axis=0)
        null[t] = np.linalg.svd(shuffled, compute_uv=False)[0] ** 2
    n_signal = int(np.sum(eig > null.max()))
    return int(min(max(n_signal + 1, 1), upper))
