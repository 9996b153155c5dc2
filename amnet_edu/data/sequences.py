"""Loaders for tracking benchmarks' on-disk layouts: OTB, VOT (2014 and 2016+), MOT, plain videos.

Every loader returns a :class:`Sequence` whose boxes follow ``amnet_edu.boxes``: ``[N, 4]``
float64 ``(x, y, w, h)`` in **0-based** pixels, a NaN row where the target is absent. The
OTB and MOT files are 1-based and are converted here, once; VOT files are read as written
(see :func:`load_vot`).

Layouts (``folder`` is one sequence):

- OTB: ``img/0001.jpg ...`` and ``groundtruth_rect.txt`` (``x,y,w,h`` per line, separated by
  commas, tabs or spaces), optional ``attributes.json`` (``{"name": [0/1 per frame]}``, written
  by :func:`amnet_edu.data.save_otb`).
- VOT2014 / VOT-TIR: frames at the folder root, ``groundtruth.txt``, ``NAME.label`` flags.
- VOT2016+: ``color/00000001.jpg ...``, ``groundtruth.txt``, ``NAME.tag`` flags, ``sequence``.
- MOT: ``img1/``, ``gt/gt.txt`` (``frame,id,x,y,w,h,conf,class,visibility``), ``seqinfo.ini``.
- clip (the project's training collection): ``video.mp4``, ``groundtruth.txt`` (0-based), ``meta.json``.
"""
from __future__ import annotations

import configparser
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ..boxes import polygon_to_rect, validate_box
from ..frames import read_frame, to_rgb

