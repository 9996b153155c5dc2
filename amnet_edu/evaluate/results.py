"""Tracking results on disk, in the got10k toolkit's layout::

    <results_dir>/<benchmark>/<tracker>/<sequence>.txt               one "x,y,w,h" per frame
    <results_dir>/<benchmark>/<tracker>/times/<sequence>_time.txt    seconds per frame
    <results_dir>/<benchmark>/<tracker>/lost/<sequence>_lost.txt     (optional) 1 where the
                                                                     tracker reported failure

Boxes are **0-based** ``x,y,w,h`` (unlike OTB's 1-based ground truth), comma-separated, ``%.3f``;
a frame not tracked (before the first present target) is written ``nan,nan,nan,nan`` and its time
``nan``. Times exclude frame decoding. The ``lost/`` files are this project's addition (got10k
ignores them); they record frames where e.g. OpenCV said ``ok=False`` and the last box was held.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["result_paths", "write_result", "read_result", "has_result"]


def result_paths(results_dir, benchmark: str, tracker: str, sequence: str) -> dict:
    """Paths of the ``boxes``, ``times`` and ``lost`` files for one (tracker, sequence)."""
    root = Path(results_dir) / benchmark / tracker
    return {"boxes": root / f"{sequence}.txt",
            "times": root / "times" / f"{sequence}_time.txt",
            "lost": root / "lost" / f"{sequence}_lost.txt"}


def has_result(results_dir, benchmark, tracker, sequence) -> bool:
    p = result_paths(results_dir, benchmark, tracker, sequence)
    return p["boxes"].is_file() and p["times"].is_file()


def write_result(results_dir, benchmark, tracker, sequence, boxes, times, lost=None) -> dict:
    """Write one run; returns the paths written. ``lost`` (bool [N]) is optional."""
    p = result_paths(results_dir, benchmark, tracker, sequence)
    p["times"].parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(p["boxes"], np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
               fmt="%.3f", delimiter=",")
    np.savetxt(p["times"], np.asarray(times, dtype=np.float64).reshape(-1), fmt="%.8f")
    if lost is not None:
        p["lost"].parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(p["lost"], np.asarray(lost, dtype=int).reshape(-1), fmt="%d")
    elif p["lost"].exists():
        p["lost"].unlink()  # a stale file from an earlier run would be wrong now
    return p


def read_result(results_dir, benchmark, tracker, sequence) -> dict:
    """Read one run: ``{"boxes": [N, 4], "times": [N], "lost": bool [N] or None}``."""
    p = result_paths(results_dir, benchmark, tracker, sequence)
    boxes = np.loadtxt(p["boxes"], delimiter=",", dtype=np.float64, ndmin=2).reshape(-1, 4)
    times = np.loadtxt(p["times"], dtype=np.float64, ndmin=1).reshape(-1)
    lost = (np.loadtxt(p["lost"], dtype=int, ndmin=1).astype(bool)
            if p["lost"].is_file() else None)
    return {"boxes": boxes, "times": times, "lost": lost}
