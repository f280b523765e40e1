"""JUnit 4 tests of the Android demo's plain-Java core (android_demo/core), run through javac/java.

The Java tests compare the core against the Python side:
- golden vectors: deploy/golden/golden.json when it exists (written from a real exported model);
  otherwise a golden file built here from Python. In that fallback the waveform side is real
  (soundfile reading of Emo-DB wavs, ser_bnn.dsp.segments.window_starts / segment_waveform) and the
  posteriors are a deterministic stand-in: softmax of a seeded random projection (numpy
  default_rng(0)) of per-window log-energies in 16 chunks, pooled with
  ser_bnn.dsp.segments.pool_posteriors (max). The real goldens replace it once they exist.
- a reference file written here: window_starts() for many (n, window, hop) cases, and soundfile's
  frames / sum / abs sum of every Emo-DB wav (the Java WavReader must read all 535 the same way,
  including the four files with a 'PAD ' chunk).
- MODEL.json and MODEL.labels.txt written by the exporter's own code (ser_bnn.export.artifact), which
  ModelInfo must read as the app does.
- file-mode parity (tests/android_predict_parity.py): small WAVs and the decisions
  ser_bnn.runtime.predict.predict_file takes for them (with a stand-in network): refusals of too-short and
  all-zero files, dropped all-zero windows, pooled scores, notes. PredictParityTest runs the app's file
  path (WavStream + UtteranceClassifier) over the same WAVs.
- speaker statistics and gating (tests/android_stats_golden.py): streams of window outputs through
  ser_bnn.runtime.tracker.Tracker (statistics after every window, bit for bit, the cap, speech decisions),
  profiles written by tracker.save_profile and unusable ones with load_profile's messages, find_roles'
  verdicts, and predict_file's streaming loop with a stand-in network that has the exported interface
  (SpeakerStatsGoldenTest). The Java side writes a profile that Python must read back to the same
  statistics (checked here after the JUnit run). ModelGoldenStatsTest replays
  deploy/golden/golden_stats.json (make_golden.py on an exported speaker-statistics model) when it
  exists, else a file in its layout built with make_golden's own stream code and the stand-in
  network; SidecarStatsTest reads the MODEL.json the exporter writes for a norm "speaker" model.

The JUnit run gets a 128 MiB heap: WavStreamTest classifies a 160 MiB WAV, which only works when file
mode streams.

The core parses JSON with org.json: part of Android (android.jar), on the host Debian's
libandroid-json-java (the same AOSP implementation).

test_java_core_junit needs the real Emo-DB (fails without it, see conftest.emodb_dir), a JDK (javac,
java) and Debian's junit4 + libhamcrest-java + libandroid-json-java: it skips, naming what is missing,
when one of those is absent (fails instead under CI=true, see conftest.require_system).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
from android_predict_parity import write_parity
from android_stats_golden import exported_stats_sidecar, fallback_model_golden, write_stats_golden
from conftest import require_system

from ser_bnn.config import FeatureConfig
from ser_bnn.dsp.segments import pool_posteriors, segment_waveform, window_starts
from ser_bnn.runtime import tracker

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "android_demo" / "core"
GOLDEN = ROOT / "deploy" / "golden" / "golden.json"
GOLDEN_STATS = ROOT / "deploy" / "golden" / "golden_stats.json"
FALLBACK_LABELS = ["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]
# short (one padded window), a file with a 'PAD ' chunk, and the longest file (three windows)
FALLBACK_WAVS = ["wav/03a01Fa.wav", "wav/14a07Aa.wav", "wav/08b03Tc.wav"]
JUNIT_JARS = ("/usr/share/java/junit4.jar",)
HAMCREST_JARS = ("/usr/share/java/hamcrest-core.jar", "/usr/share/java/hamcrest.jar")
ORG_JSON_JARS = ("/usr/share/java/com.android.json.jar", "/usr/share/java/android-json.jar")

INSTALL = "sudo apt-get install -y default-jdk-headless junit4 libhamcrest-java libandroid-json-java"


def _classpath_jars() -> list[str]:
    """The JUnit, Hamcrest and org.json jars; skips (fails under CI=true) when a package is missing."""
    jars, missing = [], [t for t in ("javac", "java") if shutil.which(t) is None]
    for group, pkg in (
        (JUNIT_JARS, "junit4"),
        (HAMCREST_JARS, "libhamcrest-java"),
        (ORG_JSON_JARS, "libandroid-json-java"),
    ):
        found = next((j for j in group if Path(j).is_file()), None)
        if found is None:
            missing.append(f"{group[0]} ({pkg})")
        else:
            jars.append(found)
    require_system(missing, INSTALL)
    return jars


def _fallback_golden(emodb: Path, out: Path) -> Path:
    """Golden vectors from Python with stand-in posteriors (see the module docstring)."""
    cfg = FeatureConfig()
    window, hop = cfg.segment_samples, cfg.segment_hop_samples
    proj = 0.2 * np.random.default_rng(0).standard_normal((17, len(FALLBACK_LABELS)))
    files = []
    for rel in FALLBACK_WAVS:
        wave, sr = sf.read(emodb / rel, dtype="float32")
        assert sr == cfg.sample_rate and wave.ndim == 1
        windows = segment_waveform(wave, cfg)
        feats = np.log(np.mean(windows.reshape(len(windows), 16, -1).astype(np.float64) ** 2, axis=2) + 1e-6)
        logits = np.concatenate([feats, np.ones((len(windows), 1))], axis=1) @ proj
        post = np.exp(logits - logits.max(axis=1, keepdims=True))
        post = (post / post.sum(axis=1, keepdims=True)).astype(np.float32)
        pooled = pool_posteriors(post, "max")
        files.append(
            {
                "wav": rel,
                "n_samples": int(len(wave)),
                "window_starts": window_starts(len(wave), window, hop),
                "window_sums": [float(w.astype(np.float64).sum()) for w in windows],
                "window_abs_sums": [float(np.abs(w.astype(np.float64)).sum()) for w in windows],
                "first_samples": [float(x) for x in windows[0, :16]],
                "posteriors": [[float(x) for x in row] for row in post],
                "pooled": [float(x) for x in pooled],
                "label": FALLBACK_LABELS[int(np.argmax(pooled))],
            }
        )
    golden = {
        "labels": FALLBACK_LABELS,
        "sample_rate": cfg.sample_rate,
        "window_samples": window,
        "hop_samples": hop,
        "files": files,
    }
    out.write_text(json.dumps(golden))
    return out


def _reference(emodb: Path, out: Path) -> Path:
    cases = []
    for n in (0, 1, 4799, 4800, 4801, 12345, 47999, 48000, 48001, 95999, 96000, 96001, 143652, 200000):
        for win in (48000, 4800):
            for hop in (48000, 24000, 16000, 8000, 4800, 160, 47999, 60000):
                cases.append({"n": n, "window": win, "hop": hop, "starts": window_starts(n, win, hop)})
    wavs = {}
    for p in sorted((emodb / "wav").glob("*.wav")):
        x = sf.read(p, dtype="float32")[0].astype(np.float64)
        wavs[p.name] = [len(x), float(x.sum()), float(np.abs(x).sum())]
    out.write_text(json.dumps({"window_cases": cases, "emodb_wavs": wavs}))
    return out


def _exported_sidecar(out: Path) -> Path:
    """MODEL.json + MODEL.labels.txt as `ser-bnn export` writes them (its own code; a stand-in model)."""
    from ser_bnn.config import Config
    from ser_bnn.export.artifact import describe, sidecar, write_artifact
    from ser_bnn.export.conversion import Run
    from ser_bnn.runtime.flatbuffer import TensorInfo

    cfg = Config(labels=tuple(FALLBACK_LABELS))
    waveform = TensorInfo("waveform", (1, cfg.features.segment_samples), "float32")
    probs = TensorInfo("probabilities", (1, len(FALLBACK_LABELS)), "float32")
    desc = describe(cfg, "waveform", waveform, probs)
    run = Run(run_dir=out, cfg=cfg, model=None, split={"split": "fixed", "test_speakers": ["03"]},
              weights_source="best.weights.h5")
    target = out / "bcrnn.tflite"
    model = b"stand-in for the flatbuffer"
    write_artifact(target, model, sidecar(desc, model, target, run), report={})
    return out / "bcrnn.json"


def test_core_has_no_android_imports_or_lambdas():
    """The core must compile for the JVM and go through `dx`: no android.*, no lambdas/method refs."""
    sources = sorted((CORE / "src" / "main" / "java").rglob("*.java"))
    assert len(sources) >= 10
    for src in sources:
        code = re.sub(r'"(\\.|[^"\\])*"', '""', src.read_text())  # drop string literals
        code = re.sub(r"//[^\n]*|/\*.*?\*/", "", code, flags=re.S)  # drop comments
        assert not re.search(r"^\s*import\s+(static\s+)?android\.", code, re.M), src
        assert "->" not in code and "::" not in code, f"lambda or method reference in {src}"


def _model_golden(emodb: Path, out: Path) -> Path:
    """Golden vectors of a speaker-statistics model: deploy/golden/golden_stats.json, else golden.json when it
    has the per-window statistics (make_golden.py run on such a model), else a stand-in in that layout."""
    for p in (GOLDEN_STATS, GOLDEN):
        if p.is_file() and any("stats_in" in f for f in json.loads(p.read_text())["files"]):
            return p
    return fallback_model_golden(emodb, out)


def test_java_core_junit(tmp_path, emodb_dir):
    jars = _classpath_jars()
    golden = GOLDEN if GOLDEN.is_file() else _fallback_golden(emodb_dir, tmp_path / "golden.json")
    reference = _reference(emodb_dir, tmp_path / "reference.json")
    (tmp_path / "export").mkdir()
    sidecar = _exported_sidecar(tmp_path / "export")
    parity = write_parity(tmp_path / "predict_parity")
    stats_golden = write_stats_golden(tmp_path / "stats_golden")
    (tmp_path / "stats_export").mkdir()
    stats_sidecar = exported_stats_sidecar(tmp_path / "stats_export")
    model_golden = _model_golden(emodb_dir, tmp_path / "model_golden" / "golden_stats.json")
    profile_out = tmp_path / "profile_out"
    profile_out.mkdir()

    classes = tmp_path / "classes"
    sources = sorted(str(p) for p in (CORE / "src").rglob("*.java"))
    compiled = subprocess.run(
        [
            "javac",
            "--release",
            "8",
            "-Xlint:all",
            "-Xlint:-options",
            "-encoding",
            "UTF-8",
            "-cp",
            ":".join(jars),
            "-d",
            str(classes),
            *sources,
        ],
        capture_output=True,
        text=True,
        timeout=900,  # minutes when the machine is busy (run under nice with training jobs)
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert "warning" not in compiled.stderr, compiled.stderr

    test_sources = sorted((CORE / "src" / "test" / "java").rglob("*Test.java"))
    test_classes = ["org.serbnn.core." + p.stem for p in test_sources]
    n_tests = sum(src.read_text().count("@Test") for src in test_sources)
    run = subprocess.run(
        [
            "java",
            "-Xmx128m",
            f"-Dserbnn.golden={golden}",
            f"-Dserbnn.emodb={emodb_dir}",
            f"-Dserbnn.reference={reference}",
            f"-Dserbnn.sidecar={sidecar}",
            f"-Dserbnn.predict={parity}",
            f"-Dserbnn.statsGolden={stats_golden}",
            f"-Dserbnn.statsSidecar={stats_sidecar}",
            f"-Dserbnn.modelGolden={model_golden}",
            f"-Dserbnn.profileOut={profile_out}",
            "-cp",
            ":".join([str(classes), *jars]),
            "org.junit.runner.JUnitCore",
            *test_classes,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert f"OK ({n_tests} tests)" in out, out

    # the profile the Java side wrote from its own statistics: Python reads it to the same values, bit for bit
    golden_doc = json.loads(stats_golden.read_text())
    java_profile = golden_doc["profiles"]["java_profile"]
    expected = golden_doc["streams"][java_profile["stream"]]["windows"][-1]["after"]
    got = tracker.load_profile(profile_out / java_profile["file"], golden_doc["n_mels"])
    assert got.count == expected["count"]
    assert np.array_equal(got.sum, np.array(expected["sum"]))
    assert np.array_equal(got.sumsq, np.array(expected["sumsq"]))
