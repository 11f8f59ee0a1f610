"""The gallery: real-data examples left out, with a note, when their files are missing."""

import pathlib
import re
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONF = runpy.run_path(str(ROOT / "docs" / "conf.py"))


def _title(example: pathlib.Path) -> str:
    docstring = example.read_text().split('"""')[1]
    return docstring.strip().splitlines()[0]


def test_every_real_data_example_is_named_with_its_files():
    examples = {p.name: p for p in (ROOT / "examples").rglob("plot_*.py")}
    for name, files in CONF["REAL_DATA_EXAMPLES"].items():
        assert name in examples
        source = examples[name].read_text()
        assert all(f in source for f in files), name
    # every example that reads shared/data is in the list
    readers = {n for n, p in examples.items() if "shared/data" in p.read_text()}
    assert readers == set(CONF["REAL_DATA_EXAMPLES"])


def test_missing_files_leave_the_example_out_and_the_index_says_so(tmp_path):
    header = (ROOT / "examples" / "GALLERY_HEADER.rst").read_text()
    note = header.split(".. only:: not real_data", 1)[1]
    examples = {p.name: p for p in (ROOT / "examples").rglob("plot_*.py")}
    flat = " ".join(note.split())
    for name in CONF["REAL_DATA_EXAMPLES"]:
        assert _title(examples[name]) in flat
    # a build without the files: every real-data example left out, no other
    missing = CONF["_missing_real_data"](None)
    assert missing == sorted(CONF["REAL_DATA_EXAMPLES"])
    ignore = re.compile(CONF["_gallery_ignore"](missing))
    for name in missing:
        assert ignore.search(str(examples[name]))
    others = [p for n, p in examples.items() if n not in missing]
    assert others and not any(ignore.search(str(p)) for p in others)
    # the files present: nothing left out
    for files in CONF["REAL_DATA_EXAMPLES"].values():
        for f in files:
            (tmp_path / f).touch()
    assert CONF["_missing_real_data"](tmp_path) == []
