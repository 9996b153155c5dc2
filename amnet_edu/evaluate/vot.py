"""VOT-style supervised evaluation: re-initialise after failures; accuracy, robustness, EAO.

This follows the VOT "baseline" experiment (Kristan et al., VOT2015-2018) but is **not** the VOT
toolkit; numbers are comparable between trackers evaluated here, not with VOT's published tables.

* **Failure**: on a frame whose target is present, the tracker's box has IoU 0 with the ground
  truth (or is NaN). The failure frame scores overlap 0.
* **Re-initialisation**: ``skip = 5`` frames after the failure frame ``f`` the tracker is
  re-initialised on the ground-truth box of frame ``f + 5`` (or of the next frame with a present
  target); frames in between are not tracked.
* **Accuracy**: mean IoU over the tracked frames (target present, not a failure frame),
  excluding a **burn-in** of ``burn_in = 10`` frames from every initialisation (the first one
  included, as the VOT toolkit does: frames ``init .. init + 9``). Per sequence; overall =
  mean over sequences.
* **Robustness**: number of failures per sequence (also reported per 100 frames).
* **EAO (unofficial, not the VOT toolkit's)**: every initialisation starts a *segment* that
  runs to the next failure (inclusive) or to the end of the sequence. For a length ``Ns``
  (frames after the initialisation frame) a segment's average overlap is the mean of its
  first ``Ns`` post-init overlaps, padded with zeros after a failure; segments that end with
  the sequence before ``Ns`` frames are left out for that ``Ns``. ``Phi(Ns)`` = mean over the
  segments of all sequences; EAO = mean of ``Phi`` over ``Ns`` in ``[lo, hi]``. By default
  ``[lo, hi]`` = the 25th..75th percentiles of the sequences' lengths minus one (the central half
  of the lengths; VOT instead uses a kernel density estimate of its dataset's lengths).
"""
from __future__ import annotations

import numpy as np

from ..boxes import iou

__all__ = ["run_vot", "expected_overlap_curve", "eao", "evaluate_vot", "EAO_LABEL",
           "NOT_TRACKED", "INIT", "TRACKED", "FAILURE"]

EAO_LABEL = "EAO (unofficial, not the VOT toolkit's)"

# per-frame status codes of a supervised run
NOT_TRACKED, INIT, TRACKED, FAILURE = 0, 1, 2, 3


def _next_present(present: np.ndarray, k: int) -> int:
    """First frame >= k whose target is present (len(present) if none)."""
    idx = np.flatnonzero(present[k:])
    return k + int(idx[0]) if idx.size else len(present)


def run_vot(tracker, sequence, skip: int = 5, burn_in: int = 10) -> dict:
    """One supervised run of ``tracker`` (a name, factory or tracker object) on ``sequence``.

    Returns ``{"boxes" [N, 4], "overlaps" [N] (NaN where not tracked or target absent; 1 on
    init frames), "status" int [N] (NOT_TRACKED/INIT/TRACKED/FAILURE), "inits" [frame indices],
    "failures" [frame indices], "accuracy", "n_failures", "failures_per_100", "segments"
    [(post-init overlaps array, failed bool)]}``.
    """
    from .ope import _build

    tracker = _build(tracker)
    gt = np.asarray(sequence.boxes, dtype=np.float64).reshape(-1, 4)
    n = len(sequence)
    present = np.all(np.isfinite(gt), axis=1)
    boxes = np.full((n, 4), np.nan)
    overlaps = np.full(n, np.nan)
    status = np.full(n, NOT_TRACKED, dtype=int)
    inits, failures, segments = [], [], []

    i = _next_present(present, 0)
    while i < n:
        tracker.init(sequence.frame(i), gt[i].copy())
        boxes[i], overlaps[i], status[i] = gt[i], 1.0, INIT
        inits.append(i)
        failed = False
        j = i + 1
        while j < n:
            box = np.asarray(tracker.update(sequence.frame(j)), dtype=np.float64).reshape(4)
            boxes[j] = box
            if present[j]:
                o = float(iou(box, gt[j]))
                if not np.isfinite(o) or o <= 0:  # a NaN box on a present target fails too
                    overlaps[j], status[j] = 0.0, FAILURE
                    failures.append(j)
                    failed = True
                    break
                overlaps[j] = o
            status[j] = TRACKED
            j += 1
        end = min(j, n - 1)
        segments.append((overlaps[i + 1:end + 1].copy(), failed))
        if not failed:
            break
        i = _next_present(present, j + skip)

    valid = (status == TRACKED) & present
    for s in inits:
        valid[s:s + burn_in] = False
    acc = float(np.mean(overlaps[valid])) if valid.any() else float("nan")
    return {"boxes": boxes, "overlaps": overlaps, "status": status, "inits": inits,
            "failures": failures, "accuracy": acc, "n_failures": len(failures),
            "failures_per_100": 100.0 * len(failures) / n, "segments": segments}


