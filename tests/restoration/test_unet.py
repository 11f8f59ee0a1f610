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
    log = tmp_path / "log.jsonl"
    kwargs = dict(epochs=2, batch_size=16, channels=128,
                  model_kwargs={"depth": 2, "base_filters": 2}, random_state=5)
    model, history = train_zlp_model(64, 16, save_path=path, log_path=log,
                                     checkpoint_path=tmp_path / "best.keras", **kwargs)
    assert len(history["loss"]) == 2 and np.isfinite(history["val_loss"]).all()
    assert path.exists() and path.with_suffix(".json").exists()
    assert (tmp_path / "best.keras").exists() and len(log.read_text().splitlines()) == 2
    loaded = load_zlp_model(path)
    assert loaded.zlp_metadata["units"] == "channels"
    assert loaded.zlp_metadata["training_seed"] == 5
    s, _ = zlp_test_signal((2, 2), random_state=0)
    a = s.restore_zlp(model=model)
    b = s.restore_zlp(model=str(path))
    np.testing.assert_array_equal(a.data, b.data)
    # same seed, same training (float32 training on the same machine)
    model2, _ = train_zlp_model(64, 16, **kwargs)
    np.testing.assert_allclose(s.restore_zlp(model=model2).data, a.data, rtol=1e-5)


@pytest.fixture(scope="module")
def shipped(keras):
    from hspy_unmix import load_zlp_model

    return load_zlp_model()


def test_shipped_model_metadata(shipped):
    from hspy_unmix.restoration import DEFAULT_MODEL_PATH, model_metadata

    meta = shipped.zlp_metadata
    assert meta == model_metadata()  # readable without Keras
    assert meta["units"] == "channels" and meta["truth_fwhm_channels"] == 3.0
    assert meta["native_fwhm_channels"] == [5.0, 40.0]
    assert meta["generator"].endswith("zlp_broad_spectra")
    assert "training_seed" in meta and "training_seconds" in meta
    assert DEFAULT_MODEL_PATH.stat().st_size < 5e6


# The network computes in float32 and ends in y = eps sinh(z asinh(1/eps)),
# which multiplies a relative error of z by asinh(1/eps) ~ 13: float32
# rounding (1.2e-7) accumulated over ~20 layers and differing between batch
# splits and CPU kernels stays below 2e-4 of each spectrum's maximum.
F32_TOL = 2e-4


