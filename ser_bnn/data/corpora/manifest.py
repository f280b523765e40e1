"""Bring-your-own corpus: a CSV manifest with columns `path,label,speaker` and optional `split`.

- `path`: an audio file; relative paths are resolved against the CSV's directory.
- `label`: class name. Label order (= class index) is sorted unique labels, or the `labels` option.
- `speaker`: speaker id; speaker-independent splits never put one speaker on two sides.
- `split` (optional): train, dev or test, for `--split manifest`.
- `id`, `text`, `session` (optional). Without `id`, the utterance id is `path` as written.
Row numbers in errors are CSV line numbers (the header is line 1).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ser_bnn.data.corpora.base import Corpus, Utterance
from ser_bnn.errors import DataError

REQUIRED = ("path", "label", "speaker")
SPLITS = ("train", "dev", "test")
DEFAULT_NAME = "manifest.csv"


def manifest_path(path: str | Path) -> Path:
    """The CSV file: `path` itself, or `path/manifest.csv` for a directory."""
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_NAME
    if not path.is_file():
        raise DataError(f"manifest {path} does not exist")
    return path


def parse_labels(labels: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """`labels` as a tuple: a comma-separated string or a sequence; None stays None."""
    if labels is None:
        return None
    items = [s.strip() for s in (labels.split(",") if isinstance(labels, str) else labels)]
    if not all(items) or not items:
        raise DataError(f"labels {labels!r}: empty label name")
    if len(set(items)) != len(items):
        raise DataError(f"labels {labels!r}: a label is listed twice")
    return tuple(items)


def load_manifest(path: str | Path, labels: str | Sequence[str] | None = None) -> Corpus:
    """Read a CSV manifest (see module docstring) into a Corpus named 'csv'."""
    csv_path = manifest_path(path)
    given = parse_labels(labels)
    base = csv_path.parent
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            rows = list(reader)
    except UnicodeDecodeError:
        raise DataError(f"{csv_path}: not a UTF-8 text file") from None
    except csv.Error as e:
        raise DataError(f"{csv_path}: malformed CSV ({e})") from None
    if not header:
        raise DataError(f"{csv_path}: empty manifest (need a header path,label,speaker)")
    missing_cols = [c for c in REQUIRED if c not in header]
    if missing_cols:
        raise DataError(
            f"{csv_path}: missing column(s) {', '.join(missing_cols)} (header: {','.join(header)})"
        )
    has_split = "split" in header
    utts: list[Utterance] = []
    ids: set[str] = set()
    for line, raw in enumerate(rows, 2):
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items()}
        if not any(row.values()):
            continue  # blank line
        where = f"{csv_path} row {line}"
        for col in REQUIRED:
            if not row.get(col):
                raise DataError(f"{where}: empty {col}")
        label = row["label"]
        if given is not None and label not in given:
            raise DataError(f"{where}: label {label!r} is not one of {', '.join(given)}")
        split = row.get("split", "").lower()
        if has_split and split not in SPLITS:
            raise DataError(f"{where}: split {row.get('split', '')!r} is not one of {', '.join(SPLITS)}")
        audio = Path(row["path"]).expanduser()
        audio = audio if audio.is_absolute() else base / audio
        if not audio.is_file():
            raise DataError(f"{where}: audio file {row['path']} not found ({audio})")
        uid = row.get("id") or row["path"]
        if uid in ids:
            raise DataError(f"{where}: duplicate id {uid!r}")
        ids.add(uid)
        utts.append(
            Utterance(
                id=uid,
                path=audio,
                label=label,
                speaker=row["speaker"],
                text=row.get("text", ""),
                session=row.get("session", ""),
                split=split,
            )
        )
    if not utts:
        raise DataError(f"{csv_path}: empty manifest (no rows)")
    ordered = given if given is not None else tuple(sorted({u.label for u in utts}))
    return Corpus(name="csv", root=base, utterances=utts, labels=ordered)
