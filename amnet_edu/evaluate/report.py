"""Tables and the ``amnet-edu evaluate`` command line.

``amnet-edu evaluate --trackers amnet anet csrt kcf mil --data <folder of sequences>
[--sequences name ...] [--results results] [--workers N] [--vot] [--plots out_dir]
[--overwrite]`` runs OPE (the protocol of ``shared/notes/baselines.md``), caches the runs under
``--results`` in the got10k layout, and prints a markdown table like the one in baselines.md.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

__all__ = ["format_table", "format_vot_table", "main"]


def _f(v, digits=3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def format_table(results: dict) -> str:
    """Markdown table: tracker, success AUC, P@20, FPS, then each sequence's AUC.

    ``results``: the dict of :func:`amnet_edu.evaluate.evaluate_ope`. Notes (e.g. how OpenCV
    failures were handled) follow the table.
    """
    seqs = []
    for r in results.values():
        seqs += [s for s in r["sequences"] if s not in seqs]
    head = ["tracker", "success AUC", "P@20", "FPS"] + seqs
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in results.items():
        fps = r.get("fps", float("nan"))
        row = [name, _f(r["success_auc"]), _f(r["precision_20"]),
               "-" if math.isnan(fps) else f"{fps:.0f}"]
        row += [_f(r["sequences"][s]["success_auc"]) if s in r["sequences"] else "-" for s in seqs]
        lines.append("| " + " | ".join(row) + " |")
    notes = [n for r in results.values() for n in r.get("notes", [])]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def format_vot_table(results: dict) -> str:
    """Markdown table of :func:`amnet_edu.evaluate.vot.evaluate_vot` results."""
    from .vot import EAO_LABEL

    rng = next(iter(results.values()))["eao_range"] if results else (0, 0)
    head = ["tracker", "accuracy", "failures", "failures / 100 frames",
            f"{EAO_LABEL}, Ns {rng[0]}..{rng[1]}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in results.items():
        lines.append(f"| {name} | {_f(r['accuracy'])} | {r['failures']} | "
                     f"{_f(r['failures_per_100'], 2)} | {_f(r['eao'])} |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="amnet-edu evaluate",
        description="One-pass evaluation (success AUC, P@20, FPS) of trackers on sequences.")
    p.add_argument("--trackers", nargs="+", default=["amnet", "csrt", "kcf", "mil"],
                   help="tracker names: amnet anet csrt kcf mil")
    p.add_argument("--data", default=None,
                   help="folder of sequences (default: the shared data folder / $AMNET_EDU_DATA)")
    p.add_argument("--sequences", nargs="+", default=None, help="only these sequence names")
    p.add_argument("--split", choices=["train", "val"], default=None,
                   help="the training collection's split (--data: the collection, default shared/data/train)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=V",
                   help="a TrackerConfig field for the AMNet/ANet/checkpoint trackers (repeatable)")
    p.add_argument("--paper-loop", action="store_true",
                   help="start from TrackerConfig.paper() (the paper's tracking loop) before --set")
    p.add_argument("--label", default=None, help="results label suffix for the configured trackers")
    p.add_argument("--results", default="results", help="results folder (got10k layout)")
    p.add_argument("--benchmark", default=None,
                   help="subfolder name under --results (default: the data folder's name)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes")
    p.add_argument("--vot", action="store_true",
                   help="also run the VOT-style supervised experiment (accuracy, failures, "
                        "unofficial EAO)")
    p.add_argument("--tre", type=int, default=None, metavar="K",
                   help="temporal robustness instead of OPE: run each sequence from K evenly spaced start "
                        "frames and print the mean success AUC over the starts, and the first start's "
                        "(= OPE) (evaluate.tre)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="also write the scores (OPE and/or TRE, per sequence) to this JSON file")
    p.add_argument("--plots", default=None, help="write success/precision/attribute plots here")
    p.add_argument("--overwrite", action="store_true", help="re-run even if results exist")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from .registry import display_name

    try:
        for t in args.trackers:
            display_name(t)  # validate early: unknown names fail before any work
        trackers = list(args.trackers)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from ..data.sequences import find_sequences, shared_data_root

    if args.set or args.paper_loop:
        from dataclasses import replace

        from ..tracking import TrackerConfig
        from .registry import ConfiguredTracker
        from .tune import parse_setting

        try:
            changes = {n: v[0] for n, v in (parse_setting(x) for x in args.set)}
            cfg = replace(TrackerConfig.paper() if args.paper_loop else TrackerConfig(), **changes)
        except ValueError as exc:
            print(f"error: --set: {exc}", file=sys.stderr)
            return 2
        suffix = args.label or "-".join((["paper"] if args.paper_loop else []) + [f"{k}={v}" for k, v in changes.items()])
        trackers = [ConfiguredTracker(t, cfg, f"{display_name(t)}-{suffix}")
                    if display_name(t) not in ("CSRT", "KCF", "MIL") else t for t in trackers]
    if args.split:
        from ..data.collection import load_collection, train_data_root

        root = Path(args.data) if args.data else train_data_root()
        if root is None:
            print("error: no training collection found (give --data or set AMNET_EDU_TRAIN_DATA)", file=sys.stderr)
            return 2
        data, sequences = root, load_collection(root, split=args.split)
        args.benchmark = args.benchmark or f"{Path(root).name}_{args.split}"
    else:
        data = Path(args.data) if args.data else shared_data_root()
    if data is None:
        print("error: no --data given and no shared data folder found "
              "(set AMNET_EDU_DATA to a folder of tracking sequences)", file=sys.stderr)
        return 2
    if not Path(data).is_dir():
        print(f"error: data folder not found: {data}", file=sys.stderr)
        return 2
    if not args.split:
        sequences = find_sequences(data)
    if args.sequences:
        wanted = set(args.sequences)
        missing = wanted - {s.name for s in sequences}
        if missing:
            print(f"error: sequence(s) not found in {data}: {sorted(missing)}; "
                  f"available: {sorted(s.name for s in sequences)}", file=sys.stderr)
            return 2
        sequences = [s for s in sequences if s.name in wanted]
    if not sequences:
        print(f"error: no tracking sequences found in {data}", file=sys.stderr)
        return 2

    from .ope import evaluate_ope

    benchmark = args.benchmark or Path(data).resolve().name
    # with --tre, its first start is OPE's run: OPE runs on its own only for what needs its results
    results, tre = None, None
    if not args.tre or args.plots:
        results = evaluate_ope(trackers, sequences, results_dir=args.results,
                               benchmark=benchmark, workers=args.workers, overwrite=args.overwrite,
                               verbose=True)
        print()
        print(f"OPE on {len(sequences)} sequence(s) from {data} (success AUC = mean over 21 IoU "
              "thresholds of the fraction of frames after the first with IoU > threshold)")
        print(format_table(results))
    if args.tre:
        from .tre import evaluate_tre, format_tre_table

        tre = evaluate_tre(trackers, sequences, k=args.tre, results_dir=args.results, benchmark=benchmark,
                           workers=args.workers, overwrite=args.overwrite, verbose=True)
        print()
        print(f"TRE on {len(sequences)} sequence(s): {args.tre} start frames each, evenly spaced over the "
              "frames with a box; success AUC averaged over the starts, then over the sequences")
        print(format_tre_table(tre))
    if args.vot:
        from .vot import evaluate_vot

        print()
        print(format_vot_table(evaluate_vot(trackers, sequences)))
    if args.json:
        from ..cli import command_line

        _write_json(args.json, results, tre, {"data": str(data), "sequences": [s.name for s in sequences],
                                              "tre_starts": args.tre,
                                              "command": command_line("evaluate", "amnet_edu.evaluate.report")})
        print(f"wrote {args.json}")
    if args.plots:
        from .plots import save_plots

        for p in save_plots(results, args.plots):
            print(f"wrote {p}")
    return 0


def _write_json(path, ope, tre, meta: dict) -> None:
    """Scores as JSON: per tracker the mean and per-sequence success AUC (OPE: also P@20 and FPS;
    TRE: also each start's AUC)."""
    import json

    out = {"meta": meta}
    if ope is not None:
        out["ope"] = {name: {"success_auc": r["success_auc"], "precision_20": r["precision_20"], "fps": r.get("fps"),
                             "sequences": {s: m["success_auc"] for s, m in r["sequences"].items()}}
                      for name, r in ope.items()}
    if tre is not None:
        out["tre"] = {name: {"success_auc": r["success_auc"], "ope_auc": r["ope_auc"], "k": r["k"],
                             "sequences": {s: {"success_auc": v["success_auc"],
                                               "starts": {str(k): a for k, a in v["starts"].items()}}
                                           for s, v in r["sequences"].items()}}
                      for name, r in tre.items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(out, indent=1, default=float) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
