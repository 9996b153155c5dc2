"""List code-source and printed-output lines longer than a limit in chapter notebooks.

Usage: python book/_tools/line_lengths.py [--limit 90] [NB ...]
(default: every book/0N_*.ipynb). Counts code-cell source lines and text outputs
(stream, text/plain of execute_result/display_data when no richer view) over the limit;
exits 1 when any is found.
"""
import argparse
import glob
import json
import os
import sys


def long_lines(path, limit):
    nb = json.load(open(path))
    hits = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for n, line in enumerate("".join(cell["source"]).splitlines(), 1):
            if len(line) > limit:
                hits.append(("code", i, n, line))
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                text = "".join(out["text"])
            elif out["output_type"] in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "text/html" in data or "image/png" in data or len(data) > 1:
                    continue
                text = "".join(data.get("text/plain", ""))
            else:
                continue
            for n, line in enumerate(text.splitlines(), 1):
                if len(line) > limit:
                    hits.append(("output", i, n, line))
    return hits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=90)
    ap.add_argument("-q", "--quiet", action="store_true", help="counts only")
    ap.add_argument("notebooks", nargs="*")
    args = ap.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    nbs = args.notebooks or sorted(glob.glob(os.path.join(here, "0[1-9]_*.ipynb")))
    total = 0
    for path in nbs:
        hits = long_lines(path, args.limit)
        code = sum(h[0] == "code" for h in hits)
        name = os.path.basename(path)
        print(f"{name}: {code} code, {len(hits) - code} output lines > {args.limit}")
        if not args.quiet:
            for kind, cell, n, line in hits:
                print(f"  {kind} cell {cell} line {n} ({len(line)}): {line[:120]}")
        total += len(hits)
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
