#!/usr/bin/env bash
# Refresh vendor/: the JavaScript the website serves itself instead of loading from a CDN.
# MathJax 3 (tex-chtml.js and what it loads; the 4 MB speech engine is left out) and the
# Jupyter widget manager that renders stored widget state (the standalone embed.js, which
# needs no RequireJS, with the chunks and fonts it may load from beside itself).
set -euo pipefail
MATHJAX_VERSION=3.2.2
WIDGETS_VERSION=1.0.6
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

(cd "$work" && npm pack --silent "@jupyter-widgets/html-manager@$WIDGETS_VERSION" >/dev/null &&
  mkdir widgets && tar xzf jupyter-widgets-html-manager-*.tgz -C widgets)
dist="$work/widgets/package/dist"
rm -rf vendor/jupyter-widgets
mkdir -p vendor/jupyter-widgets
cp "$work/widgets/package/LICENSE" "$dist/embed.js" "$dist/embed.js.LICENSE.txt" vendor/jupyter-widgets/
cp "$dist"/[0-9]*.embed.js "$dist"/*.woff2 vendor/jupyter-widgets/
echo "vendor/ refreshed: $(du -sh vendor | cut -f1)"
