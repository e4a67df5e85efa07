"""Chapter 6's website explorer: its scripts on the page that holds its element.

A page with ``<div class="gradflow-player"></div>`` gets the explorer's four scripts from
web/gradflow (copied into the website by ``html_extra_path``), at the end of its body, with
paths relative to the page: data.js (written by tools/explorer_data.py), kernel.js (by
tools/explorer_kernel.mjs), engine.js and player.js. The chapter needs only the element. The
Chinese edition, built into the website's zh/ folder, loads the same files one folder up
(``gradflow_explorer_root: ../`` in zh/_config.yml).
"""

ELEMENT = 'class="gradflow-player"'
SCRIPTS = ("data.js", "kernel.js", "engine.js", "player.js")


def _add_scripts(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not body or ELEMENT not in body:
        return
    folder = "../" * pagename.count("/") + app.config.gradflow_explorer_root + "gradflow/"
    tags = "".join(f'<script src="{folder}{name}"></script>\n' for name in SCRIPTS)
    context["body"] = body + tags


def setup(app):
    """Register the page hook and where the scripts lie; the extension keeps no state."""
    app.add_config_value("gradflow_explorer_root", "", "html")
    app.connect("html-page-context", _add_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
