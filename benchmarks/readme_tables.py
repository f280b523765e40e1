"""Regenerate the generated blocks of README.md and docs/RESULTS.md from the committed metrics in
benchmarks/results/.

    python benchmarks/readme_tables.py          # rewrite every generated block
    python benchmarks/readme_tables.py --check  # exit 1 if a block of either file is out of date

A block lies between `<!-- NAME:begin (benchmarks/readme_tables.py) -->` and `<!-- NAME:end -->`;
the text around it is written by hand. Sources: floor.json (benchmarks/baseline.py), protocol/
(benchmarks/protocol.py: the default recipe over seeds and LOSO folds), online_norm_*.json
(benchmarks/online_norm.py: evaluation vs deployment), ablation.json (benchmarks/ablation.py),
pooling.json (benchmarks/pooling.py), speed_variants.json (python -m research.speed.variants --json) and
speed_headline.json (deploy/benchmark.py --headline-only --json). Run directories recorded in
them are shown by their last two parts, never as a path of the machine that made them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ser_bnn.atomic import atomic_write_text  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PAPER = "paper (Zhao et al. 2019, Emo-DB LOSO): BCRNN 79.7, CRNN 80.1, 3-D ACRNN 81.5 % UAR"


def _load(name: str) -> dict:
    p = RESULTS / name
    return json.loads(p.read_text()) if p.is_file() else {}


def run_name(path: str) -> str:
    """A run directory as its last two parts (`protocol/crnn-fixed-s0`): no machine path in the docs."""
    return "/".join(Path(path).parts[-2:])


def _flag(arg: str) -> str:
    """A recorded command-line argument; an absolute path (a teacher run) shown as `run_name`."""
    return run_name(arg) if arg.startswith("/") else arg


FLOOR_INTRO = """\
**Linear floor** (`python benchmarks/baseline.py`): class-balanced logistic regression (C = 0.1) on
201 utterance statistics of the same front end and standardization; trained on the training and
development speakers of each fold, scored on its test speakers; the last column is the networks'
model-selection view of the fixed split at seed 0 (trained on 03 08 11 13 only, scored on 09 10).

| standardization | fixed split UAR % | 10-fold LOSO UAR % (mean +- std over folds) | dev speakers 09 10 % |
|---|---|---|---|"""
NETWORKS_INTRO = """\
**Ablation, fixed split** (`python benchmarks/ablation.py`): how the recipe was chosen. Each row is
the default recipe of its time plus the flags shown, as they were then (`removed; in C`: an option
removed later because it found no gain, still in commit C; see [METHOD.md](METHOD.md)), with 2 of
the 6 training speakers held out as dev speakers, one per gender, drawn with the seed (seed 0: dev
09 10, train 03 08 11 13; seed 1: dev 03 13; seed 2: dev 09 11); model selection: mean dev UAR over
3 epochs; test speakers 12 14 15 16 (231 utterances); mean +- std over the seeds run; `-eN` = N
epochs (cosine schedule). `+specaug` rows ran with SpecAugment masks, the default until these rows
showed that it costs the CRNN 20 points of dev UAR; the e40 row is `ser-bnn train` with the first
defaults, stopped early. 2-core x86 CPU shared with other jobs (s/epoch is an upper bound); the rows
marked ** ran alone on a later 2-core AMD EPYC machine; there the re-run of crnn-e12 seed 0 (the
distillation teacher) gave dev 71.1 / test 73.6 % (mean-log) against that row's 74.9 / 75.1 (max,
earlier code and machine). The dev column is what decides between rows; the test column is reported,
never used to choose.

