"""Cropping the template and the ROIs (Sections 3 and 4.1).

At frame ``t``, with the previous state ``(cx, cy, w, h)``:

* the template ``x_{t-1}`` is a square of side ``s`` around the target in frame ``t-1``, resized
  to ``T x T``. ``s = sqrt((w + p)(h + p))`` with context ``p = context * (w + h)``: the paper does
  not say how much context the template holds; we use SiamFC's rule (``context = 0.5``),
  which keeps the aspect ratio out of the crop and some background around the target;
* the two ROIs ``z_t`` and ``z_{t-1}`` are squares of side ``3 s`` (the paper's "three times the
  template") at the **same** frame coordinates, centred on the previous location, from frames
  ``t`` and ``t-1``, resized to ``R x R``. Same coordinates: whatever differs between them is
  motion (of the target or of the camera), which is what MNet looks at.

Outside the image the crop is padded with the frame's mean colour (as SiamFC does), so a target
at or across the border still gets full-size patches; both ROIs use the padding of their own
frame, which is nearly equal for consecutive frames.

Geometry: a crop of side ``S`` centred at ``(cx, cy)`` resized to ``N`` pixels maps crop position
``u`` (continuous, ``[0, N)``) to frame position ``cx - S/2 + u * S/N``.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["channel_means", "template_side", "crop_square", "crop_to_frame", "frame_to_crop", "inside_frame"]


def channel_means(frame: np.ndarray) -> np.ndarray:
    """Per-channel mean of an RGB uint8 frame [H, W, 3] (the crops' padding colour), float64 [3].

    OpenCV's ``cv2.mean`` (~20x faster than numpy's on a large frame).
    """
    return np.asarray(cv2.mean(frame)[:3])


def template_side(w: float, h: float, context: float = 0.5) -> float:
    """Side in frame pixels of the square template region for a ``w x h`` target."""
    p = context * (w + h)
    return math.sqrt((w + p) * (h + p))


def crop_square(frame: np.ndarray, center, side: float, out_size: int, pad_value=None) -> np.ndarray:
    """Square crop of ``side`` frame pixels centred at ``center = (cx, cy)``, resized to ``out_size``.

    ``frame``: RGB uint8 [H, W, 3]. Returns uint8 [out_size, out_size, 3]. Bilinear sampling of
    pixel centres (``cv2.warpAffine``); outside the frame, ``pad_value`` (default: the frame's
    mean colour).
    """
    if side <= 0 or not math.isfinite(side):
        raise ValueError(f"crop side must be positive and finite, got {side}")
    if pad_value is None:
        pad_value = frame.reshape(-1, frame.shape[-1]).mean(axis=0)
    pad = tuple(float(v) for v in np.broadcast_to(pad_value, (3,)))
    x0 = center[0] - side / 2.0
    y0 = center[1] - side / 2.0
    scale = side / out_size
    # Work on the crop's own region only (a whole 4K frame is never touched), padded with the
    # mean colour where it leaves the image; ``(xa, ya)`` = frame position of the region's origin.
    k = int(scale) if scale >= 2.0 else 1  # integer pre-shrink factor against aliasing
    xa, ya = math.floor(x0) - k, math.floor(y0) - k
    n = int(math.ceil((side + 2 * k + 2) / k)) * k
    region = _padded_region(frame, xa, ya, n, n, pad)
    if k > 1:
        # Area averaging by an exact integer factor: small pixel j covers [xa + j k, xa + (j+1) k).
        region = cv2.resize(region, (n // k, n // k), interpolation=cv2.INTER_AREA)
    s = scale / k
    # Output pixel u (centre u + 0.5) samples frame position x0 + (u + 0.5) * scale, which is
    # region pixel index (x0 - xa) / k + (u + 0.5) * s - 0.5.
    M = np.array([[s, 0.0, (x0 - xa) / k + 0.5 * s - 0.5],
                  [0.0, s, (y0 - ya) / k + 0.5 * s - 0.5]], dtype=np.float64)
    return cv2.warpAffine(region, M, (out_size, out_size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=pad)


def _padded_region(frame: np.ndarray, x: int, y: int, w: int, h: int, pad) -> np.ndarray:
    """``frame[y:y+h, x:x+w]`` with out-of-image pixels set to ``pad``."""
    H, W = frame.shape[:2]
    x1, y1 = max(x, 0), max(y, 0)
    x2, y2 = min(x + w, W), min(y + h, H)
    if x1 == x and y1 == y and x2 == x + w and y2 == y + h:
        return frame[y:y + h, x:x + w]
    out = np.empty((h, w, frame.shape[2]), dtype=frame.dtype)
    out[...] = np.asarray(pad, dtype=np.float64).round().astype(frame.dtype)
    if x2 > x1 and y2 > y1:
        out[y1 - y:y2 - y, x1 - x:x2 - x] = frame[y1:y2, x1:x2]
    return out


def crop_to_frame(u, v, center, side: float, out_size: int):
    """Crop position ``(u, v)`` (continuous crop pixels) -> frame position ``(x, y)``."""
    s = side / out_size
    return center[0] - side / 2.0 + u * s, center[1] - side / 2.0 + v * s


def frame_to_crop(x, y, center, side: float, out_size: int):
    """Frame position ``(x, y)`` -> crop position ``(u, v)``; inverse of ``crop_to_frame``."""
    s = out_size / side
    return (x - center[0] + side / 2.0) * s, (y - center[1] + side / 2.0) * s


def inside_frame(frame_shape, center, side: float, out_size: int) -> np.ndarray:
    """[out_size, out_size] bool: the crop pixels (centres at ``k + 0.5``) that ``crop_square``
    takes from inside the frame (``frame_shape`` ``(H, W, ...)``), not from its padding."""
    u = np.arange(out_size) + 0.5
    x, y = crop_to_frame(u, u, center, side, out_size)
    H, W = frame_shape[:2]
    return ((y >= 0) & (y < H))[:, None] & ((x >= 0) & (x < W))[None, :]
