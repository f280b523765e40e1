"""load_audio: formats, rates, channels, and one-line errors for bad files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from ser_bnn.data.audio import audio_duration, load_audio
from ser_bnn.errors import AudioError, DataError


def _tone(sr: int, seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_real_emodb_file_matches_soundfile(emodb_dir):
    path = emodb_dir / "wav" / "03a01Fa.wav"
    wave = load_audio(path)
    ref, sr = sf.read(path, dtype="float32")
    assert sr == 16000 and wave.dtype == np.float32 and wave.ndim == 1
    np.testing.assert_array_equal(wave, ref)
    assert audio_duration(path) == pytest.approx(len(ref) / 16000)


@pytest.mark.parametrize("name", ["14a07Aa", "14a07Fd", "14a07Na", "14a07Wc"])
def test_pad_chunk_files_read_in_full(emodb_dir, name):
    path = emodb_dir / "wav" / f"{name}.wav"
    raw = path.read_bytes()
    assert raw[36:40] == b"PAD "  # the unknown chunk is really there, before 'data'
    data_at = raw.index(b"data")
    n_samples = int.from_bytes(raw[data_at + 4:data_at + 8], "little") // 2
    wave = load_audio(path)
    assert len(wave) == n_samples
    pcm = np.frombuffer(raw[data_at + 8:data_at + 8 + 2 * n_samples], dtype="<i2")
    np.testing.assert_allclose(wave, pcm / 32768.0, atol=1e-7)  # the PAD bytes are not read as audio


def test_every_emodb_file_loads(emodb_dir):
    lengths = [len(load_audio(p)) for p in sorted((emodb_dir / "wav").glob("*.wav"))]
    assert len(lengths) == 535
    total_min = sum(lengths) / 16000 / 60
    assert total_min == pytest.approx(24.78, abs=0.01)  # README: 24.78 min in all
    assert min(lengths) / 16000 == pytest.approx(1.226, abs=1e-3)
    assert max(lengths) / 16000 == pytest.approx(8.978, abs=1e-3)


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_resampled_to_16k(tmp_path, sr):
    path = tmp_path / f"tone_{sr}.wav"
    sf.write(path, _tone(sr, 1.5), sr, subtype="PCM_16")
    wave = load_audio(path)
    assert len(wave) == math.ceil(int(sr * 1.5) * 16000 / sr)
    # The 440 Hz tone survives: its spectral peak is at 440 Hz after resampling.
    spec = np.abs(np.fft.rfft(wave))
    peak_hz = np.argmax(spec) * 16000 / len(wave)
    assert abs(peak_hz - 440) < 2
    assert np.abs(wave).max() == pytest.approx(0.5, abs=0.02)


def test_target_rate_other_than_16k(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, _tone(16000, 1.0), 16000)
    assert len(load_audio(path, sample_rate=8000)) == 8000


def test_stereo_mixed_to_mono(tmp_path):
    left = _tone(16000, 1.0, 300)
    right = _tone(16000, 1.0, 700)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), (left + right) / 2, atol=1e-6)


def test_float_wav_is_clipped_to_unit_range(tmp_path):
    path = tmp_path / "loud.wav"
    sf.write(path, np.array([0.0, 1.5, -2.0, 0.25], dtype=np.float32), 16000, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(path), [0.0, 1.0, -1.0, 0.25])


def test_silence_is_valid(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000, dtype=np.float32), 16000, subtype="PCM_16")
    wave = load_audio(path)
    assert wave.shape == (16000,) and not wave.any()


def test_flac_and_mp3(tmp_path):
    tone = _tone(16000, 1.0)
    sf.write(tmp_path / "t.flac", tone, 16000)
    np.testing.assert_allclose(load_audio(tmp_path / "t.flac"), tone, atol=1e-4)
    if "MP3" not in sf.available_formats():
        pytest.skip("libsndfile here has no MP3 support")
    sf.write(tmp_path / "t.mp3", tone, 16000, format="MP3")
    wave = load_audio(tmp_path / "t.mp3")
    assert abs(len(wave) - 16000) < 2000  # encoder delay/padding
    spec = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spec) * 16000 / len(wave) - 440) < 3


def _error(path) -> str:
    with pytest.raises(AudioError) as info:
        load_audio(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    assert isinstance(info.value, DataError)
    return msg


def test_missing_file(tmp_path):
    assert "not found" in _error(tmp_path / "nope.wav")


def test_directory_is_not_audio(tmp_path):
    assert "not a file" in _error(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    assert "empty" in _error(p)


def test_text_file_named_wav(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("this is not audio, just a text file\n" * 10)
    assert "not a readable audio file" in _error(p)


@pytest.mark.parametrize(("keep", "word"), [(30000, "truncated"), (44, "truncated"), (59, "truncated"),
                                             (30, "corrupt"), (10, "corrupt")])
def test_truncated_wav(emodb_dir, tmp_path, keep, word):
    raw = (emodb_dir / "wav" / "03a01Fa.wav").read_bytes()  # 60788 bytes, 'data' header at 36..44
    p = tmp_path / "cut.wav"
    p.write_bytes(raw[:keep])
    assert word in _error(p)


def test_garbage_after_riff_header(tmp_path):
    p = tmp_path / "bad.wav"
    p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    assert "corrupt" in _error(p) or "truncated" in _error(p)


def test_wav_with_zero_samples(tmp_path):
    p = tmp_path / "zero.wav"
    sf.write(p, np.zeros(0, dtype=np.float32), 16000, subtype="PCM_16")
    assert "no samples" in _error(p)
    with pytest.raises(AudioError, match="no samples"):
        audio_duration(p)


def test_nan_samples_rejected(tmp_path):
    p = tmp_path / "nan.wav"
    sf.write(p, np.array([0.0, np.nan, 0.1], dtype=np.float32), 16000, subtype="FLOAT")
    assert "NaN" in _error(p)


def test_duration_errors(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("text")
    with pytest.raises(AudioError, match="not a readable audio file"):
        audio_duration(p)
    with pytest.raises(AudioError, match="not found"):
        audio_duration(tmp_path / "missing.wav")
