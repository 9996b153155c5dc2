"""A confidence gate on the motion stream (ours; not in the paper).

The paper fuses the two streams with one 1x1 convolution (Section 4.2),
``O_AM = sigmoid(w_A O_A + w_M O_M + b)``: motion counts the same in every frame. Our
diagnostics (book, chapter 4) show motion's hits are nearly a subset of appearance's when the
template is recent, and add to them only where appearance is unsure (an old template, a changed
target). ``ModelConfig(fusion="gated")`` lets the network learn that condition::

    p   = max_ij O_A                                   (appearance's peak logit)
    q   = (p - mean_ij O_A) / std_ij O_A               (its peak-to-sidelobe ratio)
    g   = sigmoid(v + u_1 p + u_2 q)                    [B, 1, 1, 1], one gate per sample
    O_AM = sigmoid(w_A O_A + w_M g O_M + b)

``u_1``, ``u_2``, ``v`` start at 0 (``g = 1/2`` everywhere), so a gated AMNet starts as the ungated
one with half the motion weight; training moves them only where ``w_M`` is not zero. The gate is a
function of ``O_A`` alone, so a frozen appearance stream (two-stage training) gives it a fixed input.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConfidenceGate"]


class ConfidenceGate(nn.Module):
    """``g = sigmoid(v + u . [p, q])`` of ``O_A`` [B, 1, H, W]: [B, 1, 1, 1] in (0, 1)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(2))  # u_1 (peak), u_2 (peak/sidelobe)
        self.bias = nn.Parameter(torch.zeros(1))    # v

    @staticmethod
    def features(o_a: torch.Tensor) -> torch.Tensor:
        """``[p, q]`` per sample: [B, 2, 1, 1]; ``q`` = the standardised map's peak."""
        from .amnet import standardise  # imported here: amnet imports this module

        peak = o_a.amax((2, 3), keepdim=True)
        return torch.cat([peak, standardise(o_a).amax((2, 3), keepdim=True)], dim=1)

    def forward(self, o_a: torch.Tensor) -> torch.Tensor:
        f = self.features(o_a)
        z = self.bias.view(1, 1, 1, 1) + (f * self.weight.view(1, 2, 1, 1)).sum(1, True)
        return torch.sigmoid(z)
