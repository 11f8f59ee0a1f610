"""``hspy-unmix`` file verbs: streaming, atomic outputs, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from hspy_unmix.cli import main
from conftest import shared_file


@pytest.fixture
def si_zspy(eels3, tmp_path):
    from hspy_unmix._lazy import rechunk_navigation, save_atomic

    s, _ = eels3
    lazy = s.as_lazy()
    rechunk_navigation(lazy, target_mb=0.2)
    return save_atomic(lazy, tmp_path / "si.zspy"), s


def test_unmix_lazy_zspy(si_zspy, tmp_path):
    import hyperspy.api as hs

    path, s = si_zspy
    out = tmp_path / "vca.hspy"
    rc = main(["unmix", str(path), "--algorithm", "VCA", "-k", "3", "--out", str(out),
               "--lazy", "--random-state", "0", "--chunk-mb", "0.2", "--no-progress"])
    assert rc == 0
    back = hs.load(out)
    assert back.learning_results.loadings.shape == (4096, 3)
    assert back.learning_results.decomposition_algorithm == "VCA"
    # existing output needs --overwrite
    rc = main(["unmix", str(path), "-k", "3", "--out", str(out), "--lazy", "--no-progress"])
    assert rc == 2
    # half of the chunks hold fewer than the 20 000 pixels of the sample: every
    # chunk is read, and the fit is the uniform one
    rc = main(["unmix", str(path), "--algorithm", "VCA", "-k", "3", "--out", str(out),
               "--lazy", "--random-state", "0", "--chunk-mb", "0.2", "--no-progress",
               "--sample-chunks", "0.5", "--overwrite"])
    assert rc == 0
    half = hs.load(out)
    assert half.learning_results.loadings.shape == (4096, 3)
    np.testing.assert_array_equal(half.learning_results.factors,
                                  back.learning_results.factors)


def test_unmix_dm4_synchronous(tmp_path):
    path = shared_file("eels/rsciio_EELS_SI_2x2x2048.dm4")
    out = tmp_path / "dm4.zspy"
    rc = main(["unmix", str(path), "-k", "2", "--out", str(out), "--lazy",
               "--scheduler", "synchronous", "--chunk-mb", "0.01", "--no-progress"])
    assert rc == 0 and out.is_dir()


def test_truncated_dm4_leaves_no_output(tmp_path, capsys):
    path = shared_file("eels/rsciio_EELS_SI_2x2x2048.dm4")
    bad = tmp_path / "bad.dm4"
    raw = path.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])
    for verb in (["unmix", str(bad), "-k", "2", "--lazy"], ["restore-zlp", str(bad)]):
        rc = main(verb + ["--out", str(tmp_path / "out.zspy"), "--no-progress"])
        assert rc == 2
        assert "truncated or corrupt" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.dm4"]


def test_incomplete_store_leaves_no_output(si_zspy, tmp_path, capsys):
    path, _ = si_zspy
    # one chunk file of the data array (flat "0.0.0" or nested "0/0/0" keys)
    data = next((path / "Experiments").rglob("data"))
    next(p for p in sorted(data.rglob("[0-9]*")) if p.is_file()).unlink()
    out = tmp_path / "fused.zspy"
    rc = main(["unmix", str(path), "-k", "3", "--lazy", "--out", str(out), "--no-progress"])
    assert rc == 2
    assert "chunk files" in capsys.readouterr().err
    assert not out.exists()


def test_pan_sharpen_verb_streams_to_zspy(tmp_path):
    import hyperspy.api as hs

    from hspy_unmix._lazy import save_atomic
    from hspy_unmix.synthetic.pan_sharpening import pan_sharpening_pair

    pair = pan_sharpening_pair(random_state=0)
    fine, clean = pair[0], pair[1]
    save_atomic(fine, tmp_path / "fine.hspy")
    save_atomic(clean, tmp_path / "clean.hspy")
    out = tmp_path / "fused.zspy"
    rc = main(["pan-sharpen", str(tmp_path / "fine.hspy"), str(tmp_path / "clean.hspy"),
               "--out", str(out), "-k", "3", "--random-state", "0", "--chunk-mb", "0.5",
               "--no-progress"])
    assert rc == 0
    fused = hs.load(out, lazy=True)
    assert fused.data.shape[:-1] == fine.data.shape[:-1]
    eager = fine.pan_sharpen(clean, n_components=3, random_state=0)
    np.testing.assert_allclose(fused.data.compute(), eager.data, rtol=1e-5, atol=1e-6)


def test_restore_zlp_verb_richardson_lucy(tmp_path):
    import hyperspy.api as hs

    from hspy_unmix._lazy import save_atomic
    from hspy_unmix.synthetic.zlp import zlp_test_signal

    t = zlp_test_signal(shape=(4, 5), random_state=0)
    s = t[0] if isinstance(t, tuple) else t
    save_atomic(s, tmp_path / "ll.hspy")
    out = tmp_path / "restored.zspy"
    rc = main(["restore-zlp", str(tmp_path / "ll.hspy"), "--out", str(out),
               "--method", "richardson_lucy", "--chunk-mb", "0.02", "--no-progress"])
    assert rc == 0
    restored = hs.load(out)
    eager = s.restore_zlp(method="richardson_lucy")
    np.testing.assert_allclose(restored.data, eager.data, rtol=1e-5, atol=1e-6)


# --- refusing wrong input before any work ------------------------------------

def _untyped_si(tmp_path):
    import hyperspy.api as hs

    rng = np.random.default_rng(0)
    s = hs.signals.Signal1D(rng.poisson(50, (4, 5, 64)).astype(float))
    s.axes_manager[-1].units = "nm"
    s.metadata.Signal.signal_type = "CL"
    path = tmp_path / "cl.hspy"
    s.save(path)
    return path


def test_non_eels_signal_refused_unless_signal_type_eels(tmp_path, capsys):
    import hyperspy.api as hs

    path = _untyped_si(tmp_path)
    out = tmp_path / "out.zspy"
    rc = main(["unmix", str(path), "-k", "2", "--out", str(out), "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "not EELS" in err and "--signal-type EELS" in err and "nm" in err
    assert not out.exists()
    rc = main(["unmix", str(path), "-k", "2", "--out", str(out), "--no-progress",
               "--signal-type", "EELS"])
    assert rc == 0
    assert hs.load(out).learning_results.factors.shape == (64, 2)


def test_cathodoluminescence_dm4_refused(tmp_path, capsys):
    path = shared_file("eels_format/CL_SI_16x30x334_asymmetric-peak_map.dm4")
    out = tmp_path / "cl.zspy"
    assert main(["unmix", str(path), "-k", "2", "--out", str(out), "--no-progress"]) == 2
    assert "not EELS" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--algorithm", "BOGUS", "-k", "3", "--out", "x.hspy"], "unknown algorithm 'BOGUS'"),
    (["--algorithm", "VCA", "-k", "3", "--out", "x.txt"], "--out x.txt"),
    (["--algorithm", "VCA", "-k", "0", "--out", "x.hspy"], "--n-components must be positive"),
    (["--algorithm", "VCA", "-k", "3", "--out", "x.hspy", "--chunk-mb", "-1"],
     "--chunk-mb must be positive"),
    (["-k", "3", "--out", "x.hspy", "--sample-chunks", "0.5"], "--sample-chunks needs --lazy"),
])
def test_unmix_options_checked_before_loading(tmp_path, capsys, args, message):
    # the input does not exist: an error about the options proves that they
    # were checked before the file was opened (and long before any fit)
    rc = main(["unmix", str(tmp_path / "missing.dm4"), *args, "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and "no such file" not in err


def test_pan_sharpen_and_restore_zlp_options_checked_before_loading(tmp_path, capsys):
    missing = str(tmp_path / "missing.dm4")
    assert main(["pan-sharpen", missing, missing, "--algorithm", "BOGUS",
                 "--out", "f.zspy"]) == 2
    assert "unknown algorithm" in capsys.readouterr().err
    assert main(["restore-zlp", missing, "--out", "r.zspy", "--iterations", "0"]) == 2
    assert "--iterations must be positive" in capsys.readouterr().err
    assert main(["restore-zlp", missing, "--out", "r.npy"]) == 2
    assert "--out r.npy" in capsys.readouterr().err


def test_help_is_plain_text_and_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for command in ("demo", "unmix", "restore-zlp", "pan-sharpen"):
        assert command in text
    assert "``" not in text and "::" not in text


def test_restore_zlp_verb_passes_richardson_lucy_options(tmp_path):
    import hyperspy.api as hs

    from hspy_unmix.io import save_atomic
    from hspy_unmix.synthetic.zlp import zlp_test_signal

    t = zlp_test_signal(shape=(3, 4), random_state=1)
    s = t[0] if isinstance(t, tuple) else t
    save_atomic(s, tmp_path / "ll.hspy")
    out = tmp_path / "restored.zspy"
    rc = main(["restore-zlp", str(tmp_path / "ll.hspy"), "--out", str(out),
               "--method", "richardson_lucy", "--iterations", "7",
               "--psf-half-width", "0.3", "--no-progress"])
    assert rc == 0
    restored = hs.load(out)
    eager = s.restore_zlp(method="richardson_lucy", iterations=7, psf_half_width=0.3)
    default = s.restore_zlp(method="richardson_lucy")
    np.testing.assert_allclose(restored.data, eager.data, rtol=1e-5, atol=1e-6)
    assert not np.allclose(eager.data, default.data, rtol=1e-3)


# --- .zspy from every real file ----------------------------------------------

def _real_spectrum_images():
    from conftest import SHARED_DATA

    if not SHARED_DATA.exists():
        return [pytest.param(None, marks=pytest.mark.skip(
            reason="real data file folder not available"))]
    files = sorted(p for p in SHARED_DATA.rglob("*")
                   if p.suffix.lower() in (".hspy", ".dm3", ".dm4"))
    return [pytest.param(p, id=p.name) for p in files]


def _flat_metadata(d, prefix=""):
    for key, value in d.items():
        if isinstance(value, dict):
            yield from _flat_metadata(value, prefix + key + ".")
        else:
            yield prefix + key, value


@pytest.mark.slow
@pytest.mark.parametrize("path", _real_spectrum_images())
def test_unmix_writes_zspy_from_every_real_file(path, tmp_path):
    import hyperspy.api as hs

    s = hs.load(path)
    if s.axes_manager.signal_dimension != 1 or s.axes_manager.navigation_size < 2:
        pytest.skip("real data file is not a spectrum image (nothing to unmix)")
    out = tmp_path / "out.zspy"
    args = ["unmix", str(path), "-k", "2", "--out", str(out), "--lazy", "--no-progress",
            "--random-state", "0"]
    if s.metadata.Signal.signal_type != "EELS":
        args += ["--signal-type", "EELS"]
    assert main(args) == 0
    for lazy in (False, True):
        back = hs.load(out, lazy=lazy)
        assert back.metadata.Signal.signal_type == "EELS"
        assert back.learning_results.decomposition_algorithm == "VCA"
        assert back.learning_results.factors.shape == (s.axes_manager.signal_size, 2)
        assert back.learning_results.loadings.shape == (s.axes_manager.navigation_size, 2)
    # every metadata value survives (numpy scalars such as frame_number included)
    original = dict(_flat_metadata(s.metadata.as_dictionary()))
    saved = dict(_flat_metadata(hs.load(out).metadata.as_dictionary()))
    for key, value in original.items():
        if key.startswith("General.FileIO") or key == "Signal.signal_type":
            continue
        assert key in saved, key
        if np.ndim(value) == 0 and isinstance(value, (int, float, np.number)):
            assert saved[key] == value, key


def _numeric_metadata(signal):
    return {key: value for key, value in _flat_metadata(signal.metadata.as_dictionary())
            if not key.startswith("General.FileIO") and np.ndim(value) == 0
            and isinstance(value, (int, float, np.number)) and not isinstance(value, bool)}


@pytest.mark.parametrize("verb", ["unmix", "restore-zlp", "pan-sharpen"])
def test_cli_zspy_keeps_numpy_scalar_metadata(tmp_path, verb):
    import hyperspy.api as hs

    core = shared_file("eels/CuZn_coreloss_SI_50x40.hspy")
    low = shared_file("eels/LSMO_lowloss_linescan_40.hspy")
    args = {"unmix": ["unmix", str(core), "-k", "2"],
            "restore-zlp": ["restore-zlp", str(low), "--method", "richardson_lucy",
                            "--iterations", "2"],
            "pan-sharpen": ["pan-sharpen", str(core), str(core), "-k", "2"]}[verb]
    s = hs.load(args[1])
    expected = _numeric_metadata(s)
    if verb != "restore-zlp":
        assert isinstance(s.metadata.Acquisition_instrument.TEM.Detector.EELS.frame_number,
                          np.integer)
    assert any(isinstance(v, np.generic) for v in expected.values())
    out = tmp_path / "out.zspy"
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    saved = _numeric_metadata(hs.load(out))
    for key, value in expected.items():
        assert key in saved and saved[key] == value, key


def test_pan_sharpen_verb_with_a_haadf_image(tmp_path, capsys):
    """The second file may be the ADF/HAADF image: fused SI on the image's grid."""
    import hyperspy.api as hs

    from hspy_unmix._lazy import save_atomic

    rng = np.random.default_rng(0)
    n, factor = 16, 2
    yy, xx = np.mgrid[:n, :n]
    frac = np.zeros((n, n, 2))
    frac[..., 0] = 1
    frac[(yy - 8) ** 2 + (xx - 6) ** 2 < 9] = [0, 1]
    e = np.arange(60.0)
    E = np.stack([np.exp(-e / 30) + 0.6 * (e > 20), np.exp(-e / 30) + 0.8 * (e > 40)])
    coarse = (frac @ E * 20).reshape(n // factor, factor, n // factor, factor, 60).mean((1, 3))
    s = hs.signals.Signal1D(rng.poisson(coarse).astype(float))
    s.set_signal_type("EELS")
    image = hs.signals.Signal2D(rng.poisson(2000 * frac @ np.array([0.2, 1.0]) + 100)
                                .astype(float))
    for ax in s.axes_manager.navigation_axes:
        ax.scale, ax.units = 1.0, "nm"
    for ax in image.axes_manager.signal_axes:
        ax.scale, ax.units = 1.0 / factor, "nm"
    save_atomic(s, tmp_path / "si.hspy")
    save_atomic(image, tmp_path / "haadf.hspy")
    out = tmp_path / "fused.zspy"
    rc = main(["pan-sharpen", str(tmp_path / "si.hspy"), str(tmp_path / "haadf.hspy"),
               "--out", str(out), "-k", "2", "--random-state", "0", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert "with the image" in capsys.readouterr().out
    fused = hs.load(out)
    assert fused.data.shape == (n, n, 60)  # the image's grid
    eager = s.pan_sharpen(image, n_components=2, random_state=0, show_progressbar=False)
    np.testing.assert_allclose(fused.data, eager.data, rtol=1e-6, atol=1e-9)
    # neither an SI nor one image: a clear error before any fit
    save_atomic(hs.signals.Signal2D(np.zeros((3, 4, 5))), tmp_path / "stack.hspy")
    rc = main(["pan-sharpen", str(tmp_path / "si.hspy"), str(tmp_path / "stack.hspy"),
               "--out", str(tmp_path / "x.zspy"), "--no-progress"])
    assert rc == 2
    assert "neither a spectrum image nor a single 2-D image" in capsys.readouterr().err
