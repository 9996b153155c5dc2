"""OpenCV's MIL, KCF and CSRT trackers behind the project's tracker protocol.

The protocol every evaluated tracker follows (``amnet_edu.tracking.Tracker`` included)::

    tracker.name                      # str, used as the results folder name
    tracker.init(frame, box)          # frame: RGB uint8 H x W x 3; box: 0-based (x, y, w, h)
    tracker.update(frame) -> box      # 0-based (x, y, w, h) floats

What this wrapper adds to OpenCV (opencv-contrib 5.0: ``cv2.TrackerKCF.create()`` etc., with a
fallback to ``cv2.legacy`` for builds that only have those):

* frames: our RGB is converted to the BGR OpenCV's trackers were written for;
* boxes: OpenCV wants integer ``(x, y, w, h)``; each number is rounded to the nearest integer
  (see :func:`to_opencv_box` for why);
* failure: when OpenCV reports ``ok == False`` the wrapper returns **the last box it returned**
  (the target is assumed to stay put) and counts the frame in ``lost_frames`` / ``last_ok``.
  OpenCV's own box on a failed frame is meaningless (often zeros). The evaluation reports
  how many frames were held this way.
"""
from __future__ import annotations

import numpy as np

from ..boxes import validate_box

__all__ = ["OpenCVTracker", "OPENCV_KINDS", "to_opencv_box"]

OPENCV_KINDS = ("MIL", "KCF", "CSRT")


def _create(kind: str):
    import cv2

    cls = getattr(cv2, f"Tracker{kind}", None)
    if cls is not None and hasattr(cls, "create"):
        return cls.create()
    legacy = getattr(cv2, "legacy", None)
    factory = getattr(legacy, f"Tracker{kind}_create", None) if legacy is not None else None
    if factory is None:
        raise RuntimeError(
            f"this OpenCV ({cv2.__version__}) has no Tracker{kind}; "
            "install opencv-contrib-python-headless")
    return factory()


def to_opencv_box(box, image_shape=None) -> tuple:
    """Integer ``(x, y, w, h)`` for OpenCV: each of x, y, w, h rounded to the nearest integer
    (Python's ``round``), at least 1x1, clipped to the image when ``image_shape`` is given
    (OpenCV's trackers reject boxes that leave the image).

    Why nearest and not outward: KCF is very sensitive to its initial box (one pixel moves its
    AUC on ``vot2017_car1`` from 0.10 to 0.47), and nearest rounding is what reproduces the
    reference OpenCV scores of ``shared/notes/baselines.md`` exactly; outward rounding did not.
    """
    x, y, w, h = (int(round(v)) for v in validate_box(box, image_shape))
    w, h = max(1, w), max(1, h)
    if image_shape is not None:
        H, W = int(image_shape[0]), int(image_shape[1])
        x0, y0 = min(max(0, x), W - 1), min(max(0, y), H - 1)
        x1, y1 = max(x0 + 1, min(W, x + w)), max(y0 + 1, min(H, y + h))
        x, y, w, h = x0, y0, x1 - x0, y1 - y0
    return (x, y, w, h)


class OpenCVTracker:
    """``OpenCVTracker("CSRT" | "KCF" | "MIL")``: see the module docstring for conventions."""

    failure_policy = "on OpenCV failure (ok=False) the last box is held"

    def __init__(self, kind: str = "CSRT"):
        kind = kind.upper()
        if kind not in OPENCV_KINDS:
            raise ValueError(f"unknown OpenCV tracker {kind!r}; choose from {OPENCV_KINDS}")
        self.kind = kind
        self.name = kind
        self._tracker = None
        self._box = None
        self.last_ok = True
        self.lost_frames = 0

    @staticmethod
    def _bgr(frame) -> np.ndarray:
        import cv2
        from ..frames import to_rgb

        return cv2.cvtColor(to_rgb(frame), cv2.COLOR_RGB2BGR)

    def describe(self) -> dict:
        """The tracker's identity for the evaluation's run records (``evaluate.results``)."""
        return {"tracker": "opencv", "kind": self.name}

    def init(self, frame, box) -> None:
        img = self._bgr(frame)
        self._tracker = _create(self.kind)  # a fresh tracker: OpenCV's cannot be re-initialised
        self._tracker.init(img, to_opencv_box(box, img.shape))
        self._box = np.asarray(validate_box(box), dtype=np.float64)
        self.last_ok = True
        self.lost_frames = 0

    def update(self, frame) -> np.ndarray:
        if self._tracker is None:
            raise RuntimeError("call init(frame, box) before update(frame)")
        ok, box = self._tracker.update(self._bgr(frame))
        box = np.asarray(box, dtype=np.float64).reshape(-1)
        self.last_ok = bool(ok) and box.size == 4 and box[2] > 0 and box[3] > 0
        if self.last_ok:
            self._box = box
        else:
            self.lost_frames += 1
        return self._box.copy()

    def __repr__(self) -> str:
        return f"OpenCVTracker({self.kind!r})"
