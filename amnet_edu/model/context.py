"""Motion context (ours, not in the paper): a learned stand-in for the suppression pyramid.

``ModelConfig(motion_pyramid="dilated")``. The paper cleans the Spotlight response ``O_SF`` with
fixed pools (``SuppressionEnhancement``), whose maximum sits at the edge of the plateau its max
pools spread, and whose R/8 output is coarser than the quarter-target-size accuracy tracking
needs. ``O_SF`` itself (``motion_pyramid="none"``) is a map of moving *edges*: one pixel wide, so
sampling it on the correlation grid misses its peaks, and it lights the target's outline, not its
centre. This module aggregates context instead, at full resolution: a stack of 3 x 3
convolutions with growing dilation rates (the context module of Yu and Koltun, ICLR 2016, which
suits a network whose appearance stream is atrous too) with ReLU, and a 1 x 1 read-out added to a
learned multiple of ``O_SF``::

    h_0 = O_SF,   h_i = relu(conv3x3_{d_i}(h_{i-1})),   O_M = a * O_SF + conv1x1(h_n)

Its receptive field is ``1 + 2 * sum(d_i)`` pixels of ``O_SF`` (31 for rates 1, 2, 4, 8), about a
target and a half at the cpu profile: enough to fill an outline into a blob around its centre and
to weigh a moving region against the motion around it (the camera's). ``init_identity`` starts
the read-out at zero and ``a`` at 1, so an untrained context is exactly ``motion_pyramid="none"``
and a branch from a run without it starts where that run was.

Config: ``cfg.motion_context_channels`` (width ``c``), ``cfg.motion_context_dilations`` (``d_i``).
Shapes: ``O_SF`` [B, 1, R, R] -> ``O_M`` [B, 1, R, R]; ``return_maps`` adds each layer's
[B, c, R, R] output as ``context{i}``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig

__all__ = ["MotionContext"]


class MotionContext(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c = cfg.motion_context_channels
        rates = tuple(cfg.motion_context_dilations)
        self.convs = nn.ModuleList(
            nn.Conv2d(1 if i == 0 else c, c, 3, padding=d, dilation=d) for i, d in enumerate(rates))
        self.readout = nn.Conv2d(c, 1, 1)
        self.skip = nn.Parameter(torch.ones(()))

    @property
    def receptive_field(self) -> int:
        return 1 + sum(2 * conv.dilation[0] for conv in self.convs)

    @torch.no_grad()
    def init_identity(self) -> "MotionContext":
        """Read-out at zero and ``a = 1``: ``O_M = O_SF`` until training moves them."""
        self.readout.weight.zero_()
        self.readout.bias.zero_()
        self.skip.fill_(1.0)
        return self

    def forward(self, o_sf: torch.Tensor, return_maps: bool = False):
        maps = {}
        h = o_sf
        for i, conv in enumerate(self.convs):
            h = torch.relu(conv(h))
            maps[f"context{i + 1}"] = h
        o_m = self.skip * o_sf + self.readout(h)
        return (o_m, maps) if return_maps else o_m
