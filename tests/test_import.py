"""``import hspy_unmix`` is light: no TensorFlow/Keras, idempotent activation."""

import subprocess
import sys


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_import_does_not_import_tensorflow_or_keras():
    out = _run(
        "import sys, hspy_unmix; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))"
    )
    assert out == "[]"


def test_estimator_classes_do_not_import_keras_until_fit():
    out = _run(
        "import sys, hspy_unmix; hspy_unmix.DAEU; hspy_unmix.AE; "
        "print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    )
    assert out == "False"


def test_activation_is_idempotent_and_silent():
    # -W error::UserWarning turns any warning of the activation into a failure.
    out = _run(
        "import hspy_unmix, exspy; from hspy_unmix import activate; "
        "d = exspy.signals.EELSSpectrum.decomposition; activate(); activate(); "
        "import importlib; importlib.reload(hspy_unmix); "
        "print(exspy.signals.EELSSpectrum.decomposition is d)"
    )
    assert out == "True"


def test_unknown_attribute_raises():
    import hspy_unmix
    import pytest

    with pytest.raises(AttributeError):
        hspy_unmix.not_a_thing  # noqa: B018
