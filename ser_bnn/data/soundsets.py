"""Reproducible non-speech signals and noisy speech for the speech detector (`ser_bnn.dsp.gating`).

The recipe, not audio: every signal is drawn from `numpy.random.default_rng(seed)` with its
parameters (level, duration, frequencies, rates) drawn per item, at 16 kHz, float32, peak level
in dBFS. `nonspeech(seed, n)` returns `n` items of every family:

- `tone`: one sine, 50 Hz - 4 kHz (log-uniform);
- `harmonic`: a harmonic stack, f0 50 Hz - 1 kHz, harmonics up to 4 kHz, slope 1/k^a;
- `hum`: mains hum, 50 or 60 Hz, with up to 12 harmonics of random level (odd ones stronger);
- `chirp`: linear or logarithmic sweeps between two frequencies in 50 Hz - 4.1 kHz, one sweep
  or several (a sawtooth of sweeps), up or down;
- `chord`: a triad or seventh chord of harmonic notes (MIDI 36-72), held or switched on and off
  at 0.5-4 Hz;
- `arpeggio`: the notes of a chord over two octaves at 2-10 notes/s, each with a plucked decay;
- `drums`: a 16th-note pattern at 70-170 BPM of kick (pitch-dropping sine), snare (noise and
  tone) and hi-hat (high-passed noise);
- `white`, `pink`, `brown`: Gaussian noise with a 1/f^0, 1/f, 1/f^2 power spectrum;
- `clicks`: impulses or 1-10 ms decaying bursts, regular or Poisson, 0.5-20 per second;
- `dither`: +-1 LSB of 16-bit audio.

Tonal and musical items get, with probability 1/2, a microphone noise floor (white, 50-80 dB
below their peak). Levels: peak -40 to -3 dBFS; durations 1-6 s.

`mix_at_snr` adds a noise to speech at an SNR (power over the whole signal); `NOISES_FOR_SPEECH`
names the families used for noisy speech. No package on the registries the project uses ships
real non-speech recordings without a download at run time, so the set is synthetic.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SR = 16000
FAMILIES = ("tone", "harmonic", "hum", "chirp", "chord", "arpeggio", "drums",
            "white", "pink", "brown", "clicks", "dither")
NOISES_FOR_SPEECH = ("white", "pink", "brown", "hum", "arpeggio")
SNRS_DB = (20, 10, 0)


def _peak(x: np.ndarray, db: float) -> np.ndarray:
    m = float(np.abs(x).max())
    return (x * (10 ** (db / 20) / m if m > 0 else 0.0)).astype(np.float32)


def _t(n: int) -> np.ndarray:
    return np.arange(n) / SR


def _n(rng: np.random.Generator) -> int:
    return int(rng.uniform(1.0, 6.0) * SR)


def _partials(
    f0: np.ndarray | float, t: np.ndarray, k_max: int, slope: float, rng: np.random.Generator
) -> np.ndarray:
    """Sum of harmonics k * f0 (k <= k_max, below 4.5 kHz) with amplitude k^-slope, random phases."""
    out = np.zeros_like(t)
    f0 = np.broadcast_to(np.asarray(f0, float), t.shape)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    for k in range(1, k_max + 1):
        out += np.where(k * f0 < 4500, k ** -slope, 0.0) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    return out


def _colored(n: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a power spectrum ~ 1/f^alpha (f >= 10 Hz)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 10.0)
    return np.fft.irfft(spec * f ** (-alpha / 2), n)


def tone(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng)
    return np.sin(2 * np.pi * np.exp(rng.uniform(np.log(50), np.log(4000))) * _t(n) + rng.uniform(0, 6.3))


def harmonic(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng)
    f0 = np.exp(rng.uniform(np.log(50), np.log(1000)))
    return _partials(f0, _t(n), int(rng.integers(2, 40)), rng.uniform(0, 2), rng)


def hum(rng: np.random.Generator) -> np.ndarray:
    n, f0, t = _n(rng), float(rng.choice([50.0, 60.0])), None
    t = _t(n)
    out = np.zeros(n)
    for k in range(1, int(rng.integers(2, 13)) + 1):
        a = rng.uniform(0.2, 1.0) if k % 2 else rng.uniform(0, 0.3)
        out += a * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3))
    return out


def chirp(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng)
    f0, f1 = np.exp(rng.uniform(np.log(50), np.log(4100), 2))
    sweeps = int(rng.choice([1, 1, 2, 4, 8]))
    u = (np.arange(n) * sweeps / n) % 1.0  # position within the current sweep
    f = f0 * (f1 / f0) ** u if rng.random() < 0.5 else f0 + (f1 - f0) * u
    return np.sin(2 * np.pi * np.cumsum(f) / SR)


def _note(f0: float, n: int, rng: np.random.Generator, decay: float | None) -> np.ndarray:
    t = _t(n)
    x = _partials(f0, t, int(rng.integers(1, 7)), rng.uniform(0.5, 2), rng)
    return x * (np.exp(-t / decay) if decay else 1.0)


def _chord_notes(rng: np.random.Generator) -> list[float]:
    root = int(rng.integers(36, 61))
    steps = [0, 4, 7] if rng.random() < 0.5 else [0, 3, 7, 10]
    return [440.0 * 2 ** ((root + s - 69) / 12) for s in steps]


def chord(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng)
    x = sum(_note(f, n, rng, None) for f in _chord_notes(rng))
    if rng.random() < 0.75:  # switched on and off
        rate, duty = rng.uniform(0.5, 4.0), rng.uniform(0.3, 0.8)
        gate = ((_t(n) * rate) % 1.0) < duty
        x = x * np.convolve(gate.astype(float), np.hanning(81) / np.hanning(81).sum(), "same")
    return x


def arpeggio(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng)
    notes = _chord_notes(rng)
    notes = notes + [2 * f for f in notes]
    step = int(SR / rng.uniform(2.0, 10.0))
    decay = rng.uniform(0.05, 0.5)
    out = np.zeros(n + 2 * SR)
    order = rng.permutation(len(notes)) if rng.random() < 0.5 else np.arange(len(notes))
    for i, s in enumerate(range(0, n, step)):
        out[s : s + 2 * SR] += _note(notes[order[i % len(notes)]], 2 * SR, rng, decay)
    return out[:n]


def drums(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng)
    six = int(SR * 60 / rng.uniform(70, 170) / 4)  # samples per 16th note
    m = int(0.3 * SR)
    t = _t(m)
    kick = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t / 0.03)) / SR) * np.exp(-t / 0.12)
    snare = (rng.standard_normal(m) * 0.7 + np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.06)
    hh = np.diff(rng.standard_normal(m + 1)) * np.exp(-t / 0.02) * 0.5
    pattern = {"kick": rng.random(16) < 0.3, "snare": rng.random(16) < 0.2, "hh": rng.random(16) < 0.6}
    pattern["kick"][0] = True
    out = np.zeros(n + m)
    for i, s in enumerate(range(0, n, six)):
        for name, hit in (("kick", kick), ("snare", snare), ("hh", hh)):
            if pattern[name][i % 16]:
                out[s : s + m] += hit
    return out[:n]


def white(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(_n(rng))


def pink(rng: np.random.Generator) -> np.ndarray:
    return _colored(_n(rng), 1.0, rng)


def brown(rng: np.random.Generator) -> np.ndarray:
    return _colored(_n(rng), 2.0, rng)


def clicks(rng: np.random.Generator) -> np.ndarray:
    n = _n(rng)
    rate = rng.uniform(0.5, 20.0)
    if rng.random() < 0.5:
        at = np.arange(rng.integers(0, SR // 4), n, int(SR / rate))
    else:
        at = np.cumsum(rng.exponential(SR / rate, int(n / SR * rate * 2) + 2)).astype(int)
        at = at[at < n]
    length = int(rng.choice([1, 16, 80, 160]))
    decay = np.exp(-np.arange(length) / (length / 4))
    shape = np.ones(1) if length == 1 else rng.standard_normal(length) * decay
    out = np.zeros(n + length)
    for s in at:
        out[s : s + length] += shape * rng.choice([-1.0, 1.0])
    return out[:n]


def dither(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(-1, 2, _n(rng)) / 32768.0


GENERATORS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "tone": tone, "harmonic": harmonic, "hum": hum, "chirp": chirp, "chord": chord,
    "arpeggio": arpeggio, "drums": drums, "white": white, "pink": pink, "brown": brown,
    "clicks": clicks, "dither": dither,
}
FLOORED = ("tone", "harmonic", "hum", "chirp", "chord", "arpeggio", "drums", "clicks")


def make(family: str, rng: np.random.Generator) -> np.ndarray:
    """One item of `family`: float32 at `SR`, peak -40..-3 dBFS (dither: +-1 LSB)."""
    x = GENERATORS[family](rng)
    if family == "dither":
        return x.astype(np.float32)
    peak = rng.uniform(-40.0, -3.0)
    x = _peak(np.asarray(x, float), peak).astype(float)
    if family in FLOORED and rng.random() < 0.5:
        x = x + 10 ** ((peak - rng.uniform(50, 80)) / 20) * rng.standard_normal(len(x))
    return np.clip(x, -1, 1).astype(np.float32)


def nonspeech(*, seed: int, n: int, families: tuple[str, ...] = FAMILIES) -> dict[str, list[np.ndarray]]:
    """`n` items of every family, drawn from `default_rng([seed, family index])`."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    unknown = [f for f in families if f not in GENERATORS]
    if unknown:
        raise ValueError(f"unknown families: {unknown}")
    out = {}
    for f in families:
        rng = np.random.default_rng([seed, FAMILIES.index(f)])
        out[f] = [make(f, rng) for _ in range(n)]
    return out


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`speech` plus `noise` (tiled or cut to its length) scaled to `snr_db` (mean power over the
    whole signal), clipped to [-1, 1]."""
    s = np.asarray(speech, np.float64)
    v = np.resize(np.asarray(noise, np.float64), len(s))
    ps, pn = float(np.mean(s**2)), float(np.mean(v**2))
    if ps == 0 or pn == 0:
        raise ValueError("speech and noise need non-zero power")
    return np.clip(s + v * np.sqrt(ps / pn / 10 ** (snr_db / 10)), -1, 1).astype(np.float32)


def speech_noise(family: str, n_samples: int, *, seed: int) -> np.ndarray:
    """A noise of `family` at least `n_samples` long for `mix_at_snr`."""
    rng = np.random.default_rng([seed, FAMILIES.index(family), n_samples])
    x = GENERATORS[family](rng)
    while len(x) < n_samples:
        x = np.concatenate([x, GENERATORS[family](rng)])
    return np.asarray(x[:n_samples], np.float32)
