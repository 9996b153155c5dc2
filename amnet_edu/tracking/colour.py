"""Colour models (ours, beyond the paper): a per-pixel colour likelihood learned while tracking.

Both of AMNet's streams and the online filter (``tracking.online``) score *templates*: rigid
patterns of features. A target that deforms or turns (a blown bag, a skater's limbs) changes
its pattern but mostly keeps its colours, and a look-alike of the same shape but other colours
scores as high as the target. Staple (Bertinetto et al., CVPR 2016) pairs a correlation filter
with exactly this complementary cue, a colour histogram of the target against its surroundings.
``ColourHistogram`` is that model on the tracker's ROI pixels (``TrackerConfig.colour =
"histogram"``, its map's share of the score ``colour_weight``).

For ROI pixels ``u`` with colour bin ``b(u)`` (``bins`` levels per RGB channel), the target's box
``O`` and the rest of the ROI ``B``, the model keeps colour densities (running averages of rate
``eta`` over frames)::

    rho_O(b) <- (1 - eta) rho_O(b) + eta |{u in O: b(u) = b}| / |O|       (and rho_B alike)

and scores each pixel by the probability that its colour is the target's (0 for a colour seen
in neither region), then each position ``p`` by the mean of that probability over a
target-sized box ``W(p)`` centred there (Staple's Eq. 11-13, by a box filter)::

    P(u) = rho_O(b(u)) / (rho_O(b(u)) + rho_B(b(u))),      r(p) = mean_{u in W(p)} P(u)

Shapes: ROIs [n, R, R, 3] (uint8 RGB, ``n`` ROI scales), maps [n, R, R] in [0, 1] on the ROI
pixel grid (pixel ``k`` centred at ``k + 0.5``, as ``model.amnet.to_response_grid`` expects);
target sizes ``(w, h)`` in ROI pixels.
"""
from __future__ import annotations

import cv2
import numpy as np

__all__ = ["ColourModel", "ColourHistogram", "COLOUR_MODELS", "make_colour_model"]


class ColourModel:
    """``start(roi, pos, size, valid)`` once, then per frame ``response(rois, sizes, valid)`` and
    ``learn(roi, pos, size, valid)``. ``roi`` [R, R, 3] uint8, ``pos = (x, y)`` the target's
    centre in ROI pixels, ``size = (w, h)`` its box in ROI pixels; ``rois`` [n, R, R, 3] with one
    size per ROI in ``sizes``; ``valid`` [R, R] bool ([n, R, R] for ``response``), the ROI pixels
    inside the frame (the rest is padding, whose colour says nothing about the scene; ``None``:
    all); ``response`` returns [n, R, R]."""

    active = True

    def start(self, roi: np.ndarray, pos, size, valid=None) -> None:
        raise NotImplementedError

    def response(self, rois, sizes, valid=None) -> np.ndarray:
        raise NotImplementedError

    def learn(self, roi: np.ndarray, pos, size, valid=None) -> None:
        raise NotImplementedError


class NoColour(ColourModel):
    """``colour="none"`` (the paper): no colour model."""

    active = False

    def start(self, roi, pos, size, valid=None):
        pass

    def learn(self, roi, pos, size, valid=None):
        pass


def box_mask(R: int, pos, size) -> np.ndarray:
    """[R, R] bool: the ROI pixels whose centres ``(k + 0.5)`` lie inside the box of ``size =
    (w, h)`` centred at ``pos = (x, y)``."""
    c = np.arange(R) + 0.5
    inx = np.abs(c - float(pos[0])) <= float(size[0]) / 2
    iny = np.abs(c - float(pos[1])) <= float(size[1]) / 2
    return iny[:, None] & inx[None, :]


class ColourHistogram(ColourModel):
    """The colour-histogram model of the module docstring.

    ``bins``: levels per RGB channel (``bins**3`` colours; 16 keeps a small target's few hundred
    ROI pixels from spreading over too many empty bins); ``rate``: ``eta``, how fast the densities
    follow the target (0 < rate <= 1).
    """

    def __init__(self, bins: int = 16, rate: float = 0.04):
        if int(bins) != bins or not 2 <= bins <= 256 or 256 % bins:
            raise ValueError(f"colour bins must divide 256 (2 to 256), got {bins}")
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"colour rate must be in (0, 1], got {rate}")
        self.bins, self.rate = int(bins), float(rate)
        self._fg = self._bg = None

    def bin_index(self, roi: np.ndarray) -> np.ndarray:
        """[..., 3] uint8 -> [...] int: the colour bin of each pixel."""
        roi = np.asarray(roi)
        if roi.dtype != np.uint8 or roi.shape[-1] != 3:
            raise ValueError(f"expected uint8 RGB pixels [..., 3], got {roi.dtype} {roi.shape}")
        q = (roi >> (8 - int(np.log2(self.bins)))).astype(np.int64)
        return (q[..., 0] * self.bins + q[..., 1]) * self.bins + q[..., 2]

    def likelihood(self) -> np.ndarray:
        """``P`` per colour bin [bins**3]: ``rho_O / (rho_O + rho_B)``, 0 where both are 0."""
        if self._fg is None:
            raise RuntimeError("call start(...) before response(...)")
        tot = self._fg + self._bg
        return np.divide(self._fg, tot, out=np.zeros_like(tot), where=tot > 0)

    def start(self, roi, pos, size, valid=None):
        self._fit(roi, pos, size, 1.0, valid)

    def learn(self, roi, pos, size, valid=None):
        self._fit(roi, pos, size, self.rate, valid)

    def _fit(self, roi, pos, size, rate, valid):
        idx = self.bin_index(roi)
        box = box_mask(idx.shape[0], pos, size)
        ok = np.ones_like(box) if valid is None else np.asarray(valid, bool)
        inside, outside = box & ok, ~box & ok
        if not inside.any() or not outside.any():
            return  # no target pixels, or no background: nothing to learn from
        n = self.bins ** 3
        fg = np.bincount(idx[inside], minlength=n) / inside.sum()
        bg = np.bincount(idx[outside], minlength=n) / outside.sum()
        if self._fg is None or rate >= 1.0:
            self._fg, self._bg = fg, bg
        else:
            self._fg = (1.0 - rate) * self._fg + rate * fg
            self._bg = (1.0 - rate) * self._bg + rate * bg

    def response(self, rois, sizes, valid=None):
        P = self.likelihood()
        out = []
        for n, (roi, (w, h)) in enumerate(zip(rois, sizes)):
            p = P[self.bin_index(roi)].astype(np.float32)                     # [R, R]
            if valid is not None:  # padding is not the target
                p[~np.asarray(valid[n], bool)] = 0.0
            # the mean over a box with odd sides, so that it is centred on its pixel
            kw, kh = (max(1, int(round(v / 2)) * 2 + 1) for v in (w, h))
            out.append(cv2.boxFilter(p, -1, (kw, kh), borderType=cv2.BORDER_REFLECT))
        return np.stack(out)


COLOUR_MODELS = {"none": NoColour, "histogram": ColourHistogram}


def make_colour_model(name: str, rate: float = 0.04, bins: int = 16) -> ColourModel:
    """The colour model called ``name`` (``COLOUR_MODELS``), with its rate and bins."""
    try:
        cls = COLOUR_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown colour model {name!r}; choose one of {sorted(COLOUR_MODELS)}") from None
    return cls() if cls is NoColour else cls(bins=bins, rate=rate)
