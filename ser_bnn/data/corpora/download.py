"""Fetch Emo-DB from the authors' site, verify it, and unpack it atomically.

The official `download.zip` holds the download folder (`wav/`, `lablaut/`, `labsilb/`, `silb/`,
`erkennung.txt`, `erklaerung.txt`) at its top level. After extraction every wav is checked against
the SHA256 list shipped with ser-bnn, then the folder is renamed into place, so `dest_dir` is either
absent or a verified corpus. Calling again on a verified corpus downloads nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from ser_bnn.data.corpora.base import few
from ser_bnn.data.corpora.emodb import checksum_problems, official_checksums
from ser_bnn.errors import DataError

OFFICIAL_URL = "http://emodb.bilderbar.info/download/download.zip"
TIMEOUT_S = 60.0


def verify_emodb_dir(root: Path, require_complete: bool = True) -> list[str]:
    """Problems that keep `root` from being a verified Emo-DB (empty list = fine)."""
    wdir = Path(root) / "wav"
    if not wdir.is_dir():
        return [f"no wav/ folder in {root}"]
    files = sorted(p for p in wdir.iterdir() if not p.name.startswith("."))
    if not files:
        return [f"{wdir} is empty"]
    problems = []
    bad = checksum_problems(files)
    if bad:
        problems.append(f"{len(bad)} file(s) fail the SHA256 check ({few(bad)})")
    if require_complete:
        missing = sorted(set(official_checksums()) - {p.name for p in files})
        if missing:
            problems.append(f"{len(missing)} file(s) missing ({few(missing)})")
    return problems


def download_emodb(
    dest_dir: str | Path,
    url: str = OFFICIAL_URL,
    sha256: str | None = None,
    require_complete: bool = True,
    progress: bool = True,
) -> Path:
    """Download and unpack Emo-DB into `dest_dir` (which will hold `wav/`); return `dest_dir`.

    `sha256` checks the zip itself when given. `require_complete=False` accepts an archive with a
    subset of the 535 files (every file present must still match the official hash).
    """
    dest = Path(dest_dir).expanduser().absolute()
    if dest.exists():
        if (dest / "wav").is_dir():
            problems = verify_emodb_dir(dest, require_complete)
            if not problems:
                return dest
            raise DataError(f"{dest} exists but is not a valid Emo-DB: {'; '.join(problems)}")
        if not dest.is_dir() or any(dest.iterdir()):
            raise DataError(f"{dest} exists and is not empty: choose a new directory for the download")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".download", dir=dest.parent))
    try:
        archive = work / "download.zip"
        digest = _fetch(url, archive, progress)
        if sha256 is not None and digest != sha256.lower():
            raise DataError(f"{url}: zip sha256 is {digest}, expected {sha256.lower()}")
        extracted = work / "extracted"
        _extract(archive, extracted)
        corpus = _corpus_folder(extracted)
        problems = verify_emodb_dir(corpus, require_complete)
        if problems:
            raise DataError(f"{url}: downloaded Emo-DB is invalid: {'; '.join(problems)}")
        if dest.exists():
            dest.rmdir()  # empty (checked above)
        os.replace(corpus, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _fetch(url: str, out: Path, progress: bool) -> str:
    """Stream `url` to `out` with a progress bar; return the sha256 of the bytes."""
    from tqdm import tqdm

    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp, open(out, "wb") as f:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc="Emo-DB", disable=not progress) as bar:
                while block := resp.read(1 << 16):
                    f.write(block)
                    h.update(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as e:
        raise DataError(f"download of {url} failed: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise DataError(f"download of {url} failed: {reason}") from None
    return h.hexdigest()


def _extract(archive: Path, out: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                p = PurePosixPath(name.replace("\\", "/"))
                if p.is_absolute() or ".." in p.parts:
                    raise DataError(f"{archive.name}: unsafe path {name!r} in the zip")
            z.extractall(out)
    except zipfile.BadZipFile:
        raise DataError("downloaded file is not a zip archive") from None


def _corpus_folder(extracted: Path) -> Path:
    """The folder holding wav/: the archive's top level or its single sub-folder."""
    if (extracted / "wav").is_dir():
        return extracted
    subdirs = [d for d in extracted.iterdir() if d.is_dir() and not d.name.startswith(("_", "."))]
    if len(subdirs) == 1 and (subdirs[0] / "wav").is_dir():
        return subdirs[0]
    raise DataError("the zip holds no wav/ folder: not the Emo-DB download")
