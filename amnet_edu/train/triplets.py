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

Negative pairs (``JitterConfig.negative_prob``, ours, after DaSiamRPN's distractor-aware
training): with that probability the template is cut from *another* sequence (a random annotated
frame, on its true box) and the target map is all zeros: the object is not in these ROIs, so no
cell may answer. Without them every training ROI contains the template's object, and a network
can score well by answering on whatever looks most like *an object*; a tracker then jumps to
look-alikes. Flips and photometric changes apply to the foreign template as to the others, so
nothing but its content tells it apart.

States from the tracker's own runs (``JitterConfig.rollout_prob``, ours; the remedy of
imitation learning for compounding errors, DAgger): Gaussian state errors are small and
symmetric, while a tracker's real errors are where it was fooled, on a look-alike or on the
background beside the object, so the ROIs of a failing tracker hold exactly the content a
network must learn to look past. A source may carry ``states`` [N, 4], the boxes a tracker
reported per frame (``sources.attach_states``); with that probability frame t-1 is drawn among
the frames whose recorded state is usable (``rollout_frames``: within reach of the label, and
at least ``rollout_min_error`` off the truth, where the tracker was going wrong rather than
following) and the state is the recorded one; the template is cut as for any sample.

Everything is a pure function of ``(seed, index)``, so a dataset item is the same in every
process: resumed and distributed training see exactly the data a single run would.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from ..config import ModelConfig
from ..model.amnet import roi_to_cell
from ..tracking.crops import channel_means, crop_square, frame_to_crop, template_side

__all__ = ["JitterConfig", "gaussian_map", "sample_triplet", "TripletDataset", "FrameSource", "recorded_state",
           "state_offset", "rollout_frames"]


@dataclass(frozen=True)
class JitterConfig:
    """How a triplet departs from a clean, centred tracking step (all in sampled frames).

    ``JitterConfig()`` is the paper's sampling (template cut at the erroneous state of
    frame ``t-1``, as the paper's tracker cuts it); ``JitterConfig.ours()``, the recipe of
    the shipped cpu weights, is for an anchored tracker (template from an earlier frame on
    the true box) with the augmentations the real data lacks. Knobs at 0 draw no random
    numbers, so adding one never changes the samples of a config that leaves it off.
    """

    max_gap: int = 3              # frames between t-1 and t (1 = consecutive)
    center_error: float = 0.12    # std of the state's centre error, in units of sqrt(w h)
    size_error: float = 0.08      # std of the state's log-size error
    brightness: float = 0.12      # std of an additive brightness change (fraction of 255)
    contrast: float = 0.12        # std of a multiplicative contrast change
    gray_prob: float = 0.1        # probability of turning the triplet grayscale
    flip_prob: float = 0.5        # probability of a horizontal flip
    template_error: float = 1.0   # fraction of the state's centre error the template
                                  # shares: 1 = cut at the erroneous state like the
                                  # ROIs, as the paper's tracker cuts it;
                                  # 0 = centred on the true box (SiamFC's exemplar), see
                                  # the module docstring
    template_gap: int = 0         # the template comes from up to this many annotated
                                  # frames before t-1 (0: from t-1, the paper; an
                                  # anchored tracker matches a template from much
                                  # earlier)
    blur_prob: float = 0.0        # probability of a Gaussian blur of z_t (motion,
                                  # defocus)
    blur_sigma: float = 1.5       # its largest std, in ROI pixels
    occlusion_prob: float = 0.0   # probability of an occluder over part of the target
                                  # in both ROIs
    shake: float = 0.0            # std of a camera shake between t-1 and t: z_t's crop
                                  # is moved by this many template sides (the label
                                  # moves with it)
    negative_prob: float = 0.0    # probability of a negative pair: the template from
                                  # another sequence, an all-zero target (needs two or
                                  # more sources; validation never draws them)
    rollout_prob: float = 0.0     # probability of a rollout sample: frame t-1 drawn among
                                  # those where the tracker's recorded state (the
                                  # source's ``states``) is usable, and that state taken
                                  # instead of the truth plus Gaussian errors (a source
                                  # without such frames keeps the Gaussian sample;
                                  # validation never draws them)
    rollout_min_error: float = 0.0  # usable: off the truth by at least this many template
                                  # sides (on the worse axis), the frames where the
                                  # tracker was going wrong; 0 = any
    rollout_reach: float = 1.0    # a recorded state is used only if its centre is within
                                  # this many template sides of the truth per axis (the
                                  # object's centre then lies on the response map) and its
                                  # size within a factor 1.5 of the truth's
    context: float = 0.5          # template context (must match the tracker's)
    roi_factor: float = 3.0       # ROI side / template side (the paper's 3x)

    @classmethod
    def paper(cls) -> "JitterConfig":
        """The paper's sampling: template cut at the (erroneous) state of frame t-1, like
        the ROIs."""
        return cls()

    @classmethod
    def ours(cls) -> "JitterConfig":
        """Sampling for an anchored tracker: template on the true box of a frame up to 50
        frames before t-1, tracking-sized state errors, blur, occluders and camera
        shake."""
        return cls(center_error=0.2, size_error=0.12, template_error=0.0, template_gap=50,
                   blur_prob=0.15, occlusion_prob=0.15, shake=0.05)


