"""The shipped U-net on held-out spectra (never trained or tuned on), per noise level.

A smaller set than the benchmark page (200 spectra with loss peaks and 200
ZLP-only spectra per level, another seed) and Richardson-Lucy at four
iteration counts with the exact and with the measured kernel.
"""

import pytest

from hspy_unmix.synthetic.zlp_heldout import PAPER_NOISE_LEVELS

pytestmark = [pytest.mark.neural, pytest.mark.slow]


@pytest.fixture(scope="module")
def table():
    from hspy_unmix.restoration.evaluation import evaluate_zlp_restoration

    return evaluate_zlp_restoration(200, rl_iterations=(10, 25, 50, 100), random_state=7)


@pytest.mark.parametrize("level", PAPER_NOISE_LEVELS)
def test_width_recovery_and_noise_reduction(table, level):
    from hspy_unmix.restoration.evaluation import best_rl

    rows = table[level]
    unet = rows["unet"]
    assert unet["resampling_factor"] == 1.0  # 5 meV/channel: the native range
    # ZLP widths: recovery of at least 97 % where RL with the exact kernel stays
    # far below (RL on the measured ZLP overshoots into noise spikes at high noise)
    exact = {m: v for m, v in rows.items() if m.startswith("rl_exact")}
    for key in ("fwhm_recovery", "fwtm_recovery"):
        assert unet[key] >= 0.97, key
        assert max(v[key] for v in exact.values()) < 0.9
    # high-frequency noise past the ZLP: at least 20x less, never amplified
    assert unet["noise_reduction"] >= 20
    assert unet["noise_reduction_min"] >= 1
    assert best_rl(rows, "noise_reduction", True)[1] < 2
    # ZLP width error well below RL's (RL's best is over 100 %)
    assert unet["fwhm_error"] < 0.5 * best_rl(rows, "fwhm_error", False)[1]
    # and within 5 % of the true width below the highest noise level
    if level < 5e-4:
        assert unet["fwhm_error"] <= 0.05



@pytest.mark.parametrize("level", [5e-5, 5e-4])
def test_loss_region_beats_the_best_richardson_lucy_at_high_noise(table, level):
    from hspy_unmix.restoration.evaluation import best_rl

    rows = table[level]
    assert rows["unet"]["loss_ssim"] > best_rl(rows, "loss_ssim", True)[1]
    assert rows["unet"]["loss_mse"] < best_rl(rows, "loss_mse", False)[1]


def test_loss_region_structure_beats_the_best_richardson_lucy_at_1e5(table):
    """At 1e-5 the loss region's structure (SSIM) beats RL's best, even with the
    exact kernel; its MSE does not yet (see the benchmark page)."""
    from hspy_unmix.restoration.evaluation import best_rl

    rows = table[1e-5]
    assert rows["unet"]["loss_ssim"] > best_rl(rows, "loss_ssim", True)[1]
