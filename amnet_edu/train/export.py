"""Ship a training run's weights: ``python -m amnet_edu.train.export RUN_DIR DEST.pt [--kind amnet]``.

Copies ``RUN_DIR/best.pt`` (weights only, no optimizer state) to ``DEST.pt`` with the run's record
(the command, data, steps, seconds, best validation loss) embedded as the ``record`` entry, and
writes the full loss/validation history next to it as ``DEST_history.json``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..checkpoint import load_checkpoint, read_checkpoint, save_checkpoint


def export(run_dir, dest, checkpoint: str = "best.pt") -> Path:
    run_dir, dest = Path(run_dir), Path(dest)
    model = load_checkpoint(run_dir / checkpoint)
    last = read_checkpoint(run_dir / "last.pt")
    history = json.loads(last["history"])
    if (run_dir / "record.json").exists():
        record = json.loads((run_dir / "record.json").read_text())
    else:  # a run stopped from outside (killed at a checkpoint): rebuild what the CLI would write
        cfg = json.loads(last.get("train_config", "{}"))
        record = {"train_config": cfg, "note": "run stopped at a checkpoint before its last step",
                  "command": f"amnet-edu train --kind {cfg.get('kind')} --steps {cfg.get('steps')} "
                             f"--val-every {cfg.get('val_every')} --out {cfg.get('out_dir')} (stopped)"}
    record.update({"exported_from": f"{run_dir.name}/{checkpoint}", "steps_done": int(last["step"]),
                   "exported_step": int(read_checkpoint(run_dir / checkpoint).get("step", -1)),
                   "train_seconds": round(_train_seconds(history), 1)})
    save_checkpoint(dest, model, record=json.dumps(record))
    dest.with_name(dest.stem + "_history.json").write_text(json.dumps(history))
    return dest


def _train_seconds(history) -> float:
    """Total training time over all resumed segments (each segment's clock restarts at 0)."""
    total, seg_max, prev = 0.0, 0.0, -1.0
    for h in history:
        sec = float(h.get("seconds", 0.0))
        if sec < prev:  # a resume: a new segment
            total += seg_max
            seg_max = 0.0
        seg_max, prev = max(seg_max, sec), sec
    return total + seg_max


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("run_dir")
    p.add_argument("dest")
    p.add_argument("--checkpoint", default="best.pt")
    a = p.parse_args(argv)
    print(export(a.run_dir, a.dest, a.checkpoint))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
