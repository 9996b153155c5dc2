"""One-pass evaluation (OPE) metrics: success curve / AUC and precision curve / P@20.

Conventions (the project's protocol, ``shared/notes/baselines.md``; the got10k/OTB toolkit's):

* Boxes are 0-based ``(x, y, w, h)`` (see :mod:`amnet_edu.boxes`); a NaN row in the ground
  truth means "target absent" and that frame is **excluded**; a NaN (failed) tracker box on a
  frame with a present target counts as IoU 0 and centre error ``inf``.
* The first frame (the one the tracker is initialised on, whose box is the ground truth by
  construction) is **excluded** from every score.
* Success curve: the fraction of frames whose IoU is **strictly greater** than each threshold
  ``0, 0.05, ..., 1`` (21 thresholds); success AUC = the **mean** of that curve. So a perfect
  tracker scores 20/21 = 0.952, not 1, since ``1 > 1`` is false. This is the got10k / OTB
  toolkit convention; other toolkits integrate the curve differently (trapezoid rule, ``>=``,
  101 thresholds, or mean IoU), which shifts numbers by a few points: compare only numbers
  computed with the same convention.
* Precision curve: the fraction of frames whose centre error is **at most** each threshold
  ``0, 1, ..., 50`` px; P@20 = the value at 20 px.
* Numbers over several sequences are the mean over sequences of per-sequence numbers (each
  sequence weighs the same, whatever its length).
"""
from __future__ import annotations

import numpy as np

from ..boxes import center_error, iou

__all__ = [
    "SUCCESS_THRESHOLDS", "PRECISION_THRESHOLDS", "frame_overlaps", "frame_center_errors",
    "success_curve", "success_auc", "precision_curve", "precision_at", "sequence_metrics",
    "attribute_auc", "mean_over_sequences",
]

SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
PRECISION_THRESHOLDS = np.arange(0, 51)


def _scored_mask(gt: np.ndarray, skip_first: bool) -> np.ndarray:
    """Frames that count: ground truth present, and not the first (init) frame."""
    mask = np.all(np.isfinite(gt), axis=1)
    if skip_first:
        # the init frame is the first frame with a present target (run_ope starts there)
        present = np.flatnonzero(mask)
        if present.size:
            mask[present[0]] = False
    return mask


def frame_overlaps(boxes, gt, skip_first: bool = True) -> np.ndarray:
    """Per-frame IoU ``[N]`` between tracker ``boxes`` and ``gt`` (both ``[N, 4]``).

    NaN where the frame does not count (target absent, or the init frame when ``skip_first``);
    0 where the tracker box is NaN but the target is present.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if boxes.shape != gt.shape:
        raise ValueError(f"{len(boxes)} tracker boxes for {len(gt)} ground-truth boxes")
    o = iou(boxes, gt)
    o = np.where(np.isnan(o), 0.0, o)  # a failed box on a present target scores 0
    return np.where(_scored_mask(gt, skip_first), o, np.nan)


def frame_center_errors(boxes, gt, skip_first: bool = True) -> np.ndarray:
    """Per-frame centre error in px ``[N]``; NaN where the frame does not count, ``inf`` for a
    NaN tracker box on a present target."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if boxes.shape != gt.shape:
        raise ValueError(f"{len(boxes)} tracker boxes for {len(gt)} ground-truth boxes")
    e = center_error(boxes, gt)
    e = np.where(np.isnan(e), np.inf, e)
    return np.where(_scored_mask(gt, skip_first), e, np.nan)


