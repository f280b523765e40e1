"""`ser-bnn export RUN_DIR --tflite`: bit-packed, waveform-in .tflite with an op check and a parity gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ser_bnn.errors import SerBnnError


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ser_bnn.export import DEFAULT_TOLERANCE

    p.add_argument("run_dir", help="finished run directory written by `ser-bnn train` (one fold)")
    p.add_argument("--tflite", action="store_true", help="write a .tflite (the only format; default)")
    p.add_argument(
        "-o",
        "--out",
        default=None,
        help="output .tflite (default RUN_DIR/export/<model>.tflite); MODEL.json, "
        "MODEL.labels.txt and MODEL.report.json are written beside it",
    )
    p.add_argument(
        "--input",
        choices=["waveform", "logmel"],
        default="waveform",
        help="model input: 3 s waveform [1, 48000] (default) or log-Mel features [1, 300, 40]",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="corpus directory for the parity check on the run's test utterances (default: as for training)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"parity gate: max |p_tflite - p_keras| per class (default {DEFAULT_TOLERANCE:g})",
    )
    p.add_argument(
        "--parity-utterances",
        type=int,
        default=0,
        metavar="N",
        help="check only the first N test utterances (default 0 = all)",
    )
    p.add_argument(
        "--no-twin",
        action="store_true",
        help="skip converting the float CRNN twin (used for the compression ratio)",
    )
    p.add_argument("--save-twin", action="store_true", help="also write the (untrained) float twin .tflite")
    p.add_argument("--quiet", action="store_true", help="print only the final table")


def run(args: argparse.Namespace) -> int:
    from ser_bnn.export import export_run, format_report

    if args.parity_utterances < 0:
        raise SerBnnError(f"--parity-utterances must be >= 0, got {args.parity_utterances}")

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    report = export_run(
        Path(args.run_dir),
        out=args.out,
        input_kind=args.input,
        data_dir=args.data_dir,
        tolerance=args.tolerance,
        max_utterances=args.parity_utterances or None,
        float_twin=not args.no_twin,
        save_twin=args.save_twin,
        log=log,
    )
    print(format_report(report))
    print("files: " + ", ".join(report["files"].values()))
    return 0
