"""Custom Keras layers, loss and model builders: behaviour and round trips."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np
import pytest

pytestmark = pytest.mark.neural

keras = pytest.importorskip("keras")

from hspy_unmix.neural.layers.dynamical_soft_threshold import (  # noqa: E402
    DynamicalSoftThreshold,
)
from hspy_unmix.neural.layers.nonneg_linear_decoder import (  # noqa: E402
    NonNegativeLinearDecoder,
)
from hspy_unmix.neural.layers.sum_to_one import AbundanceSumToOne  # noqa: E402
from hspy_unmix.neural.losses import SpectralAngleLoss  # noqa: E402


def _roundtrip(model, x, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        np.asarray(reloaded(x, training=False)),
        np.asarray(model(x, training=False)),
        rtol=1e-6,
        atol=1e-6,
    )
    return reloaded


def test_sum_to_one_outputs_nonnegative_rows_summing_to_one():
    x = np.array([[1.0, 3.0, -2.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]], "float32")
    y = np.asarray(AbundanceSumToOne()(x))
    assert (y >= 0).all()
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y[0], [0.25, 0.75, 0.0], atol=1e-5)
    np.testing.assert_allclose(y[1], [1 / 3] * 3, atol=1e-6)  # all zero -> uniform


def test_sum_to_one_rejects_bad_epsilon():
    with pytest.raises(ValueError, match="epsilon"):
        AbundanceSumToOne(epsilon=0.0)


def test_soft_threshold_is_trainable_and_thresholds():
    layer = DynamicalSoftThreshold(initial_threshold=0.5)
    y = np.asarray(layer(np.array([[1.0, 0.2, -3.0]], "float32")))
    np.testing.assert_allclose(y, [[0.5, 0.0, 0.0]])
    assert [w.name for w in layer.trainable_weights] == ["threshold"]


def test_decoder_is_abundances_times_endmembers_and_stays_nonnegative():
    layer = NonNegativeLinearDecoder(n_channels=5)
    layer.build((None, 2))
    assert (np.asarray(layer.kernel) >= 0).all()  # default initialiser
    E = np.arange(10, dtype="float32").reshape(2, 5)
    layer.set_weights([E])
    a = np.array([[0.25, 0.75]], "float32")
    np.testing.assert_allclose(np.asarray(layer(a)), a @ E, rtol=1e-6)
    # the constraint projects negative weights to zero after an update
    projected = np.asarray(layer.kernel.constraint(keras.ops.convert_to_tensor(-E)))
    assert (projected == 0).all()


def test_spectral_angle_loss_is_per_pixel_mean_not_flattened_angle():
    x = np.array([[1.0, 0.0], [0.0, 10.0]], "float32")
    y = np.array([[1.0, 1.0], [0.0, 1.0]], "float32")
    loss = float(SpectralAngleLoss()(x, y))
    # (pi/4 + 0) / 2, up to the clipping of the cosine (float32 floor)
    assert loss == pytest.approx(np.pi / 8, abs=5e-4)
    flat_angle = np.arccos(np.dot(x.ravel(), y.ravel())
                           / np.linalg.norm(x) / np.linalg.norm(y))
    assert abs(loss - flat_angle) > 0.1
    # scale invariance per pixel
    assert float(SpectralAngleLoss()(x, 7.0 * y)) == pytest.approx(loss, rel=1e-5)


@pytest.mark.parametrize(
    "layer, input_shape",
    [
        (AbundanceSumToOne(epsilon=1e-4), (4, 3)),
        (DynamicalSoftThreshold(initial_threshold=0.1), (4, 3)),
        (NonNegativeLinearDecoder(n_channels=6), (4, 3)),
    ],
)
def test_layer_config_and_keras_file_roundtrip(layer, input_shape, tmp_path):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    inputs = keras.Input(shape=input_shape[1:])
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(0).random(input_shape).astype("float32")
    reloaded = _roundtrip(model, x, tmp_path)
    assert type(reloaded.layers[-1]) is type(layer)


def test_loss_config_roundtrip():
    loss = SpectralAngleLoss(epsilon=1e-5)
    clone = SpectralAngleLoss.from_config(loss.get_config())
    assert clone.epsilon == 1e-5


def test_daeu_and_latent_model_roundtrip(tmp_path):
    from hspy_unmix.neural.models.daeu import build_daeu
    from hspy_unmix.neural.models.latent_autoencoder import build_latent_autoencoder

    x = np.random.default_rng(1).random((8, 20)).astype("float32")
    daeu = build_daeu(20, 3, seed=0)
    assert [daeu.get_layer(n).output.shape[-1] for n in ("abundances", "endmembers")] == [3, 20]
    _roundtrip(daeu, x, tmp_path)
    latent = build_latent_autoencoder(20, 2, hidden_units=(8,))
    _roundtrip(latent, x, tmp_path)
