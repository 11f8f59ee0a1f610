"""End to end: the unmixing form in a Voila page, driven by headless Chromium.

Needs voila, playwright (Python package) and a Chromium binary (Debian's
``chromium`` package, or the path in ``HSPY_UNMIX_CHROMIUM``). A screenshot is
saved under ``tests/gui/artifacts/``.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = pathlib.Path(__file__).parent / "artifacts"

NOTEBOOK_CELLS = [
    "import hspy_unmix\n"
    "from hspy_unmix.synthetic import chequerboard_si\n"
    "s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)",
    "s.unmix_gui(toolkit='ipywidgets', algorithm='VCA', n_components=3)",
]

#: The pan-sharpening form, and a button showing what the notebook holds
#: under the stored name afterwards (the user's next cell, in a dashboard).
PAN_SHARPEN_CELLS = [
    NOTEBOOK_CELLS[0] + "\nhifi = s.inav[::2, ::2]",
    "s.pan_sharpen_gui(toolkit='ipywidgets', other_candidates={'hifi': hifi},\n"
    "                  n_components=3)",
    "import ipywidgets\n"
    "probe, shown = ipywidgets.Button(description='Show stored'), ipywidgets.HTML()\n"
    "probe.on_click(lambda _b: setattr(shown, 'value', 'stored: ' + repr(\n"
    "    globals().get('s_pansharpened')).replace('<', '[').replace('>', ']')))\n"
    "shown.add_class('probe-output')\n"
    "ipywidgets.VBox([probe, shown])",
]


def _chromium():
    candidates = [os.environ.get("HSPY_UNMIX_CHROMIUM"), shutil.which("chromium"),
                  shutil.which("chromium-browser"), shutil.which("google-chrome")]
    for path in candidates:
        if path and os.path.exists(path):
            return path
    pytest.skip("no Chromium binary (apt-get install chromium)")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _notebook(path, sources):
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": source}
        for source in sources
    ]
    path.write_text(json.dumps({
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }))


@pytest.fixture
def voila_url(tmp_path, request):
    pytest.importorskip("voila")
    notebook = tmp_path / "form.ipynb"
    _notebook(notebook, getattr(request, "param", NOTEBOOK_CELLS))
    port = _free_port()
    env = dict(os.environ, MPLBACKEND="agg", PYTHONWARNINGS="ignore",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "voila.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", str(notebook), "--no-browser",
         f"--port={port}", "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(url + "voila/static/", timeout=1)
            except urllib.error.HTTPError:
                break  # the server answers
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    pytest.fail("voila did not start:\n" + (tmp_path / "voila.log").read_text())
                time.sleep(0.3)
            else:
                break
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_unmixing_form_runs_in_browser(voila_url):
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(voila_url, timeout=60_000)
            form = page.locator(".hspy-unmix-form")
            form.wait_for(timeout=60_000)
            assert "Spectral unmixing" in form.inner_text()
            assert "snr_input" in form.inner_text()  # VCA's own parameter
            form.get_by_role("button", name="Run").click()
            results = page.locator("table.hspy-unmix-results")
            results.wait_for(timeout=45_000)
            text = results.inner_text()
            assert "VCA: factors (200, 3), loadings (1024, 3)" in text
            assert text.count("Endmember") == 3
            image = form.locator("img").first
            image.wait_for(timeout=10_000)
            assert image.evaluate("img => img.naturalWidth") > 100
            assert "Done: VCA with 3 components" in form.inner_text()
            page.screenshot(path=str(ARTIFACTS / "unmixing_voila.png"), full_page=True)
        finally:
            browser.close()


@pytest.mark.parametrize("voila_url", [PAN_SHARPEN_CELLS], indirect=True)
def test_pan_sharpen_result_is_stored_for_the_notebook(voila_url):
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(voila_url, timeout=90_000)
            form = page.locator(".hspy-unmix-form")
            form.wait_for(timeout=90_000)
            assert "Pan-sharpening" in form.inner_text()
            form.get_by_role("button", name="Run").click()
            page.get_by_text("Stored as the variable s_pansharpened").wait_for(
                timeout=120_000)
            page.get_by_role("button", name="Show stored").click()
            output = page.locator(".probe-output")
            page.wait_for_function(
                "() => document.querySelector('.probe-output').innerText.includes('EELS')",
                timeout=20_000,
            )
            assert "Pan-sharpened" in output.inner_text()
            assert "(32, 32|200)" in output.inner_text()
            page.screenshot(path=str(ARTIFACTS / "pan_sharpen_voila.png"), full_page=True)
            form.get_by_role("button", name="Close").click()
            form.wait_for(state="detached", timeout=20_000)
        finally:
            browser.close()
