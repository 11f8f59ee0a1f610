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
    next(iter(sorted((path / "Experiments").rglob("data/[0-9]*")))).unlink()
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
