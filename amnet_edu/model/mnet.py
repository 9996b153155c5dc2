"""MNet, the motion stream (Section 3.2, Figures 4-5, eqs. 3-7).

Deep frame differencing: the two ROIs ``z_t``, ``z_{t-1}`` [B, 3, R, R], cropped at the *same*
coordinates of consecutive frames, become contrast maps with shared weights (``DeepContrast``,
eqs. 3-4), their difference is filtered by Spotlight filters of several sizes
(``SpotlightFiltering``, eqs. 5-7), and the pooling pyramid suppresses background motion and
enhances the foreground (``SuppressionEnhancement``), giving ``O_M`` [B, 1, R, R].
With ``cfg.motion_pyramid = "none"`` (ours) the pyramid is left out and ``O_M = O_SF``; with
``"dilated"`` (ours) a learned context module (``MotionContext``) takes its place.
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from .context import MotionContext
from .contrast import DeepContrast
from .spotlight import SpotlightFiltering
from .suppression import SuppressionEnhancement

__all__ = ["MNet", "NoPyramid"]


class NoPyramid(nn.Module):
    """The ``motion_pyramid="none"`` stand-in for ``SuppressionEnhancement``: ``O_M = O_SF``."""

    def forward(self, o_sf: torch.Tensor, return_maps: bool = False):
        return (o_sf, {}) if return_maps else o_sf


class MNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.contrast = DeepContrast(cfg)
        self.spotlight = SpotlightFiltering(cfg)
        # the stage after Spotlight Filtering, by cfg.motion_pyramid (one of MOTION_PYRAMIDS)
        self.suppression = {"paper": SuppressionEnhancement, "none": lambda _: NoPyramid(),
                            "dilated": MotionContext}[cfg.motion_pyramid](cfg)

    def forward(self, z_t: torch.Tensor, z_prev: torch.Tensor, return_maps: bool = False):
        """``z_t``, ``z_prev`` [B, 3, R, R] -> ``O_M`` [B, 1, R, R]."""
        if z_t.shape != z_prev.shape:
            raise ValueError(f"the two ROIs must have the same shape, got {tuple(z_t.shape)} and {tuple(z_prev.shape)}")
        # One call on the stacked pair: the shared weights of eq. (3), and half the kernel launches.
        # channels_last: oneDNN runs these few-channel, large-kernel convolutions ~3x faster in it
        both = torch.cat([z_t, z_prev], dim=0).contiguous(memory_format=torch.channels_last)
        if return_maps:
            c, cmaps = self.contrast(both, return_maps=True)
        else:
            c = self.contrast(both)
        c_t, c_prev = c.chunk(2, dim=0)
        if not return_maps:
            return self.suppression(self.spotlight(c_t, c_prev))
        o_sf, smaps = self.spotlight(c_t, c_prev, return_maps=True)
        o_m, pmaps = self.suppression(o_sf, return_maps=True)
        B = z_t.shape[0]
        maps = {"contrast_t": c_t, "contrast_prev": c_prev}
        for k, v in cmaps.items():
            maps[f"{k}_t"], maps[f"{k}_prev"] = v[:B], v[B:]
        maps.update(smaps)
        maps.update(pmaps)
        maps["O_SF"] = o_sf
        maps["O_M"] = o_m
        return o_m, maps
