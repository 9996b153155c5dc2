"""How far a tracker's recorded states are from the truth, against our recipe's Gaussian states.

    python tools/rollout_errors.py runs/rollouts/train_train/ANet --out book/results/rollout_errors.json

For every annotated frame of the training collection's ``train`` split (not the last of a clip)
with a usable recorded state (``train.triplets.state_offset``: within reach of the label), the
state's centre offset from the truth in template sides (worse axis); and, on the same frames, the
offset of one Gaussian state of ``JitterConfig.ours()`` (``center_error`` per axis, times
``sqrt(w h)``). Writes histograms and shares for chapter 5.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from amnet_edu.data import load_collection
from amnet_edu.tracking.crops import template_side
from amnet_edu.train.sources import attach_states
from amnet_edu.train.triplets import FrameSource, JitterConfig, state_offset


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="one tracker's results on the train split (<results>/<benchmark>/<tracker>)")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    jitter = JitterConfig.ours()
    rng = np.random.default_rng(args.seed)
    sources = [FrameSource(seq.name, [], seq.boxes) for seq in load_collection(None, split="train")]
    clips = attach_states(sources, args.folder)["sequences"]
    recorded, gaussian, frames = [], [], 0
    for src in sources:
        for a in src.valid[:-1]:
            frames += 1
            found = state_offset(src, int(a), jitter)
            if found is None:
                continue
            recorded.append(found[1])
            x, y, w, h = src.boxes[a]
            e = np.abs(rng.normal(0, jitter.center_error, 2)).max()
            gaussian.append(e * np.sqrt(w * h) / template_side(w, h, jitter.context))
    edges = np.round(np.arange(0, 1.0001, 0.025), 3)
    out = {"meta": {"command": "python tools/rollout_errors.py " + " ".join(argv or sys.argv[1:]),
                    "clips": clips, "frames": frames, "usable": len(recorded),
                    "center_error": jitter.center_error, "unit": "template sides, worse axis"},
           "edges": edges.tolist()}
    for name, v in (("recorded", np.array(recorded)), ("gaussian", np.array(gaussian))):
        out[name] = {"counts": np.histogram(np.clip(v, 0, 1), edges)[0].tolist(),
                     "median": round(float(np.median(v)), 3), "p90": round(float(np.quantile(v, 0.9)), 3),
                     "share_over_0.1": round(float((v >= 0.1).mean()), 3),
                     "share_over_0.25": round(float((v > 0.25).mean()), 3)}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: out[k] for k in ("meta",)}), {k: {m: v for m, v in out[k].items() if m != "counts"}
                                                        for k in ("recorded", "gaussian")})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