| variant | flags beyond the default recipe | seeds | epochs | dev UAR % | test UAR % | train acc | s/epoch |
|---|---|---|---|---|---|---|---|"""


def floor_table(floor: dict) -> list[str]:
    lines = FLOOR_INTRO.splitlines()
    for norm in ("speaker", "global", "segment"):
        f, loso, dev = (floor.get(f"{split}-{norm}") for split in ("fixed", "loso", "fixed-dev"))
        if f or loso:
            fx = f"{100 * f['uar']:.1f}" if f else "-"
            lo = f"{100 * loso['uar']:.1f} +- {100 * loso['uar_std']:.1f}" if loso else "-"
            dv = f"{100 * dev['uar']:.1f}" if dev else "-"
            lines.append(f"| {norm} | {fx} | {lo} | {dv} |")
    return lines


def ablation_table(ablation: dict) -> list[str]:
    """One row per variant (its seeds pooled); `*` marks a note; `(removed; in C)` an option removed
    later for finding no gain (`last_commit` C: a commit that still has it)."""
    lines = NETWORKS_INTRO.splitlines()
    groups: dict[tuple[str, str | None], list[dict]] = {}
    for key, r in ablation.items():  # seeds of a variant share a row unless their notes differ
        groups.setdefault((re.sub(r"-s\d+$", "", key), r.get("note")), []).append(r)
    notes: list[str] = []
    for (name, note), rs in groups.items():
        if note and note not in notes:
            notes.append(note)
        mark = " " + "*" * (notes.index(note) + 1) if note else ""
        flags = " ".join(_flag(f) for f in rs[0]["flags"] if f not in ("--model",))
        commit = next((r["last_commit"] for r in rs if r.get("last_commit")), None)
        gone = f" (removed; in {commit})" if commit else ""
        dev = np.array([r["dev_uar_last3"] for r in rs]) * 100
        test = np.array([r["test_uar"] for r in rs]) * 100
        spread = (lambda a: f" +- {a.std():.1f}") if len(rs) > 1 else (lambda a: "")
        lines.append(
            f"| {name}{mark} | `{flags}`{gone} | {len(rs)} | {rs[0]['epochs']} "
            f"| {dev.mean():.1f}{spread(dev)} | {test.mean():.1f}{spread(test)} "
            f"| {np.mean([r['train_accuracy'] for r in rs]):.2f} "
            f"| {np.mean([r['seconds_per_epoch'] for r in rs]):.0f} |"
        )
    return lines + ([""] + [f"{'*' * (i + 1)} {n}" for i, n in enumerate(notes)] if notes else [])


PROTOCOL_INTRO = """\
**The default recipe** (`python benchmarks/protocol.py`): `ser-bnn train --dataset emodb` as
shipped (recipe in [METHOD.md](METHOD.md); the BCRNN with 256 binary LSTM units per direction, the
CRNN with the paper's 128), trained on all non-test speakers for a fixed number of
epochs (no model selection: the epoch count and the BCRNN's width were chosen on the dev speakers
of the ablation runs below), scored once on the test speakers. Fixed split: test speakers 12 14 15
16, mean +- std over seeds; LOSO: a row per seed, mean +- std over its finished folds (one speaker
tested per fold) and the UAR of the pooled confusion matrix, and, once several seeds have finished,
a row of the mean over seeds (+- std over seeds); beside each row the linear floor of its split (table
above, speaker standardization) and, for LOSO, the paper's Table 1. Per-seed and per-fold metrics:
`benchmarks/results/protocol/`. Every decision is the geometric mean (`mean-log`) of the posteriors
of an utterance's speech windows, and speaker statistics cover speech windows only (as in `ser-bnn
predict`). Earlier recipes' results, among them the BCRNN with the paper's 128 LSTM units ({lstm128}):
`benchmarks/results/protocol/superseded/`.
"""


# rows other than the default recipe's, explained when their results exist
PROTOCOL_VARIANTS = {
    "bcrnn-kd": "`bcrnn-kd`: the BCRNN distilled from the CRNN of the same seed (`--distill`), at the "
    "CRNN's 128 LSTM units.",
}


README_PROTOCOL_INTRO = """\
**Emo-DB, the default recipe** (`python benchmarks/protocol.py`): `ser-bnn train --dataset emodb` as
shipped (the BCRNN with 256 binary LSTM units per direction, the float CRNN with the paper's 128),
scored once on speakers it never saw. Fixed split: test speakers 12 14 15 16, mean +- std over
seeds. LOSO: one speaker tested per fold; per seed the mean +- std over folds and the UAR of the
pooled confusion matrix, then the mean over seeds. Linear floor: logistic regression on utterance
statistics of the same features; paper: Zhao et al., Table 1. How these were run, and every other
table: [docs/RESULTS.md](docs/RESULTS.md).
"""


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), 100, break_on_hyphens=False)


def protocol_table(short: bool = False) -> list[str]:
    """The protocol table with its introduction (`short`: the README's) and the summary sentence."""
    from protocol import load_results, summarize, table

    results = load_results()
    if not results:
        return []
    notes = [t for v, t in PROTOCOL_VARIANTS.items() if any(n.startswith(f"{v}-") for n in results)]
    if short:
        intro = _wrap(README_PROTOCOL_INTRO)
    else:
        old = summarize(load_results(RESULTS / "protocol" / "superseded" / "lstm128"))
        lstm128 = ", ".join(f"{r['split']} {100 * r['uar']:.1f} +- {100 * r['std']:.1f}" for r in old)
        intro = _wrap(PROTOCOL_INTRO.format(lstm128=lstm128 or "no results"))
    if notes:
        intro += _wrap(" ".join(notes))
    return [*intro, "", table(results), "", *standing(summarize(results))]


def standing(rows: list[dict]) -> list[str]:
    """One generated sentence: each default model against the floor and the paper (LOSO)."""
    from protocol import FLOOR, PAPER_LOSO_UAR

    floors = json.loads(FLOOR.read_text())
    parts = []
    for split in ("fixed", "loso"):
        floor = 100 * floors[f"{split}-speaker"]["uar"]
        items = []
        for model in ("bcrnn", "crnn"):
            mine = [r for r in rows if (r["model"], r["split"]) == (model, split) and r.get("complete", True)]
            if not mine:
                continue
            # LOSO: the mean over seeds when several seeds finished, else the one finished run
            pick = next((r for r in mine if r.get("over_seeds")), mine[0])
            uar = 100 * pick["uar"]
            vs = f"{uar - floor:+.1f} against the floor"
            if split == "loso" and model in PAPER_LOSO_UAR:
                vs += f", {uar - PAPER_LOSO_UAR[model]:+.1f} against the paper's {model.upper()}"
            items.append(f"{model.upper()} {uar:.1f} % ({vs})")
        if items:
            name = "fixed split" if split == "fixed" else "10-fold LOSO"
            parts.append(f"{name} (floor {floor:.1f} %): " + ", ".join(items))
    if not parts:
        return []
    return _wrap("**Where it stands** (generated from the table above): " + "; ".join(parts) + ".")


DEPLOY_INTRO = """\
**Evaluation vs deployment** (`python benchmarks/online_norm.py RUN --model EXPORTED.tflite`, issue
10): seed-0 fixed-split runs exported with their speaker-statistics input, on the fixed split's
test speakers (231 utterances). The run column names the run: `protocol-v6/bcrnn-lstm256-fixed-s0`
is the protocol's seed-0 BCRNN (the default recipe); `deploy/` runs were trained again for this
check, and the same recipe and seed trained again on another machine lands a few points away (the
128-unit BCRNN, seed 0: 73.2 in the protocol, 77.6 retrained), so the protocol table is the
accuracy to quote.
*evaluate*: `ser-bnn evaluate`'s decisions (Keras; each speaker
standardized with the statistics of their speech windows, speech segments pooled: the rule the
exported model applies); *--speaker-norm*: the flatbuffer through `ser-bnn predict --speaker-norm`
per speaker, and how many of its decisions equal evaluate's; *streaming*: each speaker's files in
order, each window classified with the statistics accumulated before it (what the app does,
starting from zeros); *defaults*: every window with the default statistics. "no speech" counts as
wrong. *pooling*: the run's rule (results without the field predate `--pooling`: max). Files:
`benchmarks/results/online_norm_*.json`; [deploy/INTEGRATION.md](../deploy/INTEGRATION.md) explains
the rules.

| model | run | pooling | evaluate UAR % | --speaker-norm UAR % | agrees | streaming UAR % | defaults UAR % |
|---|---|---|---|---|---|---|---|"""


def deployment_table() -> list[str]:
    lines = []
    for path in sorted(RESULTS.glob("online_norm_*.json")):
        d = json.loads(path.read_text())
        u = d["uar"]
        run = run_name(d["run_dir"])
        lines.append(
            f"| {path.stem.removeprefix('online_norm_')} | `{run}` | {d.get('pooling', 'max')} | "
            f"{100 * u['offline_evaluate']['uar']:.1f} | "
            f"{100 * u['speaker_norm']['uar']:.1f} | "
            f"{d['speaker_norm_agrees_with_evaluate']}/{d['utterances']} | "
            f"{100 * u['streaming']['uar']:.1f} | {100 * u['defaults']['uar']:.1f} |"
        )
    return [*DEPLOY_INTRO.splitlines(), *lines, ""] if lines else []


SPEED_INTRO = """\
**Graph variants** (`python -m research.speed.variants --json ...`, issue 12): the deployable waveform-in
flatbuffer of each variant, converted with LCE at batch 1, its size, the ops one 3 s window executes,
the export's parity gate (top-1 on every window and max |dp| <= 1e-3 against Keras, one interpreter
called on every window in turn) for LCE's default kernels / XNNPACK / indirect BGEMM / indirect
BGEMM + XNNPACK (P pass, F fail), and the median latency of one window at 1 thread, every variant
and setting timed round-robin in the same run. A setting whose gate failed is not timed as a result
(`wrong`). UAR: the run's test UAR on the fixed split (its `metrics.json`). x86 CPU: LCE's binary
kernels here are its portable reference code, not the arm64 ones a phone runs."""


# the timed 1-thread settings (research/speed/variants.py) and the parity gate covering each, column by column
SPEED_SETTINGS = {
    "1t": "lce_default",
    "1t+xnn": "lce_xnnpack",
    "1t+ind": "lce_indirect",
    "1t+xnn+ind": "lce_indirect_xnnpack",
}


def _ms(row: dict, setting: str) -> str:
    if f"ms_{setting}" not in row:
        return "-"
    passed = (row.get("parity") or {}).get(SPEED_SETTINGS[setting], {}).get("passed")
    return f"{row[f'ms_{setting}']:.1f}" if passed else "wrong"


def speed_table() -> list[str]:
    var, head = _load("speed_variants.json"), _load("speed_headline.json")
    if not var:
        return []
    lines = [
        *SPEED_INTRO.splitlines(),
        "",
        "| variant | run | UAR % | bytes | ops / window | gate d/x/i/ix | ms default | ms XNNPACK | "
        "ms indirect | ms indirect + XNNPACK |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in var["rows"]:
        p = r.get("parity") or {}
        gate = "".join(
            "P" if p.get(g, {}).get("passed") else ("F" if g in p else "-") for g in SPEED_SETTINGS.values()
        )
        run = run_name(r["run_dir"]) if r.get("run_dir") else "untrained"
        uar = "-" if r.get("uar") is None else f"{100 * r['uar']:.1f}"
        ms = " | ".join(_ms(r, s) for s in SPEED_SETTINGS)
        size, ops = f"{r['size_bytes']:,}", f"{r['ops_executed']:,}"
        lines.append(f"| {r['variant']} | `{run}` | {uar} | {size} | {ops} | {gate} | {ms} |")
    before, after = (var[k]["uptime"].split("average:")[-1].strip() for k in ("load_before", "load_after"))
    cpu = var["load_before"].get("cpu", "x86")
    lines += [
        "",
        f"CPU: {cpu}, {var['load_before']['cores']} cores; load average before / after: {before} / {after} "
        f"(the machine otherwise idle); median of {var['runs']} runs each.",
    ]
    if head.get("headline"):
        h = head["headline"]
        lines += [
            "",
            "**Fastest correct setting** (`python deploy/benchmark.py --run RUN --twin-run TWIN "
            "--headline-only`): each model at its fastest 1-thread setting that stays correct over "
            "repeated calls, timed interleaved in the same run:",
            "",
        ]
        for name, m in h["models"].items():
            lines.append(
                f"- {name}: {m['median_ms']:.2f} ms ({m['graph']}, {m['setting']}; {m['size_bytes']:,} B)"
            )
        if "ratio" in h:
            lines.append(f"- ratio BCRNN / float twin: {h['ratio']:.2f} (target <= 1.0, goal <= 0.5)")
    return lines


