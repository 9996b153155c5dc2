"""Scale estimators: how the box size follows the target (the paper does not say).

Each estimator says which ROI scales the network looks at in one batch (``factors``: ROI sides
``S * f``), picks the peak among their score maps (``choose``) and updates the size
(``new_size``). Chosen by name in ``TrackerConfig.scale`` (``make_scale_estimator``):

* ``"none"``: one ROI, the size stays the first box's;
* ``"pyramid"``: SiamFC's search: ROIs at ``S / step`` and ``S * step`` beside ``S``, the same
  template matched in all three (one batched forward pass, ~3x the network's work). A bigger
  ROI makes the target look smaller; if it matches best, the target grew. Changed scales pay
  ``penalty`` and the size moves ``lr`` of the way (damping);
* ``"template"``: ours from session 1, cheaper: two templates cut ``step`` larger / smaller are
  scored against the base ROI's features at the peak only (``ANet.score_near``). Normalised
  correlations of templates of different crop sizes are not comparable (one size keeps
  winning), so the box tends to drift: chapter 6 measures it.

``step = 1`` turns any search off.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ScaleEstimator", "NoScale", "PyramidScale", "TemplateScale", "SCALE_ESTIMATORS", "make_scale_estimator"]


class ScaleEstimator:
    """``factors``: ROI side multipliers evaluated together (1.0 first); ``needs_maps``: whether
    ``new_size`` reads the network's intermediate maps."""

    factors: tuple = (1.0,)
    needs_maps = False

    def __init__(self, step: float = 1.0, penalty: float = 1.0, lr: float = 1.0, radius: int = 0):
        if step <= 0 or not 0.0 <= lr <= 1.0 or penalty <= 0:
            raise ValueError(f"scale search needs step > 0, penalty > 0, 0 <= lr <= 1; got {step}, {penalty}, {lr}")
        self.step, self.penalty, self.lr, self.radius = float(step), float(penalty), float(lr), int(radius)

    def choose(self, scores: np.ndarray) -> tuple[int, int, int]:
        """``(k, i, j)``: the scale and cell of the maximum of ``scores`` [n, H, W]."""
        k, i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
        return int(k), int(i), int(j)

    def new_size(self, size: np.ndarray, k: int, ctx) -> np.ndarray:
        return size


class NoScale(ScaleEstimator):
    pass


class PyramidScale(ScaleEstimator):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.factors = (1.0,) if self.step == 1.0 else (1.0, 1.0 / self.step, self.step)

    def choose(self, scores):
        scores = scores.copy()
        scores[1:] *= self.penalty
        return super().choose(scores)

    def new_size(self, size, k, ctx):
        return size * ((1 - self.lr) + self.lr * self.factors[k])


class TemplateScale(ScaleEstimator):
    @property
    def needs_maps(self):  # the ROI features, only when the search is on
        return self.step != 1.0

    def new_size(self, size, k, ctx):
        if self.step == 1.0:
            return size
        steps = (self.step, 1.0 / self.step)
        xf = ctx.rescaled_templates(steps)                        # [3, C, T, T]: base, larger, smaller
        scores = ctx.model.anet.score_near(ctx.roi_features, xf, ctx.i, ctx.j, self.radius)
        scores = scores.flatten(1).amax(1).cpu().numpy()
        scores[1:] *= self.penalty if scores[0] >= 0 else 1.0 / self.penalty
        best = int(np.argmax(scores))
        if best == 0:
            return size
        # A template cropped f times larger shows the target f times smaller: if it matches
        # best, the target shrank by f.
        return (1 - self.lr) * size + self.lr * size / steps[best - 1]


SCALE_ESTIMATORS = {"none": NoScale, "pyramid": PyramidScale, "template": TemplateScale}


def make_scale_estimator(name: str, step: float = 1.0, penalty: float = 1.0, lr: float = 1.0,
                         radius: int = 0) -> ScaleEstimator:
    try:
        cls = SCALE_ESTIMATORS[name]
    except KeyError:
        raise ValueError(f"unknown scale estimator {name!r}; choose one of {sorted(SCALE_ESTIMATORS)}") from None
    return cls(step, penalty, lr, radius)
