"""Execute notebooks in place with nbclient, storing outputs and widget state.

The project's environment has nbclient (through jupyter-book) but not nbconvert, so this is the
`jupyter nbconvert --to notebook --execute --inplace` of this repository:

    python book/_tools/run_notebook.py book/02_anet.ipynb [more.ipynb ...]

Notebooks run with the current Python (the kernel named in the notebook is ignored), from their
own folder, like jupyter-book and nbval (--nbval-current-env) run them.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 120) -> float:
    """Run `path` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,  # no per-cell timestamps: re-running leaves an unchanged diff
    )
    t0 = time.perf_counter()
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    seconds = time.perf_counter() - t0
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    args = ap.parse_args(argv)
    for path in args.notebooks:
        print(f"{path}: {execute(path, args.timeout):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
