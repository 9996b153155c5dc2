"""``amnet-edu train``: train AMNet or the ANet-only ablation from the command line.

Examples::

    amnet-edu train --kind amnet --steps 3000 --out runs/amnet            # CPU profile on a CPU
    amnet-edu train --kind amnet --profile paper --out runs/amnet_paper   # on a GPU
    torchrun --nproc_per_node 2 -m amnet_edu.train --kind amnet --steps 100 --out runs/ddp
    amnet-edu train ... --export amnet_edu/weights/amnet_cpu.pt           # ship the best weights

The data: ``--synthetic N`` generated sequences plus ``--real NAME ...`` shared sequences
(default: ``TRAIN_SEQUENCES``; ``--real`` with no names = synthetic only). Re-running the same
command resumes from ``<out>/last.pt``.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict

import numpy as np
import torch

from ..checkpoint import load_checkpoint, save_checkpoint
from .sources import TRAIN_SEQUENCES, real_sources, synthetic_sources
from .trainer import TrainConfig, train


def build_parser(p: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = p or argparse.ArgumentParser(prog="amnet-edu train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", default="amnet", choices=["amnet", "anet"])
    p.add_argument("--profile", default=None, choices=["paper", "cpu"], help="default: paper on CUDA, cpu otherwise")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--synthetic", type=int, default=150, help="number of generated training sequences")
    p.add_argument("--real", nargs="*", default=list(TRAIN_SEQUENCES), help="shared sequences to train on")
    p.add_argument("--real-weight", type=float, default=0.5, help="share of samples drawn from real sequences")
    p.add_argument("--val-every", type=int, default=200)
    p.add_argument("--stop-at", type=int, default=None,
                   help="stop (with a checkpoint) at this step; the same command resumes later")
    p.add_argument("--out", default="runs/amnet")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--export", default=None, help="copy the best weights (no optimizer) to this file at the end")
    p.add_argument("--no-progress", action="store_true")
    return p


def run(args) -> int:
    t0 = time.time()
    syn = synthetic_sources(args.synthetic, seed=args.seed) if args.synthetic else []
    real = real_sources(args.real) if args.real else []
    if not syn and not real:
        raise SystemExit("no training data: use --synthetic N and/or --real NAME ...")
    sources = syn + real
    # Half the samples (``--real-weight``) from real footage, spread over its annotated frames.
    w_syn = np.full(len(syn), (1 - args.real_weight) / max(len(syn), 1)) if real else np.ones(len(syn))
    n_real = sum(s.valid.size for s in real)
    w_real = np.array([args.real_weight * s.valid.size / n_real for s in real]) if syn else \
        np.array([s.valid.size for s in real], dtype=float)
    val = synthetic_sources(16, seed=args.seed + 7777) if args.synthetic else real
    cfg = TrainConfig(kind=args.kind, profile=args.profile, steps=args.steps, batch_size=args.batch_size,
                      lr=args.lr, seed=args.seed, val_every=args.val_every, checkpoint_every=args.val_every,
                      out_dir=args.out, device=args.device, threads=args.threads, stop_at=args.stop_at)
    result = train(cfg, sources, val_sources=val, progress=not args.no_progress, weights=np.concatenate([w_syn, w_real]))
    record = {
        "command": " ".join(["amnet-edu", "train"] + sys.argv[2:]) if sys.argv[1:2] == ["train"] else " ".join(sys.argv),
        "train_config": asdict(cfg), "profile": result["profile"], "synthetic_sequences": args.synthetic,
        "real_sequences": list(args.real), "real_weight": args.real_weight,
        "best_val_loss": result["best_val_loss"], "wall_seconds_this_invocation": round(time.time() - t0, 1),
        "steps_done": result["history"][-1]["step"] if result["history"] else 0,
        "torch": torch.__version__, "platform": platform.platform(), "threads": torch.get_num_threads(),
        "final": result["history"][-1] if result["history"] else None,
    }
    from pathlib import Path
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "record.json").write_text(json.dumps(record, indent=1))
    if args.export:
        best = load_checkpoint(Path(args.out) / "best.pt")
        save_checkpoint(args.export, best, record=json.dumps(record))
        print(f"exported {args.export}")
    return 0


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))
