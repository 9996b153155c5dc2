"""download(): file:// and a local HTTP server with Range support; fetch_otb_sequence() on a zip."""
from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import urllib.error
import urllib.request
import zipfile

import numpy as np
import pytest

from amnet_edu.data import download, fetch_otb_sequence

PAYLOAD = bytes(range(256)) * 4000  # ~1 MB


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def src(tmp_path):
    p = tmp_path / "src" / "data.bin"
    p.parent.mkdir()
    p.write_bytes(PAYLOAD)
    return p


def test_file_url_with_checksum(tmp_path, src):
    dest = download(src.as_uri(), tmp_path / "out" / "data.bin", _sha(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "out" / "data.bin.part").exists()
    src.unlink()  # already there with the right checksum: no download at all
    assert download(src.as_uri(), dest, _sha(PAYLOAD), progress=False) == dest


def test_partial_file_restarted_when_range_ignored(tmp_path, src):
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(b"garbage" * 10)  # file:// ignores Range
    download(src.as_uri(), dest, _sha(PAYLOAD), chunk_size=4096, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing(tmp_path, src):
    dest = tmp_path / "data.bin"
    with pytest.raises(ValueError) as err:
        download(src.as_uri(), dest, "0" * 64, progress=False)
    assert "0" * 64 in str(err.value) and _sha(PAYLOAD) in str(err.value)
    assert list(tmp_path.glob("data.bin*")) == []


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    ranges: list = []

    def do_GET(self):  # noqa: N802
        rng = self.headers.get("Range")
        type(self).ranges.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = PAYLOAD[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_resume_with_range(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/data.bin"
        (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:300_000])
        _RangeHandler.ranges = []
        dest = download(url, tmp_path / "data.bin", _sha(PAYLOAD), progress=False)
        assert dest.read_bytes() == PAYLOAD
        assert _RangeHandler.ranges == ["bytes=300000-"]
    finally:
        server.shutdown()
        server.server_close()


def test_offline_gives_connection_error(tmp_path):
    # a refused connection (nothing listens on port 9): one message that says what to do offline
    with pytest.raises(ConnectionError, match="could not reach http://127.0.0.1:9/x.zip.*offline"):
        download("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", timeout=5, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", [urllib.error.URLError(socket.timeout("timed out")),
                                     socket.timeout("timed out")])
def test_unreachable_host_is_tried_once_with_the_given_timeout(tmp_path, monkeypatch, failure):
    # No retries or back-off: an offline machine gets its answer after one timeout.
    calls = []

    def urlopen(request, timeout=None):
        calls.append((request.full_url, timeout))
        raise failure

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(ConnectionError, match="offline"):
        download("http://example.invalid/x.zip", tmp_path / "x.zip", timeout=7, progress=False)
    assert calls == [("http://example.invalid/x.zip", 7)]


def _otb_zip(path, entries):
    import cv2

    ok, jpg = cv2.imencode(".jpg", np.full((20, 30, 3), 128, np.uint8))
    with zipfile.ZipFile(path, "w") as zf:
        for name in entries:
            zf.writestr(name, jpg.tobytes() if name.endswith(".jpg") else "3,4,5,6\n3,4,5,6\n")


def test_fetch_otb_sequence(tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    _otb_zip(server / "Toy.zip", ["Toy/img/0001.jpg", "Toy/img/0002.jpg", "Toy/groundtruth_rect.txt"])
    seq = fetch_otb_sequence("Toy", tmp_path / "data", base_url=server.as_uri(), progress=False)
    assert len(seq) == 2 and seq.name == "Toy"
    np.testing.assert_allclose(seq.init_box, [2, 3, 5, 6])
    assert seq.frame(1).shape == (20, 30, 3)
    assert not (tmp_path / "data" / "Toy.zip").exists()
    (server / "Toy.zip").unlink()  # second call: already extracted, no download
    assert len(fetch_otb_sequence("Toy", tmp_path / "data", base_url=server.as_uri())) == 2


def test_fetch_rejects_zip_slip(tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    _otb_zip(server / "Bad.zip", ["Bad/img/0001.jpg", "Bad/groundtruth_rect.txt", "../evil.txt"])
    with pytest.raises(ValueError, match="unsafe entry"):
        fetch_otb_sequence("Bad", tmp_path / "data", base_url=server.as_uri(), progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "data" / "Bad").exists()
