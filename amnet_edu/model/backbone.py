"""The Siamese atrous CNN of ANet, Table 1 and eq. (1): ``Z^l = phi_l(z_t)``, ``X^l = phi_l(x_{t-1})``.

Table 1 (kernel / output channels / atrous rate / lateral connection)::

    conv1  5x5   6  rate 1   <-> conv4
    conv2  3x3  12  rate 2   <-> conv5
    conv3  3x3  24  rate 3   <-> conv6
    conv4  5x5  36  rate 1
    conv5  3x3  48  rate 2
    conv6  3x3  64  rate 3

Stride 1 and "same" padding (``rate * (k - 1) / 2``) everywhere: no down-sampling, so every
feature map keeps the input's resolution (the paper's point: finer pixel-wise localisation).
The rates 1, 2, 3 repeated twice form a Hybrid Dilated Convolution pattern: consecutive rates
with no common factor > 1, which avoids the gridding effect of equal rates (2, 2, 2 samples
only every other pixel). Receptive field: ``1 + sum(rate * (k - 1)) = 1+4+4+6+4+4+6 = 29`` px.

The lateral connections concatenate the two layers of each pair in depth, giving three levels
``Z^L`` of 6+36 = 42, 12+48 = 60 and 24+64 = 88 channels. The same weights process the template
and the ROI (the Siamese branches share one module).

Inputs are floats in [0, 1] (crops divided by 255), centred at 0.5 inside ``forward``.

Shapes: input [B, 3, S, S] (S = T or R) -> levels [B, 42, S, S], [B, 60, S, S], [B, 88, S, S].
``forward`` returns the levels concatenated, [B, 190, S, S], which is what the FFT correlation
consumes in one transform; ``return_maps=True`` also returns every layer's output.
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig

__all__ = ["SiameseAtrousBackbone", "receptive_field"]


def receptive_field(layers) -> int:
    """Receptive field in pixels of stacked stride-1 dilated convolutions ``(k, c, rate)``."""
    return 1 + sum(rate * (k - 1) for k, _, rate in layers)


class SiameseAtrousBackbone(nn.Module):
    """Table 1's six (atrous) convolutions with ReLU and its three lateral connections."""

    def __init__(self, cfg: ModelConfig, in_channels: int = 3):
        super().__init__()
        self.cfg = cfg
        convs = []
        c_in = in_channels
        last = len(cfg.backbone) - 1
        for i, (k, c_out, rate) in enumerate(cfg.backbone):
            # The last layer has no ReLU and ANet centres the template features (anet.py): a
            # constant offset there adds nothing to a match, only to the normalising norms.
            convs.append(nn.Conv2d(c_in, c_out, k, stride=1, padding=rate * (k - 1) // 2, dilation=rate,
                                   bias=i < last))
            c_in = c_out
        self.convs = nn.ModuleList(convs)
        self.lateral = cfg.lateral
        self.level_channels = cfg.level_channels

    def forward(self, img: torch.Tensor, return_maps: bool = False):
        """[B, 3, S, S] -> [B, sum(level_channels), S, S] (levels concatenated in order).

        With ``return_maps``:
        ``(features, {"conv1": ..., ..., "conv6": ..., "level1": ...})``.
        """
        outs = []
        # Inputs are in [0, 1]; centring them keeps the first layer's ReLUs away from
        # saturation. channels_last lets oneDNN run these convolutions ~1.5x faster on a
        # CPU (same numbers).
        h = (img - 0.5).contiguous(memory_format=torch.channels_last)
        last = len(self.convs) - 1
        for i, conv in enumerate(self.convs):
            h = conv(h)
            # ReLU after every layer but the last: as in SiamFC's embedding, the deepest
            # features stay signed, so their correlation is not dominated by a positive
            # offset.
            if i < last:
                h = torch.relu_(h)  # in place: the conv output is not needed before ReLU
            outs.append(h)
        # One concatenation in level order (conv1, conv4, conv2, conv5, conv3, conv6); the
        # levels are views of it. Written in NCHW order: the FFT correlation transforms
        # over (H, W), and torch's FFT first copies a channels_last input to contiguous, a
        # transposing copy that cost about as much as the transform itself. The
        # concatenation copies anyway; this way it does the transpose, once (the same
        # numbers).
        B, _, H, W = h.shape
        feats = h.new_empty((B, sum(self.level_channels), H, W))
        start = 0
        for i in (i for pair in self.lateral for i in pair):
            c = outs[i].shape[1]
            feats[:, start:start + c].copy_(outs[i])
            start += c
        if not return_maps:
            return feats
        levels = torch.split(feats, list(self.level_channels), dim=1)
        maps = {f"conv{i + 1}": o for i, o in enumerate(outs)}
        maps.update({f"level{i + 1}": lv for i, lv in enumerate(levels)})
        return feats, maps
