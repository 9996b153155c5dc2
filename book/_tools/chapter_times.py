"""Time each chapter: execute every notebook listed in book/_toc.yml and tabulate the seconds.

    python book/_tools/chapter_times.py [--markdown chapter_times.md] [--timeout 300]

Notebooks run with nbclient in the current environment (the kernel named in a notebook is
ignored, as with `nbval --nbval-current-env`), from the book's folder, like the build runs them.
Files are not modified. The time per chapter includes starting its kernel. Pages that are not
notebooks (intro.md) are skipped. Exits 1 if a notebook fails (it is listed as FAILED).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_check import BOOK, toc_pages  # noqa: E402


def title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def run(path: Path, timeout: int) -> tuple[str, float, str | None]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    try:
        client.execute()
        error = None
    except Exception as exc:  # report it in the table, go on with the next chapter
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    return title_of(nb), time.perf_counter() - t0, error


def markdown_table(rows: list[tuple[str, str, float, str | None]], total: float) -> str:
    lines = ["| chapter | title | seconds |", "|---|---|---:|"]
    for name, title, secs, err in rows:
        lines.append(f"| `{name}` | {title} | {'FAILED' if err else f'{secs:.1f}'} |")
    lines.append(f"| **total** | | **{total:.1f}** |")
    machine = (f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
               f"{os.cpu_count()} CPU cores")
    lines.append("")
    lines.append(f"Ours: one execution of each notebook with nbclient, kernel start included, on {machine}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toc", type=Path, default=BOOK / "_toc.yml")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    ap.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    args = ap.parse_args(argv)

    rows = []
    for page in toc_pages(args.toc):
        path = args.toc.parent / f"{page.name}.ipynb"
        if not path.exists():
            continue
        title, secs, err = run(path, args.timeout)
        rows.append((page.name, title, secs, err))
        print(f"{page.name:<28} {'FAILED' if err else f'{secs:8.1f} s'}  {err or ''}", flush=True)
    total = sum(r[2] for r in rows)
    print(f"{'total':<28} {total:8.1f} s")
    if args.markdown:
        args.markdown.write_text(markdown_table(rows, total))
        print(f"wrote {args.markdown}")
    return 1 if any(r[3] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
