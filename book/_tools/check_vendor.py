"""Check that book/_vendor/ holds exactly the vendored JS the book expects.

The built book loads ipywidgets (RequireJS + the @jupyter-widgets/html-manager AMD embedder) and
MathJax from ``_static/`` instead of a CDN, so it works offline. ``_vendor/MANIFEST.sha256``
lists every vendored file with its SHA-256; ``_tools/vendor.sh`` re-creates the files from npm.

    python book/_tools/check_vendor.py           # exit 1 and list problems if anything differs
    python book/_tools/check_vendor.py --write   # after running vendor.sh: refresh the manifest
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "_vendor"
MANIFEST = VENDOR / "MANIFEST.sha256"

# Version banners that must be present: a cheap guard against vendoring the wrong release.
BANNERS = {
    "widgets/require.js": "@license RequireJS 2.3.4",
    "mathjax/tex-chtml.js": 'VERSION="3.2.2"',
    "widgets/embed-amd.js": 'define("@jupyter-widgets/base"',
}


def vendored_files() -> dict[str, str]:
    out = {}
    for p in sorted(VENDOR.rglob("*")):
        if p.is_file() and p != MANIFEST:
            out[p.relative_to(VENDOR).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def read_manifest() -> dict[str, str]:
    out = {}
    for line in MANIFEST.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name] = digest
    return out


def problems() -> list[str]:
    if not MANIFEST.exists():
        return [f"{MANIFEST} is missing (run vendor.sh, then check_vendor.py --write)"]
    want, have = read_manifest(), vendored_files()
    errs = [f"missing: {n}" for n in sorted(want.keys() - have.keys())]
    errs += [f"not in manifest: {n}" for n in sorted(have.keys() - want.keys())]
    errs += [f"checksum differs: {n}" for n in sorted(want.keys() & have.keys()) if want[n] != have[n]]
    for name, banner in BANNERS.items():
        path = VENDOR / name
        if path.exists() and banner not in path.read_text(encoding="utf-8", errors="replace")[:400_000]:
            errs.append(f"{name} lacks {banner!r} (wrong release?)")
    return errs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite MANIFEST.sha256 from the files")
    args = ap.parse_args(argv)
    if args.write:
        MANIFEST.write_text("".join(f"{d}  {n}\n" for n, d in vendored_files().items()))
        print(f"wrote {MANIFEST} ({len(vendored_files())} files)")
        return 0
    errs = problems()
    for e in errs:
        print("vendor:", e, file=sys.stderr)
    if not errs:
        print(f"vendor: OK ({len(read_manifest())} files match {MANIFEST.name})")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
