"""The declared dependency bounds follow what RosettaSciIO supports."""

from __future__ import annotations

import pathlib
import re
from importlib.metadata import requires, version

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _own_requirement(name: str) -> Requirement:
    with open(ROOT / "pyproject.toml", "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    found = [Requirement(d) for d in deps if Requirement(d).name == name]
    assert len(found) == 1, f"pyproject.toml declares {name} {len(found)} times"
    return found[0]


def _rosettasciio_requirement(name: str, extra: str) -> Requirement:
    for text in requires("rosettasciio") or []:
        req = Requirement(text)
        if req.name == name and req.marker is not None and req.marker.evaluate(
            {"extra": extra}
        ):
            return req
    pytest.fail(f"rosettasciio {version('rosettasciio')} has no {name} in [{extra}]")


def test_zarr_bound_matches_rosettasciio_zspy_extra():
    """``.zspy`` is written by RosettaSciIO: our zarr bound is its bound."""
    ours = _own_requirement("zarr").specifier
    theirs = _rosettasciio_requirement("zarr", "zspy").specifier
    assert ours == theirs, (
        f"pyproject.toml has zarr{ours}, rosettasciio {version('rosettasciio')} "
        f"supports zarr{theirs} for .zspy"
    )


def test_installed_zarr_is_one_rosettasciio_supports():
    theirs = _rosettasciio_requirement("zarr", "zspy").specifier
    assert Version(version("zarr")) in theirs


def test_rosettasciio_lower_bound_is_the_one_checked():
    """The zarr check above was written against RosettaSciIO 0.15's API."""
    spec = _own_requirement("rosettasciio").specifier
    assert re.search(r">=\s*0\.15", str(spec))
