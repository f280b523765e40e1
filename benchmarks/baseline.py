"""The linear floor on Emo-DB: logistic regression on utterance statistics of the project's front end.

    python benchmarks/baseline.py                 # fixed split and 10-fold LOSO, every normalization
    python benchmarks/baseline.py --split fixed --norm speaker
    python benchmarks/baseline.py --split fixed-dev   # train 03 08 11 13, scored on the dev speakers 09 10

Same folds (dev speakers join the training side: the floor selects nothing) and the same
standardization as the networks (`ser_bnn.training.baseline`). Prints a Markdown table and writes
benchmarks/results/floor.json, from which the README's results table is generated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import ser_bnn  # noqa: F401
from ser_bnn.atomic import atomic_write_text
from ser_bnn.config import NORMS, Config, FeatureConfig
from ser_bnn.training.baseline import floor_for_folds

RESULTS = Path(__file__).resolve().parent / "results" / "floor.json"


def main() -> int:
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.data.splits import Fold, make_folds

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--split", default="fixed,loso")
    p.add_argument("--norm", default=",".join(NORMS))
    p.add_argument("--cache-dir", default=None)
    args = p.parse_args()
    corpus = load_corpus("emodb", args.data_dir)
    cache = Path(args.cache_dir) if args.cache_dir else None
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    lines = ["| split | standardization | floor UAR % | folds |", "|---|---|---|---|"]
    for split in args.split.split(","):
        if split == "fixed-dev":  # the networks' model-selection view: their 4 training speakers -> dev
            fold = make_folds(corpus, "fixed", dev_speakers=2)[0]
            folds = [Fold("fixed-dev", fold.train, [], fold.dev, fold.dev_speakers)]
        else:
            folds = make_folds(corpus, split, dev_speakers=2)
        for norm in args.norm.split(","):
            cfg = Config(features=FeatureConfig(norm=norm), labels=corpus.labels)
            per_fold = floor_for_folds(cfg, folds, cache)
            uars = np.array([m["uar"] for m in per_fold])
            results[f"{split}-{norm}"] = {
                "split": split,
                "norm": norm,
                "uar": float(uars.mean()),
                "uar_std": float(uars.std()),
                "folds": {m["fold"]: m["uar"] for m in per_fold},
            }
            spread = f" +- {100 * uars.std():.1f}" if len(uars) > 1 else ""
            lines.append(f"| {split} | {norm} | {100 * uars.mean():.1f}{spread} | {len(uars)} |")
            print(lines[-1], flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS, json.dumps(results, indent=2, sort_keys=True) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "baseline.py"))
