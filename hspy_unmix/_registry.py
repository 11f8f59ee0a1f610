"""Names accepted by ``decomposition(algorithm=...)`` and their estimators.

Each entry maps the upper-case algorithm name to ``(module, class name)``;
modules are imported only when the algorithm is used, so that
``import hspy_unmix`` stays fast and never imports Keras.
"""

from __future__ import annotations

import importlib

ALGORITHMS: dict[str, tuple[str, str]] = {
    "VCA": ("hspy_unmix.unmixing.vca", "VCA"),
    "MINVOLUME": ("hspy_unmix.unmixing.minvol", "MinVolume"),
    "SSS_VCA": ("hspy_unmix.unmixing.sss", "SSS_VCA"),
    "MALS": ("hspy_unmix.unmixing.mals", "MALS"),
    "HALS": ("hspy_unmix.unmixing.hals", "HALS"),
    "NMF_SO": ("hspy_unmix.unmixing.hals", "NMF_SO"),
    "ARD_SO_NMF": ("hspy_unmix.unmixing.ard_so_nmf", "ARD_SO_NMF"),
    "BLU": ("hspy_unmix.unmixing.bayesian", "BLU"),
    "DAEU": ("hspy_unmix.neural.daeu", "DAEU"),
    "MTAEU": ("hspy_unmix.neural.mtaeu", "MTAEU"),
    "CNNAEU": ("hspy_unmix.neural.cnnaeu", "CNNAEU"),
    "UDAS": ("hspy_unmix.neural.udas", "UDAS"),
    "AE": ("hspy_unmix.neural.ae", "AE"),
}

#: HyperSpy's own ``decomposition`` algorithms (the CLI accepts them too).
HYPERSPY_ALGORITHMS = ("SVD", "MLPCA", "SKLEARN_PCA", "NMF", "SPARSE_PCA",
                       "MINI_BATCH_SPARSE_PCA", "RPCA", "ORPCA", "ORNMF")


def normalise_name(algorithm) -> str | None:
    """Upper-case registry key for ``algorithm`` or None if it is not ours."""
    if not isinstance(algorithm, str):
        return None
    key = algorithm.strip().upper().replace("-", "_")
    return key if key in ALGORITHMS else None


def estimator_class(name: str):
    """The estimator class registered under ``name`` (case-insensitive)."""
    key = normalise_name(name)
    if key is None:
        raise ValueError(
            f"Unknown algorithm {name!r}. hspy_unmix offers: "
            + ", ".join(sorted(ALGORITHMS))
        )
    module, cls = ALGORITHMS[key]
    return getattr(importlib.import_module(module), cls)


def display_names() -> list[str]:
    """The algorithms under their class names ("MinVolume"), in registry order."""
    return [cls for _, cls in ALGORITHMS.values()]


def names_sentence() -> str:
    """'"VCA", "MinVolume", ... and "AE"': the names for docstrings and help."""
    quoted = [f'"{name}"' for name in display_names()]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def available_algorithms() -> list[str]:
    """Names accepted by ``decomposition(algorithm=...)`` from this package.

    Returns
    -------
    list of str
        The algorithm names, sorted.

    Examples
    --------
    >>> import hspy_unmix
    >>> "VCA" in hspy_unmix.available_algorithms()
    True
    """
    return sorted(ALGORITHMS)


def cli_algorithm_help() -> str:
    """Help text of the CLI's ``--algorithm`` option: every accepted name."""
    return (f"{', '.join(available_algorithms())} (case-insensitive), or HyperSpy's "
            f"{', '.join(HYPERSPY_ALGORITHMS)}")


def markdown_algorithm_table() -> str:
    """The algorithms as a Markdown table for the user guide (built by docs/conf.py).

    One row per registered name: the estimator class, the first line of its
    docstring and what its abundances are (from its capability tags).
    """
    lines = ["| name | estimator | method | abundances |", "|---|---|---|---|"]
    for key in ALGORITHMS:
        cls = estimator_class(key)
        summary = (cls.__doc__ or "").strip().splitlines()[0].rstrip(".")
        default = cls()
        if default._sum_to_one:
            abundances = "sum to one"
        elif "abundance_scaling" in default.get_params():
            abundances = "as `abundance_scaling`"
        elif default._negative == "allow":
            abundances = "latent codes"
        else:
            abundances = "non-negative"
        link = f"{{class}}`~hspy_unmix.{cls.__name__}`"
        lines.append(f"| `{key}` | {link} | {summary} | {abundances} |")
    return "\n".join(lines) + "\n"
