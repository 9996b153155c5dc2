"""``amnet-edu``: the command line.

    amnet-edu train     ...   train AMNet / ANet-only (see ``amnet-edu train -h``)
    amnet-edu evaluate  ...   OPE / VOT-style evaluation of trackers on a folder of sequences
    amnet-edu bench     ...   where the forward time goes, per component and profile
    amnet-edu diagnose  ...   what each stream's map has learned (hit rates on the val split)
    amnet-edu track VIDEO_OR_FOLDER --box X Y W H [--out boxes.txt]   track one sequence
"""
from __future__ import annotations

import sys


def command_line(subcommand: str, module: str) -> str:
    """This process's command line as a user types it, for run records: ``amnet-edu SUBCOMMAND
    ...`` through this entry point, else ``python -m MODULE ...``."""
    if sys.argv[1:2] == [subcommand]:
        return " ".join(["amnet-edu", subcommand] + sys.argv[2:])
    return " ".join([f"python -m {module}"] + sys.argv[1:])


def _track(argv) -> int:
    import argparse

    import numpy as np

    p = argparse.ArgumentParser(prog="amnet-edu track", description="Track one video file or sequence folder.")
    p.add_argument("source", help="a video file or a sequence folder (OTB/VOT/MOT layout or a folder of images)")
    p.add_argument("--box", nargs=4, type=float, metavar=("X", "Y", "W", "H"),
                   help="first-frame box, 0-based pixels (default: the sequence's ground truth)")
    p.add_argument("--tracker", default="amnet", help="amnet, anet, csrt, kcf or mil")
    p.add_argument("--out", default=None, help="write one x,y,w,h line per frame here")
    a = p.parse_args(argv)
    from .data import load_sequence
    from .evaluate.registry import make_tracker

    seq = load_sequence(a.source, first_box=a.box) if a.box else load_sequence(a.source)
    box = a.box if a.box else seq.init_box
    tracker = make_tracker(a.tracker)
    boxes, seconds = _run(tracker, seq, box)
    text = "\n".join(",".join(f"{v:.2f}" for v in b) for b in boxes)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    print(f"{len(boxes)} frames, {len(boxes) / max(float(np.sum(seconds)), 1e-9):.1f} FPS", file=sys.stderr)
    return 0


def _run(tracker, seq, box):
    import time

    import numpy as np

    boxes, seconds = [], []
    for i, frame in enumerate(seq.frames()):
        t0 = time.perf_counter()
        if i == 0:
            tracker.init(frame, box)
            b = tuple(box)
        else:
            b = tracker.update(frame)
        seconds.append(time.perf_counter() - t0)
        boxes.append(b)
    return np.asarray(boxes, dtype=float), np.asarray(seconds)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "train":
        from .train.cli import main as train_main
        return train_main(rest)
    if cmd == "evaluate":
        from .evaluate.report import main as eval_main
        return eval_main(rest)
    if cmd == "diagnose":
        from .evaluate.diagnostics import main as diag_main
        return diag_main(rest)
    if cmd == "bench":
        from .bench import main as bench_main
        return bench_main(rest)
    if cmd == "track":
        return _track(rest)
    print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