def _assert_float32_close(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = np.abs(b).max(axis=-1, keepdims=True)
    assert (np.abs(a - b) <= F32_TOL * scale).all()


def test_restore_zlp_unet_eager_lazy_metadata(shipped):
    from hspy_unmix.synthetic import zlp_test_signal

    s, truth = zlp_test_signal((3, 2), dark_offset=(0.0, 0.0), random_state=1)
    before = s.data.copy()
    out = s.restore_zlp()
    np.testing.assert_array_equal(s.data, before)
    assert out.data.shape == s.data.shape
    assert out.axes_manager.signal_axes[0].offset == -2.0
    rec = out.metadata.Signal.restore_zlp
    assert rec.method == "unet" and "default" in rec.model and rec.resampling_factor == 1.0
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((1, 2, 2048))
    out_lazy = lazy.restore_zlp()
    assert out_lazy._lazy
    _assert_float32_close(out_lazy.data.compute(), out.data)
    # the counts are kept (no dark level in these spectra)
    np.testing.assert_allclose(out.data.sum(-1), s.data.sum(-1), rtol=1e-6)


def test_restore_zlp_unet_in_parts_and_float32(shipped, monkeypatch):
    from hspy_unmix.restoration import engine
    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((5, 2), random_state=3)
    whole = s.restore_zlp()
    assert whole.data.dtype == np.float64
    # a block restored in parts of 3 spectra equals the block restored at once
    monkeypatch.setattr(engine, "PART", 3)
    parts = s.restore_zlp()
    _assert_float32_close(parts.data, whole.data)
    # float32 data give float32 results, eager and lazy
    s32 = s.deepcopy()
    s32.change_dtype("float32")
    out32 = s32.restore_zlp()
    lazy32 = s32.as_lazy().restore_zlp()
    assert out32.data.dtype == np.float32 and lazy32.data.dtype == np.float32
    _assert_float32_close(out32.data, whole.data)
    _assert_float32_close(lazy32.data.compute(), out32.data)


def _physical_zlp_si(dispersion, fwhm_ev, channels=1024, offset=None, seed=0):
    """A low-loss SI on a physical axis: Lorentzian-tailed ZLP + plasmon."""
    import exspy

    span = dispersion * channels
    offset = -0.2 * span if offset is None else offset
    e = offset + dispersion * np.arange(channels)
    rng = np.random.default_rng(seed)
    w = fwhm_ev / 2
    zlp = 0.7 * np.exp(-0.5 * (e / (w / 1.1774)) ** 2) + 0.3 / (1 + (e / w) ** 2)
    plasmon = 0.02 / (1 + ((e - 0.4 * span) / (0.05 * span)) ** 2)
    clean = 1e5 * (zlp + plasmon)
    s = exspy.signals.EELSSpectrum(rng.poisson(np.tile(clean, (2, 3, 1))).astype(float))
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units = dispersion, offset, "eV"
    return s


@pytest.mark.parametrize(("dispersion", "fwhm_ev", "resampled"), [
    (0.001, 0.12, "coarser"),   # monochromated, ZLP 120 channels wide
    (0.005, 0.08, "native"),    # the source paper's axis
    (0.3, 0.9, "finer"),        # non-monochromated, ZLP 3 channels wide
    (1.0, 2.0, "finer"),        # 1 eV per channel, ZLP 2 channels wide
])
def test_any_dispersion_restored_and_recorded(shipped, dispersion, fwhm_ev, resampled):
    from hspy_unmix.metrics import zlp_fwhm

    s = _physical_zlp_si(dispersion, fwhm_ev)
    out = s.restore_zlp()
    rec = out.metadata.Signal.restore_zlp
    factor = rec.resampling_factor
    assert {"coarser": factor < 1, "native": factor == 1, "finer": factor > 1}[resampled]
    assert rec.measured_zlp_fwhm_channels == pytest.approx(fwhm_ev / dispersion, rel=0.1)
    assert rec.restored_zlp_fwhm_channels == pytest.approx(3.0 / factor)
    raw = s.data.reshape(-1, s.data.shape[-1])
    new = out.data.reshape(raw.shape)
    assert (zlp_fwhm(new) < 0.8 * zlp_fwhm(raw)).all()  # narrowed
    # kept in place (0 eV), to one channel of the grid the network worked on
    true_channel = -s.axes_manager.signal_axes[0].offset / dispersion
    assert (np.abs(new.argmax(-1) - true_channel) <= max(1.0, 1.0 / factor)).all()
    np.testing.assert_allclose(new.sum(-1), raw.sum(-1), rtol=1e-6)  # counts kept
    own = s.restore_zlp(keep_integral=False)
    assert own.metadata.Signal.restore_zlp.keep_integral is False
    # the network's own integral is close to the counts (no dark pedestal here)
    np.testing.assert_allclose(own.data.sum(-1), s.data.sum(-1), rtol=0.2)


def test_bad_pixels_do_not_fail_the_si_unet(shipped):
    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((4,), random_state=3)
    s.data[1] = 0.0
    s.data[2, 7] = np.nan
    with pytest.warns(UserWarning, match="1 without counts and 1 with NaN/inf"):
        out = s.restore_zlp()
    assert out.metadata.Signal.restore_zlp.flags.data.tolist() == [0, 1, 2, 0]
    assert np.isfinite(out.data).all() and (out.data[[1, 2]] == 0).all()
    with pytest.raises(TypeError, match="model"):
        s.restore_zlp(model=3)
    with pytest.raises(ValueError, match="resample"):
        s.restore_zlp(resample=-1.0)


def test_restore_zlp_other_lengths(shipped):
    from hspy_unmix.synthetic import zlp_test_signal

    s, _ = zlp_test_signal((2,), random_state=2)
    short = s.isig[:1000]
    out = short.restore_zlp()
    assert out.data.shape == (2, 1000) and np.isfinite(out.data).all()
