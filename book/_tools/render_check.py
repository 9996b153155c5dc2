"""Check the built book the way a reader sees it: offline, in a real browser.

Builds nothing: run it after `make book` (or `jupyter-book build -W -n --keep-going book/`).

    python book/_tools/render_check.py [--html book/_build/html] [--out book/_build/screenshots]

For every page listed in book/_toc.yml, at a desktop width (1280 px) and a phone width (390 px), it
  * screenshots the whole page with headless Chromium into <out>/<page>.png (1280 px) and
    <out>/<page>@390.png;
  * measures in the browser, after the page's JavaScript ran (render_measure.js, injected into a
    temporary copy of the page), that no display formula is wider than its block, no code cell,
    printed output or literal block is cut or scrolls sideways (and, at 1280 px, none wraps: lines
    are kept to ~90 characters), no table runs past the column unless a wrapper scrolls it by
    design, every figure loaded and is drawn inside the column, no widget or player is blank, the
    player's buttons draw their icons without an icon font or a system font's symbols, and the page
    itself does not scroll sideways (code or output lines that wrap at 1280 px, i.e. lines over
    ~90 characters, are listed as notes: readable, nothing cut, but worth breaking in the source);
  * checks every figure file (PNG/JPEG under _images/ or a data: URI) is not a blank, one-colour
    image;
  * checks the HTML loads nothing from the network (no http(s) <script src>, <link href>, <img src>);
  * for chapter pages (all but the root): at least one <img (a figure);
  * for pages whose notebook holds widgets: the widget state script
    (application/vnd.jupyter.widget-state+json) and the vendored _static/widgets/require.js and
    embed-amd.js are referenced, and after JavaScript ran (--dump-dom) the widgets were really
    drawn, each slider exactly once (a widget drawn three times is a known misconfiguration);
  * for pages with math: MathJax typeset it (<mjx-container> in the DOM, so the vendored MathJax ran);
and checks book/_vendor against its manifest. Prints a report per page and width; exits 1 with the
list of problems, 0 if none.
Needs Debian's `chromium` (apt-get install -y chromium).
"""
from __future__ import annotations

import argparse
import base64
import html as htmllib
import io
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
    "--hide-scrollbars", "--virtual-time-budget=8000",
]
WIDTHS = (1280, 390)           # a desktop window and a phone (portrait)
MAX_SHOT_HEIGHT = 16_000       # full-page screenshots, capped (Chromium's limit is ~16k px)
MIN_WINDOW = 500              # headless Chromium's narrowest window: narrower pages go in an iframe
MEASURE_JS = Path(__file__).resolve().parent / "render_measure.js"
RESULT = re.compile(r'<pre id="__render_check__">(.*?)</pre>', re.DOTALL)
IMG_SRC = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"', re.IGNORECASE)
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
    report: list[str] = field(default_factory=list)


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


def chromium(binary: str, *args: str, width: int = 1280, height: int = 2000,
             timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--window-size={width},{height}",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout,
        )


def frame(html_file: Path, page: str, width: int, height: int) -> Path:
    """A page that shows `page` (a file next to html_file) in a `width` px wide iframe: headless
    Chromium's window is never narrower than MIN_WINDOW px, an iframe is. The iframe posts the
    measurements up (render_measure.js); this page writes them into its own DOM for --dump-dom."""
    wrapper = html_file.with_name(f".render_check_frame_{html_file.name}")
    wrapper.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
        f'<iframe src="{page}" style="width:{width}px;height:{height}px;border:0;display:block">'
        "</iframe><script>window.addEventListener('message', function (e) {"
        "if (!e.data || !e.data.renderCheck) return; var p = document.createElement('pre');"
        "p.id = '__render_check__'; p.textContent = e.data.renderCheck;"
        "document.body.appendChild(p); });</script></body></html>", encoding="utf-8")
    return wrapper


