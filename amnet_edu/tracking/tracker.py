"""The AMNet tracker: the frame-by-frame loop of Sections 3 and 4.1, with a user-facing API.

Per frame ``t`` (state ``(cx, cy, w, h)`` from frame ``t-1``):

1. crop the template ``x_{t-1}`` around the state in frame ``t-1`` and the two ROIs ``z_t``,
   ``z_{t-1}`` (3x the template side, same coordinates) from frames ``t`` and ``t-1``
   (``crops.py``); the template is thus replaced by the newly tracked state every frame
   (the paper's "progressive update");
2. one forward pass gives the response map (``AMNet``: the fused ``O_AM``; ``ANetOnly``:
   ``sigmoid(O_A)``);
3. its maximum becomes the new location (cell -> ROI -> frame, see ``model.amnet.cell_to_roi``).

Beyond the paper (each switchable in ``TrackerConfig``, documented in the book, chapter 6):

* sub-cell peak refinement (a parabola through the maximum and its neighbours);
* a cosine (Hann) window mixed into the map before the maximum is taken, penalising large
  jumps as SiamFC does (``window_influence``);
* ``template_update`` < 1: a moving average of the template features instead of the paper's
  full replacement (less drift, slower adaptation); the default keeps the paper's rule;
* **scale**: the paper does not say how the box size is updated. We add a small scale search:
  two extra templates cropped ``scale_step`` times larger / smaller are matched against the
  ROI features already computed, only at the peak (``ANet.score_near``, ``scale_radius``), and
  the best scale (with a small penalty for changing) updates the size with a learning rate.
  ``scale_step=1`` turns it off (the size then stays the first box's), and that is the default:
  comparing templates of different crop sizes by their normalised correlation is biased (one
  crop size tends to win frame after frame, so the box shrinks or grows away from the target);
  chapter 6 measures it. ``scale_step=1.04`` turns it on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, asdict
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from ..boxes import validate_box
from ..device import default_device, keep_freed_memory
from ..frames import read_frame, to_rgb
from ..model.amnet import cell_to_roi
from ..checkpoint import load_checkpoint, pretrained_path
from .crops import channel_means, crop_square, template_side

__all__ = ["Tracker", "TrackerConfig"]


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking-time choices (not learned).

    Defaults were fixed on synthetic sequences and then checked with ``amnet_edu.evaluate.tune``
    on the *training* sequences (VOT2017 bolt1, car1, zebrafish1), never on the held-out ones:
    there the scale search lowered the mean success AUC (0.245 without, 0.235 with; zebrafish1's
    size drifted) and a moving-average template or a stronger window changed nothing, so the
    search is off by default and the template follows the paper's rule.
    """

    context: float = 0.5            # template context (SiamFC's rule), see crops.template_side
    roi_factor: float = 3.0         # ROI side / template side (the paper's 3x)
    window_influence: float = 0.25  # weight of the Hann window in the peak search (0 = paper)
    scale_step: float = 1.0         # scale search factor, e.g. 1.04; 1.0 = no scale search (the
                                    # paper; the default: the search cost AUC on our tuning set)
    scale_penalty: float = 0.985    # multiplies the score of the changed scales
    scale_lr: float = 0.5           # how far the size moves towards the best scale each frame
    scale_radius: int = 0           # rescaled templates are scored on cells within this radius of
                                    # the peak (0: at the peak itself; they share its centre)
    min_size: float = 4.0           # smallest box side in pixels
    template_update: float = 1.0    # 1 = the paper (template replaced every frame); 0 = keep the
                                    # first; between: moving average of the template *features*


def _to_tensor(patch: np.ndarray, device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(patch)).to(device).permute(2, 0, 1)[None].float().div_(255.0)


