"""Bounding-box helpers shared by the tracker, the data loaders and the evaluation.

Convention everywhere in ``amnet_edu``: a box is ``(x, y, w, h)`` in **0-based** pixel
coordinates of continuous image space, i.e. the box covers ``[x, x + w) x [y, y + h)``; a pixel
``(c, r)`` covers ``[c, c + 1) x [r, r + 1)``. Benchmarks' 1-based files are converted on loading.
Arrays of boxes are ``[N, 4]`` float64. A row of NaN means "target absent" (VOT).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "validate_box", "xywh_to_xyxy", "xyxy_to_xywh", "iou", "center", "center_error",
    "polygon_to_rect", "clip_box",
]


def validate_box(box, image_shape=None) -> np.ndarray:
    """Return ``box`` as a float64 ``(x, y, w, h)`` array or raise ``ValueError`` saying why.

    Rejected: not 4 numbers, NaN/inf, non-positive width or height, and (when ``image_shape``
    ``(H, W, ...)`` is given) a box with no overlap with the image.
    """
    try:
        b = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"box must be 4 numbers (x, y, w, h), got {box!r}") from exc
    if b.size != 4:
        raise ValueError(f"box must be 4 numbers (x, y, w, h), got {b.size} values: {box!r}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"box has a NaN or infinite value: {box!r}")
    if b[2] <= 0 or b[3] <= 0:
        raise ValueError(f"box width and height must be positive, got w={b[2]:g}, h={b[3]:g}")
    if image_shape is not None:
        H, W = int(image_shape[0]), int(image_shape[1])
        if b[0] >= W or b[1] >= H or b[0] + b[2] <= 0 or b[1] + b[3] <= 0:
            raise ValueError(
                f"box {tuple(float(v) for v in b)} lies fully outside the {W}x{H} image")
    return b


def xywh_to_xyxy(boxes) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:4]], axis=-1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., 2:4] - b[..., :2]], axis=-1)


def iou(a, b) -> np.ndarray:
    """Intersection over union of boxes ``a`` and ``b`` (``[..., 4]`` xywh, broadcast).

    Returns NaN where either box is NaN (target absent), 0 for disjoint boxes.
    """
    a = xywh_to_xyxy(a)
    b = xywh_to_xyxy(b)
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0) + 0 * union


def center(boxes) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    return b[..., :2] + b[..., 2:4] / 2


def center_error(a, b) -> np.ndarray:
    """Euclidean distance in pixels between the centres of ``a`` and ``b`` (NaN if absent)."""
    return np.linalg.norm(center(a) - center(b), axis=-1)


def polygon_to_rect(poly) -> np.ndarray:
    """Axis-aligned bounding rectangle ``(x, y, w, h)`` of a VOT polygon ``x1,y1,...,xn,yn``."""
    p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    x0, y0 = p.min(axis=0)
    x1, y1 = p.max(axis=0)
    return np.array([x0, y0, x1 - x0, y1 - y0])


def clip_box(box, image_shape, min_size: float = 1.0) -> np.ndarray:
    """Clip ``box`` to the image, keeping at least ``min_size`` pixels in each dimension."""
    H, W = image_shape[:2]
    x0, y0, x1, y1 = xywh_to_xyxy(box)
    x0 = float(np.clip(x0, 0, W - min_size))
    y0 = float(np.clip(y0, 0, H - min_size))
    x1 = float(np.clip(x1, x0 + min_size, W))
    y1 = float(np.clip(y1, y0 + min_size, H))
    return np.array([x0, y0, x1 - x0, y1 - y0])
