#!/usr/bin/env bash
# Re-create book/_vendor/ from npm, so the built book needs no CDN (see _tools/README.md).
# Usage: bash book/_tools/vendor.sh   (needs npm and network access to the npm registry)
# Then:  python book/_tools/check_vendor.py --write   (refreshes _vendor/MANIFEST.sha256)
set -euo pipefail
BOOK="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$BOOK/_vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.4 mathjax@3.2.2 >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done

# ipywidgets: the AMD embedder + its font files, and RequireJS.
# Source maps (*.map, ~11 MB) and the non-AMD bundles (embed.js, libembed-amd.js, *.embed.js),
# which the book never loads, are left out.
rm -rf "$VENDOR/widgets"; mkdir -p "$VENDOR/widgets"
W=jupyter-widgets-html-manager-1.0.6/package
cp "$W"/dist/embed-amd.js "$VENDOR/widgets/"
cp "$W"/dist/embed.js.LICENSE.txt "$VENDOR/widgets/"
cp "$W"/dist/*.woff "$W"/dist/*.woff2 "$W"/dist/*.ttf "$W"/dist/*.eot "$W"/dist/*.svg "$VENDOR/widgets/"
cp requirejs-2.3.4/package/require.js "$VENDOR/widgets/"

# MathJax 3: the TeX -> CommonHTML component, its web fonts, and the TeX extensions it may
# autoload (\require{...}, \boldsymbol, ...). Speech (sre) and the a11y explorer are left out.
rm -rf "$VENDOR/mathjax"; mkdir -p "$VENDOR/mathjax/output/chtml/fonts" "$VENDOR/mathjax/input/tex"
M=mathjax-3.2.2/package
cp "$M"/LICENSE "$VENDOR/mathjax/"
cp "$M"/es5/tex-chtml.js "$VENDOR/mathjax/"
cp -r "$M"/es5/output/chtml/fonts/woff-v2 "$VENDOR/mathjax/output/chtml/fonts/"
cp -r "$M"/es5/input/tex/extensions "$VENDOR/mathjax/input/tex/"
echo "vendored into $VENDOR"
