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
    non_finite = " ".join(items["NaN or infinite values"].split())
    assert "leave every spectrum holding one out of the fit" in non_finite
    assert "`learning_results.navigation_mask`" in non_finite


#: Pixels given a NaN, a whole spectrum of +inf and a -inf.
NON_FINITE = {(0, 0): ([4], np.nan), (5, 7): (slice(None), np.inf), (11, 3): ([10], -np.inf)}


def _with_non_finite(signal):
    s = signal.deepcopy()
    for (row, col), (channels, value) in NON_FINITE.items():
        s.data[row, col, channels] = value
    expected = np.zeros(s.data.shape[:-1], dtype=bool)
    expected[tuple(np.array(list(NON_FINITE)).T)] = True
    return s, expected


def _check_left_out(s, expected, messages, what, n_bad=None):
    n = s.axes_manager.navigation_size
    n_bad = len(NON_FINITE) if n_bad is None else n_bad
    said = f"{n_bad} of {n} spectra hold NaN or infinite values: {what} left them out"
    assert any(said in m for m in messages), messages
    lr = s.learning_results
    np.testing.assert_array_equal(lr.navigation_mask, expected)
    loadings = lr.loadings.reshape(expected.shape + (-1,))
    assert np.isnan(loadings[expected]).all()
    assert np.isfinite(loadings[~expected]).all()


@pytest.mark.parametrize("name", PARAMS)
def test_nan_and_inf_spectra_are_left_out_counted_and_said(counts, name):
    s, expected = _with_non_finite(counts)
    before = s.data.copy()
    messages = _decompose(s, name)
    np.testing.assert_array_equal(s.data, before)  # NaN where NaN was
    _check_left_out(s, expected, messages, "decomposition")
    estimator = s.unmixing_estimator
    if estimator._spatial:
        return  # image patches: the bad pixels are filled for the fit (test below)
    # the fit saw the finite spectra only: the same as fitting them alone
    alone = estimator.__class__(**estimator.get_params()).fit(counts.data[~expected])
    np.testing.assert_array_equal(s.learning_results.factors, alone.components_.T)


@pytest.mark.neural
@pytest.mark.slow
def test_patch_based_fit_sees_each_bad_pixel_as_its_nearest_finite_one(counts):
    # the four neighbours of each bad pixel hold one spectrum: its nearest
    # finite spectrum whatever the tie-break
    clean = counts.deepcopy()
    for row, col in NON_FINITE:
        source = clean.data[row, col + 1].copy()
        for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
            if 0 <= r < 12 and 0 <= c < 12:
                clean.data[r, c] = source
    s, expected = _with_non_finite(clean)
    filled = clean.deepcopy()
    for row, col in NON_FINITE:
        filled.data[row, col] = clean.data[row, col + 1]
    messages = _decompose(s, "CNNAEU")
    _check_left_out(s, expected, messages, "decomposition")
    _decompose(filled, "CNNAEU")
    got, ref = s.learning_results, filled.learning_results
    np.testing.assert_array_equal(got.factors, ref.factors)
    good = ~expected.ravel()
    np.testing.assert_array_equal(got.loadings[good], ref.loadings[good])


@pytest.mark.parametrize("route", ["lazy", "lazy_hyperspy_loop", "with_user_mask"])
def test_left_out_on_every_route(counts, route):
    s, expected = _with_non_finite(counts)
    reference = counts.deepcopy()
    reference.decomposition(algorithm="VCA", output_dimension=K, print_info=False,
                            random_state=0, navigation_mask=expected.T)
    user_mask = np.zeros_like(expected)
    if route == "with_user_mask":
        user_mask[2, 2] = True  # the user's masked pixel is left out as well
        reference.decomposition(algorithm="VCA", output_dimension=K, print_info=False,
                                random_state=0, navigation_mask=(expected | user_mask).T)
    if route.startswith("lazy"):
        s = s.as_lazy()
    kwargs = {"navigation_mask": user_mask.T} if route != "lazy" else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s.decomposition(algorithm="VCA", output_dimension=K, print_info=False,
                        random_state=0, show_progressbar=False, **kwargs)
    messages = [str(w.message) for w in caught]
    _check_left_out(s, expected | user_mask, messages, "decomposition")
    np.testing.assert_allclose(s.learning_results.factors, reference.learning_results.factors,
                               rtol=1e-12)


@pytest.mark.parametrize("lazy", [False, True])
def test_apply_unmixing_leaves_them_out(counts, lazy):
    counts.decomposition(algorithm="VCA", output_dimension=K, print_info=False, random_state=0)
    s, expected = _with_non_finite(counts)
    if lazy:
        s = s.as_lazy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s.apply_unmixing(counts.unmixing_estimator, print_info=False, show_progressbar=False)
    _check_left_out(s, expected, [str(w.message) for w in caught], "apply_unmixing")
    good = ~expected.ravel()
    np.testing.assert_allclose(s.learning_results.loadings[good],
                               counts.learning_results.loadings[good], rtol=1e-12, atol=1e-15)
    nothing = counts.deepcopy()
    nothing.data[...] = np.nan
    with pytest.raises(ValueError, match="every spectrum .* NaN or infinite"):
        (nothing.as_lazy() if lazy else nothing).apply_unmixing(
            counts.unmixing_estimator, print_info=False, show_progressbar=False)
