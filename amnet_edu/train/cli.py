"""``amnet-edu train``: train AMNet or the ANet-only ablation from the command line.

Examples::

    amnet-edu train --kind amnet --steps 3000 --out runs/amnet            # CPU profile on a CPU
    amnet-edu train --kind amnet --profile paper --out runs/amnet_paper   # on a GPU
    torchrun --nproc_per_node 2 -m amnet_edu.train --kind amnet --steps 100 --out runs/ddp
    amnet-edu train ... --export amnet_edu/weights/amnet_cpu.pt           # ship the best weights

The data, mixed by explicit shares (``--mix``): ``collection`` (the ``train`` split of the
training collection, ``../shared/data/train``, through the crop cache), ``synthetic`` (``--synthetic
N`` generated sequences) and ``real`` (``--real NAME ...`` short shared sequences; default
``TRAIN_SEQUENCES``). Default mix: ``synthetic=0.5,real=0.5`` (how the previous cpu weights were
trained; ``--real-weight`` sets the real share; the shipped ones used
``--mix collection=0.9,synthetic=0.1``). Validation (checkpoint choice) uses the
collection's ``val`` split when the collection is in the mix, else generated sequences.
``--recipe paper|ours`` picks the loss, the stream supervision and the triplets
(``TrainConfig.paper()`` / ``.ours()``). Re-running the same command resumes from
``<out>/last.pt``; a changed setting is refused.

    amnet-edu train --recipe ours --mix collection=0.9,synthetic=0.1 --workers 1 --out runs/ours_amnet
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict

import torch

from ..checkpoint import load_checkpoint, save_checkpoint
from ..cli import command_line
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
    p.add_argument("--mix", default=None,
                   help="explicit shares, e.g. collection=0.9,synthetic=0.1 (overrides --real-weight)")
    p.add_argument("--recipe", default="paper", choices=["paper", "ours"],
                   help="loss, stream supervision and triplets: TrainConfig.paper() or .ours()")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--val-every", type=int, default=200)
    p.add_argument("--stop-at", type=int, default=None,
                   help="stop (with a checkpoint) at this step; the same command resumes later")
    p.add_argument("--out", default="runs/amnet")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--export", default=None, help="copy the best weights (no optimizer) to this file at the end")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--model-set", action="append", default=[], metavar="NAME=V",
                   help="a ModelConfig field changed from the profile's, e.g. motion_pyramid=none (repeatable)")
    p.add_argument("--jitter-set", action="append", default=[], metavar="NAME=V",
                   help="a JitterConfig field changed from the recipe's, e.g. template_gap=150 (repeatable)")
    p.add_argument("--branch-from", default=None, metavar="CHECKPOINT",
                   help="start from another run's last.pt/step checkpoint (same data, recipe, steps and seed; "
                        "only --model-set may differ) instead of from scratch")
    p.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                   help="start at step 0 with this checkpoint's weights copied in (all must fit), e.g. an "
                        "ANet-only run's appearance stream for AMNet; the rest starts fresh")
    p.add_argument("--freeze", default="", metavar="NAMES",
                   help="comma-separated submodules not trained, e.g. anet (with --init-from: train MNet "
                        "and the fusion on a fixed appearance stream)")
    p.add_argument("--rollouts", default=None, metavar="FOLDER",
                   help="a tracker's results on the training collection (<results>/<benchmark>/<tracker>, "
                        "from amnet-edu evaluate --split train --results): states for --jitter-set "
                        "rollout_prob=P")
    return p


def parse_mix(text: str) -> dict:
    """``"collection=0.9,synthetic=0.1"`` -> ``{"collection": 0.9, "synthetic": 0.1}``."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in ("collection", "synthetic", "real") or not value:
            raise SystemExit(f"--mix: expected NAME=SHARE with NAME in collection, synthetic, real; got {part!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise SystemExit(f"--mix: {value!r} is not a number") from None
        if out[name] < 0:
            raise SystemExit(f"--mix: share of {name} must be >= 0")
    return out


def _parse_fields(settings, cls, option: str, exclude=("name",)) -> dict:
    """``["a=1", ...]`` -> ``{"a": 1}``, typed like the fields of dataclass ``cls``."""
    from dataclasses import fields

    kinds = {f.name: type(f.default) for f in fields(cls)}
    out = {}
    for text in settings:
        name, sep, value = text.partition("=")
        if not sep or name not in kinds or kinds[name] not in (str, int, float) or name in exclude:
            settable = sorted(k for k, t in kinds.items() if t in (str, int, float) and k not in exclude)
            raise SystemExit(f"{option} {text!r}: expected NAME=V with NAME one of {settable}")
        try:
            out[name] = kinds[name](value)
        except ValueError:
            raise SystemExit(f"{option} {text!r}: {value!r} is not a {kinds[name].__name__}") from None
    return out


def parse_model_changes(settings) -> dict:
    """``["motion_pyramid=none", ...]`` -> ``{"motion_pyramid": "none"}``, typed like the fields."""
    from ..config import ModelConfig

    return _parse_fields(settings, ModelConfig, "--model-set")


def parse_jitter_changes(settings) -> dict:
    """``["template_gap=150", ...]`` -> ``{"template_gap": 150}``, typed like ``JitterConfig``'s fields."""
    from .triplets import JitterConfig

    return _parse_fields(settings, JitterConfig, "--jitter-set", exclude=())


def run(args) -> int:
    from ..config import get_config
    from ..device import default_device, default_profile
    from .sources import attach_states, collection_sources, mix_weights

    t0 = time.time()
    mix = parse_mix(args.mix) if args.mix else {"synthetic": 1 - args.real_weight, "real": args.real_weight}
    profile = args.profile or default_profile(default_device(args.device))
    T = get_config(profile).replace(**parse_model_changes(args.model_set)).template_size
    groups = {}
    if mix.get("synthetic", 0) > 0 and args.synthetic:
        groups["synthetic"] = (synthetic_sources(args.synthetic, seed=args.seed), mix["synthetic"])
    if mix.get("real", 0) > 0 and args.real:
        groups["real"] = (real_sources(args.real), mix["real"])
    if mix.get("collection", 0) > 0:
        groups["collection"] = (collection_sources("train", T), mix["collection"])
    if not groups:
        raise SystemExit("no training data: give --mix with a positive share of collection, synthetic "
                         "(with --synthetic N) or real (with --real NAME ...)")
    # Without a mix the earlier runs drew real sequences by their frames: keep that.
    sources, weights = mix_weights(groups, per_sequence="sqrt" if args.mix else "frames")
    if "collection" in groups:
        val = collection_sources("val", T)
    elif args.synthetic:
        val = synthetic_sources(16, seed=args.seed + 7777)
    else:
        val = groups["real"][0]
    recipe = TrainConfig.ours if args.recipe == "ours" else TrainConfig.paper
    jitter = {**recipe().jitter, **parse_jitter_changes(args.jitter_set)}
    rollouts = {}
    if args.rollouts:
        rollouts = attach_states(sources, args.rollouts)
        print(f"rollouts: states of {rollouts['sequences']} sequences from {args.rollouts}")
    if jitter.get("rollout_prob", 0) > 0 and not rollouts:
        raise SystemExit("--jitter-set rollout_prob needs --rollouts FOLDER (a tracker's runs on the training data)")
    cfg = recipe(kind=args.kind, jitter=jitter, profile=profile, steps=args.steps, batch_size=args.batch_size,
                 lr=args.lr, seed=args.seed, val_every=args.val_every, checkpoint_every=args.val_every,
                 out_dir=args.out, device=args.device, threads=args.threads, stop_at=args.stop_at,
                 workers=args.workers, model_changes=parse_model_changes(args.model_set),
                 branch_from=args.branch_from, init_from=args.init_from,
                 freeze=tuple(n for n in args.freeze.split(",") if n), rollouts=rollouts)
    result = train(cfg, sources, val_sources=val, progress=not args.no_progress, weights=weights)
    record = {
        "command": command_line("train", "amnet_edu.train"),
        "train_config": asdict(cfg), "profile": result["profile"], "synthetic_sequences": args.synthetic,
        "real_sequences": list(args.real), "real_weight": args.real_weight, "mix": mix, "recipe": args.recipe,
        "sources": len(sources),
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
