"""download_emodb against a local HTTP server (127.0.0.1, ephemeral port) serving a zip laid out like
the official download.zip, built in tmp_path from a few real Emo-DB files. No internet."""

from __future__ import annotations

import functools
import hashlib
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ser_bnn.data.corpora.download import OFFICIAL_URL, download_emodb, verify_emodb_dir
from ser_bnn.data.corpora.emodb import load_emodb
from ser_bnn.errors import DataError

NAMES = ["03a01Fa", "08a01Na", "12a01Wc", "14a07Aa", "16b10Wb"]  # 14a07Aa has the PAD chunk


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture()
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields (base url, www dir, request log)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", www, handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _official_like_zip(emodb_dir: Path, out: Path, names=NAMES, corrupt: str | None = None,
                       prefix: str = "") -> Path:
    """wav/, lablaut/, silb/, erkennung.txt, erklaerung.txt at the top level, as in the official zip."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            data = (emodb_dir / "wav" / f"{n}.wav").read_bytes()
            if n == corrupt:
                data = data[:2000] + bytes([data[2000] ^ 0x01]) + data[2001:]
            z.writestr(f"{prefix}wav/{n}.wav", data)
            z.write(emodb_dir / "lablaut" / f"{n}xx.lablaut", f"{prefix}lablaut/{n}xx.lablaut")
            z.write(emodb_dir / "silb" / f"{n}.silb", f"{prefix}silb/{n}.silb")
        z.write(emodb_dir / "erkennung.txt", f"{prefix}erkennung.txt")
        z.write(emodb_dir / "erklaerung.txt", f"{prefix}erklaerung.txt")
    return out


def test_official_url_is_the_authors():
    assert OFFICIAL_URL == "http://emodb.bilderbar.info/download/download.zip"


def test_download_subset_verifies_and_is_idempotent(emodb_dir, server, tmp_path):
    base, www, requests = server
    archive = _official_like_zip(emodb_dir, www / "download.zip")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    dest = tmp_path / "data" / "emodb"
    out = download_emodb(dest, url=f"{base}/download.zip", sha256=sha, require_complete=False, progress=False)
    assert out == dest.absolute() and requests == ["/download.zip"]
    assert sorted(p.name for p in (dest / "wav").iterdir()) == [f"{n}.wav" for n in NAMES]
    assert (dest / "lablaut" / "03a01Faxx.lablaut").is_file() and (dest / "erkennung.txt").is_file()
    for n in NAMES:
        assert (dest / "wav" / f"{n}.wav").read_bytes() == (emodb_dir / "wav" / f"{n}.wav").read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["emodb"]  # no temp leftovers
    corpus = load_emodb(dest, strict=False, verify_checksums=True)
    assert len(corpus) == len(NAMES)
    # Second call: already present and valid, nothing fetched.
    download_emodb(dest, url=f"{base}/download.zip", require_complete=False, progress=False)
    assert requests == ["/download.zip"]


def test_nested_top_folder_accepted(emodb_dir, server, tmp_path):
    base, www, _ = server
    _official_like_zip(emodb_dir, www / "download.zip", prefix="download/")
    dest = download_emodb(tmp_path / "emodb", url=f"{base}/download.zip", require_complete=False,
                          progress=False)
    assert len(list((dest / "wav").glob("*.wav"))) == len(NAMES)


def test_corrupted_file_rejected_and_nothing_left(emodb_dir, server, tmp_path):
    base, www, _ = server
    _official_like_zip(emodb_dir, www / "download.zip", corrupt="12a01Wc")
    dest = tmp_path / "emodb"
    with pytest.raises(DataError, match=r"1 file\(s\) fail the SHA256 check \(12a01Wc.wav\)") as info:
        download_emodb(dest, url=f"{base}/download.zip", require_complete=False, progress=False)
    assert "\n" not in str(info.value)
    assert not dest.exists() and list(tmp_path.iterdir()) == [www]  # atomic: no partial corpus, no temp dir


def test_subset_rejected_when_complete_required(emodb_dir, server, tmp_path):
    base, www, _ = server
    _official_like_zip(emodb_dir, www / "download.zip")
    with pytest.raises(DataError, match=r"530 file\(s\) missing \(03a01Nc.wav, 03a01Wa.wav"):
        download_emodb(tmp_path / "emodb", url=f"{base}/download.zip", progress=False)
    assert not (tmp_path / "emodb").exists()


def test_zip_checksum_mismatch(emodb_dir, server, tmp_path):
    base, www, _ = server
    _official_like_zip(emodb_dir, www / "download.zip")
    with pytest.raises(DataError, match="zip sha256 is [0-9a-f]{64}, expected 0{64}"):
        download_emodb(tmp_path / "emodb", url=f"{base}/download.zip", sha256="0" * 64,
                       require_complete=False, progress=False)
    assert not (tmp_path / "emodb").exists()


def test_http_errors_and_non_zip(server, tmp_path):
    base, www, _ = server
    with pytest.raises(DataError, match=r"download of .*/missing.zip failed: HTTP 404"):
        download_emodb(tmp_path / "a", url=f"{base}/missing.zip", progress=False)
    (www / "page.html").write_text("<html>moved</html>")
    with pytest.raises(DataError, match="not a zip archive"):
        download_emodb(tmp_path / "b", url=f"{base}/page.html", progress=False)
    with zipfile.ZipFile(www / "other.zip", "w") as z:
        z.writestr("readme.txt", "no wavs here")
    with pytest.raises(DataError, match="holds no wav/ folder"):
        download_emodb(tmp_path / "c", url=f"{base}/other.zip", progress=False)
    with zipfile.ZipFile(www / "evil.zip", "w") as z:
        z.writestr("../escape.txt", "x")
    with pytest.raises(DataError, match="unsafe path"):
        download_emodb(tmp_path / "d", url=f"{base}/evil.zip", progress=False)
    assert not (tmp_path / "escape.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["www"]


def test_connection_refused_is_one_line(tmp_path):
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match=rf"download of http://127.0.0.1:{port}/x.zip failed"):
        download_emodb(tmp_path / "e", url=f"http://127.0.0.1:{port}/x.zip", progress=False)


def test_existing_destinations(emodb_dir, tmp_path):
    full = download_emodb(emodb_dir, url="http://127.0.0.1:9/never-fetched.zip", progress=False)
    assert full == emodb_dir  # the real corpus verifies: nothing to do, no network touched
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("user file")
    with pytest.raises(DataError, match="exists and is not empty"):
        download_emodb(busy, url="http://127.0.0.1:9/x.zip", progress=False)
    bad = tmp_path / "bad"
    (bad / "wav").mkdir(parents=True)
    (bad / "wav" / "03a01Fa.wav").write_bytes(b"RIFF")
    with pytest.raises(DataError, match="exists but is not a valid Emo-DB"):
        download_emodb(bad, url="http://127.0.0.1:9/x.zip", progress=False)
    assert verify_emodb_dir(emodb_dir) == []
