"""The generated block of docs/MODEL_CARD.md, from benchmarks/results/pretrained.json and the
committed protocol results (benchmarks/protocol.py). Used by benchmarks/pretrained.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- card:begin (benchmarks/pretrained.py) -->", "<!-- card:end -->"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def protocol_lines(model: str = "bcrnn") -> list[str]:
    """The recipe's expected accuracy: fixed split over seeds, LOSO over seeds and over folds."""
    from protocol import load_results, summarize

    results = load_results()
    rows = [r for r in summarize(results) if r["model"] == model]
    fixed = [r for r in rows if r["split"] == "fixed"]
    loso_seeds = [r for r in rows if r["split"] == "loso" and r.get("over_seeds")]
    loso_runs = [r for r in rows if r["split"] == "loso" and r.get("complete") and not r.get("over_seeds")]
    folds = [f["uar"] for name, fs in results.items() if name.startswith(f"{model}-loso-") for f in fs]
    lines = []
    for r in fixed:
        uar = f"{_pct(r['uar'])} +- {_pct(r['std'])} (std over seeds)"
        lines.append(f"| fixed split: trained on 03 08 09 10 11 13, tested on 12 14 15 16 | {r['n']} seeds | "
                     f"{uar} | {_pct(r['wa'])} |")  # fmt: skip
    for r in loso_seeds or loso_runs:
        n = f"{r['n']} seeds x 10 folds" if r.get("over_seeds") else f"10 folds, seed {r['seed']}"
        spread = "std over seeds" if r.get("over_seeds") else "std over folds"
        uar = f"{_pct(r['uar'])} +- {_pct(r['std'])} ({spread}); pooled {_pct(r['pooled_uar'])}"
        lines.append(f"| leave one speaker out: trained on 9, tested on the 10th | {n} | {uar} | "
                     f"{_pct(r['wa'])} |")  # fmt: skip
    if folds:
        lo, hi = _pct(min(folds)), _pct(max(folds))
        lines.append(f"| one LOSO fold (one test speaker) | {len(folds)} folds of all seeds | {lo} to {hi} "
                     "(min to max) | - |")  # fmt: skip
    stream = Path(__file__).resolve().parent / "results" / f"online_norm_{model}.json"
    if stream.is_file():  # benchmarks/online_norm.py on the exported seed-0 fixed-split run
        u = json.loads(stream.read_text())["uar"]["streaming"]
        lines.append("| fixed split, seed 0, exported; streaming speaker statistics (the app's rule; "
                     f"benchmarks/online_norm.py) | 1 run | {_pct(u['uar'])} | "
                     f"{_pct(u['wa'])} |")  # fmt: skip
    return lines


