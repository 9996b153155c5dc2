"""Online heads (ours, beyond the paper): a discriminative model learned *while* tracking.

AMNet's appearance stream matches a fixed template: it learns nothing about the background
of the sequence at hand, so a patch that resembles the template (a parked car next to a
moving one, the building behind a walking couple when the camera pans) can win the maximum
and keep it. Correlation-filter trackers (MOSSE, DSST, CSRT) do the opposite: every frame
they fit a linear filter that answers 1 on the target and 0 on the background *around it*,
so what surrounds the target is learned as a negative. ``CorrelationFilterHead`` fits such
a filter on ANet's own ROI features (the backbone's 190 channels, already computed for the
correlation: no second backbone pass) and its map is mixed into the tracker's score
(``TrackerConfig.online = "dcf"``, weight ``online_weight``).

The filter (the multi-channel closed form of MOSSE/DSST, Bolme et al. CVPR 2010; Danelljan
et al. BMVC 2014), in the Fourier domain (hats), for ROI features ``Z_c`` [R, R] windowed by
a Hann window, a Gaussian label ``y`` peaked at the target's ROI position ``p``, and a
running average of rate ``eta`` over frames::

    A_c <- (1 - eta) A_c + eta conj(Y) Z_c,    B <- (1 - eta) B + eta sum_c |Z_c|^2
    r    = IFFT( sum_c conj(A_c) Z'_c / (B + lambda) )      (the map on new features Z')

``lambda = lam * mean(B)`` (relative, so the features' scale does not matter). For one
frame (``eta = 1``) and ``Z' = Z``, ``r = IFFT(Y B / (B + lambda))``, which tends to the
label ``y`` as ``lambda -> 0``; for ``Z'`` the same features moved by ``d`` pixels, ``r`` is
the label moved by ``d``: its peak is where the target now is in the ROI (both tested). The
ROI is recentred on the target every frame, and a filter learned with the label at the
target's position in *its* ROI answers at the target's position in the next one: the
running average stays consistent from frame to frame.

Shapes: features [n, C, R, R] (``n`` ROIs, e.g. the scales of a pyramid), maps [n, R, R] on
the ROI pixel grid (pixel ``k`` centred at ``k + 0.5``, as ``model.amnet.to_response_grid``
expects).
"""
from __future__ import annotations

import torch

__all__ = ["OnlineHead", "CorrelationFilterHead", "ONLINE_HEADS", "make_online_head"]


class OnlineHead:
    """``start(features, pos, size)`` once, then per frame ``prepare(features)``,
    ``response()`` and ``learn(k, pos, size)``. ``features``: the frame's ROI features
    [n, C, R, R] (``n`` ROI scales; ``start`` takes one); ``response()``: the head's maps
    [n, R, R] for them; ``learn`` fits the head to ROI ``k`` of the prepared features, with
    the target at ROI position ``pos = (x, y)`` (pixels), of side ``size`` ROI pixels."""

    active = True

    def start(self, features: torch.Tensor, pos, size: float) -> None:
        raise NotImplementedError

    def prepare(self, features: torch.Tensor) -> None:
        raise NotImplementedError

    def response(self) -> torch.Tensor:
        raise NotImplementedError

    def learn(self, k: int, pos, size: float) -> None:
        raise NotImplementedError


class NoHead(OnlineHead):
    """``online="none"`` (the paper): nothing is learned while tracking."""

    active = False

    def start(self, features, pos, size):
        pass

    def prepare(self, features):
        pass

    def learn(self, k, pos, size):
        pass


