"""Background suppression and foreground enhancement module of MNet (Section 3.2).

A hierarchical pooling structure that cleans the Spotlight response ``O_SF``:

* background suppression: three cascaded **average** pools, stride 2, kernel sizes
  ``cfg.suppression_kernels`` (default 5, 7, 9): a smooth estimate of the widespread
  (background, camera-induced) motion response;
* foreground enhancement: three cascaded **max** pools, stride 2, kernel sizes
  ``cfg.enhancement_kernels`` (default 3, 5, 7): the dominating local (foreground) response.

``O_M = enhancement - suppression``, which works like a median-background subtraction and
also cleans the map morphologically. After three stride-2 pools the map is R/8 wide; it is
brought back to the ROI's size with bilinear interpolation, so ``O_M`` is [B, 1, R, R] like the
paper says MNet's output is. Where the pooled cells sit: a pool with kernel k, stride 2 and
padding k//2 centres output cell q on input pixel 2q, so after three of them cell q lies on ROI
pixel 8q (not 8q + 3.5, which a plain ``interpolate(align_corners=False)`` would assume): the
upsampling samples cell coordinate ``k / 8`` for ROI pixel k (``upsample_pooled``).

Shapes: ``O_SF`` [B, 1, R, R] -> ``O_M`` [B, 1, R, R].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig

__all__ = ["SuppressionEnhancement", "upsample_pooled"]


def upsample_pooled(small: torch.Tensor, size, stride: int) -> torch.Tensor:
    """Bilinear upsampling of a map whose cell q lies on input pixel ``stride * q``.

    [B, C, h, w] -> [B, C, H, W] with ROI pixel k sampling cell coordinate ``k / stride``
    (clamped at the last cell).
    """
    H, W = size
    h, w = small.shape[-2:]
    ys = torch.arange(H, dtype=small.dtype, device=small.device) / stride
    xs = torch.arange(W, dtype=small.dtype, device=small.device) / stride
    gy = 2 * ys / max(h - 1, 1) - 1
    gx = 2 * xs / max(w - 1, 1) - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], dim=-1)   # (x, y) order
    grid = grid.unsqueeze(0).expand(small.shape[0], -1, -1, -1)
    return F.grid_sample(small, grid, mode="bilinear", padding_mode="border", align_corners=True)


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
            # count_include_pad=False: zero padding must not pull border averages down.
            s = F.avg_pool2d(s, k, stride=2, padding=k // 2, count_include_pad=False)
            maps[f"suppression{i + 1}"] = s
        e = o_sf
        for i, k in enumerate(self.max_kernels):
            e = F.max_pool2d(e, k, stride=2, padding=k // 2)
            maps[f"enhancement{i + 1}"] = e
        if s.shape != e.shape:
            raise RuntimeError(f"pool chains disagree in size: {tuple(s.shape)} vs "
                               f"{tuple(e.shape)}")
        small = e - s
        o_m = upsample_pooled(small, size, 2 ** len(self.avg_kernels))
        if not return_maps:
            return o_m
        maps.update({"motion_small": small, "o_m": o_m})
        return o_m, maps
