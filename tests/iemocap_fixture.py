"""Build a miniature IEMOCAP_full_release in a temp dir: the real folder layout and label-file
format, with short synthetic audio (never real IEMOCAP data, never committed audio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
ANNOTATOR_NAMES = {"neu": "Neutral", "hap": "Happiness", "ang": "Anger", "sad": "Sadness",
                   "fru": "Frustration", "exc": "Excited", "xxx": "Other", "sur": "Surprise", "fea": "Fear",
                   "oth": "Other"}
# Per improvised dialog: (turn, code). Codes outside the 5 classes must be dropped.
IMPRO_TURNS = [("F000", "neu"), ("M001", "hap"), ("F002", "ang"), ("M003", "xxx"), ("F004", "sad"),
               ("M005", "fru"), ("F006", "exc"), ("M007", "neu"), ("F008", "sur"), ("M009", "ang")]
SCRIPT_TURNS = [("F000", "neu"), ("M001", "ang"), ("F002", "sad")]
FIVE = {"neu": "neutral", "hap": "happiness", "ang": "anger", "sad": "sadness", "fru": "frustration"}


def _tone(seconds: float, freq: float, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _label_block(start: float, utt: str, code: str) -> list[str]:
    name = ANNOTATOR_NAMES[code]
    return [
        f"[{start:.4f} - {start + 1.5:.4f}]\t{utt}\t{code}\t[2.5000, 3.0000, 3.5000]",
        f"C-E1:\t{name};\t()",
        f"C-E2:\t{name};\t(curious)",
        f"C-F1:\t{name};\t()",
        "A-E1:\tval 3; act 2; dom  2;\t()",
        "A-F1:\tval 2; act 3; dom  3;\t(mildly aggravated but staying polite, attitude)",
        "",
    ]


def build_iemocap(root: Path, sessions: tuple[int, ...] = (1, 2, 3, 4, 5), seconds: float = 1.0,
                  drop_wav: str | None = None) -> dict[str, str]:
    """Write the release under `root/IEMOCAP_full_release`; return {utterance id: 5-class label}
    of the improvised utterances a reader must keep. `drop_wav` names an utterance whose wav is
    left out (to test the error)."""
    release = root / "IEMOCAP_full_release"
    expected: dict[str, str] = {}
    for n in sessions:
        sdir = release / f"Session{n}"
        eval_dir = sdir / "dialog" / "EmoEvaluation"
        (eval_dir / "Categorical").mkdir(parents=True)
        trans_dir = sdir / "dialog" / "transcriptions"
        trans_dir.mkdir(parents=True)
        dialogs = [(f"Ses{n:02d}F_impro01", IMPRO_TURNS[: 6 + n % 3]),
                   (f"Ses{n:02d}M_impro02", IMPRO_TURNS[3:]),
                   (f"Ses{n:02d}F_script01_1", SCRIPT_TURNS)]
        for d_i, (dialog, turns) in enumerate(dialogs):
            lines = [HEADER, ""]
            trans = []
            wav_dir = sdir / "sentences" / "wav" / dialog
            wav_dir.mkdir(parents=True)
            for i, (turn, code) in enumerate(turns):
                utt = f"{dialog}_{turn}"
                lines += _label_block(2.0 * i + 0.29, utt, code)
                trans.append(f"{utt} [{2.0 * i:08.4f}-{2.0 * i + 1.5:08.4f}]: Sentence {i} of {dialog}.")
                if utt != drop_wav:
                    sf.write(wav_dir / f"{utt}.wav", _tone(seconds, 200 + 20 * i + 5 * d_i), 16000,
                             subtype="PCM_16")
                if "impro" in dialog and code in FIVE:
                    expected[utt] = FIVE[code]
            (eval_dir / f"{dialog}.txt").write_text("\n".join(lines) + "\n")
            (trans_dir / f"{dialog}.txt").write_text("\n".join(trans) + "\n")
            # Per-annotator file in a sub-folder: same utterance names, must not be read as labels.
            (eval_dir / "Categorical" / f"{dialog}_e1_cat.txt").write_text(
                "\n".join(f"{dialog}_{t} :{ANNOTATOR_NAMES[c]}; ()" for t, c in turns) + "\n"
            )
    return expected
