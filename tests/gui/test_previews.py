"""Live previews of the ipywidgets forms (ipympl canvases, PNG without ipympl)."""

from __future__ import annotations

import numpy as np
import pytest

ipywidgets = pytest.importorskip("ipywidgets")

from hspy_unmix.gui import _previews  # noqa: E402


def _ipy(signal, method, **kwargs):
    return getattr(signal, method)(display=False, toolkit="ipywidgets", **kwargs)["ipywidgets"]


@pytest.fixture
def zlp_si():
    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((4, 5), random_state=0)
    return s


@pytest.fixture
def fake_restore(zlp_si, monkeypatch):
    """restore_zlp replaced by "twice the counts", recording each call's shape."""
    calls = []

    def restore(self, model=None, method="unet", *, iterations=50, show_progressbar=None):
        calls.append((method, iterations, self.data.shape))
        out = self.deepcopy()
        out.data = out.data * 2.0
        return out

    monkeypatch.setattr(type(zlp_si), "restore_zlp", restore)
    return calls


def test_energy_range_preview_follows_the_boxes_and_the_span(eels3):
    pytest.importorskip("ipympl")
    s, _ = eels3
    mask = np.zeros(s.axes_manager.signal_size, dtype=bool)
    mask[50:60] = True
    w = _ipy(s, "unmix_gui", masks={"edge": mask})
    preview = w["wdict"]["preview"]
    from ipympl.backend_nbagg import Canvas

    assert isinstance(preview.live.widget, Canvas)  # zoom, pan, drag in the page
    assert preview.selector is not None
    assert preview.live.draws == 0  # nothing drawn before the form is shown
    preview.start()
    energies = s.axes_manager.signal_axes[0].axis
    assert f"{energies.size} of {energies.size} channels used" in preview.caption.value
    # typed range: the shading moves
    w["wdict"]["energy_start"].value = float(energies[40])
    w["wdict"]["energy_end"].value = float(energies[120])
    assert "81 of 200 channels used" in preview.caption.value
    x0, x1 = preview._span.get_x(), preview._span.get_x() + preview._span.get_width()
    np.testing.assert_allclose([x0, x1], [energies[40], energies[120]])
    # a span dragged on the figure (SpanSelector callback): snapped to channels,
    # drawn once with both ends (never the new start with the old end)
    captions = []
    preview.caption.observe(lambda change: captions.append(change["new"]), "value")
    draws = preview.live.draws
    preview.select(energies[10] + 0.4, energies[30] - 0.4)
    assert preview.live.draws == draws + 1 and len(captions) == 1
    assert w["form"].energy_start == pytest.approx(energies[11])
    assert w["wdict"]["energy_end"].value == pytest.approx(energies[29])
    assert "19 of 200 channels used" in preview.caption.value
    # the signal mask: its channels inside the range are greyed and not counted
    w["wdict"]["energy_start"].value = float(energies[0])
    w["wdict"]["energy_end"].value = float(energies[-1])
    w["wdict"]["signal_mask"].value = "edge"
    assert "190 of 200 channels used" in preview.caption.value
    assert "signal mask <i>edge</i>" in preview.caption.value
    assert len(preview._masked) == 1
    draws = preview.live.draws
    w["wdict"]["close"].click()
    w["form"].energy_start = float(energies[5])
    assert preview.live.draws == draws  # closed: no longer follows the form


def test_previews_without_ipympl_are_redrawn_pngs(eels3, monkeypatch):
    monkeypatch.setattr(_previews, "ipympl_available", lambda: False)
    s, _ = eels3
    w = _ipy(s, "unmix_gui")
    preview = w["wdict"]["preview"]
    assert isinstance(preview.live.widget, ipywidgets.Image)
    assert preview.selector is None  # typed range only
    preview.start()
    first = preview.live.widget.value
    assert first[:4] == b"\x89PNG"
    width = int.from_bytes(first[16:20], "big")
    assert preview.live.widget.layout.width == f"{round(width / 2)}px"  # its own size
    w["wdict"]["energy_start"].value = 500.0
    assert preview.live.widget.value != first
    assert "Energy range 500 to" in preview.caption.value


