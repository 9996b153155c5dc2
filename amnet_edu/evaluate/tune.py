"""Choose the tracker's settings (``TrackerConfig``) on sequences of your own, by OPE success AUC.

The tracking-time choices (Hann window weight, scale search, template update) are not learned;
they are set by trying values on a *tuning* set and keeping the best mean success AUC. Tune only
on sequences you will not report (for this project: the training sequences, never the held-out
ones), or the reported score flatters the tracker.

The search is coordinate-wise: starting from ``base``, each parameter in turn is set to each of
its candidate values (the others at their current best), and the best value is kept before the
next parameter; ``rounds`` repeats the sweep. That costs ``sum(len(values))`` runs per round
instead of the grid's product.

Command line (prints one row per tried setting)::

    python -m amnet_edu.evaluate.tune --tracker amnet --set template_update=1,0.5,0.2 \
        --set window_influence=0.15,0.25,0.4 ../shared/data/tracking/vot2017_car1 ...
    python -m amnet_edu.evaluate.tune --split val --set template=paper,anchor,anchor_recent \
        --set scale=none,pyramid --json val_tuning.json      # the training collection's val split
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, fields, replace

import numpy as np

from .metrics import sequence_metrics
from .ope import _run_jobs
from .registry import ConfiguredTracker

__all__ = ["tune", "score_config", "parse_setting"]


def score_config(tracker: str, config, sequences, workers: int = 1) -> dict:
    """Success AUC per sequence name and their mean for ``tracker`` with ``config``.

    ``workers > 1`` runs the sequences in that many processes of one thread each (as
    ``amnet-edu evaluate --workers`` does); a tracker's float rounding, and so its boxes, can
    differ between one and two threads, so compare settings scored with the same ``workers``.
    """
    # the evaluation's own job runner: in this process for workers <= 1, else in worker processes
    jobs = [(0, i) for i in range(len(sequences))]
    runs = {si: run for (_, si), run in _run_jobs([ConfiguredTracker(tracker, config, "tune")], sequences, jobs,
                                                  workers, False)}
    per = {seq.name: sequence_metrics(runs[i]["boxes"], seq.boxes)["success_auc"] for i, seq in enumerate(sequences)}
    return {"per_sequence": per, "mean": float(np.mean(list(per.values())))}


def tune(tracker: str, sequences, grid: dict, base=None, rounds: int = 1, log=print, workers: int = 1):
    """Coordinate-wise search over ``grid`` (``{field: [values]}``); returns ``(best, trials)``.

    ``trials`` lists every run as ``{"config": {...}, "mean": AUC, "per_sequence": {...}}``;
    identical settings are run once.
    """
    from ..tracking import TrackerConfig

    names = {f.name for f in fields(TrackerConfig)}
    unknown = set(grid) - names
    if unknown:
        raise ValueError(f"unknown TrackerConfig fields {sorted(unknown)}; known: {sorted(names)}")
    if not sequences:
        raise ValueError("tune() needs at least one sequence")
    best = base or TrackerConfig()
    cache, trials = {}, []

    def run(cfg):
        key = json.dumps(asdict(cfg), sort_keys=True)
        if key not in cache:
            cache[key] = score_config(tracker, cfg, sequences, workers)
            trials.append({"config": asdict(cfg), **cache[key]})
            if log:
                changed = {k: v for k, v in asdict(cfg).items() if k in grid}
                log(f"{cache[key]['mean']:.3f}  {changed}  " +
                    " ".join(f"{n}={a:.3f}" for n, a in cache[key]["per_sequence"].items()))
        return cache[key]["mean"]

    best_score = run(best)
    for _ in range(rounds):
        for name, values in grid.items():
            for v in values:
                cfg = replace(best, **{name: v})
                s = run(cfg)
                if s > best_score:
                    best, best_score = cfg, s
    return best, trials


def parse_setting(text: str):
    """``"name=v1,v2"`` -> ``("name", [v1, v2])`` with the values converted to the field's type."""
    from ..tracking import TrackerConfig

    if "=" not in text:
        raise ValueError(f"expected name=v1,v2,... got {text!r}")
    name, values = text.split("=", 1)
    types = {f.name: f.type for f in fields(TrackerConfig)}
    if name not in types:
        raise ValueError(f"unknown TrackerConfig field {name!r}; known: {sorted(types)}")
    kind = str(getattr(types[name], "__name__", types[name]))
    conv = {"int": int, "float": float, "str": str, "bool": _parse_bool}[kind]
    try:
        return name, [conv(v) for v in values.split(",") if v]
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _parse_bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def main(argv=None) -> int:
    from ..data import load_sequence

    p = argparse.ArgumentParser(prog="python -m amnet_edu.evaluate.tune", description=__doc__.split("\n\n")[0])
    p.add_argument("sequences", nargs="*", help="sequence folders (OTB/VOT/MOT/clip layouts)")
    p.add_argument("--split", choices=["val", "train"], default=None,
                   help="add the training collection's split (val: what settings are chosen on)")
    p.add_argument("--paper-base", action="store_true", help="start from TrackerConfig.paper() instead of the defaults")
    p.add_argument("--base", action="append", default=[], metavar="NAME=V", help="a field of the starting config")
    p.add_argument("--tracker", default="amnet", help="amnet, anet or a checkpoint .pt")
    p.add_argument("--set", action="append", default=[], metavar="NAME=V1,V2", help="values to try for a field")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--json", help="write every trial to this file")
    p.add_argument("--workers", type=int, default=1, help="processes (one thread each) running the sequences")
    a = p.parse_args(argv)
    grid = dict(parse_setting(s) for s in a.set)
    seqs = [load_sequence(s) for s in a.sequences]
    if a.split:
        from ..data import load_collection
        seqs += load_collection(split=a.split)
    if not seqs:
        p.error("give sequence folders and/or --split")
    from ..tracking import TrackerConfig
    base = TrackerConfig.paper() if a.paper_base else TrackerConfig()
    base = replace(base, **{n: v[0] for n, v in (parse_setting(b) for b in a.base)})
    best, trials = tune(a.tracker, seqs, grid, base=base, rounds=a.rounds, workers=a.workers)
    print("best:", {k: v for k, v in asdict(best).items() if k in grid})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(trials, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
