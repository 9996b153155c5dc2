"""Frame reading and normalisation: every frame inside ``amnet_edu`` is RGB uint8 ``H x W x 3``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["to_rgb", "read_frame"]


def to_rgb(frame) -> np.ndarray:
    """Return ``frame`` as a C-contiguous RGB uint8 ``H x W x 3`` array.

    Accepts grayscale ``H x W`` or ``H x W x 1``, RGB and RGBA (alpha dropped), any
    memory layout; float frames in [0, 1] are scaled to [0, 255]. Raises ``ValueError`` for an
    empty frame or an unsupported shape, ``TypeError`` for something that is not an array.
    """
    if frame is None:
        raise ValueError("frame is None (a video that ended, or an image that failed to load?)")
    a = np.asarray(frame)
    if a.dtype == object:
        raise TypeError("frame must be a numeric array, got dtype object")
    if a.size == 0:
        raise ValueError(f"frame is empty (shape {a.shape})")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[..., :3]
    elif not (a.ndim == 3 and a.shape[2] == 3):
        raise ValueError(f"frame must be H x W (gray), H x W x 3 (RGB) or H x W x 4 (RGBA), got {a.shape}")
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def read_frame(path) -> np.ndarray:
    """Read an image file as RGB uint8; ``FileNotFoundError`` / ``ValueError`` name the file."""
    import cv2

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"frame file not found: {p}")
    img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"could not decode image file: {p}")
    if img.dtype == np.uint16:  # thermal/16-bit PNGs: keep the dynamic range, scale to 8 bit
        img = (img / 257.0).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return to_rgb(img)
