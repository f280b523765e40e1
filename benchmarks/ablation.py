"""Recipe ablation on Emo-DB's fixed split: each change to the default recipe, one run each.

    python benchmarks/ablation.py --epochs 12 --variants default,no-aug,no-dropout,crnn
    python benchmarks/ablation.py --variants default,crnn --seeds 0,1,2   # mean +- std over seeds
    python benchmarks/ablation.py --table          # print the table from the committed results
    python benchmarks/ablation.py --record runs/x --name default-e40 -- --model bcrnn   # a finished run

The variants are data: named `Config` differences in `ser_bnn.recipes` (`VARIANTS`), run as the train
flags that make them. Every variant is `ser-bnn train --dev-speakers 2` with the default preset plus
its flags (the default recipe trains on all non-test speakers; the ablation holds 2 out to choose
on), and `NAME+specaug` is variant NAME with SpecAugment on. Variants whose options were removed
(`RETIRED_VARIANTS`) keep their rows and name the last commit that runs them. The reference row
`default` is the paper's all-binary BCRNN (`ABLATION_REFERENCE`): BCRNN variants run with
`--binary-first-layer` unless they keep the first conv in float (rows recorded before the default
preset's first conv became float got it from the preset and do not list the flag), and with the
paper's 128 LSTM units unless they set `--lstm-units` (rows recorded before the default BCRNN became
256 units wide had 128 from the preset). Decisions between
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
from ser_bnn.atomic import atomic_write_text
from ser_bnn.training.rundir import is_complete

RESULTS = Path(__file__).resolve().parent / "results" / "ablation.json"


def variant_flags(name: str) -> list[str]:
    """The train flags of variant `name` (`ser_bnn.recipes`): its own changes, then the ablation
    reference's that it does not override (the paper's binary first conv and 128 LSTM units)."""
    from ser_bnn.commands.train import to_flags
    from ser_bnn.recipes import ABLATION_REFERENCE, variant

    v = variant(name)
    reference = {k: x for k, x in ABLATION_REFERENCE.changes_for(v.model).items() if k not in v.changes}
    return ["--model", v.model, *to_flags(dict(v.changes)), *to_flags(reference)]


def protocol_flags() -> list[str]:
    """The ablation protocol: 2 of the 6 non-test speakers held out for model selection."""
    from ser_bnn.commands.train import to_flags
    from ser_bnn.recipes import ABLATION_PROTOCOL

    return to_flags(dict(ABLATION_PROTOCOL.changes))


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
    done = is_complete(out)
    if (record_if_new and done) or (not record_if_new and key in load()):
        return
    cmd = [sys.executable, "-m", "ser_bnn.cli", "train", "--dataset", "emodb", "--out", str(out)]
    cmd += ["--epochs", str(args.epochs), "--patience", str(args.epochs), "--no-progress"]
    cmd += ["--seed", str(seed), *protocol_flags()]
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
    from ser_bnn.recipes import teacher_variant

    jobs = [(n, int(s)) for n in args.variants.split(",") for s in args.seeds.split(",")]
    for name, seed in jobs:
        teacher = teacher_variant(name)
        if teacher:  # the teacher (crnn) or stage 1 (real-weights), if its directory is gone
            train_variant(teacher, seed, args, record_if_new=True)
        train_variant(name, seed, args)
    print(table(load()))
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "ablation.py"))