def measure(binary: str, html_file: Path, html: str, width: int) -> tuple[dict | None, str, str]:
    """(findings of render_measure.js, DOM after JavaScript, error) for the page at `width` px."""
    probe = html_file.with_name(f".render_check_{html_file.name}")  # same folder: same relative URLs
    script = f"<script>\n{MEASURE_JS.read_text()}\n</script>"
    probe.write_text(html.replace("</body>", script + "\n</body>", 1) if "</body>" in html
                     else html + script, encoding="utf-8")
    wrapper = frame(html_file, probe.name, width, 2000) if width < MIN_WINDOW else probe
    try:
        res = chromium(binary, "--dump-dom", wrapper.resolve().as_uri(),
                       width=max(width, MIN_WINDOW))
    finally:
        probe.unlink(missing_ok=True)
        wrapper.unlink(missing_ok=True)
    dom = res.stdout
    if res.returncode != 0 or "<html" not in dom:
        return None, dom, f"--dump-dom failed (rc {res.returncode}): {res.stderr.strip()[-300:]}"
    m = next(reversed(list(RESULT.finditer(dom))), None)
    if not m:
        return None, dom, "the measuring script did not finish (no result in the DOM)"
    return json.loads(htmllib.unescape(m.group(1))), dom, ""


def blank_figures(html_file: Path, html: str) -> list[str]:
    """Figures (files under _images/ or data: URIs) that are one flat colour: nothing drawn."""
    from PIL import Image

    found = []
    for src in dict.fromkeys(IMG_SRC.findall(html)):
        try:
            if src.startswith("data:image/") and ";base64," in src:
                im = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
                label = src[:40] + "..."
            elif not src.startswith(("data:", "http:", "https:")) and not src.endswith(".svg"):
                path = (html_file.parent / htmllib.unescape(src)).resolve()
                if not path.is_file():
                    continue  # reported by the browser check as not loaded
                im, label = Image.open(path), src
            else:
                continue
            lo_hi = im.convert("RGB").getextrema()
        except Exception as exc:  # noqa: BLE001  (an unreadable image is a finding too)
            found.append(f"figure {src[:60]} cannot be read: {exc}")
            continue
        if all(lo == hi for lo, hi in lo_hi):
            found.append(f"figure {label} is blank (one colour)")
    return found


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

    page.problems += blank_figures(html_file, html)
    views, sliders = notebook_widgets(BOOK, page.name)
    has_math = 'class="math' in html
    stem = page.name.replace("/", "__")

    for width in WIDTHS:
        found, dom, err = measure(binary, html_file, html, width)
        tag = f"{width}px"
        if err:
            page.problems.append(f"[{tag}] {err}")
            page.report.append(f"  {tag}: {err}")
            continue
        wraps = [p for p in found["problems"] if p["kind"].endswith("-wrap")]
        for p in found["problems"]:
            if p not in wraps:
                page.problems.append(f"[{tag}] {p['msg']}")
        counts = ", ".join(f"{v} {k}" for k, v in found["counts"].items())
        page.report.append(f"  {tag}: {len(found['problems']) - len(wraps)} problem(s), "
                           f"{len(wraps)} wrapped block(s) ({counts} measured)")
        # A line over ~90 characters wraps at 1280 px: readable (nothing is cut), but the chapter
        # should break it. Listed, not failed.
        page.report += [f"    note: {p['msg']}" for p in wraps]

        # Full-page screenshot, to look at.
        shot = out_dir / (f"{stem}.png" if width == WIDTHS[0] else f"{stem}@{width}.png")
        shot.unlink(missing_ok=True)
        height = min(max(int(found.get("height", 2000)), 800), MAX_SHOT_HEIGHT)
        if width >= MIN_WINDOW:
            res = chromium(binary, f"--screenshot={shot}", url, width=width, height=height)
        else:
            wrapper = frame(html_file, html_file.name, width, height)
            try:
                res = chromium(binary, f"--screenshot={shot}", wrapper.resolve().as_uri(),
                               width=MIN_WINDOW, height=height)
            finally:
                wrapper.unlink(missing_ok=True)
            if shot.exists():
                from PIL import Image
                Image.open(shot).crop((0, 0, width, height)).save(shot)
        if not shot.exists() or shot.stat().st_size < 5_000:
            page.problems.append(f"[{tag}] no screenshot written (chromium rc {res.returncode}): "
                                 f"{res.stderr.strip()[-300:]}")

        if width != WIDTHS[0]:
            continue
        # The DOM after the page's JavaScript ran (widgets drawn, math typeset).
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
    ap.add_argument("--page", action="append", default=None,
                    help="check only this toc page (repeatable), e.g. --page 07_speed")
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
        if args.page and page.name not in args.page:
            continue
        check_page(page, args.html, args.out, binary)
        status = "ok" if not page.problems else f"{len(page.problems)} problem(s)"
        print(f"{page.name}: {status}", flush=True)
        for line in page.report:
            print(line, flush=True)
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