def block(r: dict[str, Any]) -> list[str]:
    t, e, h, lat = r["training"], r["export"], r["heldout"], r["latency"]
    m = t["model"]
    lines = [
        f"Made on {r['date']} by `python benchmarks/pretrained.py` "
        f"({r['seconds'] / 60:.0f} min on the machine below).",
        "",
        "| file (`ser_bnn/pretrained/`) | bytes | SHA-256 |",
        "|---|---|---|",
    ]
    lines += [f"| `{f}` | {v['bytes']:,} | `{v['sha256']}` |" for f, v in r["files"].items()]
    first = "binary" if m["binary_first_layer"] else "float"
    lines += [
        "",
        f"**Training:** `{t['command']}` (preset `{t['preset']}`: {m['name'].upper()}, {first} first "
        f"convolution, {m['conv_filters']} conv maps, 2 x {m['lstm_units']} binary LSTM units, "
        f"`{m['pooling']}` pooling): {t['epochs']} epochs, seed {t['seed']}, on speakers "
        f"{' '.join(t['train_speakers'])} ({t['train_utterances']} utterances); the last epoch is "
        f"kept ({t['dev_speakers']} dev speakers: no model selection). Labels: {', '.join(t['labels'])}.",
        "",
        "**Expected accuracy of the recipe** (`python benchmarks/protocol.py --table`; Emo-DB, UAR = mean "
        f"recall over the {len(t['labels'])} classes, chance {100 / len(t['labels']):.1f} %; offline "
        "speaker standardization):",
        "",
        "| protocol | runs | UAR % | WA % |",
        "|---|---|---|---|",
        *protocol_lines(m["name"]),
        "",
        f"**This file on its held-out speakers** ({' '.join(h['test_speakers'])}, {h['utterances']} "
        "utterances; benchmarks/online_norm.py on the bundled `.tflite`; `predict` agreed with "
        f"`ser-bnn evaluate` on {h['speaker_norm_agrees_with_evaluate']} of {h['utterances']}):",
        "",
        "| speaker statistics | UAR % | WA % |",
        "|---|---|---|",
    ]
    names = {
        "offline_evaluate": "each speaker's own, over all their speech (`ser-bnn evaluate`)",
        "speaker_norm": "the same, in the flatbuffer (`ser-bnn predict --speaker-norm`)",
        "streaming": "accumulated causally, file after file (`ser-bnn predict --profile`, the app)",
        "defaults": "the training speakers' defaults for every window (a new speaker's first second; "
        "`ser-bnn predict` on one short file)",
    }
    lines += [f"| {names.get(k, k)} | {_pct(v['uar'])} | {_pct(v['wa'])} |" for k, v in h["uar"].items()]
    ops, mach = e["op_check"], lat["machine"]
    par = e["parity"]
    worst = max((s.get("max_abs_diff_flip_corrected", s["max_abs_diff"]) for s in par["settings"].values()),
                default=float("nan"))  # fmt: skip
    top1 = min((s["top1_agreement"] for s in par["settings"].values()), default=float("nan"))
    flips = max((s.get("rounding_flip_windows", 0) for s in par["settings"].values()), default=0)
    size = r["files"][next(iter(r["files"]))]["bytes"]
    lines += [
        "",
        f"**Size:** {size:,} B ({size / 1e6:.2f} MB); {ops['lce_bconv2d']} of {ops['binary_layers']} binary "
        f"layers are bit-packed `LceBconv2d`. "
        + (f"The float CRNN twin of the same shape converts to {e['float_twin_bytes']:,} B. "
           if e.get("float_twin_bytes") else "")
        + f"Parity gate against Keras: top-1 {100 * top1:.0f} %, max |dp| {worst:.1e} over {par['windows']} "
        f"windows ({flips} with rounding sign flips re-anchored).",
        "",
        f"**Latency** (one 3 s window, 1 thread, median of {lat['runs']} calls; {mach['cpu']}, "
        f"{mach['cores']} cores, {' '.join(mach['vector_extensions']) or 'no vector extensions reported'}; "
        f"load average {mach['load_average'][0]:.1f} during the run, so wall times are inflated; the "
        "thread's CPU time much less): "
        + "; ".join(f"{k}: {v['cpu_median_ms']:.1f} ms CPU ({v['median_ms']:.1f} ms wall)"
                    for k, v in lat["settings"].items())
        + ". LCE's x86 binary kernels are reference code; phones run its arm64 kernels "
        "(deploy/benchmark.py measures any machine).",
    ]  # fmt: skip
    return lines


def render_card(text: str, result: dict[str, Any]) -> str:
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise SystemExit(f"card: docs/MODEL_CARD.md needs one {BEGIN} and one {END}")
    head, rest = text.split(BEGIN, 1)
    return head + "\n".join([BEGIN, *block(result), END]) + rest.split(END, 1)[1]


def stale(results: Path, card: Path, files: dict[str, dict[str, Any]]) -> list[str]:
    """What is out of date: the bundled files against the results JSON, the card against both."""
    if not results.is_file():
        return [f"{results.name} is missing: run python benchmarks/pretrained.py"]
    r = json.loads(results.read_text())
    out = [f"{f}: SHA-256 differs from {results.name}" for f, v in files.items()
           if r["files"].get(f, {}).get("sha256") != v["sha256"]]  # fmt: skip
    text = card.read_text()
    if render_card(text, r) != text:
        out.append(f"{card.name} is out of date: run python benchmarks/pretrained.py --card")
    return out
