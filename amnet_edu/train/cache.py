"""A bounded cache of target-centred regions for training at scale (as pysot pre-crops).

Decoding H.264 video is sequential and a frame of 640 x 360 is 0.7 MB, so keeping a whole
collection's frames in memory is 15 GB. Training never looks further from the target than a
ROI (``roi_factor`` template sides) plus the tracking error, and never at more detail than the
template's ``T`` pixels per template side. So each annotated frame is decoded once and only the
square around its own target is kept:

* side ``extent * s`` frame pixels (``s`` = the template side of that frame's box,
  ``tracking.crops.template_side``), centred on the box;
* stored at ``N = round(extent * T * resolution)`` pixels (``resolution`` > 1 leaves head-room for
  the state's size error and scale augmentation).

A triplet's crops are then cut from these regions in *frame* coordinates (``CachedSource.crop``),
so a ROI centred on the target at ``t-1`` can be cut from frame ``t``'s region as long as the
motion plus the state's error stays inside it (``extent = 6`` vs a ROI of 3: up to 1.5 template
sides); beyond it the crop is padded with the frame's mean colour, as the tracker pads at the
image border. ``CropCache.outside_fraction`` measures how often that happens.

The regions live in one ``uint8`` array ``[frames, N, N, 3]`` written to a file and memory-mapped
(``numpy.memmap``): DataLoader worker processes share the operating system's page cache instead
of each holding a copy. At the cpu profile (T = 32) with the defaults, ``N = 240``: 173 kB per
frame, 3.3 GB for the 19k annotated frames of the ``train`` split. Files are keyed by the
sequences, their box files and the cache's settings, so a changed setting builds a new file.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..tracking.crops import channel_means, crop_square, template_side
from .triplets import annotated_frames

__all__ = ["CacheConfig", "CropCache", "CachedSource", "default_cache_dir"]


@dataclass(frozen=True)
class CacheConfig:
    extent: float = 6.0        # cached region side, in template sides (a ROI is roi_factor = 3)
    resolution: float = 1.25   # cached pixels per template pixel at the frame's own box size
    context: float = 0.5       # template context (the tracker's, ``crops.template_side``)


def default_cache_dir() -> Path:
    """``$AMNET_EDU_CACHE`` or ``~/.cache/amnet_edu``."""
    return Path(os.environ.get("AMNET_EDU_CACHE", Path.home() / ".cache" / "amnet_edu")).expanduser()


class CropCache:
    """Target-centred regions of every annotated frame of ``sequences``, in one memory-mapped file.

    ``regions`` [M, N, N, 3] uint8; per region: ``seq`` (index into ``names``), ``frame`` (index
    in its sequence), ``origin`` [M, 2] (frame position of the region's corner), ``scale`` [M]
    (frame pixels per region pixel), ``mean`` [M, 3] (the frame's mean colour).
    """

    def __init__(self, path: Path):
        meta = json.loads(Path(str(path) + ".json").read_text())
        self.path, self.meta = Path(path), meta
        self.names, self.size = meta["names"], int(meta["size"])
        arrays = np.load(str(path) + ".npz")
        self.seq, self.frame = arrays["seq"], arrays["frame"]
        self.origin, self.scale, self.mean = arrays["origin"], arrays["scale"], arrays["mean"]
        self.boxes = [arrays[f"boxes_{k}"] for k in range(len(self.names))]
        self.regions = np.memmap(path, dtype=np.uint8, mode="r", shape=(len(self.seq), self.size, self.size, 3))
        # (sequence, frame) -> region row
        self.index = [dict() for _ in self.names]
        for row, (k, i) in enumerate(zip(self.seq.tolist(), self.frame.tolist())):
            self.index[k][i] = row

    @property
    def nbytes(self) -> int:
        return int(self.regions.size)

    @classmethod
    def build(cls, sequences, template_size: int, config: CacheConfig = CacheConfig(), cache_dir=None,
              log=print) -> "CropCache":
        """Decode ``sequences`` once and store their regions; reuse the file when it exists."""
        cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        size = int(round(config.extent * template_size * config.resolution))
        key = hashlib.sha256(json.dumps({"cfg": asdict(config), "T": template_size, "seqs": [
            (s.name, _fingerprint(s)) for s in sequences]}, sort_keys=True).encode()).hexdigest()[:16]
        path = cache_dir / f"regions_{size}_{key}.u8"
        if Path(str(path) + ".json").exists():
            return cls(path)
        cache_dir.mkdir(parents=True, exist_ok=True)
        # two runs started together (AMNet and ANet-only) decode once: the second waits for the first
        with open(str(path) + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if Path(str(path) + ".json").exists():
                return cls(path)
            return cls._write(path, sequences, template_size, config, size, log)

    @classmethod
    def _write(cls, path, sequences, template_size, config, size, log) -> "CropCache":
        rows = [(k, i) for k, s in enumerate(sequences) for i in annotated_frames(s.boxes)]
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        regions = np.memmap(tmp, dtype=np.uint8, mode="w+", shape=(max(len(rows), 1), size, size, 3))
        origin = np.zeros((len(rows), 2))
        scale = np.zeros(len(rows))
        mean = np.zeros((len(rows), 3))
        r = 0
        for k, s in enumerate(sequences):
            wanted = set(annotated_frames(s.boxes).tolist())
            for i, frame in enumerate(s.frames()):
                if i not in wanted:
                    continue
                x, y, w, h = s.boxes[i]
                side = config.extent * template_side(w, h, config.context)
                m = channel_means(frame)
                c = (x + w / 2.0, y + h / 2.0)
                regions[r] = crop_square(frame, c, side, size, m)
                origin[r] = (c[0] - side / 2.0, c[1] - side / 2.0)
                scale[r], mean[r] = side / size, m
                r += 1
            if log:
                log(f"cache: {s.name}: {len(wanted)} regions")
        if r != len(rows):
            raise ValueError(f"decoded {r} annotated frames, expected {len(rows)} (a video shorter than its boxes?)")
        regions.flush()
        del regions
        np.savez(str(path) + ".npz", seq=np.array([k for k, _ in rows], dtype=np.int32),
                 frame=np.array([i for _, i in rows], dtype=np.int32), origin=origin, scale=scale, mean=mean,
                 **{f"boxes_{k}": s.boxes for k, s in enumerate(sequences)})
        os.replace(tmp, path)
        # the json is written last: its presence marks a complete cache
        Path(str(path) + ".json").write_text(json.dumps({"names": [s.name for s in sequences], "size": size,
                                                          "template_size": template_size, "config": asdict(config)}))
        return cls(path)

    def sources(self) -> list["CachedSource"]:
        return [CachedSource(self, k) for k in range(len(self.names))]

    def outside_fraction(self, center, side: float, row: int) -> float:
        """Fraction of a crop (frame ``center``, ``side``) that falls outside region ``row``."""
        o, sc = self.origin[row], self.scale[row]
        lo = (np.asarray(center) - side / 2.0 - o) / sc
        hi = lo + side / sc
        inside = np.prod(np.clip(np.minimum(hi, self.size) - np.maximum(lo, 0), 0, None))
        return float(1.0 - inside / (side / sc) ** 2)


class CachedSource:
    """A ``FrameSource``-like view of one cached sequence: ``boxes``, ``valid``, ``crop``, ``mean``,
    ``states``."""

    def __init__(self, cache: CropCache, k: int):
        self.cache, self.k = cache, k
        self.name = cache.names[k]
        self.boxes = cache.boxes[k]
        self.valid = np.array(sorted(cache.index[k]), dtype=np.int64)
        self.states = None            # a tracker's boxes per frame [N, 4] (``rollout_prob``)

    def mean(self, i: int) -> np.ndarray:
        return self.cache.mean[self.cache.index[self.k][i]]

    def crop(self, i: int, center, side: float, out_size: int, pad=None) -> np.ndarray:
        """The crop ``crop_square(frame_i, center, side, out_size)`` would give, from the cached region."""
        row = self.cache.index[self.k][i]
        o, sc = self.cache.origin[row], self.cache.scale[row]
        c = ((center[0] - o[0]) / sc, (center[1] - o[1]) / sc)
        pad = self.cache.mean[row] if pad is None else pad
        return crop_square(np.asarray(self.cache.regions[row]), c, side / sc, out_size, pad)


_PROBE = 1 << 16


def _fingerprint(seq) -> str:
    """Sequence identity for the cache key: its boxes, and its video/frame files' names, sizes and
    first and last 64 KiB. Content, not modification times: a copy or a re-checkout of the same data
    (new times) reuses the cache, while a re-encoded video (new bytes) does not."""
    h = hashlib.sha256(np.ascontiguousarray(seq.boxes).tobytes())
    files = [seq.video_path] if seq.video_path is not None else list(seq.frame_files or [])
    for f in files[:1] + files[-1:]:
        size = Path(f).stat().st_size
        h.update(f"{Path(f).name}:{size}".encode())
        with open(f, "rb") as fh:
            h.update(fh.read(_PROBE))
            fh.seek(max(size - _PROBE, 0))
            h.update(fh.read(_PROBE))
    h.update(str(len(files)).encode())
    return h.hexdigest()[:16]
