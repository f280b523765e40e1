"""The reported protocol: the default recipe, BCRNN and CRNN, seeds on the fixed split and 10-fold LOSO.

    python benchmarks/protocol.py --split fixed --seeds 0,1,2          # 3 seeds x 2 models
    python benchmarks/protocol.py --distill     # BCRNN distilled from the CRNN of the same seed
    python benchmarks/protocol.py --split loso --seeds 0 --models bcrnn # resumable across sessions
    python benchmarks/protocol.py --split loso --seeds 0 --models bcrnn --jobs 2  # 2 folds at once
    python benchmarks/protocol.py --models bcrnn --variant bcrnn-lstm384 -- --lstm-units 384 # candidate
    python benchmarks/protocol.py --collect     # copy finished folds of running/killed runs
    python benchmarks/protocol.py --table       # print the table from the committed results

Each (model, split, seed) is `ser-bnn train --dataset emodb --model M --split S --seed N` with
the default recipe (and any flags after `--`), in RUNS/M-S-sN; an existing run directory is
resumed, finished folds are kept. Every finished fold's metrics.json (with its per-utterance
predictions and confusion matrix) is copied to benchmarks/results/protocol/M-S-sN/FOLD.json, while
the run is going (every minute), so a LOSO can be finished across sessions and committed fold by
fold. Test speakers are only ever used to score a finished model.

Parallel mode (`--split loso --jobs 2`): the folds (all ten, or `--folds`) run as separate
`--split loso:K` runs, two at a time, each limited to cores / jobs TensorFlow threads
(`TF_NUM_INTRAOP_THREADS`, `TF_NUM_INTEROP_THREADS`; results land where `--folds` puts them). A
training step is mostly the LSTM loops' 150 small steps per direction, which two threads share
poorly, so on 2 cores two 1-thread folds train more segments per hour than one 2-thread fold
(`benchmarks/train_speed.py --jobs 2`; figures in docs/RESULTS.md, "Training speed"). Same recipe
and seed; a fold trained on 1 thread is not bit-identical to one trained on 2 (float sums in
another order), so its UAR differs within run-to-run noise (docs/RESULTS.md gives its size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import ser_bnn  # noqa: F401
from ser_bnn.atomic import atomic_write_text
from ser_bnn.data.corpora.emodb import FIXED_TEST_SPEAKERS, FIXED_TRAIN_SPEAKERS

RESULTS = Path(__file__).resolve().parent / "results" / "protocol"
KEEP = ("uar", "wa", "per_class_recall", "confusion", "labels", "n_test_utterances", "predictions",
        "split", "fold", "test_speakers", "dev_speakers", "model", "epochs_trained", "best_epoch",
        "train_seconds", "pooling")  # fmt: skip


def collect(run: Path, name: str | None = None) -> int:
    """Copy the finished folds of one run directory into RESULTS/<name or run name>/; returns how many."""
    dest = RESULTS / (name or run.name)
    found = [run] if (run / "split.json").is_file() else sorted(p.parent for p in run.glob("*/split.json"))
    n = 0
    for fold_dir in found:
        m = fold_dir / "metrics.json"
        state = fold_dir / "state.json"
        if not (m.is_file() and state.is_file()):
            continue
        if json.loads(state.read_text()).get("status") != "complete":
            continue
        metrics = json.loads(m.read_text())
        dest.mkdir(parents=True, exist_ok=True)
        if (run / "config.json").is_file() and not (dest / "config.json").is_file():
            atomic_write_text(dest / "config.json", (run / "config.json").read_text())
        kept = {k: metrics[k] for k in KEEP if k in metrics}
        atomic_write_text(dest / f"{metrics['fold']}.json", json.dumps(kept, indent=1) + "\n")
        n += 1
    return n


def _no_collect(run: Path, name: str | None = None) -> int:
    return 0


def load_results(root: Path = RESULTS) -> dict[str, list[dict]]:
    """{run name: [fold metrics]} from the committed files (of the default recipe, or under `root`)."""
    out = {}
    for d in sorted(root.glob("*-s*")):
        folds = [json.loads(p.read_text()) for p in sorted(d.glob("*.json")) if p.name != "config.json"]
        if folds:
            out[d.name] = folds
    return out


def summarize(results: dict[str, list[dict]]) -> list[dict]:
    """Rows per (variant, split): fixed = mean +- std over seeds; loso = mean +- std over folds, pooled.
    The variant is the run name before `-<split>-sN`: the model, or `bcrnn-kd` (distilled)."""
    groups: dict[tuple[str, str], list[tuple[str, list[dict]]]] = {}
    seeds: dict[str, int | None] = {}
    for name, folds in results.items():
        split = folds[0]["split"].split(":")[0]  # loso:K folds belong to loso
        model, _, seed = name.rpartition(f"-{split}-s")
        seeds[name] = int(seed) if model and seed.isdigit() else None
        groups.setdefault((model or name, split), []).append((name, folds))
    rows = []
    for (model, split), runs in sorted(groups.items()):
        if split.startswith("loso"):
            done = []
            for name, folds in runs:
                uars = np.array([f["uar"] for f in folds])
                cm = np.sum([np.array(f["confusion"]) for f in folds], axis=0)
                complete = len(folds) == LOSO_FOLDS
                rows.append({"model": model, "split": split, "run": name, "n": len(folds), "unit": "folds",
                             "uar": uars.mean(), "std": uars.std(), "pooled_uar": _pooled_uar(cm),
                             "wa": np.mean([f["wa"] for f in folds]), "seed": seeds[name],
                             "complete": complete, "cm": cm})  # fmt: skip
                if complete:
                    done.append(rows[-1])
            if len(done) > 1:  # over seeds: the mean of each seed's fold mean, its std over seeds
                means = np.array([r["uar"] for r in done])
                cm = np.sum([r["cm"] for r in done], axis=0)
                rows.append({"model": model, "split": split, "run": ",".join(r["run"] for r in done),
                             "n": len(done), "unit": "seeds", "uar": means.mean(), "std": means.std(),
                             "pooled_uar": _pooled_uar(cm), "wa": np.mean([r["wa"] for r in done]),
                             "seed": None, "complete": True, "cm": cm, "over_seeds": True})  # fmt: skip
        else:
            uars = np.array([folds[0]["uar"] for _, folds in runs])
            rows.append({"model": model, "split": split, "run": ",".join(n for n, _ in runs), "n": len(runs),
                         "unit": "seeds", "uar": uars.mean(), "std": uars.std(), "pooled_uar": None,
                         "wa": np.mean([folds[0]["wa"] for _, folds in runs])})  # fmt: skip
    return rows


LOSO_SPEAKERS = tuple(sorted(FIXED_TRAIN_SPEAKERS + FIXED_TEST_SPEAKERS))  # Emo-DB's ten speakers
LOSO_FOLDS = len(LOSO_SPEAKERS)


def _pooled_uar(cm: np.ndarray) -> float:
    """UAR of a (summed) confusion matrix: the mean per-class recall."""
    return float((np.diag(cm) / np.maximum(cm.sum(axis=1), 1)).mean())


# Zhao et al., ICASSP 2019, Table 1: Emo-DB UAR % under leave-one-speaker-out
PAPER_LOSO_UAR = {"bcrnn": 79.7, "crnn": 80.1}
FLOOR = RESULTS.parent / "floor.json"  # benchmarks/baseline.py


def _floor(split: str) -> str:
    """The linear floor (speaker standardization, the networks' own) for a split, from floor.json."""
    floors = json.loads(FLOOR.read_text()) if FLOOR.is_file() else {}
    f = floors.get(f"{split}-speaker")
    if f is None:
        return "-"
    return f"{100 * f['uar']:.1f}" + (f" +- {100 * f['uar_std']:.1f}" if split == "loso" else "")


def table(results: dict[str, list[dict]]) -> str:
    """Markdown: each row beside the linear floor of its split and, for LOSO, the paper's result."""
    lines = [
        "| model | split | runs | UAR % (mean +- std) | pooled UAR % | WA % | linear floor % | paper % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in summarize(results):
        pooled = f"{100 * r['pooled_uar']:.1f}" if r["pooled_uar"] is not None else "-"
        base = r["model"].split("-")[0]
        paper = f"{PAPER_LOSO_UAR[base]:.1f}" if r["split"] == "loso" and base in PAPER_LOSO_UAR else "-"
        runs = f"{r['n']} {r['unit']}"
        if r.get("over_seeds"):
            runs = f"{r['n']} seeds x {LOSO_FOLDS} folds (std over seeds)"
        elif r["split"] == "loso":
            runs = f"{r['n']} folds" if r["complete"] else f"{r['n']} of {LOSO_FOLDS} folds (unfinished)"
            if r["seed"] is not None:
                runs += f", seed {r['seed']}"
        lines.append(
            f"| {r['model']} | {r['split']} | {runs} "
            f"| {100 * r['uar']:.1f} +- {100 * r['std']:.1f} "
            f"| {pooled} | {100 * r['wa']:.1f} | {_floor(r['split'])} | {paper} |"
        )
    return "\n".join(lines)


def start_one(
    model: str,
    split: str,
    seed: int,
    runs: Path,
    data_dir: str | None,
    extra: list[str],
    fold: str | None = None,
    variant: str | None = None,
    keep_results: bool = False,
    threads: int = 0,
) -> tuple[subprocess.Popen, Path, str, object]:
    """Start training (or resuming) one run in RUNS/V-S-sN (V: `variant` or the model); with `fold`,
    only LOSO fold `loso:fold`, in RUNS/V-loso-sN/loso-fold. With `keep_results`, results already
    committed under that name are not replaced (a teacher re-trained for its students). `threads` > 0
    limits TensorFlow to that many intra- and inter-op threads. Returns (process, dir, name, collector)."""
    name = f"{variant or model}-{split}-s{seed}"
    out = runs / name / f"loso-{fold}" if fold else runs / name
    split = f"loso:{fold}" if fold else split
    gather = collect
    if keep_results and (RESULTS / name).is_dir():
        print(f"protocol: {name}: committed results kept; this run is only a teacher", flush=True)
        gather = _no_collect
    cmd = [sys.executable, "-m", "ser_bnn.cli", "train", "--dataset", "emodb", "--model", model]
    cmd += ["--split", split, "--seed", str(seed), "--out", str(out), "--no-progress", *extra]
    cmd += ["--data-dir", data_dir] if data_dir else []
    if (out / "state.json").exists():
        cmd.append("--resume")
    env = None
    if threads > 0:
        n = str(threads)
        env = {**os.environ, "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": n, "OMP_NUM_THREADS": n}
    return subprocess.Popen(cmd, env=env), out, name, gather


def run_all(specs: list[dict], jobs: int = 1, poll: float = 60.0) -> str | None:
    """Run the `start_one` keyword sets in `specs`, `jobs` at a time (each with cores // jobs threads
    when jobs > 1), collecting finished folds every `poll` seconds; returns a failed run's name or None."""
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 0
    pending, running, failed = list(specs), [], None
    while pending or running:
        while pending and len(running) < jobs and failed is None:
            spec = pending.pop(0)
            running.append((start_one(**spec, threads=threads), spec))
        time.sleep(poll if running else 0)
        for item in list(running):
            (proc, out, name, gather), spec = item
            gather(out, name) if out.exists() else None
            if proc.poll() is not None:
                running.remove(item)
                if proc.returncode != 0 and failed is None:
                    failed = f"{spec['model']} {spec['split']} seed {spec['seed']} {spec.get('fold') or ''}"
        if failed is not None:
            pending = []
    return failed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="bcrnn,crnn")
    p.add_argument("--split", default="fixed", choices=["fixed", "loso"])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--runs", default="runs/protocol")
    p.add_argument("--data-dir", default=None)
    p.add_argument(
        "--distill",
        action="store_true",
        help="BCRNN runs (named bcrnn-kd-...) distill from the CRNN run of the same split and seed, trained "
        "first when its directory is missing (committed CRNN results are kept), at the CRNN's width",
    )
    p.add_argument(
        "--variant",
        default=None,
        help="name runs V-<split>-sN instead of <model>-<split>-sN (a recipe change given as flags "
        "after --, reported as its own row; one model only)",
    )
    p.add_argument(
        "--folds",
        default=None,
        help="LOSO only: train just these folds (speakers, e.g. 12,13) each as `--split loso:K`; "
        "finished folds of a run whose directory is gone are then not retrained",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="LOSO only: train this many folds at once, each a `--split loso:K` run (all ten speakers "
        "unless --folds) limited to cores / jobs TensorFlow threads (parallel mode: module docstring)",
    )
    p.add_argument("--collect", action="store_true", help="only copy finished folds of existing runs")
    p.add_argument("--table", action="store_true", help="only print the table of committed results")
    args, extra = p.parse_known_args()
    extra = [f for f in extra if f != "--"]
    runs = Path(args.runs)
    if args.table:
        print(table(load_results()))
        return 0
    if args.collect:
        print(f"collected {sum(collect(d) for d in sorted(runs.glob('*-s*')))} finished folds")
        return 0
    models = args.models.split(",")
    if args.folds and args.split != "loso":
        sys.exit("protocol: --folds needs --split loso")
    if args.jobs < 1:
        sys.exit("protocol: --jobs needs a positive number")
    if args.jobs > 1 and args.split != "loso":
        sys.exit("protocol: --jobs needs --split loso (it runs LOSO folds side by side)")
    folds = args.folds.split(",") if args.folds else [None]
    if args.jobs > 1 and not args.folds:
        folds = list(LOSO_SPEAKERS)
    if args.variant and (len(models) != 1 or args.distill or args.variant in ("bcrnn", "crnn")):
        sys.exit("protocol: --variant needs one --models entry, no --distill, and a new name")
    for seed in (int(s) for s in args.seeds.split(",")):
        for model in sorted(models, key=lambda m: m != "crnn"):  # a teacher before its student
            flags = list(extra)
            variant = args.variant
            if args.distill and model == "bcrnn":
                # the student starts from its twin's weights, so it takes the twin's 128 LSTM units
                flags += ["--teacher", str(runs / f"crnn-{args.split}-s{seed}"), "--lstm-units", "128"]
                variant = "bcrnn-kd"
            keep = args.distill and model == "crnn"
            common = {"model": model, "split": args.split, "seed": seed, "runs": runs, "extra": flags,
                      "data_dir": args.data_dir, "variant": variant, "keep_results": keep}  # fmt: skip
            failed = run_all([{**common, "fold": fold} for fold in folds], args.jobs)
            if failed:
                sys.exit(f"protocol: {failed} failed")
    print(table(load_results()))
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "protocol.py"))
