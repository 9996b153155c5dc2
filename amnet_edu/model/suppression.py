"""Background suppression and foreground enhancement module of MNet (Section 3.2).

A hierarchical pooling structure that cleans the Spotlight response ``O_SF``:

* background suppression: three cascaded **average** pools, stride 2, kernel sizes
  ``cfg.suppression_kernels`` (default 5, 7, 9): a smooth estimate of the widespread
  (background, camera-induced) motion response;
* foreground enhancement: three cascaded **max** pools, stride 2, kernel sizes
  ``cfg.enhancement_kernels`` (default 3, 5, 7): the dominating local (foreground) response.

``O_M = enhancement - suppression``, which works like a median-background subtraction and
also cleans the map morphologically. After three stride-2 pools the map is R/8 wide; it is
brought back to the ROI's size with bilinear interpolation (``align_corners=False`` keeps pixel
centres where they belong), so ``O_M`` is [B, 1, R, R] like the paper says MNet's output is.

Shapes: ``O_SF`` [B, 1, R, R] -> ``O_M`` [B, 1, R, R].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig

__all__ = ["SuppressionEnhancement"]


class SuppressionEnhancement(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.avg_kernels = tuple(cfg.suppression_kernels)
        self.max_kernels = tuple(cfg.enhancement_kernels)

    def forward(self, o_sf: torch.Tensor, return_maps: bool = False):
        size = o_sf.shape[-2:]
        maps = {}
        s = o_sf
        for i, k in enumerate(self.avg_kernels):
            # count_include_pad=False: the zero padding must not pull border averages down.
            s = F.avg_pool2d(s, k, stride=2, padding=k // 2, count_include_pad=False)
            maps[f"suppression{i + 1}"] = s
        e = o_sf
        for i, k in enumerate(self.max_kernels):
            e = F.max_pool2d(e, k, stride=2, padding=k // 2)
            maps[f"enhancement{i + 1}"] = e
        if s.shape != e.shape:
            raise RuntimeError(f"pool chains disagree in size: {tuple(s.shape)} vs {tuple(e.shape)}")
        small = e - s
        o_m = F.interpolate(small, size=size, mode="bilinear", align_corners=False)
        if not return_maps:
            return o_m
        maps.update({"motion_small": small, "o_m": o_m})
        return o_m, maps
