"""End to end: the forms in a Voila page, driven by headless Chromium.

Needs voila, playwright (Python package) and a Chromium binary (Debian's
``chromium`` package, or the path in ``HSPY_UNMIX_CHROMIUM``). A screenshot is
saved under ``tests/gui/artifacts/``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import pathlib
import re
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = pathlib.Path(__file__).parent / "artifacts"
SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "make_gui_screenshots.py"


def _load_script():
    """The screenshot script: its Voila server, notebook writer and Chromium
    look-up serve these tests too."""
    spec = importlib.util.spec_from_file_location("make_gui_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SCRIPT = _load_script()


def _probe_cell(expression):
    """A button showing ``repr(expression)`` from the notebook (the user's next cell)."""
    return (
        "import ipywidgets\n"
        "probe, shown = ipywidgets.Button(description='Show stored'), ipywidgets.HTML()\n"
        "probe.on_click(lambda _b: setattr(shown, 'value', 'stored: ' + repr(\n"
        f"    {expression}).replace('<', '[').replace('>', ']')))\n"
        "shown.add_class('probe-output')\n"
        "ipywidgets.VBox([probe, shown])"
    )


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
    _probe_cell("globals().get('s_pansharpened')"),
]

#: The zero-loss restoration form on a small near-zero-loss SI.
RESTORE_ZLP_CELLS = [
    "import hspy_unmix\n"
    "from hspy_unmix.synthetic import zlp_test_signal\n"
    "s, truth = zlp_test_signal((4, 5), random_state=0)",
    "s.restore_zlp_gui(toolkit='ipywidgets')",
    _probe_cell("globals().get('s_restored')"),
]

#: The number-of-components form, then an unmixing form opened afterwards
#: (its K is the estimate's suggestion).
N_COMPONENTS_CELLS = [
    NOTEBOOK_CELLS[0],
    "s.estimate_n_components_gui(toolkit='ipywidgets', max_components=6)",
    "import ipywidgets\n"
    "opener, area = ipywidgets.Button(description='Open unmixing'), ipywidgets.Output()\n"
    "def _open(_b):\n"
    "    with area:\n"
    "        s.unmix_gui(toolkit='ipywidgets')\n"
    "opener.on_click(_open)\n"
    "ipywidgets.VBox([opener, area])",
]

#: Records, every 40 ms, what the form shows: progress bar width (its style,
#: not the animated computed width), progress label, status, whether a
#: results table and a figure are on the page.
RECORDER = """
(root) => {
  window.__hspyLog = [];
  const form = document.querySelectorAll('.hspy-unmix-form')[root];
  const snap = () => {
    const bar = form.querySelector('.hspy-unmix-progress .progress-bar');
    const label = form.querySelector('.hspy-unmix-progress-label');
    const status = form.querySelector('.hspy-unmix-status');
    const image = form.querySelector('.hspy-unmix-figure');
    window.__hspyLog.push({
      width: bar ? bar.style.width : null,
      label: label ? label.innerText : '',
      status: status ? status.innerText : '',
      tables: form.querySelectorAll('table.hspy-unmix-results').length,
      figure: !!image && getComputedStyle(image).display !== 'none',
    });
  };
  snap();
  window.__hspyTimer = setInterval(snap, 40);
}
"""


def _records(page):
    page.evaluate("() => clearInterval(window.__hspyTimer)")
    return page.evaluate("() => window.__hspyLog")


def _label_fraction(label):
    """Fraction a progress label states ("desc: n/total"; "converged after...",
    "completed": 1), None for other labels."""
    match = re.search(r"(\d+)/(\d+)\s*$", label)
    if match:
        return int(match.group(1)) / int(match.group(2))
    if "converged after" in label or label == "completed":
        return 1.0
    return None


def _assert_progress_consistent(records):
    """The bar and its label agree in every snapshot, and at the end.

    The bar and the label are two widgets, so two messages: the bar, set
    first, may lead the label by one update; it never disagrees otherwise.
    """
    checked = 0
    for i, record in enumerate(records):
        if not record["width"]:
            continue
        width = float(record["width"].rstrip("%")) / 100
        allowed = {_label_fraction(record["label"])}
        later = [r["label"] for r in records[i + 1:] if r["label"] != record["label"]]
        if later:
            allowed.add(_label_fraction(later[0]))
        if record["label"] == "":
            allowed.add(0.0)  # a run starting: both reset
        allowed.discard(None)
        if not allowed:
            continue
        assert any(abs(width - f) <= 0.011 for f in allowed), (record, allowed)
        checked += 1
    final = records[-1]
    assert final["width"] == "100%", final
    assert _label_fraction(final["label"]) == 1.0, final
    return checked