class CorrelationFilterHead(OnlineHead):
    """The multi-channel correlation filter of the module docstring.

    ``rate``: ``eta``, how fast the filter forgets (0 < rate <= 1); ``lam``: the regulariser
    relative to the mean spectral energy; ``sigma``: the label's standard deviation as a
    fraction of the target's side (at least one cell); ``window``: Hann-window the features
    before the transform (without it the circular correlation wraps the ROI's borders onto
    each other); ``cell``: the filter works on ``cell x cell`` averages of the features (as
    DSST's HOG cells), ``cell**2`` times fewer frequencies, and its map is resampled
    (bilinear) back to the ROI's pixels.
    """

    def __init__(self, rate: float = 0.02, lam: float = 1e-2, sigma: float = 0.1,
                 window: bool = True, cell: int = 1):
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"online rate must be in (0, 1], got {rate}")
        if lam <= 0 or sigma <= 0:
            raise ValueError(f"lam and sigma must be positive, got {lam} and {sigma}")
        if int(cell) != cell or cell < 1:
            raise ValueError(f"online cell must be a positive integer, got {cell}")
        self.rate, self.lam, self.sigma = float(rate), float(lam), float(sigma)
        self.window, self.cell = bool(window), int(cell)
        self._Ac = self._B = self._Z = self._hann = None

    def _spectrum(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 4 or features.shape[-1] != features.shape[-2]:
            raise ValueError(f"expected ROI features [n, C, R, R], got {tuple(features.shape)}")
        z = features.float()
        if self.cell > 1:
            if z.shape[-1] % self.cell:
                raise ValueError(f"ROI side {z.shape[-1]} is not a multiple of the cell {self.cell}")
            z = torch.nn.functional.avg_pool2d(z, self.cell)
        if self.window:
            R = z.shape[-1]
            if self._hann is None or self._hann.shape[-1] != R:
                h = torch.hann_window(R + 2, periodic=False, dtype=z.dtype, device=z.device)[1:-1]
                self._hann = h[:, None] * h[None, :]
            z = z * self._hann
        return torch.fft.rfft2(z)                                   # [n, C, R, R//2+1]

    def label(self, R: int, pos, size: float, device=None) -> torch.Tensor:
        """The Gaussian label ``y`` [R, R] peaked at ``pos = (x, y)``, wrapped circularly."""
        sig = max(self.sigma * float(size), 1.0)
        c = torch.arange(R, dtype=torch.float32, device=device) + 0.5
        dx = torch.remainder(c - float(pos[0]) + R / 2, R) - R / 2
        dy = torch.remainder(c - float(pos[1]) + R / 2, R) - R / 2
        return torch.exp(-(dy[:, None] ** 2 + dx[None, :] ** 2) / (2 * sig * sig))

    def start(self, features, pos, size):
        if features.dim() != 4 or features.shape[0] != 1:
            raise ValueError(f"start() takes one ROI's features [1, C, R, R], got {tuple(features.shape)}")
        self.prepare(features)
        self._fit(0, pos, size, 1.0)            # rate 1: replaces any earlier fit

    def prepare(self, features):
        self._Z = self._spectrum(features)

    def response(self) -> torch.Tensor:
        if self._Ac is None or self._Z is None:
            raise RuntimeError("call start(...) and prepare(features) before response()")
        R = self._Z.shape[-2]
        lam = self.lam * self._B.mean()
        num = (self._Ac * self._Z).sum(1)                              # [n, R, R//2+1]
        r = torch.fft.irfft2(num / (self._B + lam), s=(R, R))
        if self.cell == 1:
            return r
        # cell k's centre is at pixel (k + 0.5) cell: align_corners=False maps it there
        up = torch.nn.functional.interpolate(
            r[:, None], scale_factor=self.cell, mode="bilinear", align_corners=False)
        return up[:, 0]

    def learn(self, k, pos, size):
        self._fit(k, pos, size, self.rate)

    def _fit(self, k, pos, size, rate):
        Z = self._Z[k]
        R, c = Z.shape[-2], self.cell
        Y = torch.fft.rfft2(self.label(R, (pos[0] / c, pos[1] / c), size / c, Z.device))
        # kept as conj(A) = Y conj(Z) (the same numbers, conjugated exactly), so
        # that the map needs no conjugated copy of it
        Ac = Y[None] * Z.conj()
        B = torch.view_as_real(Z).square().sum(-1).sum(0)            # sum_c |Z_c|^2
        if self._Ac is None or rate >= 1.0:
            self._Ac, self._B = Ac, B
        else:
            self._Ac.mul_(1.0 - rate).add_(Ac, alpha=rate)
            self._B.mul_(1.0 - rate).add_(B, alpha=rate)


ONLINE_HEADS = {"none": NoHead, "dcf": CorrelationFilterHead}


def make_online_head(name: str, rate: float = 0.02, cell: int = 1) -> OnlineHead:
    """The online head called ``name`` (``ONLINE_HEADS``), with its learning rate and cell."""
    try:
        cls = ONLINE_HEADS[name]
    except KeyError:
        raise ValueError(f"unknown online head {name!r}; choose one of {sorted(ONLINE_HEADS)}") from None
    return cls() if cls is NoHead else cls(rate=rate, cell=cell)

