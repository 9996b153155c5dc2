"""Spotlight Filtering frame differencing module of MNet, eqs. (5)-(7).

Eq. (5): instead of an element-wise subtraction, the response at location ``j`` is the *patch-wise*
sum of the differences of the two aligned contrast maps ``A = Z^C_t``, ``B = Z^C_{t-1}`` over a
``k x k`` Spotlight window: ``SF_j(A, B) = sum_{i in k x k} (A_{i,j} - B_{i,j})``.
Eq. (6): one response map ``O^l_SF`` per Spotlight size ``l`` (several sizes, several motion
magnitudes). Eq. (7), the weighted form that makes it a layer: ``sum_i W_i * (A_{i,j} - B_{i,j})``
= a k x k convolution of the difference map. So the module is: subtract, then parallel
convolutions of sizes ``cfg.spotlight_kernels``, then a 1x1 convolution that fuses the scales
in depth into ``O_SF``. With all-ones weights (and zero bias) each convolution is exactly eq. (5)
summed over channels; the tests check that.

Beyond the paper's letter: each Spotlight convolution has ``cfg.spotlight_channels`` outputs
followed by a ReLU before the 1x1 fusion. A difference map is signed (a bright target moving
onto dark background gives + at its front and - at its back); a purely linear chain cannot
turn that into motion *energy*, while ``relu(+d) + relu(-d) = |d|`` is learnable with two
channels. The pre-activation maps (eq. 7) are what ``return_maps`` hands back.

Shapes: two contrast maps [B, C, R, R] -> ``O_SF`` [B, 1, R, R].
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig

__all__ = ["SpotlightFiltering"]


class SpotlightFiltering(nn.Module):
    def __init__(self, cfg: ModelConfig, channels: int = 3):
        super().__init__()
        self.kernels = tuple(cfg.spotlight_kernels)
        c = cfg.spotlight_channels
        self.filters = nn.ModuleList(nn.Conv2d(channels, c, k, padding=k // 2) for k in self.kernels)
        # No bias: a constant added to O_SF cancels in enhancement - suppression (max and average
        # pools of a constant are that constant), so it could never be learned.
        self.fuse = nn.Conv2d(c * len(self.kernels), 1, 1, bias=False)

    def forward(self, a: torch.Tensor, b: torch.Tensor, return_maps: bool = False):
        """``a = Z^C_t``, ``b = Z^C_{t-1}`` [B, C, R, R] -> ``O_SF`` [B, 1, R, R]."""
        diff = a - b
        # eq. (7), one map set per Spotlight size
        per_scale = [f(diff) for f in self.filters]
        out = self.fuse(torch.cat([torch.relu(p) for p in per_scale], dim=1))
        if not return_maps:
            return out
        maps = {"difference": diff, "spotlight": out}
        maps.update({f"spotlight_k{k}": p for k, p in zip(self.kernels, per_scale)})
        return out, maps
