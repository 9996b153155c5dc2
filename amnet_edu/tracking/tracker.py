"""The AMNet tracker: the frame-by-frame loop of Sections 3 and 4.1, with a user-facing API.

Per frame ``t`` (state ``(cx, cy, w, h)`` from frame ``t-1``):

1. crop the template ``x_{t-1}`` around the state in frame ``t-1`` and the two ROIs
   ``z_t``, ``z_{t-1}`` (3x the template side, same coordinates) from frames ``t`` and
   ``t-1`` (``crops.py``); the template is thus replaced by the newly tracked state every
   frame (the paper's "progressive update");
2. one forward pass gives the response map (``AMNet``: the fused ``O_AM``; ``ANetOnly``:
   ``sigmoid(O_A)``);
3. its maximum becomes the new location (cell -> ROI -> frame, see
   ``model.amnet.cell_to_roi``).

Beyond the paper (each switchable in ``TrackerConfig``, documented in the book,
chapter 6):

* sub-cell peak refinement (a parabola through the maximum and its neighbours);
* a cosine (Hann) window mixed into the map before the maximum is taken, penalising large
  jumps as SiamFC does (``window_influence``);
* **which template** is matched: a pluggable ``TemplateStrategy`` (``tracking.template``)
  named by ``TrackerConfig.template``: the paper's every-frame replacement (``"paper"``),
  the first frame's (``"anchor"``), a moving average, or the anchor mixed with the last
  confident one;
* **scale**: the paper does not say how the box size is updated. A pluggable
  ``ScaleEstimator`` (``tracking.scale``) named by ``TrackerConfig.scale``: none, SiamFC's
  pyramid of ROI scales, or our cheap template-scale search at the peak;
* **an online head** (``tracking.online``, ``TrackerConfig.online``): a correlation filter
  fitted every frame on the ROI's appearance features, its map mixed into the score with
  weight ``online_weight`` (the network's map keeps ``1 - online_weight``);
* **a colour model** (``tracking.colour``, ``TrackerConfig.colour``, off by default):
  Staple's colour likelihood of the ROI's pixels, mixed in with weight ``colour_weight``.

``TrackerConfig.paper()`` is the paper's loop as far as it is described (every-frame
template, no window, no sub-cell refinement, no size update, nothing learned online).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, asdict
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from ..boxes import validate_box
from ..device import default_device, keep_freed_memory
from ..frames import read_frame, to_rgb
from ..model.amnet import cell_to_roi, to_response_grid
from ..checkpoint import load_checkpoint, pretrained_path
from .crops import channel_means, crop_square, inside_frame, template_side
from .colour import make_colour_model
from .online import make_online_head
from .scale import make_scale_estimator
from .template import make_template_strategy

__all__ = ["Tracker", "TrackerConfig"]


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking-time choices (not learned).

    The strategies are chosen by name: ``template`` (``tracking.template.TEMPLATE_STRATEGIES``)
    and ``scale`` (``tracking.scale.SCALE_ESTIMATORS``). Defaults: chosen by OPE success AUC on
    the training collection's ``val`` split (``amnet_edu.evaluate.tune``), never on the
    held-out sequences; the book's chapter 6 shows the comparison.
    """

    context: float = 0.5            # template context (SiamFC's rule), see crops.template_side
    roi_factor: float = 3.0         # ROI side / template side (the paper's 3x)
    window_influence: float = 0.25  # weight of the Hann window in the peak search (0 = paper)
    subcell: bool = True            # parabola through the peak (False = the paper's arg max)
    template: str = "anchor"        # template strategy: paper, anchor, moving_average, anchor_recent
                                    # (anchor: chosen on the val split by OPE success AUC;
                                    # the book, chapter 6, and the README give the figures)
    template_update: float = 1.0    # the strategy's rate: moving_average's step towards the new
                                    # template, anchor_recent's weight of the recent one
    template_gate: float = 0.0      # update the template only after frames whose response
                                    # maximum is at least this (0: always)
    scale: str = "template"         # scale estimator: none, pyramid, template
    scale_step: float = 1.0         # scale search factor, e.g. 1.04; 1.0 = no scale search
    scale_penalty: float = 0.985    # multiplies the score of the changed scales
    scale_lr: float = 0.5           # how far the size moves towards the best scale each frame
    scale_radius: int = 0           # template search: cells around the peak scored (0: the peak)
    min_size: float = 4.0           # smallest box side in pixels
    online: str = "dcf"             # online head: none, dcf (a correlation filter, tracking.online;
                                    # chosen on the val split by TRE, the book's chapter 6)
    online_weight: float = 0.3      # its map's share of the score (the network's: 1 - this)
    online_rate: float = 0.02       # how fast it follows the target (its running average's rate)
    online_cell: int = 2            # its feature cell in ROI pixels (2x2 averages: 4x fewer
                                    # frequencies than 1, the same TRE on val)
    colour: str = "none"            # colour model: none, histogram (Staple's colour likelihood,
                                    # tracking.colour)
    colour_weight: float = 0.3      # its map's share of the score (the rest's: 1 - this)
    colour_rate: float = 0.04       # how fast its colour densities follow the target
    colour_bins: int = 16           # levels per RGB channel

    def __post_init__(self):
        from .colour import COLOUR_MODELS
        from .online import ONLINE_HEADS
        from .scale import SCALE_ESTIMATORS
        from .template import TEMPLATE_STRATEGIES

        if self.template not in TEMPLATE_STRATEGIES:
            raise ValueError(f"unknown template strategy {self.template!r}; choose one of {sorted(TEMPLATE_STRATEGIES)}")
        if self.scale not in SCALE_ESTIMATORS:
            raise ValueError(f"unknown scale estimator {self.scale!r}; choose one of {sorted(SCALE_ESTIMATORS)}")
        if self.online not in ONLINE_HEADS:
            raise ValueError(f"unknown online head {self.online!r}; choose one of {sorted(ONLINE_HEADS)}")
        if not 0.0 <= self.online_weight <= 1.0:
            raise ValueError(f"online_weight must be in [0, 1], got {self.online_weight}")
        if not 0.0 < self.online_rate <= 1.0:
            raise ValueError(f"online_rate must be in (0, 1], got {self.online_rate}")
        if self.online_cell < 1:
            raise ValueError(f"online_cell must be a positive integer, got {self.online_cell}")
        if self.colour not in COLOUR_MODELS:
            raise ValueError(f"unknown colour model {self.colour!r}; choose one of {sorted(COLOUR_MODELS)}")
        if not 0.0 <= self.colour_weight <= 1.0:
            raise ValueError(f"colour_weight must be in [0, 1], got {self.colour_weight}")
        COLOUR_MODELS["histogram"](self.colour_bins, self.colour_rate)  # its errors, at config time

    @classmethod
    def paper(cls, **changes) -> "TrackerConfig":
        """The paper's loop: every-frame template, plain arg max, no window, no size update."""
        return cls(**{"window_influence": 0.0, "subcell": False, "template": "paper", "scale": "none",
                      "scale_step": 1.0, "online": "none", "colour": "none", **changes})


