"""AMNet: appearance + motion, fused (Section 3, Figure 1), and the ANet-only ablation.

``AMNet(z_t, z_{t-1}, x_{t-1})``: ANet gives ``O_A`` [B, 1, H, W] (H = W = R - T + 1, the valid
correlation grid), MNet gives ``O_M`` [B, 1, R, R] (the ROI grid). The paper says both maps
have "the same size as the ROI" but its correlation has no padding, so the two grids differ;
decided here: ``O_M`` is resampled onto the correlation grid (``to_response_grid``, exact
linear interpolation at the cell centres, no learnable part) and *standardised* per sample
(zero mean, unit standard deviation over the map; ``standardise``). Why: O_A is a normalised
correlation in [-1, 1], while O_M's scale is whatever the contrast and Spotlight weights make
it; in our first CPU runs it shrank to ~1e-5 (Adam's L2 weight decay wins over the tiny
gradient a small map receives), so the motion stream went dead. Standardised, its scale is
fixed and only its *shape* is learned, like batch normalisation. The maps are concatenated in
depth, a 1x1 convolution gives one map, and a sigmoid squashes it (Section 4.2): ``O_AM``.

Output contract shared by ``AMNet`` and ``ANetOnly``: inputs ``z_t``, ``z_prev`` [B, 3, R, R] and
``x_prev`` [B, 3, T, T], floats in [0, 1]; output the response map [B, 1, H, W] in (0, 1)
(``logits=True`` gives the value before the sigmoid; ``template_features`` passes the backbone's
output for ``x_prev`` when the caller has computed it already). Cell ``(i, j)`` of the map is the
template centred at ROI position ``(x, y) = (j + T/2, i + T/2)`` in continuous pixel
coordinates (pixel ``c`` spans ``[c, c + 1)``): see ``cell_to_roi``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig, get_config
from .anet import ANet
from .fusion import ConfidenceGate
from .mnet import MNet

__all__ = ["AMNet", "ANetOnly", "build_model", "cell_to_roi", "roi_to_cell", "to_response_grid",
           "xavier_init", "init_fusion", "standardise", "MODEL_KINDS"]


def cell_to_roi(i, j, template_size: int):
    """Map response-map cell ``(i, j)`` to ROI position ``(x, y)`` (continuous pixels)."""
    return j + template_size / 2.0, i + template_size / 2.0


def roi_to_cell(x, y, template_size: int):
    """Inverse of ``cell_to_roi``: ROI position ``(x, y)`` -> fractional cell ``(i, j)``."""
    return y - template_size / 2.0, x - template_size / 2.0


def to_response_grid(roi_map: torch.Tensor, template_size: int) -> torch.Tensor:
    """Resample a map on the ROI grid [B, C, R, R] onto the correlation grid [B, C, H, W].

    Cell ``i`` sits at ROI position ``i + T/2``. ROI pixel ``k`` has its centre at
    ``k + 0.5``, so for odd ``T`` the cell falls on pixel ``i + (T-1)/2`` and for even
    ``T`` exactly half-way between pixels ``i + T/2 - 1`` and ``i + T/2``: their mean is
    the linear interpolation.
    """
    R = roi_map.shape[-1]
    H = R - template_size + 1
    if template_size % 2:
        o = (template_size - 1) // 2
        return roi_map[..., o:o + H, o:o + H]
    o = template_size // 2 - 1
    return F.avg_pool2d(roi_map, 2, stride=1)[..., o:o + H, o:o + H]


# Start of the output layer's bias: logit(0.047), near the value of almost every target cell.
OUTPUT_BIAS_INIT = -3.0
# Start of the 1x1 fusion weights: each input map counts equally, with this total weight.
FUSION_GAIN = {"anet": 6.0, "amnet": 2.0}


def standardise(m: torch.Tensor, eps: float = 1e-12, flat: float = 1e-5) -> torch.Tensor:
    """Per-sample, per-channel zero mean and unit standard deviation over the map: [B, C, H, W].

    A map without any response is returned as 0: one whose spread is at most ``flat`` times its
    mean's magnitude (plus ``eps``). A constant map (identical ROIs, or one flat-coloured ROI
    through a network with biases) has a spread of float rounding alone, ~1e-7 of its value, and
    dividing by that would blow rounding up to huge values (a single such sample once gave
    fused logits of ~2e3 and a loss spike that froze the motion weight's Adam statistics).
    ``eps`` is tiny on purpose: the map's scale is free (weight decay keeps shrinking it), so the
    test is relative to the map's own values.
    """
    mu = m.mean((2, 3), keepdim=True)
    sd = m.std((2, 3), keepdim=True, unbiased=False)
    out = (m - mu) / (sd + eps)
    return torch.where(sd <= flat * mu.abs() + eps, torch.zeros_like(out), out)


def xavier_init(module: nn.Module) -> nn.Module:
    """Xavier (Glorot) uniform weights and zero biases for every convolution (Section 4.2)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def init_fusion(model: nn.Module) -> nn.Module:
    """Beyond the paper: the 1x1 *fusion* layers start as equal-weight sums, not Xavier.

    Xavier gives these few weights (3 in ANet, 2 in AMNet) random signs, and Adam moves a
    weight by about the learning rate per step: undoing a wrong sign takes hundreds of
    steps, a budget a CPU run does not have. Starting from "every level / stream counts
    equally" (ANet: the three correlation coefficients summed with total weight 6; AMNet:
    ``O_A + O_M``) and the output bias at ``OUTPUT_BIAS_INIT`` (the sigmoid starts near 0,
    like the Gaussian targets' cells), the untrained network already peaks where the
    template matches; training then refines.
    """
    anet = model.anet
    with torch.no_grad():
        n = anet.fuse.weight.shape[1]
        anet.fuse.weight.fill_(FUSION_GAIN["anet"] / n)
        anet.fuse.bias.zero_()
        if isinstance(model, AMNet):
            model.fuse.weight.fill_(FUSION_GAIN["amnet"] / 2)
        model.output_layer.bias.fill_(OUTPUT_BIAS_INIT)
    for m in model.modules():   # residual stages that start as the identity (MotionContext)
        if hasattr(m, "init_identity"):
            m.init_identity()
    return model


class AMNet(nn.Module):
    """The two-stream tracker network: ``O_AM = sigmoid(conv1x1([O_A, O_M]))`` (``fusion="gated"``:
    ``[O_A, g O_M]``, ``g`` from ``model.fusion.ConfidenceGate``; maps then include ``"gate"`` [B, 1, 1, 1])."""

    kind = "amnet"
    uses_previous_roi = True    # MNet differences z_t and z_{t-1}

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.anet = ANet(cfg)
        self.mnet = MNet(cfg)
        # ours, ``cfg.fusion == "gated"``: motion weighted by appearance's confidence (model/fusion.py)
        self.gate = ConfidenceGate() if cfg.fusion == "gated" else None
        self.fuse = nn.Conv2d(2, 1, 1)

    @property
    def output_layer(self) -> nn.Conv2d:
        return self.fuse

    def forward(self, z_t, z_prev, x_prev, return_maps: bool = False,
                logits: bool = False, template_features=None):
        _check_inputs(self.cfg, z_t, z_prev, x_prev)
        if return_maps:
            o_a, amaps = self.anet(z_t, x_prev, return_maps=True,
                                   template_features=template_features)
            o_m, mmaps = self.mnet(z_t, z_prev, return_maps=True)
        else:
            o_a = self.anet(z_t, x_prev, template_features=template_features)
            o_m = self.mnet(z_t, z_prev)
        o_m_grid = standardise(to_response_grid(o_m, x_prev.shape[-1]))
        gate = self.gate(o_a) if self.gate is not None else None
        motion = o_m_grid if gate is None else gate * o_m_grid
        fused = self.fuse(torch.cat([o_a, motion], dim=1))
        out = fused if logits else torch.sigmoid(fused)
        if not return_maps:
            return out
        maps = {**amaps, **mmaps, "O_M_grid": o_m_grid, "fused_logits": fused,
                "O_AM": torch.sigmoid(fused)}
        if gate is not None:
            maps["gate"] = gate
        return out, maps


class ANetOnly(nn.Module):
    """The ablation of Section 4.3: ANet alone, ``sigmoid(O_A)``, with AMNet's output contract.

    ``z_prev`` is accepted and ignored so both networks are drop-in replacements of each other.
    """

    kind = "anet"
    uses_previous_roi = False   # callers need not crop z_{t-1} (any tensor of z_t's shape will do)

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.anet = ANet(cfg)

    @property
    def output_layer(self) -> nn.Conv2d:
        return self.anet.fuse

    def forward(self, z_t, z_prev, x_prev, return_maps: bool = False, logits: bool = False,
                template_features=None):
        _check_inputs(self.cfg, z_t, z_prev, x_prev)
        if return_maps:
            o_a, maps = self.anet(z_t, x_prev, return_maps=True, template_features=template_features)
        else:
            o_a = self.anet(z_t, x_prev, template_features=template_features)
        out = o_a if logits else torch.sigmoid(o_a)
        if not return_maps:
            return out
        return out, {**maps, "O_AM": torch.sigmoid(o_a)}


MODEL_KINDS = {"amnet": AMNet, "anet": ANetOnly}


def build_model(kind: str = "amnet", profile="cpu", seed: int | None = None) -> nn.Module:
    """A freshly initialised (Xavier, then ``init_fusion``) ``AMNet`` (``kind="amnet"``) or ``ANetOnly`` (``"anet"``).

    ``profile`` is ``"paper"``, ``"cpu"`` or a ``ModelConfig``; ``seed`` makes the weights reproducible.
    """
    cfg = get_config(profile)
    try:
        cls = MODEL_KINDS[kind.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown model kind {kind!r}; choose 'amnet' or 'anet'") from None
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return init_fusion(xavier_init(cls(cfg)))
    return init_fusion(xavier_init(cls(cfg)))


def _check_inputs(cfg: ModelConfig, z_t, z_prev, x_prev):
    for name, t in (("z_t", z_t), ("z_prev", z_prev), ("x_prev", x_prev)):
        if not torch.is_tensor(t) or t.dim() != 4 or t.shape[1] != 3:
            raise ValueError(f"{name} must be a [B, 3, H, W] tensor, got "
                             f"{tuple(t.shape) if torch.is_tensor(t) else type(t).__name__}")
    if z_t.shape != z_prev.shape:
        raise ValueError(f"z_t {tuple(z_t.shape)} and z_prev {tuple(z_prev.shape)} differ")
    if x_prev.shape[0] != z_t.shape[0] or x_prev.shape[-1] >= z_t.shape[-1]:
        raise ValueError(f"template {tuple(x_prev.shape)} must be smaller than the ROI {tuple(z_t.shape)} with the same batch")
