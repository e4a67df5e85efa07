"""Two editions, one website: each page links to the same page in the other language.

The English book builds into ``_build/html`` and the Chinese one (``zh/``) into
``_build/html/zh`` (``make book``). Each book names the other in its configuration:

- ``language_switch_root``: the other book's website, relative to this one's root
  (``zh/`` from the English book, ``../`` from the Chinese one);
- ``language_switch_source``: the other book's source folder, relative to this book's
  (where to look for the same page);
- ``language_switch_label`` and ``language_switch_lang``: the link's text and language;
- ``language_switch_fallback``: the other book's page to link to where it has no page of
  the same name yet (the Chinese edition is translated chapter by chapter).

Every page gets the link at the top of its text, and a ``<link rel="alternate">`` in its
head. The ``{other}`` role links into the other edition from the text, for example
``{other}`第 7 章 <chapters/07-degradation>``` or with an anchor
``<chapters/04-mathematics#shapes-must-match>``; a page that does not
exist there is a warning, which fails the strict build.
"""

import html
import pathlib
import posixpath

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

LOG = logging.getLogger(__name__)
SOURCE_SUFFIXES = (".md", ".ipynb")


def _other_source(app):
    return (pathlib.Path(app.srcdir) / app.config.language_switch_source).resolve()


def _has_page(app, docname):
    """Whether the other edition has a page named ``docname``."""
    source = _other_source(app)
    return any((source / f"{docname}{suffix}").is_file() for suffix in SOURCE_SUFFIXES)


def other_href(app, pagename, target):
    """The address of the other edition's ``target`` (``docname#anchor``) from ``pagename``."""
    docname, _, anchor = target.partition("#")
    up = "../" * pagename.count("/")
    href = posixpath.normpath(f"{up}{app.config.language_switch_root}{docname}.html")
    return href + (f"#{anchor}" if anchor else "")


def _add_switch(app, pagename, templatename, context, doctree):
    if not app.config.language_switch_root or doctree is None or "body" not in context:
        return
    target = pagename if _has_page(app, pagename) else app.config.language_switch_fallback
    href = html.escape(other_href(app, pagename, target))
    lang = html.escape(app.config.language_switch_lang)
    label = html.escape(app.config.language_switch_label)
    context["body"] = (
        f'<nav class="language-switch" aria-label="Language, 语言" style="text-align: right">'
        f'<a href="{href}" hreflang="{lang}" lang="{lang}">{label}</a></nav>\n'
    ) + context["body"]
    context["metatags"] = (
        context.get("metatags", "") + f'\n<link rel="alternate" hreflang="{lang}" href="{href}" />'
    )


class OtherEditionRole(SphinxRole):
    """``{other}`text <docname#anchor>```: a link to a page of the other edition."""

    def run(self):
        """A reference node to the other edition's page, or the text and a warning."""
        text, _, target = self.text.rpartition("<")
        if not target.endswith(">") or not text.strip():
            message = f"{{other}} needs 'text <page#anchor>', got {self.text!r}"
            LOG.warning(message, location=self.get_location())
            return [nodes.Text(self.text)], []
        target = target[:-1].strip()
        if not _has_page(self.env.app, target.partition("#")[0]):
            LOG.warning(
                f"{{other}}: the other edition has no page {target!r}", location=self.get_location()
            )
        href = other_href(self.env.app, self.env.docname, target)
        node = nodes.reference(text.strip(), text.strip(), refuri=href, internal=False)
        node["classes"].append("other-edition")
        return [node], []


def setup(app):
    """Register the configuration values, the page hook and the ``{other}`` role."""
    app.add_config_value("language_switch_root", "", "html")
    app.add_config_value("language_switch_source", "", "html")
    app.add_config_value("language_switch_label", "", "html")
    app.add_config_value("language_switch_lang", "", "html")
    app.add_config_value("language_switch_fallback", "index", "html")
    app.connect("html-page-context", _add_switch)
    app.add_role("other", OtherEditionRole())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
