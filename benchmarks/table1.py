"""Reproduce the Emo-DB part of the paper's Table 1: BCRNN vs full-precision CRNN.

    python benchmarks/table1.py                   # fixed split: train 03 08 09 10 11 13, test 12 14 15 16
    python benchmarks/table1.py --split loso          # 10-fold leave-one-speaker-out (long)
    python benchmarks/table1.py --runs runs/table1    # reuse finished runs, resume unfinished ones

Each model is trained with `ser-bnn train` (so the numbers are exactly what users get), then the
results table is printed in Markdown next to the paper's numbers, and written to `table1.md`
in the runs directory. Extra arguments after `--` go to `ser-bnn train` unchanged.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import ser_bnn  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)

PAPER_UAR = {"bcrnn": 79.7, "crnn": 80.1}
PAPER_MB = {"bcrnn": 4.34, "crnn": 105.48}


def run_model(model: str, args: argparse.Namespace, extra: list[str]) -> tuple[dict, float]:
    out = Path(args.runs) / f"{args.split.replace(':', '')}-{model}"
    cmd = [
        sys.executable,
        "-m",
        "ser_bnn.cli",
        "train",
        "--dataset",
        "emodb",
        "--model",
        model,
        "--split",
        args.split,
        "--out",
        str(out),
        "--seed",
        str(args.seed),
    ]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    if args.epochs:
        cmd += ["--epochs", str(args.epochs)]
    if (out / "state.json").exists():
        cmd.append("--resume")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd + extra)
    if proc.returncode != 0:
        sys.exit(f"table1: training {model} failed (exit {proc.returncode})")
    return json.loads((out / "metrics.json").read_text()), time.perf_counter() - t0


def model_sizes(model: str) -> dict:
    from ser_bnn.config import Config, ModelConfig
    from ser_bnn.models import build_model
    from ser_bnn.summary import model_summary

    cfg = Config(model=ModelConfig(name=model))
    return model_summary(build_model(cfg), cfg)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", default="fixed")
    p.add_argument("--runs", default="runs/table1")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default="bcrnn,crnn")
    args, extra = p.parse_known_args()
    extra = [a for a in extra if a != "--"]
    rows = []
    for model in args.models.split(","):
        metrics, wall = run_model(model, args, extra)
        s = model_sizes(model)
        rows.append((model, metrics, wall, s))
    proto = "LOSO, mean +- std over 10 folds" if args.split == "loso" else f"split `{args.split}`"
    lines = [
        f"Emo-DB, speaker-independent, {proto}; utterance decision = max-pooled 3 s segment posteriors.",
        "",
        "| model | UAR % | WA % | paper UAR % | train time | params (binary) | size bit-packed "
        "| size float32 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, m, wall, s in rows:
        uar = f"{100 * m['uar']:.1f}" + (f" +- {100 * m['uar_std']:.1f}" if "uar_std" in m else "")
        lines.append(
            f"| {model.upper()} | {uar} | {100 * m['wa']:.1f} | {PAPER_UAR[model]} | "
            f"{m.get('train_seconds', wall) / 60:.0f} min | {s['total_params']:,} ({s['binary_params']:,}) | "
            f"{s['bitpacked_bytes'] / 1e6:.3f} MB | {s['float32_bytes'] / 1e6:.2f} MB |"
        )
    lines.append("| 3-D ACRNN (paper) | - | - | 81.5 | - | - | - | - |")
    table = "\n".join(lines)
    print(table)
    Path(args.runs).mkdir(parents=True, exist_ok=True)
    (Path(args.runs) / "table1.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "table1.py"))
