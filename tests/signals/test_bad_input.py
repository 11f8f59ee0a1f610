"""Integer data and all-zero spectra are handled as the user guide says.

Parametrised by the algorithm registry: every algorithm accepts camera
counts (the same result as the counts stored as float64, the signal left as it
was) and all-zero spectra (a warning with their number, finite abundances that
sum to one for the sum-to-one methods and are zero for the others); only data
whose every spectrum is zero are refused.
"""

from __future__ import annotations

import pathlib
import re
import warnings

import numpy as np
import pytest

import hspy_unmix  # noqa: F401  (activates the EELS methods)
from hspy_unmix import _registry
from hspy_unmix.synthetic import chequerboard_si

NAMES = sorted(_registry.ALGORITHMS)
K = 3
GUIDE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "unmixing.md"
#: Few iterations or epochs wherever an estimator has the parameter.
FAST = {"epochs": 2, "warmup_epochs": 1, "n_starts": 1, "n_burn_in": 10, "n_samples": 20,
        "patience": None, "show_progressbar": False}
FAST_FOR = {"SSS_VCA": {"n_samples": 500}}


def _marks(name):
    neural = _registry.estimator_class(name).__module__.startswith("hspy_unmix.neural")
    return [pytest.mark.neural, pytest.mark.slow] if neural else []


PARAMS = [pytest.param(name, marks=_marks(name), id=name) for name in NAMES]


def _decompose(signal, name):
    accepted = _registry.estimator_class(name)().get_params()
    params = {k: v for k, v in FAST.items() if k in accepted}
    params.update(FAST_FOR.get(name, {}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        signal.decomposition(algorithm=name, output_dimension=K, print_info=False,
                             random_state=0, **params)
    return [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def counts():
    s, _ = chequerboard_si(n_components=K, shape=(12, 12), block=4, averaging=3,
                           random_state=0)
    s.data = np.round(s.data)  # integral counts: exact in uint16 and in float64
    assert s.data.max() < 2**16
    return s


@pytest.mark.parametrize("name", PARAMS)
def test_integer_counts_give_the_float64_result(counts, name):
    camera = counts.deepcopy()
    camera.data = counts.data.astype(np.uint16)
    before = camera.data.copy()
    reference = counts.deepcopy()
    _decompose(camera, name)
    _decompose(reference, name)
    assert camera.data.dtype == np.uint16 and np.array_equal(camera.data, before)
    for attr in ("factors", "loadings"):
        got = getattr(camera.learning_results, attr)
        assert got.dtype == np.float64
        assert np.array_equal(got, getattr(reference.learning_results, attr)), attr


@pytest.mark.parametrize("name", PARAMS)
def test_all_zero_spectra_are_unmixed_with_a_warning(counts, name):
    s = counts.deepcopy()
    zero = [(0, 0), (5, 7), (11, 3)]
    for row, col in zero:
        s.data[row, col] = 0
    before = s.data.copy()
    messages = _decompose(s, name)
    assert any(re.search(rf"\b{len(zero)} all-zero spectra", m) for m in messages), messages
    assert np.array_equal(s.data, before)
    loadings = s.learning_results.loadings.reshape(s.data.shape[:-1] + (-1,))
    assert np.isfinite(s.learning_results.loadings).all()
    zero_maps = np.array([loadings[p] for p in zero])
    estimator = s.unmixing_estimator
    if estimator._sum_to_one:
        # the abundance solve enforces the sum exactly up to rounding of K terms
        np.testing.assert_allclose(zero_maps.sum(axis=1), 1.0, rtol=0,
                                   atol=K * np.finfo(float).eps)
    elif estimator._negative != "allow":  # non-negative maps: zero data, zero maps
        assert np.array_equal(zero_maps, np.zeros_like(zero_maps))


@pytest.mark.parametrize("name", PARAMS)
def test_only_an_all_zero_data_set_is_refused(counts, name):
    s = counts.deepcopy()
    s.data[:] = 0
    with pytest.raises(ValueError, match="every spectrum .* is zero"):
        _decompose(s, name)
    assert s.learning_results.factors is None


def test_user_guide_says_they_are_handled():
    text = GUIDE.read_text()
    section = text[text.index("## Bad input"):]
    section = section[:section.find("\n## ", 5) if "\n## " in section[5:] else None]
    items = {m.group(1): m.group(2) for m in re.finditer(
        r"^- \*\*(.+?)\*\*(.*?)(?=^- |\n\n)", section, flags=re.MULTILINE | re.DOTALL)}
    integer = " ".join(items["Integer data"].split())
    zero = " ".join(items["All-zero spectra"].split())
    assert "are accepted" in integer and "float64" in integer
    assert "are accepted with a `UserWarning`" in zero
    assert "Only a data set whose every spectrum is zero raises" in zero