def _assert_cleared_then_shown(records):
    """The previous run's table and figure left the page before the new ones came."""
    first = records[0]
    assert first["tables"] == 1 and first["figure"], first
    cleared = [i for i, r in enumerate(records) if r["tables"] == 0 and not r["figure"]]
    assert cleared, "the previous results stayed on the page during the run"
    assert records[-1]["tables"] == 1 and records[-1]["figure"]
    shown_again = [i for i, r in enumerate(records) if i > cleared[0] and r["tables"] == 1]
    assert shown_again and min(shown_again) > cleared[0]


def _settled_text(locator, quiet_ms=1500, timeout_s=60):
    """The locator's text once it has not changed for ``quiet_ms``."""
    deadline = time.time() + timeout_s
    text, since = locator.inner_text(), time.time()
    while time.time() < deadline:
        locator.page.wait_for_timeout(200)
        now = locator.inner_text()
        if now != text:
            text, since = now, time.time()
        elif time.time() - since >= quiet_ms / 1000:
            return text
    return text


def _assert_native_size(image):
    """The figure is shown at its own size: one CSS pixel per two PNG pixels."""
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0 && getComputedStyle(img).display !== 'none'",
        arg=image.element_handle(timeout=30_000), timeout=30_000)
    size = image.evaluate(
        "img => ({natural: img.naturalWidth, shown: img.getBoundingClientRect().width,"
        " naturalHeight: img.naturalHeight, shownHeight: img.getBoundingClientRect().height})"
    )
    assert size["natural"] > 100, size
    assert abs(size["shown"] * 2 - size["natural"]) <= 2, size
    assert abs(size["shownHeight"] * 2 - size["naturalHeight"]) <= 2, size
    return size


def _chromium():
    try:
        return _SCRIPT.chromium_path()
    except SystemExit:
        pytest.skip("no Chromium binary (apt-get install chromium)")


@pytest.fixture
def voila_url(tmp_path, request):
    pytest.importorskip("voila")
    notebook = tmp_path / "form.ipynb"
    _SCRIPT.write_notebook(notebook, getattr(request, "param", NOTEBOOK_CELLS))
    with _SCRIPT.voila_server(notebook, timeout=30) as url:
        yield url


@contextlib.contextmanager
def _page(url, timeout=90_000):
    """A headless Chromium page on the Voila dashboard, the forms displayed."""
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(url, timeout=timeout)
            page.locator(".hspy-unmix-form").first.wait_for(timeout=timeout)
            yield page
        finally:
            browser.close()


