"""Recipe ablation on Emo-DB's fixed split: each change to the default recipe, one run each.

    python benchmarks/ablation.py --epochs 12 --variants default,no-aug,no-dropout,crnn
    python benchmarks/ablation.py --variants default,crnn --seeds 0,1,2   # mean +- std over seeds
    python benchmarks/ablation.py --table          # print the table from the committed results
    python benchmarks/ablation.py --record runs/x --name default-e40 -- --model bcrnn   # a finished run

Every variant is `ser-bnn train --dev-speakers 2` with the default preset plus the flags below
(the default recipe trains on all non-test speakers; the ablation holds 2 out to choose on), and
`NAME+specaug` is variant NAME with SpecAugment on. The reference row `default` is the paper's
all-binary BCRNN: BCRNN variants run with `--binary-first-layer` unless they keep the first conv in
float (rows recorded before the default preset's first conv became float got it from the preset
and do not list the flag), and with the paper's 128 LSTM units unless they set `--lstm-units` (rows
recorded before the default BCRNN became 256 units wide had 128 from the preset). Decisions between
variants are made on the *development* speakers (mean dev UAR of the last 3 epochs, column
`dev UAR`); the test UAR of the selected epoch is reported beside it but is never used to choose.
Each finished run's numbers are merged into benchmarks/results/ablation.json (written atomically),
so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import ser_bnn  # noqa: F401
from ser_bnn.io import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results" / "ablation.json"
VARIANTS = {
    "default": ["--model", "bcrnn"],
    "specaug": ["--model", "bcrnn", "--spec-augment"],
    "no-aug": ["--model", "bcrnn", "--no-speed-perturb", "--gain-db", "0"],
    "no-dropout": ["--model", "bcrnn", "--dropout", "0"],
    "no-wd": ["--model", "bcrnn", "--weight-decay", "0"],
    "last-state": ["--model", "bcrnn", "--readout", "last"],
    "meanstd": ["--model", "bcrnn", "--readout", "meanstd"],
    "global-norm": ["--model", "bcrnn", "--norm", "global"],
    "float-first-layer": ["--model", "bcrnn", "--float-first-layer"],
    "thermometer": ["--model", "bcrnn", "--input-levels", "7"],
    "lstm-bn": ["--model", "bcrnn", "--lstm-input-norm"],
    "binlr0.1": ["--model", "bcrnn", "--binary-lr-scale", "0.1"],
    "readout-bn": ["--model", "bcrnn", "--readout-norm"],
    "float-lstm": ["--model", "bcrnn", "--float-lstm"],
    "float-fc": ["--model", "bcrnn", "--float-fc"],
    "float-ends": ["--model", "bcrnn", "--float-first-layer", "--float-fc"],
    "lstm-levels3": ["--model", "bcrnn", "--float-first-layer", "--lstm-input-levels", "3"],
    "ls0.1": ["--model", "bcrnn", "--float-first-layer", "--label-smoothing", "0.1"],
    "cw0.5": ["--model", "bcrnn", "--float-first-layer", "--class-weight-power", "0.5"],
    "lstm256": ["--model", "bcrnn", "--float-first-layer", "--lstm-units", "256"],  # the default since 12-04
    "lstm384": ["--model", "bcrnn", "--float-first-layer", "--lstm-units", "384"],
    "lstm512": ["--model", "bcrnn", "--float-first-layer", "--lstm-units", "512"],
    # training cost: twice the batch halves the sequential LSTM-loop steps of an epoch
    "lstm256-batch32": ["--model", "bcrnn", "--float-first-layer", "--lstm-units", "256", "--batch-size", "32"],  # noqa: E501
    "split-scales": ["--model", "bcrnn", "--float-first-layer", "--lstm-scales", "split"],
    "lr3e-3": ["--model", "bcrnn", "--lr", "0.003"],
    "lr1e-2": ["--model", "bcrnn", "--lr", "0.01"],
    "batch8": ["--model", "bcrnn", "--batch-size", "8"],
    # Distillation from the crnn variant of the same epochs and seed (trained first when its run
    # directory is missing, recorded if it is not yet in the results).
    "kd": ["--model", "bcrnn", "--teacher", "{runs}/crnn-e{epochs}{seed}"],
    "kd-noinit": ["--model", "bcrnn", "--teacher", "{runs}/crnn-e{epochs}{seed}", "--no-teacher-init"],
    "kd-ffl": ["--model", "bcrnn", "--float-first-layer", "--teacher", "{runs}/crnn-e{epochs}{seed}"],
    "kd-ffl-noinit": [
        "--model",
        "bcrnn",
        "--float-first-layer",
        "--teacher",
        "{runs}/crnn-e{epochs}{seed}",
        "--no-teacher-init",
    ],  # fmt: skip
    "crnn": ["--model", "crnn"],
    "crnn-no-aug": ["--model", "crnn", "--no-speed-perturb", "--gain-db", "0"],
    "crnn-lstm-bn": ["--model", "crnn", "--lstm-input-norm"],
    "crnn-lstm256": ["--model", "crnn", "--lstm-units", "256"],
}
# A variant name ending in "+specaug" runs that variant with SpecAugment on (the default recipe
# until the "specaug" rows showed it costs the CRNN 20 points of dev UAR).
SUFFIXES = {"+specaug": ["--spec-augment"]}
# The ablation protocol: 2 of the 6 non-test speakers are held out for model selection.
PROTOCOL = ["--dev-speakers", "2"]


def variant_flags(name: str) -> list[str]:
    for suffix, extra in SUFFIXES.items():
        if name.endswith(suffix):
            return variant_flags(name[: -len(suffix)]) + extra
    if name not in VARIANTS:
        sys.exit(f"ablation: unknown variant {name!r}: choose from {', '.join(VARIANTS)} (+specaug)")
    flags = list(VARIANTS[name])
    if flags[:2] == ["--model", "bcrnn"] and "--float-first-layer" not in flags:
        flags.append("--binary-first-layer")  # the ablation's reference: the paper's all-binary BCRNN
    if flags[:2] == ["--model", "bcrnn"] and "--lstm-units" not in flags:
        flags += ["--lstm-units", "128"]  # the paper's width, as every row before the default widened
    return flags


def dev_tail(run: Path, n: int = 3) -> float:
    with open(run / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    vals = [float(r["dev_uar"]) for r in rows[-n:]]
    return sum(vals) / len(vals)


def load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}


def table(results: dict) -> str:
    lines = [
        "Emo-DB fixed split (train 03 08 11 13, dev 09 10, test 12 14 15 16), seed 0, "
        "one run per variant; dev UAR = mean of the last 3 epochs.",
        "",
        "| variant | flags | epochs | dev UAR % | test UAR % (selected epoch) | train acc | s/epoch |",
        "|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for name, r in results.items():
        mark = ""
        if r.get("note"):
            notes += [] if r["note"] in notes else [r["note"]]
            mark = " " + "*" * (notes.index(r["note"]) + 1)
        lines.append(
            f"| {name}{mark} | `{' '.join(r['flags'])}` | {r['epochs']} | {100 * r['dev_uar_last3']:.1f} | "
            f"{100 * r['test_uar']:.1f} | {r['train_accuracy']:.2f} | {r['seconds_per_epoch']:.0f} |"
        )
    lines += [""] + [f"{'*' * (i + 1)} {n}" for i, n in enumerate(notes)] if notes else []
    return "\n".join(lines)


def record(key: str, out: Path, flags: list[str]) -> None:
    """Merge a finished run's numbers into the results file (atomically)."""
    m = json.loads((out / "metrics.json").read_text())
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    results = load()
    results[key] = {
        "flags": flags,
        "epochs": len(rows),
        "dev_uar_last3": dev_tail(out),
        "best_dev_uar_smoothed": m["best_dev_uar"],
        "best_epoch": m["best_epoch"],
        "test_uar": m["uar"],
        "test_wa": m["wa"],
        "train_accuracy": float(rows[-1]["accuracy"]),
        "seconds_per_epoch": sum(float(r["seconds"]) for r in rows) / len(rows),
    }
    pooling = json.loads((out / "config.json").read_text())["model"].get("pooling", "max")
    if pooling != "max":  # rows before the `pooling` option (034871f) were all max-pooled
        results[key]["pooling"] = pooling
        results[key]["note"] = f"dev and test UAR pooled with {pooling} (rows without this mark: max)"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS, json.dumps(results, indent=2) + "\n")


