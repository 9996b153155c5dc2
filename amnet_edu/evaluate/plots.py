"""Standard OPE plots: success plot, precision plot, per-attribute AUC bars.

Each function takes the dict returned by :func:`amnet_edu.evaluate.evaluate_ope` and returns a
matplotlib ``Figure`` (no ``plt.show()``; safe with the Agg backend, e.g. on a server); save it
with ``fig.savefig(path)``. Legends are sorted best first, as in the OTB papers.
"""
from __future__ import annotations

import numpy as np

from .metrics import PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS

__all__ = ["success_plot", "precision_plot", "attribute_plot", "save_plots"]


def _figure(figsize=(5.5, 4.5)):
    # Figure() directly, not pyplot: no global state, no GUI backend needed
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot(1, 1, 1)


def success_plot(results: dict, title: str = "Success plots of OPE"):
    """Success rate vs IoU threshold; legend ``NAME [AUC]`` (AUC = mean of the curve)."""
    fig, ax = _figure()
    order = sorted(results, key=lambda k: -np.nan_to_num(results[k]["success_auc"], nan=-1))
    for name in order:
        r = results[name]
        ax.plot(SUCCESS_THRESHOLDS, r["success_curve"], label=f"{name} [{r['success_auc']:.3f}]")
    ax.set(xlabel="Overlap threshold (IoU >)", ylabel="Success rate", xlim=(0, 1), ylim=(0, 1.05),
           title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return fig


def precision_plot(results: dict, title: str = "Precision plots of OPE"):
    """Precision vs centre-error threshold (px); legend ``NAME [P@20]``."""
    fig, ax = _figure()
    order = sorted(results, key=lambda k: -np.nan_to_num(results[k]["precision_20"], nan=-1))
    for name in order:
        r = results[name]
        ax.plot(PRECISION_THRESHOLDS, r["precision_curve"],
                label=f"{name} [{r['precision_20']:.3f}]")
    ax.axvline(20, color="gray", lw=0.8, ls="--")
    ax.set(xlabel="Location error threshold (px)", ylabel="Precision",
           xlim=(0, PRECISION_THRESHOLDS[-1]), ylim=(0, 1.05), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def attribute_plot(results: dict, title: str = "Success AUC per attribute (frames pooled)"):
    """Grouped bars: one group per attribute, one bar per tracker (pooled per-attribute AUC)."""
    attrs = sorted({a for r in results.values() for a in r.get("attributes", {})})
    fig, ax = _figure(figsize=(max(5.5, 1.0 + 0.9 * len(attrs)), 4.5))
    names = list(results)
    width = 0.8 / max(1, len(names))
    x = np.arange(len(attrs))
    for k, name in enumerate(names):
        att = results[name].get("attributes", {})
        vals = [att[a]["auc"] if a in att else np.nan for a in attrs]
        ax.bar(x + (k - (len(names) - 1) / 2) * width, vals, width, label=name)
    ax.set_xticks(x)
    ax.set_xticklabels(attrs, rotation=30, ha="right")
    ax.set(ylabel="Success AUC", ylim=(0, 1), title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def save_plots(results: dict, out_dir) -> list:
    """Write ``success.png``, ``precision.png`` and ``attributes.png`` to ``out_dir``."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fname, fn in (("success.png", success_plot), ("precision.png", precision_plot),
                      ("attributes.png", attribute_plot)):
        fig = fn(results)
        fig.savefig(out / fname, dpi=120, bbox_inches="tight")
        paths.append(out / fname)
    return paths
