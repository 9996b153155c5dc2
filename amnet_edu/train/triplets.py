"""Training triplets ``(z_t, z_{t-1}, x_{t-1})`` and their Gaussian target maps (Sections 3, 4.1-4.2).

A sample imitates one tracking step. From a sequence with ground truth, frames ``a`` (= t-1)
and ``t = a + gap`` are drawn; the tracker's state at ``a`` is the ground truth *plus the error
real tracking has* (centre offset, size error). From that state, exactly as the tracker does
(``tracking.crops``): the template from frame ``a``, and the two ROIs (3x the template side, the
same coordinates) from frames ``t`` and ``a``.

``JitterConfig.template_error=0`` cuts the template on the *true* box instead (SiamFC's exemplar):
the label is then exactly where the template's centre content moved, a pure matching task,
whereas with the default (1) the label is off the matching peak by the state's error (~2 cells
per axis), so the network must also learn to re-centre on the object. We tried both (ours, 1000
steps each, otherwise the shipped command): with 0 the validation peak error fell from 2.6 to
0.96 cells, but tracking got *worse* on the tuning sequences (mean success AUC of bolt1, car1,
zebrafish1 and the three ``data_samples``: AMNet 0.293 vs 0.346, ANet-only 0.274 vs 0.300): the
tracker's template *is* cut at its erroneous state, and a pure matcher never learns to correct
that error, so it drifts. The default stays 1. The target map ``O_gt`` (eq. 8) is a 2-D Gaussian
peaked at the response-map cell where the ground-truth centre at ``t`` falls.

Jitter (``JitterConfig``): centre error and size error of the state, frame gaps of 1..``max_gap``
(faster apparent motion), and photometric changes applied to all three patches alike
(brightness, contrast, grayscale, as in thermal footage) plus horizontal flips.

Everything is a pure function of ``(seed, index)``, so a dataset item is the same in every
process: resumed and distributed training see exactly the data a single run would.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..config import ModelConfig
from ..model.amnet import roi_to_cell
from ..tracking.crops import channel_means, crop_square, frame_to_crop, template_side

__all__ = ["JitterConfig", "gaussian_map", "sample_triplet", "TripletDataset", "FrameSource"]


@dataclass(frozen=True)
class JitterConfig:
    max_gap: int = 3              # frames between t-1 and t (1 = consecutive)
    center_error: float = 0.12    # std of the state's centre error, in units of sqrt(w h)
    size_error: float = 0.08      # std of the state's log-size error
    brightness: float = 0.12      # std of an additive brightness change (fraction of 255)
    contrast: float = 0.12        # std of a multiplicative contrast change
    gray_prob: float = 0.1        # probability of turning the triplet grayscale
    flip_prob: float = 0.5        # probability of a horizontal flip
    template_error: float = 1.0   # fraction of the state's centre error the template shares:
                                  # 1 = cut at the erroneous state like the ROIs, as the tracker
                                  # cuts it (the shipped weights); 0 = centred on the true box
                                  # (SiamFC's exemplar), see the module docstring
    context: float = 0.5          # template context (must match the tracker's)
    roi_factor: float = 3.0       # ROI side / template side (the paper's 3x)


def gaussian_map(size: int, center_ij, sigma: float) -> np.ndarray:
    """``O_gt`` of eq. (8): ``exp(-((i - ci)^2 + (j - cj)^2) / (2 sigma^2))`` on a ``size x size`` grid."""
    ii = np.arange(size, dtype=np.float32)[:, None]
    jj = np.arange(size, dtype=np.float32)[None, :]
    ci, cj = center_ij
    return np.exp(-((ii - ci) ** 2 + (jj - cj) ** 2) / (2.0 * sigma ** 2)).astype(np.float32)


class FrameSource:
    """A sequence's frames and boxes for sampling: frames decoded once and kept in memory."""

    def __init__(self, name: str, frames, boxes: np.ndarray):
        self.name = name
        self.frames = frames          # list/array of RGB uint8 frames, or a Sequence
        self.boxes = np.asarray(boxes, dtype=np.float64)
        valid = np.all(np.isfinite(self.boxes), axis=1) & (self.boxes[:, 2] > 1) & (self.boxes[:, 3] > 1)
        self.valid = np.flatnonzero(valid)
        self._cache = {}

    def frame(self, i: int) -> np.ndarray:
        if isinstance(self.frames, (list, np.ndarray)):
            return self.frames[i]
        if i not in self._cache:
            self._cache[i] = self.frames.frame(i)
        return self._cache[i]

    @classmethod
    def from_sequence(cls, seq, boxes=None) -> "FrameSource":
        return cls(seq.name, seq, seq.boxes if boxes is None else boxes)


