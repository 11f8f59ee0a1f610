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
    values = np.asarray(X)
    size = values.size
    if not size:
        return 1.0
    with np.errstate(over="ignore", under="ignore"):
        rms = float(np.sqrt(sum_of_squares(values) / size))
    if not (np.isfinite(rms) and rms > 1e-150):
        peak = max(float(np.max(np.abs(p))) for p in _float64_parts(values))
        if not (np.isfinite(peak) and peak > 0):
            return 1.0
        power = 2.0 ** np.floor(np.log2(peak))
        rms = power * float(np.sqrt(sum(np.dot(p / power, p / power)
                                        for p in _float64_parts(values)) / size))
    return float(2.0 ** np.round(np.log2(rms)))


def sum_of_squares(X: np.ndarray) -> float:
    """``sum(X**2)`` accumulated in float64, without a squared or a float64
    copy of ``X`` (a float32 sample is converted a part at a time).

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.unmixing._scale import sum_of_squares
    >>> sum_of_squares(np.full((3, 4), 2.0, dtype=np.float32))
    48.0
    """
    return float(sum(np.dot(p, p) for p in _float64_parts(np.asarray(X))))


#: Values of a non-float64 array converted to float64 at a time.
_PART_VALUES = 2**18


def _float64_parts(values):
    """The values of ``values`` as flat float64 arrays: the whole array when it
    is float64, else parts of :data:`_PART_VALUES` (no float64 copy of a
    float32 sample)."""
    flat = values.ravel()
    if flat.dtype == np.float64:
        yield flat
        return
    for start in range(0, flat.size, _PART_VALUES):
        yield np.asarray(flat[start:start + _PART_VALUES], dtype=np.float64)
