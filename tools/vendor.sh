#!/usr/bin/env bash
# Refresh vendor/: the JavaScript the website serves itself instead of loading from a CDN.
# MathJax 3 (tex-chtml.js and what it loads; the 4 MB speech engine is left out).
set -euo pipefail
MATHJAX_VERSION=3.2.2
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "mathjax@$MATHJAX_VERSION" >/dev/null && tar xzf mathjax-*.tgz)
src="$work/package"
rm -rf vendor/mathjax
mkdir -p vendor/mathjax/es5/output/chtml/fonts vendor/mathjax/es5/input/tex
cp "$src/LICENSE" vendor/mathjax/
cp "$src/es5/tex-chtml.js" vendor/mathjax/es5/
cp -r "$src/es5/output/chtml/fonts/woff-v2" vendor/mathjax/es5/output/chtml/fonts/
cp -r "$src/es5/input/tex/extensions" vendor/mathjax/es5/input/tex/
cp -r "$src/es5/ui" "$src/es5/a11y" vendor/mathjax/es5/
echo "vendor/ refreshed: $(du -sh vendor | cut -f1)"
