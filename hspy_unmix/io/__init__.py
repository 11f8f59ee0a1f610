"""Reading, writing and streaming spectrum images and fitted estimators.

* :func:`load_lazy` (``lazy``), :func:`rechunk_navigation`,
  :func:`navigation_chunks` (``chunks``, with the one eager and one lazy
  chunk walk of the package): open and chunk spectrum images larger than
  memory;
* :func:`save_atomic`, :func:`write_zspy`, :func:`zspy_compressor` (``saving``),
  :func:`check_complete_store` (``lazy``): write results without ever
  leaving a partial file, check .zspy stores;
* :func:`save_estimator`, :func:`load_estimator`: fitted estimators as one
  file (no pickle).
"""

from .chunks import DEFAULT_CHUNK_MB, navigation_chunks, rechunk_navigation
from .estimators import load_estimator, save_estimator
from .lazy import check_complete_store, load_lazy
from .saving import save_atomic, write_zspy, zspy_compressor

__all__ = [
    "DEFAULT_CHUNK_MB",
    "check_complete_store",
    "load_estimator",
    "load_lazy",
    "navigation_chunks",
    "rechunk_navigation",
    "save_atomic",
    "save_estimator",
    "write_zspy",
    "zspy_compressor",
]
