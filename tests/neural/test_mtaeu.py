"""MTAEU estimator: accuracy, invariants, determinism, persistence, signals."""

from __future__ import annotations

import copy
import numpy as np
import pytest

import hspy_unmix
from hspy_unmix.synthetic import chequerboard_si

from neural_helpers import assert_simplex as _assert_simplex
from neural_helpers import flat as _flat
from neural_helpers import scores as _scores

pytestmark = pytest.mark.neural

pytest.importorskip("keras")

SHAPE = (32, 32)


@pytest.fixture(scope="module")
def chequerboard32():
    return chequerboard_si(3, shape=SHAPE, random_state=0)


@pytest.fixture(scope="module")
def trained_mtaeu(chequerboard32):
    from hspy_unmix.neural.autoencoders import MTAEU

    s, _ = chequerboard32
    est = MTAEU(3, image_shape=SHAPE, epochs=10, n_starts=1, random_state=0,
                show_progressbar=False)
    return est, est.fit_transform(_flat(s))


def test_mtaeu_accuracy_beats_untrained_network(trained_mtaeu, chequerboard32):
    from hspy_unmix.neural._spectral_angle import normalise_rows as _normalise_rows
    from hspy_unmix.neural.models.mtaeu import build_mtaeu

    est, abundances = trained_mtaeu
    s, truth = chequerboard32
    X = _flat(s)
    _assert_simplex(abundances, SHAPE[0] * SHAPE[1], 3)
    assert est.components_.shape == (3, 200) and (est.components_ >= 0).all()
    scores = _scores(truth, est.components_, abundances)
    assert scores["sad_mean"] < 0.05
    assert scores["nmse_mean"] < 0.06
    assert est.history_["loss"][-1] < 0.8 * est.history_["loss"][0]
    # the same architecture with its initial random weights is far off
    untrained = copy.copy(est)
    untrained.model_ = build_mtaeu(200, 3, seed=1)
    raw = untrained._raw_image_abundances(est._encoder_inputs(X), SHAPE + (200,))
    random_decoder = untrained.model_.get_layer("endmembers").get_weights()[0]
    bad = _scores(truth, random_decoder, _normalise_rows(raw))
    assert bad["sad_mean"] > 5 * scores["sad_mean"]
    assert bad["nmse_mean"] > 5 * scores["nmse_mean"]
    # abundances are per pixel, in row-major order
    maps = abundances.reshape(SHAPE + (3,))
    true_maps = truth.flat_abundances.reshape(SHAPE + (3,))
    for true_k, k in enumerate(scores["permutation"]):
        corr = np.corrcoef(maps[..., k].ravel(), true_maps[..., true_k].ravel())[0, 1]
        assert corr > 0.9
    # the restored scale: abundances @ components_ approximates the data
    clean = truth.clean.reshape(X.shape)
    reconstruction = abundances @ est.components_
    assert np.linalg.norm(reconstruction - clean) / np.linalg.norm(clean) < 0.1
    np.testing.assert_allclose(est.transform(X), abundances, rtol=1e-5, atol=1e-6)


def test_mtaeu_deterministic_with_random_state(chequerboard32):
    from hspy_unmix.neural.autoencoders import MTAEU

    X = _flat(chequerboard32[0])
    fits = [
        MTAEU(3, image_shape=SHAPE, epochs=2, random_state=3, show_progressbar=False).fit(X)
        for _ in range(2)
    ]
    np.testing.assert_allclose(fits[0].components_, fits[1].components_, rtol=1e-5)
    np.testing.assert_allclose(fits[0].transform(X), fits[1].transform(X), atol=1e-6)
    np.testing.assert_allclose(fits[0].history_["loss"], fits[1].history_["loss"], rtol=1e-6)


def test_mtaeu_save_load_and_apply_unmixing(trained_mtaeu, chequerboard32, tmp_path):
    from hspy_unmix.neural.autoencoders import MTAEU

    est, _ = trained_mtaeu
    X = _flat(chequerboard32[0])
    path = tmp_path / "mtaeu.keras"
    est.save(path)
    loaded = hspy_unmix.load_estimator(path)
    assert type(loaded) is MTAEU
    as_tuples = {k: tuple(v) if isinstance(v, list) else v
                 for k, v in loaded.get_params().items()}
    assert as_tuples == est.get_params()
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    np.testing.assert_array_equal(loaded.components_, est.components_)
    # a new SI of another size through apply_unmixing (image_shape follows)
    s2, _ = chequerboard_si(3, shape=(16, 24), random_state=7)
    s2.apply_unmixing(loaded, print_info=False)
    _assert_simplex(s2.learning_results.loadings, 16 * 24, 3)
    assert s2.learning_results.decomposition_algorithm == "MTAEU"


def test_mtaeu_signal_decomposition(chequerboard32):
    s = chequerboard32[0].deepcopy()
    s.decomposition(algorithm="MTAEU", output_dimension=3, epochs=2, random_state=0,
                    print_info=False)
    lr = s.learning_results
    assert s.unmixing_estimator.image_shape == SHAPE
    assert lr.decomposition_algorithm == "MTAEU"
    assert lr.factors.shape == (200, 3) and (lr.factors >= 0).all()
    _assert_simplex(lr.loadings, SHAPE[0] * SHAPE[1], 3)


def test_mtaeu_bad_inputs(trained_mtaeu):
    from hspy_unmix.neural.autoencoders import MTAEU

    X = np.random.default_rng(0).random((64, 20))
    with pytest.raises(ValueError, match="image_shape"):
        MTAEU(2, epochs=1).fit(X)
    with pytest.raises(ValueError, match="rows"):
        MTAEU(2, image_shape=(4, 4), epochs=1).fit(X)
    with pytest.raises(ValueError, match="odd"):
        MTAEU(2, image_shape=(8, 8), patch_size=4).fit(X)
    with pytest.raises(ValueError, match="temperature"):
        MTAEU(2, image_shape=(8, 8), temperature=0.0).fit(X)
    est, _ = trained_mtaeu
    with pytest.raises(ValueError, match="rows"):
        est.transform(np.ones((100, 200)))


def test_mtaeu_model_config_round_trip():
    import keras

    from hspy_unmix.neural.models.mtaeu import build_mtaeu

    model = build_mtaeu(12, 2, patch_size=5, shared_units=(8,), seed=0)
    assert tuple(model.get_layer("abundances").output.shape) == (None, 25, 2)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    patches = np.random.default_rng(0).random((4, 5, 5, 12)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(clone(patches, training=False)), np.asarray(model(patches, training=False)),
        rtol=1e-6,
    )
