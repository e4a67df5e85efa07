"""The ``{eval}`` role on the website: the text stored with the chapter, as JupyterLab shows it.

tools/lab_markup.py writes every glued number, citation and figure reference of a chapter's
prose as ``{eval}`glued("name:fmt")```, ``{eval}`cite("keys")``` or ``{eval}`numref("name")```
and stores its text in the Markdown cell's ``user_expressions``, which jupyterlab-myst shows
without a kernel. myst-nb's own ``eval`` role asks a running kernel instead, so this one
replaces it: a number shows its stored text, and citations and figure references go to
sphinxcontrib-bibtex's ``cite:p`` and Sphinx's ``numref`` roles, so they link as before. Each
result is wrapped in ``<span class="stored-eval KIND">``, so the site check can compare the
website's text with the stored one. A missing value is a warning, which fails the strict build.
"""

import re

from docutils import nodes
from docutils.parsers.rst import roles
from docutils.parsers.rst.languages import get_language
from sphinx.util import logging

LOG = logging.getLogger(__name__)
EXPRESSION = re.compile(r'(?P<kind>glued|cite|numref)\("(?P<argument>[^"]+)"\)$')
DELEGATE = {"cite": "cite:p", "numref": "numref"}


def _stored(inliner, lineno, text):
    """The stored text of ``text`` in the current notebook cell, or None."""
    renderer = inliner.document.get("nb_renderer")
    if renderer is None:
        return None
    cells = renderer.renderer.nb_client.notebook.cells
    _, line = inliner.reporter.get_source_and_line(lineno)
    index = (line or 0) // 10000 - 1  # myst-nb numbers cell i's lines from (i + 1) * 10000
    if not 0 <= index < len(cells):
        return None
    for entry in cells[index].metadata.get("user_expressions", []):
        result = entry.get("result", {})
        if entry.get("expression") == text and result.get("status") == "ok":
            return result.get("data", {}).get("text/plain")
    return None


def stored_eval(name, rawtext, text, lineno, inliner, options=None, content=()):
    """Show the stored value of ``{eval}`text``` (see the module's docstring)."""
    source, line = inliner.reporter.get_source_and_line(lineno)
    match = EXPRESSION.match(text)
    value = _stored(inliner, lineno, text)
    if match is None or value is None:
        LOG.warning(
            "no stored value for {eval}`%s` (run make notebooks)",
            text,
            location=(source, line),
            type="eval",
            subtype="missing",
        )
        return [nodes.literal(rawtext, text)], []
    kind, argument = match.group("kind", "argument")
    if kind == "glued":
        children, messages = [nodes.Text(value)], []
    else:
        role, messages = roles.role(DELEGATE[kind], get_language("en"), lineno, inliner.reporter)
        children, more = role(DELEGATE[kind], rawtext, argument, lineno, inliner, {}, [])
        messages = messages + more
    return [nodes.inline(rawtext, "", *children, classes=["stored-eval", kind])], messages


def setup(app):
    """Replace myst-nb's ``eval`` role once every extension is set up."""
    app.connect("builder-inited", lambda app: app.add_role("eval", stored_eval, override=True))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
