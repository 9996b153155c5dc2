"""Where training triplets come from: shared real sequences and generated synthetic ones."""
from __future__ import annotations

import numpy as np

from .triplets import FrameSource

__all__ = ["real_sources", "synthetic_sources", "TRAIN_SEQUENCES", "HELD_OUT_SEQUENCES"]

# The split used for the shipped weights: the VOT2017 sequences (and the MOT17 cuts) train,
# every sequence of another benchmark edition is held out for evaluation.
TRAIN_SEQUENCES = ("vot2017_bolt1", "vot2017_car1", "vot2017_zebrafish1",
                   "mot17mini_MOT17-05", "mot17mini_MOT17-09", "otb_Dudek_first20")
HELD_OUT_SEQUENCES = ("otb_Human3_first199", "vot2014_car", "vot2017_bag", "vottir2016_horse")


def real_sources(names, root=None, max_side: int = 640) -> list[FrameSource]:
    """Load the named sequences under ``root`` (default: the shared data), frames in memory.

    Frames larger than ``max_side`` are downscaled (boxes with them) to bound memory; MOT
    sequences give one source per track.
    """
    import cv2
    from ..data import load_sequence, shared_data_root

    root = root or shared_data_root()
    if root is None:
        raise FileNotFoundError("no shared tracking data found; set AMNET_EDU_DATA or train on synthetic data only")
    out = []
    for name in names:
        seq = load_sequence(root / name)
        frames = []
        k = 1.0
        for i in range(len(seq)):
            f = seq.frame(i)
            k = min(1.0, max_side / max(f.shape[:2]))
            if k < 1.0:
                f = cv2.resize(f, (round(f.shape[1] * k), round(f.shape[0] * k)), interpolation=cv2.INTER_AREA)
            frames.append(f)
        tracks = seq.all_boxes.items() if seq.all_boxes else [(None, seq.boxes)]
        for tid, boxes in tracks:
            src = FrameSource(seq.name if tid is None else f"{seq.name}#{tid}", frames, np.asarray(boxes) * k)
            if src.valid.size >= 2:
                out.append(src)
    return out


def synthetic_sources(count: int, seed: int = 0, num_frames: int = 60, size=(240, 320)) -> list[FrameSource]:
    """``count`` generated sequences (seeds ``seed * 100000 + i``), every effect decided by its seed."""
    from ..data import make_sequence

    out = []
    for i in range(count):
        seq = make_sequence(seed * 100000 + i, num_frames=num_frames, size=size)
        out.append(FrameSource(seq.name, seq.images, seq.boxes))
    return out
