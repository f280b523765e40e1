"""The speech detector on non-speech and (noisy) speech: share of 3 s windows called speech per rule.

    python benchmarks/speech_detector.py [--data-dir ../shared/data/emodb] [--run RUN_DIR] [-o OUT.json]

Rules: "energy-flatness" (the first gate, still training's offline rule), "spectral-change" (the
exported graph's, `ser_bnn.dsp.gating.DEPLOYED_RULE`), both through their NumPy reference (the graph is
tested against it), and the reference VAD `webrtcvad` (package webrtcvad-wheels, mode 3, 10 ms
frames; a window is speech with at least `gating.MIN_CHANGE_FRAMES` speech frames).

Sets (`ser_bnn.data.soundsets`; windows as `ser-bnn predict` cuts them: 3 s, no overlap, the last one
zero-padded, all-zero windows left out):
- non-speech: `--items` items of every family with seed 2 (report; seed 1 was a development
  check) and seed 0 (calibration);
- speech: Emo-DB's fixed split, test speakers 12 14 15 16 (report) and training speakers
  03 08 09 10 11 13 (calibration, clean), the test speakers clean and mixed with each noise of
  `NOISES_FOR_SPEECH` at 20, 10 and 0 dB SNR (noise seed 1). Speech windows are those
  with at least 1 s of signal (a shorter tail of a file is reported apart, `clean_all_windows`).
- `training_windows_changed`: the share of the training speakers' clean windows (all of them, the
  non-overlapping ones that select the speakers' statistics) whose decision differs between the two
  rules: whether training could switch to the deployed rule without changing what it learns from.

With `--run` (a trained norm="speaker" run of the fixed split, e.g. the default recipe): streaming
and `--speaker-norm` UAR on the test speakers with each rule (benchmarks/uar_by_rule.py), "no
speech" counted as wrong; `--skip-sets` adds them to an existing JSON without recomputing the sets.

Writes a small JSON (default benchmarks/results/speech_detector.json); `benchmarks/readme_tables.py`
makes docs/SPEECH_DETECTOR.md's table from it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ser_bnn  # noqa: E402,F401
from ser_bnn.atomic import atomic_write_text  # noqa: E402
from ser_bnn.config import FeatureConfig  # noqa: E402
from ser_bnn.data import soundsets  # noqa: E402
from ser_bnn.dsp import gating  # noqa: E402
from ser_bnn.dsp.segments import segment_waveform  # noqa: E402
from ser_bnn.dsp.speaker import raw_window  # noqa: E402

TEST = ("12", "14", "15", "16")
TRAIN = ("03", "08", "09", "10", "11", "13")
RULES = ("energy-flatness", "spectral-change", "webrtcvad")
MIN_SIGNAL_FRAMES = 100
# non-speech items: seed 0 calibrated the constants, seed 1 was a development check (its chirps
# led to LOG_FLATNESS_MIN), seed 2 is the report
REPORT_SEED = 2


def webrtc_frames(wave: np.ndarray, vad) -> int:  # noqa: ANN001 - webrtcvad.Vad
    pcm = (np.clip(wave, -1, 1) * 32767).astype(np.int16)
    return sum(vad.is_speech(pcm[i : i + 160].tobytes(), 16000) for i in range(0, len(pcm) - 159, 160))


def window_decisions(x: np.ndarray, fc: FeatureConfig, vad) -> list[dict]:  # noqa: ANN001
    out = []
    for w in segment_waveform(x, fc):
        if not np.any(w != 0):
            continue
        raw, valid = raw_window(w, fc)
        row = {"signal": int(valid.sum())}
        for rule in gating.RULES:
            row[rule] = bool(gating.is_speech(gating.speech_frames(raw, valid, rule), rule))
        row["webrtcvad"] = webrtc_frames(w, vad) >= gating.MIN_CHANGE_FRAMES
        out.append(row)
    return out


def shares(rows: list[dict]) -> dict:
    return {"windows": len(rows), **{r: round(float(np.mean([w[r] for w in rows])), 4) for r in RULES}}


def _family(task: tuple[int, int, str]) -> tuple[str, dict]:
    seed, n, fam = task
    fc, vad = FeatureConfig(), _vad()
    items = soundsets.nonspeech(seed=seed, n=n, families=(fam,))[fam]
    return fam, shares([r for x in items for r in window_decisions(x, fc, vad)])


def _condition(task: tuple[str, int, str, int | None]) -> tuple[str, list[dict]]:
    data_dir, seed, noise, snr = task
    fc, vad = FeatureConfig(), _vad()
    rows = []
    for x in emodb_waves(Path(data_dir), TEST if seed == 1 else TRAIN, fc.sample_rate).values():
        if noise != "clean":
            x = soundsets.mix_at_snr(x, soundsets.speech_noise(noise, len(x), seed=seed), snr)
        rows += window_decisions(x, fc, vad)
    return ("clean" if noise == "clean" else f"{noise}_{snr}dB"), rows


def _vad():  # noqa: ANN202 - webrtcvad.Vad
    import webrtcvad

    return webrtcvad.Vad(3)


def run_sets(data_dir: Path, items: int, workers: int) -> dict:
    """The non-speech and speech tables, the training speakers' changed decisions (a process pool)."""
    from multiprocessing import Pool

    fams = [(REPORT_SEED, items, f) for f in soundsets.FAMILIES]
    fams += [(0, max(1, items // 2), f) for f in soundsets.FAMILIES]
    conds = [(str(data_dir), 1, "clean", None)]
    conds += [(str(data_dir), 1, n, snr) for n in soundsets.NOISES_FOR_SPEECH for snr in soundsets.SNRS_DB]
    conds += [(str(data_dir), 0, "clean", None)]
    doc: dict = {"nonspeech": {}, "speech_test_speakers": {}, "calibration": {"nonspeech_seed0": {}}}
    with Pool(workers) as pool:
        for (seed, _, _), (fam, v) in zip(fams, pool.imap(_family, fams), strict=True):
            (doc["nonspeech"] if seed == REPORT_SEED else doc["calibration"]["nonspeech_seed0"])[fam] = v
            print(f"seed {seed} {fam:<9} {v}", flush=True)
        for task, (name, rows) in zip(conds, pool.imap(_condition, conds), strict=True):
            full = [r for r in rows if r["signal"] >= MIN_SIGNAL_FRAMES]
            if task[1] == 0:
                doc["calibration"]["speech_training_speakers_clean"] = shares(full)
                changed = [r for r in rows if r["energy-flatness"] != r["spectral-change"]]
                doc["training_windows_changed"] = {
                    "windows": len(rows), "changed": len(changed),
                    "share": round(len(changed) / len(rows), 4),
                    "to_not_speech": sum(r["energy-flatness"] for r in changed),
                }
                continue
            doc["speech_test_speakers"][name] = shares(full)
            if name == "clean":
                doc["speech_test_speakers"]["clean_all_windows"] = shares(rows)
            print(f"speech {name:<12} {shares(full)}", flush=True)
    return doc


def emodb_waves(data_dir: Path, speakers: tuple[str, ...], sr: int) -> dict[str, np.ndarray]:
    from ser_bnn.data.audio import load_audio

    files = sorted(p for p in (data_dir / "wav").glob("*.wav") if p.name[:2] in speakers)
    if not files:
        raise SystemExit(f"no Emo-DB wavs of speakers {speakers} in {data_dir / 'wav'}")
    return {p.stem: load_audio(p, sr) for p in files}


DOC = ROOT / "docs" / "SPEECH_DETECTOR.md"
NAMES = {"energy-flatness": "first gate (energy, flatness)", "spectral-change": "spectral change (deployed)",
         "webrtcvad": "webrtcvad (reference)"}


def _pct(v: float) -> str:
    return f"{100 * v:.1f}"


def render(doc: dict) -> str:
    """docs/SPEECH_DETECTOR.md from the JSON (`--write-doc`; tests check that the file is current)."""
    s, c = doc["setup"], doc["constants"]
    head = "| set | windows | " + " | ".join(NAMES[r] for r in RULES) + " |\n|---|---|---|---|---|\n"
    lines = [
        "# Speech detector: what is called speech",
        "",
        "Generated by `python benchmarks/speech_detector.py --write-doc` from",
        "`benchmarks/results/speech_detector.json` (made by `python benchmarks/speech_detector.py",
        "--run RUN_DIR`); do not edit by hand. The rule, its constants and their calibration:",
        "`ser_bnn/dsp/gating.py`; the signals: `ser_bnn/data/soundsets.py` (a recipe: no audio is stored).",
        "",
        f"Share of 3 s windows called speech, in %. Non-speech: {s['items_per_family']} items per family",
        f"(seed {s['report_seed']}; the constants were calibrated on seed {s['calibration_seed']} and on the",
        "training speakers), every non-silent window. Speech: Emo-DB test speakers 12 14 15 16 of the fixed",
        f"split, windows with at least {s['min_signal_frames']} signal frames (1 s), clean and mixed with a",
        f"noise at an SNR. webrtcvad: mode {s['webrtcvad_mode']}, a window is speech with at least",
        f"{s['webrtcvad_min_frames']} speech frames of 10 ms. Targets: non-speech at most 5 %, clean speech",
        "at least 98 %, 10 dB SNR at least 90 %.",
        "",
        "**Non-speech (lower is better)**",
        "",
        head.rstrip("\n"),
    ]
    for fam, v in doc["nonspeech"].items():
        lines.append(f"| {fam} | {v['windows']} | " + " | ".join(_pct(v[r]) for r in RULES) + " |")
    lines += ["", "**Speech (higher is better)**", "", head.rstrip("\n")]
    for cond, v in doc["speech_test_speakers"].items():
        name = cond.replace("_", " ").replace("dB", " dB SNR") if cond != "clean_all_windows" else (
            "clean, every window (also tails < 1 s)")
        lines.append(f"| {name} | {v['windows']} | " + " | ".join(_pct(v[r]) for r in RULES) + " |")
    t = doc["training_windows_changed"]
    cal = doc["calibration"]["speech_training_speakers_clean"]
    lines += [
        "",
        "Limits: at 0 dB SNR white and pink noise mask the spectral changes of speech and about half of",
        "the windows are dropped (a window without speech is not classified: the app shows \"no",
        "speech\" rather than a guess); windows with less than 1 s of speech (the tail of a file) are",
        "dropped more often than by the first gate (the row \"every window\"). The signals are",
        "synthetic: no package on the registries the project uses ships real non-speech recordings",
        "without a download at run time. Calibration: clean training-speaker windows kept",
        f"{_pct(cal['spectral-change'])} % of {cal['windows']}.",
        "",
        "Training's segment selection stays on the first gate (`FeatureConfig.speech_rule`): on the clean",
        f"windows of the training speakers the deployed rule decides {t['changed']} of {t['windows']}",
        f"({_pct(t['share'])} %) differently ({t['to_not_speech']} of them from speech to not speech).",
    ]
    u = doc.get("uar_test_speakers")
    if u:
        lines += [
            "",
            f"**UAR on the test speakers** ({u['utterances']} utterances, {u['windows']} windows; run",
            f"`{u['run']}`, the default recipe trained on the fixed split with the first gate, pooling",
            f"{u['pooling']}; benchmarks/uar_by_rule.py; each rule's speech decision; \"no speech\" counts",
            "as wrong):",
            "",
            "| rule | speech windows | streaming UAR % | --speaker-norm UAR % | no speech (streaming) |",
            "|---|---|---|---|---|",
        ]
        for r in ("energy-flatness", "spectral-change"):
            v = u[r]
            lines.append(f"| {NAMES[r]} | {v['speech_windows']} | {_pct(v['streaming']['uar'])} | "
                         f"{_pct(v['speaker_norm']['uar'])} | {v['streaming']['no_speech']} |")
        lines += ["", "With the first gate, `--speaker-norm` is the run's offline evaluation (`ser-bnn",
                  "evaluate`, the rule training used); the deployed rule drops windows with little speech",
                  "and the decisions pool fewer, cleaner windows. Seed 0 of the default recipe."]
    lines += ["", f"Constants (`gating.describe()`): `{json.dumps(c, sort_keys=True)}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data" / "emodb")
    p.add_argument("--items", type=int, default=40, help="items per non-speech family (report seed)")
    p.add_argument("--run", type=Path, default=None, help="trained fixed-split run: UAR per rule")
    p.add_argument("--skip-sets", action="store_true", help="only the UAR (keeps the sets of --out)")
    p.add_argument("--workers", type=int, default=2, help="processes")
    p.add_argument("--write-doc", action="store_true", help=f"only write {DOC.name} from --out")
    p.add_argument("-o", "--out", type=Path, default=ROOT / "benchmarks" / "results" / "speech_detector.json")
    args = p.parse_args(argv)
    if args.write_doc:
        atomic_write_text(DOC, render(json.loads(args.out.read_text())))
        print(f"wrote {DOC}")
        return 0
    t0 = time.perf_counter()
    doc = json.loads(args.out.read_text()) if args.skip_sets and args.out.is_file() else {}
    if not args.skip_sets:
        doc.update(run_sets(args.data_dir, args.items, args.workers))
        doc["constants"] = gating.describe()
        doc["setup"] = {"items_per_family": args.items, "report_seed": REPORT_SEED, "calibration_seed": 0,
                        "min_signal_frames": MIN_SIGNAL_FRAMES, "webrtcvad_mode": 3,
                        "webrtcvad_min_frames": gating.MIN_CHANGE_FRAMES}
    if args.run is not None:
        from uar_by_rule import uar_by_rule

        doc["uar_test_speakers"] = uar_by_rule(args.run, args.data_dir, TEST)
    doc["seconds"] = round(time.perf_counter() - t0, 1)
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    from ser_bnn.errors import run_script

    sys.exit(run_script(main, "speech_detector.py"))
