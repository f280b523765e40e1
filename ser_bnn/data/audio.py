"""Reading audio files: any format soundfile (libsndfile) reads, mixed to mono, resampled to 16 kHz.

Every failure becomes one `AudioError` line that names the file: missing, empty, truncated,
not audio, no samples. Unknown RIFF chunks (Emo-DB's `PAD ` chunk) are skipped by libsndfile.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from ser_bnn.errors import AudioError

__all__ = ["AudioError", "audio_duration", "load_audio"]


def load_audio(path: str | Path, sample_rate: int = 16000) -> np.ndarray:
    """Return the file's samples as float32 mono in [-1, 1] at `sample_rate` Hz.

    Stereo (or more channels) is averaged to mono; other rates are resampled with soxr
    (same result as librosa's "soxr_hq"). All-zero audio is valid and returned as is.
    """
    path = Path(path)
    _check_file(path)
    try:
        data, sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        data, sr = _read_fallback(path, e)
    if data.shape[0] == 0:
        raise AudioError(f"{path}: audio file holds no samples")
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: audio holds NaN or infinite samples")
    wave = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if sr != sample_rate:
        wave = _resample(wave, sr, sample_rate)
    return np.ascontiguousarray(np.clip(wave, -1.0, 1.0), dtype=np.float32)


def audio_duration(path: str | Path) -> float:
    """Duration in seconds from the file header (no decoding)."""
    path = Path(path)
    _check_file(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        raise AudioError(f"{path}: not a readable audio file ({_reason(e)})") from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"{path}: audio file holds no samples")
    return info.frames / info.samplerate


def _resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """soxr "HQ" resampling, length ceil(n * target / orig): what librosa.resample(res_type="soxr_hq")
    returns, without importing librosa (and numba)."""
    import soxr

    out = soxr.resample(wave, orig_sr, target_sr, quality="HQ")
    n = int(np.ceil(len(wave) * target_sr / orig_sr))
    return out[:n] if len(out) >= n else np.pad(out, (0, n - len(out)))


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"{path}: audio file not found")
    if not path.is_file():
        raise AudioError(f"{path}: not a file")
    size = path.stat().st_size
    if size == 0:
        raise AudioError(f"{path}: audio file is empty (0 bytes)")
    try:
        problem = _riff_truncation(path, size)
    except OSError as e:
        raise AudioError(f"{path}: cannot read ({e.strerror or e})") from None
    if problem:
        raise AudioError(f"{path}: truncated WAV file ({problem})")


def _riff_truncation(path: Path, size: int) -> str | None:
    """For a RIFF/WAVE file, say why it is truncated (libsndfile silently reads what is there)."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            hdr = f.read(8)
            chunk_id, chunk_size = hdr[:4], int.from_bytes(hdr[4:8], "little")
            if chunk_id == b"data":
                if chunk_size in (0, 0xFFFFFFFF):  # streamed WAV: size left unknown by the writer
                    return None
                available = size - pos - 8
                if chunk_size > available:
                    return f"data chunk declares {chunk_size} bytes, file holds {available}"
                return None
            pos += 8 + chunk_size + (chunk_size & 1)
    return None


def _read_fallback(path: Path, error: Exception) -> tuple[np.ndarray, int]:
    """Formats libsndfile cannot open (m4a, ...) through audioread, if a backend can."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as e:
        raise AudioError(f"{path}: cannot read ({e.strerror or e})") from None
    if head[:4] in (b"RIFF", b"RIFX", b"FORM", b"fLaC", b"OggS"):  # libsndfile's own formats: corrupt
        raise AudioError(f"{path}: corrupt audio file ({_reason(error)})") from None
    try:
        with warnings.catch_warnings():  # audioread's raw backend imports deprecated aifc, audioop, sunau
            warnings.simplefilter("ignore", DeprecationWarning)
            import audioread

            with audioread.audio_open(str(path)) as af:
                sr, channels = af.samplerate, af.channels
                raw = b"".join(af)
    except Exception:
        raise AudioError(f"{path}: not a readable audio file ({_reason(error)})") from None
    ints = np.frombuffer(raw, dtype="<i2")
    if channels <= 0 or ints.size % channels:
        raise AudioError(f"{path}: corrupt audio file (decoder returned a partial frame)")
    return (ints.reshape(-1, channels) / 32768.0).astype(np.float32), int(sr)


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    # libsndfile prefixes "Error opening '<path>': "; the path is already in our message.
    return text.split("': ", 1)[-1]