def test_unmixing_form_runs_in_browser(voila_url):
    with _page(voila_url) as page:
        form = page.locator(".hspy-unmix-form")
        assert "Spectral unmixing" in form.inner_text()
        assert "snr_input" in form.inner_text()  # VCA's own parameter
        page.evaluate(RECORDER, 0)
        form.get_by_role("button", name="Run").click()
        results = page.locator("table.hspy-unmix-results")
        results.wait_for(timeout=45_000)
        text = results.inner_text()
        assert "VCA: factors (200, 3), loadings (1024, 3)" in text
        assert text.count("Endmember") == 3
        image = form.locator("img.hspy-unmix-figure")
        image.wait_for(timeout=10_000)
        _assert_native_size(image)
        assert "Done: VCA with 3 components" in form.inner_text()
        _assert_progress_consistent(_records(page))
        page.screenshot(path=str(ARTIFACTS / "unmixing_voila.png"), full_page=True)

        # live preview (ipympl): the energy range dragged on the figure
        caption = form.locator(".hspy-unmix-preview-caption")
        assert "200 of 200 channels used" in caption.inner_text()
        canvas = form.locator(".hspy-unmix-preview-figure canvas").last
        box = canvas.bounding_box()
        assert box and box["width"] > 300
        y = box["y"] + box["height"] * 0.45
        page.mouse.move(box["x"] + box["width"] * 0.35, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
        page.mouse.up()
        page.wait_for_function(
            "() => !document.querySelector('.hspy-unmix-preview-caption')"
            ".innerText.includes('200 of 200')", timeout=60_000)
        # mouse events reach the kernel one by one: read the range once settled
        text = _settled_text(caption)
        used = int(re.search(r"(\d+) of 200 channels used", text).group(1))
        assert 20 < used < 120, text
        start = float(_number_input(form, "Energy from (eV)").input_value())
        end = float(_number_input(form, "to").input_value())
        assert 250 < start < end < 913, (start, end)
        assert f"Energy range {start:.4g} to {end:.4g} eV" in caption.inner_text()


@pytest.mark.parametrize("voila_url", [PAN_SHARPEN_CELLS], indirect=True)
def test_pan_sharpen_result_is_stored_for_the_notebook(voila_url):
    with _page(voila_url) as page:
        form = page.locator(".hspy-unmix-form")
        assert "Pan-sharpening" in form.inner_text()
        # the list shows what each candidate is
        other = form.locator("select").first
        assert "hifi: Synthetic chequerboard SI (3 components) (16x16 px, 200 ch" in (
            other.evaluate("s => s.options[s.selectedIndex].text").replace("\xa0", " "))
        form.get_by_role("button", name="Run").click()
        page.get_by_text("Stored as the variable s_pansharpened").wait_for(timeout=120_000)
        _assert_native_size(form.locator("img.hspy-unmix-figure"))
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


def _number_input(form, label):
    """The number box whose description is ``label``."""
    return form.locator(".widget-inline-hbox", has=form.page.get_by_text(label, exact=True)
                        ).locator("input").first


@pytest.mark.parametrize("voila_url", [RESTORE_ZLP_CELLS], indirect=True)
def test_restore_zlp_form_runs_and_stores_in_browser(voila_url):
    with _page(voila_url) as page:
        form = page.locator(".hspy-unmix-form")
        assert "Zero-loss restoration" in form.inner_text()
        iterations = _number_input(form, "Iterations (RL)")
        # the U-net is selected: its number of iterations does not apply
        assert form.get_by_role("button", name="unet").get_attribute("class").count(
            "mod-active")
        assert iterations.is_disabled()
        page.evaluate(RECORDER, 0)
        form.get_by_role("button", name="Run").click()
        page.get_by_text("Stored as the variable s_restored").wait_for(timeout=300_000)
        assert "Done: restore_zlp (unet)" in form.inner_text()
        table = form.locator("table.hspy-unmix-results")
        assert "unet" in table.inner_text() and "(4, 5, 2048)" in table.inner_text()
        image = form.locator("img.hspy-unmix-figure")
        _assert_native_size(image)
        _assert_progress_consistent(_records(page))
        page.get_by_role("button", name="Show stored").click()
        page.wait_for_function(
            "() => document.querySelector('.probe-output').innerText.includes('EELS')",
            timeout=20_000,
        )
        assert "ZLP restored" in page.locator(".probe-output").inner_text()
        assert "(5, 4|2048)" in page.locator(".probe-output").inner_text()
        page.screenshot(path=str(ARTIFACTS / "restore_zlp_voila.png"), full_page=True)

        # live preview at the current pixel, drawn on an ipympl canvas
        caption = form.locator(".hspy-unmix-preview-caption")
        page.wait_for_function(
            "() => document.querySelector('.hspy-unmix-preview-caption')"
            ".innerText.includes('ready')", timeout=300_000)
        assert "Preview at pixel (0, 0) (unet): ready" in caption.inner_text()
        assert form.locator(".hspy-unmix-preview-figure canvas").count() >= 1

        # Richardson-Lucy: the iterations apply; the previous results leave the
        # page while the new run goes on
        form.get_by_role("button", name="richardson_lucy").click()
        page.wait_for_function(
            "() => document.querySelector('.hspy-unmix-preview-caption')"
            ".innerText.includes('(richardson_lucy, 50 iterations): ready')",
            timeout=180_000)
        page.wait_for_function(
            "(el) => !el.disabled", arg=iterations.element_handle(), timeout=10_000)
        iterations.fill("400")
        iterations.press("Enter")
        page.evaluate(RECORDER, 0)
        form.get_by_role("button", name="Run").click()
        page.get_by_text("Done: restore_zlp (richardson_lucy)").wait_for(timeout=300_000)
        form.locator("table.hspy-unmix-results").wait_for(timeout=20_000)
        page.wait_for_timeout(300)
        records = _records(page)
        _assert_cleared_then_shown(records)
        _assert_progress_consistent(records)
        assert "richardson_lucy" in form.locator("table.hspy-unmix-results").inner_text()
        assert "400" in form.locator("table.hspy-unmix-results").inner_text()
        _assert_native_size(image)
        assert "(richardson_lucy, 400 iterations): ready" in caption.inner_text()


@pytest.mark.parametrize("voila_url", [N_COMPONENTS_CELLS], indirect=True)
def test_n_components_form_runs_and_its_k_reaches_the_unmixing_form(voila_url):
    with _page(voila_url) as page:
        form = page.locator(".hspy-unmix-form")
        assert "Number of components" in form.inner_text()
        page.evaluate(RECORDER, 0)
        form.get_by_role("button", name="Run").click()
        table = form.locator("table.hspy-unmix-results")
        table.wait_for(timeout=300_000)
        # the chequerboard SI has 3 endmembers
        assert re.search(r"Suggested number of components\s+3", table.inner_text())
        _assert_native_size(form.locator("img.hspy-unmix-figure"))
        _assert_progress_consistent(_records(page))
        page.screenshot(path=str(ARTIFACTS / "n_components_voila.png"), full_page=True)
        # the result is reachable where it is used: a new unmixing form starts at K = 3
        page.get_by_role("button", name="Open unmixing").click()
        unmixing = page.locator(".hspy-unmix-form", has_text="Spectral unmixing")
        unmixing.wait_for(timeout=60_000)
        assert "from the number-of-components estimate" in unmixing.inner_text()
        k = _number_input(unmixing, "Components (K)")
        assert k.input_value() == "3"
