"""Clustering of decomposition results (e.g. autoencoder latent codes).

HyperSpy's ``cluster_analysis(..., algorithm=obj)`` accepts any object with
``fit(X)`` that sets ``labels_`` (one integer label per pixel, from 0). The
two classes here add a Gaussian-mixture option beside k-means, with seeded,
reproducible results and ``cluster_centers_`` for both. Typical use, after
``s.decomposition(algorithm="AE", output_dimension=L)``::

    s.cluster_analysis("decomposition", number_of_components=L,
                       algorithm=GaussianMixtureClustering(n_clusters=3))

Pass an instance, not the class.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from .._docstrings import fill_doc
from .._parameters import estimator_init
from .._validation import check_finite, check_int

__all__ = ["KMeansClustering", "GaussianMixtureClustering"]


def _check_n_clusters(n_clusters, X: np.ndarray) -> int:
    n_clusters = check_int(n_clusters, "n_clusters")
    if not 1 <= n_clusters <= X.shape[0]:
        raise ValueError(
            f"n_clusters must be between 1 and the number of pixels ({X.shape[0]}), "
            f"got {n_clusters}."
        )
    return int(n_clusters)


def _check_features(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_pixels, n_features), got shape {X.shape}.")
    check_finite(X, "X")
    return X


class KMeansClustering(ClusterMixin, BaseEstimator):
    """k-means clustering usable as ``cluster_analysis(algorithm=...)``.

    Parameters
    ----------
    n_clusters
        Number of clusters.
    n_init
        Number of k-means restarts (the best inertia is kept).
    random_state
        Seed of the k-means initialisation.

    Attributes
    ----------
    labels_ : numpy.ndarray of int, shape (n_pixels,)
    cluster_centers_ : numpy.ndarray, shape (n_clusters, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.unmixing.clustering import KMeansClustering
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2))]
    >>> km = KMeansClustering(2, random_state=0).fit(X)
    >>> len(set(km.labels_[:5])), len(set(km.labels_))
    (1, 2)
    """

    __init__ = estimator_init(n_clusters=8, n_init=10, random_state=None)

    @fill_doc
    def fit(self, X, y=None):
        """Cluster the rows of ``X``.

        %(latent_fit)s

        Returns
        -------
        self : KMeansClustering
            The fitted clustering (``labels_`` and ``cluster_centers_`` set).
        """
        from sklearn.cluster import KMeans

        X = _check_features(X)
        k = _check_n_clusters(self.n_clusters, X)
        model = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state)
        self.labels_ = model.fit_predict(X)
        self.cluster_centers_ = model.cluster_centers_
        self.inertia_ = float(model.inertia_)
        self._model = model
        return self

    @fill_doc
    def predict(self, X):
        """Label of the nearest centre for each row of ``X``.

        %(latent_predict)s
            The cluster of each row.
        """
        return self._model.predict(_check_features(X))


class GaussianMixtureClustering(ClusterMixin, BaseEstimator):
    """Gaussian-mixture clustering usable as ``cluster_analysis(algorithm=...)``.

    Each pixel gets the label of the mixture component with the highest
    posterior probability; ``probabilities_`` keeps the soft memberships.

    The default covariance is ``"tied"`` (one covariance shared by all
    components). In a spectrum image most pixels are mixtures, so the latent
    codes fill a continuum between the pure phases rather than separate
    blobs. With one full covariance per component the maximum of the
    likelihood is then reached by components stretched along the mixing
    lines, not centred on the phases: on the 3-phase chequerboard it merges
    two phases, whatever the number of restarts, and even when started from
    the true phase centres. A shared covariance keeps the components centred
    on the dense regions (like k-means, with a learned metric) while still
    giving soft memberships. Use ``"full"`` for well separated clusters of
    different shapes.

    Parameters
    ----------
    n_clusters
        Number of mixture components.
    covariance_type
        ``"full"``, ``"tied"``, ``"diag"`` or ``"spherical"`` (see
        :class:`sklearn.mixture.GaussianMixture`).
    n_init
        Number of restarts (the best likelihood is kept).
    init_params
        Initialisation of the means: ``"kmeans"`` (a full k-means, the most
        stable), ``"k-means++"``, ``"random"`` or ``"random_from_data"``.
    reg_covar
        Added to the diagonal of the covariances, relative to the variance of
        the features (the codes are not scaled by HyperSpy), so that a very
        tight cluster never makes a covariance singular.
    max_iter
        Maximum number of EM iterations per restart.
    random_state
        Seed of the initialisation of the means.

    Attributes
    ----------
    labels_ : numpy.ndarray of int, shape (n_pixels,)
    cluster_centers_ : numpy.ndarray, shape (n_clusters, n_features)
        Means of the mixture components.
    probabilities_ : numpy.ndarray, shape (n_pixels, n_clusters)
        Posterior membership probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.unmixing.clustering import GaussianMixtureClustering
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 0.1, (50, 2)), rng.normal(3, 0.1, (50, 2))]
    >>> gm = GaussianMixtureClustering(2, random_state=0).fit(X)
    >>> len(set(gm.labels_[:50])), len(set(gm.labels_))
    (1, 2)
    """

    __init__ = estimator_init(
        n_clusters=8, covariance_type="tied", n_init=3, init_params="kmeans",
        reg_covar=1e-6, max_iter=200, random_state=None,
    )

    @fill_doc
    def fit(self, X, y=None):
        """Fit the mixture to the rows of ``X``.

        %(latent_fit)s

        Returns
        -------
        self : GaussianMixtureClustering
            The fitted clustering.
        """
        from sklearn.mixture import GaussianMixture

        X = _check_features(X)
        k = _check_n_clusters(self.n_clusters, X)
        if self.covariance_type not in ("full", "tied", "diag", "spherical"):
            raise ValueError(
                "covariance_type must be 'full', 'tied', 'diag' or 'spherical', "
                f"got {self.covariance_type!r}."
            )
        inits = ("kmeans", "k-means++", "random", "random_from_data")
        if self.init_params not in inits:
            raise ValueError(f"init_params must be one of {inits}, got {self.init_params!r}.")
        if not self.reg_covar >= 0:
            raise ValueError(f"reg_covar must be >= 0, got {self.reg_covar!r}.")
        # relative regularisation: latent codes may have any scale
        scale = float(X.var(axis=0).mean()) if X.shape[0] > 1 else 1.0
        model = GaussianMixture(
            n_components=k,
            covariance_type=self.covariance_type,
            n_init=self.n_init,
            init_params=self.init_params,
            reg_covar=float(self.reg_covar) * (scale if scale > 0 else 1.0),
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        model.fit(X)
        self.probabilities_ = model.predict_proba(X)
        self.labels_ = self.probabilities_.argmax(axis=1)
        self.cluster_centers_ = model.means_
        self._model = model
        return self

    @fill_doc
    def predict(self, X):
        """Most probable component of each row of ``X``.

        %(latent_predict)s
            The mixture component of each row.
        """
        return self._model.predict(_check_features(X))
