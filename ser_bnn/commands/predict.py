"""`ser-bnn predict [MODEL.tflite] FILE [FILE ...]`: emotion of each audio file (no TensorFlow).

Without a model (no `--model PATH`, and the first argument not a `.tflite`) the bundled pretrained
BCRNN is used (`ser_bnn.pretrained`, docs/MODEL_CARD.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ser_bnn.errors import SerBnnError
from ser_bnn.runtime.tracker import Tracker


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="audio files: wav, flac, ogg, ... any rate, mono or stereo, any length; a first argument "
        "ending in .tflite is the model (as --model)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="PATH",
        help="exported .tflite, MODEL.json beside it gives labels and front end (default: the bundled "
        "BCRNN trained on Emo-DB, docs/MODEL_CARD.md)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print JSON: per file emotion, scores, pooled (with the rule) and per-window posteriors",
    )
    p.add_argument(
        "--hop",
        type=float,
        default=None,
        metavar="SECONDS",
        help="hop between 3 s windows in seconds (default: the model's, 3 s = no overlap)",
    )
    p.add_argument(
        "--speaker-norm",
        action="store_true",
        help="all FILEs are one speaker: accumulate their statistics first, then classify every window "
        "with them (default: each file is standardized causally, window by window, as an app does)",
    )
    p.add_argument(
        "--profile",
        metavar="FILE",
        default=None,
        help="speaker statistics (JSON): start from them if FILE exists, save the updated ones to it",
    )
    p.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    p.add_argument(
        "--fast",
        action="store_true",
        help="use XNNPACK for the float ops (faster on x86; export checks its parity too)",
    )


def model_and_files(model: str | None, files: list[str]) -> tuple[str, list[str]]:
    """The model path (--model, a first argument ending in .tflite, else the bundled one) and the
    audio files."""
    if files and files[0].lower().endswith(".tflite"):
        if model is not None:
            raise SerBnnError(f"two models given: --model {model} and {files[0]}")
        model, files = files[0], files[1:]
    if not files:
        raise SerBnnError("no audio file given")
    if model is None:
        from ser_bnn.pretrained import default_model

        model = str(default_model())
    return model, files


def run(args: argparse.Namespace) -> int:
    from ser_bnn.dsp import speaker
    from ser_bnn.runtime.predict import format_table, load_deployed, predict_file, speaker_statistics
    from ser_bnn.runtime.tracker import load_profile, save_profile

    if args.threads < 1:
        raise SerBnnError(f"--threads must be >= 1, got {args.threads}")
    args.model, args.files = model_and_files(args.model, args.files)
    model = load_deployed(args.model, num_threads=args.threads, fast=args.fast)
    hop = None
    if args.hop is not None:
        window_s = model.window_samples / model.sample_rate
        if not 0 < args.hop <= window_s:
            raise SerBnnError(f"--hop must be in (0, {window_s:g}] seconds, got {args.hop:g}")
        hop = max(1, round(args.hop * model.sample_rate))
    profile = None
    if args.speaker_norm or args.profile:
        if not model.takes_stats:
            raise SerBnnError(
                f"{model.path}: the model takes no speaker statistics (norm {model.features.norm!r}, or "
                "exported before the statistics interface): --speaker-norm and --profile need a "
                "norm 'speaker' model exported by this version"
            )
        if args.profile and Path(args.profile).exists():
            profile = load_profile(args.profile, model.features.n_mels)
    results, failed = [], []
    fixed = None
    if args.speaker_norm:
        fixed, _ = speaker_statistics(model, args.files, profile)  # unreadable files fail below
        final = fixed
    # streaming: the profile's speaker said every file, so all their speech windows update it
    saved = Tracker.start(model.features.n_mels, profile, model.min_speech_frames)
    for f in args.files:
        tracker = (
            None if fixed is not None
            else Tracker.start(model.features.n_mels, profile, model.min_speech_frames)
        )
        try:
            r = predict_file(model, f, hop, tracker=tracker, fixed=fixed, also=saved)
        except SerBnnError as e:
            print(f"ser-bnn predict: error: {e}", file=sys.stderr)
            failed.append({"file": f, "error": str(e)})
            continue
        for note in r["notes"]:
            print(f"ser-bnn predict: note: {f}: {note}", file=sys.stderr)
        results.append(r)
    if fixed is None:
        final = saved.stats
    if args.profile:
        save_profile(args.profile, final)
    if args.json:
        doc = {
            "model": str(model.path),
            "labels": model.labels,
            "pooling": "max",
            "hop_samples": hop or model.hop_samples,
            "window_samples": model.window_samples,
            "statistics_mode": "speaker" if args.speaker_norm else "streaming",
            "gated": model.gated,
            "results": results,
            "errors": failed,
        }
        if model.takes_stats:
            doc["speaker_stats"] = {
                "start": None if profile is None else profile.to_dict(),
                "used": None if fixed is None else fixed.to_dict(),
                "final": final.to_dict(),
                "min_stats_frames": speaker.MIN_STATS_FRAMES,
                "count_cap": speaker.COUNT_CAP,
            }
        print(json.dumps(doc, indent=2))
    elif results:
        print(format_table(results, model.labels))
    return 2 if failed else 0  # the CLI's exit code for errors; the other files were still done
