"""Re-make the bundled pretrained model (ser_bnn/pretrained/) and the numbers of its model card.

    python benchmarks/pretrained.py [--run runs/pretrained] [--data-dir DIR] [--runs 15]
    python benchmarks/pretrained.py --card     # only regenerate docs/MODEL_CARD.md's numbers
    python benchmarks/pretrained.py --check    # exit 1 if the card or the bundled files are stale

One command, so that a change of the default recipe (`ser_bnn/recipes.py`) only needs it again:

1. train: `ser-bnn train --dataset emodb --out RUN`: the default preset, seed 0, on the fixed split's
   six training speakers (03 08 09 10 11 13), 12 epochs, the last kept (no model selection);
   resumed when RUN holds an unfinished run, reused when it holds a finished one;
2. export: `ser-bnn export RUN --tflite --no-twin` into a temporary folder (the parity gate on the
   held-out speakers must pass; the float twin's size is the README's), then the .tflite, its
   sidecar and labels copied into ser_bnn/pretrained/;
3. held-out accuracy of the bundled file itself on the four test speakers (12 14 15 16), as
   benchmarks/online_norm.py measures it: offline speaker standardization (`ser-bnn evaluate`),
   `predict --speaker-norm`, streaming statistics (`predict`'s default, the app's rule) and the
   default statistics alone;
4. latency: one 3 s window, 1 thread, LCE's default kernels (`predict`) and XNNPACK
   (`predict --fast`), median of `--runs` calls, with the machine named;
5. writes benchmarks/results/pretrained.json, then the generated block of docs/MODEL_CARD.md from it
   and from the committed protocol results (benchmarks/results/protocol/).

Why the fixed split's training speakers and not all ten: docs/MODEL_CARD.md ("Training data").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "deploy"))

from ser_bnn.atomic import atomic_write_text  # noqa: E402
from ser_bnn.pretrained import FILES, FOLDER, NAME  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "pretrained.json"
CARD = ROOT / "docs" / "MODEL_CARD.md"
BEGIN, END = "<!-- card:begin (benchmarks/pretrained.py) -->", "<!-- card:end -->"
TRAIN_ARGS = ["train", "--dataset", "emodb", "--split", "fixed", "--seed", "0", "--no-progress"]


def cli(*args: str) -> None:
    """Run `ser-bnn ARGS` with this interpreter; a failure stops the script with its last line."""
    cmd = [sys.executable, "-m", "ser_bnn.cli", *args]
    print("+ ser-bnn " + " ".join(args), flush=True)
    p = subprocess.run(cmd, cwd=ROOT)
    if p.returncode != 0:
        raise SystemExit(f"pretrained.py: `ser-bnn {' '.join(args)}` failed (exit {p.returncode})")


def train(run: Path, data_dir: str | None) -> None:
    state = run / "state.json"
    done = state.is_file() and json.loads(state.read_text()).get("status") == "complete"
    if done:
        print(f"{run}: finished run, reused")
        return
    extra = ["--data-dir", data_dir] if data_dir else []
    cli(*TRAIN_ARGS, "--out", str(run), *extra, *(["--resume"] if state.is_file() else []))


def export(run: Path, data_dir: str | None) -> dict[str, Any]:
    """Export into a temporary folder, copy the three shipped files; the report's figures."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"{NAME}.tflite"
        cli("export", str(run), "--tflite", "-o", str(target), "--quiet", "--no-twin",
            *(["--data-dir", data_dir] if data_dir else []))  # fmt: skip
        report = json.loads(target.with_name(f"{NAME}.report.json").read_text())
        side = json.loads(target.with_suffix(".json").read_text())
        side["run"]["dir"] = _portable(run)  # no machine path in a committed file
        target.with_suffix(".json").write_text(json.dumps(side, indent=2) + "\n")
        for f in FILES:
            shutil.copyfile(Path(tmp) / f, FOLDER / f)
    par = report["parity"]
    keep = ("top1_agreement", "max_abs_diff", "max_abs_diff_flip_corrected", "rounding_flip_windows")
    settings = {n: {k: v[k] for k in keep if k in v} for n, v in par.get("settings", {}).items()}
    return {
        "op_check": {k: report["op_check"][k] for k in ("binary_layers", "lce_bconv2d")},
        "parity": {"windows": par.get("windows"), "passed": par.get("passed"), "settings": settings},
        "float_twin_bytes": report.get("float_twin", {}).get("size_bytes"),
        "binary_mac_share": report.get("summary", {}).get("binary_mac_share"),
        "parameters": report.get("summary", {}).get("total_params"),
    }


