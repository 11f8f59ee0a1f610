"""Contract of the activation: every EELS signal gets the methods (DESIGN.md)."""

import numpy as np
import pytest

import hyperspy.api as hs

from conftest import shared_file

METHODS = ("decomposition", "apply_unmixing", "restore_zlp", "pan_sharpen")


def _has_methods(s):
    return all(callable(getattr(s, m, None)) for m in METHODS)


def test_methods_on_eager_lazy_copies_and_slices(eels3):
    s, _ = eels3
    assert _has_methods(s)
    lazy = s.as_lazy()
    assert lazy._lazy and _has_methods(lazy)
    assert _has_methods(s.deepcopy())
    assert _has_methods(s.inav[:4, :4])
    assert _has_methods(s.isig[300.0:600.0])


def test_methods_after_set_signal_type_and_exspy_data():
    s = hs.signals.Signal1D(np.ones((3, 10)))
    assert not hasattr(s, "pan_sharpen")
    s.set_signal_type("EELS")
    assert _has_methods(s)
    import exspy

    assert _has_methods(exspy.data.EELS_low_loss())


def test_real_dm4_loaded_eager_and_lazy():
    # RosettaSciIO test file (GPL-3.0): a 2x2x2048 Gatan DM4 STEM-EELS SI.
    path = shared_file("eels/rsciio_EELS_SI_2x2x2048.dm4")
    s = hs.load(path)
    assert s.metadata.Signal.signal_type == "EELS"
    assert _has_methods(s)
    lazy = hs.load(path, lazy=True)
    assert _has_methods(lazy)
    lazy.decomposition(algorithm="VCA", output_dimension=2, print_info=False)
    assert lazy.learning_results.factors.shape == (2048, 2)


def test_hspy_round_trip_keeps_methods_and_results(eels3, tmp_path):
    s, _ = eels3
    s.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    path = tmp_path / "si.hspy"
    s.save(path)
    r = hs.load(path)
    assert _has_methods(r)
    assert r.learning_results.decomposition_algorithm == "VCA"
    np.testing.assert_allclose(r.learning_results.factors, s.learning_results.factors)
    np.testing.assert_allclose(r.learning_results.loadings, s.learning_results.loadings)
    r2 = hs.load(path, lazy=True)
    assert _has_methods(r2)


def test_hyperspy_algorithms_unchanged(eels3):
    s, _ = eels3
    s.decomposition(algorithm="SVD", output_dimension=3, print_info=False)
    assert s.learning_results.decomposition_algorithm == "SVD"
    ref = hs.signals.Signal1D(s.data.copy())
    ref.decomposition(algorithm="SVD", print_info=False)
    np.testing.assert_allclose(
        np.abs(s.learning_results.factors[:, :3]),
        np.abs(ref.learning_results.factors[:, :3]),
        atol=1e-8,
    )
    s.decomposition(algorithm="NMF", output_dimension=3, print_info=False, max_iter=50)
    assert s.learning_results.decomposition_algorithm == "NMF"


def test_names_are_case_insensitive_and_unknown_params_rejected(eels3):
    s, _ = eels3
    s.decomposition(algorithm="vca", output_dimension=3, print_info=False)
    assert s.learning_results.decomposition_algorithm == "VCA"
    with pytest.raises(TypeError, match="unknown parameter"):
        s.decomposition(algorithm="VCA", output_dimension=3, not_a_param=1)


def test_estimator_object_on_plain_signal1d_and_on_eels(eels3):
    import hspy_unmix

    s, truth = eels3
    plain = hs.signals.Signal1D(s.data.copy())
    plain.decomposition(
        algorithm=hspy_unmix.VCA(n_components=3, random_state=0), print_info=False
    )
    assert plain.learning_results.factors.shape == (200, 3)
    est = hspy_unmix.VCA(n_components=3, random_state=0)
    out = s.decomposition(algorithm=est, print_info=False, return_info=True)
    assert out is est is s.unmixing_estimator
    # the name is stored (not the object), so .hspy saving works
    assert s.learning_results.decomposition_algorithm == "VCA"


