"""Explicit configuration: one small frozen dataclass per profile, passed in, never global.

Two profiles of the same architecture (``ModelConfig``):

* ``paper``: the paper's sizes (Section 4.1): template ``T = 64``, ROI ``R = 192``, for a GPU.
* ``cpu``:   half the resolution (``T = 32``, ``R = 96``), same layers, so that training and
  real-time tracking fit a 2-core CPU. The receptive field of Table 1 (29 px) then covers
  almost the whole template instead of half of it.

Everything the paper leaves open is decided here, with the reason next to it.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict, replace

__all__ = ["ModelConfig", "PAPER", "CPU", "get_config", "PROFILES"]

# Table 1 of the paper: (kernel size, output channels, atrous rate) for conv1..conv6.
TABLE1 = ((5, 6, 1), (3, 12, 2), (3, 24, 3), (5, 36, 1), (3, 48, 2), (3, 64, 3))
# Lateral connections of Table 1 (0-based layer indices): conv1+conv4, conv2+conv5, conv3+conv6.
LATERAL = ((0, 3), (1, 4), (2, 5))


MOTION_PYRAMIDS = ("paper", "none", "dilated")
FUSIONS = ("paper", "gated")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and the choices the paper leaves open.

    Attributes:
        name: profile name.
        template_size: side ``T`` of the square template patch ``x_{t-1}`` (paper: 64).
        roi_size: side ``R`` of the square ROIs ``z_t``, ``z_{t-1}`` (paper: 192 = 3 T).
        backbone: Table 1, ``(kernel, channels, rate)`` per layer; do not change for AMNet.
        lateral: Table 1's lateral connections, pairs of layer indices concatenated per level.
        contrast_kernels: the three cascaded kernel sizes of the deep contrast module (eqs. 3-4).
            The paper fixes conv3 to 3x3 (eq. 4) and says "filters of different sizes are
            cascaded"; we take large-to-small (7, 5, 3) so the first layer sees the widest
            neighbourhood, like a Laplacian-of-Gaussian stack.
        spotlight_kernels: sizes ``k`` of the parallel Spotlight filters (eqs. 5-7), one per
            motion magnitude. Chosen to span the inter-frame displacement expected at each
            profile's ROI scale.
        spotlight_channels: output channels of each Spotlight convolution (ReLU'd before the
            1x1 fusion; see ``model/spotlight.py`` for why).
        suppression_kernels: the three cascaded stride-2 average pools (background suppression).
        enhancement_kernels: the three cascaded stride-2 max pools (foreground enhancement).
        motion_pyramid: ``"paper"``: ``O_M`` is the Spotlight response through the suppression
            and enhancement pyramid (Section 3.2); ``"none"`` (ours): ``O_M`` is the Spotlight
            response itself, at full resolution. The pyramid's cascaded max pools spread a motion
            blob into a plateau several times its size and ``enhancement - suppression`` peaks
            at the plateau's edge, not on the object (``model/suppression.py``; measured in the
            book, chapter 4). ``"dilated"`` (ours): ``O_M`` is the Spotlight response through a
            learned context module of dilated convolutions at full resolution
            (``model/context.py``).
        motion_context_channels: width of that context module (``"dilated"`` only).
        motion_context_dilations: its dilation rates, one 3x3 convolution each; the receptive
            field is ``1 + 2 * sum(rates)`` ROI pixels, chosen to span about 1.5 target sizes.
        fusion: how the two streams meet. ``"paper"``: one 1x1 convolution on ``[O_A, O_M]``
            (Section 4.2). ``"gated"`` (ours): ``O_M`` first multiplied by a learned per-sample
            gate on appearance's confidence (``model/fusion.py``).
        gaussian_sigma: std (in map cells) of the Gaussian target map of eq. 8, relative to the
            template side: ``sigma = gaussian_sigma * T``.
    """

    name: str = "cpu"
    template_size: int = 32
    roi_size: int = 96
    backbone: tuple = TABLE1
    lateral: tuple = LATERAL
    contrast_kernels: tuple = (7, 5, 3)
    spotlight_kernels: tuple = (3, 5, 7)
    spotlight_channels: int = 4
    suppression_kernels: tuple = (5, 7, 9)
    enhancement_kernels: tuple = (3, 5, 7)
    gaussian_sigma: float = 0.08
    motion_pyramid: str = "paper"
    motion_context_channels: int = 8
    motion_context_dilations: tuple = (1, 2, 4, 8)
    fusion: str = "paper"

    def __post_init__(self):
        if self.template_size < 8 or self.roi_size <= self.template_size:
            raise ValueError(
                f"need 8 <= template_size < roi_size, got T={self.template_size}, R={self.roi_size}")
        if self.motion_pyramid not in MOTION_PYRAMIDS:
            raise ValueError(f"motion_pyramid must be one of {MOTION_PYRAMIDS}, got {self.motion_pyramid!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if self.roi_size % 8:
            raise ValueError(f"roi_size must be a multiple of 8 (three stride-2 pools), got {self.roi_size}")

    @property
    def response_size(self) -> int:
        """Side ``H = W = R - T + 1`` of the response maps (valid cross-correlation, eq. 2)."""
        return self.roi_size - self.template_size + 1

    @property
    def level_channels(self) -> tuple:
        """Channels of each lateral level: (42, 60, 88) for Table 1."""
        return tuple(self.backbone[a][1] + self.backbone[b][1] for a, b in self.lateral)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        for k in ("backbone", "lateral"):
            if k in d:
                d[k] = tuple(tuple(v) for v in d[k])
        for k in ("contrast_kernels", "spotlight_kernels", "suppression_kernels", "enhancement_kernels",
                  "motion_context_dilations"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)

    def replace(self, **changes) -> "ModelConfig":
        return replace(self, **changes)


PAPER = ModelConfig(name="paper", template_size=64, roi_size=192, spotlight_kernels=(3, 7, 11),
                    motion_context_dilations=(1, 2, 4, 8, 16))
CPU = ModelConfig(name="cpu", template_size=32, roi_size=96, spotlight_kernels=(3, 5, 7))
PROFILES = {"paper": PAPER, "cpu": CPU}


def get_config(profile) -> ModelConfig:
    """``ModelConfig`` for a profile name (``"paper"`` or ``"cpu"``) or a config passed through."""
    if isinstance(profile, ModelConfig):
        return profile
    try:
        return PROFILES[str(profile).lower()]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}") from None
