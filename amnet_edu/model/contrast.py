"""Deep contrast computation module of MNet, eqs. (3)-(4): ``Z^C = psi(z)``.

Classic frame differencing on *contrast* maps (images filtered by a Laplacian or Sobel kernel)
is more robust to global motion than differencing raw pixels, because smooth background
changes are flattened by the gradient-like filter. MNet learns those filters instead: three
cascaded stride-1 convolutions with ReLU, no pooling, input channels preserved (3 -> 3 -> 3 -> 3),
"same" padding, so ``Z^C`` has the size and depth of its ROI. One set of weights is shared by
``z_t`` and ``z_{t-1}``: the two frames must be filtered identically for their difference to
mean motion. Eq. (4), for one layer with a k x k filter ``f``: ``Z_j = sum_i f_i * z_{i,j}``
over the k x k neighbourhood of location ``j``.

Kernel sizes: ``cfg.contrast_kernels`` (default 7, 5, 3; the paper fixes only conv3 = 3x3).

Shapes: [B, 3, R, R] -> [B, 3, R, R].
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig

__all__ = ["DeepContrast"]


class DeepContrast(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int = 3):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(channels, channels, k, stride=1, padding=k // 2) for k in cfg.contrast_kernels)

    def forward(self, z: torch.Tensor, return_maps: bool = False):
        """[B, C, R, R] -> contrast map [B, C, R, R].

        ``return_maps`` adds each layer's output.
        """
        maps = {}
        h = z
        for i, conv in enumerate(self.convs):
            h = torch.relu_(conv(h))
            maps[f"contrast{i + 1}"] = h
        return (h, maps) if return_maps else h
