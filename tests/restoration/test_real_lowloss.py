"""Every real low-loss file restores with the defaults (U-net and Richardson-Lucy).

The files are read from the data folder beside the repository (see
conftest.shared_file); exspy's offline low-loss SI is always there.
"""

import numpy as np
import pytest

from conftest import shared_file

pytestmark = pytest.mark.neural

REAL = [
    "eels/LSMO_STO_lowloss_linescan_10.hspy",
    "eels/LSMO_lowloss_linescan_40.hspy",
    "eels/angadi_lowloss_SI_16x16_0.3eV.dm3",
    "synthetic_with_ground_truth/jeels2026_Si100nm_ll_for_fr.hspy",
    "synthetic_with_ground_truth/jeels2026_Si100nm_measured.hspy",
]


def _load(name):
    if name == "exspy":
        import exspy

        return exspy.data.EELS_low_loss(random_state=0)
    import hyperspy.api as hs

    return hs.load(shared_file(name))


@pytest.mark.parametrize("method", ["unet", "richardson_lucy"])
@pytest.mark.parametrize("name", REAL + ["exspy"])
def test_real_lowloss_defaults(name, method):
    from hspy_unmix.restoration.evaluation import restoration_checks

    s = _load(name)
    before = np.array(s.data, copy=True)
    out = s.restore_zlp(method=method, show_progressbar=False)
    np.testing.assert_array_equal(s.data, before)
    c = restoration_checks(s, out)
    factor = out.metadata.Signal.restore_zlp.get_item("resampling_factor", 1.0)
    assert abs(c["integral_change_worst"]) < 0.01
    # ZLP kept in place: within one channel of the grid the method worked on
    assert c["position_shift_worst"] <= max(1, int(np.ceil(1 / factor)))
    # narrowed by more than 10 % (files at 1 eV/channel have a 2-channel ZLP)
    assert c["fwhm_restored"] < 0.9 * c["fwhm_raw"]
    assert c["ringing"] > -3.0  # no negative lobe beyond the noise beside the ZLP
    assert (out.metadata.Signal.restore_zlp.flags.data == 0).all()
