"""`ser-bnn prepare` on the real Emo-DB and on bad input."""

from __future__ import annotations

import shutil

from clirun import assert_one_line_error, ser_bnn


def test_prepare_emodb_summary_and_cache(emodb_dir, tmp_path):
    p = ser_bnn(
        "prepare", "--dataset", "emodb", "--data-dir", emodb_dir, "--cache-dir", tmp_path, "--no-progress"
    )
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "535 utterances, 10 speakers" in out
    for label, n in [
        ("anger", 127),
        ("boredom", 81),
        ("disgust", 46),
        ("fear", 69),
        ("happiness", 71),
        ("sadness", 62),
        ("neutral", 79),
    ]:
        assert any(line.split()[:2] == [label, str(n)] for line in out.splitlines()), label
    assert "24.78 min" in out
    assert len(list(tmp_path.glob("segments-*.npz"))) == 2
    again = ser_bnn(
        "prepare", "--dataset", "emodb", "--data-dir", emodb_dir, "--cache-dir", tmp_path, "--no-progress"
    )
    assert again.returncode == 0 and len(list(tmp_path.glob("segments-*.npz"))) == 2


def test_prepare_missing_and_empty_directory(tmp_path):
    assert_one_line_error(ser_bnn("prepare", "--dataset", "emodb", "--data-dir", tmp_path / "nope"), "nope")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(ser_bnn("prepare", "--dataset", "emodb", "--data-dir", tmp_path / "empty"))


def test_prepare_unknown_label_in_file_name(emodb_dir, tmp_path):
    wav = tmp_path / "db" / "wav"
    wav.mkdir(parents=True)
    for f in sorted((emodb_dir / "wav").glob("*.wav")):
        (wav / f.name).symlink_to(f)
    (wav / "03a01Fa.wav").unlink()
    (wav / "03a01Xa.wav").symlink_to(emodb_dir / "wav" / "03a01Fa.wav")  # 'X' is no emotion letter
    assert_one_line_error(ser_bnn("prepare", "--dataset", "emodb", "--data-dir", tmp_path / "db"), "03a01Xa")


def test_prepare_corrupt_wav_in_manifest(emodb_dir, tmp_path):
    for n in ["03a01Fa", "08a01Wa"]:
        shutil.copy(emodb_dir / "wav" / f"{n}.wav", tmp_path / f"{n}.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunk")
    (tmp_path / "m.csv").write_text(
        "path,label,speaker\n03a01Fa.wav,happy,03\n08a01Wa.wav,angry,08\nbad.wav,happy,09\n"
    )
    p = ser_bnn(
        "prepare",
        "--dataset",
        "csv",
        "--data-dir",
        tmp_path / "m.csv",
        "--cache-dir",
        tmp_path / "c",
        "--no-progress",
    )
    assert_one_line_error(p, "bad.wav")


def test_wrong_flags_exit_nonzero():
    p = ser_bnn("prepare", "--dataset", "nosuch")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    p = ser_bnn("train", "--epochs", "0", "--dataset", "emodb")
    assert_one_line_error(p, "--epochs")