def sample_triplet(src: FrameSource, cfg: ModelConfig, rng: np.random.Generator,
                   jitter: JitterConfig = JitterConfig()) -> dict:
    """One training sample: uint8 patches ``z_t``, ``z_prev`` [R, R, 3], ``x_prev`` [T, T, 3], ``target`` [H, H]."""
    valid = src.valid
    if valid.size < 2:
        raise ValueError(f"sequence {src.name!r} has fewer than two annotated frames")
    for _ in range(20):
        a = int(valid[rng.integers(0, valid.size - 1)])
        gap = int(rng.integers(1, jitter.max_gap + 1))
        t = min(a + gap, int(valid[-1]))
        if t > a and np.all(np.isfinite(src.boxes[t])):
            break
    else:
        a, t = int(valid[0]), int(valid[1])
    x, y, w, h = src.boxes[a]
    scale = np.sqrt(w * h)
    cx = x + w / 2 + rng.normal(0, jitter.center_error) * scale
    cy = y + h / 2 + rng.normal(0, jitter.center_error) * scale
    ew, eh = w * np.exp(rng.normal(0, jitter.size_error)), h * np.exp(rng.normal(0, jitter.size_error))
    T, R = cfg.template_size, cfg.roi_size
    s = template_side(ew, eh, jitter.context)
    S = jitter.roi_factor * s
    f_prev, f_t = src.frame(a), src.frame(t)
    pad = channel_means(f_prev)
    # The label is where the target is at t: with template_error=1 that is the template's
    # content displaced *and* re-centred on the object, with 0 just the content's displacement.
    f = jitter.template_error
    tx, ty = (1 - f) * (x + w / 2) + f * cx, (1 - f) * (y + h / 2) + f * cy
    x_prev = crop_square(f_prev, (tx, ty), s, T, pad)
    z_prev = crop_square(f_prev, (cx, cy), S, R, pad)
    z_t = crop_square(f_t, (cx, cy), S, R, pad)
    gx, gy, gw, gh = src.boxes[t]
    u, v = frame_to_crop(gx + gw / 2, gy + gh / 2, (cx, cy), S, R)
    ci, cj = roi_to_cell(u, v, T)
    patches = [z_t, z_prev, x_prev]
    if rng.random() < jitter.flip_prob:
        patches = [p[:, ::-1] for p in patches]
        cj = (cfg.response_size - 1) - cj
    patches = _photometric(patches, rng, jitter)
    target = gaussian_map(cfg.response_size, (ci, cj), cfg.gaussian_sigma * T)
    return {"z_t": patches[0], "z_prev": patches[1], "x_prev": patches[2], "target": target,
            "center": np.array([ci, cj], dtype=np.float32)}


def _photometric(patches, rng, jitter: JitterConfig):
    gain = np.exp(rng.normal(0, jitter.contrast))
    bias = rng.normal(0, jitter.brightness) * 255
    gray = rng.random() < jitter.gray_prob
    out = []
    for p in patches:
        q = p.astype(np.float32)
        if gray:
            q = np.repeat(q @ np.array([[0.299], [0.587], [0.114]], dtype=np.float32), 3, axis=2)
        q = (q - 128.0) * gain + 128.0 + bias
        out.append(np.clip(q, 0, 255).astype(np.uint8))
    return out


class TripletDataset(torch.utils.data.Dataset):
    """Item ``k`` is ``sample_triplet`` of a source chosen by ``(seed, k)``: deterministic per index.

    ``weights`` (one per source) set how often each source is drawn. Returns float tensors in
    [0, 1]: ``z_t``, ``z_prev`` [3, R, R], ``x_prev`` [3, T, T], ``target`` [1, H, H].
    """

    def __init__(self, sources, cfg: ModelConfig, length: int, seed: int = 0,
                 jitter: JitterConfig = JitterConfig(), weights=None):
        self.sources = [s for s in sources if s.valid.size >= 2]
        if not self.sources:
            raise ValueError("no usable training sequence (each needs at least two annotated frames)")
        self.cfg, self.length, self.seed, self.jitter = cfg, int(length), int(seed), jitter
        w = np.ones(len(self.sources)) if weights is None else np.asarray(
            [wt for s, wt in zip(sources, weights) if s.valid.size >= 2], dtype=np.float64)
        self.p = w / w.sum()

    def __len__(self):
        return self.length

    def __getitem__(self, k: int) -> dict:
        rng = np.random.default_rng([self.seed, int(k)])
        src = self.sources[int(rng.choice(len(self.sources), p=self.p))]
        s = sample_triplet(src, self.cfg, rng, self.jitter)
        to_t = lambda p: torch.from_numpy(np.ascontiguousarray(p)).permute(2, 0, 1).float().div_(255.0)
        return {"z_t": to_t(s["z_t"]), "z_prev": to_t(s["z_prev"]), "x_prev": to_t(s["x_prev"]),
                "target": torch.from_numpy(s["target"])[None], "center": torch.from_numpy(s["center"])}