class _ScaleContext:
    """What a scale estimator may read after the forward pass (see ``tracking.scale``)."""

    def __init__(self, tracker, maps, i, j, center, side, base=None):
        self.model, self.i, self.j = tracker.model, i, j
        self.roi_features = maps.get("roi_features") if maps else None
        if self.roi_features is not None:
            self.roi_features = self.roi_features[:1]
        self._tracker, self._center, self._side, self._base = tracker, center, side, base

    def rescaled_templates(self, steps):
        """Backbone features of the template at the state of frame t-1 and of crops ``f`` times its
        side; the base template's are reused when this frame's template strategy computed them."""
        tr = self._tracker
        T = tr.cfg.template_size
        factors = (*steps,) if self._base is not None else (1.0, *steps)
        crops = [_to_tensor(crop_square(tr._prev, self._center, self._side * f, T, tr._prev_mean), tr.device)
                 for f in factors]
        feats = self.model.anet.backbone(torch.cat(crops))
        return feats if self._base is None else torch.cat([self._base, feats])


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
        tc = self.config
        self._center = np.array([x + w / 2.0, y + h / 2.0])
        self._size = np.array([w, h], dtype=np.float64)
        self._prev = frame
        self._prev_mean = channel_means(frame)
        self._confidence = None
        self._prepared = self._prepared_from = None
        self._template = make_template_strategy(tc.template, tc.template_update, tc.template_gate)
        self._scale = make_scale_estimator(tc.scale, tc.scale_step, tc.scale_penalty, tc.scale_lr, tc.scale_radius)
        T = self.cfg.template_size
        s = template_side(w, h, tc.context)
        self._anchor_patch = crop_square(frame, tuple(self._center), s, T, self._prev_mean)
        self._online = make_online_head(tc.online, tc.online_rate, tc.online_cell)
        self._colour = make_colour_model(tc.colour, tc.colour_rate, tc.colour_bins)
        with torch.inference_mode():
            self._anchor_x = _to_tensor(self._anchor_patch, self.device)
            self._template.start(self.model.anet.backbone(self._anchor_x))
            if self._online.active or self._colour.active:  # their first fits, on the first ROI
                R = self.cfg.roi_size
                S = tc.roi_factor * s
                roi = crop_square(frame, tuple(self._center), S, R, self._prev_mean)
                if self._online.active:
                    feats = self.model.anet.backbone(_to_tensor(roi, self.device))
                    self._online.start(feats, (R / 2, R / 2), _side_in_roi(w, h, S, R))
                if self._colour.active:
                    self._colour.start(roi, (R / 2, R / 2), _box_in_roi(w, h, S, R),
                                       inside_frame(frame.shape, tuple(self._center), S, R))
        H = self.cfg.response_size
        hann = np.hanning(H + 2)[1:-1]
        self._window = np.outer(hann, hann)
        self._window /= self._window.max()

    @torch.inference_mode()
    def update(self, frame, return_maps: bool = False):
        """Track into ``frame``; returns the box, or ``(box, maps)`` with ``return_maps=True``.

        ``maps`` (numpy): ``"O_A"``, ``"O_M"`` (AMNet only, on the response grid), ``"response"``
        (the network's output map), ``"score"`` (after the window), the crops ``"template"``
        (the one cut at the state of frame t-1, or the anchor's when the strategy never cuts
        one), ``"roi"``, ``"roi_prev"``, ``"peak"`` (fractional cell ``(i, j)``) and ``"scale"``
        (the ROI scale factor the peak was found at); with an online head, ``"online"`` (its map
        on the response grid). With a pyramid scale search the maps are those of the chosen scale.
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
        dev = self.device
        cut = {}

        def current():
            cut["patch"] = crop_square(self._prev, c, s, T, self._prev_mean)
            cut["x"] = _to_tensor(cut["patch"], dev)
            cut["features"] = self.model.anet.backbone(cut["x"])
            return cut["features"]

        xf = self._template.features(current, self._confidence)
        if xf is not self._prepared_from:  # a new template: its spectrum and norms once
            self._prepared, self._prepared_from = self.model.anet.prepare_template(xf, R), xf
        x = cut.get("x", self._anchor_x)
        factors = self._scale.factors
        n = len(factors)
        roi_patches = [crop_square(frame, c, S * f, R, mean) for f in factors]
        z_t = torch.cat([_to_tensor(p, dev) for p in roi_patches])
        if getattr(self.model, "uses_previous_roi", True):
            prev_patches = [crop_square(self._prev, c, S * f, R, self._prev_mean) for f in factors]
            z_prev = torch.cat([_to_tensor(p, dev) for p in prev_patches])
        else:  # ANet-only: z_{t-1} is not looked at; pass z_t for the shape check
            prev_patches, z_prev = [None] * n, z_t
        online = self._online
        want_maps = return_maps or self._scale.needs_maps or online.active
        result = self.model(z_t, z_prev, x.expand(n, -1, -1, -1), return_maps=want_maps,
                            template_features=self._prepared)
        out, maps = result if want_maps else (result, None)
        responses = out[:, 0].float().cpu().numpy()
        scores = responses
        if online.active:  # the filter's map on the response grid, clipped to the network's (0, 1)
            if "roi_features" not in maps:
                raise ValueError("the online head needs the model's ROI features (maps['roi_features'] with "
                                 "return_maps=True); use TrackerConfig(online='none') for this model")
            online.prepare(maps["roi_features"])
            online_maps = to_response_grid(online.response()[:, None], T)[:, 0].clamp(0, 1).float().cpu().numpy()
            w_on = tc.online_weight
            scores = (1 - w_on) * responses + w_on * online_maps
        colour = self._colour
        if colour.active:  # the colour likelihood on the response grid, in [0, 1]
            sizes = [_box_in_roi(w, h, S * f, R) for f in factors]
            valid = [inside_frame(frame.shape, c, S * f, R) for f in factors]
            colour_maps = colour.response(roi_patches, sizes, np.stack(valid))
            colour_maps = to_response_grid(torch.from_numpy(colour_maps)[:, None], T)[:, 0].numpy()
            scores = (1 - tc.colour_weight) * scores + tc.colour_weight * colour_maps
        scores = (1 - tc.window_influence) * scores + tc.window_influence * self._window
        k, i, j = self._scale.choose(scores)
        di, dj = _parabola(scores[k], i, j) if tc.subcell else (0.0, 0.0)
        pi, pj = i + di, j + dj
        # cell -> ROI pixels -> frame pixels (the chosen ROI's side)
        xr, yr = cell_to_roi(pi, pj, T)
        Sk = S * factors[k]
        kk = Sk / R
        new_center = np.array([c[0] - Sk / 2 + xr * kk, c[1] - Sk / 2 + yr * kk])
        if online.active:  # learn the target where it was found, in the chosen ROI's pixels
            online.learn(k, (xr, yr), _side_in_roi(w, h, Sk, R))
        if colour.active:
            colour.learn(roi_patches[k], (xr, yr), _box_in_roi(w, h, Sk, R), valid[k])
        self._size = self._scale.new_size(self._size, k, _ScaleContext(self, maps, i, j, c, s, cut.get("features")))
        self._confidence = float(responses[k].max())
        Hf, Wf = frame.shape[:2]
        self._center = np.clip(new_center, [0, 0], [Wf, Hf])
        self._size = np.clip(self._size, tc.min_size, [max(2.0 * Wf, tc.min_size), max(2.0 * Hf, tc.min_size)])
        self._prev, self._prev_mean = frame, mean
        box = (float(self._center[0] - self._size[0] / 2), float(self._center[1] - self._size[1] / 2),
               float(self._size[0]), float(self._size[1]))
        if not return_maps:
            return box
        out_maps = {"response": responses[k], "score": scores[k], "O_A": maps["O_A"][k, 0].float().cpu().numpy(),
                    "template": cut.get("patch", self._anchor_patch), "roi": roi_patches[k],
                    "roi_prev": prev_patches[k], "peak": (float(pi), float(pj)), "scale": float(factors[k])}
        if "O_M_grid" in maps:
            out_maps["O_M"] = maps["O_M_grid"][k, 0].float().cpu().numpy()
        if online.active:
            out_maps["online"] = online_maps[k]
        if colour.active:
            out_maps["colour"] = colour_maps[k]
        return box, out_maps

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

    def describe(self) -> dict:
        """What makes this tracker's boxes what they are, as JSON: the network kind, its model
        config, a digest of its weights and the ``TrackerConfig``. Evaluations file it with their
        cached runs (``evaluate.results``), so runs of another configuration are never reused."""
        import hashlib

        digest = hashlib.sha256()
        for name, t in sorted(self.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(t.detach().cpu().contiguous().numpy().tobytes())
        return {"tracker": "amnet_edu.Tracker", "model": getattr(self.model, "kind", type(self.model).__name__),
                "model_config": self.cfg.to_dict(), "weights_sha256": digest.hexdigest()[:16],
                "config": asdict(self.config)}

    def __repr__(self):
        return f"Tracker(name={self.name!r}, profile={self.cfg.name!r}, device={self.device}, config={asdict(self.config)})"


def _box_in_roi(w: float, h: float, roi_side: float, roi_pixels: int) -> tuple[float, float]:
    """The target's box ``(w, h)`` in the pixels of an ROI of ``roi_side`` frame pixels resized to
    ``roi_pixels`` (what the colour model's box is sized by)."""
    return w * roi_pixels / roi_side, h * roi_pixels / roi_side


def _side_in_roi(w: float, h: float, roi_side: float, roi_pixels: int) -> float:
    """The target's side ``sqrt(w h)`` in the pixels of an ROI of ``roi_side`` frame pixels
    resized to ``roi_pixels`` (what the online head's label is sized by)."""
    return math.sqrt(w * h) * roi_pixels / roi_side


def _parabola(score: np.ndarray, i: int, j: int) -> tuple[float, float]:
    """Sub-cell offset of a maximum from a parabola through it and its two neighbours, per axis."""
    def fit(a, b, c):
        d = a - 2 * b + c
        return float(np.clip(0.5 * (a - c) / d, -0.5, 0.5)) if d < 0 else 0.0
    H, W = score.shape
    di = fit(score[i - 1, j], score[i, j], score[i + 1, j]) if 0 < i < H - 1 else 0.0
    dj = fit(score[i, j - 1], score[i, j], score[i, j + 1]) if 0 < j < W - 1 else 0.0
    return di, dj
