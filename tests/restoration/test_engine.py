"""restoration.engine: the per-spectrum flags, whatever the block size."""

import tracemalloc

import numpy as np

from hspy_unmix.restoration.engine import PART, spectrum_flags


def _block(n_rows, channels=2048):
    rng = np.random.default_rng(0)
    x = rng.random((n_rows, channels), dtype=np.float32) + np.float32(0.1)
    return x


def test_flags_of_bad_rows_on_both_sides_of_a_part_boundary():
    x = _block(3 * PART + 7, channels=64)
    bad = {PART - 1: 1, PART: 2, 2 * PART + 3: 3, 3 * PART + 6: 2}
    x[PART - 1] = 0.0                     # no counts
    x[PART, 5] = np.nan                   # NaN
    x[2 * PART + 3, 32:] = -0.5 * x[2 * PART + 3, :32].sum() / 32  # negative-heavy, total > 0
    x[3 * PART + 6, 0] = np.inf           # inf, in the last (short) part
    flags = spectrum_flags(x.reshape(1, -1, 64))
    assert flags.shape == (1, x.shape[0])
    expected = np.zeros(x.shape[0], dtype=np.uint8)
    for row, code in bad.items():
        expected[row] = code
    np.testing.assert_array_equal(flags[0], expected)


def test_flags_hold_no_float64_copy_of_the_block():
    # 4096 spectra of 2048 float32 channels: 32 MiB; one float64 copy alone is 64 MiB
    x = _block(4096)
    spectrum_flags(x[:PART])
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        spectrum_flags(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a part's float64 temporaries: a few copies of PART x 2048 x 8 B = 4 MiB
    assert peak < 4 * PART * x.shape[1] * 8, peak / 2**20
