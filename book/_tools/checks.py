"""`approx`: check a number from a tracking or training run and print only the digits that hold.

    from _tools.checks import approx              # a chapter runs from book/, so _tools is importable
    print("success AUC", approx(auc, 0.447, 0.01))   # asserts |auc - 0.447| <= 0.01, prints 0.45

Why: a tracking run feeds each frame's result into the next frame's crops, so float rounding that
differs between CPUs (oneDNN and ATen pick code paths by instruction set and thread count) or
library versions moves the boxes a little and the scores in the third digit. nbval compares a
cell's printed text exactly, so such numbers are not printed to the last digit; the cell asserts
them against a reference it states, within a tolerance it states, and prints them rounded to a
step no run that passes the assert can straddle. Exact things (shapes, counts of parameters,
hand-computed values) are printed as they are, without this.
"""
from __future__ import annotations

import json
import math
import os
import traceback

# Rounding steps, finest first: 1e-6, 5e-6, 1e-5, ..., 0.01, 0.05, 0.1, ..., 5000.
STEPS = tuple(m * 10.0 ** e for e in range(-6, 4) for m in (1, 5))


def _round(x: float, step: float) -> float:
    return math.floor(x / step + 0.5) * step   # monotone in x: one bin per step


def approx(value, ref: float, tol: float, digits: int | None = None) -> str:
    """``value`` as text, rounded to the finest step whose rounding bin holds ``ref ± tol``.

    Asserts ``|value - ref| <= tol``: ``ref`` is the value the chapter states (measured when the
    book was last executed), ``tol`` how far float rounding on another machine may move it (each
    cell says how it was chosen). Every value that passes prints the same text, so the printed
    digits are the ones that hold on any machine that passes. ``digits`` asks for that many
    decimals instead of the finest safe step (a ValueError if ``ref ± tol`` straddles a rounding
    boundary there). If the assert fails after a change to the package (weights, tracker
    settings), update ``ref`` from the message.
    """
    value = float(value)
    record = os.environ.get("APPROX_RECORD")
    if record:
        # Re-referencing after a change to the package (new weights): set APPROX_RECORD=file, run
        # the chapter, and every call appends its value and stated reference (with the calling
        # line) to that file instead of asserting; then update the references in the chapter.
        caller = traceback.extract_stack(limit=2)[0]
        with open(record, "a") as f:
            f.write(json.dumps({"value": value, "ref": ref, "tol": tol, "line": caller.line}) + "\n")
        ref = value
    assert abs(value - ref) <= tol, (
        f"{value!r} is not within {tol} of the reference {ref}: if the package changed, update the reference")
    steps = STEPS if digits is None else (10.0 ** -digits,)
    for step in steps:
        if _round(ref - tol, step) == _round(ref + tol, step):
            decimals = max(0, -math.floor(math.log10(step) + 1e-9))
            text = f"{_round(value, step):.{decimals}f}"
            if digits is None and "." in text:   # a step of 0.05 prints 0.45 or 0.5, not 0.50
                text = text.rstrip("0").rstrip(".")
            return text
    raise ValueError(f"{ref} ± {tol} straddles a rounding boundary"
                     + ("" if digits is None else f" at {digits} decimals: print fewer, or narrow the tolerance"))
