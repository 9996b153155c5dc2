"""``python -m amnet_edu.bench`` (= ``amnet-edu bench``): where the forward time goes.

Prints, for each profile, the median forward time at batch 1 of every component and of the
whole AMNet and ANet-only, the direct / FFT cross-correlation time ratio, and a *bare backbone*
timed in the same run: Table 1's six convolutions as a plain stack, nothing else
(``bare_backbone``), with AMNet's forward as a multiple of it (a ratio, so it carries from one
machine to another better than milliseconds do). Then the end-to-end tracking speed (crops +
network + online head + peak search) of AMNet at both profiles, ANet-only and OpenCV's CSRT on the
same frames, each network also without the online head (``:online=none``), interleaved round by
round (``side_by_side_fps``), and training throughput (``training_throughput``:
samples per second of whole optimiser steps, data loading included). A benchmark, not a test: the
figures depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np
import torch

from .config import ModelConfig, get_config
from .device import keep_freed_memory
from .model import build_model, xcorr_direct, xcorr_fft
from .model.xcorr import level_sums, template_spectrum

__all__ = ["median_ms", "bare_backbone", "xcorr_cost", "component_times", "tracking_fps", "side_by_side_fps",
           "training_throughput", "main"]


def median_ms(fn, repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def bare_backbone(cfg) -> torch.nn.Sequential:
    """Table 1's convolutions (``cfg.backbone``: kernel, channels, rate) with ReLUs, as a plain stack.

    The floor any model built on this backbone pays: no lateral concatenation, no correlation,
    no motion stream. Same layout as ``SiameseAtrousBackbone`` (channels_last), so the ratio
    measures what AMNet adds, not a memory-format difference.
    """
    layers, c_in = [], 3
    for k, c_out, rate in cfg.backbone:
        layers += [torch.nn.Conv2d(c_in, c_out, k, padding=rate * (k - 1) // 2, dilation=rate), torch.nn.ReLU(inplace=True)]
        c_in = c_out
    return torch.nn.Sequential(*layers[:-1]).to(memory_format=torch.channels_last)


def xcorr_cost(cfg, batch: int = 1) -> dict:
    """Arithmetic (GFLOP) and memory traffic (MB) of the parts of the FFT correlation, per forward.

    A model, to set measured times against (``floor``): a real 2-D FFT of ``N = H W`` points is
    taken as ``2.5 N log2 N`` flops (half of a complex one's ``5 N log2 N``); traffic counts each
    float32 read and written once (4 bytes real, 8 complex). On an ``R x R`` grid with ``C``
    channels in ``G`` levels and ``F = R (R // 2 + 1)`` frequencies:

    * ROI transform: ``C`` transforms, reads ``C R^2`` reals, writes ``C F`` complex;
    * template transform: the same (a tracker with an unchanged template skips it);
    * product + level sums: ``8 C F`` flops (complex multiply-add); reads both spectra and writes
      the ``G`` sums (``level_sums``: each level's product is summed right away, while in cache);
    * inverse: ``G`` transforms, reads ``G F`` complex, writes ``G R^2`` reals.
    """
    R, C, G = cfg.roi_size, sum(cfg.level_channels), len(cfg.level_channels)
    N, F = R * R, R * (R // 2 + 1)
    fft = 2.5 * N * np.log2(N)
    parts = {
        "ROI transform": (C * fft, C * (4 * N + 8 * F)),
        "template transform": (C * fft, C * (4 * N + 8 * F)),
        "product + level sums": (8 * C * F, (2 * C + G) * F * 8),
        "inverse (levels)": (G * fft, G * (8 * F + 4 * N)),
    }
    return {k: {"gflop": batch * f / 1e9, "mb": batch * b / 1e6} for k, (f, b) in parts.items()}


STAGE_LABELS = {"paper": "suppression/enhancement", "dilated": "motion context", "none": "no pyramid"}


@functools.lru_cache(maxsize=None)
def _shipped_motion_pyramid(default: str) -> str:
    """The shipped AMNet's ``motion_pyramid`` (read once), or ``default`` without shipped weights."""
    from .checkpoint import pretrained_path, read_checkpoint

    try:
        return ModelConfig.from_dict(read_checkpoint(pretrained_path("amnet", "cpu"))["config"]).motion_pyramid
    except (FileNotFoundError, ValueError):
        return default


def bench_config(profile: str, motion_pyramid: str | None = None):
    """``profile``'s ``ModelConfig`` with MNet's stage after Spotlight Filtering as shipped
    (``motion_pyramid=None``: the variant of the shipped AMNet weights), so the bench times the
    network the tracker runs."""
    cfg = get_config(profile)
    return cfg.replace(motion_pyramid=motion_pyramid or _shipped_motion_pyramid(cfg.motion_pyramid))


@torch.inference_mode()
def component_times(profile: str, repeat: int = 15, direct: bool = True, device="cpu",
                    motion_pyramid: str | None = "paper") -> dict:
    """Median milliseconds per component (batch 1) for ``profile``; MNet's last stage per
    ``motion_pyramid`` (``None``: as the shipped AMNet, ``bench_config``)."""
    cfg = bench_config(profile, motion_pyramid)
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
    Zf, Xc = torch.fft.rfft2(zf), template_spectrum(xf, R, R)
    S = level_sums(Zf, Xc, cfg.level_channels)
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)

    def t(fn, n=repeat):
        return median_ms(lambda: (fn(), sync()), repeat=n)

    bare = bare_backbone(cfg).to(device).eval()
    z_cl = z.contiguous(memory_format=torch.channels_last)
    out = {
        "bare Table-1 backbone (ROI)": t(lambda: bare(z_cl)),
        "backbone (ROI)": t(lambda: bb(z)),
        "backbone (template)": t(lambda: bb(x)),
        "xcorr FFT (3 levels)": t(lambda: xcorr_fft(zf, xf, cfg.level_channels)),
        "  xcorr: ROI transform": t(lambda: torch.fft.rfft2(zf)),
        "  xcorr: template transform": t(lambda: template_spectrum(xf, R, R)),
        "  xcorr: product + level sums": t(lambda: level_sums(Zf, Xc, cfg.level_channels)),
        "  xcorr: inverse (levels)": t(lambda: torch.fft.irfft2(S, s=(R, R))),
        "deep contrast (both ROIs)": t(lambda: mnet.contrast(both)),
        "Spotlight Filtering": t(lambda: mnet.spotlight(ct, cp)),
        STAGE_LABELS[cfg.motion_pyramid]: t(lambda: mnet.suppression(o_sf)),
        "MNet": t(lambda: mnet(z, zp)),
        "ANet": t(lambda: amnet.anet(z, x)),
        "AMNet (whole forward)": t(lambda: amnet(z, zp, x)),
        "ANet-only (whole forward)": t(lambda: anet_only(z, zp, x)),
    }
    if direct:
        out["xcorr direct (3 levels)"] = t(lambda: xcorr_direct(zf, xf, cfg.level_channels), n=3)
    return out


def _frames(frames: int, sequence=None):
    """``(images, first box)``: the first ``frames`` of a sequence folder, or a generated 240x320 one."""
    if sequence is not None:
        from .data import load_sequence

        seq = load_sequence(sequence)
        n = min(frames, len(seq))
        return [seq.frame(i) for i in range(n)], seq.boxes[0]
    from .data import make_sequence

    seq = make_sequence(7, num_frames=frames)
    return [seq.frame(i) for i in range(len(seq))], seq.boxes[0]


def _tracker(name: str, device="cpu"):
    """``"amnet/cpu"``, ``"anet/paper"``, ... (random weights: speed does not depend on them), with
    ``TrackerConfig`` changes after a colon (``"amnet/cpu:online=none"``), or an OpenCV kind
    (``"CSRT"``)."""
    from .evaluate.opencv_trackers import OPENCV_KINDS, OpenCVTracker
    from .evaluate.tune import parse_setting
    from .tracking import Tracker, TrackerConfig

    if name in OPENCV_KINDS:
        return OpenCVTracker(name)
    spec, _, changes = name.partition(":")
    kind, _, profile = spec.partition("/")
    config = TrackerConfig(**{k: v[0] for k, v in (parse_setting(c) for c in changes.split(",") if c)})
    return Tracker(build_model(kind, bench_config(profile or "cpu"), seed=0), config=config, device=device)


def tracking_fps(kind: str, profile: str, frames: int = 60, device="cpu") -> float:
    """End-to-end frames per second of ``Tracker.update`` on a generated 240x320 sequence."""
    return side_by_side_fps([f"{kind}/{profile}"], frames=frames, rounds=1, device=device)[f"{kind}/{profile}"]


def side_by_side_fps(names, frames: int = 60, rounds: int = 3, sequence=None, device="cpu") -> dict:
    """Median per-frame FPS of each tracker in ``names`` (see ``_tracker``) on the same frames.

    The trackers take turns, one whole pass each per round, so a slow spell of a shared machine
    falls on all of them alike; the median is over every update of every round (init excluded).
    """
    imgs, box = _frames(frames, sequence)
    trackers = {n: _tracker(n, device) for n in names}
    seconds = {n: [] for n in names}
    for _ in range(rounds):
        for n, tr in trackers.items():
            tr.init(imgs[0], box)     # the tracker protocol (evaluate.opencv_trackers), as OPE times it
            for img in imgs[1:]:
                t0 = time.perf_counter()
                tr.update(img)
                seconds[n].append(time.perf_counter() - t0)
    return {n: 1.0 / float(np.median(s)) for n, s in seconds.items()}


def training_throughput(profile: str = "cpu", kind: str = "amnet", steps: int = 8, batch_size: int = 16,
                        workers: int = 0, device=None) -> float:
    """Training samples per second: whole steps (batch building, forward, backward, Adam) of our
    recipe on generated sequences, the first step (allocation, warm-up) left out."""
    import tempfile

    from .train.sources import synthetic_sources
    from .train.trainer import TrainConfig, train

    with tempfile.TemporaryDirectory() as out:
        variant = {"motion_pyramid": bench_config(profile).motion_pyramid} if kind == "amnet" else {}
        cfg = TrainConfig.ours(kind=kind, profile=profile, steps=steps, batch_size=batch_size, val_every=10 ** 9,
                               checkpoint_every=10 ** 9, val_size=batch_size, out_dir=out, workers=workers,
                               device=device, model_changes=variant)
        hist = train(cfg, synthetic_sources(count=4, num_frames=30), progress=False, log=lambda *_: None)["history"]
    # "seconds" is the time since the loop started, at the end of each step
    return batch_size * (len(hist) - 1) / (hist[-1]["seconds"] - hist[0]["seconds"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="amnet-edu bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profiles", nargs="+", default=["cpu", "paper"], choices=["cpu", "paper"])
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--no-direct", action="store_true", help="skip the slow direct cross-correlation")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--frames", type=int, default=60, help="frames per tracking pass")
    p.add_argument("--rounds", type=int, default=3, help="tracking passes per tracker, interleaved")
    p.add_argument("--sequence", default=None, help="a sequence folder for the tracking speeds "
                   "(default: a generated 240x320 sequence)")
    p.add_argument("--train-steps", type=int, default=8, help="training steps timed (0: skip)")
    p.add_argument("--keep-malloc-default", action="store_true",
                   help="do not call amnet_edu.device.keep_freed_memory (to measure its effect)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if not a.keep_malloc_default and str(a.device).startswith("cpu"):
        keep_freed_memory()  # as the tracker and the trainer do on a CPU
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {a.device}; "
          f"MNet motion_pyramid={bench_config('cpu').motion_pyramid!r} (as shipped); "
          f"median of {a.repeat} runs, batch 1 (ms)")
    results = {prof: component_times(prof, a.repeat, not a.no_direct, a.device, motion_pyramid=None)
               for prof in a.profiles}
    names = list(next(iter(results.values())))
    head = "| component | " + " | ".join(f"{p} ({get_config(p).template_size}/{get_config(p).roi_size})" for p in a.profiles) + " |"
    print(head)
    print("|" + "---|" * (len(a.profiles) + 1))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{results[p][n]:.1f}" for p in a.profiles) + " |")
    if not a.no_direct:
        print("| direct / FFT xcorr ratio | " + " | ".join(
            f"{results[p]['xcorr direct (3 levels)'] / results[p]['xcorr FFT (3 levels)']:.0f}x" for p in a.profiles) + " |")
    print("| **AMNet / bare backbone** | " + " | ".join(
        f"{results[p]['AMNet (whole forward)'] / results[p]['bare Table-1 backbone (ROI)']:.2f}x" for p in a.profiles) + " |")
    print("\nFFT correlation against its arithmetic and memory traffic (xcorr_cost), as achieved rates")
    print("| part | " + " | ".join(f"{p} GFLOP/s | {p} GB/s" for p in a.profiles) + " |")
    print("|" + "---|" * (2 * len(a.profiles) + 1))
    costs = {p: xcorr_cost(get_config(p)) for p in a.profiles}
    for part in next(iter(costs.values())):
        cells = []
        for p in a.profiles:
            ms = results[p][f"  xcorr: {part}"]
            cells.append(f"{costs[p][part]['gflop'] / ms * 1e3:.1f} | {costs[p][part]['mb'] / ms:.1f}")
        print(f"| {part} | " + " | ".join(cells) + " |")
    # the default loop (with the online head) and, beside it, the loop without it
    names = [f"{k}/{p}{o}" for p in a.profiles for k in ("amnet", "anet") for o in ("", ":online=none")] + ["CSRT"]
    fps = side_by_side_fps(names, a.frames, a.rounds, a.sequence, a.device)
    where = a.sequence or "a generated 240x320 sequence"
    print(f"\ntracking, end to end, {a.frames} frames of {where}, {a.rounds} interleaved rounds (median FPS)")
    print("| tracker | FPS | / CSRT |")
    print("|---|---|---|")
    for n, f in fps.items():
        print(f"| {n} | {f:.1f} | {f / fps['CSRT']:.2f}x |")
    if a.train_steps > 1:
        for prof in a.profiles:
            sps = training_throughput(prof, steps=a.train_steps, device=a.device)
            print(f"training (AMNet, {prof} profile, our recipe, batch 16, {a.train_steps - 1} timed steps): "
                  f"{sps:.1f} samples/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
