"""The ``hspy-unmix`` argument parser: one sub-command per module of this package."""

from __future__ import annotations

import argparse
import os
import sys

from .._registry import cli_algorithm_help
from .demo import DEMO_DEFAULT, run_demo
from .pan_sharpen import run_pan_sharpen
from .restore_zlp import run_restore_zlp
from .unmix import run_unmix

HELP = """\
Spectral unmixing, zero-loss restoration and pan-sharpening of STEM-EELS
spectrum images (HyperSpy extension).

Run "hspy-unmix COMMAND --help" for the options of one command."""

HELP_EPILOG = """\
examples:
  hspy-unmix demo --out demo_results
  hspy-unmix unmix si.dm4 --algorithm VCA -k 4 --out si_vca.hspy --lazy
  hspy-unmix restore-zlp lowloss.dm4 --out restored.zspy
  hspy-unmix pan-sharpen fine.dm4 clean.dm4 --out fused.zspy -k 4
  hspy-unmix pan-sharpen si.dm4 haadf.dm4 --out fused.zspy -k 3

Every file command takes --scheduler (threads, processes, synchronous or the
address of a dask.distributed scheduler), --chunk-mb, --overwrite and
--signal-type; outputs are written under a temporary name and renamed when
complete. Files whose signal is not EELS are refused unless --signal-type EELS."""


def main(argv=None) -> int:
    """Entry point of the ``hspy-unmix`` command."""
    # before anything can import TensorFlow: its C++ start-up log is not for users
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(
        prog="hspy-unmix", description=HELP, epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="unmix the built-in synthetic SI with every algorithm")
    demo.add_argument("--out", default="hspy_unmix_demo", help="output folder")
    demo.add_argument("--algorithms", nargs="*", default=None,
                      help=f"algorithms to run (default: {' '.join(DEMO_DEFAULT)})")
    demo.add_argument("-k", "--n-components", type=int, default=3, choices=(3, 4))
    demo.add_argument("--random-state", type=int, default=0)
    unmix = sub.add_parser("unmix", help="unmix a spectrum image file")
    unmix.add_argument("file")
    unmix.add_argument("--algorithm", default="VCA", help=cli_algorithm_help())
    unmix.add_argument("-k", "--n-components", type=int, required=True)
    unmix.add_argument("--out", required=True, help="output .hspy or .zspy file")
    unmix.add_argument("--lazy", action="store_true", help="stream the file (bounded memory)")
    unmix.add_argument("--random-state", type=int, default=None)
    unmix.add_argument("--sample-chunks", type=float, default=None,
                       help="with --lazy: fraction of the navigation chunks the sample "
                            "is drawn from and read (default: a uniform sample, every "
                            "chunk read)")
    zlp = sub.add_parser("restore-zlp", help="restore the near-zero-loss region of an SI file")
    zlp.add_argument("file")
    zlp.add_argument("--out", required=True, help="output .zspy (or .hspy) file")
    zlp.add_argument("--method", default="unet", choices=("unet", "richardson_lucy"))
    zlp.add_argument("--model", default=None,
                     help="U-net .keras file (default: the model shipped with the package)")
    zlp.add_argument("--iterations", type=int, default=None,
                     help="Richardson-Lucy iterations (default 50)")
    zlp.add_argument("--psf-half-width", type=float, default=None,
                     help="half width in eV of the measured-ZLP kernel of Richardson-Lucy "
                          "(default: three measured ZLP widths)")
    zlp.add_argument("--batch-size", type=int, default=None,
                     help="spectra per network call (default 128)")
    zlp.add_argument("--resample", type=float, default=None,
                     help="resampling factor of the energy axis for the U-net (model "
                          "channels per data channel; default: chosen from the measured "
                          "ZLP width)")
    pan = sub.add_parser("pan-sharpen", help="fuse a noisy SI with a clean coarse SI or with "
                                             "the ADF/HAADF image recorded alongside")
    pan.add_argument("fine", help="finely sampled, noisy SI (streamed)")
    pan.add_argument("clean", help="high-fidelity SI (coarser grid; loaded in memory), or an "
                                   "ADF/HAADF image on the SI's scan grid or an integer "
                                   "factor finer (the fused SI is on the image's grid)")
    pan.add_argument("--out", required=True, help="output .zspy (or .hspy) file")
    pan.add_argument("-k", "--n-components", type=int, default=None,
                     help="number of endmembers (default: estimated)")
    pan.add_argument("--algorithm", default="NMF", help=cli_algorithm_help())
    pan.add_argument("--random-state", type=int, default=None)
    for p in (unmix, zlp, pan):
        p.add_argument("--scheduler", default=None,
                       help="threads (default), processes, synchronous or a "
                            "dask.distributed scheduler address (tcp://host:8786)")
        p.add_argument("--chunk-mb", type=float, default=None,
                       help="navigation chunk size in MiB (default 64)")
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
        p.add_argument("--signal-type", default=None, choices=("EELS",),
                       help="treat a signal that is not typed EELS (e.g. an untyped "
                            "Signal1D) as EELS; without it such files are refused")
        p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                       help="no progress bars")
    args = parser.parse_args(argv)
    if args.command == "demo":
        try:
            rows = run_demo(args.out, args.algorithms, args.n_components, args.random_state)
        except ValueError as exc:
            print(f"hspy-unmix demo: error: {exc}", file=sys.stderr)
            return 2
        return 1 if any("error" in r for r in rows) else 0
    common = dict(scheduler=args.scheduler, chunk_mb=args.chunk_mb, overwrite=args.overwrite,
                  show_progressbar=True if args.progress is None else args.progress,
                  signal_type=args.signal_type)
    try:
        if args.command == "unmix":
            if args.sample_chunks is not None and not args.lazy:
                raise ValueError("--sample-chunks needs --lazy (an in-memory fit uses "
                                 "every pixel).")
            params = {} if args.sample_chunks is None else {"sample_chunks": args.sample_chunks}
            run_unmix(args.file, args.algorithm, args.n_components, args.out, lazy=args.lazy,
                      random_state=args.random_state, params=params, **common)
        elif args.command == "restore-zlp":
            options = {name: getattr(args, name) for name in (
                "model", "iterations", "psf_half_width", "batch_size", "resample")}
            run_restore_zlp(args.file, args.out, method=args.method, **common,
                            **{k: v for k, v in options.items() if v is not None})
        else:
            run_pan_sharpen(args.fine, args.clean, args.out, k=args.n_components,
                            algorithm=args.algorithm, random_state=args.random_state, **common)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as exc:
        print(f"hspy-unmix {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0