def _portable(run: Path) -> str:
    """The run directory relative to the repository (or its name): no machine path in committed files."""
    try:
        return str(run.resolve().relative_to(ROOT))
    except ValueError:
        return run.name


def heldout(run: Path, data_dir: str | None) -> dict[str, Any]:
    """benchmarks/online_norm.py on the bundled file: its UARs on the run's test speakers."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "heldout.json"
        cmd = [sys.executable, str(ROOT / "benchmarks" / "online_norm.py"), str(run), "--model",
               str(FOLDER / FILES[0]), "-o", str(out)]  # fmt: skip
        cmd += ["--data-dir", data_dir] if data_dir else []
        print("+ python benchmarks/online_norm.py RUN --model BUNDLED", flush=True)
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            raise SystemExit("pretrained.py: benchmarks/online_norm.py failed")
        r = json.loads(out.read_text())
    return {k: r[k] for k in ("test_speakers", "utterances", "uar", "speaker_norm_agrees_with_evaluate")}


def latency(runs: int, data_dir: str | None) -> dict[str, Any]:
    import numpy as np
    from benchkit import shipped_headline
    from benchmark import _windows

    from ser_bnn.runtime.interpreter import LceInterpreter

    data = (FOLDER / FILES[0]).read_bytes()
    n = max(int(np.prod(s)) for s in LceInterpreter(data).input_shapes)
    windows = _windows(n, Path(data_dir) if data_dir else ROOT.parent / "shared" / "data" / "emodb")
    h = shipped_headline({"BCRNN": data}, windows, runs=runs)
    keep = ("median_ms", "min_ms", "p90_ms", "cpu_median_ms")
    settings = {r["setting"]: {k: round(r[k], 2) for k in keep} | {"correct": r["correct"]}
                for r in h["rows"]}  # fmt: skip
    return {"machine": h["machine"], "load_after": h["load_after"], "runs": runs, "threads": 1,
            "settings": settings}  # fmt: skip


def files_info() -> dict[str, dict[str, Any]]:
    out = {}
    for f in FILES:
        b = (FOLDER / f).read_bytes()
        out[f] = {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
    return out


def training_info(run: Path) -> dict[str, Any]:
    cfg = json.loads((run / "config.json").read_text())
    split = json.loads((run / "split.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    m, t = cfg["model"], cfg["train"]
    return {
        "command": "ser-bnn " + " ".join(a for a in TRAIN_ARGS if a != "--no-progress"),
        "preset": "default",
        "model": {k: m[k] for k in ("name", "conv_filters", "lstm_units", "binary_first_layer", "pooling")},
        "epochs": t["epochs"], "seed": t["seed"], "dev_speakers": t["dev_speakers"],
        "train_speakers": split["train_speakers"], "test_speakers": split["test_speakers"],
        "train_utterances": len(split["train"]), "test_utterances": len(split["test"]),
        "labels": cfg["labels"], "train_seconds": metrics.get("train_seconds"),
        "run_uar": metrics["uar"], "run_wa": metrics["wa"],
    }  # fmt: skip


def make(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    run = Path(args.run)
    train(run, args.data_dir)
    result = {"training": training_info(run), "export": export(run, args.data_dir)}
    result["files"] = files_info()
    result["heldout"] = heldout(run, args.data_dir)
    result["latency"] = latency(args.runs, args.data_dir)
    result["date"] = time.strftime("%Y-%m-%d", time.gmtime())
    result["seconds"] = round(time.perf_counter() - t0, 1)
    atomic_write_text(RESULTS, json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="runs/pretrained", help="run directory to train in (or reuse)")
    p.add_argument("--data-dir", default=None, help="Emo-DB folder (default: as `ser-bnn train` finds it)")
    p.add_argument("--runs", type=int, default=15, help="timed calls per latency setting")
    p.add_argument("--card", action="store_true", help="only regenerate the card from the results JSON")
    p.add_argument("--check", action="store_true", help="exit 1 if the card or bundled files are stale")
    args = p.parse_args(argv)
    from card import render_card, stale

    if args.check:
        problems = stale(RESULTS, CARD, files_info())
        for m in problems:
            print(f"pretrained.py: {m}", file=sys.stderr)
        return 1 if problems else 0
    if not args.card:
        make(args)
    text = CARD.read_text()
    atomic_write_text(CARD, render_card(text, json.loads(RESULTS.read_text())))
    print(f"wrote {RESULTS.relative_to(ROOT)}, {CARD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "pretrained.py"))
