#!/usr/bin/env bash
# Refresh vendor/: the JavaScript the website serves itself instead of loading from a CDN.
# MathJax 3 (tex-chtml.js and what it loads; the 4 MB speech engine is left out) and the
# Jupyter widget manager that renders stored widget state (the standalone embed.js, which
# needs no RequireJS, with the chunks and fonts it may load from beside itself). And axe-core,
# the accessibility checker that tests/site runs on every page: a test tool, so it goes to
# tests/site/axe, not into the website.
set -euo pipefail
MATHJAX_VERSION=3.2.2
WIDGETS_VERSION=1.0.6
AXE_VERSION=4.14.1
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
(cd "$work" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null && mkdir axe &&
  tar xzf axe-core-*.tgz -C axe)
rm -rf tests/site/axe
mkdir -p tests/site/axe
cp "$work/axe/package/LICENSE" "$work/axe/package/axe.min.js" tests/site/axe/
echo "tests/site/axe refreshed: axe-core $AXE_VERSION"
echo "vendor/ refreshed: $(du -sh vendor | cut -f1)"
