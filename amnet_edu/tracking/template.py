"""Template-update strategies: which template features the tracker matches in each frame.

The paper replaces the template every frame by the patch at the newly tracked state (its
"progressive update", ``"paper"``). Every state's error is then baked into the next template,
and a network that matches templates does not pull the box back onto the object: errors add
up and the box drifts (``../shared/notes/measurements.md``). The other strategies keep an
*anchor*, the first frame's template, cut on the box the user gave:

* ``"paper"``: the template at the state of frame ``t-1`` (the paper);
* ``"anchor"``: the first frame's template, always (SiamFC's choice);
* ``"moving_average"``: ``f <- (1 - rate) f + rate f_{t-1}`` on the template *features*
  (``rate = 1`` is the paper, ``0`` the anchor);
* ``"anchor_recent"``: ``(1 - rate) f_anchor + rate f_recent``, where ``f_recent`` is the last
  template whose frame was tracked confidently (the response's maximum at least ``gate``).

``gate`` (a response value in (0, 1)) holds back updates of ``moving_average`` and
``anchor_recent`` after an unsure frame (occlusion, a distractor), so a bad frame does not
poison the template. Each strategy is a small object with one method, ``features``, chosen by
name in ``TrackerConfig.template`` (``make_template_strategy``).
"""
from __future__ import annotations

from typing import Callable

import torch

__all__ = ["TemplateStrategy", "PaperTemplate", "AnchorTemplate", "MovingAverageTemplate",
           "AnchorRecentTemplate", "TEMPLATE_STRATEGIES", "make_template_strategy"]


class TemplateStrategy:
    """``features(current, confidence)`` -> the template features [1, C, T, T] to match now.

    ``current()`` computes the features of the template at the state of frame ``t-1`` (a crop
    and a backbone pass: strategies that do not need it never call it); ``confidence`` is the
    previous frame's response maximum (None on the first update). ``anchor`` is set by the
    tracker at ``init`` (the first frame's template features).
    """

    def __init__(self, rate: float = 1.0, gate: float = 0.0):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"template rate must be in [0, 1], got {rate}")
        self.rate, self.gate = float(rate), float(gate)
        self.anchor: torch.Tensor | None = None

    def start(self, anchor: torch.Tensor) -> None:
        self.anchor = anchor

    def features(self, current: Callable[[], torch.Tensor], confidence: float | None) -> torch.Tensor:
        raise NotImplementedError

    def _confident(self, confidence) -> bool:
        return confidence is None or confidence >= self.gate


class PaperTemplate(TemplateStrategy):
    def features(self, current, confidence):
        return current()


class AnchorTemplate(TemplateStrategy):
    def features(self, current, confidence):
        return self.anchor


class MovingAverageTemplate(TemplateStrategy):
    def start(self, anchor):
        super().start(anchor)
        self._avg = anchor

    def features(self, current, confidence):
        if self.rate > 0 and self._confident(confidence):
            self._avg = (1 - self.rate) * self._avg + self.rate * current()
        return self._avg


class AnchorRecentTemplate(TemplateStrategy):
    def start(self, anchor):
        super().start(anchor)
        self._mixed = anchor

    def features(self, current, confidence):
        # the mix changes only with the recent template: an unchanged tensor lets the tracker
        # reuse the template's prepared spectrum
        if self._confident(confidence):
            self._mixed = (1 - self.rate) * self.anchor + self.rate * current()
        return self._mixed


TEMPLATE_STRATEGIES = {"paper": PaperTemplate, "anchor": AnchorTemplate, "moving_average": MovingAverageTemplate,
                       "anchor_recent": AnchorRecentTemplate}


def make_template_strategy(name: str, rate: float = 1.0, gate: float = 0.0) -> TemplateStrategy:
    try:
        cls = TEMPLATE_STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown template strategy {name!r}; choose one of {sorted(TEMPLATE_STRATEGIES)}") from None
    return cls(rate, gate)
