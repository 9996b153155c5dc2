"""Tracking results on disk, in the got10k toolkit's layout::

    <results_dir>/<benchmark>/<tracker>/<sequence>.txt               one "x,y,w,h" per frame
    <results_dir>/<benchmark>/<tracker>/times/<sequence>_time.txt    seconds per frame
    <results_dir>/<benchmark>/<tracker>/lost/<sequence>_lost.txt     (optional) 1 where the
                                                                     tracker reported failure

Boxes are **0-based** ``x,y,w,h`` (unlike OTB's 1-based ground truth), comma-separated, ``%.3f``;
a frame not tracked (before the first present target) is written ``nan,nan,nan,nan`` and its time
``nan``. Times exclude frame decoding. The ``lost/`` files are this project's addition (got10k
ignores them); they record frames where e.g. OpenCV said ``ok=False`` and the last box was held.
``<tracker>/tracker.json`` (also ours) records what made the runs (``check_record``): a cached run
is reused only by the same tracker configuration.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["result_paths", "write_result", "read_result", "has_result", "check_record"]


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


RECORD = "tracker.json"


def check_record(results_dir, benchmark, tracker, description, overwrite: bool = False):
    """Keep cached runs honest: the folder of ``tracker``'s runs holds ``tracker.json``, the
    ``description`` (a JSON-able dict, e.g. ``Tracker.describe()``) of what made them.

    A folder with runs of another description raises ``ValueError`` (reusing them would score one
    tracker under another's name: a changed ``TrackerConfig`` default, other weights), unless
    ``overwrite`` (the runs are about to be redone). Returns a note for a folder whose runs
    predate these records (they are used unchecked), else None. ``description=None`` (a tracker
    that cannot describe itself) checks nothing.
    """
    if description is None:
        return None
    folder = Path(results_dir) / benchmark / tracker
    record = folder / RECORD
    canonical = json.loads(json.dumps(description, sort_keys=True))
    if record.is_file() and not overwrite:
        stored = json.loads(record.read_text())
        if stored != canonical:
            changed = sorted(_differences(stored, canonical))
            raise ValueError(
                f"the runs in {folder} were made by another configuration of {tracker!r} "
                f"(differs in: {', '.join(changed)}); use another results folder or label, or "
                f"overwrite=True (--overwrite) to run them again")
        return None
    if not overwrite and folder.is_dir() and any(folder.glob("*.txt")):
        return f"{tracker}: stored runs older than configuration records, not checked"
    folder.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(canonical, indent=1, sort_keys=True) + "\n")
    return None


def _differences(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in set(a) | set(b):
            yield from _differences(a.get(k), b.get(k), f"{prefix}{k}.")
    elif a != b:
        yield prefix.rstrip(".")
