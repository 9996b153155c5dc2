"""Resumable, checksummed downloads (``urllib`` only) and fetching OTB sequences.

``download`` writes ``dest.part``, continues it with an HTTP ``Range`` request when the server
supports it (restarts when it does not), checks the SHA-256 when given and renames the part
into place only when complete, so an interrupted download never leaves a truncated ``dest``.
"""
from __future__ import annotations

import hashlib
import shutil
import socket
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from .sequences import Sequence, load_otb

__all__ = ["download", "fetch_otb_sequence", "sha256_of", "safe_extract", "OTB_BASE_URL"]

#: the OTB-100 archive: ``<OTB_BASE_URL>/<Name>.zip`` (e.g. ``Human3.zip``)
OTB_BASE_URL = "http://cvlab.hanyang.ac.kr/tracker_benchmark/seq"


def sha256_of(path, chunk_size: int = 1 <<20) -> str:
    """Hex SHA-256 digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def _offline_error(url: str, exc: BaseException) -> ConnectionError:
    return ConnectionError(
        f"could not reach {url}: {exc}. You appear to be offline (or the server is down); "
        "download the sequence by hand and set AMNET_EDU_DATA to the folder holding it")


def download(url: str, dest, sha256: str | None = None, *, chunk_size: int = 1 << 20,
             timeout: float = 30, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` and return ``dest`` as a Path.

    - ``dest`` already there: kept if ``sha256`` is None or matches, else downloaded again.
    - A leftover ``dest.part`` is continued with ``Range: bytes=<size>-``; a server that
      answers 200 instead of 206 (ignoring the range) makes the download restart from 0.
    - ``sha256`` mismatch: the part file is deleted and ``ValueError`` names both digests.
    - Unreachable host: ``ConnectionError`` saying what to do offline.
    """
    dest = Path(dest)
    want = sha256.lower() if sha256 else None
    if dest.exists():
        if want is None or sha256_of(dest, chunk_size) == want:
            return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.exists() else 0

    headers = {"User-Agent": "amnet-edu"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # range not satisfiable: the part is probably complete
            resp = None
        else:
            raise ConnectionError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        if url.startswith("file:"):
            raise FileNotFoundError(f"{url}: {exc.reason}") from exc
        raise _offline_error(url, exc.reason) from exc
    except (socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        raise _offline_error(url, exc) from exc

    if resp is not None:
        with resp:
            status = getattr(resp, "status", None)
            content_range = resp.headers.get("Content-Range", "") if resp.headers else ""
            resumed = start > 0 and status == 206 and content_range.startswith(f"bytes {start}-")
            if not resumed:
                start = 0  # the server sent the whole file (file:// URLs always do)
            length = resp.headers.get("Content-Length") if resp.headers else None
            total = start + int(length) if length and length.isdigit() else None
            bar = None
            if progress:
                try:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=total, initial=start, unit="B", unit_scale=True,
                               desc=dest.name, file=sys.stderr, leave=False)
                except ImportError:
                    bar = None
            try:
                with open(part, "ab" if resumed else "wb") as f:
                    while True:
                        try:
                            block = resp.read(chunk_size)
                        except (socket.timeout, TimeoutError, ConnectionError) as exc:
                            raise ConnectionError(
                                f"download of {url} interrupted after {f.tell()} bytes ({exc}); "
                                f"call download() again to resume from {part}") from exc
                        if not block:
                            break
                        f.write(block)
                        if bar is not None:
                            bar.update(len(block))
            finally:
                if bar is not None:
                    bar.close()

    if want is not None:
        got = sha256_of(part, chunk_size)
        if got != want:
            part.unlink(missing_ok=True)
            raise ValueError(f"checksum mismatch for {url}: expected sha256 {want}, got {got}; "
                             f"the partial file was deleted")
    part.replace(dest)  # atomic on one file system
    return dest


def safe_extract(archive, dest) -> list[Path]:
    """Extract a zip into ``dest``, refusing entries that would land outside it
    (absolute paths, ``..``) and never creating links. Returns the files written."""
    dest = Path(dest)
    root = dest.resolve()
    out = []
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:  # check everything before writing anything
            name = info.filename.replace("\\", "/")
            target = (root / name).resolve()
            if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts or \
                    (target != root and root not in target.parents):
                raise ValueError(f"{archive}: unsafe entry {info.filename!r} escapes {dest}")
        for info in infos:
            target = root / info.filename.replace("\\", "/")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            out.append(target)
    return out


def _find_otb_folder(d: Path) -> Path | None:
    if (d / "img").is_dir() and any(d.glob("groundtruth_rect*.txt")):
        return d
    for sub in sorted(p for p in d.rglob("img") if p.is_dir()):
        if any(sub.parent.glob("groundtruth_rect*.txt")):
            return sub.parent
    return None


def fetch_otb_sequence(name: str, root, base_url: str = OTB_BASE_URL, sha256: str | None = None,
                       *, keep_zip: bool = False, progress: bool = True) -> Sequence:
    """Download ``<base_url>/<name>.zip`` into ``root``, extract it to ``root/<name>`` and load it.

    Already extracted: no download. The archive's top folder may be named anything; the
    folder holding ``img/`` and ``groundtruth_rect.txt`` becomes ``root/<name>``.
    """
    root = Path(root)
    target = root / name
    if target.is_dir() and _find_otb_folder(target) == target:
        return load_otb(target)
    root.mkdir(parents=True, exist_ok=True)
    zpath = download(f"{base_url.rstrip('/')}/{name}.zip", root / f"{name}.zip", sha256,
                     progress=progress)
    tmp = root / f".{name}.extracting"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        safe_extract(zpath, tmp)
        found = _find_otb_folder(tmp)
        if found is None:
            raise ValueError(f"{zpath}: no img/ + groundtruth_rect.txt inside")
        if target.exists():
            shutil.rmtree(target)
        found.replace(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    if not keep_zip:
        zpath.unlink(missing_ok=True)
    return load_otb(target)
