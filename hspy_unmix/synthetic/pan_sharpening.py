"""Spectrum-image pairs for :meth:`pan_sharpen` and low-dose copies of real SIs.

* :func:`pan_sharpening_pair`: a fine-grid, low-dose chequerboard SI and a
  binned, high-dose copy of the same region, with the noise-free truth;
* :func:`thin_counts`: binomial thinning of a real count SI, the exact way
  to simulate a shorter dwell time from a measured one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state

from .._compat import copy_with_new_data
from .._validation import check_finite
from .chequerboard import chequerboard_abundances, eels_endmembers, mix

__all__ = ["PanSharpeningTruth", "pan_sharpening_pair", "thin_counts"]


@dataclass
class PanSharpeningTruth:
    """Known answer of a :func:`pan_sharpening_pair`.

    Each parameter is an attribute of the same name.

    Parameters
    ----------
    clean : numpy.ndarray, shape (ny, nx, n_channels)
        Noise-free fine-grid SI at the low dose: the target of pan-sharpening.
    abundances : numpy.ndarray, shape (ny, nx, K)
        Fine-grid abundance maps (sum to one).
    coarse_abundances : numpy.ndarray, shape (ny // b, nx // b, K)
        Abundances of the binned grid (block means of ``abundances``).
    endmembers : numpy.ndarray, shape (K, n_channels)
        Endmember spectra at the low dose (counts per channel at abundance 1).
    energy : numpy.ndarray, shape (n_channels,)
        Energy axis in eV.
    names : list of str
        Phase of each endmember.
    low_dose, high_dose : float
        Mean counts per channel of a pure pixel of each SI.

    Examples
    --------
    >>> from hspy_unmix.synthetic import pan_sharpening_pair
    >>> fine, coarse, truth = pan_sharpening_pair(3, shape=(32, 32), bin_factor=4,
    ...                                            random_state=0)
    >>> truth.abundances.shape, truth.coarse_abundances.shape
    ((32, 32, 3), (8, 8, 3))
    """

    clean: np.ndarray = field(repr=False)
    abundances: np.ndarray
    coarse_abundances: np.ndarray
    endmembers: np.ndarray
    energy: np.ndarray
    names: list
    low_dose: float
    high_dose: float


def _eels_signal(data, energy, nav_scale, title):
    import hyperspy.api as hs

    s = hs.signals.Signal1D(data)
    s.set_signal_type("EELS")
    ax = s.axes_manager.signal_axes[0]
    ax.name, ax.units, ax.offset, ax.scale = "Energy loss", "eV", energy[0], energy[1] - energy[0]
    for nav, name in zip(s.axes_manager.navigation_axes, ("x", "y"), strict=False):
        nav.name, nav.units, nav.scale = name, "nm", nav_scale
    s.metadata.General.title = title
    s.metadata.set_item("Acquisition_instrument.TEM.beam_energy", 200.0)
    return s


def pan_sharpening_pair(
    n_components: int = 3, shape: tuple = (64, 64), bin_factor: int = 4,
    low_dose: float = 2.0, high_dose: float = 500.0, random_state=None, *,
    block: int = 8, averaging: int = 3,
):
    """A fine-grid low-dose SI and a binned high-dose SI of the same region.

    The fine abundances are Brun et al.'s chequerboard (``block`` squares,
    ``averaging`` mean filter, sum to one) on ``shape``; the endmembers are
    :func:`~hspy_unmix.synthetic.eels_endmembers` normalised to one count
    per channel. The fine SI is ``low_dose * abundances @ endmembers`` with
    Poisson noise; the coarse SI uses the ``bin_factor x bin_factor`` block
    means of the abundances, ``high_dose`` and Poisson noise, on a grid with
    ``bin_factor`` times the pixel size (0.5 nm fine).

    Parameters
    ----------
    n_components : {3, 4}
        Endmember set (200 channels for 3, 903 for 4).
    shape : tuple of int
        Fine navigation shape, a multiple of ``block`` and ``bin_factor``.
    bin_factor : int
        Binning of the high-fidelity SI.
    low_dose, high_dose : float
        Mean counts per channel of a pure pixel in the fine and coarse SI.
    random_state : int, numpy.random.RandomState or None
        Seed of the abundance maps and of the noise of both SIs.
    block, averaging : int
        Chequerboard block size and averaging-filter width.

    Returns
    -------
    fine : exspy.signals.EELSSpectrum
        Noisy fine-grid SI (float64 counts).
    coarse : exspy.signals.EELSSpectrum
        High-dose binned SI.
    truth : PanSharpeningTruth
        Abundances, endmembers and noise-free fine SI they were made from.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import pan_sharpening_pair
    >>> fine, coarse, truth = pan_sharpening_pair(n_components=3, random_state=0)
    >>> fine.data.shape, coarse.data.shape, truth.clean.shape
    ((64, 64, 200), (16, 16, 200), (64, 64, 200))
    """
    rng = check_random_state(random_state)
    ny, nx = shape
    if bin_factor < 1 or ny % bin_factor or nx % bin_factor:
        raise ValueError(f"shape {shape} is not a multiple of bin_factor={bin_factor}.")
    if not (low_dose > 0 and high_dose > 0):
        raise ValueError("low_dose and high_dose must be positive.")
    energy, E, names = eels_endmembers(n_components, counts=1.0)
    A = chequerboard_abundances(n_components, shape, block, averaging, random_state=rng)
    Ac = A.reshape(ny // bin_factor, bin_factor, nx // bin_factor, bin_factor, -1).mean((1, 3))
    clean = mix(A, E) * low_dose
    fine_data = rng.poisson(clean).astype(np.float64)
    coarse_data = rng.poisson(mix(Ac, E) * high_dose).astype(np.float64)
    fine = _eels_signal(fine_data, energy, 0.5, f"Low-dose fine SI ({low_dose:g} counts/channel)")
    coarse = _eels_signal(
        coarse_data, energy, 0.5 * bin_factor,
        f"High-dose SI binned {bin_factor}x{bin_factor} ({high_dose:g} counts/channel)",
    )
    truth = PanSharpeningTruth(clean, A, Ac, E * low_dose, energy, names, float(low_dose), float(high_dose))
    return fine, coarse, truth


def thin_counts(signal, fraction: float, random_state=None):
    """Binomial thinning: a copy of a count SI as if recorded at lower dose.

    Each count is kept with probability ``fraction``, independently: a
    Poisson count of mean ``m`` becomes a Poisson count of mean
    ``fraction * m`` exactly, so the result has the noise of a real
    ``fraction``-dose acquisition (unlike scaling plus added noise).

    Parameters
    ----------
    signal
        HyperSpy signal of counts (eager or lazy). Integer dtypes are used as
        they are; float data must hold whole numbers (within 1e-6), else a
        ``ValueError`` says to convert to counts first (e.g. divide by the
        detector gain and round). Negative values (dark-reference
        subtraction) are thinned by their magnitude and keep their sign.
        Not modified.
    fraction
        Probability ``0 < fraction <= 1`` of keeping a count.
    random_state : int, numpy.random.RandomState or None
        Seed; lazy signals derive one independent stream per chunk from it.

    Returns
    -------
    hyperspy.signals.BaseSignal
        Same class, axes and metadata (title suffixed), same dtype for
        integer input, float64 for float input; ``metadata.Signal.thinned``
        holds ``fraction``.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> from hspy_unmix.synthetic import thin_counts
    >>> s = hs.signals.Signal1D(np.full((10, 10, 50), 100, dtype=np.int32))
    >>> low = thin_counts(s, 0.1, random_state=0)
    >>> bool(abs(low.data.mean() - 10) < 0.5)
    True
    """
    if not (0 < fraction <= 1):
        raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
    data = signal.data
    dtype = data.dtype
    if np.issubdtype(dtype, np.complexfloating) or not np.issubdtype(dtype, np.number):
        raise TypeError(f"thin_counts needs real count data, got dtype {dtype}.")
    is_int = np.issubdtype(dtype, np.integer)
    out_dtype = dtype if is_int else np.float64
    rng = check_random_state(random_state)

    def _thin(block, seed):
        block = np.asarray(block)
        if not is_int:
            check_finite(block, "thin_counts: the signal")
            rounded = np.round(block)
            if np.abs(block - rounded).max(initial=0.0) > 1e-6:
                raise ValueError(
                    "thin_counts needs whole-number counts; this signal holds "
                    "non-integer values. Convert to counts first (divide by the "
                    "detector gain and round, e.g. np.round(s.data))."
                )
            block = rounded
        n = np.abs(block).astype(np.int64)
        kept = np.random.default_rng(seed).binomial(n, fraction)
        return (np.sign(block).astype(np.int64) * kept).astype(out_dtype)

    seed_seq = np.random.SeedSequence(int(rng.randint(0, 2**31 - 1)))
    if signal._lazy:
        import dask.array as da

        n_blocks = int(np.prod(data.numblocks))
        seeds = seed_seq.spawn(n_blocks)
        flat_index = np.arange(n_blocks).reshape(data.numblocks)

        def _block(block, block_info=None):
            idx = flat_index[tuple(block_info[0]["chunk-location"])]
            return _thin(block, seeds[idx])

        new = da.map_blocks(_block, data, dtype=out_dtype)
    else:
        new = _thin(data, seed_seq)
    out = copy_with_new_data(signal, new)
    out.metadata.General.title = f"{signal.metadata.General.title} (thinned to {fraction:g})"
    out.metadata.set_item("Signal.thinned", float(fraction))
    return out
