"""Training AMNet (Section 4.2): sigmoid outputs, squared error to the Gaussian map (eq. 8), Adam
with weight decay 0.005, learning rate 1e-3 stepped down to 1e-5, batch 16, Xavier initialisation.

``train(TrainConfig(...), sources)`` runs on CUDA when present (with the paper's profile by
default) and on the CPU otherwise (the reduced profile), with a progress bar, periodic
validation, checkpoints (``last.pt``, ``best.pt``) and exact resume. Under ``torchrun`` it trains
with DistributedDataParallel: the global batch is split across processes, each sample index
being the same as in a single-process run, so the result matches one process up to float
rounding (gradients are averaged by all-reduce instead of summed in one place).

Two named recipes (``TrainConfig.paper()`` and ``TrainConfig.ours()``) differ in the loss and in
what supervises the streams:

* ``loss="mse"``: the paper's eq. (8), squared error of the sigmoid output to the Gaussian map,
  summed over the cells. ``loss="bce"`` (ours): a logistic loss with the Gaussian map as soft
  label, positive and negative cells weighted to equal total mass (``balanced_bce``): the
  Gaussian's peak is a few cells out of thousands, and squared error lets a flat near-zero map
  score well.
* ``aux_weight`` > 0 (ours, AMNet only): *deep supervision* of each stream. ``O_A`` and the
  standardised ``O_M`` each get the same loss as the fused output (``O_M`` through a learned
  scale and bias, ``StreamHeads``), weighted by ``aux_weight``. Trained only through the 1x1
  fusion, as the paper does, the motion stream learned nothing useful on real footage here; a
  probe that gave MNet its own loss learned in minutes (``../shared/notes/measurements.md``).
  ``ANetOnly`` has no second stream and its output *is* ``O_A``, so it gets no auxiliary term.

Training batches are built by ``DataLoader`` worker processes (``workers``) from the per-index
deterministic ``TripletDataset``; the batch of step ``k`` is always items ``[k B, (k + 1) B)``,
so resuming at any step, with any number of workers, sees exactly the data of one whole run.
A resumed run refuses a changed configuration (only where its output goes, how often it
reports and how it runs may change: ``RESUME_MAY_CHANGE``).
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.distributed as dist

from ..checkpoint import read_checkpoint, save_checkpoint
from ..config import get_config
from ..device import default_device, default_profile, keep_freed_memory
from ..model.amnet import build_model
from .triplets import JitterConfig, TripletDataset

__all__ = ["TrainConfig", "train", "loss_fn", "balanced_bce", "lr_at", "StreamHeads", "LOSSES", "RESUME_MAY_CHANGE"]


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
    loss: str = "mse"                   # "mse" (the paper's eq. 8) or "bce" (balanced logistic, ours)
    aux_weight: float = 0.0             # deep supervision of O_A and O_M (AMNet only; 0 = the paper)
    workers: int = 0                    # DataLoader worker processes building the batches
    dtype: str = "float32"              # "float64" for exactness checks (the DDP test)
    model_changes: dict = field(default_factory=dict)  # ModelConfig fields changed from the profile's
    branch_from: str | None = None      # start from another run's checkpoint (its step, weights,
                                        # optimiser, history): a variant trained on the same data
    init_from: str | None = None        # weights only, at step 0: every tensor of this checkpoint
                                        # must fit the model (e.g. an ANet-only run's stream in AMNet)
    freeze: tuple = ()                  # top-level submodules not trained, e.g. ("anet",)
    rollouts: dict = field(default_factory=dict)  # the tracker runs whose states the sources
                                        # carry (``sources.attach_states``'s record), for
                                        # ``JitterConfig.rollout_prob``

    @classmethod
    def paper(cls, **changes) -> "TrainConfig":
        """Section 4.2's recipe: squared error on the fused output only, the paper's triplets."""
        return cls(**{"loss": "mse", "aux_weight": 0.0, "jitter": {}, **changes})

    @classmethod
    def ours(cls, **changes) -> "TrainConfig":
        """Our recipe: balanced logistic loss, deep supervision of both streams, anchored
        triplets with augmentations (``JitterConfig.ours()``), the paper's optimiser."""
        from .triplets import JitterConfig

        jitter = {k: v for k, v in asdict(JitterConfig.ours()).items() if v != getattr(JitterConfig(), k)}
        return cls(**{"loss": "bce", "aux_weight": 0.5, "jitter": jitter, **changes})


