"""Stream diagnostics: what each response map has learned, measured where tracking needs it.

One tracking step is imitated on annotated frame pairs ``(t-1, t)`` of held-aside sequences
(the collection's ``val`` split by default): the template is cut on the **true** box (of frame
``t-1 - template_gap``, as an anchored tracker keeps an earlier template), and both ROIs are cut
at the same place, centred **off** the true centre at ``t-1`` by a tracking-sized error (each
axis ``N(0, error)`` times the target's size ``sqrt(w h)``). For each map we ask: does its
maximum land within ``radius`` (a quarter) of the target's size of the true centre at ``t``?

Maps compared (all on the correlation grid of ``model.amnet.to_response_grid``):

* ``O_A``: the appearance stream (ANet);
* ``O_M``: the motion stream (MNet), standardised as the fusion sees it;
* ``fused``: the network's output (``O_AM``; for ANet-only it is ``sigmoid(O_A)``);
* ``frame_diff``: plain frame differencing of the same two ROIs (mean absolute difference over
  the colour channels, smoothed by a Gaussian of ``T / 8`` pixels): what MNet must beat to be
  worth its cost;
* ``diff_aligned``: the same differencing after compensating the camera's motion (ours): the
  shift of the background between the two ROIs is estimated by phase correlation with the
  target's neighbourhood masked out (``camera_shift``) and the ROI at ``t-1`` is cut again that
  much displaced, so what a panning camera or drone moves everywhere cancels and what moves on
  its own remains;
* ``diff_pyramid``: that frame difference through the paper's suppression/enhancement pyramid
  (``SuppressionEnhancement``, parameter-free): what the pyramid does to a motion map that is
  already good;
* ``no_motion``: the ROI centre, i.e. staying where the tracker already is.

A map that "hits" more often than ``no_motion`` moves the tracker towards the target; O_M should
beat ``frame_diff`` and the fused map should beat O_A alone (the main tracking issue's targets).
Every draw is a function of ``(seed, sequence index, pair index)``, so results are reproducible.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..model.amnet import cell_to_roi, to_response_grid
from ..model.suppression import SuppressionEnhancement
from ..tracking.crops import crop_to_frame, template_side

__all__ = ["DiagnosticsConfig", "MAPS", "camera_shift", "stream_hits", "diagnose", "format_diagnostics", "main"]

MAPS = ("O_A", "O_M", "fused", "frame_diff", "diff_aligned", "diff_pyramid", "no_motion")


@dataclass(frozen=True)
class DiagnosticsConfig:
    pairs: int = 48            # frame pairs per sequence
    error: float = 0.3         # std per axis of the ROIs' centre error, in target sizes sqrt(w h)
    radius: float = 0.25       # a hit: maximum within this many target sizes of the true centre
    template_gap: int = 10     # the template comes from this many frames before t-1 (0: t-1)
    max_gap: int = 1           # frames between t-1 and t
    context: float = 0.5       # template context (the tracker's)
    roi_factor: float = 3.0    # ROI side / template side (the tracker's)
    seed: int = 0


def _pairs(src, n: int, dc: DiagnosticsConfig, rng: np.random.Generator):
    """``n`` triples ``(template frame, t-1, t)`` of annotated frames."""
    valid = src.valid
    ok = set(valid.tolist())
    cands = [(int(a), int(a) + g) for a in valid for g in range(1, dc.max_gap + 1) if int(a) + g in ok]
    if not cands:
        return []
    pick = rng.choice(len(cands), size=min(n, len(cands)), replace=False)
    out = []
    for k in sorted(pick):
        a, t = cands[k]
        lo = int(np.searchsorted(valid, a - dc.template_gap))
        out.append((int(valid[lo]), a, t))
    return out


def _frame_diff(z_t: np.ndarray, z_prev: np.ndarray, T: int) -> np.ndarray:
    import cv2

    d = np.abs(z_t.astype(np.float32) - z_prev.astype(np.float32)).mean(2)
    return cv2.GaussianBlur(d, (0, 0), max(T / 8.0, 0.5))


def camera_shift(prev: np.ndarray, cur: np.ndarray, target_side: float) -> tuple[float, float]:
    """How far the background moved from ROI ``prev`` to ROI ``cur`` (both ``R x R x 3`` uint8, cut
    at the same place): ``(dx, dy)`` in ROI pixels, content at ``p`` in ``prev`` is at ``p + d`` in
    ``cur``. Phase correlation (``cv2.phaseCorrelate``) of the grey images, weighted by a Hann
    window times ``1 - exp(-r^2 / (2 target_side^2))``, ``r`` the distance from the ROI's centre:
    the target, near the centre, would otherwise dominate the estimate (the Hann window alone
    weights the centre most) and its own motion would be compensated away."""
    import cv2

    if prev.shape != cur.shape or prev.ndim != 3 or prev.shape[0] != prev.shape[1]:
        raise ValueError(f"camera_shift takes two square ROIs of one shape, got {prev.shape} and {cur.shape}")
    R = prev.shape[0]
    yy, xx = np.mgrid[:R, :R] - (R - 1) / 2.0
    mask = 1.0 - np.exp(-(xx ** 2 + yy ** 2) / (2.0 * max(float(target_side), 1.0) ** 2))
    weight = cv2.createHanningWindow((R, R), cv2.CV_64F) * mask
    grey = lambda z: cv2.cvtColor(np.ascontiguousarray(z), cv2.COLOR_RGB2GRAY).astype(np.float64)
    (dx, dy), _ = cv2.phaseCorrelate(grey(prev), grey(cur), weight)
    return float(dx), float(dy)


@torch.inference_mode()
def stream_hits(model, src, dc: DiagnosticsConfig = DiagnosticsConfig(), index: int = 0,
                batch_size: int = 16) -> dict:
    """Hit flags of each map in ``MAPS`` on one source: ``{map: bool array [pairs]}``.

    ``src`` has the ``FrameSource`` interface (``boxes``, ``valid``, ``crop``); ``model`` an
    ``AMNet`` or ``ANetOnly``. ``index`` seeds this source's draws.
    """
    cfg = model.cfg
    T, R = cfg.template_size, cfg.roi_size
    dev = next(model.parameters()).device
    rng = np.random.default_rng([dc.seed, index])
    triples = _pairs(src, dc.pairs, dc, rng)
    hits = {m: [] for m in MAPS}
    pyramid = SuppressionEnhancement(cfg)   # the paper's stage, parameter-free, whatever the model's variant
    rows = []
    for a0, a, t in triples:
        x0, y0, w0, h0 = src.boxes[a0]
        x, y, w, h = src.boxes[a]
        size = np.sqrt(w * h)
        c = (x + w / 2 + rng.normal(0, dc.error) * size, y + h / 2 + rng.normal(0, dc.error) * size)
        S = dc.roi_factor * template_side(w, h, dc.context)
        tmpl = src.crop(a0, (x0 + w0 / 2, y0 + h0 / 2), template_side(w0, h0, dc.context), T)
        roi = src.crop(t, c, S, R)
        roi_prev = src.crop(a, c, S, R)
        # the ROI at t-1 cut again where the camera's shift puts its content at t
        dx, dy = camera_shift(roi_prev, roi, size * R / S)
        roi_prev_aligned = src.crop(a, (c[0] - dx * S / R, c[1] - dy * S / R), S, R)
        gx, gy, gw, gh = src.boxes[t]
        rows.append((tmpl, roi, roi_prev, c, S, (gx + gw / 2, gy + gh / 2), dc.radius * np.sqrt(gw * gh),
                     roi_prev_aligned))
    to_t = lambda ps: torch.from_numpy(np.stack(ps)).permute(0, 3, 1, 2).float().div_(255.0).to(dev)
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        x_prev, z_t, z_prev = (to_t([r[k] for r in chunk]) for k in (0, 1, 2))
        out, maps = model(z_t, z_prev, x_prev, return_maps=True)
        grids = {"O_A": maps["O_A"], "fused": out,
                 "O_M": maps.get("O_M_grid")}
        diff = torch.from_numpy(np.stack([_frame_diff(r[1], r[2], T) for r in chunk]))[:, None]
        grids["frame_diff"] = to_response_grid(diff, T)
        aligned = torch.from_numpy(np.stack([_frame_diff(r[1], r[7], T) for r in chunk]))[:, None]
        grids["diff_aligned"] = to_response_grid(aligned, T)
        grids["diff_pyramid"] = to_response_grid(pyramid(diff), T)
        H = cfg.response_size
        for m in MAPS:
            g = grids.get(m)
            for b, (_, _, _, c, S, truth, rad, _) in enumerate(chunk):
                if m == "no_motion":
                    i = j = (H - 1) / 2.0
                elif g is None:  # ANet-only has no motion stream
                    continue
                else:
                    flat = int(torch.argmax(g[b, 0]))
                    i, j = divmod(flat, H)
                u, v = cell_to_roi(i, j, T)
                fx, fy = crop_to_frame(u, v, c, S, R)
                hits[m].append(bool(np.hypot(fx - truth[0], fy - truth[1]) <= rad))
    has_motion = getattr(model, "kind", "") == "amnet"
    return {m: np.asarray(v, dtype=bool) for m, v in hits.items() if m != "O_M" or has_motion}


def overlap(hits_a: np.ndarray, hits_m: np.ndarray) -> dict:
    """How two maps' hits fall on the same pairs: counts of ``appearance_only`` (``hits_a`` and
    not ``hits_m``), ``motion_only``, ``both``, ``neither``, and ``either``, the hit rate of an
    oracle that takes whichever map's maximum hits: the most any choice between the two maxima
    could reach. ``motion_only`` is what motion could add to appearance."""
    a, m = np.asarray(hits_a, dtype=bool), np.asarray(hits_m, dtype=bool)
    if a.shape != m.shape:
        raise ValueError(f"hit arrays differ in shape: {a.shape} vs {m.shape}")
    return {"appearance_only": int((a & ~m).sum()), "motion_only": int((m & ~a).sum()),
            "both": int((a & m).sum()), "neither": int((~a & ~m).sum()),
            "either": float((a | m).mean()) if a.size else float("nan")}


def diagnose(model, sources, dc: DiagnosticsConfig = DiagnosticsConfig()) -> dict:
    """Hit rates per sequence and overall (pooled over all pairs): ``{"per_sequence": {name:
    {map: rate, "pairs": n}}, "overall": {map: rate, "pairs": n}, "config": ...}``; for a model
    with a motion stream also ``"overlap"``: ``{name or "overall": overlap(O_A, O_M)}``."""
    per, pooled = {}, {}
    for k, src in enumerate(sources):
        h = stream_hits(model, src, dc, index=k)
        n = len(next(iter(h.values()))) if h else 0
        if n == 0:
            continue
        per[src.name] = {m: float(v.mean()) for m, v in h.items()} | {"pairs": n}
        for m, v in h.items():
            pooled.setdefault(m, []).append(v)
    overall = {m: float(np.concatenate(v).mean()) for m, v in pooled.items()}
    overall["pairs"] = sum(p["pairs"] for p in per.values())
    out = {"per_sequence": per, "overall": overall, "config": asdict(dc)}
    if "O_M" in pooled:
        names = list(per)
        out["overlap"] = {name: overlap(a, m) for name, a, m in zip(names, pooled["O_A"], pooled["O_M"])}
        out["overlap"]["overall"] = overlap(np.concatenate(pooled["O_A"]), np.concatenate(pooled["O_M"]))
    return out


def format_overlap(result: dict) -> str:
    """One line: where O_A's and O_M's hits fall, pooled (``diagnose``'s ``"overlap"``)."""
    o = result["overlap"]["overall"]
    return (f"O_A and O_M hits on the same pairs: both {o['both']}, appearance only {o['appearance_only']}, "
            f"motion only {o['motion_only']}, neither {o['neither']}; either (an oracle choosing between "
            f"the two maxima) {o['either']:.3f}")


def format_diagnostics(result: dict, title: str = "") -> str:
    """A plain-text table: one row per sequence and the pooled row, one column per map."""
    cols = [m for m in MAPS if m in result["overall"]]
    width = max([len(n) for n in result["per_sequence"]] + [10])
    lines = [title] if title else []
    w = {c: max(len(c), 6) for c in cols}
    lines.append(f"{'sequence':<{width}} " + " ".join(f"{c:>{w[c]}}" for c in cols) + f" {'pairs':>5}")
    for name, r in result["per_sequence"].items():
        lines.append(f"{name:<{width}} " + " ".join(f"{r[c]:>{w[c]}.3f}" for c in cols) + f" {r['pairs']:>5d}")
    o = result["overall"]
    lines.append(f"{'overall':<{width}} " + " ".join(f"{o[c]:>{w[c]}.3f}" for c in cols) + f" {o['pairs']:>5d}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="amnet-edu diagnose", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", nargs="+", help="'amnet', 'anet' (shipped weights) or checkpoint files")
    p.add_argument("--split", default="val", choices=["val", "train"], help="collection split")
    p.add_argument("--data", default=None, help="collection root (default: shared/data/train)")
    for f, v in asdict(DiagnosticsConfig()).items():
        p.add_argument(f"--{f.replace('_', '-')}", type=type(v), default=v)
    p.add_argument("--json", default=None, help="also write the results here")
    a = p.parse_args(argv)
    import json
    from pathlib import Path

    from ..checkpoint import load_checkpoint, pretrained_path
    from ..train.sources import collection_sources

    dc = DiagnosticsConfig(**{f: getattr(a, f) for f in asdict(DiagnosticsConfig())})
    results = {}
    for w in a.weights:
        path = pretrained_path(w) if w in ("amnet", "anet") else Path(w)
        model = load_checkpoint(path)
        srcs = collection_sources(a.split, model.cfg.template_size, root=a.data, log=None)
        results[w] = diagnose(model, srcs, dc)
        print(format_diagnostics(results[w], title=f"{w} ({path.name}), split {a.split}, error {dc.error}, "
                                                  f"template gap {dc.template_gap}: hit rate per map"))
        if "overlap" in results[w]:
            print(format_overlap(results[w]))
        print()
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
