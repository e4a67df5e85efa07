"""Fix what the theme and myst-nb write that screen readers misread (axe-core's serious findings).

tests/site runs axe-core on every page and fails on any serious or critical violation. What
this extension changes, and why:

- A folded cell's ``<summary aria-label="Toggle hidden content">`` (myst-nb) is read as that
  label, not as the words it shows ("Show code cell source"): the label goes, so the button's
  name is what a sighted reader sees.
- The theme's search button is named "Search" but shows "Search Ctrl+K", and its colour-mode
  button holds three icons with titles of their own: templates/ replaces both
  components (pydata-sphinx-theme's, with only these attributes changed).
- A bibliography's entries carry ``role="doc-biblioentry"``, a role deprecated in ARIA 1.3,
  inside a ``role="list"``, which then holds no list item: they become list items.
- At 390 px wide a long word, a path in inline code or a long address widened the page:
  static/accessibility.css lets them break where they must.
"""

import pathlib

HERE = pathlib.Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
REPLACEMENTS = (
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    ('role="doc-biblioentry"', 'role="listitem"'),
)


def _fix_body(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body:
        for old, new in REPLACEMENTS:
            body = body.replace(old, new)
        context["body"] = body


def _add_templates_and_styles(app, config):
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    config.html_static_path = [*config.html_static_path, str(HERE / "static")]


def setup(app):
    """Register the templates and the page hook; the extension keeps no state."""
    app.connect("config-inited", _add_templates_and_styles)
    app.add_css_file("accessibility.css")
    app.connect("html-page-context", _fix_body)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
