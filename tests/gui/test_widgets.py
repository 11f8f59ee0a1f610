"""Headless tests of the hspy_unmix forms (ipywidgets and traitsui)."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest

# traitsui windows render off screen where there is no display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ipywidgets = pytest.importorskip("ipywidgets")

from hspy_unmix._base import UnmixingEstimator  # noqa: E402
from hspy_unmix._progress import progress_bar  # noqa: E402
from hspy_unmix.gui import _models  # noqa: E402


class SlowUnmixing(UnmixingEstimator):
    """A deliberately slow estimator: one progress step per iteration."""

    def __init__(self, n_components=None, n_iter=400, delay=0.01, random_state=None,
                 show_progressbar=None):
        self.n_components = n_components
        self.n_iter = n_iter
        self.delay = delay
        self.random_state = random_state
        self.show_progressbar = show_progressbar

    def _fit(self, X):
        with progress_bar(self.n_iter, "Slow iterations", self.show_progressbar) as bar:
            for _ in range(self.n_iter):
                time.sleep(self.delay)
                bar.update(1)
        rng = np.random.default_rng(0)
        self.components_ = np.abs(rng.normal(size=(self._n_components, X.shape[1])))

    def _transform(self, X):
        return np.full((X.shape[0], self.components_.shape[0]), 1.0 / self.components_.shape[0])


@pytest.fixture
def slow_algorithm(monkeypatch):
    from hspy_unmix import _registry

    monkeypatch.setitem(_registry.ALGORITHMS, "SLOW_TEST", (__name__, "SlowUnmixing"))
    return "SLOW_TEST"


def _ipy(signal, method="unmix_gui", **kwargs):
    widgets = getattr(signal, method)(display=False, toolkit="ipywidgets", **kwargs)
    assert set(widgets) == {"ipywidgets"}
    return widgets["ipywidgets"]


# ---------------------------------------------------------------- registry
def test_toolkeys_are_registered():
    from hyperspy.ui_registry import UI_REGISTRY

    for key in ("unmix", "restore_zlp", "pan_sharpen", "estimate_n_components"):
        toolkits = UI_REGISTRY[f"hspy_unmix.EELSSpectrum.{key}"]
        assert {"ipywidgets", "traitsui"} <= set(toolkits)


def test_signal_methods_are_attached(eels3):
    s, _ = eels3
    for name in ("unmix_gui", "restore_zlp_gui", "pan_sharpen_gui",
                 "estimate_n_components_gui"):
        assert callable(getattr(s, name))
        assert "Examples" in getattr(s, name).__doc__


def test_unknown_toolkit_is_an_error(eels3):
    s, _ = eels3
    with pytest.raises(ValueError, match="not a registered toolkit"):
        s.unmix_gui(display=False, toolkit="no_such_toolkit")


# ---------------------------------------------------------------- unmixing
def test_unmixing_form_lists_algorithms_and_their_parameters(eels3):
    s, _ = eels3
    w = _ipy(s)
    wdict = w["wdict"]
    import hspy_unmix

    values = [value for _label, value in wdict["algorithm"].options]
    assert set(hspy_unmix.available_algorithms()) <= set(values)
    assert {"SVD", "NMF", "MLPCA", "ORPCA"} <= set(values)
    assert wdict["algorithm"].value == "VCA"  # the default
    wdict["algorithm"].value = "HALS"
    assert {"max_iter", "n_starts", "tol"} <= set(wdict["parameters"])
    assert "n_components" not in wdict["parameters"]
    wdict["algorithm"].value = "NMF_SO"
    assert "w" in wdict["parameters"]  # NMF_SO's own soft-orthogonality weight
    wdict["algorithm"].value = "VCA"
    assert "snr_input" in wdict["parameters"] and "w" not in wdict["parameters"]


@pytest.mark.parametrize("algorithm", ["VCA", "HALS"])
def test_unmixing_run_fills_learning_results(eels3, algorithm):
    s, _ = eels3
    w = _ipy(s)
    wdict = w["wdict"]
    wdict["algorithm"].value = algorithm
    wdict["n_components"].value = 3
    wdict["random_state"].value = 1
    if algorithm == "HALS":
        wdict["parameters"]["max_iter"].value = 20
        wdict["parameters"]["n_starts"].value = 1
    wdict["run"].click()
    assert w["form"].wait(120) == "done", w["form"].status
    lr = s.learning_results
    assert lr.decomposition_algorithm == algorithm
    assert lr.factors.shape == (200, 3)
    assert lr.loadings.shape == (64 * 64, 3)
    assert s.unmixing_estimator.random_state == 1
    if algorithm == "HALS":
        assert s.unmixing_estimator.max_iter == 20
    # results shown in the form: a table with one row per endmember and a figure
    assert wdict["table"].value.count("Endmember") == 3
    assert wdict["image"].value[:4] == b"\x89PNG"
    assert wdict["run"].disabled is False and wdict["stop"].disabled is True
    assert "Done" in wdict["status"].value


def test_invalid_parameter_is_reported_not_raised(eels3):
    s, _ = eels3
    w = _ipy(s)
    w["wdict"]["algorithm"].value = "MTAEU"
    w["wdict"]["parameters"]["shared_units"].value = "64, not a number ("
    w["wdict"]["run"].click()
    assert "Cannot run" in w["wdict"]["status"].value
    assert w["form"].job is None
    assert s.learning_results.factors is None


def test_progress_is_shown_and_stop_keeps_previous_results(eels3, slow_algorithm):
    s, _ = eels3
    s.decomposition(algorithm="VCA", output_dimension=3, print_info=False)
    previous = s.learning_results.factors.copy()
    w = _ipy(s)
    wdict, form = w["wdict"], w["form"]
    wdict["algorithm"].value = slow_algorithm
    wdict["run"].click()
    assert wdict["stop"].disabled is False
    deadline = time.time() + 20
    while form.job.progress[1] < 5 and time.time() < deadline:
        time.sleep(0.02)
    assert "Slow iterations" in wdict["progress_label"].value
    assert 0 < wdict["progress"].value < 1
    wdict["stop"].click()
    assert form.wait(20) == "stopped"
    assert "Stopped" in wdict["status"].value
    lr = s.learning_results
    assert lr.decomposition_algorithm == "VCA"
    np.testing.assert_array_equal(lr.factors, previous)
    # the form can run again after a stop
    wdict["parameters"]["n_iter"].value = 3
    wdict["run"].click()
    assert form.wait(20) == "done"
    assert s.learning_results.decomposition_algorithm == slow_algorithm


def test_background_job_reports_failure():
    def boom():
        raise ValueError("bad input")

    job = _models.BackgroundJob(boom).start()
    assert job.wait(10) == "failed"
    assert isinstance(job.error, ValueError)


def test_algorithm_parameters_round_trip():
    params = _models.AlgorithmParameters("VCA")
    assert params.kinds["snr_input"] == "optional_float"
    assert params.kinds["abundance_solver"] == "choice"
    assert params.as_kwargs() == {}
    params.snr_input_auto = False
    params.snr_input = 25.0
    params.abundance_solver = "nnls"
    assert params.as_kwargs() == {"snr_input": 25.0, "abundance_solver": "nnls"}
    with pytest.raises(Exception):
        params.abundance_solver = "fcls_typo"  # only the documented values


# ------------------------------------------------------- other forms
def test_restore_zlp_form_builds_the_call(eels3, monkeypatch):
    s, _ = eels3
    calls = []

    def fake_restore(self, model=None, method="unet", *, iterations=50,
                     show_progressbar=None):
        calls.append((method, iterations))
        out = self.deepcopy()
        out.data = out.data * 2
        return out

    monkeypatch.setattr(type(s), "restore_zlp", fake_restore)
    w = _ipy(s, "restore_zlp_gui")
    w["wdict"]["method"].value = "richardson_lucy"
    w["wdict"]["iterations"].value = 7
    w["wdict"]["run"].click()
    assert w["form"].wait(30) == "done", w["form"].status
    assert calls == [("richardson_lucy", 7)]
    np.testing.assert_allclose(w["form"].result.data, s.data * 2)
    assert "richardson_lucy" in w["wdict"]["table"].value
    assert w["wdict"]["image"].value[:4] == b"\x89PNG"


def test_pan_sharpen_form_offers_candidates(eels3, monkeypatch):
    s, _ = eels3
    hifi = s.inav[::4, ::4]
    seen = {}

    def fake_pan_sharpen(self, other, n_components=None, algorithm="NMF", **kwargs):
        seen.update(other=other, n_components=n_components, algorithm=algorithm)
        return self.deepcopy()

    monkeypatch.setattr(type(s), "pan_sharpen", fake_pan_sharpen)
    w = _ipy(s, "pan_sharpen_gui", other_candidates={"hifi": hifi})
    assert [value for _label, value in w["wdict"]["other"].options] == ["hifi"]
    w["wdict"]["n_components"].value = 3
    w["wdict"]["algorithm"].value = "VCA"
    w["wdict"]["run"].click()
    assert w["form"].wait(30) == "done", w["form"].status
    assert seen == {"other": hifi, "n_components": 3, "algorithm": "VCA"}
    assert "hifi" in w["wdict"]["table"].value


def test_pan_sharpen_other_list_shows_signals_and_leaves_out_the_si(eels3):
    s, _ = eels3
    s.metadata.General.title = "Low dose SI"
    hifi = s.inav[::2, ::2]
    hifi.metadata.General.title = "High dose SI"
    haadf = s.sum(-1).as_signal2D((0, 1))
    haadf.metadata.General.title = "HAADF"
    namespace = {"s": s, "same_si": s, "hifi": hifi, "haadf": haadf, "_": hifi,
                 "total": s.sum(), "mask": np.zeros(3, dtype=bool)}
    # what a notebook does: the list comes from the notebook's variables
    namespace["w"] = None
    exec("w = s.pan_sharpen_gui(display=False, toolkit='ipywidgets')['ipywidgets']",
         namespace)
    w = namespace["w"]
    other = w["wdict"]["other"]
    assert [value for _label, value in other.options] == ["hifi", "haadf"]
    nav = "x".join(str(n) for n in hifi.axes_manager.navigation_shape)
    axis = s.axes_manager.signal_axes[0]
    labels = dict((value, label) for label, value in other.options)
    assert labels["hifi"] == (
        f"hifi: High dose SI ({nav} px, {axis.size} ch, "
        f"{axis.axis[0]:.4g}-{axis.axis[-1]:.4g} eV)")
    shape = "x".join(str(n) for n in haadf.axes_manager.signal_shape)
    assert labels["haadf"] == f"haadf: HAADF (image {shape})"
    assert other.value == "hifi" and other.label == labels["hifi"]
    # the SI itself is left out when passed explicitly as well
    w = _ipy(s, "pan_sharpen_gui", other_candidates=[s, hifi])
    assert [value for _label, value in w["wdict"]["other"].options] == ["1"]
    assert w["form"].other_candidates == {"1": hifi}
    w = _ipy(s, "pan_sharpen_gui", other_candidates={"me": s})
    assert "no candidate" in w["wdict"]["other"].options[0][0]


def test_pan_sharpen_form_without_candidates_says_so(eels3):
    s, _ = eels3
    w = _ipy(s, "pan_sharpen_gui", other_candidates=[])
    w["wdict"]["run"].click()
    assert "Cannot run" in w["wdict"]["status"].value
    assert "other_candidates" in w["wdict"]["status"].value


def test_n_components_form_runs_the_estimate(eels3):
    s, _ = eels3
    w = _ipy(s, "estimate_n_components_gui")
    w["wdict"]["max_components"].value = 6
    w["wdict"]["run"].click()
    assert w["form"].wait(600) == "done", w["form"].status
    # the chequerboard SI has 3 endmembers
    assert w["form"].result.n_components == 3
    assert "Suggested number of components" in w["wdict"]["table"].value
    assert "<th></th>" not in w["wdict"]["table"].value  # every column named
    # a second identical run gives the identical estimate (seeded ARD counts)
    first = w["form"].result
    w["wdict"]["run"].click()
    assert w["form"].wait(600) == "done", w["form"].status
    second = w["form"].result
    assert second is not first
    assert second.n_components == first.n_components
    assert second.ard_n_components == first.ard_n_components
    np.testing.assert_array_equal(second.ard_relevances, first.ard_relevances)


# ------------------------------------------------------------- traitsui
def _traitsui_available():
    try:
        import traitsui.api  # noqa: F401

        from PyQt5 import QtWidgets  # noqa: F401
    except ImportError:
        return False
    return True


needs_traitsui = pytest.mark.skipif(
    not _traitsui_available(), reason="traitsui with a Qt binding (PyQt5) is not installed"
)


@needs_traitsui
def test_traitsui_form_returns_model_and_runs(eels3):
    s, _ = eels3
    form = s.unmix_gui(display=False, toolkit="traitsui")["traitsui"]
    assert isinstance(form, _models.UnmixingForm)
    form.algorithm = "VCA"
    form.n_components = 3
    form.run_button = True  # what clicking the Run button does
    assert form.wait(60) == "done", form.status
    assert s.learning_results.decomposition_algorithm == "VCA"
    assert s.learning_results.factors.shape == (200, 3)
    assert form.summary.startswith("VCA: factors (200, 3)")


@needs_traitsui
@pytest.mark.skipif(sys.platform != "linux", reason="offscreen Qt platform is Linux only")
def test_traitsui_window_opens_offscreen(eels3, monkeypatch):
    monkeypatch.setenv("ETS_TOOLKIT", "qt")
    s, _ = eels3
    form = s.unmix_gui(display=False, toolkit="traitsui", algorithm="HALS")["traitsui"]
    ui = form.edit_traits()
    try:
        from hspy_unmix.gui.traitsui_ui import form_view

        view = form_view(form)
        # a single top-level group (several would become tabs hiding Run/Stop)
        assert len(view.content.content) == 1
        assert [button.name for button in view.buttons] == ["Close"]
        names = {editor.name for editor in ui._editors}
        assert {"run_button", "stop_button"} <= names
        assert {"algorithm", "n_components", "random_state", "parameters"} <= names
        assert ui.title == "Spectral unmixing"
        form.algorithm = "NMF_SO"
        assert "w" in form.parameters.kinds
    finally:
        ui.dispose()


@needs_traitsui
@pytest.mark.skipif(sys.platform != "linux", reason="offscreen Qt platform is Linux only")
def test_traitsui_other_list_shows_the_labels_in_order(eels3, monkeypatch):
    monkeypatch.setenv("ETS_TOOLKIT", "qt")
    s, _ = eels3
    candidates = {"hifi": s.inav[::2, ::2], "coarse": s.inav[::4, ::4], "self": s}
    form = s.pan_sharpen_gui(display=False, toolkit="traitsui",
                             other_candidates=candidates)["traitsui"]
    ui = form.edit_traits()
    try:
        (editor,) = [e for e in ui._editors if e.name == "other"]
        assert editor.names == [form.other_labels["hifi"], form.other_labels["coarse"]]
        assert editor.names[0].startswith("hifi: ") and editor.value == "hifi"
    finally:
        ui.dispose()


# ------------------------------------------------------ results reachable
def _fake_restore(self, model=None, method="unet", *, iterations=50, show_progressbar=None):
    out = self.deepcopy()
    out.data = out.data * 2
    return out


def test_restore_zlp_result_is_stored_in_the_callers_namespace(eels3, monkeypatch):
    s, _ = eels3
    monkeypatch.setattr(type(s), "restore_zlp", _fake_restore)
    namespace = {"s": s}
    # what a notebook cell does: the form writes into the cell's globals
    exec("w = s.restore_zlp_gui(display=False, toolkit='ipywidgets')['ipywidgets']",
         namespace)
    w = namespace["w"]
    assert w["wdict"]["store_as"].value == "s_restored"
    w["wdict"]["run"].click()
    assert w["form"].wait(60) == "done", w["form"].status
    assert namespace["s_restored"] is w["form"].result
    np.testing.assert_allclose(namespace["s_restored"].data, s.data * 2)
    assert "Stored as the variable s_restored" in w["wdict"]["status"].value


def test_pan_sharpen_store_as_other_name_and_bad_name(eels3, monkeypatch):
    s, _ = eels3
    monkeypatch.setattr(type(s), "pan_sharpen",
                        lambda self, other, **kwargs: self.deepcopy())
    namespace = {}
    w = _ipy(s, "pan_sharpen_gui", other_candidates={"hifi": s.inav[::4, ::4]},
             namespace=namespace)
    assert w["wdict"]["store_as"].value == "s_pansharpened"
    w["wdict"]["store_as"].value = "not a name"
    w["wdict"]["run"].click()
    assert "Cannot run" in w["wdict"]["status"].value and w["form"].job is None
    w["wdict"]["store_as"].value = "fused"
    w["wdict"]["run"].click()
    assert w["form"].wait(60) == "done", w["form"].status
    assert namespace == {"fused": w["form"].result}
    # empty: nothing stored, the result stays in form.result
    namespace.clear()
    w["wdict"]["store_as"].value = ""
    w["wdict"]["run"].click()
    assert w["form"].wait(60) == "done"
    assert namespace == {} and w["form"].result is not None


def test_close_button_closes_the_form(eels3):
    s, _ = eels3
    w = _ipy(s, "restore_zlp_gui", namespace={})
    assert w["wdict"]["close"].description == "Close"
    w["wdict"]["close"].click()
    assert w["widget"].comm is None


def test_iterations_only_for_richardson_lucy(eels3):
    s, _ = eels3
    w = _ipy(s, "restore_zlp_gui", namespace={})
    assert w["wdict"]["iterations"].disabled
    w["wdict"]["method"].value = "richardson_lucy"
    assert not w["wdict"]["iterations"].disabled


def test_old_results_are_cleared_when_a_run_starts(eels3, slow_algorithm):
    s, _ = eels3
    w = _ipy(s)
    wdict = w["wdict"]
    wdict["algorithm"].value = "VCA"
    wdict["run"].click()
    assert w["form"].wait(120) == "done"
    assert wdict["table"].value
    wdict["algorithm"].value = slow_algorithm
    wdict["run"].click()
    assert wdict["table"].value == "" and wdict["image"].layout.display == "none"
    w["form"].stop()
    w["form"].wait(20)


# ------------------------------------------------------ defaults and choices
def test_parameters_are_typed_widgets_with_help(eels3):
    s, _ = eels3
    wdict = _ipy(s)["wdict"]
    params = wdict["parameters"]
    solver = params["abundance_solver"]
    assert isinstance(solver, ipywidgets.Dropdown)
    assert list(solver.options) == ["fcls", "nnls"]
    assert "sum to one" in solver.tooltip
    assert isinstance(params["snr_input"], ipywidgets.BoundedFloatText)
    assert params["snr_input"].disabled and params["snr_input_auto"].value
    params["snr_input_auto"].value = False
    assert not params["snr_input"].disabled
    assert "snr_input" in wdict["help"].children[0].value
    wdict["algorithm"].value = "HALS"
    assert isinstance(params["max_iter"], ipywidgets.BoundedIntText)
    assert params["max_iter"].min == 1
    assert list(params["abundance_scaling"].options) == ["sum_to_one", "unit_spectra"]
    wdict["algorithm"].value = "DAEU"
    assert list(params["init"].options) == ["minvol", "vca", "random"]
    assert params["dropout"].max == 1.0


def test_clean_float_display_and_unchanged_defaults_not_passed():
    params = _models.AlgorithmParameters("ARD_SO_NMF")
    assert params.a == 1.0 and repr(params.a) == "1.0"
    assert "a" not in params.as_kwargs()  # the estimator keeps its exact default


def test_k_follows_the_number_of_components_estimate(eels3):
    s, _ = eels3
    unmix = _ipy(s)
    assert unmix["wdict"]["n_components"].value == 3
    nc = _ipy(s, "estimate_n_components_gui")
    nc["wdict"]["max_components"].value = 6
    nc["form"].result = None
    # a stand-in for the estimate's result (the estimate itself is tested above)
    nc["form"].job = None
    _models._remember_suggestion(s, 4)
    assert unmix["wdict"]["n_components"].value == 4
    assert "number-of-components" in unmix["wdict"]["n_components_source"].value
    # a new form starts from the estimate
    assert _ipy(s)["wdict"]["n_components"].value == 4
    # the user's own K is kept
    unmix["wdict"]["n_components"].value = 5
    _models._remember_suggestion(s, 2)
    assert unmix["wdict"]["n_components"].value == 5


@pytest.mark.parametrize("algorithm", ["SVD", "NMF"])
def test_hyperspy_algorithms_run_from_the_form(eels3, algorithm):
    s, _ = eels3
    w = _ipy(s)
    w["wdict"]["algorithm"].value = algorithm
    assert w["wdict"]["parameters"] == {}
    w["wdict"]["run"].click()
    assert w["form"].wait(120) == "done", w["form"].status
    assert s.learning_results.decomposition_algorithm == algorithm


def test_poisson_energy_range_and_masks_reach_decomposition(eels3, monkeypatch):
    s, _ = eels3
    seen = {}

    def fake_decomposition(self, *args, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(type(s), "decomposition", fake_decomposition)
    bad_pixels = np.zeros((64, 64), dtype=bool)
    bad_pixels[0] = True
    namespace = {"bad_pixels": bad_pixels, "other": np.zeros(3, dtype=bool)}
    w = _ipy(s, namespace=namespace)
    wdict = w["wdict"]
    assert [v for _l, v in wdict["navigation_mask"].options] == ["", "bad_pixels"]
    axis = s.axes_manager.signal_axes[0].axis
    assert wdict["energy_start"].value == pytest.approx(axis[0])
    wdict["normalize_poissonian_noise"].value = True
    wdict["energy_start"].value = float(axis[20])
    wdict["navigation_mask"].value = "bad_pixels"
    wdict["run"].click()
    assert w["form"].wait(60) == "done", w["form"].status
    assert seen["normalize_poissonian_noise"] is True
    assert seen["navigation_mask"] is bad_pixels
    assert seen["signal_mask"].sum() == 20 and seen["signal_mask"][:20].all()


# ------------------------------------------------------------------ figures
def test_figures_shown_at_their_own_resolution_with_colour_bars(eels3):
    from hspy_unmix.gui import ipywidgets_ui

    s, truth = eels3
    w = _ipy(s)
    w["wdict"]["run"].click()
    assert w["form"].wait(120) == "done", w["form"].status
    png = w["wdict"]["image"].value
    width = int.from_bytes(png[16:20], "big")
    assert w["wdict"]["image"].layout.width == f"{width // ipywidgets_ui.PIXEL_RATIO}px"
    assert w["wdict"]["image"].layout.max_width == "100%"
    fig = ipywidgets_ui.unmixing_figure(w["form"])
    assert len(fig.axes) == 1 + 2 * 3  # spectra, 3 maps, 3 colour bars
    assert fig.axes[0].get_xlabel().startswith("Energy loss")
    assert "Largest feature above background" in w["wdict"]["table"].value


def test_largest_feature_is_the_edge_not_the_first_channel():
    from hspy_unmix.gui.ipywidgets_ui import largest_feature

    energy = np.linspace(250, 900, 651)
    spectrum = 1e7 * energy ** -2.5
    spectrum = spectrum + np.where(energy >= 532, 2e-2 * np.exp(-(energy - 532) / 80), 0)
    assert np.argmax(spectrum) == 0
    assert largest_feature(energy, spectrum) == pytest.approx(532, abs=2)


def test_largest_feature_of_each_chequerboard_endmember_is_its_edge():
    from hspy_unmix.gui.ipywidgets_ui import largest_feature
    from hspy_unmix.synthetic import chequerboard_si

    _, truth = chequerboard_si(n_components=3, shape=(16, 16), random_state=0)
    found = dict(zip(truth.names, (largest_feature(truth.energy, e) for e in truth.endmembers)))
    # O K (532 eV) for CoO, Co L3 (779 eV) for Co, C K (284 eV) for the support;
    # a fit to every channel put two of them on the first channel (250 eV)
    assert found["CoO"] == pytest.approx(532, abs=6)
    assert found["Co"] == pytest.approx(779, abs=4)
    assert found["C support"] == pytest.approx(285, abs=6)
