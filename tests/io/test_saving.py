"""The package's .zspy writers are quiet about zarr 2's store deprecation; a
user's own ``save`` is left as RosettaSciIO and zarr make it."""

from __future__ import annotations

import warnings

import pytest

import hspy_unmix  # noqa: F401  (activates the EELS methods)
from hspy_unmix.io import save_atomic, write_zspy
from hspy_unmix.synthetic import chequerboard_si

STORE_WARNING = "NestedDirectoryStore is deprecated"


def _store_warnings(write):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write()
    return [w for w in caught if STORE_WARNING in str(w.message)]


@pytest.fixture(scope="module")
def si():
    s, _ = chequerboard_si(n_components=3, shape=(8, 8), block=4, averaging=3, random_state=0)
    return s


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_own_writers_hide_only_the_store_warning(si, tmp_path, lazy):
    s = si.as_lazy() if lazy else si
    filters = list(warnings.filters)
    # the pinned zarr 2 warns on every .zspy that RosettaSciIO writes...
    plain = _store_warnings(lambda: s.save(tmp_path / "plain.zspy", overwrite=True))
    assert plain and all(w.category is FutureWarning for w in plain)
    # ...but not through the package's writers
    assert not _store_warnings(lambda: save_atomic(s, tmp_path / "atomic.zspy"))
    assert not _store_warnings(lambda: write_zspy(s, tmp_path / "direct.zspy",
                                                  show_progressbar=False))
    # and nothing was silenced beyond them
    assert warnings.filters == filters
    again = _store_warnings(lambda: s.save(tmp_path / "plain.zspy", overwrite=True))
    assert len(again) == len(plain)
    for name in ("atomic.zspy", "direct.zspy"):
        assert (tmp_path / name / ".zgroup").exists(), name


def test_other_warnings_of_a_write_still_show(si, tmp_path, monkeypatch):
    def save(self, filename, *args, **kwargs):
        open(filename, "w").close()
        warnings.warn("The NestedDirectoryStore is deprecated (a store warning)", FutureWarning)
        warnings.warn("something else about this file", UserWarning)

    monkeypatch.setattr(type(si), "save", save)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_atomic(si, tmp_path / "x.zspy")
    assert [str(w.message) for w in caught] == ["something else about this file"]


@pytest.mark.parametrize("show", [False, True])
def test_lazy_signals_in_metadata_follow_show_progressbar(tmp_path, capsys, show):
    import hyperspy.api as hs
    import numpy as np

    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((4, 3), random_state=0)
    s.data[0, 0] = 0.0
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((1, 3, -1))
    out = lazy.restore_zlp(method="richardson_lucy", iterations=2)
    capsys.readouterr()
    save_atomic(out, tmp_path / "r.zspy", show_progressbar=show)
    printed = "".join(capsys.readouterr())
    # bars for the flags and the data when asked for ("100% Completed",
    # "100%|####|"); none otherwise (the writer drew one for the flags)
    assert ("100%" in printed) is show, printed
    flags = out.metadata.Signal.restore_zlp.flags
    assert flags._lazy  # the signal saved is not changed
    back = hs.load(tmp_path / "r.zspy")
    np.testing.assert_array_equal(back.metadata.Signal.restore_zlp.flags.data,
                                  [[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(back.data, out.data.compute(), rtol=1e-6)


def test_zspy_written_with_lz4_unless_a_compressor_is_given(si, tmp_path):
    import numcodecs
    import zarr

    def codec(store):
        group = zarr.open_group(str(store), mode="r")
        (name,) = list(group["Experiments"].group_keys())
        return group["Experiments"][name]["data"].compressor

    lazy = si.as_lazy()
    save_atomic(lazy, tmp_path / "a.zspy")
    write_zspy(si, tmp_path / "w.zspy", show_progressbar=False)
    for name in ("a.zspy", "w.zspy"):
        c = codec(tmp_path / name)
        assert (c.cname, c.clevel, c.shuffle) == ("lz4", 5, numcodecs.Blosc.SHUFFLE), name
    zstd = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)
    save_atomic(lazy, tmp_path / "z.zspy", compressor=zstd)
    assert (codec(tmp_path / "z.zspy").cname, codec(tmp_path / "z.zspy").clevel) == ("zstd", 3)
    # compressor=None: RosettaSciIO's own default (Blosc-Zstd level 1)
    save_atomic(lazy, tmp_path / "d.zspy", compressor=None)
    assert (codec(tmp_path / "d.zspy").cname, codec(tmp_path / "d.zspy").clevel) == ("zstd", 1)
    import hyperspy.api as hs
    import numpy as np

    for name in ("a.zspy", "w.zspy", "z.zspy", "d.zspy"):
        np.testing.assert_array_equal(hs.load(tmp_path / name).data, si.data)
    # other formats get no zarr codec
    save_atomic(si, tmp_path / "h.hspy")
    np.testing.assert_array_equal(hs.load(tmp_path / "h.hspy").data, si.data)
