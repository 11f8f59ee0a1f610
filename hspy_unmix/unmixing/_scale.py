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
    """Power of two close to the root mean square of ``X`` (1.0 for zeros)."""
    rms = float(np.sqrt(np.mean(np.square(X, dtype=np.float64)))) if X.size else 0.0
    if not np.isfinite(rms):
        # the squares overflow: take the largest magnitude instead
        rms = float(np.max(np.abs(X)))
    if not (np.isfinite(rms) and rms > 0):
        return 1.0
    return float(2.0 ** np.round(np.log2(rms)))
