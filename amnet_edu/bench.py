"""``python -m amnet_edu.bench`` (= ``amnet-edu bench``): where the forward time goes.

Prints, for each profile, the median forward time at batch 1 of every component and of the
whole AMNet and ANet-only, the direct / FFT cross-correlation time ratio, and the end-to-end
tracking speed (crops + network + peak search) on a synthetic sequence. A benchmark, not a
test: the figures depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from .config import get_config
from .device import keep_freed_memory
from .model import build_model, xcorr_direct, xcorr_fft

__all__ = ["median_ms", "component_times", "tracking_fps", "main"]


def median_ms(fn, repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


@torch.inference_mode()
def component_times(profile: str, repeat: int = 15, direct: bool = True, device="cpu") -> dict:
    """Median milliseconds per component (batch 1) for ``profile``."""
    cfg = get_config(profile)
    T, R = cfg.template_size, cfg.roi_size
    g = torch.Generator().manual_seed(0)
    z = torch.rand(1, 3, R, R, generator=g).to(device)
    zp = torch.rand(1, 3, R, R, generator=g).to(device)
    x = torch.rand(1, 3, T, T, generator=g).to(device)
    amnet = build_model("amnet", cfg, seed=0).to(device).eval()
    anet_only = build_model("anet", cfg, seed=0).to(device).eval()
    bb, mnet = amnet.anet.backbone, amnet.mnet
    zf, xf = bb(z), bb(x)
    both = torch.cat([z, zp]).contiguous(memory_format=torch.channels_last)  # as MNet feeds it
    c = mnet.contrast(both)
    ct, cp = c.chunk(2)
    o_sf = mnet.spotlight(ct, cp)
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)

    def t(fn, n=repeat):
        return median_ms(lambda: (fn(), sync()), repeat=n)

    out = {
        "backbone (ROI)": t(lambda: bb(z)),
        "backbone (template)": t(lambda: bb(x)),
        "xcorr FFT (3 levels)": t(lambda: xcorr_fft(zf, xf, cfg.level_channels)),
        "deep contrast (both ROIs)": t(lambda: mnet.contrast(both)),
        "Spotlight Filtering": t(lambda: mnet.spotlight(ct, cp)),
        "suppression/enhancement": t(lambda: mnet.suppression(o_sf)),
        "MNet": t(lambda: mnet(z, zp)),
        "ANet": t(lambda: amnet.anet(z, x)),
        "AMNet (whole forward)": t(lambda: amnet(z, zp, x)),
        "ANet-only (whole forward)": t(lambda: anet_only(z, zp, x)),
    }
    if direct:
        out["xcorr direct (3 levels)"] = t(lambda: xcorr_direct(zf, xf, cfg.level_channels), n=3)
    return out


def tracking_fps(kind: str, profile: str, frames: int = 60, device="cpu") -> float:
    """End-to-end frames per second of ``Tracker.update`` on a generated 240x320 sequence."""
    from .data import make_sequence
    from .tracking import Tracker

    seq = make_sequence(7, num_frames=frames)
    tracker = Tracker(build_model(kind, profile, seed=0), device=device)
    imgs = [seq.frame(i) for i in range(len(seq))]
    _, seconds = tracker.track(imgs, seq.boxes[0])
    return 1.0 / float(np.median(seconds[1:]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="amnet-edu bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profiles", nargs="+", default=["cpu", "paper"], choices=["cpu", "paper"])
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--no-direct", action="store_true", help="skip the slow direct cross-correlation")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--keep-malloc-default", action="store_true",
                   help="do not call amnet_edu.device.keep_freed_memory (to measure its effect)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if not a.keep_malloc_default and str(a.device).startswith("cpu"):
        keep_freed_memory()  # as the tracker and the trainer do on a CPU
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {a.device}; "
          f"median of {a.repeat} runs, batch 1 (ms)")
    results = {prof: component_times(prof, a.repeat, not a.no_direct, a.device) for prof in a.profiles}
    names = list(next(iter(results.values())))
    head = "| component | " + " | ".join(f"{p} ({get_config(p).template_size}/{get_config(p).roi_size})" for p in a.profiles) + " |"
    print(head)
    print("|" + "---|" * (len(a.profiles) + 1))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{results[p][n]:.1f}" for p in a.profiles) + " |")
    if not a.no_direct:
        print("| direct / FFT xcorr ratio | " + " | ".join(
            f"{results[p]['xcorr direct (3 levels)'] / results[p]['xcorr FFT (3 levels)']:.0f}x" for p in a.profiles) + " |")
    for prof in a.profiles:
        for kind in ("amnet", "anet"):
            print(f"tracking FPS ({kind}, {prof} profile, end to end, 240x320 frames): "
                  f"{tracking_fps(kind, prof, device=a.device):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
