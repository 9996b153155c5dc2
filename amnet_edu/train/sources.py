"""Where training triplets come from: the training collection (real clips, through the crop
cache), the short shared benchmark sequences, and generated synthetic ones; ``mix_weights``
mixes groups of sources by explicit weights."""
from __future__ import annotations

import numpy as np

from .triplets import FrameSource

__all__ = ["real_sources", "synthetic_sources", "collection_sources", "mix_weights", "attach_states",
           "TRAIN_SEQUENCES", "HELD_OUT_SEQUENCES"]

# The split of the shared tracking/ sequences: TRAIN_SEQUENCES are the default `--real` data
# (the previous cpu weights trained on them; the shipped ones trained on the training
# collection and saw none of these); HELD_OUT_SEQUENCES are the test set, never trained on
# nor used to choose anything.
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


def collection_sources(split: str, template_size: int, root=None, cache_dir=None, cache_config=None,
                       log=print) -> list:
    """The ``split`` (``"train"`` or ``"val"``) of the training collection as ``CachedSource`` s.

    Frames are decoded once into the crop cache (``train.cache``; built on first use, reused
    after); ``template_size`` is the profile's ``T``.
    """
    from ..data import load_collection
    from .cache import CacheConfig, CropCache

    seqs = load_collection(root, split=split)
    cache = CropCache.build(seqs, template_size, cache_config or CacheConfig(), cache_dir=cache_dir, log=log)
    return [s for s in cache.sources() if s.valid.size >= 2]


def mix_weights(groups: dict, per_sequence: str = "sqrt") -> tuple[list, np.ndarray]:
    """Flatten ``{group: (sources, share)}`` into ``(sources, weights)`` for ``TripletDataset``.

    Each group is drawn with probability ``share / sum(shares)`` (groups without sources are
    dropped and the rest renormalised). Inside a group a sequence is drawn in proportion to
    ``per_sequence`` of its annotated frames: ``"frames"`` (every frame equally likely),
    ``"sqrt"`` (long sequences count less than their length: the default, so a 3000-frame clip
    does not drown 60 short ones) or ``"uniform"``.
    """
    fn = {"frames": lambda n: float(n), "sqrt": lambda n: float(np.sqrt(n)), "uniform": lambda n: 1.0}
    if per_sequence not in fn:
        raise ValueError(f"per_sequence must be one of {sorted(fn)}, got {per_sequence!r}")
    live = {g: (list(srcs), float(share)) for g, (srcs, share) in groups.items() if len(srcs) and share > 0}
    if any(share < 0 for _, share in groups.values()):
        raise ValueError(f"source shares must be >= 0: {({g: v[1] for g, v in groups.items()})}")
    if not live:
        raise ValueError("no training data: every group is empty or has share 0")
    total = sum(share for _, share in live.values())
    sources, weights = [], []
    for srcs, share in live.values():
        w = np.array([fn[per_sequence](s.valid.size) for s in srcs])
        sources += srcs
        weights.append(share / total * w / w.sum())
    return sources, np.concatenate(weights)


def attach_states(sources, folder) -> dict:
    """Give each source the boxes a tracker reported on it (``JitterConfig.rollout_prob``).

    ``folder``: one tracker's results in the evaluation tools' layout
    (``<results>/<benchmark>/<tracker>``, one ``<sequence>.txt`` of 0-based ``x,y,w,h`` per frame,
    as ``amnet-edu evaluate --results`` writes them, ``evaluate.results``). A source whose name has a run there gets
    ``states`` [N, 4] (a run on a sequence must have one box per frame); the rest keep ``None``.
    Returns ``{"folder", "sequences", "sha256"}``: which runs were attached, for the training
    configuration (a resumed run refuses other states).
    """
    import hashlib
    from pathlib import Path

    from ..evaluate.results import has_result, read_result, result_paths

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"rollouts: no results folder {folder}")
    layout = (folder.parent.parent, folder.parent.name, folder.name)  # results_dir, benchmark, tracker
    h = hashlib.sha256()
    names = []
    for src in sorted(sources, key=lambda s: s.name):
        if not has_result(*layout, src.name):
            src.states = None
            continue
        states = read_result(*layout, src.name)["boxes"]
        if len(states) != len(src.boxes):
            raise ValueError(f"rollouts: {result_paths(*layout, src.name)['boxes']} has {len(states)} boxes, "
                             f"the sequence {len(src.boxes)} frames")
        src.states = states
        names.append(src.name)
        h.update(src.name.encode() + states.tobytes())
    if not names:
        raise ValueError(f"rollouts: {folder} holds no run on any training sequence "
                         f"(expected files like {sources[0].name}.txt)" if sources else "rollouts: no sources")
    return {"folder": str(folder), "sequences": len(names), "sha256": h.hexdigest()[:16]}
