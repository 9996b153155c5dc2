"""Training AMNet (Section 4.2): sigmoid outputs, squared error to the Gaussian map (eq. 8), Adam
with weight decay 0.005, learning rate 1e-3 stepped down to 1e-5, batch 16, Xavier initialisation.

``train(TrainConfig(...), sources)`` runs on CUDA when present (with the paper's profile by
default) and on the CPU otherwise (the reduced profile), with a progress bar, periodic
validation, checkpoints (``last.pt``, ``best.pt``) and exact resume. Under ``torchrun`` it trains
with DistributedDataParallel: the global batch is split across processes, each sample index
being the same as in a single-process run, so the result matches one process up to float
rounding (gradients are averaged by all-reduce instead of summed in one place).
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist

from ..checkpoint import read_checkpoint, save_checkpoint
from ..config import get_config
from ..device import default_device, default_profile, keep_freed_memory
from ..model.amnet import build_model
from .triplets import JitterConfig, TripletDataset

__all__ = ["TrainConfig", "train", "loss_fn", "lr_at"]


@dataclass
class TrainConfig:
    kind: str = "amnet"                 # "amnet" or "anet" (the ablation)
    profile: str | None = None          # None: "paper" on CUDA, "cpu" otherwise
    steps: int = 2000
    batch_size: int = 16                # the paper's mini-batch
    lr: float = 1e-3                    # the paper's start ...
    lr_final: float = 1e-5              # ... and end
    lr_drops: tuple = (0.5, 0.8)        # fractions of the run where lr drops (1e-3 -> 1e-4 -> 1e-5)
    weight_decay: float = 0.005         # the paper's
    seed: int = 0
    val_every: int = 200
    val_size: int = 64
    checkpoint_every: int = 200
    out_dir: str = "runs/amnet"
    device: str | None = None
    threads: int | None = None
    jitter: dict = field(default_factory=dict)
    stop_at: int | None = None          # stop (with a checkpoint) at this step; rerun to resume


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Step-wise learning rate: ``lr`` until the first drop, then geometric steps down to ``lr_final``."""
    n = len(cfg.lr_drops)
    k = sum(step >= f * cfg.steps for f in cfg.lr_drops)
    if n == 0:
        return cfg.lr
    return cfg.lr * (cfg.lr_final / cfg.lr) ** (k / n)


def loss_fn(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. (8) without the regulariser (that is Adam's weight decay): ``sum_j (O_AM - O_gt)^2``,
    summed over the map's cells and averaged over the batch."""
    return ((pred - target) ** 2).flatten(1).sum(1).mean()


def _peak_error(pred: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    """Distance in cells between each map's maximum and the target's centre."""
    B, _, H, W = pred.shape
    idx = pred.flatten(1).argmax(1)
    ij = torch.stack([idx // W, idx % W], 1).float()
    return (ij - center).norm(dim=1)


def _batch(ds, indices, device):
    items = [ds[int(k)] for k in indices]
    return {key: torch.stack([it[key] for it in items]).to(device) for key in items[0]}


def evaluate_loss(model, ds, device, batch_size=16) -> dict:
    model.eval()
    losses, errs = [], []
    with torch.no_grad():
        for start in range(0, len(ds), batch_size):
            b = _batch(ds, range(start, min(start + batch_size, len(ds))), device)
            pred = model(b["z_t"], b["z_prev"], b["x_prev"])
            losses.append(float(loss_fn(pred, b["target"])) * len(b["target"]))
            errs.append(_peak_error(pred, b["center"]).cpu())
    model.train()
    e = torch.cat(errs)
    return {"val_loss": sum(losses) / len(ds), "val_peak_err": float(e.mean()),
            "val_within_2": float((e <= 2).float().mean())}


def train(cfg: TrainConfig, sources, val_sources=None, progress: bool = True, log=print, weights=None) -> dict:
    """Train per ``cfg`` on triplets drawn from ``sources`` (``FrameSource`` list); returns the history.

    Resumes from ``out_dir/last.pt`` if it exists. Returns ``{"history": [...], "best": ...}``.
    """
    distributed = dist.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world = 0, 1
    if distributed:
        if not dist.is_initialized():
            dist.init_process_group("gloo" if not torch.cuda.is_available() else "nccl")
        rank, world = dist.get_rank(), dist.get_world_size()
        if cfg.batch_size % world:
            raise ValueError(f"batch_size {cfg.batch_size} must be divisible by the {world} processes")
    device = default_device(cfg.device)
    if distributed and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if device.type == "cpu":
        keep_freed_memory()  # 2-3x faster FFT correlation per batch, see its docstring
    profile = cfg.profile or default_profile(device)
    mcfg = get_config(profile)
    jitter = JitterConfig(**cfg.jitter)
    model = build_model(cfg.kind, mcfg, seed=cfg.seed).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    out = Path(cfg.out_dir)
    step, history, best = 0, [], math.inf
    last = out / "last.pt"
    if last.exists():
        ck = read_checkpoint(last)
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        step, history = int(ck["step"]), json.loads(ck["history"])
        best = min([h["val_loss"] for h in history if "val_loss" in h], default=math.inf)
        if rank == 0:
            log(f"resumed from {last} at step {step}")
    train_ds = TripletDataset(sources, mcfg, length=cfg.steps * cfg.batch_size, seed=cfg.seed, jitter=jitter,
                             weights=weights)
    val_ds = TripletDataset(val_sources or sources, mcfg, length=cfg.val_size, seed=cfg.seed + 10_000, jitter=jitter)
    net = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    per_rank = cfg.batch_size // world
    bar = None
    if progress and rank == 0:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.steps, initial=step, desc=f"train {cfg.kind}/{profile}", dynamic_ncols=True)
    model.train()
    t0 = time.perf_counter()
    end = min(cfg.steps, cfg.stop_at) if cfg.stop_at else cfg.steps
    while step < end:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        first = step * cfg.batch_size + rank * per_rank
        b = _batch(train_ds, range(first, first + per_rank), device)
        pred = net(b["z_t"], b["z_prev"], b["x_prev"])
        loss = loss_fn(pred, b["target"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        rec = {"step": step, "loss": float(loss.detach()), "lr": lr_at(step - 1, cfg), "seconds": time.perf_counter() - t0}
        if rank == 0 and (step % cfg.val_every == 0 or step == cfg.steps):
            rec.update(evaluate_loss(model, val_ds, device))
            if rec["val_loss"] < best:
                best = rec["val_loss"]
                save_checkpoint(out / "best.pt", model, step=step)
            log(f"step {step}: loss {rec['loss']:.3f} val_loss {rec['val_loss']:.3f} "
                f"peak_err {rec['val_peak_err']:.2f} cells within2 {rec['val_within_2']:.2f}")
        history.append(rec)
        if rank == 0 and (step % cfg.checkpoint_every == 0 or step == end):
            save_checkpoint(last, model, optimizer=opt.state_dict(), step=step,
                            history=json.dumps(history), train_config=json.dumps(asdict(cfg)))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{rec['loss']:.3f}")
    if bar is not None:
        bar.close()
    if distributed:
        dist.barrier()
    return {"history": history, "best_val_loss": best, "model": model, "profile": profile}
