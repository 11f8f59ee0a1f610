"""Command line: ``hspy-unmix demo`` and ``hspy-unmix unmix FILE ...``.

Examples
--------
Run the demonstration on built-in synthetic data::

    hspy-unmix demo --out demo_results

Unmix a real spectrum image, lazily, with 4 components::

    hspy-unmix unmix si.dm4 --algorithm VCA -k 4 --out si_vca.hspy --lazy

Restore the near-zero-loss region of a low-loss SI and pan-sharpen a fine,
noisy SI with a clean coarse one, streaming both from disk to disk::

    hspy-unmix restore-zlp lowloss.dm4 --out restored.zspy
    hspy-unmix pan-sharpen fine.dm4 clean.dm4 --out fused.zspy -k 4

Every file verb takes ``--scheduler`` (threads, processes, synchronous or the
address of a dask.distributed scheduler), ``--chunk-mb`` and ``--overwrite``;
outputs are written under a temporary name and renamed when complete.

One module per command (``demo``, ``unmix``, ``restore_zlp``,
``pan_sharpen``), what they share in ``_common`` and the parser in ``main``.
"""

# the names below were module attributes of ``hspy_unmix.cli`` before the split
from .demo import DEMO_DEFAULT, DEMO_PARAMS, DEMO_START_K, run_demo  # noqa: F401
from .main import HELP, HELP_EPILOG, main  # noqa: F401
from .pan_sharpen import run_pan_sharpen
from .restore_zlp import run_restore_zlp
from .unmix import run_unmix
from .._registry import HYPERSPY_ALGORITHMS  # noqa: F401
from ._common import OUTPUT_SUFFIXES  # noqa: F401

__all__ = ["main", "run_demo", "run_pan_sharpen", "run_restore_zlp", "run_unmix"]