POOLING_INTRO = """\
**Pooling, chosen on dev speakers** (`python benchmarks/pooling.py`): every finished ablation run
above (its kept weights, its 2 dev speakers), the same segment posteriors pooled per utterance by
the per-class maximum (paper) and by the geometric mean (`mean-log`); UAR %. Most dev utterances
have one 3 s window, where the rules agree; the dev column decided the default, the test column
is reported only. Mean +- std of the change over runs in the last rows: all runs, and the runs
trained with the current code. The rule declared before the runs: mean-log stays the default if
the mean dev change over all runs is above 0."""


def pooling_table() -> list[str]:
    doc = _load("pooling.json")
    if not doc.get("runs"):
        return []
    from pooling import table

    return ["", *POOLING_INTRO.splitlines(), "", table(doc, _load("ablation.json"))]


def results_block() -> list[str]:
    """docs/RESULTS.md: the floor, the protocol, evaluation vs deployment, the ablation, pooling."""
    parts = floor_table(_load("floor.json")) + [""] + protocol_table() + [""] + deployment_table()
    return parts + ablation_table(_load("ablation.json")) + pooling_table() + ["", PAPER]


# {file: {block name: what fills it}}; --check covers every one
BLOCKS: dict[str, dict[str, Callable[[], list[str]]]] = {
    "README.md": {"results": lambda: protocol_table(short=True)},
    "docs/RESULTS.md": {"results": results_block, "speed": speed_table},
}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin (benchmarks/readme_tables.py) -->", f"<!-- {name}:end -->"


def regenerate(text: str, blocks: dict[str, Callable[[], list[str]]], where: str = "text") -> str:
    """`text` with each named block between its markers replaced by its generated lines."""
    for name, make in blocks.items():
        begin, end = markers(name)
        if text.count(begin) != 1 or text.count(end) != 1:
            sys.exit(f"readme_tables: {where} needs one {begin} and one {end}")
        head, rest = text.split(begin, 1)
        text = head + "\n".join([begin, *make(), end]) + rest.split(end, 1)[1]
    return text


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a generated block is out of date")
    args = p.parse_args()
    stale = []
    for rel, blocks in BLOCKS.items():
        path = ROOT / rel
        if not path.is_file():
            sys.exit(f"readme_tables: {rel} does not exist")
        old = path.read_text()
        new = regenerate(old, blocks, rel)
        if new == old:
            continue
        if args.check:
            import difflib

            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), rel, "generated", lineterm="")
            print("\n".join(list(diff)[:40]), file=sys.stderr)
            stale.append(rel)
        else:
            atomic_write_text(path, new)
    if stale:
        print(f"out of date: {', '.join(stale)} (run python benchmarks/readme_tables.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "readme_tables.py"))
