"""One-pass evaluation (OPE): run each tracker once over each sequence from its first box.

Protocol (``shared/notes/baselines.md``, the OTB/got10k OPE):

* the tracker is initialised on the first frame whose ground truth is present, with that box;
  result row 0 (or that frame's row) *is* the ground-truth box; earlier rows are NaN;
* no re-initialisation: whatever the tracker returns afterwards is scored;
* timing covers ``init`` + ``update`` only: each frame is decoded *before* the clock starts
  (frames are decoded one at a time, not all up front, so a 700-frame sequence does not need
  gigabytes of memory);
* scores: :mod:`amnet_edu.evaluate.metrics` (first frame excluded, strict ``>`` success curve).

Runs are cached on disk in the got10k layout (:mod:`amnet_edu.evaluate.results`) and reused
unless ``overwrite=True``. With ``workers > 1`` (tracker, sequence) jobs run in separate
processes (``spawn``), each given a tracker *name* and a sequence *folder* and building its
own objects; each worker uses one thread so that N workers use N cores.

A tracker is anything with ``name``, ``init(frame, box)`` and ``update(frame) -> (x, y, w, h)``
(RGB uint8 frames, 0-based boxes). ``evaluate_ope`` accepts registry names (``"csrt"``), tracker
objects, or zero-argument factories returning one.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import metrics as M
from .results import check_record, has_result, read_result, write_result

__all__ = ["run_ope", "evaluate_ope", "tracker_label"]


def _build(tracker):
    """A tracker object from a registry name, a factory, or a tracker object (returned as is)."""
    if isinstance(tracker, str):
        from .registry import make_tracker

        return make_tracker(tracker)
    if hasattr(tracker, "init") and hasattr(tracker, "update"):
        return tracker
    if callable(tracker):
        return tracker()
    raise TypeError(f"not a tracker, a tracker name or a factory: {tracker!r}")


def _description(tracker):
    """``describe()`` of the tracker a spec builds, or None for one that has no such method."""
    describe = getattr(_build(tracker), "describe", None)
    return describe() if callable(describe) else None


def tracker_label(tracker) -> str:
    """Results-folder name of a tracker spec (registry spelling for names, else ``.name``)."""
    if isinstance(tracker, str):
        from .registry import display_name

        return display_name(tracker)
    if hasattr(tracker, "init") and hasattr(tracker, "update"):
        return str(tracker.name)
    name = getattr(tracker, "name", None)  # a factory may carry the name (e.g. a class attr)
    return str(name) if isinstance(name, str) else str(_build(tracker).name)


def run_ope(tracker_name_or_factory, sequence, verbose: bool = False) -> dict:
    """Track ``sequence`` once from its first present ground-truth box.

    Returns ``{"boxes": [N, 4] float64 (0-based xywh; NaN before the init frame),
    "times": [N] seconds of init/update per frame (NaN where not run),
    "lost": bool [N] or None}`` (``lost``: frames where the tracker reported failure, for
    trackers exposing ``last_ok`` like :class:`~.opencv_trackers.OpenCVTracker`).
    """
    tracker = _build(tracker_name_or_factory)
    gt = np.asarray(sequence.boxes, dtype=np.float64).reshape(-1, 4)
    n = len(sequence)
    present = np.flatnonzero(np.all(np.isfinite(gt), axis=1))
    if present.size == 0:
        raise ValueError(f"sequence {sequence.name!r} has no frame with a present target")
    start = int(present[0])
    boxes = np.full((n, 4), np.nan)
    times = np.full(n, np.nan)
    reports_lost = hasattr(tracker, "last_ok")
    lost = np.zeros(n, dtype=bool)

    frame = sequence.frame(start)  # decoded before the clock starts
    t0 = time.perf_counter()
    tracker.init(frame, gt[start].copy())
    times[start] = time.perf_counter() - t0
    boxes[start] = gt[start]
    for i in range(start + 1, n):
        frame = sequence.frame(i)
        t0 = time.perf_counter()
        box = tracker.update(frame)
        times[i] = time.perf_counter() - t0
        boxes[i] = np.asarray(box, dtype=np.float64).reshape(4)
        if reports_lost:
            lost[i] = not tracker.last_ok
        if verbose and i % 100 == 0:
            print(f"  {sequence.name}: frame {i}/{n}", flush=True)
    return {"boxes": boxes, "times": times, "lost": lost if reports_lost else None}


# --------------------------------------------------------------------------------------------
# many trackers x many sequences, with a disk cache and optional worker processes


def _sequence_folder(sequence):
    """The folder a worker can re-load ``sequence`` from (``Sequence.info["folder"]``), or None."""
    info = getattr(sequence, "info", None) or {}
    for p in (info.get("folder"), getattr(sequence, "path", None),
              getattr(sequence, "folder", None)):
        if p is not None and Path(p).is_dir():
            return str(p)
    return None


def _sequence_ref(sequence):
    """What a worker re-loads ``sequence`` from: its folder, ``(folder, start)`` for a TRE
    segment (``tre.Segment``) of a sequence with a folder, else the object itself (pickled)."""
    base = getattr(sequence, "base", None)
    if base is not None:
        folder = _sequence_folder(base)
        return (folder, sequence.start) if folder else sequence
    return _sequence_folder(sequence) or sequence


def _worker_init():
    # one thread per worker: N workers on N cores, not N x (all cores) fighting each other.
    # PyTorch reads OMP_NUM_THREADS when it is first imported (only if an AMNet job needs it;
    # importing it here would slow every OpenCV worker's start-up by seconds).
    import os

    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass


def _worker_job(tracker, sequence_ref):
    """Runs in a worker process: ``sequence_ref`` is a folder (str), ``(folder, start)`` (a TRE
    segment) or a picklable Sequence."""
    import sys

    if isinstance(sequence_ref, str):
        from ..data.sequences import load_sequence

        sequence = load_sequence(sequence_ref)
    elif isinstance(sequence_ref, tuple):
        from ..data.sequences import load_sequence
        from .tre import Segment

        sequence = Segment(load_sequence(sequence_ref[0]), sequence_ref[1])
    else:
        sequence = sequence_ref
    tracker = _build(tracker)  # may import torch (AMNet)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    return run_ope(tracker, sequence)


def evaluate_ope(trackers, sequences, results_dir="results", benchmark: str = "shared",
                 workers: int = 1, overwrite: bool = False, verbose: bool = False) -> dict:
    """Run every tracker on every sequence (or reuse cached runs) and score them.

    ``trackers``: registry names (``"csrt"``), tracker objects or factories. With
    ``workers > 1`` use names (objects do not travel to processes; factories must pickle).
    ``sequences``: ``Sequence`` objects (``amnet_edu.data.sequences``) or sequence folders.

    Returns ``{tracker: {"sequences": {seq: metrics.sequence_metrics(...) + "lost_frames"},
    "success_auc", "precision_20", "fps", "success_curve", "precision_curve", "n_sequences",
    "attributes": metrics.attribute_auc(...), "lost_frames": int, "notes": [str]}}``.
    """
    sequences = [_load(s) for s in sequences]
    names = [s.name for s in sequences]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate sequence names: {names}")
    labels = [tracker_label(t) for t in trackers]
    # what made the cached runs must be what runs now (a changed default, other weights)
    notes = {label: check_record(results_dir, benchmark, label, _description(t), overwrite)
             for t, label in zip(trackers, labels)}

    jobs = [(ti, si) for ti in range(len(trackers)) for si in range(len(sequences))
            if overwrite or not has_result(results_dir, benchmark, labels[ti], names[si])]
    if jobs:
        if verbose:
            print(f"running {len(jobs)} (tracker, sequence) jobs with {workers} worker(s)",
                  flush=True)
        for (ti, si), run in _run_jobs(trackers, sequences, jobs, workers, verbose):
            write_result(results_dir, benchmark, labels[ti], names[si], run["boxes"],
                         run["times"], run["lost"])

    out = {}
    for ti, label in enumerate(labels):
        per_seq = {}
        lost_total = 0
        for seq in sequences:
            # always score what is on disk, so fresh and cached runs give identical numbers
            run = read_result(results_dir, benchmark, label, seq.name)
            m = M.sequence_metrics(run["boxes"], seq.boxes, run["times"],
                                   getattr(seq, "attributes", None))
            m["lost_frames"] = int(run["lost"].sum()) if run["lost"] is not None else 0
            lost_total += m["lost_frames"]
            per_seq[seq.name] = m
        summary = M.mean_over_sequences(per_seq)
        summary["sequences"] = per_seq
        summary["attributes"] = M.attribute_auc(per_seq)
        summary["lost_frames"] = lost_total
        summary["notes"] = [notes[label]] if notes[label] else []
        if label in ("CSRT", "KCF", "MIL"):
            summary["notes"].append(
                f"{label}: on OpenCV failure (ok=False) the last box is held; "
                f"{lost_total} frame(s) held this way")
        out[label] = summary
    return out


def _load(sequence):
    if isinstance(sequence, (str, Path)):
        from ..data.sequences import load_sequence

        return load_sequence(sequence)
    return sequence


def _run_jobs(trackers, sequences, jobs, workers, verbose):
    """Yield ``((tracker index, sequence index), run)`` as jobs finish."""
    if workers <= 1:
        for ti, si in jobs:
            if verbose:
                print(f"{tracker_label(trackers[ti])} on {sequences[si].name}", flush=True)
            yield (ti, si), run_ope(trackers[ti], sequences[si])
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")  # fork + OpenCV/PyTorch threads can deadlock
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                             initializer=_worker_init) as pool:
        futures = {}
        for ti, si in jobs:
            ref = _sequence_ref(sequences[si])
            futures[pool.submit(_worker_job, trackers[ti], ref)] = (ti, si)
        for fut in as_completed(futures):
            ti, si = futures[fut]
            if verbose:
                print(f"done: {tracker_label(trackers[ti])} on {sequences[si].name}", flush=True)
            yield (ti, si), fut.result()
