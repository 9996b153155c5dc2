"""Trackers by name: ``make_tracker("amnet" | "anet" | "csrt" | "kcf" | "mil")``.

A name (a plain string) is what travels to worker processes, which build their own tracker:
trackers hold OpenCV / PyTorch state that does not pickle. Names are case-insensitive; the
canonical spelling (``display_name``) is the results folder name.
"""
from __future__ import annotations

__all__ = ["TRACKER_NAMES", "display_name", "make_tracker"]

# lower-case key -> canonical name (results folder, table row)
TRACKER_NAMES = {"amnet": "AMNet", "anet": "ANet", "csrt": "CSRT", "kcf": "KCF", "mil": "MIL"}


def display_name(name: str) -> str:
    """Canonical spelling of a registered tracker name (``"csrt"`` -> ``"CSRT"``)."""
    key = str(name).lower()
    if key not in TRACKER_NAMES:
        raise ValueError(f"unknown tracker {name!r}; choose from {sorted(TRACKER_NAMES)}")
    return TRACKER_NAMES[key]


def make_tracker(name: str):
    """A fresh tracker for ``name``. AMNet / ANet import PyTorch lazily (only when asked for)."""
    canonical = display_name(name)
    if canonical in ("AMNet", "ANet"):
        from ..tracking import Tracker  # lazy: torch is heavy, OpenCV runs do not need it

        tracker = Tracker.from_pretrained(canonical.lower())
    else:
        from .opencv_trackers import OpenCVTracker

        tracker = OpenCVTracker(canonical)
    try:  # results are filed under the registry's spelling, whatever the class calls itself
        tracker.name = canonical
    except AttributeError:
        pass
    return tracker
