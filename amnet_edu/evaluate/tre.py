"""Temporal robustness evaluation (TRE, OTB's protocol): OPE from several start frames.

One OPE run is a chain of events: a tracker that loses the target in frame 80 scores nothing
after it, and whether it does can hinge on float rounding (a different thread count or CPU has
turned one of our ``val`` sequences from 0.79 to 0.29 success AUC). Comparing two trackers on a
handful of sequences by one OPE run each then compares luck. TRE runs each sequence ``k`` times,
starting at ``k`` evenly spaced frames with their ground-truth boxes, and averages: a loss no
longer decides the whole sequence, and the mean over the ``k`` runs is the quantity to compare.

``tre_starts(boxes, k)``: start ``i`` of ``k`` is the present (finite-box) frame at position
``floor(i n / k)`` among the ``n`` present frames, so start 0 is OPE's and ``k = 1`` *is* OPE.
Each segment runs to the end of the sequence and is scored like OPE (its first frame excluded).
Runs are cached like OPE's, as sequences named ``<name>@<start>``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Segment", "tre_starts", "evaluate_tre", "paired_difference", "format_tre_table"]


class Segment:
    """Frames ``start ..`` of a sequence as a sequence of their own, named ``<name>@<start>``."""

    def __init__(self, sequence, start: int):
        if not 0 <= start < len(sequence):
            raise ValueError(f"start {start} outside sequence {sequence.name!r} of {len(sequence)} frames")
        self.base, self.start = sequence, int(start)
        self.name = f"{sequence.name}@{self.start}"
        self.boxes = np.asarray(sequence.boxes, dtype=np.float64)[self.start:]
        self.attributes = {k: np.asarray(v)[self.start:] for k, v in (getattr(sequence, "attributes", None) or {}).items()}

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def frame(self, i: int) -> np.ndarray:
        if not 0 <= i < len(self):
            raise IndexError(f"frame {i} out of range for segment {self.name!r} of {len(self)} frames")
        return self.base.frame(self.start + i)


def tre_starts(boxes, k: int) -> list[int]:
    """``k`` start frames, evenly spaced over the frames with a box (the first: OPE's)."""
    if k < 1:
        raise ValueError(f"need k >= 1 start frames, got {k}")
    finite = np.isfinite(np.asarray(boxes, dtype=np.float64))
    present = np.flatnonzero(np.all(finite, axis=1))
    if present.size == 0:
        raise ValueError("no frame with a present target")
    return sorted({int(present[(i * present.size) // k]) for i in range(k)})


def evaluate_tre(trackers, sequences, k: int = 3, results_dir="results", benchmark: str = "shared",
                 workers: int = 1, overwrite: bool = False, verbose: bool = False) -> dict:
    """TRE of ``trackers`` on ``sequences`` with ``k`` starts each (see the module docstring).

    Returns ``{tracker: {"success_auc": mean over sequences of the per-sequence TRE AUC,
    "ope_auc": the same from the first start only (OPE), "sequences": {name: {"success_auc":
    mean over its starts, "starts": {start: AUC}}}, "fps": mean over all runs, "k": k}}``.
    """
    from .ope import _load, evaluate_ope

    sequences = [_load(s) for s in sequences]
    segments = [Segment(s, st) for s in sequences for st in tre_starts(s.boxes, k)]
    runs = evaluate_ope(trackers, segments, results_dir=results_dir, benchmark=f"{benchmark}_tre",
                        workers=workers, overwrite=overwrite, verbose=verbose)
    out = {}
    for label, r in runs.items():
        per = {}
        for s in sequences:
            starts = {seg.start: r["sequences"][seg.name]["success_auc"] for seg in segments if seg.base is s}
            per[s.name] = {"success_auc": float(np.mean(list(starts.values()))), "starts": starts}
        out[label] = {
            "success_auc": float(np.mean([p["success_auc"] for p in per.values()])),
            "ope_auc": float(np.mean([p["starts"][min(p["starts"])] for p in per.values()])),
            "sequences": per, "fps": r.get("fps", float("nan")), "k": k,
        }
    return out


def paired_difference(a: dict, b: dict) -> dict:
    """TRE success AUC of tracker result ``a`` minus ``b`` (``evaluate_tre`` entries), paired by sequence.

    Returns ``{"mean": mean difference, "se": its standard error (sample std of the per-sequence
    differences / sqrt(n); NaN for n < 2), "n": sequences both have, "per_sequence": {name: diff}}``.
    A difference within about two standard errors is not one to choose a setting by.
    """
    common = [s for s in a["sequences"] if s in b["sequences"]]
    if not common:
        raise ValueError("the two results share no sequence")
    d = np.array([a["sequences"][s]["success_auc"] - b["sequences"][s]["success_auc"] for s in common])
    se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
    return {"mean": float(d.mean()), "se": se, "n": int(d.size), "per_sequence": dict(zip(common, d.tolist()))}


def format_tre_table(results: dict) -> str:
    """Markdown table: tracker, TRE success AUC, OPE AUC (first start), then each sequence's TRE AUC."""
    seqs = []
    for r in results.values():
        seqs += [s for s in r["sequences"] if s not in seqs]
    head = ["tracker", "TRE success AUC", "OPE (start 0)"] + seqs
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in results.items():
        row = [name, f"{r['success_auc']:.3f}", f"{r['ope_auc']:.3f}"]
        row += [f"{r['sequences'][s]['success_auc']:.3f}" if s in r["sequences"] else "-" for s in seqs]
        lines.append("| " + " | ".join(row) + " |")
    names = list(results)
    if len(names) > 1:
        lines.append("")
        for name in names[1:]:
            d = paired_difference(results[name], results[names[0]])
            lines.append(f"- {name} - {names[0]}: {d['mean']:+.3f} (standard error {d['se']:.3f}, "
                         f"paired over {d['n']} sequences)")
    return "\n".join(lines)
