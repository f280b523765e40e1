"""`ser-bnn predict` with speaker statistics and speech gating, on the tiny exported model
(tests/run_fixture.py): no speech, --speaker-norm against the offline standardization of
evaluation, profiles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import ser_bnn  # noqa: F401

pytest_plugins = ["run_fixture"]

pytestmark = pytest.mark.slow  # needs the converted tiny model

SPEAKER_12 = ("12a01Fb", "12a01Nb", "12a02Ac", "12b02Ea", "12b02Na", "12b09Td")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ser_bnn.cli", "predict", *args],
                          capture_output=True, text=True, timeout=300)


def test_silence_and_white_noise_report_no_speech(tiny_export: dict, emodb_dir: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 3 * 16000
    sf.write(tmp_path / "quiet.wav", rng.integers(-1, 2, n).astype(np.int16), 16000, subtype="PCM_16")
    for db in (-40, -20, -6):
        noise = np.clip(10 ** (db / 20) * rng.standard_normal(n), -1, 1)
        sf.write(tmp_path / f"noise{db}.wav", noise, 16000, subtype="PCM_16")
    names = ["quiet.wav", "noise-40.wav", "noise-20.wav", "noise-6.wav"]
    good = str(emodb_dir / "wav" / "03a01Fa.wav")
    files = [str(tmp_path / f) for f in names]
    p = _cli(tiny_export["model"], *files, good)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    rows = p.stdout.strip().splitlines()[1:]
    assert [r.split()[0] for r in rows] == [*files, good]
    for r in rows[:-1]:
        assert "no speech" in r and r.split()[3:] == ["-"] * 7
    assert "no speech" not in rows[-1]

    p = _cli(tiny_export["model"], *files, good, "--json", "--hop", "1")
    doc = json.loads(p.stdout)
    assert doc["gated"] and doc["statistics_mode"] == "streaming"
    for r in doc["results"][:-1]:
        assert r["emotion"] is None and r["status"] == "no speech" and r["scores"] is None
        assert r["window_posteriors"] == [] and all(not w["speech"] for w in r["windows"])
        assert all(w["speech_frames"] < 30 and w["stats_source"] == "default" for w in r["windows"])
    speech = doc["results"][-1]
    assert speech["emotion"] in doc["labels"] and all(w["speech"] for w in speech["windows"])


def issue_signals() -> dict[str, np.ndarray]:
    """The 8 signals of issue 26 (4 s at 16 kHz, peak 0.3): the first gate gave an emotion to 5 of them."""
    rate, n = 16000, 64000
    t = np.arange(n) / rate
    rng = np.random.default_rng(0)
    claps = np.zeros(n)
    for k in range(8):
        s = int((k + 0.5) * n / 8)
        claps[s : s + 1600] += rng.standard_normal(1600) * np.exp(-np.arange(1600) / 200)
    sweep = 100 + 4000 * t / t[-1]
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) * ((t * 2) % 1 < 0.5)
    raw = {
        "white": rng.standard_normal(n),
        "claps": claps,
        "sine440": np.sin(2 * np.pi * 440 * t),
        "hum50": np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t),
        "chirp": np.sin(2 * np.pi * np.cumsum(sweep) / rate),
        "chord": chord,
        "brown": np.cumsum(rng.standard_normal(n)),
    }
    out = {"dither": rng.integers(-1, 2, 3 * rate) / 32768.0}
    out.update({k: 0.3 * (v - v.mean()) / np.abs(v - v.mean()).max() for k, v in raw.items()})
    return out


def test_issue_signals_report_no_speech(tiny_export: dict, tmp_path: Path) -> None:
    files = []
    for name, x in issue_signals().items():
        files.append(str(tmp_path / f"{name}.wav"))
        sf.write(files[-1], x, 16000, subtype="PCM_16")
    p = _cli(tiny_export["model"], *files, "--json")
    assert p.returncode == 0, p.stderr
    for r in json.loads(p.stdout)["results"]:
        assert r["status"] == "no speech" and r["emotion"] is None, r["file"]
        assert all(w["speech_frames"] < 30 for w in r["windows"]), r["file"]  # the detector's score


def _offline_pooled(run_dir: Path, emodb_dir: Path, ids: tuple[str, ...], cache: Path) -> np.ndarray:
    """Max-pooled posteriors of the evaluation path: one speaker standardized with their statistics
    over all their audio (ser_bnn.data.inputs.network_inputs), then the Keras network."""
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.data.inputs import network_inputs
    from ser_bnn.export import load_run
    from ser_bnn.training.metrics import pool_utterances

    run = load_run(run_dir)
    by_id = {u.id: u for u in load_corpus("emodb", emodb_dir).utterances}
    seg = network_inputs([by_id[i] for i in ids], run.cfg.features, None, cache, progress=False)
    post = np.concatenate([run.model(seg.x[i : i + 1]).numpy() for i in range(len(seg.x))])
    return pool_utterances(post, seg.utt, len(ids))


def test_speaker_norm_equals_offline_standardization(tiny_export: dict, tiny_run: Path, emodb_dir: Path,
                                                     tmp_path: Path) -> None:
    files = [str(emodb_dir / "wav" / f"{i}.wav") for i in SPEAKER_12]
    p = _cli(tiny_export["model"], *files, "--speaker-norm", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["statistics_mode"] == "speaker"
    used = doc["speaker_stats"]["used"]
    for r in doc["results"]:
        assert all(w["speech"] and w["stats_source"] == "speaker" for w in r["windows"])
        assert {w["stats_count"] for w in r["windows"]} == {used["count"]}
    offline = _offline_pooled(tiny_run, emodb_dir, SPEAKER_12, tmp_path / "cache")
    labels = doc["labels"]
    for r, ref in zip(doc["results"], offline, strict=True):
        np.testing.assert_allclose([r["pooled_max"][k] for k in labels], ref, atol=1e-4)
        assert r["emotion"] == labels[int(np.argmax(ref))]
    # the statistics of pass 1 are those of evaluation (every window of these files is speech)
    from ser_bnn.data.corpora import load_corpus
    from ser_bnn.data.inputs import speaker_stats

    by_id = {u.id: u for u in load_corpus("emodb", emodb_dir).utterances}
    cfg = json.loads((tiny_run / "config.json").read_text())["features"]
    from ser_bnn.config import FeatureConfig

    fc = FeatureConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
    st = speaker_stats([by_id[i] for i in SPEAKER_12], fc, tmp_path / "cache", progress=False)["12"]
    assert used["count"] == st.count
    np.testing.assert_allclose(used["sum"], st.sum, rtol=1e-5)


def test_profile_save_continue_and_bad_profiles(tiny_export: dict, emodb_dir: Path, tmp_path: Path) -> None:
    files = [str(emodb_dir / "wav" / f"{i}.wav") for i in SPEAKER_12[:3]]
    prof = tmp_path / "speaker.json"
    p = _cli(tiny_export["model"], *files, "--profile", str(prof), "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    saved = json.loads(prof.read_text())
    assert saved["n_mels"] == 40 and saved["version"] == 1
    # streaming: each file starts from count 0; the profile gets every speech window of every file
    added = 0.0
    for r in doc["results"]:
        assert r["windows"][0]["stats_count"] == 0
        added += r["stats_after"]["count"]
    assert saved["count"] == pytest.approx(added) and saved == {**doc["speaker_stats"]["final"], **saved}

    p = _cli(tiny_export["model"], files[0], "--profile", str(prof), "--json")
    doc2 = json.loads(p.stdout)
    w0 = doc2["results"][0]["windows"][0]
    assert w0["stats_count"] == saved["count"] and w0["stats_source"] == "speaker"
    assert doc2["speaker_stats"]["start"]["count"] == saved["count"]
    assert json.loads(prof.read_text())["count"] > saved["count"]

    good = prof.read_text()
    bad = {
        "bands": json.dumps({**json.loads(good), "n_mels": 32, "sum": [0.0] * 32, "sumsq": [0.0] * 32}),
        "nan": good.replace(f'"count": {json.loads(good)["count"]}', '"count": NaN'),
        "negative": json.dumps({**json.loads(good), "count": -3}),
        "text": "hello",
    }
    for name, text in bad.items():
        f = tmp_path / f"{name}.json"
        f.write_text(text)
        p = _cli(tiny_export["model"], files[0], "--profile", str(f))
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1, (name, p.stderr)
        assert lines[0].startswith("ser-bnn predict: error:") and str(f) in lines[0]
        assert f.read_text() == text  # a refused profile is left alone
