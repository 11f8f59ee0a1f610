"""Screenshots of the GUI forms for the user guide (``docs/_static/gui/``).

Run from the repository root (CPU, a few minutes)::

    python scripts/make_gui_screenshots.py [--forms unmix restore_zlp ...]

Each form is opened in a notebook served by Voila, as a microscopist would
use it in a dashboard, and captured by headless Chromium (playwright)
twice: ``<form>_before.png`` as it opens (with its live preview where it
has one) and ``<form>_after.png`` after Run. The PNGs are reduced to 256
colours so that each stays well under 300 kB.

Needs the ``gui`` and ``tests`` extras (voila, playwright) and a Chromium
binary (``apt-get install chromium``, or ``--chromium PATH``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "docs/_static/gui"
#: Largest size of a committed screenshot.
MAX_BYTES = 300_000

CHEQUERBOARD = (
    "import hspy_unmix\n"
    "from hspy_unmix.synthetic import chequerboard_si\n"
    "s, truth = chequerboard_si(n_components=3, shape=(32, 32), random_state=0)\n"
    "s.metadata.General.title = 'Core-loss SI'"
)

#: form name -> (notebook cells, what "ready before Run" looks like, what
#: "done" looks like): the two are texts that the form shows.
FORMS = {
    "unmix": (
        [CHEQUERBOARD, "s.unmix_gui(toolkit='ipywidgets')"],
        "channels used",
        "Done: VCA",
    ),
    "restore_zlp": (
        [
            "import hspy_unmix\n"
            "from hspy_unmix.synthetic import zlp_test_signal\n"
            "s, truth = zlp_test_signal((4, 5), random_state=0)",
            "s.restore_zlp_gui(toolkit='ipywidgets')",
        ],
        "ready in",
        "Stored as the variable s_restored",
    ),
    "pan_sharpen": (
        [
            "import hspy_unmix\n"
            "from hspy_unmix.synthetic import pan_sharpening_pair\n"
            "s, hifi, truth = pan_sharpening_pair(n_components=3, random_state=0)\n"
            "s.metadata.General.title = 'Low-dose SI, 0.5 nm steps'\n"
            "hifi.metadata.General.title = 'High-dose SI, 2 nm steps'",
            "s.pan_sharpen_gui(toolkit='ipywidgets', n_components=3)",
        ],
        "Ready.",
        "Stored as the variable s_pansharpened",
    ),
    "n_components": (
        [CHEQUERBOARD, "s.estimate_n_components_gui(toolkit='ipywidgets', max_components=6)"],
        "Ready.",
        "Suggested number of components",
    ),
}


def chromium_path(explicit=None) -> str:
    for path in (explicit, os.environ.get("HSPY_UNMIX_CHROMIUM"), shutil.which("chromium"),
                 shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if path and os.path.exists(path):
            return path
    raise SystemExit("no Chromium binary: apt-get install chromium, or pass --chromium")


def write_notebook(path: pathlib.Path, sources) -> None:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": source} for source in sources]
    path.write_text(json.dumps({
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def voila_server(path: pathlib.Path, timeout: float = 60):
    """Serve the notebook ``path``, or the notebooks of the folder ``path``,
    with Voila; yield the base URL once the server answers.

    The log (``voila.log``) and Jupyter's runtime files go beside the
    notebook (in the folder). ``RuntimeError`` with the log if Voila ends or
    does not answer within ``timeout`` seconds. Also used by
    ``tests/gui/test_browser.py``.
    """
    folder = path if path.is_dir() else path.parent
    port = _free_port()
    env = dict(os.environ, MPLBACKEND="agg", PYTHONWARNINGS="ignore",
               TF_CPP_MIN_LOG_LEVEL="2", JUPYTER_RUNTIME_DIR=str(folder / "runtime"))
    log = open(folder / "voila.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", str(path), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                # a static file: asking for the page itself would run the
                # notebook of a single-notebook server
                urllib.request.urlopen(url + "voila/static/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # the server answers
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError("voila did not start:\n" + (folder / "voila.log").read_text())
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def small_png(png: bytes, path: pathlib.Path, max_bytes: int = MAX_BYTES) -> int:
    """Save ``png`` reduced to a palette (256 colours, fewer if needed); return its size."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 128, 64, 32):
        buffer = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.FASTOCTREE).save(
            buffer, format="PNG", optimize=True)
        if buffer.tell() <= max_bytes:
            break
    path.write_bytes(buffer.getvalue())
    return buffer.tell()


def _wait_for_text(page, text: str, timeout: float) -> None:
    page.wait_for_function(
        "text => document.querySelector('.hspy-unmix-form').innerText.includes(text)",
        arg=text, timeout=timeout)


def capture(page, url: str, name: str, ready: str, done: str, out: pathlib.Path,
            timeout: float = 180_000) -> list[tuple[pathlib.Path, int]]:
    """Open one form, screenshot it before and after Run."""
    page.goto(url, timeout=timeout)
    form = page.locator(".hspy-unmix-form").first
    form.wait_for(timeout=timeout)
    _wait_for_text(page, ready, timeout)
    page.wait_for_timeout(800)  # let the preview canvas paint
    saved = []
    target = out / f"{name}_before.png"
    saved.append((target, small_png(form.screenshot(), target)))
    form.get_by_role("button", name="Run").click()
    _wait_for_text(page, done, timeout)
    page.wait_for_function(
        "() => { const img = document.querySelector('.hspy-unmix-form img.hspy-unmix-figure');"
        " return img && img.complete && img.naturalWidth > 0"
        " && getComputedStyle(img).display !== 'none'; }", timeout=timeout)
    page.wait_for_timeout(800)
    target = out / f"{name}_after.png"
    saved.append((target, small_png(form.screenshot(), target)))
    return saved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forms", nargs="+", choices=sorted(FORMS), default=list(FORMS))
    parser.add_argument("--output", type=pathlib.Path, default=OUT)
    parser.add_argument("--chromium", default=None, help="path of the Chromium binary")
    parser.add_argument("--width", type=int, default=1150, help="page width (CSS pixels)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    chromium = chromium_path(args.chromium)
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hspy-unmix-gui-") as tmp:
        folder = pathlib.Path(tmp)
        for name in args.forms:
            write_notebook(folder / f"{name}.ipynb", FORMS[name][0])
        with voila_server(folder) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            try:
                for name in args.forms:
                    _cells, ready, done = FORMS[name]
                    # tall enough for the whole form: Voila's page scrolls
                    # inside a panel, which element screenshots do not follow
                    page = browser.new_page(viewport={"width": args.width, "height": 2600},
                                            device_scale_factor=1)
                    try:
                        for path, size in capture(page, f"{url}voila/render/{name}.ipynb",
                                                  name, ready, done, args.output):
                            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
                                  f": {size / 1000:.0f} kB")
                    finally:
                        page.close()
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
