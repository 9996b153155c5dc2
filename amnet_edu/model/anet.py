"""ANet, the appearance stream (Section 3.1, Figure 3, Table 1, eqs. 1-2).

Tracking by matching: the template ``x_{t-1}`` [B, 3, T, T] and the ROI ``z_t`` [B, 3, R, R] go
through the same Siamese atrous backbone (eq. 1); at each of the three lateral levels the
template features are correlated over the ROI features (eq. 2, no padding), giving three
similarity maps ``O^L`` [B, 1, H, W] with ``H = W = R - T + 1``; they are stacked in depth and a
1x1 convolution gives ``O_A`` [B, 1, H, W].

Decided here (the paper leaves it open): each level's correlation is divided by the number of
products it sums (``C_L * T * T``), i.e. it is a *mean* product. Raw sums grow with the template
area and the channel count (thousands at the paper's sizes), which would saturate the final
sigmoid at initialisation; the mean keeps both profiles on the same scale.
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from .backbone import SiameseAtrousBackbone
from .xcorr import XCorr, xcorr_direct

__all__ = ["ANet"]


class ANet(nn.Module):
    def __init__(self, cfg: ModelConfig, xcorr_method: str = "fft"):
        super().__init__()
        self.cfg = cfg
        self.backbone = SiameseAtrousBackbone(cfg)
        self.xcorr = XCorr(groups=cfg.level_channels, method=xcorr_method)
        self.fuse = nn.Conv2d(len(cfg.level_channels), 1, 1)

    def level_maps(self, z_feats: torch.Tensor, x_feats: torch.Tensor) -> torch.Tensor:
        """Per-level mean-product correlation maps ``O^L`` [B, 3, H, W] from backbone features."""
        return self._mean_product(self.xcorr(z_feats, x_feats), x_feats)

    def _mean_product(self, levels: torch.Tensor, x_feats: torch.Tensor) -> torch.Tensor:
        """Divide each level's correlation sum by its number of products, ``C_L * T * T``."""
        area = x_feats.shape[-2] * x_feats.shape[-1]
        scale = torch.tensor([1.0 / (c * area) for c in self.cfg.level_channels],
                             dtype=levels.dtype, device=levels.device)
        return levels * scale.view(1, -1, 1, 1)

    def score_near(self, z_feats: torch.Tensor, x_feats: torch.Tensor, i: int, j: int, radius: int = 2) -> torch.Tensor:
        """``O_A`` of templates ``x_feats`` [S, C, T, T] on cells within ``radius`` of ``(i, j)`` only.

        A direct correlation on a ``(T + 2 radius)`` window of the ROI features [1, C, R, R]:
        a few million multiply-adds instead of a whole map, which makes a scale search with
        several templates cheap (the tracker's use). Returns [S, 1, 2 radius + 1, 2 radius + 1]
        (cells outside the map are left out, so near the border the window is smaller).
        """
        T = x_feats.shape[-1]
        H = z_feats.shape[-1] - T + 1
        i0, i1 = max(i - radius, 0), min(i + radius, H - 1)
        j0, j1 = max(j - radius, 0), min(j + radius, H - 1)
        window = z_feats[:, :, i0:i1 + T, j0:j1 + T]
        S = x_feats.shape[0]
        levels = xcorr_direct(window.expand(S, -1, -1, -1), x_feats, self.cfg.level_channels)
        return self.fuse(self._mean_product(levels, x_feats))

    def forward(self, z_t: torch.Tensor, x_prev: torch.Tensor, return_maps: bool = False):
        """``z_t`` [B, 3, R, R], ``x_prev`` [B, 3, T, T] (floats in [0, 1]) -> ``O_A`` [B, 1, H, W]."""
        if return_maps:
            zf, zmaps = self.backbone(z_t, return_maps=True)
            xf, xmaps = self.backbone(x_prev, return_maps=True)
        else:
            zf, xf = self.backbone(z_t), self.backbone(x_prev)
        levels = self.level_maps(zf, xf)
        o_a = self.fuse(levels)
        if not return_maps:
            return o_a
        maps = {f"roi_{k}": v for k, v in zmaps.items()}
        maps.update({f"template_{k}": v for k, v in xmaps.items()})
        maps.update({f"O_L{i + 1}": levels[:, i:i + 1] for i in range(levels.shape[1])})
        maps["roi_features"], maps["template_features"] = zf, xf
        maps["O_A"] = o_a
        return o_a, maps
