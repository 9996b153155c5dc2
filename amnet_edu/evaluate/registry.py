"""Trackers by name: ``make_tracker("amnet" | "anet" | "csrt" | "kcf" | "mil")``.

A name (a plain string) is what travels to worker processes, which build their own tracker:
trackers hold OpenCV / PyTorch state that does not pickle. Names are case-insensitive; the
canonical spelling (``display_name``) is the results folder name.
"""
from __future__ import annotations

__all__ = ["TRACKER_NAMES", "display_name", "make_tracker", "ConfiguredTracker"]

# lower-case key -> canonical name (results folder, table row)
TRACKER_NAMES = {"amnet": "AMNet", "anet": "ANet", "csrt": "CSRT", "kcf": "KCF", "mil": "MIL"}


def _checkpoint(name: str):
    """``name`` as a checkpoint file (``*.pt`` that exists), else None."""
    from pathlib import Path

    p = Path(str(name))
    return p if p.suffix == ".pt" and p.is_file() else None


def display_name(name: str) -> str:
    """Canonical spelling of a registered tracker name (``"csrt"`` -> ``"CSRT"``).

    A path to a checkpoint file (``runs/amnet/best.pt``) is also a tracker: an AMNet/ANet
    ``Tracker`` with those weights, named ``<folder>_<file stem>`` (``amnet_best``).
    """
    ck = _checkpoint(name)
    if ck is not None:
        return f"{ck.parent.name}_{ck.stem}"
    key = str(name).lower()
    if key not in TRACKER_NAMES:
        raise ValueError(f"unknown tracker {name!r}; choose from {sorted(TRACKER_NAMES)} or a checkpoint .pt file")
    return TRACKER_NAMES[key]


def make_tracker(name: str, config=None):
    """A fresh tracker for ``name``. AMNet / ANet import PyTorch lazily (only when asked for).

    ``config``: a ``TrackerConfig`` for AMNet / ANet / checkpoint trackers (None: the defaults);
    OpenCV's trackers take none.
    """
    canonical = display_name(name)
    ck = _checkpoint(name)
    if ck is not None:
        from ..tracking import Tracker

        tracker = Tracker.from_checkpoint(ck, config=config)
    elif canonical in ("AMNet", "ANet"):
        from ..tracking import Tracker  # lazy: torch is heavy, OpenCV runs do not need it

        tracker = Tracker.from_pretrained(canonical.lower(), config=config)
    else:
        if config is not None:
            raise ValueError(f"{canonical} is an OpenCV tracker: it takes no TrackerConfig")
        from .opencv_trackers import OpenCVTracker

        tracker = OpenCVTracker(canonical)
    try:  # results are filed under the registry's spelling, whatever the class calls itself
        tracker.name = canonical
    except AttributeError:
        pass
    return tracker


class ConfiguredTracker:
    """A picklable factory: ``make_tracker(name, config)`` under its own results label.

    For comparing tracking loops of one network in an evaluation (each variant gets its own
    results folder): ``ConfiguredTracker("amnet", TrackerConfig(template="anchor"), "AMNet-anchor")``.
    """

    def __init__(self, name: str, config, label: str):
        display_name(name)  # fail early on an unknown name
        self.tracker, self.config, self.name = name, config, label

    def __call__(self):
        t = make_tracker(self.tracker, self.config)
        t.name = self.name
        return t
