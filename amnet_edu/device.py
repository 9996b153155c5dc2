"""Automatic device choice: CUDA when present, then Apple's MPS, else the CPU."""
from __future__ import annotations

import torch


def default_device(prefer: str | None = None) -> torch.device:
    """The device to use: ``prefer`` if given (``"cpu"``, ``"cuda"``, ``"cuda:1"``...), else the best present."""
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_profile(device: torch.device | str | None = None) -> str:
    """The model profile that fits a device: the paper's sizes on a GPU, the reduced one on a CPU."""
    dev = torch.device(device) if device is not None else default_device()
    return "paper" if dev.type == "cuda" else "cpu"