class Tracker:
    """``init(frame, box)`` / ``update(frame) -> box`` / ``track(frames, box) -> (boxes, seconds)``.

    Frames: RGB uint8 ``H x W x 3`` arrays (grayscale and RGBA are converted, any memory layout).
    Boxes: ``(x, y, w, h)``, 0-based pixels. Invalid boxes raise ``ValueError`` saying why.
    """

    def __init__(self, model: torch.nn.Module, config: TrackerConfig | None = None, device=None,
                 name: str | None = None):
        self.device = default_device(device)  # None: the best present; a name or torch.device as given
        if self.device.type == "cpu":
            keep_freed_memory()  # ~30 % faster forward passes on a CPU, see its docstring
        self.model = model.to(self.device).eval()
        self.cfg = model.cfg
        self.config = config or TrackerConfig()
        self.name = name or getattr(model, "kind", "amnet").upper()
        self._prev = None

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, kind: str = "amnet", profile: str = "cpu", device=None,
                        config: TrackerConfig | None = None) -> "Tracker":
        """Load the shipped weights of ``kind`` (``"amnet"`` or ``"anet"``, the ablation)."""
        model = load_checkpoint(pretrained_path(kind, profile))
        return cls(model, config=config, device=device, name=kind.upper())

    @classmethod
    def from_checkpoint(cls, path, device=None, config: TrackerConfig | None = None) -> "Tracker":
        model = load_checkpoint(path)
        return cls(model, config=config, device=device)

    # -- the loop --------------------------------------------------------------------------
    def init(self, frame, box) -> None:
        frame = to_rgb(frame)
        x, y, w, h = validate_box(box, frame.shape)
        self._center = np.array([x + w / 2.0, y + h / 2.0])
        self._size = np.array([w, h], dtype=np.float64)
        self._prev = frame
        self._prev_mean = channel_means(frame)
        self._template_features = None
        H = self.cfg.response_size
        hann = np.hanning(H + 2)[1:-1]
        self._window = np.outer(hann, hann)
        self._window /= self._window.max()

    @torch.inference_mode()
    def update(self, frame, return_maps: bool = False):
        """Track into ``frame``; returns the box, or ``(box, maps)`` with ``return_maps=True``.

        ``maps`` (numpy): ``"O_A"``, ``"O_M"`` (AMNet only, on the response grid), ``"response"``
        (the network's output map), ``"score"`` (after the window), the crops ``"template"``,
        ``"roi"``, ``"roi_prev"``, and ``"peak"`` (fractional cell ``(i, j)``).
        """
        if self._prev is None:
            raise RuntimeError("call init(frame, box) before update(frame)")
        frame = to_rgb(frame)
        cfg, tc = self.cfg, self.config
        T, R = cfg.template_size, cfg.roi_size
        w, h = self._size
        s = template_side(w, h, tc.context)
        S = tc.roi_factor * s
        c = tuple(self._center)
        mean = channel_means(frame)
        tmpl = crop_square(self._prev, c, s, T, self._prev_mean)
        roi = crop_square(frame, c, S, R, mean)
        roi_prev = crop_square(self._prev, c, S, R, self._prev_mean)
        dev = self.device
        x = _to_tensor(tmpl, dev)
        xf_all, extra = None, {}
        scaled = tc.scale_step != 1.0
        if scaled or tc.template_update != 1.0:
            # The template and its two rescaled versions go through the backbone in one batch.
            steps = (tc.scale_step, 1.0 / tc.scale_step) if scaled else ()
            batch = [x] + [_to_tensor(crop_square(self._prev, c, s * f, T, self._prev_mean), dev) for f in steps]
            xf_all = self.model.anet.backbone(torch.cat(batch))
            xf = xf_all[:1]
            if tc.template_update != 1.0:
                prev = self._template_features
                xf = xf if prev is None else (1 - tc.template_update) * prev + tc.template_update * xf
                self._template_features = xf
            extra = {"template_features": xf}
        out, maps = self.model(_to_tensor(roi, dev), _to_tensor(roi_prev, dev), x, return_maps=True, **extra)
        response = out[0, 0].float().cpu().numpy()
        score = (1 - tc.window_influence) * response + tc.window_influence * self._window
        i, j = np.unravel_index(int(np.argmax(score)), score.shape)
        di, dj = _parabola(score, i, j)
        pi, pj = i + di, j + dj
        # cell -> ROI pixels -> frame pixels
        xr, yr = cell_to_roi(pi, pj, T)
        k = S / R
        new_center = np.array([c[0] - S / 2 + xr * k, c[1] - S / 2 + yr * k])
        if scaled:
            self._size = self._scale_search(maps["roi_features"], xf_all, int(i), int(j), steps)
        Hf, Wf = frame.shape[:2]
        self._center = np.clip(new_center, [0, 0], [Wf, Hf])
        self._size = np.clip(self._size, tc.min_size, [max(2.0 * Wf, tc.min_size), max(2.0 * Hf, tc.min_size)])
        self._prev, self._prev_mean = frame, mean
        box = (float(self._center[0] - self._size[0] / 2), float(self._center[1] - self._size[1] / 2),
               float(self._size[0]), float(self._size[1]))
        if not return_maps:
            return box
        out_maps = {"response": response, "score": score, "O_A": maps["O_A"][0, 0].float().cpu().numpy(),
                    "template": tmpl, "roi": roi, "roi_prev": roi_prev, "peak": (float(pi), float(pj))}
        if "O_M_grid" in maps:
            out_maps["O_M"] = maps["O_M_grid"][0, 0].float().cpu().numpy()
        return box, out_maps

    def _scale_search(self, roi_features, template_features, i: int, j: int, steps) -> np.ndarray:
        """Compare the base template (row 0) with the rescaled ones around the peak ``(i, j)``."""
        tc = self.config
        scores = self.model.anet.score_near(roi_features, template_features, i, j, tc.scale_radius)
        scores = scores.flatten(1).amax(1).cpu().numpy()
        scores[1:] *= tc.scale_penalty if scores[0] >= 0 else 1.0 / tc.scale_penalty
        best = int(np.argmax(scores))
        if best == 0:
            return self._size
        # A template cropped f times larger shows the target f times smaller: if it matches best,
        # the target shrank by f.
        target = self._size / steps[best - 1]
        return (1 - tc.scale_lr) * self._size + tc.scale_lr * target

    def track(self, frames: Iterable, box) -> tuple[np.ndarray, np.ndarray]:
        """Track through ``frames`` (arrays or image paths) from ``box`` on the first one.

        Returns ``boxes`` [N, 4] (row 0 is ``box``) and ``seconds`` [N] spent in init/update per
        frame (decoding excluded).
        """
        boxes, times = [], []
        for n, f in enumerate(frames):
            img = read_frame(f) if isinstance(f, (str, Path)) else f
            t0 = time.perf_counter()
            if n == 0:
                self.init(img, box)
                b = tuple(float(v) for v in validate_box(box))
            else:
                b = self.update(img)
            times.append(time.perf_counter() - t0)
            boxes.append(b)
        if not boxes:
            raise ValueError("track() got no frames")
        return np.asarray(boxes, dtype=np.float64), np.asarray(times)

    def __repr__(self):
        return f"Tracker(name={self.name!r}, profile={self.cfg.name!r}, device={self.device}, config={asdict(self.config)})"


def _parabola(score: np.ndarray, i: int, j: int) -> tuple[float, float]:
    """Sub-cell offset of a maximum from a parabola through it and its two neighbours, per axis."""
    def fit(a, b, c):
        d = a - 2 * b + c
        return float(np.clip(0.5 * (a - c) / d, -0.5, 0.5)) if d < 0 else 0.0
    H, W = score.shape
    di = fit(score[i - 1, j], score[i, j], score[i + 1, j]) if 0 < i < H - 1 else 0.0
    dj = fit(score[i, j - 1], score[i, j], score[i, j + 1]) if 0 < j < W - 1 else 0.0
    return di, dj
