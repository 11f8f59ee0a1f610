"""Restoring blocks of spectra: the U-net or Richardson-Lucy, bad spectra flagged.

One block function per method, applied to a whole eager array or to each
block of a dask array alike. Spectra that cannot be restored never fail the
block: :func:`spectrum_flags` classifies them and they come back as zeros.
"""

from __future__ import annotations

import numpy as np

from .._non_finite import non_finite_rows
from .planning import from_model_grid, to_model_grid

__all__ = ["FLAG_CODES", "spectrum_flags", "restore_block_unet", "restore_block_rl"]

#: Per-spectrum flags stored with the result (``metadata.Signal.restore_zlp.flags``).
FLAG_CODES = {
    0: "restored",
    1: "no counts (integral <= 0): returned as zeros",
    2: "NaN or inf values: returned as zeros",
    3: "negative-heavy (over 20 % of the absolute intensity below zero): restored",
}

#: Share of the absolute intensity below zero beyond which a spectrum is
#: flagged negative-heavy (a wrong dark reference, or very noisy data).
NEGATIVE_HEAVY = 0.2

#: Spectra restored together within a block: float64 work arrays are several
#: times a part, so they are bounded whatever the chunk.
PART = 256


def spectrum_flags(block) -> np.ndarray:
    """Flag code (see :data:`FLAG_CODES`) of each spectrum of ``block`` (navigation shape).

    Works on :data:`PART` spectra at a time: its float64 temporaries stay a
    few MiB whatever the block (a whole 16 MiB float32 chunk at once held
    about 100 MiB of them per thread).
    """
    x = np.asarray(block)
    flat = x.reshape(-1, x.shape[-1])
    flags = np.zeros(flat.shape[0], dtype=np.uint8)
    for start in range(0, flat.shape[0], PART):
        flags[start:start + PART] = _flags_of_rows(flat[start:start + PART])
    return flags.reshape(x.shape[:-1])


def _flags_of_rows(rows) -> np.ndarray:
    flags = np.zeros(rows.shape[0], dtype=np.uint8)
    finite = ~non_finite_rows(rows)
    xf = np.where(finite[:, None], rows, 0.0).astype(np.float64, copy=False)
    total = xf.sum(axis=1)
    absolute = np.abs(xf).sum(axis=1)
    negative = -np.clip(xf, None, 0.0).sum(axis=1)
    flags[negative > NEGATIVE_HEAVY * np.maximum(absolute, 1e-300)] = 3
    flags[total <= 0] = 1
    flags[~finite] = 2
    return flags


def output_dtype(dtype) -> np.dtype:
    """float32 data stay float32; everything else is restored as float64."""
    return np.dtype(np.float32) if np.dtype(dtype) == np.float32 else np.dtype(np.float64)


def _parts(block):
    """Yield ``(slice, float64 part, restorable mask)`` over the spectra of a block."""
    flat = np.asarray(block).reshape(-1, np.shape(block)[-1])
    for start in range(0, flat.shape[0], PART):
        part = np.asarray(flat[start:start + PART], dtype=np.float64)
        ok = spectrum_flags(part) % 3 == 0  # 0 or 3: restorable
        yield slice(start, start + PART), part, ok


def restore_block_unet(block, loader, factor, keep_integral=True, batch_size=128, bar=None):
    """Restore a block ``(..., channels)`` with the network from ``loader()``.

    Spectra are resampled by ``factor`` (model channels per data channel)
    onto the model's grid, restored and resampled back. Deconvolution keeps
    the counts: with ``keep_integral`` each restored spectrum is scaled to
    the input's integral; otherwise the network's own integral is kept
    (which leaves out a dark pedestal the network removed).
    """
    from .model_io import predict_spectra

    shape = np.shape(block)
    out = np.zeros((int(np.prod(shape[:-1])), shape[-1]), dtype=output_dtype(block.dtype))
    model = None
    for sl, part, ok in _parts(block):
        if ok.any():
            model = loader() if model is None else model
            x = part[ok]
            xin = to_model_grid(x, factor)
            y = predict_spectra(model, xin, batch_size)
            if factor != 1.0:
                y = from_model_grid(y, factor, shape[-1])
            if keep_integral:
                total = y.sum(axis=1)
                y = y * np.where(total > 0, x.sum(axis=1) / np.where(total > 0, total, 1.0),
                                 1.0)[:, None]
            out[sl][ok] = y
        if bar is not None:
            bar.update(part.shape[0])
    return out.reshape(shape)


def restore_block_rl(block, psf, iterations, half_width, bar=None):
    """Richardson-Lucy on a block, by ``psf`` or by each spectrum's measured ZLP."""
    from .richardson_lucy import measured_zlp_psf, richardson_lucy

    shape = np.shape(block)
    out = np.zeros((int(np.prod(shape[:-1])), shape[-1]), dtype=output_dtype(block.dtype))
    for sl, part, ok in _parts(block):
        if ok.any():
            x = part[ok]
            kernel = measured_zlp_psf(x, half_width) if psf is None else psf
            out[sl][ok] = richardson_lucy(x, kernel, iterations)
        if bar is not None:
            bar.update(part.shape[0])
    return out.reshape(shape)
