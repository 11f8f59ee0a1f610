"""Internal normalisation, so that results do not depend on the data's units.

Spectra in counts (1e4), electrons per second or normalised to 1e-30 must
give the same endmembers up to that factor. The estimators divide the data
by a power of two close to their root mean square (exact in floating point,
so data already near 1 are unchanged bit for bit), fit, and multiply the
endmembers back.
"""

from __future__ import annotations

import numpy as np


def data_scale(X: np.ndarray) -> float:
    """Power of two close to the root mean square of ``X`` (1.0 for zeros).

    ``data_scale(X * 2**k) == data_scale(X) * 2**k`` exactly, also where the
    squares of ``X`` would overflow or underflow float64 (beyond about
    1e+-150): the values are then divided by a power of two first.
    """
    values = np.asarray(X, dtype=np.float64).ravel()
    if not values.size:
        return 1.0
    with np.errstate(over="ignore", under="ignore"):
        rms = float(np.sqrt(np.dot(values, values) / values.size))
    if not (np.isfinite(rms) and rms > 1e-150):
        peak = float(np.max(np.abs(values)))
        if not (np.isfinite(peak) and peak > 0):
            return 1.0
        power = 2.0 ** np.floor(np.log2(peak))
        reduced = values / power
        rms = power * float(np.sqrt(np.dot(reduced, reduced) / values.size))
    return float(2.0 ** np.round(np.log2(rms)))
