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