def annotated_frames(boxes) -> np.ndarray:
    """Indices of the frames a triplet may use: a finite box larger than one pixel each way."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.flatnonzero(np.all(np.isfinite(b), axis=1) & (b[:, 2] > 1) & (b[:, 3] > 1))


def gaussian_map(size: int, center_ij, sigma: float) -> np.ndarray:
    """``O_gt`` of eq. (8): ``exp(-((i - ci)^2 + (j - cj)^2) / (2 sigma^2))`` on a ``size x size`` grid."""
    ii = np.arange(size, dtype=np.float32)[:, None]
    jj = np.arange(size, dtype=np.float32)[None, :]
    ci, cj = center_ij
    return np.exp(-((ii - ci) ** 2 + (jj - cj) ** 2) / (2.0 * sigma ** 2)).astype(np.float32)


class FrameSource:
    """A sequence's frames and boxes for sampling: frames decoded once and kept in memory.

    The interface ``sample_triplet`` uses (``train.cache.CachedSource`` has the same): ``name``,
    ``boxes`` [N, 4], ``valid`` (indices of annotated frames), ``mean(i)`` (frame ``i``'s mean
    colour), ``crop(i, center, side, out_size)`` (``crops.crop_square`` of frame ``i``) and
    ``states`` (``None``, or a tracker's boxes [N, 4] for ``JitterConfig.rollout_prob``).
    """

    def __init__(self, name: str, frames, boxes: np.ndarray):
        self.name = name
        self.frames = frames          # list/array of RGB uint8 frames, or a Sequence
        self.boxes = np.asarray(boxes, dtype=np.float64)
        self.valid = annotated_frames(self.boxes)
        self.states = None            # a tracker's boxes per frame [N, 4] (``rollout_prob``)
        self._cache = {}

    def frame(self, i: int) -> np.ndarray:
        if isinstance(self.frames, (list, np.ndarray)):
            return self.frames[i]
        if i not in self._cache:
            self._cache[i] = self.frames.frame(i)
        return self._cache[i]

    def mean(self, i: int) -> np.ndarray:
        return channel_means(self.frame(i))

    def crop(self, i: int, center, side: float, out_size: int, pad=None) -> np.ndarray:
        f = self.frame(i)
        return crop_square(f, center, side, out_size, channel_means(f) if pad is None else pad)

    @classmethod
    def from_sequence(cls, seq, boxes=None) -> "FrameSource":
        return cls(seq.name, seq, seq.boxes if boxes is None else boxes)


def sample_triplet(src, cfg: ModelConfig, rng: np.random.Generator,
                   jitter: JitterConfig = JitterConfig(), negative_src=None) -> dict:
    """One training sample: uint8 patches ``z_t``, ``z_prev`` [R, R, 3], ``x_prev`` [T, T, 3], ``target`` [H, H].

    ``src``: a ``FrameSource`` or anything with its interface (``train.cache.CachedSource``).
    ``negative_src``: another source; if given, the template is cut there (a random annotated
    frame, its true box) and ``target`` is all zeros (a negative pair; ``center`` is NaN).
    """
    valid = src.valid
    if valid.size < 2:
        raise ValueError(f"sequence {src.name!r} has fewer than two annotated frames")
    frames = None
    # drawn only when on, so a config without rollouts keeps its samples
    if jitter.rollout_prob > 0 and rng.random() < jitter.rollout_prob:
        frames = rollout_frames(src, jitter)
        frames = frames if frames.size else None
    for _ in range(20):
        if frames is None:
            ka = int(rng.integers(0, valid.size - 1))
            a = int(valid[ka])
        else:
            a = int(frames[rng.integers(0, frames.size)])
            ka = int(np.searchsorted(valid, a))
        gap = int(rng.integers(1, jitter.max_gap + 1))
        t = min(a + gap, int(valid[-1]))
        kt = int(np.searchsorted(valid, t))
        if t > a and kt < valid.size and valid[kt] == t:  # t annotated too (finite box, > 1 px)
            break
    else:
        ka, a, t = 0, int(valid[0]), int(valid[1])
    x, y, w, h = src.boxes[a]
    scale = np.sqrt(w * h)
    ex, ey = rng.normal(0, jitter.center_error), rng.normal(0, jitter.center_error)
    cx, cy = x + w / 2 + ex * scale, y + h / 2 + ey * scale
    lw, lh = rng.normal(0, jitter.size_error), rng.normal(0, jitter.size_error)
    ew, eh = w * np.exp(lw), h * np.exp(lh)
    if frames is not None:
        state = recorded_state(src, a, jitter)
        if state is not None:  # (None only if no drawn frame had an annotated frame t)
            cx, cy, ew, eh = state
            ex, ey = (cx - x - w / 2) / scale, (cy - y - h / 2) / scale
            lw, lh = np.log(ew / w), np.log(eh / h)
    T, R = cfg.template_size, cfg.roi_size
    s = template_side(ew, eh, jitter.context)
    S = jitter.roi_factor * s
    # The template: from frame a (the paper) or an earlier annotated frame a0; it shares the
    # fraction ``template_error`` of the state's error. The label is where the target is at t:
    # with template_error=1 that is the template's content displaced *and* re-centred on the
    # object, with 0 just the matching position of the object.
    f = jitter.template_error
    a0 = a
    if jitter.template_gap > 0:
        lo = int(np.searchsorted(valid, a - jitter.template_gap))
        a0 = int(valid[rng.integers(lo, ka + 1)])
    if a0 == a:
        # cut with the state's size, as the tracker cuts its every-frame template
        tx, ty, st = (1 - f) * (x + w / 2) + f * cx, (1 - f) * (y + h / 2) + f * cy, s
    else:
        # an anchor template has the size of its own frame's box (with the state's size error
        # in the fraction ``template_error``)
        x0, y0, w0, h0 = src.boxes[a0]
        sc0 = np.sqrt(w0 * h0)
        tx, ty = x0 + w0 / 2 + f * ex * sc0, y0 + h0 / 2 + f * ey * sc0
        st = template_side(w0 * np.exp(f * lw), h0 * np.exp(f * lh), jitter.context)
    if negative_src is None:
        x_prev = src.crop(a0, (tx, ty), st, T)
    else:  # the template of an object that is not in these ROIs
        fn = int(negative_src.valid[rng.integers(0, negative_src.valid.size)])
        nx, ny, nw, nh = negative_src.boxes[fn]
        x_prev = negative_src.crop(fn, (nx + nw / 2, ny + nh / 2), template_side(nw, nh, jitter.context), T)
    z_prev = src.crop(a, (cx, cy), S, R)
    # camera shake: frame t seen from a slightly moved camera (the crop moves, so the content
    # moves the other way in z_t)
    dx = dy = 0.0
    if jitter.shake > 0:
        dx, dy = rng.normal(0, jitter.shake, 2) * s
    z_t = src.crop(t, (cx + dx, cy + dy), S, R)
    gx, gy, gw, gh = src.boxes[t]
    u, v = frame_to_crop(gx + gw / 2, gy + gh / 2, (cx + dx, cy + dy), S, R)
    ci, cj = roi_to_cell(u, v, T)
    patches = [z_t, z_prev, x_prev]
    if jitter.occlusion_prob > 0 and rng.random() < jitter.occlusion_prob:
        patches = _occlude(patches, (u, v), gw * R / S, gh * R / S, rng)
    if jitter.blur_prob > 0 and rng.random() < jitter.blur_prob:
        sigma = rng.uniform(0.5, jitter.blur_sigma)
        patches[0] = cv2.GaussianBlur(patches[0], (0, 0), sigma)
    if rng.random() < jitter.flip_prob:
        patches = [p[:, ::-1] for p in patches]
        cj = (cfg.response_size - 1) - cj
    patches = _photometric(patches, rng, jitter)
    target = gaussian_map(cfg.response_size, (ci, cj), cfg.gaussian_sigma * T)
    if negative_src is not None:
        target = np.zeros_like(target)
        ci = cj = np.nan
    return {"z_t": patches[0], "z_prev": patches[1], "x_prev": patches[2], "target": target,
            "center": np.array([ci, cj], dtype=np.float32)}


def recorded_state(src, a: int, jitter: JitterConfig):
    """The tracker's recorded state at frame ``a`` as ``(cx, cy, w, h)``, or ``None``.

    ``None`` where ``src`` has no ``states``, the state is not finite, its centre is more than
    ``jitter.rollout_reach`` template sides (of the true box) from the truth on either axis, or
    its width or height is off the truth's by more than a factor 1.5 (a ROI that size would
    reach past what the crop cache holds).
    """
    found = state_offset(src, a, jitter)
    return None if found is None else found[0]


def state_offset(src, a: int, jitter: JitterConfig):
    """``(state, offset)``: ``recorded_state`` and how far its centre is from the truth, in
    template sides of the true box on the worse axis; ``None`` where the state is unusable."""
    states = getattr(src, "states", None)
    if states is None or a >= len(states):
        return None
    sx, sy, sw, sh = states[a]
    x, y, w, h = src.boxes[a]
    if not np.all(np.isfinite([sx, sy, sw, sh])) or sw <= 0 or sh <= 0:
        return None
    cx, cy = sx + sw / 2, sy + sh / 2
    offset = max(abs(cx - x - w / 2), abs(cy - y - h / 2)) / template_side(w, h, jitter.context)
    if offset > jitter.rollout_reach or max(abs(np.log(sw / w)), abs(np.log(sh / h))) > np.log(1.5):
        return None
    return (cx, cy, sw, sh), offset


def rollout_frames(src, jitter: JitterConfig) -> np.ndarray:
    """Annotated frames (not the last) of ``src`` whose recorded state ``recorded_state`` accepts
    and that is at least ``jitter.rollout_min_error`` template sides off the truth on the worse
    axis. Computed once per source, states and settings."""
    key = (jitter.rollout_reach, jitter.rollout_min_error, jitter.context)
    memo = getattr(src, "_rollout_frames", None)
    if memo is not None and memo[0] is src.states and memo[1] == key:
        return memo[2]
    found = ((int(a), state_offset(src, int(a), jitter)) for a in src.valid[:-1])
    frames = np.array([a for a, f in found if f is not None and f[1] >= jitter.rollout_min_error], dtype=np.int64)
    src._rollout_frames = (getattr(src, "states", None), key, frames)
    return frames


def _occlude(patches, center_uv, w: float, h: float, rng):
    """An occluder over 30-70 % of the target's width and height at t, at the same ROI position
    in both ROIs (a still occluder in front of a moving target): uniform colour or noise."""
    z_t, z_prev, x_prev = (p.copy() for p in patches)
    R = z_t.shape[0]
    ow, oh = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)
    ox = center_uv[0] + rng.uniform(-0.5, 0.5) * w - ow / 2
    oy = center_uv[1] + rng.uniform(-0.5, 0.5) * h - oh / 2
    x0, y0 = int(np.clip(round(ox), 0, R)), int(np.clip(round(oy), 0, R))
    x1, y1 = int(np.clip(round(ox + ow), 0, R)), int(np.clip(round(oy + oh), 0, R))
    if x1 > x0 and y1 > y0:
        if rng.random() < 0.5:
            fill = rng.integers(0, 256, 3).astype(np.uint8)
        else:
            fill = rng.integers(0, 256, (y1 - y0, x1 - x0, 3)).astype(np.uint8)
        z_t[y0:y1, x0:x1] = fill
        z_prev[y0:y1, x0:x1] = fill
    return [z_t, z_prev, x_prev]


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
        i = int(rng.choice(len(self.sources), p=self.p))
        negative = None
        # drawn only when on, so a config without negatives keeps its samples
        if self.jitter.negative_prob > 0 and len(self.sources) > 1 and rng.random() < self.jitter.negative_prob:
            j = int(rng.integers(0, len(self.sources) - 1))
            negative = self.sources[j + (j >= i)]        # any other source
        s = sample_triplet(self.sources[i], self.cfg, rng, self.jitter, negative_src=negative)
        to_t = lambda p: torch.from_numpy(np.ascontiguousarray(p)).permute(2, 0, 1).float().div_(255.0)
        return {"z_t": to_t(s["z_t"]), "z_prev": to_t(s["z_prev"]), "x_prev": to_t(s["x_prev"]),
                "target": torch.from_numpy(s["target"])[None], "center": torch.from_numpy(s["center"])}
