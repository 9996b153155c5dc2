"""Saving and loading model checkpoints, with clear errors for missing, corrupt or mismatched files.

A checkpoint is a ``torch.save``'d dict::

    {"format": "amnet-edu/1", "kind": "amnet" | "anet", "config": ModelConfig.to_dict(),
     "state_dict": ..., "meta": {...}}          # training checkpoints add optimizer state etc.

It is written to a temporary file and renamed, so an interrupted save never leaves a truncated
checkpoint behind, and read with ``weights_only=True`` (no code runs on loading).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .config import ModelConfig
from .model.amnet import MODEL_KINDS

__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint", "pretrained_path", "WEIGHTS_DIR"]

FORMAT = "amnet-edu/1"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def save_checkpoint(path, model: torch.nn.Module, **extra) -> Path:
    """Write ``model`` (its kind, config and weights) plus ``extra`` entries to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    data = {"format": FORMAT, "kind": model.kind, "config": model.cfg.to_dict(), "state_dict": state, **extra}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(path) -> dict:
    """The raw checkpoint dict, validated; ``FileNotFoundError`` / ``ValueError`` name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, random bytes, pickle with code...
        raise ValueError(f"{path} is not a readable amnet-edu checkpoint (corrupt or truncated?): {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{path} is not an amnet-edu checkpoint (format {found!r}, expected {FORMAT!r})")
    for key in ("kind", "config", "state_dict"):
        if key not in data:
            raise ValueError(f"{path}: checkpoint lacks {key!r}")
    return data


def load_checkpoint(path, device="cpu") -> torch.nn.Module:
    """Rebuild the model stored in ``path`` (its kind and config) and load its weights."""
    data = read_checkpoint(path)
    kind = data["kind"]
    if kind not in MODEL_KINDS:
        raise ValueError(f"{path}: unknown model kind {kind!r}")
    try:
        cfg = ModelConfig.from_dict(data["config"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: bad model config: {exc}") from exc
    model = MODEL_KINDS[kind](cfg)
    own, theirs = model.state_dict(), data["state_dict"]
    missing = [k for k in own if k not in theirs]
    unexpected = [k for k in theirs if k not in own]
    mismatched = [k for k in own if k in theirs and own[k].shape != theirs[k].shape]
    if missing or unexpected or mismatched:
        raise ValueError(f"{path}: weights do not match a {kind} model with this config "
                         f"(missing {missing[:5]}, unexpected {unexpected[:5]}, wrong shape {mismatched[:5]})")
    model.load_state_dict(theirs)
    return model.to(device).eval()


def pretrained_path(kind: str, profile: str = "cpu") -> Path:
    """Path of the weights shipped inside the package for ``kind`` and ``profile``."""
    kind = str(kind).lower()
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {sorted(MODEL_KINDS)}")
    path = WEIGHTS_DIR / f"{kind}_{profile}.pt"
    if not path.is_file():
        shipped = sorted(p.name for p in WEIGHTS_DIR.glob("*.pt"))
        raise FileNotFoundError(f"no shipped weights for {kind!r} with the {profile!r} profile at {path} "
                                f"(shipped: {shipped or 'none'}); train them with `amnet-edu train --kind {kind} --profile {profile}`")
    return path