def expected_overlap_curve(segments, max_length: int) -> np.ndarray:
    """``Phi(Ns)`` for ``Ns = 0 .. max_length`` (index = Ns; ``Phi(0)`` is NaN).

    ``segments``: ``(post-init overlaps, failed)`` pairs from :func:`run_vot` (NaN overlaps =
    target absent, ignored). See the module docstring for the definition.
    """
    phi = np.full(max_length + 1, np.nan)
    for ns in range(1, max_length + 1):
        vals = []
        for o, failed in segments:
            if len(o) >= ns:
                v = o[:ns]
            elif failed:
                v = np.concatenate([o, np.zeros(ns - len(o))])  # zero after the failure
            else:
                continue  # the sequence ended before Ns frames: unknown, leave it out
            if np.any(~np.isnan(v)):
                vals.append(np.nanmean(v))
        if vals:
            phi[ns] = float(np.mean(vals))
    return phi


def eao(segments, lengths, length_range=None) -> tuple[float, tuple[int, int], np.ndarray]:
    """Unofficial EAO: mean of :func:`expected_overlap_curve` over ``length_range``.

    ``lengths``: the sequences' frame counts; the default range is their 25th..75th percentile
    minus one (frames after the init frame). Returns ``(eao, (lo, hi), curve)``.
    """
    lengths = np.asarray(lengths, dtype=np.float64)
    if length_range is None:
        lo = max(1, int(np.floor(np.percentile(lengths, 25))) - 1)
        hi = max(lo, int(np.ceil(np.percentile(lengths, 75))) - 1)
    else:
        lo, hi = int(length_range[0]), int(length_range[1])
    curve = expected_overlap_curve(segments, max(hi, int(lengths.max())))
    window = curve[lo:hi + 1]
    value = float(np.nanmean(window)) if np.any(~np.isnan(window)) else float("nan")
    return value, (lo, hi), curve


def evaluate_vot(trackers, sequences, skip: int = 5, burn_in: int = 10,
                 length_range=None) -> dict:
    """Supervised runs of every tracker on every sequence (no disk cache).

    Returns ``{tracker: {"accuracy" (mean over sequences), "failures" (total),
    "failures_per_sequence", "failures_per_100" (per 100 frames, pooled), "eao", "eao_range",
    "eao_label", "eao_curve", "sequences": {seq: run_vot(...) summary}}}``.
    """
    from .ope import _load, tracker_label

    sequences = [_load(s) for s in sequences]
    lengths = [len(s) for s in sequences]
    out = {}
    for t in trackers:
        label = tracker_label(t)
        per_seq, segments = {}, []
        for seq in sequences:
            r = run_vot(t, seq, skip=skip, burn_in=burn_in)
            segments += r["segments"]
            per_seq[seq.name] = {k: r[k] for k in
                                 ("accuracy", "n_failures", "failures_per_100", "failures",
                                  "inits", "overlaps")}
        accs = [m["accuracy"] for m in per_seq.values() if np.isfinite(m["accuracy"])]
        n_fail = sum(m["n_failures"] for m in per_seq.values())
        value, rng, curve = eao(segments, lengths, length_range)
        out[label] = {
            "accuracy": float(np.mean(accs)) if accs else float("nan"),
            "failures": n_fail,
            "failures_per_sequence": n_fail / max(1, len(sequences)),
            "failures_per_100": 100.0 * n_fail / max(1, sum(lengths)),
            "eao": value, "eao_range": rng, "eao_label": EAO_LABEL, "eao_curve": curve,
            "sequences": per_seq,
        }
    return out
