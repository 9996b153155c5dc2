"""The built book, seen in a headless browser: figures, widgets drawn once, math typeset offline.

Runs book/_tools/render_check.py on book/_build/html. It builds nothing: run `make book` first.
Skipped when the book is not built or Debian's `chromium` is not installed.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"
CHECK = ROOT / "book" / "_tools" / "render_check.py"
VENDOR_CHECK = ROOT / "book" / "_tools" / "check_vendor.py"


def test_vendored_js_matches_manifest():
    """book/_vendor holds exactly the RequireJS, widget embedder and MathJax files of its manifest."""
    res = subprocess.run([sys.executable, str(VENDOR_CHECK)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.skipif(not HTML.is_dir(), reason="book not built: run `make book` to create book/_build/html")
@pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="headless browser missing: `apt-get install -y chromium`",
)
def test_built_book_renders():
    res = subprocess.run(
        [sys.executable, str(CHECK), "--html", str(HTML)],
        capture_output=True, text=True, timeout=900,
    )
    assert res.returncode == 0, f"render_check failed:\n{res.stdout}\n{res.stderr}"
