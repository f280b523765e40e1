"""`ser-bnn predict MODEL.tflite FILE [FILE ...]`: emotion of each audio file (no TensorFlow)."""

from __future__ import annotations

import argparse
import json
import sys

from ser_bnn.errors import SerBnnError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="exported .tflite (MODEL.json beside it gives labels and front end)")
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="audio files: wav, flac, ogg, ... any rate, mono or stereo, any length",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print JSON: per file emotion, scores, max-pooled and per-window posteriors",
    )
    p.add_argument(
        "--hop",
        type=float,
        default=None,
        metavar="SECONDS",
        help="hop between 3 s windows in seconds (default: the model's, 3 s = no overlap)",
    )
    p.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    p.add_argument(
        "--fast",
        action="store_true",
        help="use XNNPACK for the float ops (faster on x86; export checks its parity too)",
    )


def run(args: argparse.Namespace) -> int:
    from ser_bnn.predict import format_table, load_deployed, predict_file

    if args.threads < 1:
        raise SerBnnError(f"--threads must be >= 1, got {args.threads}")
    model = load_deployed(args.model, num_threads=args.threads, fast=args.fast)
    hop = None
    if args.hop is not None:
        window_s = model.window_samples / model.sample_rate
        if not 0 < args.hop <= window_s:
            raise SerBnnError(f"--hop must be in (0, {window_s:g}] seconds, got {args.hop:g}")
        hop = max(1, round(args.hop * model.sample_rate))
    results, failed = [], []
    for f in args.files:
        try:
            r = predict_file(model, f, hop)
        except SerBnnError as e:
            print(f"ser-bnn predict: error: {e}", file=sys.stderr)
            failed.append({"file": f, "error": str(e)})
            continue
        for note in r["notes"]:
            print(f"ser-bnn predict: note: {f}: {note}", file=sys.stderr)
        results.append(r)
    if args.json:
        doc = {
            "model": str(model.path),
            "labels": model.labels,
            "pooling": "max",
            "hop_samples": hop or model.hop_samples,
            "window_samples": model.window_samples,
            "results": results,
            "errors": failed,
        }
        print(json.dumps(doc, indent=2))
    elif results:
        print(format_table(results, model.labels))
    return 2 if failed else 0  # the CLI's exit code for errors; the other files were still done