def train_variant(name: str, seed: int, args: argparse.Namespace, record_if_new: bool = False) -> None:
    """Train one variant at one seed into RUNS/KEY and record it, unless its row is already recorded
    (with `record_if_new`: train it when its run directory is not complete, record only a new row)."""
    key = f"{name}-e{args.epochs}" + (f"-s{seed}" if seed else "")
    out = Path(args.runs) / key
    state = out / "state.json"
    done = state.is_file() and json.loads(state.read_text()).get("status") == "complete"
    if (record_if_new and done) or (not record_if_new and key in load()):
        return
    cmd = [sys.executable, "-m", "ser_bnn.cli", "train", "--dataset", "emodb", "--out", str(out)]
    cmd += ["--epochs", str(args.epochs), "--patience", str(args.epochs), "--no-progress"]
    cmd += ["--seed", str(seed), *PROTOCOL]
    flags = [
        f.format(runs=args.runs, epochs=args.epochs, seed=f"-s{seed}" if seed else "")
        for f in variant_flags(name)
    ]
    cmd += flags + (["--data-dir", args.data_dir] if args.data_dir else [])
    if state.exists():
        cmd.append("--resume")
    if subprocess.run(cmd).returncode != 0:
        sys.exit(f"ablation: variant {name} seed {seed} failed")
    if key not in load():
        record(key, out, flags)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", default="default,no-aug,no-dropout,crnn")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--seeds", default="0", help="comma-separated seeds; rows of seed s > 0 end in -sS")
    p.add_argument("--runs", default="runs/ablation")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--table", action="store_true", help="only print the table of committed results")
    p.add_argument("--record", default=None, help="record a finished run directory (flags after --)")
    p.add_argument("--name", default=None, help="its row name, with --record")
    args, flags = p.parse_known_args()
    if args.record:
        record(args.name or Path(args.record).name, Path(args.record), [f for f in flags if f != "--"])
        return 0
    if args.table:
        print(table(load()))
        return 0
    jobs = [(n, int(s)) for n in args.variants.split(",") for s in args.seeds.split(",")]
    for name, seed in jobs:
        if "--teacher" in variant_flags(name):
            train_variant("crnn", seed, args, record_if_new=True)  # the teacher, if its directory is gone
        train_variant(name, seed, args)
    print(table(load()))
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "ablation.py"))
