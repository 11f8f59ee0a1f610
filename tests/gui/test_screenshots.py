"""The GUI page's screenshots: one before and one after Run for every form."""

from __future__ import annotations

import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_gui_screenshots.py"
PAGE = ROOT / "docs" / "user_guide" / "gui.md"
STATIC = ROOT / "docs" / "_static" / "gui"


def _script():
    spec = importlib.util.spec_from_file_location("make_gui_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_every_form_has_small_screenshots_referenced_by_the_gui_page():
    script = _script()
    # every form that a signal opens is captured
    from hspy_unmix.gui import SIGNAL_METHODS

    assert len(script.FORMS) == len(SIGNAL_METHODS)
    page = PAGE.read_text()
    referenced = set(re.findall(r"\(\.\./_static/gui/([\w]+\.png)\)", page))
    for name in script.FORMS:
        for when in ("before", "after"):
            path = STATIC / f"{name}_{when}.png"
            assert path.exists(), path
            assert path.stat().st_size < 300_000, path
            width, height = _png_size(path)
            assert width > 300 and height > 80, (path, width, height)
            assert path.name in referenced, f"{path.name} is not shown on the GUI page"
    # and the page shows nothing that is not there
    for name in referenced:
        assert (STATIC / name).exists(), name


@pytest.mark.browser
@pytest.mark.slow
def test_screenshot_script_captures_a_form(tmp_path):
    pytest.importorskip("voila")
    pytest.importorskip("playwright.sync_api")
    script = _script()
    try:
        script.chromium_path()
    except SystemExit:
        pytest.skip("no Chromium binary (apt-get install chromium)")
    assert script.main(["--forms", "pan_sharpen", "--output", str(tmp_path)]) == 0
    before, after = tmp_path / "pan_sharpen_before.png", tmp_path / "pan_sharpen_after.png"
    assert before.stat().st_size < 300_000 and after.stat().st_size < 300_000
    # after Run the form is taller: the table and the figure were captured
    assert _png_size(after)[1] > _png_size(before)[1] + 200