__all__ = [
    "Sequence", "load_otb", "load_vot", "load_mot", "load_video", "load_clip", "load_sequence",
    "find_sequences", "shared_data_root", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
_SEP = re.compile(r"[,\s;]+")


@dataclass
class Sequence:
    """One tracking sequence: frames (files or a video) and per-frame ground truth.

    ``boxes`` is ``[N, 4]`` float64 0-based ``(x, y, w, h)``, NaN rows where the target is
    absent (or unknown, for a video given only its first box). ``attributes`` maps a flag name
    (``'occlusion'``, ``'camera_motion'``, ...) to a ``[N]`` bool array. For MOT, ``all_boxes``
    maps each track id to its ``[N, 4]`` boxes and ``boxes`` is the longest track.
    """

    name: str
    frame_files: list[Path] | None
    boxes: np.ndarray
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    video_path: Path | None = None
    layout: str = "otb"
    all_boxes: dict[int, np.ndarray] | None = None
    info: dict = field(default_factory=dict)  # layout-specific extras (seqinfo.ini, fps, ...)
    _cap: object = field(default=None, init=False, repr=False, compare=False)
    _cap_next: int = field(default=-1, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def init_box(self) -> np.ndarray:
        """The first non-NaN box ``(x, y, w, h)`` (the tracker's initialisation)."""
        ok = ~np.isnan(self.boxes).any(axis=1)
        if not ok.any():
            raise ValueError(f"sequence {self.name!r} has no frame with a target box")
        return self.boxes[int(np.argmax(ok))].copy()

    @property
    def init_index(self) -> int:
        """Index of the frame :attr:`init_box` belongs to."""
        return int(np.argmax(~np.isnan(self.boxes).any(axis=1)))

    def _check_index(self, i: int) -> int:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"frame {i} out of range for sequence {self.name!r} of {n} frames")
        return i % n

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` as RGB uint8 ``H x W x 3``; ``IndexError`` out of range."""
        i = self._check_index(int(i))
        if self.frame_files is not None:
            return read_frame(self.frame_files[i])
        if self.video_path is not None:
            return self._video_frame(i)
        raise ValueError(f"sequence {self.name!r} has neither frame files nor a video")

    def frames(self) -> Iterator[np.ndarray]:
        """Iterate over all frames (a video is decoded sequentially, not by seeking)."""
        if self.frame_files is not None or self.video_path is None:
            for i in range(len(self)):
                yield self.frame(i)
            return
        import cv2

        cap = cv2.VideoCapture(str(self.video_path))
        try:
            for _ in range(len(self)):
                ok, img = cap.read()
                if not ok:
                    break
                yield to_rgb(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        finally:
            cap.release()

    def _video_frame(self, i: int) -> np.ndarray:
        import cv2

        if self._cap is None:
            self._cap = cv2.VideoCapture(str(self.video_path))
            self._cap_next = 0
            if not self._cap.isOpened():
                self._cap = None
                raise ValueError(f"OpenCV could not open video {self.video_path}")
        if i != self._cap_next:  # seek only when not reading on; seeking is slow and, for
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, i)  # inter-coded videos, approximate
        ok, img = self._cap.read()
        if not ok:
            self._cap_next = -1
            raise IndexError(f"could not decode frame {i} of video {self.video_path}")
        self._cap_next = i + 1
        return to_rgb(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))

    def __getstate__(self):  # a cv2.VideoCapture cannot be pickled (DataLoader workers)
        state = self.__dict__.copy()
        state["_cap"], state["_cap_next"] = None, -1
        return state


# ----------------------------------------------------------------------------- parsing helpers

def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    return path


def _read_rows(path: Path) -> list[tuple[int, list[float]]]:
    """Numbers of each non-empty line as ``(1-based line number, values)``.

    Separators: commas, tabs, spaces (semicolons too). Blank lines are allowed only at the end.
    """
    rows: list[tuple[int, list[float]]] = []
    blank_at = None
    with open(path, encoding="utf-8-sig") as f:
        for lineno, line in enumerate(f, start=1):
            s = line.strip()
            if not s:
                blank_at = blank_at or lineno
                continue
            if blank_at is not None:
                raise ValueError(f"{path.name} line {blank_at}: empty line inside the file ({path})")
            try:
                vals = [float(t) for t in _SEP.split(s) if t]
            except ValueError:
                raise ValueError(f"{path.name} line {lineno}: not numbers: {s!r} ({path})") from None
            rows.append((lineno, vals))
    return rows


def _parse_boxes(path: Path, allow_polygons: bool, one_based: bool = True) -> np.ndarray:
    """Boxes from a ground-truth file -> ``[N, 4]`` 0-based xywh (NaN rows kept).

    ``one_based``: subtract 1 from x and y (OTB's and MOT's files are 1-based).
    """
    rows = _read_rows(path)
    out = np.full((len(rows), 4), np.nan)
    for k, (lineno, vals) in enumerate(rows):
        if vals and all(np.isnan(v) for v in vals) and len(vals) in (1, 4, 8):
            continue  # target absent
        if len(vals) == 4:
            b = np.array(vals)
        elif allow_polygons and len(vals) >= 6 and len(vals) % 2 == 0:
            b = polygon_to_rect(vals)
        else:
            expected = "4 numbers (x,y,w,h) or an 8-number polygon" if allow_polygons else "4 numbers"
            raise ValueError(f"{path.name} line {lineno}: expected {expected}, got {len(vals)} ({path})")
        if not np.all(np.isfinite(b)):
            raise ValueError(f"{path.name} line {lineno}: NaN mixed with numbers ({path})")
        if one_based:
            b[:2] -= 1.0  # 1-based -> 0-based
        out[k] = b
    return out


def _parse_flags(path: Path, n: int) -> np.ndarray:
    """A VOT ``.tag``/``.label`` file: one 0/1 per line; shorter files are padded with 0."""
    flags = np.zeros(n, dtype=bool)
    rows = _read_rows(path)
    if len(rows) > n:
        raise ValueError(f"{path.name}: {len(rows)} lines for a sequence of {n} frames ({path})")
    for k, (lineno, vals) in enumerate(rows):
        if len(vals) != 1 or vals[0] not in (0.0, 1.0):
            raise ValueError(f"{path.name} line {lineno}: expected a single 0 or 1 ({path})")
        flags[k] = vals[0] == 1.0
    return flags


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _check_counts(name: str, frames: list[Path], boxes: np.ndarray, where: Path) -> None:
    if len(frames) != len(boxes):
        raise ValueError(f"sequence {name!r}: {len(frames)} frames but {len(boxes)} boxes in {where}")


def _json_attributes(path: Path, n: int) -> dict[str, np.ndarray]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{name: [0/1 per frame]}}")
    out = {}
    for k, v in data.items():
        a = np.asarray(v)
        if a.ndim != 1 or len(a) != n or not np.isin(a, (0, 1)).all():
            raise ValueError(f"{path}: attribute {k!r} must be {n} values of 0/1")
        out[str(k)] = a.astype(bool)
    return out


# ----------------------------------------------------------------------------- loaders

def load_otb(folder) -> Sequence:
    """Load an OTB sequence: ``img/*.jpg|png`` and ``groundtruth_rect.txt`` (1-based ``x,y,w,h``).

    Frames beyond the last box are dropped with a warning (a few real OTB sequences have more
    images than boxes); fewer frames than boxes is a ``ValueError``. Some OTB sequences
    (Jogging, Skating2) have two targets, ``groundtruth_rect.1.txt`` and ``.2.txt``: the first
    is used.
    """
    folder = _require(Path(folder), "OTB sequence folder")
    img_dir = _require(folder / "img", "OTB image folder")
    gt = folder / "groundtruth_rect.txt"
    if not gt.exists():
        alt = sorted(folder.glob("groundtruth_rect*.txt"))
        if not alt:
            raise FileNotFoundError(f"OTB ground truth not found: {gt}")
        gt = alt[0]
    boxes = _parse_boxes(gt, allow_polygons=False)
    frames = _image_files(img_dir)
    if len(frames) > len(boxes):
        warnings.warn(f"OTB sequence {folder.name!r}: {len(frames)} frames but {len(boxes)} boxes "
                      f"in {gt.name}; using the first {len(boxes)} frames", stacklevel=2)
        frames = frames[: len(boxes)]
    _check_counts(folder.name, frames, boxes, gt)
    attrs = {}
    if (folder / "attributes.json").exists():
        attrs = _json_attributes(folder / "attributes.json", len(boxes))
    return Sequence(folder.name, frames, boxes, attrs, layout="otb", info={"folder": folder})


def load_vot(folder) -> Sequence:
    """Load a VOT sequence (VOT2014/VOT-TIR layout or VOT2016+ layout with ``color/``).

    ``groundtruth.txt`` lines are ``x,y,w,h`` or an 8-value polygon ``x1,y1,...,x4,y4``; the
    polygon becomes its axis-aligned bounding rectangle. VOT coordinates are taken **as written**
    (0-based), as got10k and pysot read them and as the evaluation protocol this project is
    measured with does (``../shared/notes/baselines.md``: CSRT/KCF/MIL reproduce its table
    exactly only this way). The VOT toolkit's own Matlab convention is 1-based; the difference is
    one pixel. ``NaN`` lines (target absent) stay
    NaN rows. Attributes come from ``NAME.tag`` (2016+) or ``NAME.label`` (2014) files, one 0/1
    per line, zero-padded when shorter than the sequence.
    """
    folder = _require(Path(folder), "VOT sequence folder")
    gt = _require(folder / "groundtruth.txt", "VOT ground truth")
    boxes = _parse_boxes(gt, allow_polygons=True, one_based=False)
    info: dict = {"folder": folder}
    if (folder / "color").is_dir():
        layout, frames = "vot2016", _image_files(folder / "color")
        if (folder / "sequence").exists():
            for line in (folder / "sequence").read_text().splitlines():
                if "=" in line:
                    k, v = line.split("=", 1)
                    info[k.strip()] = v.strip()
    else:
        layout, frames = "vot2014", _image_files(folder)
    _check_counts(folder.name, frames, boxes, gt)
    attrs = {}
    for p in sorted([*folder.glob("*.tag"), *folder.glob("*.label")]):
        attrs[p.stem] = _parse_flags(p, len(boxes))
    return Sequence(folder.name, frames, boxes, attrs, layout=layout, info=info)


def load_mot(folder) -> Sequence:
    """Load a MOTChallenge sequence: ``img1/``, ``gt/gt.txt``, ``seqinfo.ini``.

    ``gt.txt`` rows are ``frame,id,x,y,w,h,conf,class,visibility`` (1-based frame numbers and
    pixels). The frame count is taken from the image files (a cut sequence's ``seqinfo.ini``
    may still give the original length). ``all_boxes[id]`` is ``[N, 4]``, NaN where the id is
    absent; ``boxes`` is the track present in the most frames (ties: smallest id), counting
    only rows with ``conf != 0`` (MOT's "ignore" rows) when there are any.
    """
    folder = _require(Path(folder), "MOT sequence folder")
    info: dict = {"folder": folder}
    ini = folder / "seqinfo.ini"
    im_dir = "img1"
    if ini.exists():
        cp = configparser.ConfigParser()
        cp.read(ini)
        if cp.has_section("Sequence"):
            info.update(dict(cp.items("Sequence")))
            im_dir = info.get("imdir", im_dir)
    frames = _image_files(_require(folder / im_dir, "MOT image folder"))
    n = len(frames)
    gt = _require(folder / "gt" / "gt.txt", "MOT ground truth")
    tracks: dict[int, np.ndarray] = {}
    active: dict[int, int] = {}
    for lineno, vals in _read_rows(gt):
        if len(vals) < 6:
            raise ValueError(f"{gt.name} line {lineno}: expected at least 6 numbers "
                             f"(frame,id,x,y,w,h,...), got {len(vals)} ({gt})")
        fr, tid = int(vals[0]), int(vals[1])
        if not 1 <= fr <= n:
            raise ValueError(f"{gt.name} line {lineno}: frame {fr} outside 1..{n} "
                             f"(the number of images in {im_dir}/) ({gt})")
        arr = tracks.setdefault(tid, np.full((n, 4), np.nan))
        if not np.isnan(arr[fr - 1, 0]):
            raise ValueError(f"{gt.name} line {lineno}: id {tid} appears twice in frame {fr} ({gt})")
        arr[fr - 1] = [vals[2] - 1.0, vals[3] - 1.0, vals[4], vals[5]]
        if len(vals) < 7 or vals[6] != 0:
            active[tid] = active.get(tid, 0) + 1
    if not tracks:
        raise ValueError(f"{gt}: no ground-truth rows")
    counts = active or {t: int((~np.isnan(a[:, 0])).sum()) for t, a in tracks.items()}
    main = min(counts, key=lambda t: (-counts[t], t))
    info["track_id"] = main
    return Sequence(folder.name, frames, tracks[main].copy(), {}, layout="mot",
                    all_boxes=dict(sorted(tracks.items())), info=info)


def load_video(path, first_box) -> Sequence:
    """A plain video file read with OpenCV; ``first_box`` is 0-based ``(x, y, w, h)``.

    ``boxes`` is the first box followed by NaN rows (unknown). The frame count is OpenCV's
    ``CAP_PROP_FRAME_COUNT`` (counted by decoding when the container does not say).
    """
    import cv2

    path = _require(Path(path), "video file")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ValueError(f"OpenCV could not open video {path}")
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        shape = (int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)))
        if n <= 0:
            n = 0
            while cap.grab():
                n += 1
    finally:
        cap.release()
    if n == 0:
        raise ValueError(f"video {path} has no frames")
    boxes = np.full((n, 4), np.nan)
    boxes[0] = validate_box(first_box, shape if shape[0] > 0 else None)
    return Sequence(path.stem, None, boxes, {}, video_path=path, layout="video",
                    info={"fps": fps, "frame_size": shape})


def _detect_layout(folder: Path) -> str | None:
    if (folder / "gt" / "gt.txt").exists() and (folder / "img1").is_dir():
        return "mot"
    if (folder / "img").is_dir() and any(folder.glob("groundtruth_rect*.txt")):
        return "otb"
    if (folder / "groundtruth.txt").exists() and (folder / "video.mp4").exists():
        return "clip"
    if (folder / "groundtruth.txt").exists():
        return "vot"
    return None


def load_clip(folder) -> Sequence:
    """Load a sequence stored as one video: ``video.mp4`` + ``groundtruth.txt`` (+ ``meta.json``).

    The layout of the project's training collection (``../shared/data/train``): one video frame
    per annotated frame, ``groundtruth.txt`` with one ``x,y,w,h`` line per frame in **0-based**
    pixels of the video's frames, ``nan`` lines where the target is absent. ``meta.json`` (where
    the clip comes from) goes into ``info["meta"]``. The frame count is checked against the box
    count by decoding only when the container does not say.
    """
    import cv2

    folder = _require(Path(folder), "clip folder")
    video = _require(folder / "video.mp4", "clip video")
    gt = _require(folder / "groundtruth.txt", "clip ground truth")
    boxes = _parse_boxes(gt, allow_polygons=False, one_based=False)
    cap = cv2.VideoCapture(str(video))
    try:
        if not cap.isOpened():
            raise ValueError(f"OpenCV could not open video {video}")
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    if n > 0 and n != len(boxes):
        raise ValueError(f"{folder.name}: {video.name} has {n} frames but {gt.name} has {len(boxes)} boxes")
    info: dict = {"folder": folder}
    if (folder / "meta.json").exists():
        info["meta"] = json.loads((folder / "meta.json").read_text())
    return Sequence(folder.name, None, boxes, {}, video_path=video, layout="clip", info=info)


def load_sequence(path, first_box=None) -> Sequence:
    """Load a sequence folder of any supported layout, or a video file (needs ``first_box``)."""
    path = _require(Path(path), "sequence")
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise ValueError(f"{path}: not a sequence folder or a video ({', '.join(VIDEO_SUFFIXES)})")
        if first_box is None:
            raise ValueError(f"{path} is a video: give first_box=(x, y, w, h), 0-based")
        return load_video(path, first_box)
    layout = _detect_layout(path)
    if layout is None:
        raise ValueError(f"{path}: no known sequence layout (OTB: img/ + groundtruth_rect.txt; "
                         "VOT: groundtruth.txt; MOT: img1/ + gt/gt.txt; clip: video.mp4 + groundtruth.txt)")
    return {"mot": load_mot, "otb": load_otb, "vot": load_vot, "clip": load_clip}[layout](path)


def find_sequences(root, max_depth: int = 3) -> list[Sequence]:
    """All sequence folders under ``root`` (not descending into a sequence), sorted by name."""
    root = _require(Path(root), "data root")
    found: list[Sequence] = []

    def walk(d: Path, depth: int) -> None:
        if _detect_layout(d) is not None:
            found.append(load_sequence(d))
            return
        if depth < max_depth:
            for sub in sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")):
                walk(sub, depth + 1)

    walk(root, 0)
    return sorted(found, key=lambda s: s.name)


def shared_data_root() -> Path | None:
    """Where the real benchmark sequences are: ``$AMNET_EDU_DATA`` if set, else
    ``<repo>/../shared/data/tracking`` (found relative to this package), else ``None``."""
    env = os.environ.get("AMNET_EDU_DATA")
    if env:
        p = Path(env).expanduser()
        if p.is_dir():
            return p
        warnings.warn(f"AMNET_EDU_DATA={env} is not a folder; ignoring it", stacklevel=2)
    repo = Path(__file__).resolve().parents[2]
    p = repo.parent / "shared" / "data" / "tracking"
    return p if p.is_dir() else None
