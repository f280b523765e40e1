"""Evaluation agrees with deployment: offline speaker standardization vs the exported model.

    python benchmarks/online_norm.py RUN_DIR [--model EXPORTED.tflite] [--data-dir DIR] [-o OUT.json]

For a finished `norm="speaker"` run (one fold; Emo-DB fixed split) and its exported model (made
with `ser-bnn export` into a temporary directory when --model is not given, so nothing is written
into the run):

1. offline: the decisions of `ser-bnn evaluate` (Keras; each test speaker standardized with their
   statistics over their speech windows, speech segments pooled), computed here without rewriting
   the run's metrics;
2. `--speaker-norm`: per test speaker, `ser-bnn predict --speaker-norm` over that speaker's files
   (the same Python functions) - how many of the N decisions equal the offline ones;
3. streaming: per test speaker, the files in sorted order, each window classified with the
   statistics accumulated causally before it across that speaker's files (the app's rule);
4. defaults: every window with the default statistics (count 0: a model without speaker statistics).

Writes a small JSON (default benchmarks/results/online_norm.json, atomically) with the UARs, the
agreement count and the disagreements.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ser_bnn  # noqa: E402,F401
from ser_bnn.atomic import atomic_write_text  # noqa: E402
from ser_bnn.dsp import gating, speaker  # noqa: E402
from ser_bnn.dsp.stats import NormStats  # noqa: E402
from ser_bnn.runtime.tracker import Tracker  # noqa: E402
from ser_bnn.training.metrics import confusion_matrix, scores  # noqa: E402


def offline_decisions(run_dir: Path, test: list, progress: bool) -> dict[str, str]:
    """`ser-bnn evaluate`'s utterance decisions (ser_bnn.training.evaluate.evaluate_fold_dir without
    finish_run)."""
    from ser_bnn.data.inputs import network_inputs
    from ser_bnn.training.evaluate import evaluate_segments
    from ser_bnn.training.rundir import load_trained

    model, cfg = load_trained(run_dir)
    labels = list(cfg.labels)
    seg = network_inputs(test, cfg.features, None, None, progress)
    y = [labels.index(u.label) for u in test]
    return evaluate_segments(model, seg, y, labels, cfg.model.pooling)["predictions"]


def uar(decisions: dict[str, str | None], truth: dict[str, str], labels: list[str]) -> dict:
    """UAR / WA over all utterances; "no speech" counts as a wrong decision."""
    ids = sorted(truth)
    pred = [labels.index(decisions[i]) if decisions.get(i) in labels else -1 for i in ids]
    y = [labels.index(truth[i]) for i in ids]
    cm = confusion_matrix(y, [p if p >= 0 else (t + 1) % len(labels) for p, t in zip(pred, y, strict=True)],
                          len(labels))
    s = scores(cm, labels)
    return {"uar": s["uar"], "wa": s["wa"], "no_speech": int(sum(p < 0 for p in pred))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--model", type=Path, default=None, help="the run's exported .tflite (default: export it)")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("-o", "--out", type=Path, default=ROOT / "benchmarks" / "results" / "online_norm.json")
    args = p.parse_args(argv)

    from ser_bnn.config import Config
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.runtime.predict import load_deployed, predict_file, speaker_statistics

    t0 = time.perf_counter()
    cfg = Config.load(args.run_dir / "config.json")
    if cfg.features.norm != "speaker":
        raise SystemExit(f"{args.run_dir}: norm is {cfg.features.norm!r}, not 'speaker'")
    split = json.loads((args.run_dir / "split.json").read_text())
    corpus = load_corpus(cfg.dataset, args.data_dir, **cfg.corpus_options)
    by_id = {u.id: u for u in corpus.utterances}
    test = [by_id[i] for i in split["test"]]
    truth = {u.id: u.label for u in test}
    labels = list(cfg.labels)

    tmp = None
    model_path = args.model
    if model_path is None:
        from ser_bnn.export import export_run

        tmp = tempfile.TemporaryDirectory(prefix="online_norm_")
        model_path = Path(tmp.name) / "model.tflite"
        export_run(args.run_dir, out=model_path, data_dir=args.data_dir, float_twin=False,
                   log=lambda m: print(m, flush=True))
    model = load_deployed(model_path)
    if not model.takes_stats:
        raise SystemExit(f"{model_path} takes no speaker statistics")

    print("offline (Keras, ser-bnn evaluate's decisions) ...", flush=True)
    offline = offline_decisions(args.run_dir, test, progress=False)

    speakers = sorted({u.speaker for u in test})
    modes: dict[str, dict[str, str | None]] = {"speaker_norm": {}, "streaming": {}, "defaults": {}}
    gated_files: dict[str, int] = {}
    per_speaker = {}
    for spk in speakers:
        utts = sorted((u for u in test if u.speaker == spk), key=lambda u: u.id)
        paths = [str(u.path) for u in utts]
        stats, errors = speaker_statistics(model, paths)
        if errors:
            raise SystemExit(f"unreadable test files: {errors[:2]}")
        tracker = Tracker.start(model.features.n_mels, None, model.min_speech_frames)
        empty = NormStats.empty(model.features.n_mels)
        for u, path in zip(utts, paths, strict=True):
            r = predict_file(model, path, fixed=stats)
            modes["speaker_norm"][u.id] = r["emotion"]
            skipped = sum(not w["speech"] for w in r["windows"])
            if skipped:
                gated_files[u.id] = skipped
            modes["streaming"][u.id] = predict_file(model, path, tracker=tracker)["emotion"]
            modes["defaults"][u.id] = predict_file(model, path, fixed=empty)["emotion"]
        per_speaker[spk] = {"files": len(utts), "stats_count": stats.count, "streaming_final_count":
                            tracker.stats.count}
        print(f"speaker {spk}: {len(utts)} files, {stats.count:.0f} frames", flush=True)

    agree = [i for i in sorted(truth) if modes["speaker_norm"][i] == offline[i]]
    differ = [i for i in sorted(truth) if modes["speaker_norm"][i] != offline[i]]
    doc = {
        "run_dir": str(args.run_dir),
        "model": str(model_path) if args.model else "exported to a temporary directory",
        "test_speakers": speakers,
        "pooling": cfg.model.pooling,
        "utterances": len(truth),
        "speaker_norm_agrees_with_evaluate": len(agree),
        "disagreements": [
            {"id": i, "evaluate": offline[i], "speaker_norm": modes["speaker_norm"][i],
             "windows_without_speech": gated_files.get(i, 0)}
            for i in differ
        ],
        "files_with_windows_without_speech": len(gated_files),
        "uar": {
            "offline_evaluate": uar(offline, truth, labels),
            **{k: uar(v, truth, labels) for k, v in modes.items()},
        },
        "per_speaker": per_speaker,
        "constants": {
            "min_stats_frames": speaker.MIN_STATS_FRAMES,
            "count_cap": speaker.COUNT_CAP,
            "gating": gating.describe(),
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    u = doc["uar"]
    print(f"--speaker-norm agrees with evaluate on {len(agree)}/{len(truth)} utterances "
          f"({len(gated_files)} files have windows without speech)")
    for k, v in u.items():
        print(f"UAR {k:<17} {100 * v['uar']:.2f} %  (WA {100 * v['wa']:.2f} %, no speech {v['no_speech']})")
    print(f"wrote {args.out}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "online_norm.py"))
