"""U-net builder, custom layers, training pipeline and restore_zlp with the shipped model."""

import numpy as np
import pytest

pytestmark = pytest.mark.neural


@pytest.fixture(scope="module")
def keras():
    from hspy_unmix._optional import import_keras

    return import_keras()


def test_build_shapes_size_and_errors(keras):
    from hspy_unmix import build_zlp_unet

    model = build_zlp_unet()
    assert model.input_shape == (None, 2048, 1) and model.output_shape == (None, 2048, 1)
    assert 50_000 < model.count_params() < 500_000
    free = build_zlp_unet(None, depth=3, base_filters=4)
    assert free.input_shape == (None, None, 1)
    y = free.predict_on_batch(np.full((2, 96, 1), 1e-3, "float32"))
    assert y.shape == (2, 96, 1) and np.isfinite(y).all()
    with pytest.raises(ValueError, match="multiple"):
        build_zlp_unet(1000, depth=5)
    # same seed, same weights
    a = build_zlp_unet(64, depth=2, base_filters=2, seed=3).get_weights()
    b = build_zlp_unet(64, depth=2, base_filters=2, seed=3).get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


@pytest.mark.parametrize("name", ["features", "output"])
def test_layers_config_round_trip(keras, name):
    from hspy_unmix.restoration.layers.zlp_asinh_output import ZLPAsinhOutput
    from hspy_unmix.restoration.layers.zlp_input_features import ZLPInputFeatures

    layer = ZLPInputFeatures(3.0, 1e-4) if name == "features" else ZLPAsinhOutput(1e-4)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    x = np.linspace(-1e-3, 0.5, 32, dtype="float32").reshape(1, 32, 1)
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(layer(x)))


def test_output_inverts_asinh_features(keras):
    from hspy_unmix.restoration.layers.zlp_asinh_output import ZLPAsinhOutput
    from hspy_unmix.restoration.layers.zlp_input_features import ZLPInputFeatures

    x = np.array([0.0, 1e-6, 1e-4, 0.01, 0.3], "float32").reshape(1, 5, 1)
    z = np.asarray(ZLPInputFeatures(eps=1e-5)(x))[..., 1:]
    np.testing.assert_allclose(np.asarray(ZLPAsinhOutput(1e-5)(z)), x, rtol=1e-4, atol=1e-9)


def test_train_tiny_save_load_round_trip(tmp_path, keras):
    from hspy_unmix import load_zlp_model, train_zlp_model
    from hspy_unmix.synthetic import zlp_test_signal

    path = tmp_path / "tiny.keras"
    model, history = train_zlp_model(64, 16, epochs=2, batch_size=16, crop=128,
                                     model_kwargs={"depth": 2, "base_filters": 2},
                                     random_state=5, save_path=path)
    assert len(history["loss"]) == 2 and np.isfinite(history["val_loss"]).all()
    assert path.exists() and path.with_suffix(".json").exists()
    loaded = load_zlp_model(path)
    assert loaded.zlp_metadata["dispersion"] == 0.005
    assert loaded.zlp_metadata["training_seed"] == 5
    s, _ = zlp_test_signal((2, 2), random_state=0)
    a = s.restore_zlp(model=model)
    b = s.restore_zlp(model=str(path))
    np.testing.assert_array_equal(a.data, b.data)
    # same seed, same training
    model2, _ = train_zlp_model(64, 16, epochs=2, batch_size=16, crop=128,
                                model_kwargs={"depth": 2, "base_filters": 2}, random_state=5)
    np.testing.assert_allclose(s.restore_zlp(model=model2).data, a.data, rtol=1e-5)


@pytest.fixture(scope="module")
def shipped(keras):
    from hspy_unmix import load_zlp_model

    return load_zlp_model()


def test_shipped_model_metadata(shipped):
    from hspy_unmix.zlp import DEFAULT_MODEL_PATH

    meta = shipped.zlp_metadata
    assert (meta["dispersion"], meta["channels"], meta["offset"]) == (0.005, 2048, -2.0)
    assert "training_seed" in meta and "validation_metrics_median" in meta
    assert DEFAULT_MODEL_PATH.stat().st_size < 5e6


def test_restore_zlp_unet_eager_lazy_metadata(shipped):
    from hspy_unmix.synthetic import zlp_test_signal

    s, truth = zlp_test_signal((3, 2), random_state=1)
    before = s.data.copy()
    out = s.restore_zlp()
    np.testing.assert_array_equal(s.data, before)
    assert out.data.shape == s.data.shape
    assert out.axes_manager.signal_axes[0].offset == -2.0
    rec = out.metadata.Signal.restore_zlp
    assert rec.method == "unet" and "default" in rec.model and rec.resampled is False
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((1, 2, 2048))
    out_lazy = lazy.restore_zlp()
    assert out_lazy._lazy
    np.testing.assert_allclose(out_lazy.data.compute(), out.data, rtol=1e-5, atol=1e-6)
    # the intensity scale follows the input (normalised inside, scaled back)
    ratio = out.data.sum(-1) / s.data.sum(-1)
    assert np.all((ratio > 0.8) & (ratio < 1.2))


