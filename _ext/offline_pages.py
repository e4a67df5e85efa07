"""Keep every page free of requests to third-party hosts.

Jupyter Book 1 always loads sphinx-thebe, which declares ``THEBE_JS_URL`` (a
CDN address) on every page even with Thebe switched off. The book uses no
Thebe, so this extension unhooks sphinx-thebe's asset loader before it runs.
"""


def _drop_thebe_assets(app):
    listeners = app.events.listeners.get("env-before-read-docs", [])
    app.events.listeners["env-before-read-docs"] = [
        listener
        for listener in listeners
        if getattr(listener.handler, "__module__", "") != "sphinx_thebe"
        or listener.handler.__name__ != "init_thebe_core"
    ]


def setup(app):
    """Register the hook; the extension keeps no state."""
    app.connect("builder-inited", _drop_thebe_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
