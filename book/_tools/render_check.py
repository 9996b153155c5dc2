"""Check the built book the way a reader sees it: offline, in a real browser.

Builds nothing: run it after `make book` (or `jupyter-book build -W -n --keep-going book/`).

    python book/_tools/render_check.py [--html book/_build/html] [--out book/_build/screenshots]

For every page listed in book/_toc.yml it
  * screenshots the page with headless Chromium (1280 x 2000) into <out>/<page>.png;
  * checks the HTML loads nothing from the network (no http(s) <script src>, <link href>, <img src>);
  * for chapter pages (all but the root): at least one <img (a figure);
  * for pages whose notebook holds widgets: the widget state script
    (application/vnd.jupyter.widget-state+json) and the vendored _static/widgets/require.js and
    embed-amd.js are referenced, and after JavaScript ran (--dump-dom) the widgets were really
    drawn, each slider exactly once (a widget drawn three times is a known misconfiguration);
  * for pages with math: MathJax typeset it (<mjx-container> in the DOM, so the vendored MathJax ran);
and checks book/_vendor against its manifest. Exits 1 with the list of problems, 0 if none.
Needs Debian's `chromium` (apt-get install -y chromium).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BOOK = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_vendor  # noqa: E402  (a sibling script, not a package)

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
VENDORED_JS = ("_static/widgets/require.js", "_static/widgets/embed-amd.js")
# Flags from shared/notes/toolchain.md (verified there), plus a window and a JS time budget.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,2000", "--virtual-time-budget=5000",
]
# A remote resource in a tag attribute that the browser fetches on page load.
REMOTE_RESOURCE = re.compile(
    r"<(?:script|img|iframe)\b[^>]*\bsrc=[\"']?(https?:)?//[^\"'\s>]*"
    r"|<link\b[^>]*\bhref=[\"']?(https?:)?//[^\"'\s>]*",
    re.IGNORECASE,
)
# The outer element of a drawn slider: class="... widget-slider widget-hslider ...".
SLIDER_VIEW = re.compile(r"class=\"[^\"]*\bwidget-slider\b[^\"]*\"")
WIDGET_VIEW = re.compile(r"class=\"[^\"]*\bjupyter-widgets\b[^\"]*\"")
SLIDER_MODELS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel",
                 "IntRangeSliderModel", "FloatRangeSliderModel", "SelectionSliderModel",
                 "SelectionRangeSliderModel"}


@dataclass
class Page:
    name: str  # path in the toc, without suffix, e.g. "02_anet"
    is_root: bool
    problems: list[str] = field(default_factory=list)


def toc_pages(toc_file: Path) -> list[Page]:
    """Every `root`/`file` entry of a jb-book toc, in reading order."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [Page(str(Path(toc["root"]).with_suffix("")), True)]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(Page(str(Path(node["file"]).with_suffix("")), False))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk({k: v for k, v in toc.items() if k in ("parts", "chapters", "sections")})
    return pages


def notebook_widgets(book: Path, name: str) -> tuple[int, int]:
    """(number of widget views displayed, number of slider models) in the stored notebook."""
    nb_path = book / f"{name}.ipynb"
    if not nb_path.exists():
        return 0, 0
    nb = json.loads(nb_path.read_text())
    views = sum(
        "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        for cell in nb.get("cells", []) if cell.get("cell_type") == "code"
        for out in cell.get("outputs", [])
    )
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    sliders = sum(m.get("model_name") in SLIDER_MODELS for m in state.values())
    return views, sliders


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(binary: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout,
        )


def check_page(page: Page, html_dir: Path, out_dir: Path, binary: str) -> None:
    html_file = html_dir / f"{page.name}.html"
    if not html_file.exists():
        page.problems.append(f"{html_file} does not exist (listed in the toc but not built)")
        return
    html = html_file.read_text(encoding="utf-8")
    url = html_file.resolve().as_uri()

    for m in REMOTE_RESOURCE.finditer(html):
        page.problems.append(f"loads a remote resource (breaks offline): {m.group(0)[:160]}")
    if not page.is_root and "<img" not in html:
        page.problems.append("no <img (the chapter shows no figure)")

    # Screenshot.
    shot = out_dir / f"{page.name.replace('/', '__')}.png"
    shot.unlink(missing_ok=True)
    res = chromium(binary, f"--screenshot={shot}", url)
    if not shot.exists() or shot.stat().st_size < 5_000:
        page.problems.append(f"no screenshot written (chromium rc {res.returncode}): "
                             f"{res.stderr.strip()[-300:]}")

    views, sliders = notebook_widgets(BOOK, page.name)
    has_math = 'class="math' in html
    if not (views or has_math):
        return

    # The DOM after the page's JavaScript ran (widgets drawn, math typeset).
    res = chromium(binary, "--dump-dom", url)
    dom = res.stdout
    if res.returncode != 0 or "<html" not in dom:
        page.problems.append(f"--dump-dom failed (rc {res.returncode}): {res.stderr.strip()[-300:]}")
        return
    if has_math and "<mjx-container" not in dom:
        page.problems.append("math was not typeset (no <mjx-container>: MathJax did not load?)")
    if views:
        if WIDGET_STATE not in html:
            page.problems.append(f"notebook has widgets but the page lacks the {WIDGET_STATE} script")
        for js in VENDORED_JS:
            if js not in html:
                page.problems.append(f"notebook has widgets but the page does not load {js}")
        drawn = len(WIDGET_VIEW.findall(dom))
        if drawn == 0:
            page.problems.append("widgets were not drawn (no class jupyter-widgets in the DOM "
                                 "after JavaScript ran)")
        drawn_sliders = len(SLIDER_VIEW.findall(dom))
        if sliders and drawn_sliders != sliders:
            page.problems.append(f"{drawn_sliders} sliders drawn for {sliders} slider models "
                                 "(0: widget JS did not run; more: widget JS loaded twice)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=BOOK / "_build" / "html")
    ap.add_argument("--toc", type=Path, default=BOOK / "_toc.yml")
    ap.add_argument("--out", type=Path, default=BOOK / "_build" / "screenshots")
    ap.add_argument("--chromium", default=None, help="browser binary (default: chromium on PATH)")
    args = ap.parse_args(argv)

    binary = args.chromium or find_chromium()
    if binary is None:
        print("render_check: chromium not found (apt-get install -y chromium)", file=sys.stderr)
        return 2
    if not args.html.is_dir():
        print(f"render_check: {args.html} does not exist: build the book first (make book)",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)

    problems = [f"_vendor: {p}" for p in check_vendor.problems()]
    for page in toc_pages(args.toc):
        check_page(page, args.html, args.out, binary)
        status = "ok" if not page.problems else f"{len(page.problems)} problem(s)"
        print(f"{page.name}: {status}", flush=True)
        problems += [f"{page.name}: {p}" for p in page.problems]

    print(f"screenshots in {args.out}")
    if problems:
        print("\nrender_check found problems:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print("render_check: all pages OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
