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


_ALLOCATOR_TUNED = False


def keep_freed_memory() -> bool:
    """Ask glibc's ``malloc`` to keep freed memory for reuse instead of handing it back to the OS.

    Why: a forward pass allocates and frees tens of megabytes per tensor (the FFT spectra of 190
    feature maps: 28 MB each at the paper's sizes). By default glibc serves such blocks with
    ``mmap`` and returns them on ``free``, so every pass pays the kernel to zero fresh pages again:
    on our 2-core CPU that was *half* of the FFT correlation's time (paper profile: 62 -> 31 ms
    per call; a training batch of 16: 340 -> 136 ms, our measurements). With ``mmap`` off for the
    heap and a 1 GiB trim threshold, freed blocks are reused and the pages stay mapped.

    It changes a process-wide setting (like ``torch.set_num_threads``), so the tracker, the trainer
    and the benchmark call it only when they run on the CPU; the cost is that the process keeps
    up to ~1 GiB of freed memory. Set ``AMNET_EDU_KEEP_FREED_MEMORY=0`` to leave ``malloc`` alone.
    Returns True when the setting was applied (Linux with glibc), False otherwise (a no-op).
    """
    global _ALLOCATOR_TUNED
    import os
    import sys

    if _ALLOCATOR_TUNED:
        return True
    if os.environ.get("AMNET_EDU_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
        ok = libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 and libc.mallopt(M_MMAP_MAX, 0) == 1
    except (OSError, AttributeError):   # not glibc (musl, macOS...): nothing to do
        return False
    _ALLOCATOR_TUNED = ok
    return ok
