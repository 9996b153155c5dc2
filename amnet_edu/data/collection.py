"""The training collection: many real sequences stored as clips, listed with their split.

Layout (``../shared/data/train``, or ``$AMNET_EDU_TRAIN_DATA``): one folder per sequence in the
``clip`` layout (``video.mp4`` + ``groundtruth.txt`` + ``meta.json``, see
:func:`amnet_edu.data.load_clip`) and an ``index.tsv`` with the columns
``folder, benchmark, frames, labelled, width, height, split``. The ``split`` column says what a
sequence is for: ``train`` (fit the weights) or ``val`` (choose settings, checkpoints and
defaults). Nothing here is copied into the repository.
"""
from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from .sequences import Sequence, load_clip

__all__ = ["CollectionEntry", "read_index", "load_collection", "train_data_root", "SPLITS"]

SPLITS = ("train", "val")
_COLUMNS = ("folder", "benchmark", "frames", "labelled", "width", "height", "split")


@dataclass(frozen=True)
class CollectionEntry:
    """One row of ``index.tsv``."""

    folder: str
    benchmark: str
    frames: int
    labelled: int
    width: int
    height: int
    split: str


def read_index(root) -> list[CollectionEntry]:
    """Rows of ``root/index.tsv``; errors name the file and the line."""
    path = Path(root) / "index.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"no index.tsv in {root}: not a training collection")
    rows = []
    with path.open(newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != _COLUMNS:
            raise ValueError(f"{path}: header must be {' '.join(_COLUMNS)}, got {header}")
        for lineno, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(_COLUMNS):
                raise ValueError(f"{path} line {lineno}: {len(row)} columns, expected {len(_COLUMNS)}")
            try:
                e = CollectionEntry(row[0], row[1], int(row[2]), int(row[3]), int(row[4]), int(row[5]), row[6])
            except ValueError as exc:
                raise ValueError(f"{path} line {lineno}: {exc}") from None
            if e.split not in SPLITS:
                raise ValueError(f"{path} line {lineno}: split {e.split!r} is not one of {SPLITS}")
            rows.append(e)
    return rows


def load_collection(root=None, split: str | None = None) -> list[Sequence]:
    """The sequences of ``split`` (``"train"``, ``"val"`` or ``None`` for all), sorted by folder.

    ``root`` defaults to :func:`train_data_root`; ``FileNotFoundError`` when there is none.
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
    root = Path(root) if root is not None else train_data_root()
    if root is None:
        raise FileNotFoundError("no training collection found: set AMNET_EDU_TRAIN_DATA or put "
                                "shared/data/train beside the repository")
    out = []
    for e in sorted(read_index(root), key=lambda e: e.folder):
        if split is None or e.split == split:
            seq = load_clip(root / e.folder)
            seq.info["split"], seq.info["benchmark"] = e.split, e.benchmark
            out.append(seq)
    return out


def train_data_root() -> Path | None:
    """``$AMNET_EDU_TRAIN_DATA`` if set, else ``train/`` beside the tracking data root
    (``$AMNET_EDU_DATA/../train``, ``<repo>/../shared/data/train``), else ``None``."""
    env = os.environ.get("AMNET_EDU_TRAIN_DATA")
    if env:
        p = Path(env).expanduser()
        if (p / "index.tsv").is_file():
            return p
        warnings.warn(f"AMNET_EDU_TRAIN_DATA={env} has no index.tsv; ignoring it", stacklevel=2)
    from .sequences import shared_data_root

    candidates = []
    tracking = shared_data_root()
    if tracking is not None:
        candidates.append(tracking.parent / "train")
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data" / "train")
    for p in candidates:
        if (p / "index.tsv").is_file():
            return p
    return None
