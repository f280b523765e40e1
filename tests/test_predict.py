"""`ser-bnn predict`: exported model -> emotions of audio files, without TensorFlow.

Predictions of the tiny trained model (tests/run_fixture.py) are checked against its Keras
model on the same windows; bad inputs are real broken files made in a temporary directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import ser_bnn  # noqa: F401

# Session fixtures `tiny_run` and `tiny_export`, registered once for both test modules.
pytest_plugins = ["run_fixture"]

CHECK_IMPORTS = """
import json, sys
from ser_bnn.cli import main
code = main(sys.argv[2:])
heavy = [m for m in ("tensorflow", "tf_keras", "keras", "larq", "larq_compute_engine") if m in sys.modules]
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "heavy_modules": heavy}, f)
"""


def _predict(*args: str, tmp: Path) -> tuple[int, str, str, list[str]]:
    """Run `ser-bnn predict ARGS` in a fresh interpreter: (exit code, stdout, stderr, heavy modules)."""
    marker = tmp / "imports.json"
    p = subprocess.run([sys.executable, "-c", CHECK_IMPORTS, str(marker), "predict", *args],
                       capture_output=True, text=True, timeout=300)
    info = json.loads(marker.read_text()) if marker.is_file() else {"code": p.returncode, "heavy_modules": []}
    marker.unlink(missing_ok=True)
    return info["code"], p.stdout, p.stderr, info["heavy_modules"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ser_bnn.cli", "predict", *args],
                          capture_output=True, text=True, timeout=300)


def _keras_pooled(run_dir: Path, waves: list[np.ndarray]) -> list[np.ndarray]:
    """Max-pooled posteriors of the run's Keras model (front end included) per waveform, under the
    streaming rule: each window with the statistics of the speech windows before it in the file."""
    from ser_bnn.dsp.gating import is_speech
    from ser_bnn.dsp.segments import segment_waveform
    from ser_bnn.export import load_run, wrap_model
    from ser_bnn.export.parity_gate import keras_outputs
    from ser_bnn.runtime.tracker import Tracker

    run = load_run(run_dir)
    model = wrap_model(run.model, run.cfg.features)
    out = []
    for wave in waves:
        tracker, pooled = Tracker.start(40), []
        for w in segment_waveform(wave, run.cfg.features):
            o = keras_outputs(model, w[None], tracker.tensor())
            if is_speech(o["speech_frames"][0, 0]):
                pooled.append(o["probabilities"][0])
            tracker.update(o["window_stats"][0], o["speech_frames"][0, 0])
        out.append(np.max(pooled, axis=0))
    return out


def test_predict_matches_keras_without_tensorflow(tiny_export: dict, tiny_run: Path, emodb_dir: Path,
                                                  tmp_path: Path) -> None:
    from ser_bnn.data.audio import load_audio

    files = [emodb_dir / "wav" / f for f in ("12a02Ac.wav", "08b03Tc.wav")]  # 1.2 s and 9.0 s
    code, out, err, heavy = _predict(tiny_export["model"], *map(str, files), "--json", tmp=tmp_path)
    assert code == 0, err
    assert heavy == []  # neither TensorFlow nor the larq_compute_engine package was imported
    doc = json.loads(out)
    labels = doc["labels"]
    assert labels == json.loads((tiny_run / "config.json").read_text())["labels"]
    assert doc["errors"] == [] and len(doc["results"]) == 2
    waves = [load_audio(f) for f in files]
    for wave, expected, r in zip(waves, _keras_pooled(tiny_run, waves), doc["results"], strict=True):
        pooled = np.array([r["pooled_max"][lab] for lab in labels])
        np.testing.assert_allclose(pooled, expected, atol=1e-5)
        assert r["emotion"] == labels[int(np.argmax(expected))]
        assert sum(r["scores"].values()) == pytest.approx(1.0)
        assert len(r["window_posteriors"]) == max(1, -(-len(wave) // 48000))
    assert len(doc["results"][1]["window_posteriors"]) == 3


def test_predict_table_stereo_resampled_mp3_and_hop(tiny_export: dict, emodb_dir: Path,
                                                    tmp_path: Path) -> None:
    import librosa

    src = emodb_dir / "wav" / "08b03Tc.wav"
    wave, sr = sf.read(src, dtype="float32")
    stereo = tmp_path / "stereo_44k.flac"
    up = librosa.resample(wave, orig_sr=sr, target_sr=44100)
    sf.write(stereo, np.stack([up, 0.5 * up], axis=1), 44100)
    mp3 = tmp_path / "speech.mp3"
    sf.write(mp3, wave, sr, format="MP3")  # libsndfile >= 1.1 reads and writes MP3
    p = _cli(tiny_export["model"], str(src), str(stereo), str(mp3))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["file", "emotion"] and len(lines) == 4
    assert [ln.split()[0] for ln in lines[1:]] == [str(src), str(stereo), str(mp3)]
    scores = [float(v) for v in lines[2].split()[2:]]
    assert sum(scores) == pytest.approx(1.0, abs=5e-3)

    p = _cli(tiny_export["model"], str(src), "--hop", "1", "--json")
    r = json.loads(p.stdout)["results"][0]
    p_fast = _cli(tiny_export["model"], str(src), "--hop", "1", "--json", "--fast")
    fast = json.loads(p_fast.stdout)["results"][0]
    np.testing.assert_allclose(fast["window_posteriors"], r["window_posteriors"], atol=1e-5)
    n = len(wave)
    assert r["window_starts"][:3] == [0, 16000, 32000]
    assert len(r["window_posteriors"]) == 1 + -(-(n - 48000) // 16000)
    for bad in ("0", "3.5", "-1"):
        p = _cli(tiny_export["model"], str(src), "--hop", bad)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "--hop" in p.stderr


def test_bad_audio_files_one_line_each(tiny_export: dict, emodb_dir: Path, tmp_path: Path) -> None:
    good = emodb_dir / "wav" / "03a01Fa.wav"
    bad = {
        "empty.wav": b"",
        "truncated.wav": good.read_bytes()[:20000],
        "notes.txt": b"this is not audio\n" * 20,
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    sf.write(tmp_path / "short.wav", 0.1 * np.random.default_rng(0).standard_normal(800), 16000)  # 0.05 s
    sf.write(tmp_path / "silence.wav", np.zeros(16000), 16000, subtype="PCM_16")
    names = ["empty.wav", "truncated.wav", "notes.txt", "short.wav", "silence.wav", "missing.wav"]
    paths = [str(tmp_path / n) for n in names]
    p = _cli(tiny_export["model"], paths[0], str(good), *paths[1:])
    assert p.returncode == 2
    err = p.stderr.strip().splitlines()
    assert len(err) == len(names), p.stderr
    for line, name in zip(err, names, strict=True):
        assert line.startswith("ser-bnn predict: error:") and name in line
    assert "Traceback" not in p.stderr
    rows = p.stdout.strip().splitlines()
    assert len(rows) == 2 and rows[1].startswith(str(good))  # the good file is still classified
    expect = {"empty.wav": "empty", "truncated.wav": "truncated", "short.wav": "too short",
              "silence.wav": "no signal", "missing.wav": "not found"}
    for line, name in zip(err, names, strict=True):
        if name in expect:
            assert expect[name] in line

    p = _cli(tiny_export["model"], str(good), paths[0], "--json")
    doc = json.loads(p.stdout)
    assert p.returncode == 2 and len(doc["results"]) == 1 and doc["errors"][0]["file"] == paths[0]


def _foreign_tflite() -> bytes:
    """A valid TFLite model that is not a ser-bnn model: Dense 4 -> 3."""
    import tf_keras as keras
    from larq_compute_engine import convert_keras_model

    inp = keras.Input((4,), batch_size=1)
    return bytes(convert_keras_model(keras.Model(inp, keras.layers.Dense(3)(inp))))


def test_wrong_model_files(tiny_export: dict, emodb_dir: Path, tmp_path: Path) -> None:
    good_wav = str(emodb_dir / "wav" / "03a01Fa.wav")
    model = Path(tiny_export["model"])
    data = model.read_bytes()

    def expect_error(model_path: Path, fragment: str) -> None:
        p = _cli(str(model_path), good_wav)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1, p.stderr
        assert lines[0].startswith("ser-bnn predict: error:") and fragment in lines[0], lines[0]

    text = tmp_path / "text.tflite"
    text.write_text("not a model at all\n")
    expect_error(text, "not a TFLite model")
    expect_error(tmp_path / "absent.tflite", "model not found")

    # truncated model next to the original sidecar: SHA-256 mismatch
    (tmp_path / "cut").mkdir()
    cut = tmp_path / "cut" / "tiny.tflite"
    cut.write_bytes(data[: len(data) // 2])
    shutil.copy(model.with_name("tiny.json"), cut.with_name("tiny.json"))
    expect_error(cut, "does not match its sidecar")
    # ... and alone: refused by the flatbuffer walk (LCE's interpreter would crash on it)
    cut.with_name("tiny.json").unlink()
    for n in (len(data) // 2, len(data) - 100, 64):
        cut.write_bytes(data[:n])
        expect_error(cut, "corrupt or truncated")

    # a valid TFLite model that is not ours, with a labels file
    (tmp_path / "foreign").mkdir()
    foreign = tmp_path / "foreign" / "dense.tflite"
    foreign.write_bytes(_foreign_tflite())
    expect_error(foreign, "no sidecar")
    foreign.with_name("dense.labels.txt").write_text("a\nb\nc\n")
    expect_error(foreign, "not a ser-bnn model")


def test_sidecar_optional_metadata_embedded(tiny_export: dict, emodb_dir: Path, tmp_path: Path) -> None:
    """Without MODEL.json and MODEL.labels.txt the metadata embedded by export is used."""
    from ser_bnn.runtime.predict import load_deployed, predict_file

    alone = tmp_path / "alone.tflite"
    shutil.copy(tiny_export["model"], alone)
    m = load_deployed(alone)
    assert m.description_source == "embedded metadata"
    ref = load_deployed(tiny_export["model"])
    assert ref.description_source == "sidecar" and m.labels == ref.labels and m.features == ref.features
    wav = emodb_dir / "wav" / "03a01Fa.wav"
    assert predict_file(m, wav)["pooled_max"] == predict_file(ref, wav)["pooled_max"]


GOLDEN = Path(__file__).resolve().parents[1] / "deploy" / "golden" / "golden.json"


def _check_golden(doc: dict, emodb_dir: Path) -> None:
    """The agreed golden format, and its windows recomputed from the real files with the Python code."""
    from ser_bnn.data.audio import load_audio
    from ser_bnn.dsp.segments import pool_posteriors
    from ser_bnn.runtime.predict import cut_windows

    assert {"model", "labels", "sample_rate", "window_samples", "hop_samples", "files"} <= set(doc)
    pooling = doc.get("pooling", "max")
    window, hop, labels = doc["window_samples"], doc["hop_samples"], doc["labels"]
    assert doc["sample_rate"] == 16000 and window == 48000
    durations = []
    for f in doc["files"]:
        wave = load_audio(emodb_dir / f["wav"], doc["sample_rate"])
        windows, starts = cut_windows(wave, window, hop)
        assert f["n_samples"] == len(wave) and f["window_starts"] == starts
        w64 = windows.astype(np.float64)
        np.testing.assert_allclose(f["window_sums"], w64.sum(axis=1), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(f["window_abs_sums"], np.abs(w64).sum(axis=1), rtol=1e-6)
        assert np.array_equal(np.float32(f["first_samples"]), windows[0][:16])
        post = np.float32(f["posteriors"])
        assert post.shape == (len(starts), len(labels))
        speech = np.array(f.get("speech", [True] * len(post)))  # only speech windows are pooled
        pooled = np.float32(pool_posteriors(post[speech], pooling))
        assert np.array_equal(np.float32(f["pooled"]), pooled)
        assert f["label"] == labels[int(np.argmax(pooled))]
        durations.append(len(wave) / doc["sample_rate"])
    assert min(durations) < 3.0 < 6.0 < max(durations)


def test_committed_golden_vectors_match_python_windowing(emodb_dir: Path) -> None:
    _check_golden(json.loads(GOLDEN.read_text()), emodb_dir)


GOLDEN_STATS = GOLDEN.with_name("golden_stats.json")


def _check_stats_stream(doc: dict) -> int:
    """Replay the streaming rule (ser_bnn.runtime.tracker.Tracker, ser_bnn.dsp.gating) over the recorded model
    outputs of each file (a stream from zero statistics): every `stats_in`, `speech` and `stats_out`. Returns
    the number of windows classified with a speaker's own statistics (count >= min_stats_frames)."""
    from ser_bnn.dsp.gating import is_speech
    from ser_bnn.runtime.tracker import Tracker

    rule, own = doc["stats_rule"], 0
    for f in doc["files"]:
        n_mels = len(f["stats_in"][0][0])
        tracker = Tracker.start(n_mels)
        assert len(f["stats_in"]) == len(f["window_stats"]) == len(f["speech"]) == len(f["posteriors"])
        for k, stats_in in enumerate(f["stats_in"]):
            rows = np.array(stats_in)
            assert rows.shape == (3, n_mels) and np.all(rows[0] == rows[0][0]), (f["wav"], k)
            np.testing.assert_allclose(rows[0][0], tracker.stats.count, rtol=1e-12)
            np.testing.assert_allclose(rows[1], tracker.stats.sum, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(rows[2], tracker.stats.sumsq, rtol=1e-9, atol=1e-9)
            own += rows[0][0] >= rule["min_stats_frames"]
            speech = tracker.update(np.float32(f["window_stats"][k]), f["speech_frames"][k])
            assert f["speech"][k] == speech == bool(is_speech(f["speech_frames"][k])), (f["wav"], k)
        np.testing.assert_allclose(np.array(f["stats_out"])[1:], [tracker.stats.sum, tracker.stats.sumsq],
                                   rtol=1e-9)
        assert min(tracker.stats.count, rule["count_cap"]) == tracker.stats.count == f["stats_out"][0][0]
    return int(own)


def test_committed_stats_golden_vectors(emodb_dir: Path) -> None:
    """deploy/golden/golden_stats.json (make_golden.py on the exported speaker-norm BCRNN): the layout
    ModelGoldenStatsTest reads, its windows recomputed from the files and its statistics replayed."""
    doc = json.loads(GOLDEN_STATS.read_text())
    _check_golden(doc, emodb_dir)
    assert {"min_stats_frames", "count_cap", "min_speech_frames"} <= set(doc["stats_rule"])
    assert _check_stats_stream(doc) >= 3  # second and third windows of the long files use own statistics


def test_make_golden_on_tiny_model(tiny_export: dict, emodb_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "golden.json"
    p = subprocess.run([sys.executable, str(GOLDEN.parents[1] / "make_golden.py"), tiny_export["model"],
                        "--data-dir", str(emodb_dir), "--files", "12a02Ac", "08b03Tc", "-o", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    _check_golden(doc, emodb_dir)
    from ser_bnn.runtime.predict import load_deployed, predict_file

    model = load_deployed(tiny_export["model"])
    for f in doc["files"]:
        r = predict_file(model, emodb_dir / f["wav"])
        assert np.array_equal(np.float32(r["window_posteriors"]), np.float32(f["posteriors"]))
    assert _check_stats_stream(doc) >= 1  # the tiny model has the speaker_stats input (norm "speaker")


def test_sidecar_pooling_rule_decides(tiny_export: dict, emodb_dir: Path, tmp_path: Path) -> None:
    """A "mean-log" sidecar pools the same window posteriors by their geometric mean; an unknown rule
    is refused when the model is loaded."""
    from ser_bnn.errors import SerBnnError
    from ser_bnn.runtime.predict import load_deployed, predict_file
    from ser_bnn.runtime.sidecar import sidecar_paths

    src = Path(tiny_export["model"])
    dst = tmp_path / "m.tflite"
    shutil.copy(src, dst)
    side = json.loads(sidecar_paths(src)["sidecar"].read_text())
    assert side["pooling"] == "max"
    side["pooling"] = "mean-log"
    sidecar_paths(dst)["sidecar"].write_text(json.dumps(side))
    wav = emodb_dir / "wav" / "08b03Tc.wav"  # 9 s: three windows
    ref, geo = predict_file(load_deployed(src), wav), predict_file(load_deployed(dst), wav)
    labels = side["labels"]
    post = np.array(geo["window_posteriors"], np.float64)
    assert len(post) >= 2 and np.array_equal(post, np.array(ref["window_posteriors"], np.float64))
    want = np.exp(np.log(np.maximum(post, 1e-7)).mean(axis=0))
    np.testing.assert_allclose([geo["pooled"][k] for k in labels], want, rtol=1e-6)
    assert geo["pooling"] == "mean-log" and ref["pooling"] == "max"
    assert geo["emotion"] == labels[int(np.argmax(want))]
    assert geo["pooled_max"] == ref["pooled_max"] == ref["pooled"]
    side["pooling"] = "median"
    sidecar_paths(dst)["sidecar"].write_text(json.dumps(side))
    with pytest.raises(SerBnnError, match="unknown pooling 'median'"):
        load_deployed(dst)