def test_input_never_modified_and_bad_input(eels3):
    s, _ = eels3
    before = s.data.copy()
    s.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    np.testing.assert_array_equal(s.data, before)
    bad = s.deepcopy()
    bad.data[...] = np.nan  # one NaN pixel is left out (tests/signals/test_bad_input.py)
    with pytest.raises(ValueError, match="every spectrum .* NaN or infinite"):
        bad.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    with pytest.raises(ValueError, match="channels"):
        s.isig[:2].decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    with pytest.raises(ValueError, match="must be given"):
        s.decomposition(algorithm="VCA", print_info=False)


def test_uint16_camera_data(eels3):
    s, truth = eels3
    s16 = s.deepcopy()
    s16.change_dtype("uint16")
    s16.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    assert s16.data.dtype == np.uint16
    assert s16.learning_results.factors.dtype == np.float64


def test_failed_fit_leaves_previous_results(eels3):
    s, _ = eels3
    s.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    factors = s.learning_results.factors.copy()
    bad = s.deepcopy()
    bad.learning_results.factors = factors.copy()
    bad.data[...] = bad.data[3, 3]  # rank 1: the fit itself refuses K = 2
    with pytest.raises(ValueError, match="rank"):
        bad.decomposition(algorithm="VCA", output_dimension=2, print_info=False)
    np.testing.assert_array_equal(bad.learning_results.factors, factors)


def test_interrupted_fit_restores_learning_results(eels3, monkeypatch):
    import hspy_unmix

    s, _ = eels3
    s.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    snapshot = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                for k, v in s.learning_results.__dict__.items()}
    data = s.data.copy()

    def interrupted(self, X):
        raise KeyboardInterrupt

    monkeypatch.setattr(hspy_unmix.VCA, "_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        s.decomposition(algorithm="VCA", output_dimension=2, print_info=False)
    np.testing.assert_array_equal(s.data, data)
    for key, value in snapshot.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(s.learning_results, key), value)
        else:
            assert getattr(s.learning_results, key) == value
    monkeypatch.undo()
    lazy = s.as_lazy()
    calls = []

    def interrupt_second_chunk(self, X):
        calls.append(len(X))
        if len(calls) == 2:
            raise KeyboardInterrupt

    lazy = s.as_lazy(chunks=(16, 64, 200))
    # HyperSpy's streaming loop (Poisson normalisation) swallows Ctrl-C and
    # goes on; the incomplete sample is treated as the interruption it was
    monkeypatch.setattr(hspy_unmix.VCA, "_add_to_reservoir", interrupt_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        lazy.decomposition(algorithm="VCA", output_dimension=2, print_info=False,
                           normalize_poissonian_noise=True)
    assert len(calls) >= 2
    # as_lazy copied the earlier 3-component results; they are still there
    np.testing.assert_array_equal(lazy.learning_results.factors, snapshot["factors"])
    monkeypatch.undo()
    # the two-pass path, interrupted in its abundance pass
    original = hspy_unmix.VCA._transform
    calls.clear()

    def interrupt_second_block(self, X):
        calls.append(len(X))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, X)

    monkeypatch.setattr(hspy_unmix.VCA, "_transform", interrupt_second_block)
    with pytest.raises(KeyboardInterrupt):
        lazy.decomposition(algorithm="VCA", output_dimension=2, print_info=False)
    assert len(calls) >= 2
    np.testing.assert_array_equal(lazy.learning_results.factors, snapshot["factors"])
    np.testing.assert_array_equal(lazy.data.compute(), data)


def test_spatial_algorithms_refuse_navigation_mask(eels3):
    s, _ = eels3
    mask = np.zeros((64, 64), dtype=bool)
    with pytest.raises(ValueError, match="navigation_mask"):
        s.decomposition(algorithm="CNNAEU", output_dimension=3, navigation_mask=mask)
    with pytest.raises(ValueError, match="in-memory"):
        s.as_lazy().decomposition(algorithm="CNNAEU", output_dimension=3)


def test_non_spectral_signal_rejected():
    from hspy_unmix._decomposition import check_spectral_signal

    with pytest.raises(TypeError, match="signal dimension 1"):
        check_spectral_signal(hs.signals.Signal2D(np.ones((2, 4, 4))), "decomposition")
