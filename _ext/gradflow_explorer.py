"""Chapter 6's website explorer: its scripts on the page that holds its element.

A page with ``<div class="gradflow-player"></div>`` gets the explorer's four scripts from
web/gradflow (copied into the website by ``html_extra_path``), at the end of its body, with
paths relative to the page: data.js (written by tools/explorer_data.py), kernel.js (by
tools/explorer_kernel.mjs), engine.js and player.js. The chapter needs only the element. Script
tags that a chapter still writes for the grid player it replaced are removed, so that the page
loads neither the 1.7 MB grid nor a script twice.
"""

import re

ELEMENT = 'class="gradflow-player"'
SCRIPTS = ("data.js", "kernel.js", "engine.js", "player.js")
OLD_TAGS = re.compile(r'<script src="[./]*gradflow/(?:grid|player)\.js"></script>\n?')


def _add_scripts(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not body or ELEMENT not in body:
        return
    folder = "../" * pagename.count("/") + "gradflow/"
    tags = "".join(f'<script src="{folder}{name}"></script>\n' for name in SCRIPTS)
    context["body"] = OLD_TAGS.sub("", body) + tags


def setup(app):
    """Register the page hook; the extension keeps no state."""
    app.connect("html-page-context", _add_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
