import numpy as np
import pytest

from hspy_unmix._validation import check_n_components, check_spectra, warn_zero_rows


def test_integer_dtypes_become_float64_without_touching_input():
    for dtype in (np.uint16, np.uint32, np.int16):
        X = np.arange(12, dtype=dtype).reshape(3, 4)
        before = X.copy()
        out = check_spectra(X)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, before)
        out[0, 0] = 99
        np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_raise_naming_the_problem(bad):
    X = np.ones((4, 5))
    X[1, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_spectra(X)


def test_negative_clip_warns_and_copies():
    X = np.ones((3, 3))
    X[0, 0] = -2.0
    with pytest.warns(UserWarning, match="negative"):
        out = check_spectra(X, negative="clip")
    assert out[0, 0] == 0.0 and X[0, 0] == -2.0
    with pytest.raises(ValueError, match="negative"):
        check_spectra(X, negative="raise")
    np.testing.assert_array_equal(check_spectra(X, negative="allow"), X)


def test_shape_and_type_errors():
    with pytest.raises(ValueError, match="2-D"):
        check_spectra(np.ones(5))
    with pytest.raises(ValueError, match="2-D"):
        check_spectra(np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match="complex"):
        check_spectra(np.ones((2, 3), dtype=complex))
    with pytest.raises(TypeError):
        check_spectra(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="fitted on 4"):
        check_spectra(np.ones((2, 3)), n_features=4)


def test_n_components_bounds():
    X = np.ones((5, 3))
    assert check_n_components(2, X) == 2
    assert check_n_components(5, np.ones((5, 8))) == 5
    with pytest.raises(ValueError, match="equals the number of channels"):
        check_n_components(3, X)
    with pytest.raises(ValueError, match="channels"):
        check_n_components(4, np.ones((10, 3)))
    with pytest.raises(ValueError, match="pixels"):
        check_n_components(4, np.ones((3, 10)))
    with pytest.raises(ValueError, match="at least 1"):
        check_n_components(0, X)
    with pytest.raises(ValueError, match="must be given"):
        check_n_components(None, X)
    with pytest.raises(TypeError):
        check_n_components(2.5, X)


def test_zero_rows():
    X = np.ones((4, 3))
    X[1] = 0
    with pytest.warns(UserWarning, match="all-zero"):
        mask = warn_zero_rows(X)
    assert mask.tolist() == [False, True, False, False]
    with pytest.raises(ValueError, match="every spectrum"):
        warn_zero_rows(np.zeros((3, 3)))
