"""ANet, the appearance stream (Section 3.1, Figure 3, Table 1, eqs. 1-2).

Tracking by matching: the template ``x_{t-1}`` [B, 3, T, T] and the ROI ``z_t`` [B, 3, R, R] go
through the same Siamese atrous backbone (eq. 1); at each of the three lateral levels the
template features are correlated over the ROI features (eq. 2, no padding), giving three
similarity maps ``O^L`` [B, 1, H, W] with ``H = W = R - T + 1``; they are stacked in depth and a
1x1 convolution gives ``O_A`` [B, 1, H, W].

Decided here (the paper leaves it open): each level's correlation is *normalised*: the template
features are centred per channel and the sum is divided by the norms of the centred template
and of the (uncentred) ROI window,

    O^L(u) = sum_{c, q} Z_c(u + q) (X_c(q) - mean X_c) / (|X^L - mean X^L| |Z^L window(u)|),

a value in [-1, 1] (Cauchy-Schwarz): 0 on a uniform window, large where the window's pattern is
the template's. Unlike a full correlation coefficient (OpenCV's ``TM_CCOEFF_NORMED``, which also
centres every ROI window) an exact copy of the template scores below 1 when the window has a
large mean, i.e. windows are ranked by pattern *and* by how much of their energy is pattern;
centring the windows too would need per-channel window sums (C integral images instead of one). Raw sums scale with the square of the feature magnitudes, which without batch
normalisation start tiny (Xavier weights under ReLUs), are mostly positive (ReLU features) and
drift during training: the 1x1 fusion would first have to grow its weights by orders of
magnitude before appearance could shape the output. Normalised, the three levels are comparable
with each other, across profiles and across template scales (the tracker's scale search relies
on that). Cost: centring happens before the FFT (free), and the window norms come from one
integral image per level, O(R^2).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import ModelConfig
from .backbone import SiameseAtrousBackbone
from .xcorr import XCorr, template_spectrum, xcorr_with_spectrum

__all__ = ["ANet", "PreparedTemplate", "box_sums", "centre_template", "normalise_correlation"]


def box_sums(t: torch.Tensor, Ht: int, Wt: int) -> torch.Tensor:
    """Sum of ``t`` [B, C, H, W] over every ``Ht x Wt`` window: [B, C, H - Ht + 1, W - Wt + 1].

    From an integral image accumulated in float64 (differences of large sums must stay exact);
    aligned with the valid correlation grid (window ``u`` starts at pixel ``u``).
    """
    c = torch.nn.functional.pad(t.double(), (1, 0, 1, 0)).cumsum(-1).cumsum(-2)
    return c[..., Ht:, Wt:] - c[..., :-Ht, Wt:] - c[..., Ht:, :-Wt] + c[..., :-Ht, :-Wt]


def centre_template(x_feats: torch.Tensor) -> torch.Tensor:
    """Template features minus their per-channel spatial mean: [B, C, T, T] -> [B, C, T, T]."""
    return x_feats - x_feats.mean((2, 3), keepdim=True)


# Squared norms are floored here before the square root: sqrt has an infinite derivative at 0,
# and a featureless window (all ReLU features 0, e.g. a flat region) then gave NaN gradients
# (0 * inf) that wrecked a training run. Below the floor the correlation is 0 anyway, and the
# clamp passes no gradient there; above it nothing changes.
_NORM2_FLOOR = 1e-12


def template_norms(x_centred: torch.Tensor, groups) -> torch.Tensor:
    """``|x_centred|`` per group of channels: [B, C, T, T] -> [B, G]."""
    xs = torch.split(x_centred, list(groups), 1)
    return torch.stack([x.pow(2).sum((1, 2, 3)) for x in xs], 1).clamp_min(_NORM2_FLOOR).sqrt()


def normalise_correlation(raw: torch.Tensor, z_feats: torch.Tensor, x_centred: torch.Tensor, groups,
                          eps: float = 1e-6, x_norm: torch.Tensor | None = None) -> torch.Tensor:
    """Divide raw correlations [B, G, Ho, Wo] of ``z_feats`` with a *centred* template by
    ``|x_centred|`` (per group; ``x_norm`` [B, G] when already known) and by the ROI window
    norms ``sqrt(box(sum_c Z_c^2))``."""
    Ht, Wt = x_centred.shape[-2:]
    zs = torch.split(z_feats, list(groups), 1)
    if x_norm is None:
        x_norm = template_norms(x_centred, groups)                                    # [B, G]
    energy = torch.stack([z.pow(2).sum(1) for z in zs], 1)                            # [B, G, H, W]
    z_norm = box_sums(energy, Ht, Wt).clamp_min(_NORM2_FLOOR).sqrt().to(raw.dtype)     # [B, G, Ho, Wo]
    return raw / (z_norm * x_norm[:, :, None, None] + eps)


@dataclass(frozen=True)
class PreparedTemplate:
    """A template made ready for matching ROIs of one size, reusable while it does not change
    (a tracker's anchor template): everything ``level_maps`` computes from the template alone.

    ``features`` [B, C, T, T] (the backbone's), ``centred`` (``centre_template``), ``spectrum``
    (``xcorr.template_spectrum`` of ``centred`` on the ROI grid, [B, C, R, R // 2 + 1]),
    ``norms`` [B, G] (``template_norms``). ``B = 1`` broadcasts over a batch of ROIs.
    """

    features: torch.Tensor
    centred: torch.Tensor
    spectrum: torch.Tensor
    norms: torch.Tensor


class ANet(nn.Module):
    def __init__(self, cfg: ModelConfig, xcorr_method: str = "fft"):
        super().__init__()
        self.cfg = cfg
        self.backbone = SiameseAtrousBackbone(cfg)
        self.xcorr = XCorr(groups=cfg.level_channels, method=xcorr_method)
        self.fuse = nn.Conv2d(len(cfg.level_channels), 1, 1)

    def prepare_template(self, x_feats: torch.Tensor, roi_size: int) -> PreparedTemplate:
        """What matching needs from template features [B, C, T, T], for ROIs of side ``roi_size``."""
        xc = centre_template(x_feats)
        return PreparedTemplate(x_feats, xc, template_spectrum(xc, roi_size, roi_size),
                                template_norms(xc, self.cfg.level_channels))

    def level_maps(self, z_feats: torch.Tensor, x_feats) -> torch.Tensor:
        """Per-level normalised correlation maps ``O^L`` [B, 3, H, W] from backbone features.

        ``x_feats``: template features [B, C, T, T], or a ``PreparedTemplate`` (its spectrum and
        norms are reused: the same numbers, the template's transform skipped).
        """
        groups = self.cfg.level_channels
        if isinstance(x_feats, PreparedTemplate):
            p = x_feats
            raw = xcorr_with_spectrum(z_feats, p.spectrum, p.centred.shape[-2:], groups)
            return normalise_correlation(raw, z_feats, p.centred, groups, x_norm=p.norms)
        xc = centre_template(x_feats)
        return normalise_correlation(self.xcorr(z_feats, xc), z_feats, xc, groups)

    def score_near(self, z_feats: torch.Tensor, x_feats: torch.Tensor, i: int, j: int, radius: int = 1) -> torch.Tensor:
        """``O_A`` of templates ``x_feats`` [S, C, T, T] on cells within ``radius`` of ``(i, j)`` only.

        The same normalised correlation and 1x1 fusion as ``forward``, evaluated on the
        ``(2 radius + 1)^2`` windows of the ROI features [1, C, R, R] around the cell (cells
        outside the map are left out, so near the border there are fewer): the windows are
        gathered into a matrix and all templates scored with one matrix product per level, a
        few million multiply-adds instead of a whole map (a grouped ``conv2d`` with T x T kernels
        was 4-8x slower at radius 0 on our CPU). The tracker's scale search uses it. Returns
        [S, 1, rows, cols] with ``rows, cols <= 2 radius + 1``.
        """
        T = x_feats.shape[-1]
        H = z_feats.shape[-1] - T + 1
        rows = range(max(i - radius, 0), min(i + radius, H - 1) + 1)
        cols = range(max(j - radius, 0), min(j + radius, H - 1) + 1)
        windows = torch.stack([z_feats[0, :, a:a + T, b:b + T] for a in rows for b in cols])  # [K, C, T, T]
        xc = centre_template(x_feats).contiguous()
        S, K = xc.shape[0], windows.shape[0]
        levels, start = [], 0
        for g in self.cfg.level_channels:
            w = windows[:, start:start + g].reshape(K, -1)                   # [K, g T T]
            x = xc[:, start:start + g].reshape(S, -1)                        # [S, g T T]
            raw = x @ w.T                                                    # [S, K]
            # normalise_correlation's formula, per gathered window instead of by integral image
            norm = x.norm(dim=1, keepdim=True) * w.double().norm(dim=1).to(w.dtype)[None]
            levels.append(raw / (norm + 1e-6))
            start += g
        levels = torch.stack(levels, 1).reshape(S, len(self.cfg.level_channels), len(rows), len(cols))
        return self.fuse(levels)

    def forward(self, z_t: torch.Tensor, x_prev: torch.Tensor, return_maps: bool = False,
                template_features: torch.Tensor | None = None):
        """``z_t`` [B, 3, R, R], ``x_prev`` [B, 3, T, T] (floats in [0, 1]) -> ``O_A`` [B, 1, H, W].

        ``template_features``: the backbone's output for ``x_prev`` [B, 190, T, T] when the caller
        already has it, or a ``PreparedTemplate`` (``prepare_template``: a tracker's unchanged
        template is transformed once); the template's per-layer maps are then not in
        ``return_maps``' dictionary.
        """
        zf, zmaps = self.backbone(z_t, return_maps=True) if return_maps else (self.backbone(z_t), {})
        if template_features is not None:
            xf, xmaps = template_features, {}
        else:
            xf, xmaps = self.backbone(x_prev, return_maps=True) if return_maps else (self.backbone(x_prev), {})
        levels = self.level_maps(zf, xf)
        o_a = self.fuse(levels)
        if not return_maps:
            return o_a
        maps = {f"roi_{k}": v for k, v in zmaps.items()}
        maps.update({f"template_{k}": v for k, v in xmaps.items()})
        maps.update({f"O_L{i + 1}": levels[:, i:i + 1] for i in range(levels.shape[1])})
        maps["roi_features"] = zf
        maps["template_features"] = xf.features if isinstance(xf, PreparedTemplate) else xf
        maps["O_A"] = o_a
        return o_a, maps
