"""IEMOCAP (Busso et al., 2008), licensed from USC SAIL: the user supplies `IEMOCAP_full_release`.

Layout read (as released):
    SessionN/dialog/EmoEvaluation/<dialog>.txt      one label file per dialog (sub-folders ignored)
    SessionN/dialog/transcriptions/<dialog>.txt     optional, fills `Utterance.text`
    SessionN/sentences/wav/<dialog>/<utterance>.wav

A label file holds a header line `% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]` and one
block per utterance whose first line is
`[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]`
followed by per-annotator lines (`C-E1:<TAB>Neutral;<TAB>()`, `A-E3: val 3; ...`), which are skipped.
The consensus code (4th field) is the label.

Settings. The paper's: improvised dialogs only, 5 classes happiness (hap), anger (ang), sadness (sad),
frustration (fru), neutral (neu): 2837 utterances in the full release. `classes=4` keeps
ang/hap/sad/neu with *happiness = hap only* (`merge_excited=True` maps exc to happiness, the other
common 4-class variant). Every other code (xxx, oth, exc, sur, fea, dis) is dropped.
Speaker = session + gender of the speaking actor (last field of the utterance name: F000 -> 'Ses01F');
`session` = 'Ses01' (leave-one-session-out groups). The 2837 check runs when all five sessions are
present in the paper setting: a warning, or a DataError with `strict=True`.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from ser_bnn.data.corpora.base import Corpus, Utterance, few
from ser_bnn.errors import ConfigError, DataError

CODES: dict[str, str] = {
    "hap": "happiness",
    "ang": "anger",
    "sad": "sadness",
    "fru": "frustration",
    "neu": "neutral",
}
LABELS_5: tuple[str, ...] = ("happiness", "anger", "sadness", "frustration", "neutral")
LABELS_4: tuple[str, ...] = ("happiness", "anger", "sadness", "neutral")
EXPECTED_IMPROVISED_5 = 2837
SESSIONS = tuple(range(1, 6))
LINE_RE = re.compile(
    r"^\[\s*(?P<start>\d+(?:\.\d*)?)\s*-\s*(?P<end>\d+(?:\.\d*)?)\s*\]\s+(?P<utt>\S+)\s+(?P<code>\S+)\s+\["
)
TRANSCRIPT_RE = re.compile(r"^(?P<utt>Ses\S+)\s+\[[^\]]*\]:\s?(?P<text>.*)$")


def find_release(root: Path) -> Path:
    """The folder holding Session1..Session5: `root` itself or `root/IEMOCAP_full_release`."""
    root = Path(root)
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise DataError(f"IEMOCAP directory {root} {what}")
    for cand in (root, root / "IEMOCAP_full_release"):
        if any((cand / f"Session{n}").is_dir() for n in SESSIONS):
            return cand
    raise DataError(f"{root} holds no Session1..Session5 folders (expected IEMOCAP_full_release)")


def speaker_gender(speaker: str) -> str | None:
    """'f' or 'm' from a speaker id such as 'Ses01F', else None."""
    return speaker[-1].lower() if speaker[-1:] in ("F", "M") else None


def label_map(classes: int, merge_excited: bool) -> tuple[dict[str, str], tuple[str, ...]]:
    """{IEMOCAP code: label} and the ordered labels for a class setting."""
    if classes == 5:
        codes, labels = dict(CODES), LABELS_5
    elif classes == 4:
        codes, labels = {k: v for k, v in CODES.items() if k != "fru"}, LABELS_4
    else:
        raise ConfigError(f"IEMOCAP classes must be 4 or 5, got {classes}")
    if merge_excited:
        codes["exc"] = "happiness"
    return codes, labels


def parse_label_file(path: Path) -> list[tuple[str, str]]:
    """[(utterance id, consensus code)] of one EmoEvaluation file, in file order."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise DataError(f"{path}: cannot read label file ({e.strerror})") from None
    out = []
    for no, line in enumerate(lines, 1):
        if not line.startswith("["):
            continue  # header '%...', blank lines, per-annotator lines 'C-E1:', 'A-F1:'
        m = LINE_RE.match(line)
        if not m:
            raise DataError(f"{path}:{no}: malformed label line {line.strip()[:60]!r}")
        out.append((m["utt"], m["code"].lower()))
    return out


def parse_transcripts(path: Path) -> dict[str, str]:
    """{utterance id: text} from a transcriptions file (missing file -> {})."""
    if not path.is_file():
        return {}
    texts = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = TRANSCRIPT_RE.match(line.strip())
        if m:
            texts[m["utt"]] = m["text"].strip()
    return texts


def load_iemocap(
    root: str | Path,
    classes: int = 5,
    improvised_only: bool = True,
    merge_excited: bool = False,
    strict: bool = False,
) -> Corpus:
    """Read IEMOCAP from `root` (see module docstring)."""
    release = find_release(Path(root))
    codes, labels = label_map(int(classes), merge_excited)
    sessions = [n for n in SESSIONS if (release / f"Session{n}").is_dir()]
    utts: list[Utterance] = []
    seen: set[str] = set()
    missing: list[str] = []
    for n in sessions:
        sdir = release / f"Session{n}"
        eval_dir = sdir / "dialog" / "EmoEvaluation"
        if not eval_dir.is_dir():
            raise DataError(f"{sdir}: no dialog/EmoEvaluation folder")
        session = f"Ses{n:02d}"
        for label_file in sorted(eval_dir.glob("*.txt")):
            if label_file.name.startswith(".") or not label_file.is_file():
                continue
            dialog = label_file.stem
            if improvised_only and "impro" not in dialog:
                continue
            texts = parse_transcripts(sdir / "dialog" / "transcriptions" / f"{dialog}.txt")
            for utt, code in parse_label_file(label_file):
                if code not in codes:
                    continue
                utt_dialog, _, turn = utt.rpartition("_")
                if not utt.startswith(session) or not utt_dialog or turn[:1] not in ("F", "M"):
                    raise DataError(
                        f"{label_file}: utterance name {utt!r} is not {session}<F|M>_<dialog>_<F|M>NNN"
                    )
                if utt in seen:
                    raise DataError(f"{label_file}: utterance {utt} is labelled twice")
                seen.add(utt)
                wav = sdir / "sentences" / "wav" / utt_dialog / f"{utt}.wav"
                if not wav.is_file():
                    missing.append(str(wav.relative_to(release)))
                    continue
                utts.append(
                    Utterance(
                        id=utt,
                        path=wav,
                        label=codes[code],
                        speaker=session + turn[0],
                        text=texts.get(utt, ""),
                        session=session,
                    )
                )
    if missing:
        raise DataError(
            f"IEMOCAP at {release}: {len(missing)} labelled utterance(s) without a wav: {few(missing, 3)}"
        )
    if not utts:
        raise DataError(f"IEMOCAP at {release}: no utterance with labels {', '.join(labels)}")
    corpus = Corpus(name="iemocap", root=release, utterances=utts, labels=labels)
    paper_setting = classes == 5 and improvised_only and not merge_excited
    if paper_setting and len(sessions) == len(SESSIONS) and len(utts) != EXPECTED_IMPROVISED_5:
        msg = (
            f"IEMOCAP at {release}: {len(utts)} improvised 5-class utterances, "
            f"the paper's setting has {EXPECTED_IMPROVISED_5}"
        )
        if strict:
            raise DataError(msg)
        warnings.warn(msg, stacklevel=2)
    return corpus