# Fields a resumed run may change: where it writes, how often it reports, how it runs.
RESUME_MAY_CHANGE = ("out_dir", "device", "threads", "stop_at", "val_every", "checkpoint_every", "workers")


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Step-wise learning rate: ``lr`` until the first drop, then geometric steps down to
    ``lr_final``."""
    n = len(cfg.lr_drops)
    k = sum(step >= f * cfg.steps for f in cfg.lr_drops)
    if n == 0:
        return cfg.lr
    return cfg.lr * (cfg.lr_final / cfg.lr) ** (k / n)


def loss_fn(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. (8) without the regulariser (that is Adam's weight decay):
    ``sum_j (O_AM - O_gt)^2``, summed over the map's cells and averaged over the batch."""
    return ((pred - target) ** 2).flatten(1).sum(1).mean()


def balanced_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Logistic loss with the Gaussian map ``target`` in [0, 1] as soft label, on ``logits``
    [B, 1, H, W]: ``sum_j w_j BCE(logit_j, t_j)`` per sample, averaged over the batch.

    The label's positive mass ``t_j`` and negative mass ``1 - t_j`` each get half the total
    weight, ``w_j = N t_j / (2 sum t) + N (1 - t_j) / (2 sum (1 - t))`` with ``N = H W`` cells:
    the weights average 1, so the loss is a *sum over cells* like eq. (8). That scale matters
    with Adam's L2 weight decay (the paper's 0.005 is added to the gradient): with weights
    summing to 1 instead, the decay out-pulled the loss gradient of the deepest convolutions
    at the start (measured on a batch of the val split: conv6 gradient 4e-5 vs decay 2e-4).
    """
    t = target.flatten(1)
    n = t.shape[1]
    pos = n * t / (2 * t.sum(1, keepdim=True).clamp_min(1e-6))
    neg = n * (1 - t) / (2 * (1 - t).sum(1, keepdim=True).clamp_min(1e-6))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits.flatten(1), t, reduction="none")
    return ((pos + neg) * bce).sum(1).mean()


def _mse_on_logits(logits, target):
    return loss_fn(torch.sigmoid(logits), target)


LOSSES = {"mse": _mse_on_logits, "bce": balanced_bce}


class StreamHeads(torch.nn.Module):
    """Deep supervision of the two streams (training only, not part of the tracker's model).

    ``O_A`` is already a logit map (ANet's own 1x1 fusion has a bias); the standardised
    ``O_M_grid`` gets a learned scale and bias (a 1x1 convolution on one channel), started at the
    scale AMNet's fusion starts with. A map's maximum is unchanged by a positive scale, so the
    stream diagnostics look at ``O_M`` itself.
    """

    def __init__(self):
        super().__init__()
        self.motion = torch.nn.Conv2d(1, 1, 1)
        with torch.no_grad():
            self.motion.weight.fill_(1.0)
            self.motion.bias.fill_(-3.0)

    def forward(self, maps: dict) -> dict:
        return {"O_A": maps["O_A"], "O_M": self.motion(maps["O_M_grid"])}


def _peak_error(pred: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    """Distance in cells between each map's maximum and the target's centre."""
    B, _, H, W = pred.shape
    idx = pred.flatten(1).argmax(1)
    ij = torch.stack([idx // W, idx % W], 1).float()
    return (ij - center).norm(dim=1)


def _batch(ds, indices, device, dtype=torch.float32):
    items = [ds[int(k)] for k in indices]
    return {key: torch.stack([it[key] for it in items]).to(device, dtype) for key in items[0]}


class _StepBatches(torch.utils.data.Sampler):
    """Indices of the batches of steps ``start..end-1`` (this process's share under DDP)."""

    def __init__(self, start: int, end: int, batch_size: int, rank: int, per_rank: int):
        self.start, self.end, self.B, self.rank, self.per_rank = start, end, batch_size, rank, per_rank

    def __iter__(self):
        for step in range(self.start, self.end):
            first = step * self.B + self.rank * self.per_rank
            yield list(range(first, first + self.per_rank))

    def __len__(self):
        return max(self.end - self.start, 0)


def _stack(items):
    return {key: torch.stack([it[key] for it in items]) for key in items[0]}


def evaluate_loss(model, ds, device, batch_size=16, loss: str = "mse", dtype=torch.float32) -> dict:
    """Validation: the training loss of the output, its peak error in cells, and for AMNet the
    fraction of samples whose ``O_A`` / ``O_M`` / output maximum lies within 2 cells of the target."""
    model.eval()
    losses, errs, streams = [], [], {"O_A": [], "O_M_grid": []}
    with torch.no_grad():
        for start in range(0, len(ds), batch_size):
            b = _batch(ds, range(start, min(start + batch_size, len(ds))), device, dtype)
            logits, maps = model(b["z_t"], b["z_prev"], b["x_prev"], return_maps=True, logits=True)
            losses.append(float(LOSSES[loss](logits, b["target"])) * len(b["target"]))
            errs.append(_peak_error(logits, b["center"]).cpu())
            for k in streams:
                if k in maps:
                    streams[k].append(_peak_error(maps[k], b["center"]).cpu())
    model.train()
    e = torch.cat(errs)
    out = {"val_loss": sum(losses) / len(ds), "val_peak_err": float(e.mean()),
           "val_within_2": float((e <= 2).float().mean())}
    for k, v in streams.items():
        if v:
            out[f"val_within_2_{k.split('_grid')[0]}"] = float((torch.cat(v) <= 2).float().mean())
    return out


# Fields a branch may change from its parent run (besides RESUME_MAY_CHANGE): the model variant.
BRANCH_MAY_CHANGE = ("model_changes", "branch_from")


def _check_resume(saved: dict, cfg: TrainConfig, path, may_change=()) -> None:
    now = json.loads(json.dumps(asdict(cfg)))  # tuples -> lists, as stored
    changed = {k: (saved.get(k), now[k]) for k in now
               if k not in RESUME_MAY_CHANGE + tuple(may_change) and saved.get(k, _DEFAULTS.get(k)) != now[k]}
    if changed:
        raise ValueError(f"{path} was trained with another configuration; resuming would mix two runs. "
                         f"Changed: {changed}. Use a new --out, or the run's own settings.")


_DEFAULTS = json.loads(json.dumps(asdict(TrainConfig())))


def _init_from(model: torch.nn.Module, path) -> dict:
    """Copy every tensor of checkpoint ``path`` into ``model`` (same names and shapes, or an error).

    Two-stage training: an ANet-only run's weights (``anet.*``) become AMNet's appearance stream,
    MNet keeps its fresh initialisation, and AMNet's fusion starts as ``O_A`` alone (weight 1 on
    ``O_A``, 0 on ``O_M``, no bias), so at step 0 AMNet *is* that ANet-only tracker: motion can
    only enter where training finds it helps. (The usual equal-weight start would add an
    untrained ``O_M`` at full weight, which Adam takes thousands of steps to turn down.)
    Returns the history note.
    """
    ck = read_checkpoint(path)
    own = model.state_dict()
    src = ck["state_dict"]
    bad = sorted(k for k in src if k not in own or own[k].shape != src[k].shape)
    if bad:
        raise ValueError(f"init_from: {path} ({ck['kind']}) does not fit a {model.kind} model of this "
                         f"configuration: {bad[:5]}{' ...' if len(bad) > 5 else ''}")
    with torch.no_grad():
        for k, v in src.items():
            own[k].copy_(v)
        if ck["kind"] == "anet" and model.kind == "amnet":
            model.fuse.weight.copy_(torch.tensor([1.0, 0.0]).view_as(model.fuse.weight))
            model.fuse.bias.zero_()
    fresh = sorted({k.split(".")[0] for k in own if k not in src})
    return {"init_from": str(path), "init_from_kind": ck["kind"], "fresh_modules": fresh}


def _freeze(model: torch.nn.Module, names) -> None:
    """``requires_grad=False`` on the named top-level submodules (kept in eval mode while training,
    ``_train_mode``)."""
    children = dict(model.named_children())
    for name in names:
        if name not in children:
            raise ValueError(f"freeze: {model.kind} has no submodule {name!r}; it has {sorted(children)}")
        children[name].requires_grad_(False)
    if names and not any(p.requires_grad for p in model.parameters()):
        raise ValueError(f"freeze: {tuple(names)} leaves nothing of {model.kind} to train")


def _train_mode(model: torch.nn.Module, frozen) -> None:
    """Training mode for the trained parts, eval mode for the ``frozen`` submodules."""
    model.train()
    for name in frozen:
        getattr(model, name).eval()


def train(cfg: TrainConfig, sources, val_sources=None, progress: bool = True, log=print, weights=None) -> dict:
    """Train per ``cfg`` on triplets drawn from ``sources`` (``FrameSource`` list); returns the history.

    ``weights``: one per source, how often each is drawn (``sources.mix_weights`` builds them).
    Resumes from ``out_dir/last.pt`` if it exists (and refuses if ``cfg`` changed what is trained).
    Returns ``{"history": [...], "best_val_loss": ..., "model": ..., "profile": ...}``.
    """
    distributed = dist.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world = 0, 1
    if distributed:
        if not dist.is_initialized():
            dist.init_process_group("gloo" if not torch.cuda.is_available() else "nccl")
        rank, world = dist.get_rank(), dist.get_world_size()
        if cfg.batch_size % world:
            raise ValueError(f"batch_size {cfg.batch_size} must be divisible by the {world} processes")
    if cfg.loss not in LOSSES:
        raise ValueError(f"unknown loss {cfg.loss!r}; choose one of {sorted(LOSSES)}")
    dtype = {"float32": torch.float32, "float64": torch.float64}.get(cfg.dtype)
    if dtype is None:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {cfg.dtype!r}")
    device = default_device(cfg.device)
    if distributed and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if device.type == "cpu":
        keep_freed_memory()  # 2-3x faster FFT correlation per batch, see its docstring
    profile = cfg.profile or default_profile(device)
    mcfg = get_config(profile)
    if cfg.model_changes:
        mcfg = mcfg.replace(**cfg.model_changes)
    jitter = JitterConfig(**cfg.jitter)
    model = build_model(cfg.kind, mcfg, seed=cfg.seed).to(device, dtype)
    out = Path(cfg.out_dir)
    last = out / "last.pt"
    start = last if last.exists() else (Path(cfg.branch_from) if cfg.branch_from else None)
    # weights copied in only when the run starts: a resumed run loads its own checkpoint
    init_note = _init_from(model, cfg.init_from) if cfg.init_from and start is None else None
    _freeze(model, cfg.freeze)
    aux = cfg.aux_weight > 0 and cfg.kind == "amnet"
    heads = StreamHeads().to(device, dtype) if aux else None
    params = [p for p in model.parameters() if p.requires_grad] + (
        list(heads.parameters()) if heads is not None else [])
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, history, best = 0, [], math.inf
    branch_note = None
    if start is not None and not start.exists():
        raise FileNotFoundError(f"branch_from: no checkpoint at {start}")
    if start is not None:
        ck = read_checkpoint(start)
        branching = start != last
        if "train_config" in ck:
            # a branch keeps its parent's data, recipe, steps and seed; only the model may differ
            _check_resume(json.loads(ck["train_config"]), cfg, start, BRANCH_MAY_CHANGE if branching else ())
        elif branching:
            raise ValueError(f"{start} has no training configuration (an exported file?): cannot branch from it")
        if branching:
            branch_note = {"branched_from": str(start), "parent_model_changes": json.loads(ck["train_config"]).get(
                "model_changes", {}), "model_changes": cfg.model_changes}
        model.load_state_dict(ck["state_dict"])
        if heads is not None and "heads" in ck:
            heads.load_state_dict(ck["heads"])
        opt.load_state_dict(ck["optimizer"])
        step, history = int(ck["step"]), json.loads(ck["history"])
        # a branch's own best starts at the branch: the parent's val losses came from another model
        best = math.inf if branch_note else min([h["val_loss"] for h in history if "val_loss" in h], default=math.inf)
        if rank == 0:
            log(f"{'branched' if branch_note else 'resumed'} from {start} at step {step}")
    train_ds = TripletDataset(sources, mcfg, length=cfg.steps * cfg.batch_size, seed=cfg.seed, jitter=jitter,
                             weights=weights)
    # validation on positive pairs with Gaussian states only: its loss stays comparable between runs
    # with and without negatives or rollouts
    val_ds = TripletDataset(val_sources or sources, mcfg, length=cfg.val_size, seed=cfg.seed + 10_000,
                            jitter=replace(jitter, negative_prob=0.0, rollout_prob=0.0))
    net = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    per_rank = cfg.batch_size // world
    end = min(cfg.steps, cfg.stop_at) if cfg.stop_at else cfg.steps
    loader = torch.utils.data.DataLoader(train_ds, batch_sampler=_StepBatches(step, end, cfg.batch_size, rank, per_rank),
                                         num_workers=cfg.workers, collate_fn=_stack,
                                         persistent_workers=False, prefetch_factor=4 if cfg.workers else None)
    bar = None
    if progress and rank == 0:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.steps, initial=step, desc=f"train {cfg.kind}/{profile}", dynamic_ncols=True)
    _train_mode(model, cfg.freeze)
    t0 = time.perf_counter()
    criterion = LOSSES[cfg.loss]
    for b in loader:
        b = {k: v.to(device, dtype) for k, v in b.items()}
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        if aux:
            logits, maps = net(b["z_t"], b["z_prev"], b["x_prev"], return_maps=True, logits=True)
            main = criterion(logits, b["target"])
            streams = heads(maps)
            parts = {k: criterion(v, b["target"]) for k, v in streams.items()}
            loss = main + cfg.aux_weight * sum(parts.values())
        else:
            logits = net(b["z_t"], b["z_prev"], b["x_prev"], logits=True)
            main = loss = criterion(logits, b["target"])
            parts = {}
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # one update with a non-finite loss or gradient would make every weight NaN for good
        # (and every later checkpoint with it): skip it, and say so in the history and the log
        grads = [p.grad for p in params if p.grad is not None]
        finite = bool(torch.isfinite(loss.detach())) and bool(torch.isfinite(torch.nn.utils.get_total_norm(grads)))
        if finite:
            opt.step()
        step += 1
        rec = {"step": step, "loss": float(main.detach()), "lr": lr_at(step - 1, cfg), "seconds": time.perf_counter() - t0}
        rec.update({f"loss_{k}": float(v.detach()) for k, v in parts.items()})
        if not finite:
            rec["skipped"] = "non-finite loss or gradient: no update"
            if rank == 0:
                log(f"step {step}: non-finite loss or gradient, update skipped")
        if branch_note:
            rec.update(branch_note)
            branch_note = None
        if init_note:
            rec.update(init_note)
            init_note = None
        if rank == 0 and (step % cfg.val_every == 0 or step == cfg.steps):
            rec.update(evaluate_loss(model, val_ds, device, loss=cfg.loss, dtype=dtype))
            _train_mode(model, cfg.freeze)   # evaluate_loss leaves the whole model in train mode
            if rec["val_loss"] < best:
                best = rec["val_loss"]
                save_checkpoint(out / "best.pt", model, step=step)
            streams_txt = "".join(f" {k[len('val_within_2_'):]} {rec[k]:.2f}" for k in rec if k.startswith("val_within_2_"))
            log(f"step {step}: loss {rec['loss']:.3f} val_loss {rec['val_loss']:.3f} "
                f"peak_err {rec['val_peak_err']:.2f} cells within2 {rec['val_within_2']:.2f}{streams_txt}")
        history.append(rec)
        if rank == 0 and (step % cfg.checkpoint_every == 0 or step == end):
            extra = {"heads": {k: v.detach().cpu() for k, v in heads.state_dict().items()}} if heads is not None else {}
            save_checkpoint(last, model, optimizer=opt.state_dict(), step=step,
                            history=json.dumps(history), train_config=json.dumps(asdict(cfg)), **extra)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{rec['loss']:.3f}")
    if bar is not None:
        bar.close()
    if distributed:
        dist.barrier()
    return {"history": history, "best_val_loss": best, "model": model, "profile": profile}