def test_restore_zlp_unet_in_parts_and_float32(shipped, monkeypatch):
    from hspy_unmix import zlp
    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((5, 2), random_state=3)
    whole = s.restore_zlp()
    assert whole.data.dtype == np.float64
    # a block restored in parts of 3 spectra equals the block restored at once
    monkeypatch.setattr(zlp, "_UNET_PART", 3)
    parts = s.restore_zlp()
    np.testing.assert_allclose(parts.data, whole.data, rtol=1e-5)  # float32 network
    # float32 data give float32 results, eager and lazy
    s32 = s.deepcopy()
    s32.change_dtype("float32")
    out32 = s32.restore_zlp()
    lazy32 = s32.as_lazy().restore_zlp()
    assert out32.data.dtype == np.float32 and lazy32.data.dtype == np.float32
    np.testing.assert_allclose(out32.data, whole.data, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(lazy32.data.compute(), out32.data, rtol=1e-6)


def test_restore_zlp_other_lengths_and_resampling(shipped):
    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((2,), random_state=2)
    short = s.isig[:1000]
    out = short.restore_zlp()
    assert out.data.shape == (2, 1000) and np.isfinite(out.data).all()
    # within the tolerance: resampled on 5 meV and back
    s2 = s.deepcopy()
    s2.axes_manager.signal_axes[0].scale = 0.0051
    out2 = s2.restore_zlp()
    assert out2.metadata.Signal.restore_zlp.resampled is True
    np.testing.assert_allclose(out2.data.sum(-1), s2.data.sum(-1), rtol=1e-6)


def test_restore_zlp_bad_input_unet(shipped):
    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((2,), random_state=3)
    coarse = s.deepcopy()
    coarse.axes_manager.signal_axes[0].scale = 0.3
    with pytest.raises(ValueError, match="train_zlp_model"):
        coarse.restore_zlp()
    bad = s.deepcopy()
    bad.data[1, 5] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        bad.restore_zlp()
    with pytest.raises(TypeError, match="model"):
        s.restore_zlp(model=3)


AMPLITUDES = [5e-6, 1e-5, 5e-5, 5e-4]


@pytest.mark.parametrize("amplitude", AMPLITUDES)
def test_shipped_model_beats_rl50_on_every_metric(shipped, amplitude):
    from hspy_unmix import richardson_lucy
    from hspy_unmix.metrics import zlp_restoration_scores
    from hspy_unmix.synthetic import zlp_blur_kernel, zlp_training_spectra
    from hspy_unmix.zlp import _predict

    x, y, e, p = zlp_training_spectra(16, noise_amplitude=amplitude, random_state=11,
                                      return_params=True)
    # RL gets the exact blur kernel of each spectrum (jitter and PSF): its best case.
    kernels = np.stack([zlp_blur_kernel(f, jitter_shifts=sh, half_width=400)
                        for f, sh in zip(p["psf_fwhm"], p["jitter_shifts"])])
    rl = richardson_lucy(x, kernels, 50)
    net = _predict(shipped, x)
    s_net = {k: np.nanmedian(v) for k, v in zlp_restoration_scores(net, x, y, e).items()}
    s_rl = {k: np.nanmedian(v) for k, v in zlp_restoration_scores(rl, x, y, e).items()}
    assert s_net["noise_variance"] < s_rl["noise_variance"]
    for key in ("fwhm_recovery", "fwtm_recovery"):
        assert abs(1 - s_net[key]) < abs(1 - s_rl[key]), key
    for key in ("fwhm_error", "fwtm_error", "mse"):
        assert s_net[key] < s_rl[key], key
    assert s_net["ssim"] > s_rl["ssim"]


@pytest.mark.parametrize("amplitude", AMPLITUDES)
def test_shipped_model_meets_noise_and_width_targets(shipped, amplitude):
    """At least 20x less off-peak noise and 95 % FWHM/FWTM recovery (ZLP-only spectra)."""
    from hspy_unmix.metrics import zlp_restoration_scores
    from hspy_unmix.synthetic import zlp_training_spectra
    from hspy_unmix.zlp import _predict

    x, y, e = zlp_training_spectra(32, noise_amplitude=amplitude, n_peaks=(0, 0),
                                   random_state=21)
    scores = zlp_restoration_scores(_predict(shipped, x), x, y, e)
    median = {k: float(np.nanmedian(v)) for k, v in scores.items()}
    assert median["noise_reduction"] >= 20
    assert median["fwhm_recovery"] >= 0.95
    assert median["fwtm_recovery"] >= 0.95