def test_restoration_preview_follows_method_iterations_and_pixel(zlp_si, fake_restore):
    s = zlp_si
    w = _ipy(s, "restore_zlp_gui", namespace={})
    preview = w["wdict"]["preview"]
    w["wdict"]["method"].value = "richardson_lucy"
    assert fake_restore == []  # nothing computed before the form is shown
    preview.start()
    preview.wait(30)
    n = s.axes_manager.signal_size
    assert fake_restore == [("richardson_lucy", 50, (n,))]  # one spectrum, not the SI
    assert preview.shown == ("richardson_lucy", 50, (0, 0))
    np.testing.assert_allclose(preview.restored_line.get_ydata(), 2 * s.inav[0, 0].data)
    assert "ready" in preview.caption.value and "50 iterations" in preview.caption.value
    w["wdict"]["iterations"].value = 7
    preview.wait(30)
    assert preview.shown == ("richardson_lucy", 7, (0, 0))
    # the navigator of s.plot() moves the current pixel
    s.axes_manager.indices = (3, 2)
    preview.wait(30)
    assert preview.shown == ("richardson_lucy", 7, (3, 2))
    np.testing.assert_allclose(preview.raw_line.get_ydata(), s.inav[3, 2].data)
    np.testing.assert_allclose(preview.restored_line.get_ydata(), 2 * s.inav[3, 2].data)
    w["wdict"]["method"].value = "unet"
    preview.wait(30)
    assert preview.shown == ("unet", None, (3, 2))
    assert "(unet)" in preview.caption.value
    calls = len(fake_restore)
    w["wdict"]["iterations"].value = 9  # no effect on the U-net: not recomputed
    preview.wait(30)
    assert len(fake_restore) == calls
    # the preview zooms on the zero-loss peak
    low, high = preview.ax.get_xlim()
    peak = s.axes_manager.signal_axes[0].axis[int(np.argmax(s.inav[3, 2].data))]
    assert low <= peak <= high and high - low <= 6.0 + 1e-9
    w["wdict"]["close"].click()
    s.axes_manager.indices = (1, 1)
    preview.wait(30)
    assert len(fake_restore) == calls  # closed: the navigator is no longer followed


def test_restoration_preview_failure_is_shown_not_raised(zlp_si, monkeypatch):
    s = zlp_si

    def broken(self, *args, **kwargs):
        raise RuntimeError("no model here")

    monkeypatch.setattr(type(s), "restore_zlp", broken)
    w = _ipy(s, "restore_zlp_gui", namespace={})
    preview = w["wdict"]["preview"]
    preview.start()
    preview.wait(30)
    assert "failed: RuntimeError: no model here" in preview.caption.value
    assert preview.shown is None


def test_previews_and_result_figures_never_slice_the_signal(zlp_si, monkeypatch):
    """HyperSpy's ``inav`` empties the signal it slices for a moment; a run in
    another thread reads that signal, so the preview (following the
    navigator) must read the pixel by index instead."""
    from hyperspy.signal import BaseSignal

    s = zlp_si
    original = BaseSignal._deepcopy_with_new_data
    guard = {"on": True}

    def guarded(self, *args, **kwargs):
        if self is s and guard["on"]:
            raise AssertionError("the form's signal was sliced")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BaseSignal, "_deepcopy_with_new_data", guarded)
    w = _ipy(s, "restore_zlp_gui", namespace={})
    preview = w["wdict"]["preview"]
    w["wdict"]["method"].value = "richardson_lucy"
    s.axes_manager.indices = (3, 2)  # x = 3 of 4, y = 2 of 5: data[2, 3]
    preview.start()
    preview.wait(60)
    assert preview.error is None and preview.shown == ("richardson_lucy", 50, (3, 2))
    np.testing.assert_array_equal(preview.raw_line.get_ydata(), s.data[2, 3])
    form = w["form"]
    form.iterations = 5
    preview.wait(60)
    assert preview.shown == ("richardson_lucy", 5, (3, 2))
    guard["on"] = False  # the run itself builds its result from the signal
    assert form.run(background=False).state == "done"
    guard["on"] = True
    table, png = _render(w)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and "richardson_lucy" in table


def _render(w):
    from hspy_unmix.gui import ipywidgets_ui

    return ipywidgets_ui._restore_zlp_render(w["form"])


@pytest.mark.parametrize("lazy", [False, True])
def test_pixel_spectrum_reads_the_current_pixel_in_both_orders(lazy):
    import hyperspy.api as hs

    data = np.arange(3 * 4 * 6, dtype=np.uint16).reshape(3, 4, 6)
    s = hs.signals.Signal1D(data)
    if lazy:
        s = s.as_lazy()
    s.axes_manager.indices = (2, 1)  # x = 2, y = 1
    spectrum, indices = _previews.pixel_spectrum(s)
    assert indices == (2, 1) and spectrum.dtype == float
    np.testing.assert_array_equal(spectrum, data[1, 2])
    # another position, given explicitly; a transposed view (signal axis first)
    np.testing.assert_array_equal(_previews.pixel_spectrum(s, (3, 0))[0], data[0, 3])
    t = s.T.T  # a copy with the same order
    np.testing.assert_array_equal(_previews.pixel_spectrum(t, (1, 2))[0], data[2, 1])


def test_restoration_preview_waits_for_a_run_then_shows_the_latest_choice(zlp_si, fake_restore):
    import threading

    s = zlp_si
    w = _ipy(s, "restore_zlp_gui", namespace={})
    preview, form = w["wdict"]["preview"], w["form"]
    w["wdict"]["method"].value = "richardson_lucy"
    preview.start()
    preview.wait(30)
    release = threading.Event()
    form._make_work = lambda: release.wait  # a run that lasts until released
    job = form.run(background=True)
    calls = len(fake_restore)
    w["wdict"]["iterations"].value = 11
    s.axes_manager.indices = (2, 3)
    preview.wait(30)
    assert len(fake_restore) == calls and preview.pending  # nothing computed meanwhile
    assert "waits for the run" in preview.caption.value
    release.set()
    job.wait(30)
    preview.wait(30)
    assert not preview.pending
    assert preview.shown == ("richardson_lucy", 11, (2, 3))
    assert len(fake_restore) == calls + 1  # one preview, of the latest choice
