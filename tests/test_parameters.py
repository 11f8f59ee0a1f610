"""The generated estimator ``__init__`` and the shared docstring fragments."""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone

from hspy_unmix import _registry
from hspy_unmix._docstrings import DOCS, fill_doc
from hspy_unmix._parameters import ANNOTATIONS, estimator_init
from hspy_unmix.unmixing.clustering import GaussianMixtureClustering, KMeansClustering

CLASSES = [_registry.estimator_class(name) for name in _registry.ALGORITHMS] + [
    KMeansClustering,
    GaussianMixtureClustering,
]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_init_is_an_ordinary_scikit_learn_init(cls):
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[1:])
    assert cls.__init__.__qualname__ == f"{cls.__name__}.__init__"
    default = cls()
    for p in parameters:
        assert getattr(default, p.name) is p.default
        if p.name in ANNOTATIONS:
            assert p.annotation == ANNOTATIONS[p.name]
    assert set(default.get_params()) == {p.name for p in parameters}
    first = parameters[0].name
    assert clone(cls(3)).get_params()[first] == 3
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls(not_a_parameter=1)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_docstrings_are_filled(cls):
    assert "%(" not in cls.__doc__
    assert "Parameters\n    ----------" in cls.__doc__


def test_estimator_init_stores_each_argument():
    class Example:
        __init__ = estimator_init(n_components=None, max_iter=5, tol=0.5)

    example = Example(2, tol=0.1)
    assert (example.n_components, example.max_iter, example.tol) == (2, 5, 0.1)
    assert str(inspect.signature(Example.__init__)) == (
        "(self, n_components: 'int | None' = None, *, max_iter: 'int' = 5, "
        "tol: 'float' = 0.5)"
    )
    with pytest.raises(TypeError):
        Example(2, 3)  # only the first parameter is positional
    with pytest.raises(ValueError, match="parameter name"):
        estimator_init(**{"class": 1})


def test_fill_doc_indents_fragments_and_rejects_unknown_names():
    def documented():
        """Summary.

        Parameters
        ----------
        %(max_partial_fit_samples)s
        """

    fill_doc(documented)
    expected = "\n".join(
        "        " + line for line in DOCS["max_partial_fit_samples"].splitlines()
    )
    assert expected in documented.__doc__

    def unknown():
        """%(no_such_fragment)s"""

    with pytest.raises(KeyError):
        fill_doc(unknown)
