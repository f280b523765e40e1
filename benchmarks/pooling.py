"""How an utterance's segment posteriors become one decision: max (paper) against mean-log, chosen on
development speakers.

    python benchmarks/pooling.py                         # every finished ablation run with dev speakers
    python benchmarks/pooling.py RUN_DIR [RUN_DIR ...]   # given runs
    python benchmarks/pooling.py --table                 # print the committed results

Each ablation run (`benchmarks/ablation.py`: 4 training speakers, 2 dev speakers drawn with the
seed, test speakers 12 14 15 16) is loaded with its kept weights; its dev and test speakers'
speech segments go through the network once, and the same posteriors are pooled per utterance
with every rule of `ser_bnn.dsp.segments.POOLINGS`. The dev columns decide (the default preset's
`pooling`); the test columns are reported, never used to choose. Results:
benchmarks/results/pooling.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import ser_bnn  # noqa: F401
from ser_bnn.atomic import atomic_write_text
from ser_bnn.errors import SerBnnError
from ser_bnn.training.rundir import is_complete

RESULTS = Path(__file__).resolve().parent / "results" / "pooling.json"


def score_run(run_dir: Path, data_dir: str | None) -> dict:
    """UAR % of every pooling rule on the run's dev and test speakers."""
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.data.inputs import network_inputs
    from ser_bnn.dsp.segments import POOLINGS
    from ser_bnn.training.evaluate import decide, speech_posteriors
    from ser_bnn.training.rundir import load_trained

    split = json.loads((run_dir / "split.json").read_text())
    model, cfg = load_trained(run_dir)
    corpus = load_corpus(cfg.dataset, data_dir, **cfg.corpus_options)
    by_id = {u.id: u for u in corpus.utterances}
    labels = list(cfg.labels)
    out = {"model": cfg.model.name, "dev_speakers": split["dev_speakers"], "seed": cfg.train.seed}
    for part in ("dev", "test"):
        utts = [by_id[i] for i in split[part]]
        seg = network_inputs(utts, cfg.features, None, None, False)
        post, utt, has_speech = speech_posteriors(model, seg)
        y = [labels.index(u.label) for u in utts]
        n_multi = int((np.bincount(utt, minlength=len(utts)) > 1).sum())
        out[part] = {
            rule: round(100 * decide(post, utt, has_speech, y, labels, seg.ids, rule)["uar"], 1)
            for rule in POOLINGS
        }
        out[part]["utterances"] = len(utts)
        out[part]["multi_segment_utterances"] = n_multi
    return out


def summary(runs: dict[str, dict]) -> dict:
    """Mean, std and sign count of the dev (and test) UAR change from max to mean-log."""
    out = {}
    for part in ("dev", "test"):
        d = np.array([r[part]["mean-log"] - r[part]["max"] for r in runs.values()])
        out[part] = {
            "runs": len(d),
            "mean_delta": round(float(d.mean()), 2) if len(d) else None,
            "std_delta": round(float(d.std(ddof=1)), 2) if len(d) > 1 else None,
            "better": int((d > 0).sum()),
            "equal": int((d == 0).sum()),
            "worse": int((d < 0).sum()),
        }
    return out


def _delta_row(label: str, part: dict, test: dict) -> str:
    return (
        f"| **{label}** | | | **{part['mean_delta']:+.2f} +- {part['std_delta']:.2f}** "
        f"({part['better']} better, {part['equal']} equal, {part['worse']} worse) | | "
        f"{test['mean_delta']:+.2f} +- {test['std_delta']:.2f} |"
    )


def table(doc: dict, ablation: dict | None = None) -> str:
    """The per-run table, the change over all runs and, given the ablation results, over the runs
    of the current training code (ablation rows without a note)."""
    rows = [
        "| run | dev speakers | dev max | dev mean-log | test max | test mean-log |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in sorted(doc["runs"].items()):
        rows.append(
            f"| {name} | {' '.join(r['dev_speakers'])} | {r['dev']['max']} | {r['dev']['mean-log']} "
            f"| {r['test']['max']} | {r['test']['mean-log']} |"
        )
    s = doc["summary"]
    rows.append(_delta_row(f"mean-log - max, {s['dev']['runs']} runs", s["dev"], s["test"]))
    if ablation:
        current = {n: r for n, r in doc["runs"].items() if n in ablation and not ablation[n].get("note")}
        if len(current) > 1:
            c = summary(current)
            rows.append(_delta_row(f"same, {len(current)} runs without * above", c["dev"], c["test"]))
    return "\n".join(rows)


def _ablation() -> dict | None:
    path = RESULTS.parent / "ablation.json"
    return json.loads(path.read_text()) if path.is_file() else None


def finished_dev_runs(runs_dir: Path) -> list[Path]:
    found = []
    for split in sorted(runs_dir.glob("*/split.json")):
        if not is_complete(split.parent):
            continue
        if json.loads(split.read_text()).get("dev_speakers"):
            found.append(split.parent)
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", help="run directories (default: finished runs in --runs-dir)")
    p.add_argument("--runs-dir", default="runs/ablation", help="where benchmarks/ablation.py wrote its runs")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--table", action="store_true", help="only print the table of committed results")
    p.add_argument("--force", action="store_true", help="re-score runs already in the results")
    args = p.parse_args()
    if args.table:
        if not RESULTS.is_file():
            raise SerBnnError(f"no committed results ({RESULTS}); run the script first")
        print(table(json.loads(RESULTS.read_text()), _ablation()))
        return 0
    runs = [Path(r) for r in args.runs] or finished_dev_runs(Path(args.runs_dir))
    if not runs:
        raise SerBnnError(f"no finished runs with dev speakers in {args.runs_dir}; give run directories")
    for r in runs:
        if not (r / "split.json").is_file():
            raise SerBnnError(f"{r} is not a single-fold run directory (no split.json)")
    doc = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"runs": {}}
    for i, r in enumerate(runs, 1):
        if r.name in doc["runs"] and not args.force:
            continue
        doc["runs"][r.name] = score_run(r, args.data_dir)
        d = doc["runs"][r.name]
        print(f"[{i}/{len(runs)}] {r.name}: dev {d['dev']}, test {d['test']}", flush=True)
        doc["summary"] = summary(doc["runs"])
        atomic_write_text(RESULTS, json.dumps(doc, indent=1) + "\n")  # after every run: resumable
    print(table(doc, _ablation()))
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "pooling.py"))