def success_curve(ious, thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with IoU **strictly greater** than each threshold.

    ``ious``: per-frame IoUs; NaN entries (frames that do not count) are dropped. Returns an
    array shaped like ``thresholds``, all NaN when no frame counts.
    """
    o = np.asarray(ious, dtype=np.float64).reshape(-1)
    o = o[~np.isnan(o)]
    t = np.asarray(thresholds, dtype=np.float64)
    if o.size == 0:
        return np.full(t.shape, np.nan)
    return (o[None, :] > t.reshape(-1, 1)).mean(axis=1).reshape(t.shape)


def success_auc(ious, thresholds=SUCCESS_THRESHOLDS) -> float:
    """Success "AUC" = the **mean** of :func:`success_curve` over the 21 thresholds 0..1.

    This is the got10k/OTB-toolkit convention (a perfect tracker gets 20/21 because ``1 > 1``
    is false). Other toolkits integrate differently (trapezoid, ``>=``, 101 points), so their
    numbers are not directly comparable.
    """
    return float(np.mean(success_curve(ious, thresholds)))


def precision_curve(center_errors, thresholds=PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with centre error **at most** each threshold (px). NaN entries are
    dropped; ``inf`` (failed box) never counts as precise."""
    e = np.asarray(center_errors, dtype=np.float64).reshape(-1)
    e = e[~np.isnan(e)]
    t = np.asarray(thresholds, dtype=np.float64)
    if e.size == 0:
        return np.full(t.shape, np.nan)
    return (e[None, :] <= t.reshape(-1, 1)).mean(axis=1).reshape(t.shape)


def precision_at(center_errors, threshold: float = 20) -> float:
    """Fraction of frames with centre error <= ``threshold`` px (P@20 by default)."""
    return float(precision_curve(center_errors, [threshold])[0])


def sequence_metrics(boxes, gt, times=None, attributes=None) -> dict:
    """All OPE numbers for one sequence.

    Returns a dict: ``success_curve`` [21], ``success_auc``, ``precision_curve`` [51],
    ``precision_20``, ``n_frames`` (frames that count), ``ious`` [N] and ``center_errors`` [N]
    (NaN where not counted), and when ``times`` (seconds per frame, NaN for frames not
    tracked) is given ``fps`` = tracked frames / total tracking seconds, ``tracked_frames``,
    ``seconds``. ``attributes`` (name -> bool [N]) are kept as given, for :func:`attribute_auc`.
    """
    o = frame_overlaps(boxes, gt)
    e = frame_center_errors(boxes, gt)
    out = {
        "success_curve": success_curve(o),
        "success_auc": success_auc(o),
        "precision_curve": precision_curve(e),
        "precision_20": precision_at(e, 20),
        "n_frames": int(np.sum(~np.isnan(o))),
        "ious": o,
        "center_errors": e,
    }
    if times is not None:
        t = np.asarray(times, dtype=np.float64)
        t = t[np.isfinite(t)]
        out["tracked_frames"] = int(t.size)
        out["seconds"] = float(t.sum())
        out["fps"] = float(t.size / t.sum()) if t.sum() > 0 else float("nan")
    if attributes is not None:
        out["attributes"] = {k: np.asarray(v, dtype=bool) for k, v in attributes.items()}
    return out


def attribute_auc(per_sequence: dict) -> dict:
    """Per-attribute success AUC: for each attribute, the AUC over only the frames flagged
    with it, **pooled** over all sequences that have the attribute (so a long sequence weighs
    more here, unlike the overall mean over sequences).

    ``per_sequence``: sequence name -> :func:`sequence_metrics` dict (with ``attributes``).
    Returns attribute -> ``{"auc": float, "n_frames": int, "n_sequences": int}``; attributes
    with no scored flagged frame are left out.
    """
    pooled: dict[str, list] = {}
    for m in per_sequence.values():
        for name, flags in (m.get("attributes") or {}).items():
            flags = np.asarray(flags, dtype=bool)
            o = m["ious"]
            if flags.shape != o.shape:
                continue  # a malformed attribute file: not this module's business to guess
            sel = o[flags & ~np.isnan(o)]
            if sel.size:
                pooled.setdefault(name, []).append(sel)
    return {name: {"auc": success_auc(np.concatenate(parts)),
                   "n_frames": int(sum(p.size for p in parts)), "n_sequences": len(parts)}
            for name, parts in sorted(pooled.items())}


def mean_over_sequences(per_sequence: dict) -> dict:
    """Overall numbers = the mean over sequences of per-sequence numbers (NaN-sequences, with no
    scored frame, are skipped). FPS is pooled: all tracked frames / all tracking seconds."""
    ms = [m for m in per_sequence.values() if m["n_frames"] > 0]
    out = {"n_sequences": len(ms)}
    if ms:
        out["success_curve"] = np.mean([m["success_curve"] for m in ms], axis=0)
        out["success_auc"] = float(np.mean([m["success_auc"] for m in ms]))
        out["precision_curve"] = np.mean([m["precision_curve"] for m in ms], axis=0)
        out["precision_20"] = float(np.mean([m["precision_20"] for m in ms]))
    else:
        out.update(success_curve=np.full(21, np.nan), success_auc=float("nan"),
                   precision_curve=np.full(51, np.nan), precision_20=float("nan"))
    secs = sum(m.get("seconds", 0.0) for m in per_sequence.values())
    frames = sum(m.get("tracked_frames", 0) for m in per_sequence.values())
    out["fps"] = frames / secs if secs > 0 else float("nan")
    return out
